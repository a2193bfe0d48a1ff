//! The handle's pending payouts (`H#{handle}#PAYPEND` / `{payoutId}`): a pointer put in the
//! payout's own transaction and deleted in the one that settles it (paid, failed, canceled),
//! so a batch of "every pending payout" reads what is pending, not every payout ever made.
//!
//! Payouts made before these pointers have none: `tenx ledger rebuild-balances` puts them
//! ([`reindex`], which also drops a pointer left to a settled payout) and `tenx ledger check`
//! counts both ([`unindexed`]). Readers trust the payout, not the pointer.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use crate::domain::{Handle, PayoutId};
use crate::payouts::model::{Payout, PayoutStatus, every, get_many, pointed_ids};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, for_each_item, keys};

/// The pointer to a new (pending) payout: an unconditional put.
pub(crate) fn entry_op(handle: &Handle, id: &PayoutId) -> WriteOp {
    WriteOp::Put {
        item: Item::new(
            keys::payouts_pending_pk(handle),
            id.as_str(),
            serde_json::json!({}),
        ),
        cond: Cond::None,
    }
}

/// The pointer's removal, in the transaction that moves the payout out of pending.
pub(crate) fn leave_op(handle: &Handle, id: &PayoutId) -> WriteOp {
    WriteOp::Delete {
        pk: keys::payouts_pending_pk(handle),
        sk: id.to_string(),
        cond: Cond::None,
    }
}

/// Every pending payout of the handle, oldest first. Round trips: ONE query per 1,000
/// pointers, then ONE read per pending payout, 16 at a time.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn all(store: &dyn Store, handle: &Handle) -> Result<Vec<Payout>, StoreError> {
    let ids = pointers(store, handle).await?;
    let payouts = get_many(store, handle, ids).await?;
    Ok(payouts
        .into_iter()
        .filter(|p| p.status == PayoutStatus::Pending)
        .collect())
}

/// Whether any payout of the handle waits to be paid or is being sent through its provider (the
/// pending list points to both until they settle). Round trips: ONE query per 1,000 pointers,
/// then ONE read per pointer, 16 at a time.
pub async fn any_open(store: &dyn Store, handle: &Handle) -> Result<bool, StoreError> {
    let ids = pointers(store, handle).await?;
    let payouts = get_many(store, handle, ids).await?;
    Ok(payouts
        .iter()
        .any(|p| matches!(p.status, PayoutStatus::Pending | PayoutStatus::Sending)))
}

/// The ids the pending list points to, in id order. Round trips: ONE query per 1,000.
async fn pointers(store: &dyn Store, handle: &Handle) -> Result<Vec<PayoutId>, StoreError> {
    let mut ids = Vec::new();
    let query = Query::all(keys::payouts_pending_pk(handle));
    for_each_item(store, query, |item| {
        ids.extend(pointed_ids(std::slice::from_ref(item))?);
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    Ok(ids)
}

/// What the pointers should change: pending payouts without one, pointers without a pending
/// payout. Round trips: the payouts and the pointers, each in pages of 1,000.
async fn differences(
    store: &dyn Store,
    handle: &Handle,
) -> Result<(Vec<PayoutId>, Vec<PayoutId>), StoreError> {
    let payouts = every(store, handle).await?.into_iter();
    let pending: BTreeSet<PayoutId> = payouts
        .filter(|p| p.status == PayoutStatus::Pending)
        .map(|p| p.payout_id)
        .collect();
    let pointed: BTreeSet<PayoutId> = pointers(store, handle).await?.into_iter().collect();
    let missing = pending.difference(&pointed).cloned().collect();
    let stale = pointed.difference(&pending).cloned().collect();
    Ok((missing, stale))
}

/// How many pointers are missing or left to a settled payout.
pub async fn unindexed(store: &dyn Store, handle: &Handle) -> Result<usize, StoreError> {
    let (missing, stale) = differences(store, handle).await?;
    Ok(missing.len() + stale.len())
}

/// Puts each missing pointer and deletes each stale one: ONE unconditional write each
/// (idempotent; a payout settled meanwhile may leave a pointer, which readers skip and the
/// next repair drops). Answers how many it changed.
pub async fn reindex(store: &dyn Store, handle: &Handle) -> Result<usize, StoreError> {
    let (missing, stale) = differences(store, handle).await?;
    for id in &missing {
        store.write(entry_op(handle, id)).await?;
    }
    for id in &stale {
        store.write(leave_op(handle, id)).await?;
    }
    Ok(missing.len() + stale.len())
}
