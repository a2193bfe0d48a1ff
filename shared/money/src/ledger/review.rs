//! An operator's review: approve a held line back into the normal flow, or reject a line (with
//! who, when and why), one or up to 100 at once, idempotently; and manual entries. A line's
//! linked adjustment follows its review. Every change is version-checked and carries its event.

use crate::domain::{CampaignId, CommissionId, Currency, Handle, PartnerId};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::{CommissionError, due};
use crate::ledger::{emit, view};
use crate::people::acting::Decider;
use crate::platform::store::StoreError;

/// Why a public conversion's commission was rejected: a verified one took its key.
pub const SUPERSEDED: &str = "superseded_by_verified";

/// The most ids one bulk review takes.
pub const MAX_BULK: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Who decided, and why.
pub struct Review<'a> {
    pub by: &'a str,
    pub note: Option<&'a str>,
    /// Who decides: nobody approves or rejects the money of a partner they act for.
    pub decider: &'a Decider,
}

/// The status a decision moves `line` to; `Ok(None)`: already there (idempotent).
fn next_status(
    line: &Commission,
    d: Decision,
    now_ms: i64,
) -> Result<Option<Status>, CommissionError> {
    let refuse = |why: &str| {
        Err(CommissionError::InvalidState(format!(
            "Commission {} is {}: {why}.",
            line.commission_id,
            serde_json::to_value(line.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        )))
    };
    match (d, line.status) {
        (Decision::Approve, Status::Pending | Status::Approved) => Ok(None),
        (Decision::Approve, Status::Held) if line.amount_minor.is_none() => {
            refuse("it cannot be approved before its exchange rate is known")
        }
        (Decision::Approve, Status::Held) => Ok(Some(if line.available_at_ms() <= now_ms {
            Status::Approved
        } else {
            Status::Pending
        })),
        (Decision::Reject, Status::Rejected) => Ok(None),
        (Decision::Reject, _) if line.payout_id.is_some() => {
            refuse("it is in a payout; a reversal claws it back instead")
        }
        (Decision::Reject, Status::Pending | Status::Held | Status::Approved) => {
            Ok(Some(Status::Rejected))
        }
        _ => refuse("this change does not apply"),
    }
}

/// Applies one decision to one line (and its linked adjustment). Round trips: the reads, then
/// ONE transaction; a concurrent change is re-read and retried.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn decide(
    io: Io<'_>,
    handle: &Handle,
    id: &CommissionId,
    d: Decision,
    review: &Review<'_>,
) -> Result<Commission, CommissionError> {
    for _ in 0..8 {
        let line = crate::ledger::get(io.store.as_ref(), handle, id)
            .await?
            .ok_or_else(|| CommissionError::NotFound(id.clone()))?;
        review.decider.refuse(Some(&line.partner_id))?;
        let now = crate::platform::time::now_millis();
        let Some(status) = next_status(&line, d, now)? else {
            return Ok(line);
        };
        let mut lines = vec![line];
        if let Some(adj) = &lines[0].adjusted_by
            && let Some(a) = crate::ledger::get(io.store.as_ref(), handle, adj).await?
        {
            lines.extend(next_status(&a, d, now).ok().flatten().map(|_| a));
        }
        let mut ops = Vec::new();
        let mut emits = Vec::new();
        let mut decided = Vec::new();
        for l in &lines {
            let mut next = l.clone();
            next.status = status;
            next.reviewed_by = Some(review.by.to_owned());
            next.reviewed_at = Some(crate::platform::time::timestamp());
            next.review_note = review.note.map(str::to_owned);
            if status == Status::Rejected && next.counted.is_some() {
                // A rejected conversion no longer counts toward its partner's tiers (the
                // month's later conversions); the lines already written keep their rates.
                let store = io.store.as_ref();
                ops.extend(crate::ledger::tally::take_back(store, handle, l).await?);
                next.counted = None;
            }
            ops.extend(next_write(handle, l, &next)?);
            ops.extend(due::follow(handle, l, &next));
            emits.extend(match next.status {
                Status::Approved => Some(view::event(view::CommissionEvent::Approved, &next)),
                Status::Rejected => Some(view::event(view::CommissionEvent::Rejected, &next)),
                _ => None,
            });
            next.updated();
            decided.push(next);
        }
        let action = match d {
            Decision::Approve => "commission.approved",
            Decision::Reject => "commission.rejected",
        };
        ops.push(crate::kernel::audit::entry(
            handle,
            action,
            &audit_target(&lines[0]),
        )?);
        match emit::commit(io, handle, ops, emits).await {
            Ok(()) => return Ok(decided.swap_remove(0)),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CommissionError::Busy)
}

/// Each line's decision in a bulk review, in the order asked. A line's own refusal (not found,
/// not in a state the decision applies to, a partner the decider acts for, busy) is its outcome
/// and the others go on; a failure of ours (the store) fails the whole review, which a retry
/// repeats safely: a decision already taken changes nothing.
#[tracing::instrument(skip_all, fields(handle = %handle, lines = ids.len()))]
pub async fn decide_each(
    io: Io<'_>,
    handle: &Handle,
    ids: &[CommissionId],
    d: Decision,
    review: &Review<'_>,
) -> Result<Vec<Result<Commission, CommissionError>>, StoreError> {
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        match decide(io, handle, id, d, review).await {
            Err(CommissionError::Store(e)) => return Err(e),
            outcome => outcomes.push(outcome),
        }
    }
    Ok(outcomes)
}

