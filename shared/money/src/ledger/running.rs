//! Running balances (issue 43): what every ledger line adds to its partner's balance (per
//! currency) and to its campaign's amounts (per day of the line's creation and currency), kept
//! as counter items changed in the SAME transaction as the line, so a balance read costs what
//! it answers (a few items), never the ledger's length.
//!
//! A line's [`Standing`] is the slot its amount sits in (pending, held, approved, paid, or owed
//! back) and the amount. Creating a line adds its standing; updating one adds the difference
//! between the standing written and the standing read ([`crate::ledger::model::Commission::update`]).
//! The line's put is conditional (absent, or at the version read), so a replayed, redelivered
//! or retried change cancels the whole transaction, its counters included: no amount moves
//! twice. Lines written before running balances carry `balanced: false` and count in no item
//! until a change or `tenx ledger rebuild-balances` brings them in ([`rebuild`]).
//!
//! Items: `H#{handle}#BAL` / `{partnerId}#{CUR}#{shard}`, `H#{handle}#CBAL#{campaignId}` /
//! `{yyyy-mm-dd}#{CUR}#{shard}` and, for a line that came through a link (issue 61: the
//! portal's top links by earnings), `H#{handle}#LBAL#{partnerId}` /
//! `{yyyy-mm-dd}#{slug}#{CUR}#{shard}`, counters [`PENDING`] … [`OPEN_NEGATIVE`] in minor units and
//! [`LINES`]. A line writes to one of [`SHARDS`] parts (by its id), so concurrent changes of one
//! partner's lines rarely meet on one item (DynamoDB cancels a transaction that meets another).

use crate::domain::Currency;
use crate::domain::Handle;
use crate::ledger::placed::{Placed, Status};
use crate::platform::store::{Count, WriteOp, keys};

pub const PENDING: &str = "pending";
pub const HELD: &str = "held";
pub const APPROVED: &str = "approved";
pub const PAID: &str = "paid";
pub const OPEN_NEGATIVE: &str = "open_negative";
/// Lines counted in the item (every status, rejected and capped included).
pub const LINES: &str = "lines";
/// Parts of each balance item.
pub const SHARDS: u32 = 4;

/// Where a line's amount sits in the balances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// `None`: rejected or capped, in no sum.
    pub slot: Option<&'static str>,
    pub minor: i128,
}

impl Standing {
    /// The line's standing: the same rule the balances always summed by.
    pub fn of(c: &Placed<'_>) -> Self {
        let minor = c.minor;
        let slot = match c.status {
            Status::Pending => Some(PENDING),
            Status::Held => Some(HELD),
            Status::Approved if minor < 0 && !c.in_payout => Some(OPEN_NEGATIVE),
            Status::Approved => Some(APPROVED),
            Status::Paid => Some(PAID),
            Status::Rejected | Status::Capped => None,
        };
        Self { slot, minor }
    }
}

/// The counter changes from `before` (`None`: the line was in no item) to `after`.
fn deltas(before: Option<Standing>, after: Standing) -> Vec<(String, Count)> {
    let mut out: Vec<(String, Count)> = Vec::new();
    let mut add = |slot: &str, d: i128| match out.iter_mut().find(|(s, _)| s == slot) {
        Some((_, sum)) => *sum = sum.saturating_add(d),
        None => out.push((slot.to_owned(), d)),
    };
    if let Some(Standing {
        slot: Some(slot),
        minor,
    }) = before
    {
        add(slot, minor.saturating_neg());
    }
    if let Some(slot) = after.slot {
        add(slot, after.minor);
    }
    if before.is_none() {
        add(LINES, 1);
    }
    out.retain(|(_, d)| *d != 0);
    out
}

/// The adds that move `line`'s amount from `before` to where it stands now: on its partner's
/// item, for a line of a campaign on the campaign's item of the line's day, and for a line that
/// came through a link on its partner's item of that link and day. Empty when nothing moves.
pub fn moves(handle: &Handle, line: &Placed<'_>, before: Option<Standing>) -> Vec<WriteOp> {
    let deltas = deltas(before, Standing::of(line));
    if deltas.is_empty() {
        return Vec::new();
    }
    let shard = shard_of(line.id.as_str());
    if line.test {
        // Test money moves only its partner's test balance: no campaign, link or customer sum.
        let (pk, sk) = keys::test_partner_balance(handle, line.partner, line.currency, shard);
        return vec![WriteOp::Add {
            pk,
            sk,
            deltas,
            cap: None,
            expires_at: None,
        }];
    }
    let day = day_of(line.id.unix_millis());
    let mut items = vec![keys::partner_balance(
        handle,
        line.partner,
        line.currency,
        shard,
    )];
    if let Some(campaign) = line.campaign {
        items.push(keys::campaign_balance(
            handle,
            campaign,
            &day,
            line.currency,
            shard,
        ));
    }
    if let Some(slug) = line.link {
        items.push(keys::link_earnings(
            handle,
            line.partner,
            &day,
            slug,
            line.currency,
            shard,
        ));
    }
    let mut ops: Vec<WriteOp> = items
        .into_iter()
        .map(|(pk, sk)| WriteOp::Add {
            pk,
            sk,
            deltas: deltas.clone(),
            cap: None,
            expires_at: None,
        })
        .collect();
    ops.extend(customer_move(handle, line, before));
    ops
}

