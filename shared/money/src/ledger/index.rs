//! The ledger's indexes (issue 43): every filter a listing or a payout run takes is served by a
//! key range, never by reading the handle's ledger and filtering it. Each index is a partition
//! of pointers (`keys::commission_index_pk`) whose sort keys are `{value}#{commissionId}`; ids
//! are time-ordered, so a value's entries come newest last and `from`/`to` are a key range.
//!
//! - `P` by partner, `C` by campaign, `S` by status, `K` by kind;
//! - `Q` by partner and status together (`{partner}#{status}`): the partner portal's "my
//!   pending lines" and an operator's "this partner's approved lines" read a key range, not the
//!   partner's whole history filtered page by page;
//! - `L` the live lines (pending, or approved and not paid) by partner: what a payout run
//!   selects from, however many lines the partner was paid before.
//!
//! The entries change in the same transaction as their line ([`crate::ledger::model::Commission`]'s
//! `create` and `update`): an entry the line left is deleted, one it entered is put. A line
//! written before the indexes has none until it changes or `tenx ledger rebuild-balances`
//! writes them.

use std::collections::BTreeSet;

use crate::domain::Handle;
use crate::ledger::placed::{Placed, Status};
use crate::platform::store::{Cond, Item, Query, WriteOp, keys};

pub const BY_PARTNER: &str = "P";
pub const BY_CAMPAIGN: &str = "C";
pub const BY_STATUS: &str = "S";
pub const BY_KIND: &str = "K";
pub const BY_PARTNER_STATUS: &str = "Q";
pub const LIVE: &str = "L";

