//! `POST …/payout-batches`: a batch, exactly once per idempotency key. The key's record is
//! written first (naming the batch id), so a creation cut halfway resumes with the same id and
//! the claims it made; a key reused with another request is refused. A creation that fails
//! (nothing to batch, a payout in another live batch) undoes its claims and its key record:
//! nothing is left half-done.

use sha2::Digest;

use crate::domain::{BatchId, Handle, PayoutRunKey};
use crate::payout_batches::model::{Batch, BatchStatus};
use crate::payout_batches::select::{BatchSpec, Selection, select};
use crate::payout_batches::{BatchError, claim};
use crate::payout_methods::{MethodError, MethodType};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyRecord {
    fingerprint: String,
    batch_id: BatchId,
}

/// The batch for `key`: made now (`true`), or the one this key made before (`false`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    store: &dyn Store,
    handle: &Handle,
    key: &PayoutRunKey,
    spec: &BatchSpec,
    by: &str,
) -> Result<(Batch, bool), BatchError> {
    let key_hash = hex::encode(&sha2::Sha256::digest(key.as_str().as_bytes())[..16]);
    let (batch_id, fresh) = key_record(store, handle, &key_hash, spec).await?;
    if !fresh {
        match crate::payout_batches::get(store, handle, &batch_id).await {
            Ok(existing) => return Ok((existing, false)),
            Err(BatchError::NotFound(_)) => {} // cut before its last write: resume
            Err(e) => return Err(e),
        }
    }
    let made = make(store, handle, &batch_id, spec, by).await;
    if let Err(e) = &made
        && !matches!(
            e,
            BatchError::Store(_) | BatchError::Busy | BatchError::Method(MethodError::Store(_))
        )
    {
        forget_key(store, handle, &key_hash).await?;
    }
    made
}

/// The key's record: read, or written now with a new batch id (`true`).
async fn key_record(
    store: &dyn Store,
    handle: &Handle,
    key_hash: &str,
    spec: &BatchSpec,
) -> Result<(BatchId, bool), BatchError> {
    let fingerprint = serde_json::to_string(spec).unwrap_or_default();
    let (pk, sk) = keys::batch_key(handle, key_hash);
    for _ in 0..3 {
        if let Some(item) = store.get(&pk, &sk).await? {
            let r: KeyRecord = item.parse()?;
            if r.fingerprint != fingerprint {
                return Err(BatchError::KeyReused);
            }
            return Ok((r.batch_id, false));
        }
        let r = KeyRecord {
            fingerprint: fingerprint.clone(),
            batch_id: BatchId::new(),
        };
        let item = Item::new(pk.clone(), sk.clone(), crate::platform::store::to_doc(&r)?)
            .expiring_at(Some(crate::platform::store::now_unix() + 365 * 86_400));
        if crate::platform::store::put_new(store, item).await? {
            return Ok((r.batch_id, true));
        }
    }
    Err(BatchError::Busy)
}

async fn forget_key(store: &dyn Store, handle: &Handle, key_hash: &str) -> Result<(), StoreError> {
    let (pk, sk) = keys::batch_key(handle, key_hash);
    let op = WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    };
    store.write(op).await.map(drop)
}

/// Selects, claims, then writes the batch (put-if-absent: a concurrent retry's is answered).
async fn make(
    store: &dyn Store,
    handle: &Handle,
    batch_id: &BatchId,
    spec: &BatchSpec,
    by: &str,
) -> Result<(Batch, bool), BatchError> {
    if spec.method == MethodType::Sepa
        && crate::payout_methods::settings::get(store, handle)
            .await?
            .is_none()
    {
        return Err(BatchError::InvalidState(
            "payout-settings: a SEPA batch needs the debtor (debtorName, debtorIban); set them first."
                .into(),
        ));
    }
    let now_ms = crate::platform::time::now_millis();
    let Selection { items, excluded } = select(store, handle, spec, now_ms, batch_id).await?;
    if items.is_empty() {
        return Err(empty(spec, excluded));
    }
    let selected: Vec<_> = items
        .iter()
        .map(|i| (i.payout_id.clone(), i.payout_version))
        .collect();
    claim::claim_all(store, handle, batch_id, &selected).await?;
    let batch = Batch {
        batch_id: batch_id.clone(),
        method: spec.method,
        status: BatchStatus::Open,
        items,
        excluded,
        execution_date: spec
            .execution_date
            .clone()
            .unwrap_or_else(|| crate::platform::time::now_rfc3339()[..10].to_owned()),
        created_at: crate::platform::time::timestamp(),
        created_by: by.to_owned(),
        reference: None,
        paid_at: None,
        reason: None,
        canceled_at: None,
        version: 1,
    };
    let op = WriteOp::Put {
        item: batch.item(handle)?,
        cond: Cond::Absent,
    };
    let target = format!("{batch_id} ({} payouts)", batch.items.len());
    match crate::kernel::audit::write(store, op, handle, "payout_batch.created", &target).await {
        Ok(()) => Ok((batch, true)),
        Err(StoreError::ConditionFailed { .. }) => {
            crate::payout_batches::get(store, handle, batch_id)
                .await
                .map(|b| (b, false))
        }
        Err(e) => Err(e.into()),
    }
}

/// Nothing to batch: the field, and the first payouts left out with their reasons.
fn empty(spec: &BatchSpec, excluded: Vec<crate::payout_batches::Excluded>) -> BatchError {
    let field = if spec.payout_ids.is_some() {
        "payoutIds"
    } else {
        "method"
    };
    let reasons: Vec<String> = excluded
        .iter()
        .take(10)
        .map(|e| {
            let reason = serde_json::to_value(e.reason).unwrap_or_default();
            format!("{} ({})", e.payout_id, reason.as_str().unwrap_or_default())
        })
        .collect();
    let left_out = match reasons.is_empty() {
        true => "no pending payout".to_owned(),
        false => format!("left out: {}", reasons.join(", ")),
    };
    BatchError::Empty {
        message: format!(
            "{field}: no payout can go into a {} batch; {left_out}.",
            spec.method.as_str()
        ),
        excluded,
    }
}
