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

/// The status part of [`change`]: the payout as changed (or as it already was, changed the
/// same way). Round trips: ONE read, then ONE transaction when it was pending.
pub async fn status(
    io: Io<'_>,
    handle: &Handle,
    (id, by): (&PayoutId, Settler),
    change: Change,
) -> Result<Payout, PayoutError> {
    let target = change.target();
    let payout = payouts::get(io.store.as_ref(), handle, id)
        .await?
        .ok_or_else(|| PayoutError::NotFound(id.clone()))?;
    let provider = matches!(by, Settler::Provider);
    match payout.status {
        PayoutStatus::Pending if !provider => {
            return commit_status(io, handle, (payout, by), change).await;
        }
        PayoutStatus::Sending if provider => {
            return commit_status(io, handle, (payout, by), change).await;
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

async fn commit_status(
    io: Io<'_>,
    handle: &Handle,
    (current, by): (Payout, Settler),
    change: Change,
) -> Result<Payout, PayoutError> {
    let mut next = current.clone();
    next.status = change.target();
    match change {
        Change::Paid { reference } => {
            next.reference = Some(reference);
            next.paid_at = Some(crate::platform::time::timestamp());
        }
        Change::Failed { reason } | Change::Returned { reason } | Change::Canceled { reason } => {
            next.reason = Some(reason);
        }
    }
    let op = crate::platform::store::WriteOp::Put {
        item: crate::platform::store::Item::new(
            crate::platform::store::keys::payouts_pk(handle),
            next.payout_id.as_str(),
            crate::platform::store::to_doc(&next)?,
        )
        .with_version(current.version + 1),
        cond: crate::platform::store::Cond::Version(current.version),
    };
    let kind: Option<fn(payouts::PayoutView) -> payouts::PayoutEvent> = match next.status {
        PayoutStatus::Paid => Some(payouts::PayoutEvent::Paid),
        PayoutStatus::Failed => Some(payouts::PayoutEvent::Failed),
        PayoutStatus::Returned => Some(payouts::PayoutEvent::Returned),
        _ => None,
    };
    let emits: Vec<_> = kind
        .map(|kind| payouts::payout_event(&next, kind))
        .into_iter()
        .collect();
    let left = payouts::pending::leave_op(handle, &next.payout_id);
    // A payout changed on its own or by its provider is audited here; a batch's payouts by the
    // batch's one entry.
    let alone = matches!(by, Settler::Alone | Settler::Provider);
    let claim = by.claim_check(handle, &next.payout_id);
    let mut ops = vec![op, left, claim];
    if alone {
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
    match emit::commit(io, handle, ops, emits).await {
        Ok(()) => {
            next.version += 1;
            Ok(next)
        }
        Err(StoreError::TxConflict { current, .. }) => Err(conflict(handle, &next, current)),
        Err(e) => Err(e.into()),
    }
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