/// One index entry: which index, and its sort key (the handle gives the partition).
pub type Entry = (&'static str, String);

/// The test indexes: the same six over test mode's lines, so no listing, payout run or review
/// of real money ever reads a test line, and the test ones read theirs by the same ranges.
pub const TEST_ALL: [&str; 6] = ["tP", "tC", "tS", "tK", "tQ", "tL"];

/// Index `by`'s name for lines of test money when `test` (its twin in [`TEST_ALL`]), else `by`.
pub fn of_test(by: &'static str, test: bool) -> &'static str {
    if !test {
        return by;
    }
    match ALL.iter().position(|b| *b == by) {
        Some(i) => TEST_ALL[i],
        None => by,
    }
}

/// The entries `line` belongs in.
pub fn entries(line: &Placed<'_>) -> BTreeSet<Entry> {
    let id = line.id.as_str();
    let test = line.test;
    let at = |by: &'static str, value: &str| (of_test(by, test), format!("{value}#{id}"));
    let mut out = BTreeSet::new();
    out.insert(at(BY_PARTNER, line.partner.as_str()));
    if let Some(campaign) = line.campaign {
        out.insert(at(BY_CAMPAIGN, campaign.as_str()));
    }
    out.insert(at(BY_STATUS, status_key(line.status)));
    out.insert(at(
        BY_PARTNER_STATUS,
        &partner_status(line.partner.as_str(), line.status),
    ));
    out.insert(at(BY_KIND, line.kind.as_str()));
    if is_live(line) {
        out.insert(at(LIVE, line.partner.as_str()));
    }
    out
}

/// Every index, as the drift check reads them.
pub const ALL: [&str; 6] = [
    BY_PARTNER,
    BY_CAMPAIGN,
    BY_STATUS,
    BY_KIND,
    BY_PARTNER_STATUS,
    LIVE,
];

/// The value of a line's `Q` entry (partner ids hold no `#`: [`crate::domain::PartnerId`]).
pub fn partner_status(partner: &str, status: Status) -> String {
    format!("{partner}#{}", status_key(status))
}

/// The indexes whose entry for a line never changes (its partner, campaign and kind are
/// fixed when it is written): the rebuild may put any that is missing beside live traffic.
pub const FIXED: [&str; 3] = [BY_PARTNER, BY_CAMPAIGN, BY_KIND];

/// Pending, or approved and not paid (in a payout or not): what a payout run may take.
pub fn is_live(line: &Placed<'_>) -> bool {
    matches!(line.status, Status::Pending | Status::Approved)
}

/// A status as its index value (`pending`, `held`, …).
pub fn status_key(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Held => "held",
        Status::Approved => "approved",
        Status::Rejected => "rejected",
        Status::Capped => "capped",
        Status::Paid => "paid",
    }
}

/// The writes that move `line`'s entries from `before` (what it was in when read; empty for a
/// new line, or one written before the indexes).
pub fn moves(handle: &Handle, line: &Placed<'_>, before: &BTreeSet<Entry>) -> Vec<WriteOp> {
    let after = entries(line);
    let pk = |by: &str| keys::commission_index_pk(handle, by);
    let gone = before.difference(&after).map(|(by, sk)| WriteOp::Delete {
        pk: pk(by),
        sk: sk.clone(),
        cond: Cond::None,
    });
    let new = after.difference(before).map(|(by, sk)| WriteOp::Put {
        item: Item::new(pk(by), sk.clone(), serde_json::json!({})),
        cond: Cond::None,
    });
    gone.chain(new).collect()
}

/// The deletes of `entries` (a line leaving the books: test mode's clearing).
pub fn moves_out(handle: &Handle, entries: &BTreeSet<Entry>) -> Vec<WriteOp> {
    entries
        .iter()
        .map(|(by, sk)| WriteOp::Delete {
            pk: keys::commission_index_pk(handle, by),
            sk: sk.clone(),
            cond: Cond::None,
        })
        .collect()
}

/// Every entry of index `by`.
pub fn all(handle: &Handle, by: &str) -> Query {
    Query::all(keys::commission_index_pk(handle, by))
}

/// `value`'s entries in index `by`, a page of `limit` at a time, oldest first: what a payout
/// run reads of a partner's live lines ([`LIVE`]).
pub fn entries_of(handle: &Handle, by: &str, value: &str, limit: usize) -> Query {
    Query::prefix(
        keys::commission_index_pk(handle, by),
        format!("{value}#"),
        limit,
    )
}

/// The entries of index `by` between two sort keys ([`range`]'s bounds).
pub fn between(handle: &Handle, by: &str, from: String, to: String) -> Query {
    Query::between(keys::commission_index_pk(handle, by), from, to)
}

/// The line id an entry's sort key ends with.
pub fn line_id(sk: &str) -> Option<crate::domain::CommissionId> {
    crate::domain::CommissionId::parse(sk.rsplit('#').next()?).ok()
}

/// The sort-key bounds of `value`'s entries created from `from_ms` to `to_ms` (ids begin with
/// their creation time in milliseconds, 12 hex digits).
pub fn range(value: &str, from_ms: Option<i64>, to_ms: Option<i64>) -> (String, String) {
    let from = from_ms.map_or(String::new(), |t| format!("{:012x}", t.max(0)));
    let to = to_ms.map_or("~".to_owned(), |t| format!("{:012x}~", t.max(0)));
    let prefix = crate::domain::CommissionId::PREFIX;
    (
        format!("{value}#{prefix}{from}"),
        format!("{value}#{prefix}{to}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CampaignId, CommissionId, Currency, PartnerId};

    struct Line {
        id: CommissionId,
        partner: PartnerId,
        campaign: CampaignId,
    }

    impl Line {
        fn new() -> Self {
            Line {
                id: CommissionId::new(),
                partner: PartnerId::parse("pub-one").unwrap(),
                campaign: CampaignId::parse("spring").unwrap(),
            }
        }

        fn placed(&self, status: Status) -> Placed<'_> {
            Placed {
                id: &self.id,
                kind: crate::ledger::placed::Kind::Conversion,
                partner: &self.partner,
                campaign: Some(&self.campaign),
                status,
                minor: 100,
                in_payout: false,
                currency: Currency::parse("EUR").unwrap(),
                customer: None,
                link: None,
                test: false,
            }
        }
    }

    #[test]
    fn a_status_change_moves_the_status_entry_and_leaves_the_live_index_when_paid() {
        let line = Line::new();
        let before = entries(&line.placed(Status::Approved));
        assert_eq!(
            before.len(),
            6,
            "partner, campaign, status, kind, partner+status, live"
        );
        let paid = line.placed(Status::Paid);
        let ops = moves(&Handle::parse("acme").unwrap(), &paid, &before);
        let deleted: Vec<&str> = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Delete { sk, .. } => Some(sk.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            deleted.len(),
            3,
            "approved#…, pub-one#approved#… and the live entry: {deleted:?}"
        );
        assert!(deleted.contains(&format!("pub-one#approved#{}", line.id).as_str()));
        assert_eq!(ops.len(), 5, "and paid#…, pub-one#paid#… put");
        assert!(moves(&Handle::parse("acme").unwrap(), &paid, &entries(&paid)).is_empty());
    }

    #[test]
    fn a_test_line_is_only_in_the_test_indexes() {
        let line = Line::new();
        let mut placed = line.placed(Status::Approved);
        placed.test = true;
        let test = entries(&placed);
        assert_eq!(test.len(), 6);
        assert!(test.iter().all(|(by, _)| TEST_ALL.contains(by)), "{test:?}");
        assert!(test.contains(&("tL", format!("pub-one#{}", line.id))));
        let real = entries(&line.placed(Status::Approved));
        assert!(real.iter().all(|(by, _)| ALL.contains(by)));
    }

    #[test]
    fn time_bounds_are_key_bounds() {
        let line = Line::new();
        let ms = line.id.unix_millis();
        let (from, to) = range("pub-one", Some(ms), Some(ms));
        let sk = format!("pub-one#{}", line.id);
        assert!(from <= sk && sk <= to, "{from} <= {sk} <= {to}");
        let (from, _) = range("pub-one", Some(ms + 1), None);
        assert!(sk < from);
        assert_eq!(line_id(&sk), Some(line.id.clone()));
    }
}
