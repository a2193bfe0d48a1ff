//! `POST …/payout-batches/{batchId}/mark-paid` and `…/cancel`. The batch's status is written
//! first (version-checked), then its payouts follow; a call cut halfway is finished by its
//! repeat, and a repeat of a finished call changes nothing.

use crate::domain::{BatchId, Handle};
use crate::kernel::io::Io;
use crate::payout_batches::model::{Batch, BatchStatus};
use crate::payout_batches::{BatchError, claim, get};
use crate::payouts::settle::{self, Change, Settler};
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

/// Marks the batch paid, then each of its payouts paid with the batch's `reference` through
/// [`settle::change`]: the payout's lines become paid and the running balances move exactly as
/// for a single payout. Round trips: ONE read and ONE write, then per payout its settlement.
#[tracing::instrument(skip_all, fields(handle = %handle, batch = %id))]
pub async fn mark_paid(
    io: Io<'_>,
    handle: &Handle,
    id: &BatchId,
    reference: &str,
) -> Result<Batch, BatchError> {
    let batch = get(io.store.as_ref(), handle, id).await?;
    let batch = match batch.status {
        BatchStatus::Open => {
            let mut next = batch.clone();
            next.status = BatchStatus::Paid;
            next.reference = Some(reference.to_owned());
            next.paid_at = Some(crate::platform::time::timestamp());
            commit(io.store.as_ref(), handle, &batch, next).await?
        }
        BatchStatus::Paid if batch.reference.as_deref() == Some(reference) => batch,
        BatchStatus::Paid => {
            return Err(BatchError::InvalidState(format!(
                "reference: batch {id} was marked paid with reference {}.",
                batch.reference.as_deref().unwrap_or_default()
            )));
        }
        BatchStatus::Canceled => {
            return Err(BatchError::InvalidState(format!(
                "Batch {id} is canceled; only an open batch is marked paid."
            )));
        }
    };
    for item in &batch.items {
        let change = Change::Paid {
            reference: reference.to_owned(),
        };
        let by = held(io.store.as_ref(), handle, &batch, &item.payout_id).await?;
        settle::change(io, handle, (&item.payout_id, by), change).await?;
    }
    Ok(batch)
}

/// The batch's standing on one of its payouts: its claim's version, which the payout's
/// settlement then requires unchanged. A payout whose claim is gone or another batch's is not
/// this batch's to pay (it never is while the batch is open: a claim is deleted only when its
/// batch is canceled). Round trips: ONE read.
async fn held(
    store: &dyn Store,
    handle: &Handle,
    batch: &Batch,
    payout: &crate::domain::PayoutId,
) -> Result<Settler, BatchError> {
    match claim::holder(store, handle, payout).await? {
        Some((b, version)) if b == batch.batch_id => Ok(Settler::Batch {
            claim_version: version,
        }),
        _ => Err(BatchError::InvalidState(format!(
            "Payout {payout} is no longer held by batch {}; it was not paid by it.",
            batch.batch_id
        ))),
    }
}

/// Cancels an open batch, then frees its payouts (its claims deleted) for another batch.
/// Round trips: ONE read and ONE write, then ONE read and ONE delete per payout.
#[tracing::instrument(skip_all, fields(handle = %handle, batch = %id))]
pub async fn cancel(
    store: &dyn Store,
    handle: &Handle,
    id: &BatchId,
    reason: &str,
) -> Result<Batch, BatchError> {
    let batch = get(store, handle, id).await?;
    let batch = match batch.status {
        BatchStatus::Open => {
            let mut next = batch.clone();
            next.status = BatchStatus::Canceled;
            next.reason = Some(reason.to_owned());
            next.canceled_at = Some(crate::platform::time::timestamp());
            commit(store, handle, &batch, next).await?
        }
        BatchStatus::Canceled => batch,
        BatchStatus::Paid => {
            return Err(BatchError::InvalidState(format!(
                "Batch {id} is paid; a paid batch is not canceled."
            )));
        }
    };
    claim::release(store, handle, &batch.batch_id, &batch.payout_ids()).await?;
    Ok(batch)
}

/// The batch's new status, version-checked against the one read.
async fn commit(
    store: &dyn Store,
    handle: &Handle,
    current: &Batch,
    mut next: Batch,
) -> Result<Batch, BatchError> {
    next.version = current.version + 1;
    let op = WriteOp::Put {
        item: next.item(handle)?,
        cond: Cond::Version(current.version),
    };
    // One audit entry naming the batch and how many payouts it settles, in the status write's
    // transaction (the payouts follow it).
    let (action, target) = match next.status {
        BatchStatus::Paid => (
            "payout_batch.marked_paid",
            format!(
                "{} ({} payouts, reference {})",
                next.batch_id,
                next.items.len(),
                next.reference.as_deref().unwrap_or_default()
            ),
        ),
        _ => (
            "payout_batch.canceled",
            format!("{} ({} payouts)", next.batch_id, next.items.len()),
        ),
    };
    match crate::kernel::audit::write(store, op, handle, action, &target).await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) => Err(BatchError::Busy),
        Err(e) => Err(e.into()),
    }
}