/// The adds that take test line `line` out of its partner's test balance (test mode's
/// clearing): its amount out of its slot and one line fewer. Empty for a real line, which never
/// leaves the books.
pub fn test_removal(handle: &Handle, line: &Placed<'_>) -> Vec<WriteOp> {
    if !line.test {
        return Vec::new();
    }
    let standing = Standing::of(line);
    let mut deltas = vec![(LINES.to_owned(), -1)];
    if let Some(slot) = standing.slot.filter(|_| standing.minor != 0) {
        deltas.push((slot.to_owned(), standing.minor.saturating_neg()));
    }
    let shard = shard_of(line.id.as_str());
    let (pk, sk) = keys::test_partner_balance(handle, line.partner, line.currency, shard);
    vec![WriteOp::Add {
        pk,
        sk,
        deltas,
        cap: None,
        expires_at: None,
    }]
}

/// The change of what `line`'s customer earned: its amount in or out of the sums (a reject
/// or a cap takes it out, an approval after either brings it back). On the customer's record,
/// beside its conversion and revenue counters.
fn customer_move(handle: &Handle, line: &Placed<'_>, before: Option<Standing>) -> Option<WriteOp> {
    let customer = line.customer?;
    let summed = |s: Standing| if s.slot.is_some() { s.minor } else { 0 };
    let delta = summed(Standing::of(line)) - before.map_or(0, summed);
    (delta != 0)
        .then(|| crate::customers::repo::add_commissions(handle, customer, line.currency, delta))
}

/// `ops` with the adds on one item summed into the first of them (DynamoDB refuses a
/// transaction that names an item twice: two lines of one partner changed together, such as a
/// reversal's new line and the line it marks, may land on the same balance part).
pub fn merged(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut out: Vec<WriteOp> = Vec::with_capacity(ops.len());
    for op in ops {
        let WriteOp::Add {
            pk,
            sk,
            deltas: more,
            ..
        } = &op
        else {
            out.push(op);
            continue;
        };
        let same = out.iter_mut().find_map(|o| match o {
            WriteOp::Add {
                pk: p,
                sk: s,
                deltas,
                cap: None,
                ..
            } if p == pk && s == sk => Some(deltas),
            _ => None,
        });
        match same {
            Some(deltas) => {
                for (name, d) in more {
                    match deltas.iter_mut().find(|(n, _)| n == name) {
                        Some((_, sum)) => *sum = sum.saturating_add(*d),
                        None => deltas.push((name.clone(), *d)),
                    }
                }
            }
            None => out.push(op),
        }
    }
    out
}

/// `2026-11-24` of a unix-ms time (UTC), the funnel's days.
pub fn day_of(ms: i64) -> String {
    crate::domain::time::unix_millis_to_rfc3339(ms)
        .get(..10)
        .unwrap_or("1970-01-01")
        .to_owned()
}

fn shard_of(id: &str) -> u32 {
    id.bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % SHARDS
}

/// The currency of a balance item's sort key (`…#{CUR}#{shard}`).
pub fn currency_of_sk(sk: &str) -> Option<Currency> {
    let mut parts = sk.rsplit('#');
    parts.next()?;
    Currency::parse(parts.next()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(slot: &'static str, minor: i128) -> Standing {
        Standing {
            slot: Some(slot),
            minor,
        }
    }

    #[test]
    fn a_new_line_adds_its_amount_and_one_line() {
        let d = deltas(None, standing(PENDING, 1250));
        assert_eq!(d, [("pending".to_owned(), 1250), ("lines".to_owned(), 1)]);
        let rejected = Standing {
            slot: None,
            minor: 900,
        };
        assert_eq!(deltas(None, rejected), [("lines".to_owned(), 1)]);
    }

    #[test]
    fn a_change_moves_the_amount_between_slots_and_nothing_when_it_stays() {
        let d = deltas(Some(standing(HELD, 500)), standing(APPROVED, 500));
        assert_eq!(d, [("held".to_owned(), -500), ("approved".to_owned(), 500)]);
        assert!(deltas(Some(standing(PAID, 7)), standing(PAID, 7)).is_empty());
        let rejected = Standing {
            slot: None,
            minor: 500,
        };
        assert_eq!(
            deltas(Some(standing(PENDING, 500)), rejected),
            [("pending".to_owned(), -500)]
        );
    }

    #[test]
    fn adds_on_one_item_merge_and_others_stay_apart() {
        let add = |sk: &str, n: &str, d: i128| WriteOp::Add {
            pk: "H#acme#BAL".into(),
            sk: sk.into(),
            deltas: vec![(n.to_owned(), d)],
            cap: None,
            expires_at: None,
        };
        let ops = merged(vec![
            add("p#EUR#1", HELD, -5),
            add("p#EUR#2", PAID, 1),
            add("p#EUR#1", APPROVED, 5),
            add("p#EUR#1", HELD, 2),
        ]);
        assert_eq!(ops.len(), 2);
        let WriteOp::Add { deltas, .. } = &ops[0] else {
            panic!()
        };
        assert_eq!(deltas, &[(HELD.to_owned(), -3), (APPROVED.to_owned(), 5)]);
    }

    #[test]
    fn items_name_their_currency_and_days_are_utc() {
        assert_eq!(currency_of_sk("pub-one#EUR#3"), Currency::parse("EUR").ok());
        assert_eq!(
            currency_of_sk("2026-11-24#JPY#0"),
            Currency::parse("JPY").ok()
        );
        assert_eq!(day_of(1_764_020_000_000), "2025-11-24");
        assert!(shard_of("com_x") < SHARDS);
    }
}
