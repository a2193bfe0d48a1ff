//! A reversed conversion's commission: never edited, answered by a linked line. Before it is in a
//! payout, an `adjustment` of the same share (the reversed amount over the value, rounded once;
//! a full reversal is exactly the line's negative) that follows the line's status; once it is in
//! a payout, a `clawback` that nets into the partner's next payout. A conversion superseded by a
//! verified one has its unpaid commission rejected instead. The new line's id is the reversal's,
//! written with the original's `adjustedBy` (version-checked) in ONE transaction.

use rust_decimal::Decimal;

use crate::domain::{CommissionId, Handle};
use crate::kernel::events::ReversalData;
use crate::kernel::io::Io;
use crate::ledger::accrue;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::{due, review};
use crate::ledger::{emit, view};
use crate::platform::store::StoreError;

/// The share of the value reversed (1 when the conversion had no value or the reversal no amount).
fn share(r: &ReversalData) -> Decimal {
    share_of(r.reversal.amount, r.conversion.value)
}

fn share_of(amount: Option<Decimal>, value: Option<Decimal>) -> Decimal {
    match (amount, value) {
        (Some(amount), Some(value)) if value > Decimal::ZERO && amount < value => amount / value,
        _ => Decimal::ONE,
    }
}

/// A reversal's part of `original`: for one replacing an earlier reversal (refunds that add
/// up), the whole share now less the earlier share, each rounded as a reversal alone would be,
/// so the parts of any sequence sum to what one reversal of the total would take (a full
/// refund, exactly the line).
fn reversed_part(original: &Commission, r: &ReversalData) -> Option<i64> {
    let now = reversed_minor(original, share(r))?;
    match r.reversal.previous_amount {
        None => Some(now),
        Some(previous) => {
            let before = reversed_minor(original, share_of(Some(previous), r.conversion.value))?;
            Some(now - before)
        }
    }
}

/// The reversed part of `original`, as the negative minor units of the linked line.
fn reversed_minor(original: &Commission, share: Decimal) -> Option<i64> {
    let minor = original.amount_minor?;
    if share == Decimal::ONE {
        return Some(-minor);
    }
    let exact = Decimal::from(minor) * share;
    let rounded =
        exact.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(rounded.trunc()).ok().map(|m| -m)
}

/// The linked line for a reversal of `original`.
fn linked_line(original: &Commission, r: &ReversalData, id: CommissionId) -> Commission {
    linked_line_of(original, reversed_part(original, r), &r.reversal.reason, id)
}

/// The linked line that takes all of `original` back for `reason` (a sale reassigned to another
/// partner, issue 63): an adjustment before it is in a payout, a clawback after.
pub(crate) fn whole_reversal(original: &Commission, reason: &str, id: CommissionId) -> Commission {
    linked_line_of(original, original.amount_minor.map(|m| -m), reason, id)
}

fn linked_line_of(
    original: &Commission,
    minor: Option<i64>,
    reason: &str,
    id: CommissionId,
) -> Commission {
    let in_payout = original.payout_id.is_some() || original.status == Status::Paid;
    let mut line = original.clone();
    line.commission_id = id;
    line.adjusts_commission_id = Some(original.commission_id.clone());
    line.amount_minor = minor;
    line.reasons = vec![reason.to_owned()];
    line.payout_id = None;
    line.adjusted_by = None;
    line.counted = None;
    line.receipt = None;
    line.reviewed_by = None;
    line.reviewed_at = None;
    line.review_note = None;
    line.created_at = crate::platform::time::timestamp();
    line.version = 0;
    if in_payout {
        line.kind = Kind::Clawback;
        line.status = Status::Approved;
        line.available_at = line.created_at.clone();
    } else {
        line.kind = Kind::Adjustment;
        if matches!(original.status, Status::Rejected | Status::Capped) {
            line.amount_minor = Some(0);
        }
        if line.amount_minor.is_none() {
            line.reasons.push("fx_rate_missing".to_owned());
        }
    }
    line
}

