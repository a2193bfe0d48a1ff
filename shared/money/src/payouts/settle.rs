//! A payout's status changes: `mark-paid`, `mark-failed`, `cancel`, and what they do to its
//! lines (paid, or released to the next run).

use crate::domain::{Handle, PayoutId};
use crate::kernel::io::Io;
use crate::ledger::emit;
use crate::ledger::model::{Commission, Status};
use crate::payouts;
use crate::payouts::budget::Budget;
use crate::payouts::lines::PAGE;
use crate::payouts::model::{Payout, PayoutError, PayoutStatus};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp};

/// Who changes a payout's status. A live batch's claim on a payout
/// (`payout_batches::claim`, `H#{handle}#BATCLAIM` / `{payoutId}`) and the payout's own status
/// change exclude each other by a condition in each one's transaction, never by a read made
/// before it (issue 57: a mark-paid and a batch raced, and both paid).
#[derive(Clone, Copy, Debug)]
pub enum Settler {
    /// The payout's own request: only while no batch claims it.
    Alone,
    /// The batch holding the payout: only while its claim is the one it read.
    Batch { claim_version: u64 },
    /// The payment provider the payout was sent through (`payouts::send`), on its
    /// confirmation: the only one that settles a payout being sent.
    Provider,
}

impl Settler {
    /// The transaction's condition on the payout's claim.
    fn claim_check(self, handle: &Handle, id: &PayoutId) -> WriteOp {
        let (pk, sk) = payouts::hold::key(handle, id);
        let cond = match self {
            Settler::Alone | Settler::Provider => Cond::Absent,
            Settler::Batch { claim_version } => Cond::Version(claim_version),
        };
        WriteOp::Check { pk, sk, cond }
    }
}

/// Where a status change leads.
pub enum Change {
    Paid {
        reference: String,
    },
    Failed {
        reason: String,
    },
    /// Sent through a provider and given back by it.
    Returned {
        reason: String,
    },
    Canceled {
        reason: String,
    },
}

impl Change {
    fn target(&self) -> PayoutStatus {
        match self {
            Change::Paid { .. } => PayoutStatus::Paid,
            Change::Failed { .. } => PayoutStatus::Failed,
            Change::Returned { .. } => PayoutStatus::Returned,
            Change::Canceled { .. } => PayoutStatus::Canceled,
        }
    }
}

/// Moves a pending payout to paid, failed or canceled (version-checked, with `payout.paid`
/// for a payment), then settles its lines: paid, or released to the next run. Repeating the same
/// change finishes its line work and answers the payout; any other change of a settled payout
/// is `invalid_state`. Unbounded: the payout batches' changes (a request's own, bounded, is
/// `payouts::background::change`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn change(
    io: Io<'_>,
    handle: &Handle,
    (id, by): (&PayoutId, Settler),
    change: Change,
) -> Result<Payout, PayoutError> {
    let payout = status(io, handle, (id, by), change).await?;
    settle_lines(io.store.as_ref(), handle, &payout).await?;
    Ok(payout)
}

/// [`change`] by the payout's provider, telling the partner of a failed or returned payment:
/// its `payout_returned` mail staged in the status change's own transaction (the outbox:
/// `mail::enqueue_ops`), so a crash right after the change loses no mail. `origin` is the
/// product's own, which the mail's link is absolute to.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn change_telling(
    io: Io<'_>,
    handle: &Handle,
    (id, origin): (&PayoutId, &str),
    change: Change,
) -> Result<Payout, PayoutError> {
    let payout = status_telling(io, handle, (id, Settler::Provider), change, Some(origin)).await?;
    settle_lines(io.store.as_ref(), handle, &payout).await?;
    Ok(payout)
}

/// The status part of [`change`]: the payout as changed (or as it already was, changed the
/// same way). Round trips: ONE read, then ONE transaction when it was pending (see
/// [`commit_status`]).
pub async fn status(
    io: Io<'_>,
    handle: &Handle,
    (id, by): (&PayoutId, Settler),
    change: Change,
) -> Result<Payout, PayoutError> {
    status_telling(io, handle, (id, by), change, None).await
}

