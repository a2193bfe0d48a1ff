//! A partner's month tally as stored (issue 47): one item per handle × partner × calendar month
//! (`keys::partner_month_tally`), holding a [`MonthTally`]. A line that counts in it (a
//! conversion under a plan with tiers or a bonus for its event type) reads it, is rated by where
//! the partner stands, and writes it back at the version read IN ITS OWN TRANSACTION, with any
//! milestone bonus line it reaches. Two accruals that meet on it serialize: the loser's
//! transaction is cancelled and it re-reads, re-rates and retries, so concurrent conversions
//! crossing a threshold get the rates a serial order gives, and the tally cannot move without
//! its line (a redelivered conversion meets its line's put-if-absent and moves nothing).

use crate::domain::time::Timestamp;
use crate::domain::{CommissionId, Handle, PartnerId};
use crate::ledger::model::{Commission, Counted, Kind, Status};
use crate::ledger::{due, view};
use crate::plans::model::Plan;
use crate::plans::tally::{MonthTally, Standing};
use crate::plans::{earn, tally};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// The tally as read: its content and the version to write it back at (`None`: absent).
pub(crate) struct Read {
    pub tally: MonthTally,
    version: Option<u64>,
    pk: String,
    sk: String,
}

/// The partner's tally of `month`. Round trips: ONE read.
pub(crate) async fn read(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    month: &str,
) -> Result<Read, StoreError> {
    let (pk, sk) = keys::partner_month_tally(handle, partner, month);
    let item = store.get(&pk, &sk).await?;
    let (tally, version) = match item {
        Some(i) => (i.parse::<MonthTally>()?, Some(i.version)),
        None => (MonthTally::default(), None),
    };
    Ok(Read {
        tally,
        version,
        pk,
        sk,
    })
}

impl Read {
    /// The write of `next` in its place, at the version read (absent when it was).
    pub(crate) fn put(&self, next: &MonthTally) -> Result<WriteOp, StoreError> {
        let item = Item::new(
            self.pk.clone(),
            self.sk.clone(),
            crate::platform::store::to_doc(next)?,
        )
        .with_version(self.version.map_or(1, |v| v + 1));
        let cond = self.version.map_or(Cond::Absent, Cond::Version);
        Ok(WriteOp::Put { item, cond })
    }
}

impl Counted {
    /// Where the partner stood before the line (its rate is always computed from it).
    pub fn standing(&self) -> Standing {
        Standing {
            count: self.count_before,
            revenue_minor: i128::from(self.revenue_before),
        }
    }
}

/// What a counting line adds to its transaction: the tally's put and any bonus lines (their
/// puts, conditional, come right after the caps), their unconditional moves, and their events.
#[derive(Clone, Default)]
pub(crate) struct Extra {
    pub conditional: Vec<WriteOp>,
    pub moves: Vec<WriteOp>,
    pub emits: Vec<crate::kernel::emit::Emit>,
}

/// The tally moved by `line` (counted, [`Commission::counted`]), and the bonuses it reaches.
pub(crate) fn extra(
    handle: &Handle,
    read: &Read,
    line: &Commission,
    plan: &Plan,
    received_ms: i64,
) -> Result<Extra, StoreError> {
    let (Some(counted), Some(event_type), Some(campaign)) =
        (&line.counted, &line.event_type, &line.campaign_id)
    else {
        return Ok(Extra::default());
    };
    let mut next = read.tally.clone();
    next.add(event_type, plan.currency, counted.revenue_minor);
    let mut out = Extra::default();
    let mut bonus_lines = Vec::new();
    for due in earn::bonuses_due(plan, &next, event_type, campaign.as_str()) {
        next.mark_paid(&due.key);
        bonus_lines.push(bonus_line(handle, line, plan, &due, received_ms));
    }
    out.conditional.push(read.put(&next)?);
    for b in bonus_lines {
        let mut ops = b.create(handle)?;
        let moves = ops.split_off(1);
        out.conditional.extend(ops);
        out.moves.extend(due::entry(handle, &b));
        out.moves.extend(moves);
        out.emits
            .push(view::event(view::CommissionEvent::Created, &b));
    }
    Ok(out)
}

/// The bonus line a milestone pays: its id derived from the handle, partner and milestone key
/// (campaign, event type, count) and month, so no retry or replay can make two.
fn bonus_line(
    handle: &Handle,
    line: &Commission,
    plan: &Plan,
    due: &earn::BonusDue,
    received_ms: i64,
) -> Commission {
    let month = tally::month_of(received_ms);
    let seed = format!("bonus:{handle}:{}:{}:{month}", line.partner_id, due.key);
    let id = CommissionId::derived(month_start_ms(received_ms), &seed);
    let status = if line.reasons.iter().any(|r| r == "partner_suspended") {
        Status::Held
    } else {
        Status::Pending
    };
    let mut b = Commission::blank(
        id,
        Kind::Bonus,
        line.partner_id.clone(),
        Some(due.minor),
        plan.currency,
        status,
    );
    b.campaign_id.clone_from(&line.campaign_id);
    b.conversion_id.clone_from(&line.conversion_id);
    b.event_type.clone_from(&line.event_type);
    b.plan_version = Some(plan.version);
    b.rule_index = u32::try_from(due.rule_index).ok();
    if status == Status::Held {
        b.reasons.push("partner_suspended".to_owned());
    }
    let available = received_ms + i64::from(plan.hold_days) * 86_400_000;
    b.available_at = Timestamp::from_millis(available);
    b
}

