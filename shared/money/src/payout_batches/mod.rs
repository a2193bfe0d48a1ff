//! Payout batches (issue 46): pending payouts of one method gathered into the file its rail
//! takes: a SEPA credit transfer (`pain.001.001.03`, EUR), a PayPal Payouts CSV, a Wise batch
//! CSV (several currencies). Created once per idempotency key; each payout claimed by at most
//! one batch that is not canceled (a claim item per payout, put-if-absent, in transactions of
//! at most 100 items); marked paid in one call (each payout paid with the batch's reference,
//! through [`crate::payouts::settle`], so the ledger moves as for a single payout), or
//! canceled (the claims deleted, the payouts free again).
//!
//! Round trips: `create` ONE key read and ONE key write, ONE read per candidate payout and
//! partner method and claim, ONE transaction per 100 claims, ONE batch write; `mark_paid` ONE
//! read and ONE write, then one payout's settlement per payout; `cancel` ONE read and ONE
//! write, then ONE read and ONE delete per claim; a file: ONE read (two for SEPA's debtor).

pub mod claim;
pub mod create;
pub mod csv;
pub mod file;
pub mod model;
pub mod select;
pub mod sepa;
pub mod settle;

use crate::domain::{BatchId, Handle, PayoutId};
use crate::payout_methods::MethodError;
use crate::platform::store::{Query, Store, StoreError, keys};
pub use model::{Batch, BatchStatus, BatchView, Excluded, MAX_PAYOUTS};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("Batch {0} was not found.")]
    NotFound(BatchId),
    /// A request's field, named.
    #[error("{0}")]
    Invalid(String),
    /// No payout to batch: the field (`payoutIds` or `method`) and what was left out.
    #[error("{message}")]
    Empty {
        message: String,
        excluded: Vec<Excluded>,
    },
    #[error("Payout {payout} is already in batch {batch}, which is not canceled.")]
    InLiveBatch { payout: PayoutId, batch: BatchId },
    #[error("{0}")]
    InvalidState(String),
    #[error("This idempotency-key was used for a different payout batch.")]
    KeyReused,
    #[error("The batch is being changed concurrently; retry.")]
    Busy,
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error(transparent)]
    Payout(#[from] crate::payouts::PayoutError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A batch. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, batch = %id))]
pub async fn get(store: &dyn Store, handle: &Handle, id: &BatchId) -> Result<Batch, BatchError> {
    let item = store
        .get(&keys::batches_pk(handle), id.as_str())
        .await?
        .ok_or_else(|| BatchError::NotFound(id.clone()))?;
    Ok(Batch::from_item(&item)?)
}

/// One page of batches, newest first. Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Batch>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::batches_pk(handle), BatchId::PREFIX, limit);
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let batches = page
        .items
        .iter()
        .map(Batch::from_item)
        .collect::<Result<_, _>>()?;
    Ok((batches, page.next))
}
