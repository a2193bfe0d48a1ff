//! A payout's claim by a live batch: `H#{handle}#BATCLAIM` / `{payoutId}` holding the batch id,
//! put-if-absent in transactions of at most 100 items, deleted when its batch is canceled. A
//! paid batch keeps its claims (its payouts are paid: no batch takes them again).

use serde::{Deserialize, Serialize};

use crate::domain::{BatchId, Handle, PayoutId};
use crate::payout_batches::BatchError;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp};

/// Payouts claimed per transaction: each is two items (the claim, the check on the payout),
/// and DynamoDB takes 100 items in a transaction.
const PER_TRANSACTION: usize = 50;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claim {
    batch_id: BatchId,
}

/// The batch holding `payout`, with its claim's version, if one does. Round trips: ONE read.
pub async fn holder(
    store: &dyn Store,
    handle: &Handle,
    payout: &PayoutId,
) -> Result<Option<(BatchId, u64)>, StoreError> {
    let (pk, sk) = crate::payouts::hold::key(handle, payout);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    Ok(Some((item.parse::<Claim>()?.batch_id, item.version)))
}

/// Claims every payout of `selected` (id, the version it was selected at, pending) for `batch`
/// (those it already holds are kept: a retry). Each claim is put in the same transaction as a
/// check that its payout is still at that version: a payout settled meanwhile is never claimed
/// (and a payout claimed is never settled by its own request: `payouts::settle::Settler`).
/// When another batch holds one, or one changed, every claim of `batch` on `selected` is undone
/// and the payout named. Round trips: ONE read per payout, ONE transaction per 50 claims.
pub async fn claim_all(
    store: &dyn Store,
    handle: &Handle,
    batch: &BatchId,
    selected: &[(PayoutId, u64)],
) -> Result<(), BatchError> {
    let ids: Vec<PayoutId> = selected.iter().map(|(id, _)| id.clone()).collect();
    let mut free = Vec::new();
    for (id, version) in selected {
        match holder(store, handle, id).await? {
            Some((b, _)) if &b == batch => {}
            Some((b, _)) => {
                release(store, handle, batch, &ids).await?;
                return Err(in_batch(id, b));
            }
            None => free.push((id, *version)),
        }
    }
    for chunk in free.chunks(PER_TRANSACTION) {
        let mut ops = Vec::with_capacity(chunk.len() * 2);
        for (id, version) in chunk {
            ops.push(claim_op(handle, batch, id)?);
            ops.push(crate::payouts::hold::payout_unchanged(handle, id, *version));
        }
        match store.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TxConflict { index, .. }) => {
                release(store, handle, batch, &ids).await?;
                let (id, _) = chunk[(index / 2).min(chunk.len() - 1)];
                return Err(taken(store, handle, id, index % 2 == 1).await?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Why `id` could not be claimed: another batch's claim, or the payout changed since it was
/// selected (settled by its own request, or another change: `Busy`, and a retry selects anew).
async fn taken(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
    payout_changed: bool,
) -> Result<BatchError, StoreError> {
    if payout_changed {
        return Ok(match crate::payouts::get(store, handle, id).await? {
            Some(p) if p.status != crate::payouts::PayoutStatus::Pending => {
                BatchError::InvalidState(format!(
                    "Payout {id} was {} meanwhile; only a pending payout is batched.",
                    serde_json::to_value(p.status)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("settled")
                ))
            }
            _ => BatchError::Busy,
        });
    }
    Ok(match holder(store, handle, id).await?.map(|(b, _)| b) {
        Some(b) => in_batch(id, b),
        None => BatchError::Busy,
    })
}

fn in_batch(payout: &PayoutId, batch: BatchId) -> BatchError {
    BatchError::InLiveBatch {
        payout: payout.clone(),
        batch,
    }
}

fn claim_op(handle: &Handle, batch: &BatchId, id: &PayoutId) -> Result<WriteOp, StoreError> {
    let (pk, sk) = crate::payouts::hold::key(handle, id);
    let doc = crate::platform::store::to_doc(&Claim {
        batch_id: batch.clone(),
    })?;
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, doc).with_version(1),
        cond: Cond::Absent,
    })
}

/// Deletes a claim on `payout` left by a canceled batch (a cancel cut before its release):
/// a payout's own status change requires no claim at all (`payouts::settle::Settler`), and a
/// canceled batch is final, so its claim only blocks. An open or paid batch's claim, or one
/// whose batch is not written yet (a creation under way), is kept. Round trips: ONE read, and
/// when a claim exists ONE read of its batch (and ONE delete when canceled).
pub async fn forget_if_canceled(
    store: &dyn Store,
    handle: &Handle,
    payout: &PayoutId,
) -> Result<(), BatchError> {
    let Some((batch, _)) = holder(store, handle, payout).await? else {
        return Ok(());
    };
    match crate::payout_batches::get(store, handle, &batch).await {
        Ok(b) if b.status == crate::payout_batches::BatchStatus::Canceled => {
            Ok(release(store, handle, &batch, std::slice::from_ref(payout)).await?)
        }
        Ok(_) | Err(BatchError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes `batch`'s claims on `ids` (another batch's are left alone), each version-checked.
/// Round trips: ONE read and ONE delete per claim.
pub async fn release(
    store: &dyn Store,
    handle: &Handle,
    batch: &BatchId,
    ids: &[PayoutId],
) -> Result<(), StoreError> {
    for id in ids {
        let Some((holder_id, version)) = holder(store, handle, id).await? else {
            continue;
        };
        if &holder_id != batch {
            continue;
        }
        let (pk, sk) = crate::payouts::hold::key(handle, id);
        let op = WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Version(version),
        };
        match store.write(op).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