/// Applies a `conversion.reversed` event to the ledger, once.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn apply(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    handle: &Handle,
    r: &ReversalData,
) -> Result<(), StoreError> {
    let id = CommissionId::of_reversal(&r.reversal.reversal_id);
    for _ in 0..8 {
        // The original first (a reversal may overtake its conversion's event): idempotent.
        let Some(original) = accrue::accrue(io, risk, handle, &r.conversion).await? else {
            return Ok(());
        };
        // A first reversal once; a larger one replacing it (`previous_amount`) once more, by
        // its own id.
        let first = r.reversal.previous_amount.is_none();
        if (first && original.adjusted_by.is_some())
            || crate::ledger::get(io.store.as_ref(), handle, &id)
                .await?
                .is_some()
        {
            return Ok(());
        }
        if r.reversal.reason == review::SUPERSEDED && original.payout_id.is_none() {
            return review::reject_superseded(io, handle, original).await;
        }
        let line = linked_line(&original, r, id.clone());
        let mut marked = original.clone();
        marked.adjusted_by = Some(id.clone());
        // A full reversal takes the conversion out of its partner's month tally (later
        // conversions no longer count it; earlier lines keep their rates): at index 2.
        let take_back = if share(r) == Decimal::ONE && marked.counted.is_some() {
            marked.counted = None;
            crate::ledger::tally::take_back(io.store.as_ref(), handle, &original).await?
        } else {
            None
        };
        // The puts first (a cancellation at 0 or 1 names the new line or the original), the
        // unconditional balance moves last.
        let mut ops = line.create(handle)?;
        let mut moves = ops.split_off(1);
        let mut marked_ops = marked.update(handle)?;
        moves.extend(marked_ops.split_off(1));
        ops.extend(marked_ops);
        ops.extend(take_back);
        ops.extend(due::entry(handle, &line));
        ops.extend(moves);
        match emit::commit(
            io,
            handle,
            ops,
            vec![view::event(view::CommissionEvent::Reversed, &line)],
        )
        .await
        {
            Ok(()) => return Ok(()),
            Err(StoreError::TxConflict { index: 0..=2, .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the reversed commission kept changing".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PayoutId;
    use crate::ledger::tests::line as original;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_share_reversed_is_the_refund_over_the_value_and_whole_otherwise() {
        assert_eq!(share_of(Some(dec("25")), Some(dec("100"))), dec("0.25"));
        assert_eq!(share_of(Some(dec("100")), Some(dec("100"))), Decimal::ONE);
        assert_eq!(
            share_of(Some(dec("120")), Some(dec("100"))),
            Decimal::ONE,
            "never more than all"
        );
        assert_eq!(
            share_of(None, Some(dec("100"))),
            Decimal::ONE,
            "no amount: all of it"
        );
        assert_eq!(
            share_of(Some(dec("5")), None),
            Decimal::ONE,
            "no value: all of it"
        );
        assert_eq!(share_of(Some(dec("5")), Some(Decimal::ZERO)), Decimal::ONE);
    }

    #[test]
    fn a_partial_reversal_is_rounded_once_half_away_from_zero_and_a_full_one_is_exact() {
        let line = original(Some(499), Status::Approved);
        assert_eq!(reversed_minor(&line, Decimal::ONE), Some(-499));
        assert_eq!(
            reversed_minor(&line, dec("0.25")),
            Some(-125),
            "124.75 rounds to 125"
        );
        let five = original(Some(5), Status::Approved);
        assert_eq!(
            reversed_minor(&five, dec("0.5")),
            Some(-3),
            "2.5 rounds away from zero"
        );
        assert_eq!(
            reversed_minor(&original(None, Status::Pending), dec("0.5")),
            None
        );
    }

    #[test]
    fn before_a_payout_the_linked_line_is_an_adjustment_that_follows_the_original() {
        let o = original(Some(499), Status::Pending);
        let id = CommissionId::new();
        let l = linked_line_of(&o, Some(-499), "refund", id.clone());
        assert_eq!((l.kind, l.status), (Kind::Adjustment, Status::Pending));
        assert_eq!(l.commission_id, id);
        assert_eq!(l.adjusts_commission_id.as_ref(), Some(&o.commission_id));
        assert_eq!((l.amount_minor, l.version), (Some(-499), 0));
        assert_eq!(l.reasons, vec!["refund".to_owned()]);
        assert!(l.payout_id.is_none() && l.adjusted_by.is_none() && l.receipt.is_none());
    }

    #[test]
    fn once_paid_the_linked_line_is_a_clawback_approved_at_once() {
        let mut o = original(Some(499), Status::Approved);
        o.payout_id = Some(PayoutId::new());
        let l = linked_line_of(&o, Some(-499), "refund", CommissionId::new());
        assert_eq!((l.kind, l.status), (Kind::Clawback, Status::Approved));
        assert!(l.payout_id.is_none(), "it nets into the next payout");
        assert_eq!(l.available_at, l.created_at, "available at once");
        let paid = original(Some(499), Status::Paid);
        let l = linked_line_of(&paid, Some(-499), "refund", CommissionId::new());
        assert_eq!(l.kind, Kind::Clawback);
    }

    #[test]
    fn a_rejected_lines_adjustment_takes_nothing_and_an_unrated_one_says_why() {
        for status in [Status::Rejected, Status::Capped] {
            let l = linked_line_of(
                &original(Some(499), status),
                Some(-499),
                "refund",
                CommissionId::new(),
            );
            assert_eq!(
                l.amount_minor,
                Some(0),
                "{status:?}: nothing was earned to take back"
            );
        }
        let l = linked_line_of(
            &original(None, Status::Pending),
            None,
            "refund",
            CommissionId::new(),
        );
        assert_eq!(
            l.reasons,
            vec!["refund".to_owned(), "fx_rate_missing".to_owned()]
        );
    }

    #[test]
    fn a_whole_reversal_takes_the_line_back_exactly() {
        let o = original(Some(1_234), Status::Approved);
        let l = whole_reversal(&o, "reassigned", CommissionId::new());
        assert_eq!((l.kind, l.amount_minor), (Kind::Adjustment, Some(-1_234)));
    }
}
