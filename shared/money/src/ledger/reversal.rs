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

/// The share of the conversion `original` has had reversed before: nothing for a line never
/// reversed; `None` for one reversed before the shares were kept (`adjustedBy` alone).
fn share_before(original: &Commission) -> Option<Decimal> {
    match (&original.adjusted_by, original.reversed_share) {
        (_, Some(share)) => Some(share),
        (None, None) => Some(Decimal::ZERO),
        (Some(_), None) => None,
    }
}

/// The part of `original` between two shares reversed, each rounded as a reversal of that
/// share alone would be, so the parts of any sequence sum to what one reversal of the last
/// share would take (a full refund, exactly the line).
pub(crate) fn part_between(original: &Commission, before: Decimal, after: Decimal) -> Option<i64> {
    Some(reversed_minor(original, after)? - reversed_minor(original, before)?)
}

/// What `r` takes of `original` and the share reversed once it has, or `None` when it takes
/// nothing: a reversal whose total a later one already took (refunds that add up, arriving
/// out of order), or a first one on a line already reversed before shares were kept.
fn reversal_step(original: &Commission, r: &ReversalData) -> Option<(Option<i64>, Decimal)> {
    let after = share(r);
    match share_before(original) {
        Some(before) if after <= before => None,
        Some(before) => Some((part_between(original, before, after), after)),
        None if r.reversal.previous_amount.is_none() => None,
        None => {
            let previous = share_of(r.reversal.previous_amount, r.conversion.value);
            Some((part_between(original, previous, after), after))
        }
    }
}

/// The reversed part of `original`, as the negative minor units of the linked line.
fn reversed_minor(original: &Commission, share: Decimal) -> Option<i64> {
    reversed_of(original.amount_minor?, share)
}

/// The reversed part of `minor`, negative.
fn reversed_of(minor: i64, share: Decimal) -> Option<i64> {
    if share == Decimal::ONE {
        return Some(-minor);
    }
    let exact = Decimal::from(minor) * share;
    let rounded =
        exact.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(rounded.trunc()).ok().map(|m| -m)
}

/// The linked line that takes back what is left of `original` for `reason` (a sale reassigned
/// to another partner): an adjustment before it is in a payout, a clawback after; `None` when
/// nothing is left (reversed in full, or before the shares were kept).
pub(crate) fn rest_reversal(
    original: &Commission,
    reason: &str,
    id: CommissionId,
) -> Option<Commission> {
    let before = share_before(original).filter(|s| *s < Decimal::ONE)?;
    let mut line = linked_line_of(
        original,
        part_between(original, before, Decimal::ONE),
        reason,
        id,
    );
    line.reversed_share = Some(Decimal::ONE);
    Some(line)
}

/// Whether `line`'s partner keeps a part of it: not reversed in full (nor before the shares
/// were kept, when a reversal took it whole).
pub(crate) fn keeps_a_part(line: &Commission) -> bool {
    share_before(line).is_some_and(|share| share < Decimal::ONE)
}

/// What is left of `minor` once `share` of its conversion is reversed (rounded as the
/// reversal's own line is).
pub(crate) fn net_of(minor: i64, share: Decimal) -> Option<i64> {
    Some(minor + reversed_of(minor, share)?)
}

