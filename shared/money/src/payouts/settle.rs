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
                .map_or("its provider", |p| p.name.as_str());
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
        return Err(PayoutError::InvalidState(
            format!(
                "Payout {id} is {:?}; only a pending payout changes status.",
                payout.status
            )
            .to_lowercase(),
        ));
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