/// The first millisecond of `ms`'s calendar month (UTC).
pub(crate) fn month_start_ms(ms: i64) -> i64 {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return ms;
    };
    at.date()
        .replace_day(1)
        .map(|d| crate::domain::time::unix_millis(d.midnight().assume_utc()))
        .unwrap_or(ms)
}

/// The write that takes a counted line's conversion back out of its month (a reversal or a
/// rejection), at the version read; `None` when it was never counted. Round trips: ONE read.
pub(crate) async fn take_back(
    store: &dyn Store,
    handle: &Handle,
    line: &Commission,
) -> Result<Option<WriteOp>, StoreError> {
    let (Some(counted), Some(event_type)) = (&line.counted, &line.event_type) else {
        return Ok(None);
    };
    let read = read(store, handle, &line.partner_id, &counted.month).await?;
    let mut next = read.tally.clone();
    next.remove(event_type, line.currency, counted.revenue_minor);
    read.put(&next).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CampaignId, Currency};
    use time::macros::datetime;

    fn ms(at: time::OffsetDateTime) -> i64 {
        crate::domain::time::unix_millis(at)
    }

    /// Version 3 of `alpha`'s plan: 10 % of a purchase, held `hold_days`.
    fn plan(hold_days: u32) -> Plan {
        let json = serde_json::json!({"currency": "EUR", "holdDays": hold_days,
            "rules": [{"eventType": "purchase", "percent": "10"}]});
        Plan {
            version: 3,
            ..tenx_programs::testing::plan(json)
        }
    }

    fn line(reasons: &[&str]) -> Commission {
        let mut l = Commission::blank(
            CommissionId::derived(0, "line"),
            Kind::Conversion,
            PartnerId::parse("pub-one").unwrap(),
            Some(500),
            Currency::parse("EUR").unwrap(),
            Status::Pending,
        );
        l.campaign_id = Some(CampaignId::parse("alpha").unwrap());
        l.reasons = reasons.iter().map(|r| (*r).to_owned()).collect();
        l
    }

    fn due() -> earn::BonusDue {
        earn::BonusDue {
            rule_index: 1,
            minor: 2_500,
            key: "alpha:purchase:10".into(),
        }
    }

    #[test]
    fn a_month_starts_at_its_first_utc_millisecond() {
        let start = ms(datetime!(2026-11-01 00:00 UTC));
        assert_eq!(
            month_start_ms(ms(datetime!(2026-11-28 06:30:15.250 UTC))),
            start
        );
        assert_eq!(month_start_ms(start), start);
        assert_eq!(
            month_start_ms(start - 1),
            ms(datetime!(2026-10-01 00:00 UTC))
        );
        assert_eq!(
            month_start_ms(ms(datetime!(2027-01-31 23:59:59.999 UTC))),
            ms(datetime!(2027-01-01 00:00 UTC))
        );
        // Before 1970 the second is floored, not truncated towards zero.
        assert_eq!(
            month_start_ms(ms(datetime!(1969-12-15 12:00 UTC))),
            ms(datetime!(1969-12-01 00:00 UTC))
        );
    }

    #[test]
    fn a_tally_is_written_back_at_the_version_it_was_read() {
        let read = |version| Read {
            tally: MonthTally::default(),
            version,
            pk: "H#acme#TALLY".into(),
            sk: "pub-one#2026-11".into(),
        };
        let WriteOp::Put { item, cond } = read(None).put(&MonthTally::default()).unwrap() else {
            panic!("a put")
        };
        assert_eq!((item.version, cond), (1, Cond::Absent));
        let WriteOp::Put { item, cond } = read(Some(4)).put(&MonthTally::default()).unwrap() else {
            panic!("a put")
        };
        assert_eq!((item.version, cond), (5, Cond::Version(4)));
    }

    #[test]
    fn a_bonus_line_is_the_same_line_on_every_retry_of_its_month() {
        let handle = Handle::parse("acme").unwrap();
        let at = ms(datetime!(2026-11-28 06:00 UTC));
        let first = bonus_line(&handle, &line(&[]), &plan(14), &due(), at);
        let retried = bonus_line(&handle, &line(&[]), &plan(14), &due(), at + 3_600_000);
        assert_eq!(first.commission_id, retried.commission_id);
        let next_month = bonus_line(
            &handle,
            &line(&[]),
            &plan(14),
            &due(),
            ms(datetime!(2026-12-01 00:00 UTC)),
        );
        assert_ne!(first.commission_id, next_month.commission_id);
        let other = Handle::parse("globex").unwrap();
        assert_ne!(
            first.commission_id,
            bonus_line(&other, &line(&[]), &plan(14), &due(), at).commission_id
        );
        assert_eq!((first.kind, first.status), (Kind::Bonus, Status::Pending));
        assert_eq!(
            (first.minor(), first.plan_version, first.rule_index),
            (2_500, Some(3), Some(1))
        );
        assert_eq!(first.available_at_ms(), at + 14 * 86_400_000);
    }

    #[test]
    fn a_suspended_partners_bonus_is_held_for_the_same_reason() {
        let handle = Handle::parse("acme").unwrap();
        let b = bonus_line(&handle, &line(&["partner_suspended"]), &plan(0), &due(), 0);
        assert_eq!(b.status, Status::Held);
        assert_eq!(b.reasons, ["partner_suspended"]);
    }
}