async fn status_telling(
    io: Io<'_>,
    handle: &Handle,
    (id, by): (&PayoutId, Settler),
    change: Change,
    origin: Option<&str>,
) -> Result<Payout, PayoutError> {
    let target = change.target();
    let payout = payouts::get(io.store.as_ref(), handle, id)
        .await?
        .ok_or_else(|| PayoutError::NotFound(id.clone()))?;
    let provider = matches!(by, Settler::Provider);
    match payout.status {
        PayoutStatus::Pending if !provider => {
            if matches!(by, Settler::Alone)
                && matches!(target, PayoutStatus::Paid | PayoutStatus::Failed)
            {
                refuse_if_held(io.store.as_ref(), handle, &payout, target).await?;
            }
            return commit_status(io, handle, (payout, by), (change, origin)).await;
        }
        PayoutStatus::Sending if provider => {
            return commit_status(io, handle, (payout, by), (change, origin)).await;
        }
        PayoutStatus::Sending => {
            let name = payout
                .provider
                .as_ref()
                .and_then(|p| crate::payout_providers::Provider::parse(&p.name))
                .map_or("its provider", crate::payout_providers::Provider::title);
            return Err(PayoutError::InvalidState(format!(
                "Payout {id} is being sent through {name}; it settles when {name} confirms or refuses it."
            )));
        }
        _ => {}
    }
    if let (Change::Paid { reference }, Some(paid_with)) = (&change, &payout.reference)
        && reference != paid_with
    {
        // Paid once: a mark-paid naming another payment (a batch's, a second transfer) is
        // not answered as if it were the one that paid (issue 57).
        return Err(PayoutError::InvalidState(format!(
            "Payout {id} was paid with reference {paid_with}; only that reference repeats it."
        )));
    }
    if payout.status != target {
        let only = if provider {
            "a provider's word settles only a payout being sent"
        } else {
            "only a pending payout changes status"
        };
        let status = format!("{:?}", payout.status).to_lowercase();
        return Err(PayoutError::InvalidState(format!(
            "Payout {id} is {status}; {only}."
        )));
    }
    Ok(payout)
}

/// A pending payout its provider is to send once the program's hold ends (it has a dispatch,
/// `payouts::send`) is neither paid nor failed by hand: the money has not left, and leaves only
/// through the provider. Cancel takes it back. Round trips: ONE read.
async fn refuse_if_held(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
    target: PayoutStatus,
) -> Result<(), PayoutError> {
    let Some(d) = payouts::dispatch::find(store, handle, &p.payout_id).await? else {
        return Ok(());
    };
    let name = d.provider.title();
    let what = match target {
        PayoutStatus::Paid => "marked paid",
        _ => "marked failed",
    };
    Err(PayoutError::InvalidState(format!(
        "Payout {} is not {what} by hand: {name} sends it once the program's hold on it ends, and nothing was sent yet. Cancel it to put the amount back on the partner's balance instead.",
        p.payout_id
    )))
}

/// `current` as `change` makes it (the paid time stamped by the caller).
fn changed(current: &Payout, change: Change) -> Payout {
    let mut next = current.clone();
    next.status = change.target();
    match change {
        Change::Paid { reference } => next.reference = Some(reference),
        Change::Failed { reason } | Change::Returned { reason } | Change::Canceled { reason } => {
            next.reason = Some(reason);
        }
    }
    next
}

/// Where the invoice counter's take goes in the status change's transaction.
const NUMBER_AT: usize = 0;