/// How the audit log names a line: its id and partner.
fn audit_target(line: &Commission) -> String {
    format!("{} (partner {})", line.commission_id, line.partner_id)
}

/// The version-checked write of `next` over `current`, with its balance moves.
fn next_write(
    handle: &Handle,
    current: &Commission,
    next: &Commission,
) -> Result<Vec<crate::platform::store::WriteOp>, StoreError> {
    let mut staged = next.clone();
    staged.version = current.version;
    staged.as_read = current.as_read.clone();
    staged.update(handle)
}

/// A conversion superseded by a verified one: its unpaid commission is rejected.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn reject_superseded(
    io: Io<'_>,
    handle: &Handle,
    line: Commission,
) -> Result<(), StoreError> {
    let review = Review {
        by: "system",
        note: Some(SUPERSEDED),
        decider: &Decider::system(),
    };
    match decide(io, handle, &line.commission_id, Decision::Reject, &review).await {
        Ok(_) | Err(CommissionError::InvalidState(_)) => Ok(()),
        Err(CommissionError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Unavailable(e.to_string())),
    }
}

/// A manual entry (a bonus, a correction): approved at once, payable in the next payout.
pub struct Manual {
    pub partner_id: PartnerId,
    pub campaign_id: Option<CampaignId>,
    pub minor: i64,
    pub currency: Currency,
    pub reason: String,
}