/// The share of its value a conversion's reversal takes (`None` when it has none).
pub(crate) fn share_reversed(c: &crate::kernel::events::ConversionData) -> Option<Decimal> {
    let reversal = c.reversal.as_ref()?;
    Some(share_of(reversal.amount, c.value))
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
        // Each reversal once, by its own id; one whose total is already taken, never.
        let Some((part, after)) = reversal_step(&original, r) else {
            return Ok(());
        };
        if crate::ledger::get(io.store.as_ref(), handle, &id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        if r.reversal.reason == review::SUPERSEDED && original.payout_id.is_none() {
            return review::reject_superseded(io, handle, original).await;
        }
        let mut line = linked_line_of(&original, part, &r.reversal.reason, id.clone());
        line.reversed_share = Some(after);
        let mut marked = original.clone();
        marked.adjusted_by = Some(id.clone());
        marked.reversed_share = Some(after);
        // A full reversal takes the conversion out of its partner's month tally (later
        // conversions no longer count it; earlier lines keep their rates): at index 2.
        let take_back = if after == Decimal::ONE && marked.counted.is_some() {
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
    fn taking_back_the_rest_takes_the_whole_line_or_what_refunds_left_of_it() {
        let o = original(Some(1_234), Status::Approved);
        let l = rest_reversal(&o, "reassigned", CommissionId::new()).unwrap();
        assert_eq!((l.kind, l.amount_minor), (Kind::Adjustment, Some(-1_234)));
        assert_eq!(l.reversed_share, Some(Decimal::ONE));
        let mut refunded = o.clone();
        refunded.adjusted_by = Some(CommissionId::new());
        refunded.reversed_share = Some(dec("0.3"));
        let l = rest_reversal(&refunded, "reassigned", CommissionId::new()).unwrap();
        assert_eq!(
            l.amount_minor,
            Some(-1_234 + 370),
            "30 % (370.2) was taken already"
        );
        refunded.reversed_share = Some(Decimal::ONE);
        assert!(rest_reversal(&refunded, "reassigned", CommissionId::new()).is_none());
        refunded.reversed_share = None;
        assert!(
            rest_reversal(&refunded, "reassigned", CommissionId::new()).is_none(),
            "reversed before shares were kept: taken back already, as then"
        );
    }

    #[test]
    fn what_is_left_after_a_share_is_reversed_is_rounded_as_the_reversal_is() {
        assert_eq!(net_of(1_000, dec("0.3")), Some(700));
        assert_eq!(
            net_of(5, dec("0.5")),
            Some(2),
            "the reversal took 3 (2.5 away from 0)"
        );
        assert_eq!(net_of(1_000, Decimal::ONE), Some(0));
        assert_eq!(net_of(1_000, Decimal::ZERO), Some(1_000));
    }

    fn refund(amount: &str, previous: Option<&str>, value: &str) -> ReversalData {
        let mut r = crate::ledger::tests::reversal_of_value(value);
        r.reversal.amount = Some(dec(amount));
        r.reversal.previous_amount = previous.map(dec);
        r
    }

    /// Refunds of 30 then 80 (in all) of a sale of 100, paid 10.00: in either order, and
    /// however often each arrives, they take 8.00 in all.
    #[test]
    fn refunds_that_add_up_take_their_total_in_any_order() {
        let r1 = refund("30", None, "100");
        let r2 = refund("80", Some("30"), "100");
        let apply = |line: &mut Commission, r: &ReversalData| {
            reversal_step(line, r).map(|(part, after)| {
                line.adjusted_by = Some(CommissionId::new());
                line.reversed_share = Some(after);
                part.unwrap()
            })
        };
        for order in [[&r1, &r2, &r1, &r2], [&r2, &r1, &r2, &r1]] {
            let mut line = original(Some(1_000), Status::Approved);
            let taken: i64 = order.iter().filter_map(|r| apply(&mut line, r)).sum();
            assert_eq!(taken, -800, "{:?}", order.map(|r| r.reversal.amount));
            assert_eq!(line.reversed_share, Some(dec("0.8")));
        }
    }

    /// The same refunds through the ledger: the sale's line of 10.00 (10 % of 100), refunds of
    /// 30 and then 80 in all delivered newest first, each twice.
    #[tokio::test]
    async fn refunds_delivered_out_of_order_and_again_leave_the_partner_what_the_total_leaves() {
        use crate::ledger::tests::{Risk, acme, assert_books_agree, campaign_with_plan, io_parts};
        let (store, queue) = io_parts();
        let plan = serde_json::json!({"currency": "EUR", "holdDays": 0,
            "rules": [{"eventType": "purchase", "percent": "10"}]});
        campaign_with_plan(store.as_ref(), plan, false).await;
        let mut r1 = refund("30", None, "100");
        let mut r2 = refund("80", Some("30"), "100");
        r2.conversion = r1.conversion.clone();
        r1.conversion.reversal = None;
        let io = Io::new(&store, &queue);
        for r in [&r2, &r1, &r2, &r1] {
            apply(io, &Risk(Vec::new()), &acme(), r).await.unwrap();
        }
        let lines = crate::ledger::tests::ledger(store.as_ref()).await;
        let amounts: Vec<_> = lines.iter().map(|l| (l.kind, l.amount_minor)).collect();
        assert_eq!(
            amounts,
            [
                (Kind::Conversion, Some(1_000)),
                (Kind::Adjustment, Some(-800))
            ],
            "the newest total, once; the older one it includes, never"
        );
        assert_eq!(lines[0].reversed_share, Some(dec("0.8")));
        assert_books_agree(store.as_ref()).await;
    }

    #[test]
    fn a_line_reversed_before_shares_were_kept_takes_a_larger_refunds_difference_only() {
        let mut line = original(Some(1_000), Status::Approved);
        line.adjusted_by = Some(CommissionId::new());
        assert!(reversal_step(&line, &refund("30", None, "100")).is_none());
        let (part, after) = reversal_step(&line, &refund("80", Some("30"), "100")).unwrap();
        assert_eq!((part, after), (Some(-500), dec("0.8")));
    }
}