/// The status change in ONE transaction: the payout (version-checked), its event, its audit
/// entry, for a payment the partner's next self-billing invoice number (`payouts::invoice`,
/// counter version-checked: a payment that lost the number to another reads it again), and with
/// `origin` the partner's mail of a failed or returned payment. Round trips: for a payment TWO
/// or THREE reads, for a provider's failure ONE read, then ONE transaction (again per number
/// lost).
async fn commit_status(
    io: Io<'_>,
    handle: &Handle,
    (current, by): (Payout, Settler),
    (change, origin): (Change, Option<&str>),
) -> Result<Payout, PayoutError> {
    let store = io.store.as_ref();
    let mut next = changed(&current, change);
    // Test money mails nobody and takes no invoice number.
    let tell = match origin.filter(|_| !next.test) {
        Some(o) if matches!(next.status, PayoutStatus::Failed | PayoutStatus::Returned) => {
            payouts::returned::staged_mail(store, o, handle, &next).await
        }
        _ => None,
    };
    for _ in 0..payouts::invoice::NUMBER_TRIES {
        let mut ops = Vec::new();
        if next.status == PayoutStatus::Paid && next.test {
            next.paid_at = Some(crate::platform::time::timestamp());
        } else if next.status == PayoutStatus::Paid {
            let number =
                payouts::invoice::number_when_paid(store, handle, &next.partner_id).await?;
            next.invoice_sequence = number.as_ref().map(|n| n.sequence);
            ops.extend(number.map(|n| n.take));
            // Stamped after the number is read: numbers follow the payments' times.
            next.paid_at = Some(crate::platform::time::timestamp());
        }
        let numbered = !ops.is_empty();
        let emits = status_ops(handle, (&current, &next), by, &mut ops)?;
        if let Some(staged) = &tell {
            ops.extend(staged.ops.iter().cloned());
        }
        match emit::commit(io, handle, ops, emits).await {
            Ok(()) => {
                if let Some(staged) = &tell {
                    crate::mail::publish(io, staged).await;
                }
                next.version = current.version + 1;
                return Ok(next);
            }
            // Another payment of the partner took the number first.
            Err(StoreError::TxConflict { index, .. }) if numbered && index == NUMBER_AT => {}
            Err(StoreError::TxConflict { current, .. }) => {
                return Err(conflict(handle, &next, current));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PayoutError::Busy)
}

/// The writes of a status change after `ops` (the payout, its leaving the pending list, the
/// batch claim's check, its audit entry), and its event.
fn status_ops(
    handle: &Handle,
    (current, next): (&Payout, &Payout),
    by: Settler,
    ops: &mut Vec<WriteOp>,
) -> Result<Vec<crate::kernel::emit::Emit>, PayoutError> {
    ops.push(WriteOp::Put {
        item: Item::new(
            crate::platform::store::keys::payouts_pk(handle),
            next.payout_id.as_str(),
            crate::platform::store::to_doc(next)?,
        )
        .with_version(current.version + 1),
        cond: Cond::Version(current.version),
    });
    let kind: Option<fn(payouts::PayoutView) -> payouts::PayoutEvent> = match next.status {
        PayoutStatus::Paid => Some(payouts::PayoutEvent::Paid),
        PayoutStatus::Failed => Some(payouts::PayoutEvent::Failed),
        PayoutStatus::Returned => Some(payouts::PayoutEvent::Returned),
        _ => None,
    };
    let emits: Vec<_> = kind
        .map(|kind| payouts::payout_event(next, kind))
        .into_iter()
        .collect();
    ops.push(payouts::pending::leave_op(handle, &next.payout_id));
    ops.push(by.claim_check(handle, &next.payout_id));
    // A payout changed on its own or by its provider is audited here; a batch's payouts by the
    // batch's one entry.
    if matches!(by, Settler::Alone | Settler::Provider) {
        let (action, detail) = match (next.status, matches!(by, Settler::Provider)) {
            (PayoutStatus::Paid, true) => ("payout.provider_paid", next.reference.clone()),
            (PayoutStatus::Failed, true) => ("payout.provider_failed", next.reason.clone()),
            (PayoutStatus::Returned, _) => ("payout.provider_returned", next.reason.clone()),
            (PayoutStatus::Paid, false) => ("payout.marked_paid", next.reference.clone()),
            (PayoutStatus::Failed, false) => ("payout.marked_failed", next.reason.clone()),
            _ => ("payout.canceled", next.reason.clone()),
        };
        let target = format!("{} ({})", next.payout_id, detail.unwrap_or_default());
        ops.push(crate::kernel::audit::entry(handle, action, &target)?);
    }
    Ok(emits)
}

/// Why a status change's transaction failed: a batch's claim on the payout (named), or another
/// change of the payout meanwhile (`Busy`: the retry reads what it became).
fn conflict(handle: &Handle, p: &Payout, current: Option<Box<Item>>) -> PayoutError {
    let claim = payouts::hold::key(handle, &p.payout_id);
    match current {
        Some(item) if (item.pk.as_str(), item.sk.as_str()) == (claim.0.as_str(), &claim.1) => {
            let batch = item.doc["batchId"]
                .as_str()
                .unwrap_or("(unnamed)")
                .to_owned();
            PayoutError::InvalidState(format!(
                "Payout {} is in batch {batch}: mark the batch paid or cancel it.",
                p.payout_id
            ))
        }
        _ => PayoutError::Busy,
    }
}

/// What settling does to one of `p`'s lines (`None`: nothing, already done or not its own): a
/// paid payout's become `paid`; a failed or canceled one's go back to `approved`, in no payout.
fn settled(p: &Payout) -> impl Fn(&Commission) -> Option<Commission> + '_ {
    let paid = p.status == PayoutStatus::Paid;
    move |c: &Commission| {
        if c.payout_id.as_ref() != Some(&p.payout_id) {
            return None;
        }
        let mut n = c.clone();
        match (paid, c.status) {
            (true, Status::Paid) => return None,
            (true, _) => n.status = Status::Paid,
            (false, _) => n.payout_id = None,
        }
        Some(n)
    }
}

/// Settles every line of `p` in batched transactions (`payouts::claim::change_all`): a payout
/// of 10^5 lines settles in ~10^3.
async fn settle_lines(store: &dyn Store, handle: &Handle, p: &Payout) -> Result<(), StoreError> {
    let ids = payouts::lines::ids(store, handle, p).await?;
    payouts::claim::change_all(store, handle, &ids, settled(p)).await
}

/// Settles `p`'s lines a page of 1,000 ids at a time from page `from`, within `budget`:
/// answers the page it stopped before (`None`: all settled). A page done twice (a cut sweep,
/// a repeated request) changes nothing twice: each line's change checks what it is.
/// Round trips: per page, ONE read of its ids, 1,000 reads, ~10 transactions.
pub async fn settle_from(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
    from: u32,
    budget: &Budget,
) -> Result<Option<u32>, StoreError> {
    let pages = u32::try_from(p.commission_count.div_ceil(PAGE)).unwrap_or(u32::MAX);
    for page in from..pages {
        if budget.check().is_err() {
            return Ok(Some(page));
        }
        let offset = usize::try_from(page)
            .unwrap_or(usize::MAX)
            .saturating_mul(PAGE);
        let ids = payouts::lines::ids_range(store, handle, p, offset, PAGE).await?;
        payouts::claim::change_all(store, handle, &ids, settled(p)).await?;
        budget.spend(ids.len());
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BatchId;
    use crate::ledger::model::Commission;
    use crate::payouts::budget::Budget;
    use crate::payouts::fixtures::{Books, line, payout_of};
    use crate::platform::store::Item;

    fn paid(reference: &str) -> Change {
        Change::Paid {
            reference: reference.into(),
        }
    }

    fn failed(reason: &str) -> Change {
        Change::Failed {
            reason: reason.into(),
        }
    }

    fn canceled(reason: &str) -> Change {
        Change::Canceled {
            reason: reason.into(),
        }
    }

    /// A line of `p`'s, or of no payout.
    fn line_of(p: Option<&Payout>) -> Commission {
        let mut l = line(Some(499), 0);
        l.payout_id = p.map(|p| p.payout_id.clone());
        l
    }

    fn refusal(result: Result<Payout, PayoutError>) -> String {
        match result {
            Err(PayoutError::InvalidState(words)) => words,
            other => panic!("expected a refusal in words, got {other:?}"),
        }
    }

    #[test]
    fn a_change_sets_the_status_it_names_with_its_reference_or_its_reason() {
        let p = payout_of(PayoutId::new(), &[1000]);
        let next = changed(&p, paid("SEPA-1"));
        assert_eq!(next.status, PayoutStatus::Paid);
        assert_eq!(next.reference.as_deref(), Some("SEPA-1"));
        assert_eq!(next.reason, None);
        let returned = Change::Returned {
            reason: "why".into(),
        };
        for (change, status) in [
            (failed("why"), PayoutStatus::Failed),
            (returned, PayoutStatus::Returned),
            (canceled("why"), PayoutStatus::Canceled),
        ] {
            let next = changed(&p, change);
            assert_eq!(next.status, status);
            assert_eq!(next.reason.as_deref(), Some("why"), "{status:?}");
            assert_eq!(next.reference, None, "{status:?}");
            assert_eq!(
                (next.amount_minor, next.version),
                (p.amount_minor, p.version),
                "the amount stays; the version moves only when written"
            );
        }
    }

    #[test]
    fn a_paid_payouts_lines_are_paid_once_and_no_other_line_is_touched() {
        let mut p = payout_of(PayoutId::new(), &[499]);
        p.status = PayoutStatus::Paid;
        let settle = settled(&p);
        let ours = settle(&line_of(Some(&p))).expect("its line is paid");
        assert_eq!(ours.status, Status::Paid);
        assert_eq!(ours.payout_id.as_ref(), Some(&p.payout_id));
        assert_eq!(ours.amount_minor, Some(499));
        assert!(settle(&ours).is_none(), "a line paid already is left");
        let other = payout_of(PayoutId::new(), &[499]);
        assert!(settle(&line_of(Some(&other))).is_none(), "another payout's");
        assert!(settle(&line_of(None)).is_none(), "a line in no payout");
    }

    #[test]
    fn a_failed_returned_or_canceled_payouts_lines_go_back_to_the_next_run() {
        for status in [
            PayoutStatus::Failed,
            PayoutStatus::Returned,
            PayoutStatus::Canceled,
        ] {
            let mut p = payout_of(PayoutId::new(), &[499]);
            p.status = status;
            let freed = settled(&p)(&line_of(Some(&p))).expect("its line is freed");
            assert!(freed.is_open(), "{status:?}: approved, in no payout");
            assert!(settled(&p)(&freed).is_none(), "{status:?}: freed once");
            let other = payout_of(PayoutId::new(), &[499]);
            assert!(settled(&p)(&line_of(Some(&other))).is_none());
        }
    }

    /// The action and target of an audit entry's put.
    fn audited(op: &WriteOp) -> (String, String) {
        let WriteOp::Put { item, .. } = op else {
            panic!("an audit entry is a put: {op:?}");
        };
        let field = |f: &str| item.doc[f].as_str().unwrap_or_default().to_owned();
        (field("action"), field("target"))
    }

    #[test]
    fn a_status_change_is_written_at_the_version_read_and_audited_as_who_made_it() {
        let handle = Handle::parse("acme").unwrap();
        let mut current = payout_of(PayoutId::new(), &[1000]);
        current.version = 3;
        let id = current.payout_id.clone();
        let returned = Change::Returned {
            reason: "unclaimed".into(),
        };
        let cases = [
            (Settler::Alone, paid("SEPA-1"), Some("payout.marked_paid")),
            (
                Settler::Alone,
                failed("bounced"),
                Some("payout.marked_failed"),
            ),
            (Settler::Alone, canceled("twice"), Some("payout.canceled")),
            (
                Settler::Provider,
                paid("tr_1"),
                Some("payout.provider_paid"),
            ),
            (
                Settler::Provider,
                failed("refused"),
                Some("payout.provider_failed"),
            ),
            (
                Settler::Provider,
                returned,
                Some("payout.provider_returned"),
            ),
            (Settler::Batch { claim_version: 7 }, paid("BATCH-1"), None),
        ];
        for (by, change, action) in cases {
            let next = changed(&current, change);
            let mut ops = Vec::new();
            let emits = status_ops(&handle, (&current, &next), by, &mut ops).unwrap();
            let WriteOp::Put { item, cond } = &ops[0] else {
                panic!("the payout is put first: {:?}", ops[0]);
            };
            assert_eq!((cond, item.version), (&Cond::Version(3), 4));
            assert_eq!(ops[1], payouts::pending::leave_op(&handle, &id));
            let WriteOp::Check { cond, .. } = &ops[2] else {
                panic!("the batch claim is checked: {:?}", ops[2]);
            };
            let claim = match by {
                Settler::Batch { claim_version } => Cond::Version(claim_version),
                _ => Cond::Absent,
            };
            assert_eq!(cond, &claim, "{by:?}");
            match action {
                Some(action) => {
                    let (logged, target) = audited(&ops[3]);
                    assert_eq!(logged, action);
                    let detail = next.reference.clone().or(next.reason.clone()).unwrap();
                    assert_eq!(target, format!("{id} ({detail})"));
                }
                None => assert_eq!(ops.len(), 3, "a batch audits its payouts once"),
            }
            let kinds: Vec<_> = emits.iter().map(|e| e.payload.kind().as_str()).collect();
            let expected = match next.status {
                PayoutStatus::Paid => vec!["payout.paid"],
                PayoutStatus::Failed => vec!["payout.failed"],
                PayoutStatus::Returned => vec!["payout.returned"],
                _ => vec![],
            };
            assert_eq!(kinds, expected, "{:?}", next.status);
        }
    }

    #[test]
    fn a_conflict_on_the_batch_claim_names_the_batch_and_any_other_is_busy() {
        let handle = Handle::parse("acme").unwrap();
        let p = payout_of(PayoutId::new(), &[1000]);
        let batch = BatchId::new();
        let (pk, sk) = payouts::hold::key(&handle, &p.payout_id);
        let claim = Item::new(pk, sk, serde_json::json!({ "batchId": batch }));
        match conflict(&handle, &p, Some(Box::new(claim))) {
            PayoutError::InvalidState(words) => assert_eq!(
                words,
                format!(
                    "Payout {} is in batch {batch}: mark the batch paid or cancel it.",
                    p.payout_id
                )
            ),
            other => panic!("{other:?}"),
        }
        let itself = p.item(&handle).unwrap();
        assert!(matches!(
            conflict(&handle, &p, Some(Box::new(itself))),
            PayoutError::Busy
        ));
        assert!(matches!(conflict(&handle, &p, None), PayoutError::Busy));
    }

    async fn by_hand(books: &Books, p: &Payout, to: Change) -> Result<Payout, PayoutError> {
        let id = (&p.payout_id, Settler::Alone);
        change(books.io(), &books.handle, id, to).await
    }

    #[tokio::test]
    async fn a_pending_payout_marked_paid_pays_each_of_its_lines_once() {
        let books = Books::new();
        let p = books.payout(&[1000, 250]).await;
        let paid_once = by_hand(&books, &p, paid("SEPA-1")).await.unwrap();
        assert_eq!(paid_once.status, PayoutStatus::Paid);
        assert_eq!(paid_once.reference.as_deref(), Some("SEPA-1"));
        assert!(paid_once.paid_at.is_some());
        assert_eq!(books.reread(&p).await, paid_once, "as stored, at version 2");
        let lines = books.lines_of(&p).await;
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.status == Status::Paid));
        let unindexed = payouts::pending::unindexed(books.store(), &books.handle);
        assert_eq!(unindexed.await.unwrap(), 0, "out of the pending list");
        let again = by_hand(&books, &p, paid("SEPA-1")).await.unwrap();
        assert_eq!(again, paid_once, "the same change answers the payout");
        let versions = |ls: &[Commission]| ls.iter().map(|l| l.version).collect::<Vec<_>>();
        assert_eq!(
            versions(&books.lines_of(&p).await),
            versions(&lines),
            "no line written twice"
        );
    }

    #[tokio::test]
    async fn a_paid_payout_repeats_only_its_own_reference_and_is_never_failed_or_canceled() {
        let books = Books::new();
        let p = books.payout(&[1000]).await;
        let id = &p.payout_id;
        let paid_once = by_hand(&books, &p, paid("SEPA-1")).await.unwrap();
        assert_eq!(
            refusal(by_hand(&books, &p, paid("SEPA-2")).await),
            format!("Payout {id} was paid with reference SEPA-1; only that reference repeats it.")
        );
        for undo in [failed("bounced"), canceled("twice")] {
            assert_eq!(
                refusal(by_hand(&books, &p, undo).await),
                format!("Payout {id} is paid; only a pending payout changes status.")
            );
        }
        assert_eq!(books.reread(&p).await, paid_once);
        let lines = books.lines_of(&p).await;
        assert!(lines.iter().all(|l| l.status == Status::Paid));
    }

    #[tokio::test]
    async fn a_canceled_payout_puts_its_lines_back_and_is_never_paid() {
        let books = Books::new();
        let p = books.payout(&[1000, 250]).await;
        let gone = by_hand(&books, &p, canceled("made twice")).await.unwrap();
        assert_eq!(gone.status, PayoutStatus::Canceled);
        assert_eq!(gone.reason.as_deref(), Some("made twice"));
        assert_eq!(gone.paid_at, None);
        let lines = books.lines_of(&p).await;
        assert!(lines.iter().all(Commission::is_open), "{lines:?}");
        assert_eq!(
            refusal(by_hand(&books, &p, paid("SEPA-1")).await),
            format!(
                "Payout {} is canceled; only a pending payout changes status.",
                p.payout_id
            )
        );
    }

    #[tokio::test]
    async fn a_payout_its_provider_sends_after_a_hold_is_canceled_by_hand_never_paid_or_failed() {
        let books = Books::new();
        books.paid_through_stripe_unconfirmed().await;
        let p = books.payout(&[1000]).await;
        let held = payouts::send::start(books.io(), &books.handle, p)
            .await
            .unwrap();
        assert_eq!(held.status, PayoutStatus::Pending, "held, not sent");
        for (change, what) in [(paid("SEPA-1"), "paid"), (failed("no"), "failed")] {
            assert_eq!(
                refusal(by_hand(&books, &held, change).await),
                format!(
                    "Payout {} is not marked {what} by hand: Stripe sends it once the program's hold on it ends, and nothing was sent yet. Cancel it to put the amount back on the partner's balance instead.",
                    held.payout_id
                )
            );
        }
        let gone = by_hand(&books, &held, canceled("not owed")).await.unwrap();
        assert_eq!(gone.status, PayoutStatus::Canceled);
        assert!(books.lines_of(&held).await.iter().all(Commission::is_open));
    }

    #[tokio::test]
    async fn a_payout_being_sent_is_settled_by_its_providers_word_alone() {
        let books = Books::new();
        books.paid_through_stripe().await;
        let p = books.payout(&[1000]).await;
        let sending = payouts::send::start(books.io(), &books.handle, p)
            .await
            .unwrap();
        assert_eq!(sending.status, PayoutStatus::Sending);
        let id = &sending.payout_id;
        let words = format!(
            "Payout {id} is being sent through Stripe; it settles when Stripe confirms or refuses it."
        );
        for change in [paid("SEPA-1"), failed("no"), canceled("no")] {
            assert_eq!(refusal(by_hand(&books, &sending, change).await), words);
        }
        let batch = Settler::Batch { claim_version: 1 };
        let by_batch = change(books.io(), &books.handle, (id, batch), paid("B-1")).await;
        assert_eq!(refusal(by_batch), words);
        let by_stripe = (id, Settler::Provider);
        let paid_once = change(books.io(), &books.handle, by_stripe, paid("tr_1"))
            .await
            .unwrap();
        assert_eq!(paid_once.status, PayoutStatus::Paid);
        assert_eq!(paid_once.reference.as_deref(), Some("tr_1"));
        let lines = books.lines_of(&sending).await;
        assert!(lines.iter().all(|l| l.status == Status::Paid));
    }

    #[tokio::test]
    async fn a_provider_settles_no_payout_that_was_not_handed_to_it() {
        let books = Books::new();
        let p = books.payout(&[1000]).await;
        let by_stripe = (&p.payout_id, Settler::Provider);
        let word = change(books.io(), &books.handle, by_stripe, paid("tr_1")).await;
        assert!(
            matches!(word, Err(PayoutError::InvalidState(_))),
            "{word:?}"
        );
        assert_eq!(books.reread(&p).await, p);
        assert!(
            books
                .lines_of(&p)
                .await
                .iter()
                .all(|l| l.status == Status::Approved)
        );
    }

    #[tokio::test]
    async fn a_payout_a_batch_holds_is_refused_to_its_own_request_and_settled_by_the_batch() {
        let books = Books::new();
        let p = books.payout(&[1000]).await;
        let batch = BatchId::new();
        let selected = [(p.payout_id.clone(), p.version)];
        crate::payout_batches::claim::claim_all(books.store(), &books.handle, &batch, &selected)
            .await
            .unwrap();
        assert_eq!(
            refusal(by_hand(&books, &p, paid("SEPA-1")).await),
            format!(
                "Payout {} is in batch {batch}: mark the batch paid or cancel it.",
                p.payout_id
            )
        );
        assert_eq!(books.reread(&p).await, p, "the request changed nothing");
        let holder =
            crate::payout_batches::claim::holder(books.store(), &books.handle, &p.payout_id);
        let (_, claim_version) = holder.await.unwrap().unwrap();
        let by = (&p.payout_id, Settler::Batch { claim_version });
        let by_batch = change(books.io(), &books.handle, by, paid("BATCH-1")).await;
        assert_eq!(by_batch.unwrap().status, PayoutStatus::Paid);
        assert!(
            books
                .lines_of(&p)
                .await
                .iter()
                .all(|l| l.status == Status::Paid)
        );
    }

    #[tokio::test]
    async fn settling_in_pages_stops_between_pages_and_resumes_where_it_stopped() {
        let books = Books::new();
        let p = books.payout(&vec![1; PAGE + 1]).await;
        let (store, handle) = (books.store(), &books.handle);
        let by = (&p.payout_id, Settler::Alone);
        let paid_once = status(books.io(), handle, by, paid("SEPA-1"))
            .await
            .unwrap();
        let is_paid = |ls: &[Commission]| ls.iter().map(|l| l.status == Status::Paid).collect();
        let unpaid: Vec<bool> = is_paid(&books.lines_of(&p).await);
        assert!(!unpaid.contains(&true), "the status alone pays no line");
        let minute = std::time::Duration::from_secs(60);
        let spent = Budget::lines_within(0, minute);
        let stopped = settle_from(store, handle, &paid_once, 0, &spent).await;
        assert_eq!(stopped.unwrap(), Some(0), "nothing done without a budget");
        let one_page = Budget::lines_within(PAGE, minute);
        let stopped = settle_from(store, handle, &paid_once, 0, &one_page).await;
        assert_eq!(stopped.unwrap(), Some(1), "stopped before the second page");
        let after_one: Vec<bool> = is_paid(&books.lines_of(&p).await);
        assert_eq!(after_one.iter().filter(|paid| **paid).count(), PAGE);
        assert!(!after_one[PAGE], "the second page waits");
        let done = settle_from(store, handle, &paid_once, 1, &Budget::unbounded()).await;
        assert_eq!(done.unwrap(), None);
        let lines = books.lines_of(&p).await;
        assert!(lines.iter().all(|l| l.status == Status::Paid));
        let redone = settle_from(store, handle, &paid_once, 0, &Budget::unbounded()).await;
        assert_eq!(redone.unwrap(), None);
        let again = books.lines_of(&p).await;
        let versions = |ls: &[Commission]| ls.iter().map(|l| l.version).collect::<Vec<_>>();
        assert_eq!(
            versions(&again),
            versions(&lines),
            "a page redone writes nothing"
        );
    }
}