/// Writes a manual line. Round trips: the partner read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn manual(
    io: Io<'_>,
    handle: &Handle,
    m: Manual,
    by: &str,
) -> Result<Commission, CommissionError> {
    if crate::partners::get(io.store.as_ref(), handle, &m.partner_id)
        .await?
        .is_none()
    {
        return Err(CommissionError::UnknownPartner(m.partner_id));
    }
    let now = crate::platform::time::timestamp();
    let mut line = Commission::blank(
        CommissionId::new(),
        Kind::Manual,
        m.partner_id,
        Some(m.minor),
        m.currency,
        Status::Approved,
    );
    line.campaign_id = m.campaign_id;
    line.reasons = vec![m.reason];
    line.available_at = now.clone();
    line.created_at = now.clone();
    line.reviewed_by = Some(by.to_owned());
    line.reviewed_at = Some(now);
    let mut ops = line.create(handle)?;
    ops.push(crate::kernel::audit::entry(
        handle,
        "commission.manual_created",
        &audit_target(&line),
    )?);
    let emits = vec![view::event(view::CommissionEvent::Created, &line)];
    emit::commit(io, handle, ops, emits).await?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PayoutId;
    use crate::domain::time::Timestamp;
    use crate::ledger::tests::{
        acme, assert_books_agree, due_entries, events, io_parts, line, partner, pub_one, read,
        stored, sums,
    };
    use crate::platform::store::keys;

    const NOW: i64 = 1_800_000_000_000;

    fn held(minor: Option<i64>, available_ms: i64) -> Commission {
        let mut l = line(minor, Status::Held);
        l.available_at = Timestamp::from_millis(available_ms);
        l
    }

    /// The words a refused decision answers with.
    fn refusal(l: &Commission, d: Decision) -> String {
        match next_status(l, d, NOW) {
            Err(CommissionError::InvalidState(why)) => why,
            other => panic!("{:?} {d:?}: expected a refusal, got {other:?}", l.status),
        }
    }

    fn by_operator(decider: &Decider) -> Review<'_> {
        Review {
            by: "op@acme",
            note: Some("duplicate order"),
            decider,
        }
    }

    #[test]
    fn a_decision_already_taken_changes_nothing() {
        for status in [Status::Pending, Status::Approved] {
            let l = line(Some(500), status);
            assert_eq!(next_status(&l, Decision::Approve, NOW).unwrap(), None);
        }
        let rejected = line(Some(500), Status::Rejected);
        assert_eq!(next_status(&rejected, Decision::Reject, NOW).unwrap(), None);
    }

    #[test]
    fn an_approved_hold_is_pending_until_its_available_at_then_approved() {
        let later = held(Some(500), NOW + 1);
        assert_eq!(
            next_status(&later, Decision::Approve, NOW).unwrap(),
            Some(Status::Pending),
            "the hold's days still run"
        );
        let due = held(Some(500), NOW);
        assert_eq!(
            next_status(&due, Decision::Approve, NOW).unwrap(),
            Some(Status::Approved),
            "available at this very moment"
        );
    }

    #[test]
    fn a_line_waiting_for_its_rate_cannot_be_approved_but_can_be_rejected() {
        let l = held(None, NOW - 1);
        assert_eq!(
            refusal(&l, Decision::Approve),
            format!(
                "Commission {} is held: it cannot be approved before its exchange rate is known.",
                l.commission_id
            )
        );
        assert_eq!(
            next_status(&l, Decision::Reject, NOW).unwrap(),
            Some(Status::Rejected)
        );
    }

    #[test]
    fn a_line_is_rejected_from_pending_held_or_approved_until_it_is_in_a_payout() {
        for status in [Status::Pending, Status::Held, Status::Approved] {
            let l = line(Some(500), status);
            assert_eq!(
                next_status(&l, Decision::Reject, NOW).unwrap(),
                Some(Status::Rejected),
                "{status:?}"
            );
        }
        for (status, word) in [(Status::Approved, "approved"), (Status::Paid, "paid")] {
            let mut l = line(Some(500), status);
            l.payout_id = Some(PayoutId::new());
            assert_eq!(
                refusal(&l, Decision::Reject),
                format!(
                    "Commission {} is {word}: it is in a payout; a reversal claws it back instead.",
                    l.commission_id
                )
            );
        }
    }

    #[test]
    fn a_rejected_capped_or_paid_line_is_never_approved_and_a_capped_or_paid_one_never_rejected() {
        for (status, word) in [
            (Status::Rejected, "rejected"),
            (Status::Capped, "capped"),
            (Status::Paid, "paid"),
        ] {
            let l = line(Some(500), status);
            let refused = format!(
                "Commission {} is {word}: this change does not apply.",
                l.commission_id
            );
            assert_eq!(refusal(&l, Decision::Approve), refused);
            if status != Status::Rejected {
                assert_eq!(refusal(&l, Decision::Reject), refused);
            }
        }
    }

    #[tokio::test]
    async fn a_rejection_records_who_and_why_takes_the_line_out_of_the_books_and_holds_once() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let l = stored(store.as_ref(), line(Some(500), Status::Pending)).await;
        assert_eq!(due_entries(store.as_ref()).await.len(), 1);
        let system = Decider::system();
        let rejected = decide(
            io,
            &acme(),
            &l.commission_id,
            Decision::Reject,
            &by_operator(&system),
        )
        .await
        .unwrap();
        assert_eq!(rejected.status, Status::Rejected);
        assert_eq!(
            (
                rejected.reviewed_by.as_deref(),
                rejected.review_note.as_deref()
            ),
            (Some("op@acme"), Some("duplicate order"))
        );
        assert!(rejected.reviewed_at.is_some());
        assert_eq!(read(store.as_ref(), &l.commission_id).await, rejected);
        assert!(
            due_entries(store.as_ref()).await.is_empty(),
            "a rejected line never falls due"
        );
        assert_eq!(sums(store.as_ref()).await, Default::default());
        let again = Review {
            by: "someone-else",
            note: Some("again"),
            decider: &system,
        };
        let twice = decide(io, &acme(), &l.commission_id, Decision::Reject, &again)
            .await
            .unwrap();
        assert_eq!(twice, rejected, "the second rejection writes nothing");
        assert_eq!(events(queue.as_ref()).await, ["commission.rejected"]);
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn an_approved_hold_whose_days_still_run_becomes_pending_and_due_at_its_available_at() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let available = crate::platform::time::now_millis() + 86_400_000;
        let l = stored(store.as_ref(), held(Some(500), available)).await;
        assert!(
            due_entries(store.as_ref()).await.is_empty(),
            "a held line is not due"
        );
        let system = Decider::system();
        let review = Review {
            by: "op@acme",
            note: None,
            decider: &system,
        };
        let approved = decide(io, &acme(), &l.commission_id, Decision::Approve, &review)
            .await
            .unwrap();
        assert_eq!(approved.status, Status::Pending);
        let due = keys::commission_due_sk(available, "acme", l.commission_id.as_str());
        assert_eq!(due_entries(store.as_ref()).await, [due]);
        let s = sums(store.as_ref()).await;
        assert_eq!((s.held, s.pending), (0, 500));
        assert!(
            events(queue.as_ref()).await.is_empty(),
            "approved only once it falls due"
        );
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn nobody_decides_on_the_money_of_a_partner_they_act_for() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let l = stored(store.as_ref(), held(Some(500), 0)).await;
        let own = Decider {
            user: None,
            own_partner: Some(pub_one()),
        };
        for d in [Decision::Approve, Decision::Reject] {
            let err = decide(io, &acme(), &l.commission_id, d, &by_operator(&own))
                .await
                .unwrap_err();
            assert!(matches!(err, CommissionError::OwnPartner(_)), "{err:?}");
        }
        assert_eq!(read(store.as_ref(), &l.commission_id).await, l);
        let another = Decider {
            user: None,
            own_partner: Some(PartnerId::parse("pub-two").unwrap()),
        };
        let approved = decide(
            io,
            &acme(),
            &l.commission_id,
            Decision::Approve,
            &by_operator(&another),
        )
        .await
        .unwrap();
        assert_eq!(
            approved.status,
            Status::Approved,
            "another partner's member may"
        );
    }

    #[tokio::test]
    async fn a_review_of_a_line_that_does_not_exist_is_not_found() {
        let (store, queue) = io_parts();
        let id = CommissionId::new();
        let system = Decider::system();
        let err = decide(
            Io::new(&store, &queue),
            &acme(),
            &id,
            Decision::Approve,
            &by_operator(&system),
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), format!("Commission {id} was not found."));
    }

    #[tokio::test]
    async fn a_bulk_review_answers_each_line_in_order_and_one_refusal_stops_no_other() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let approvable = stored(store.as_ref(), held(Some(500), 0)).await;
        let paid_out = {
            let mut l = line(Some(300), Status::Approved);
            l.payout_id = Some(PayoutId::new());
            stored(store.as_ref(), l).await
        };
        let missing = CommissionId::new();
        let system = Decider::system();
        let ids = [
            paid_out.commission_id.clone(),
            missing.clone(),
            approvable.commission_id.clone(),
        ];
        let outcomes = decide_each(io, &acme(), &ids, Decision::Reject, &by_operator(&system))
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 3);
        assert!(
            matches!(&outcomes[0], Err(CommissionError::InvalidState(_))),
            "{:?}",
            outcomes[0]
        );
        assert!(
            matches!(&outcomes[1], Err(CommissionError::NotFound(id)) if *id == missing),
            "{:?}",
            outcomes[1]
        );
        let rejected = outcomes[2].as_ref().unwrap();
        assert_eq!(rejected.status, Status::Rejected);
        assert_eq!(
            read(store.as_ref(), &paid_out.commission_id).await,
            paid_out
        );
        assert_eq!(events(queue.as_ref()).await, ["commission.rejected"]);
    }

    /// A held line of 500 and its linked adjustment of -200 (`adjustment_minor`), both stored.
    async fn with_adjustment(
        store: &dyn crate::platform::store::Store,
        adjustment_minor: Option<i64>,
    ) -> (Commission, Commission) {
        let mut original = held(Some(500), 0);
        let mut adjustment = held(adjustment_minor, 0);
        adjustment.kind = Kind::Adjustment;
        adjustment.adjusts_commission_id = Some(original.commission_id.clone());
        original.adjusted_by = Some(adjustment.commission_id.clone());
        (
            stored(store, original).await,
            stored(store, adjustment).await,
        )
    }

    #[tokio::test]
    async fn a_lines_adjustment_follows_its_review() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let (original, adjustment) = with_adjustment(store.as_ref(), Some(-200)).await;
        let system = Decider::system();
        let review = by_operator(&system);
        decide(
            io,
            &acme(),
            &original.commission_id,
            Decision::Reject,
            &review,
        )
        .await
        .unwrap();
        for id in [&original.commission_id, &adjustment.commission_id] {
            let after = read(store.as_ref(), id).await;
            assert_eq!(after.status, Status::Rejected);
            assert_eq!(after.review_note.as_deref(), Some("duplicate order"));
        }
        assert_eq!(sums(store.as_ref()).await, Default::default());
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn an_adjustment_waiting_for_its_rate_stays_held_when_its_line_is_approved() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let (original, adjustment) = with_adjustment(store.as_ref(), None).await;
        let system = Decider::system();
        let approved = decide(
            io,
            &acme(),
            &original.commission_id,
            Decision::Approve,
            &by_operator(&system),
        )
        .await
        .unwrap();
        assert_eq!(approved.status, Status::Approved);
        let after = read(store.as_ref(), &adjustment.commission_id).await;
        assert_eq!(after, adjustment, "untouched");
    }

    #[tokio::test]
    async fn a_manual_line_is_approved_and_payable_at_once_for_an_existing_partner_only() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let manual_of = |partner_id: PartnerId, minor| Manual {
            partner_id,
            campaign_id: None,
            minor,
            currency: crate::ledger::tests::eur(),
            reason: "launch bonus".into(),
        };
        let stranger = PartnerId::parse("pub-two").unwrap();
        let err = manual(io, &acme(), manual_of(stranger, 2_500), "op@acme")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "partnerId: partner pub-two does not exist."
        );
        partner(store.as_ref(), false).await;
        let bonus = manual(io, &acme(), manual_of(pub_one(), 2_500), "op@acme")
            .await
            .unwrap();
        assert_eq!(
            (bonus.kind, bonus.status, bonus.amount_minor),
            (Kind::Manual, Status::Approved, Some(2_500))
        );
        assert_eq!(bonus.reasons, ["launch bonus"]);
        assert_eq!(bonus.reviewed_by.as_deref(), Some("op@acme"));
        assert_eq!(bonus.available_at, bonus.created_at, "payable at once");
        assert!(bonus.is_open());
        let correction = manual(io, &acme(), manual_of(pub_one(), -700), "op@acme")
            .await
            .unwrap();
        assert_eq!(correction.status, Status::Approved);
        let s = sums(store.as_ref()).await;
        assert_eq!(
            (s.approved, s.open_negative),
            (2_500, -700),
            "a negative correction is owed back"
        );
        assert!(
            due_entries(store.as_ref()).await.is_empty(),
            "approved already: nothing falls due"
        );
        assert_eq!(
            events(queue.as_ref()).await,
            ["commission.created", "commission.created"]
        );
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn a_superseded_conversions_unpaid_line_is_rejected_and_a_line_in_a_payout_left_alone() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let unpaid = stored(store.as_ref(), line(Some(500), Status::Pending)).await;
        reject_superseded(io, &acme(), unpaid.clone())
            .await
            .unwrap();
        let after = read(store.as_ref(), &unpaid.commission_id).await;
        assert_eq!(after.status, Status::Rejected);
        assert_eq!(
            (after.reviewed_by.as_deref(), after.review_note.as_deref()),
            (Some("system"), Some(SUPERSEDED))
        );
        let mut in_payout = line(Some(500), Status::Approved);
        in_payout.payout_id = Some(PayoutId::new());
        let in_payout = stored(store.as_ref(), in_payout).await;
        reject_superseded(io, &acme(), in_payout.clone())
            .await
            .unwrap();
        assert_eq!(
            read(store.as_ref(), &in_payout.commission_id).await,
            in_payout
        );
    }
}
