//! A payout's claim by a live batch: `H#{handle}#BATCLAIM` / `{payoutId}` holding the batch id,
//! put-if-absent in transactions of at most 100 items, deleted when its batch is canceled. A
//! paid batch keeps its claims (its payouts are paid: no batch takes them again).

use serde::{Deserialize, Serialize};

use crate::domain::{BatchId, Handle, PayoutId};
use crate::payout_batches::BatchError;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// DynamoDB's limit of items per transaction.
const PER_TRANSACTION: usize = 100;

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
    let (pk, sk) = keys::batch_claim(handle, payout);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    Ok(Some((item.parse::<Claim>()?.batch_id, item.version)))
}

/// Claims every payout of `ids` for `batch` (those it already holds are kept: a retry). When
/// another batch holds one, every claim of `batch` on `ids` is undone and the payout named.
/// Round trips: ONE read per payout, ONE transaction per 100 claims.
pub async fn claim_all(
    store: &dyn Store,
    handle: &Handle,
    batch: &BatchId,
    ids: &[PayoutId],
) -> Result<(), BatchError> {
    let mut free = Vec::new();
    for id in ids {
        match holder(store, handle, id).await? {
            Some((b, _)) if &b == batch => {}
            Some((b, _)) => {
                release(store, handle, batch, ids).await?;
                return Err(in_batch(id, b));
            }
            None => free.push(id.clone()),
        }
    }
    for chunk in free.chunks(PER_TRANSACTION) {
        let ops = chunk
            .iter()
            .map(|id| claim_op(handle, batch, id))
            .collect::<Result<_, _>>()?;
        match store.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TxConflict { index, .. }) => {
                release(store, handle, batch, ids).await?;
                let id = &chunk[index.min(chunk.len() - 1)];
                let other = holder(store, handle, id).await?.map(|(b, _)| b);
                return Err(match other {
                    Some(b) => in_batch(id, b),
                    None => BatchError::Busy,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn in_batch(payout: &PayoutId, batch: BatchId) -> BatchError {
    BatchError::InLiveBatch {
        payout: payout.clone(),
        batch,
    }
}

fn claim_op(handle: &Handle, batch: &BatchId, id: &PayoutId) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::batch_claim(handle, id);
    let doc = crate::platform::store::to_doc(&Claim {
        batch_id: batch.clone(),
    })?;
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, doc).with_version(1),
        cond: Cond::Absent,
    })
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
        let (pk, sk) = keys::batch_claim(handle, id);
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
