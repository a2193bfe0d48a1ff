//! Commissions: partners, a versioned plan per campaign, exchange-rate snapshots, an
//! exactly-once append-only ledger (holds, review, caps, reversals and clawbacks), balances and
//! payouts with statements. `docs/commissions.md` is the guide.
//!
//! Exactly once: every ledger line has an id derived from what caused it (the conversion, the
//! reversal, the campaign's day), written put-if-absent in the same transaction as its counters
//! and its event's outbox entry. The ledger's sink runs in the events worker, off the request
//! path.

pub mod accrue;
pub mod balances;
pub mod clicks;
pub mod confidence;
pub mod due;
pub mod earn;
pub mod emit;
pub mod fx;
pub mod fx_resolve;
pub mod ledger;
pub mod partner_tokens;
pub mod partners;
pub mod payout;
pub mod payouts;
pub mod plan;
pub mod plans;
pub mod postbacks;
pub mod preview;
pub mod reversal;
pub mod review;
pub mod settle;
pub mod sink;
pub mod statement;
pub mod verify;
pub mod view;

use crate::domain::{CommissionId, Handle, PartnerId};
use crate::state::AppState;
use crate::store::{MAX_PAGE, Query, StoreError, for_each_item};
use ledger::{Commission, Kind, Status};
use std::ops::ControlFlow;

#[derive(Debug, thiserror::Error)]
pub enum CommissionError {
    #[error("Commission {0} was not found.")]
    NotFound(CommissionId),
    #[error("{0}")]
    InvalidState(String),
    #[error("partnerId: partner {0} does not exist.")]
    UnknownPartner(PartnerId),
    #[error("The commission is being changed concurrently; retry.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, commission = %id))]
pub async fn get(
    state: &AppState,
    handle: &Handle,
    id: &CommissionId,
) -> Result<Option<Commission>, StoreError> {
    let item = state
        .store
        .get(&ledger::pk(handle.as_str()), id.as_str())
        .await?;
    item.as_ref().map(Commission::from_item).transpose()
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub campaign_id: Option<crate::domain::CampaignId>,
    pub partner_id: Option<PartnerId>,
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    /// `createdAt` bounds (unix ms, inclusive).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Filter {
    pub fn keeps(&self, c: &Commission) -> bool {
        let created = c.commission_id.unix_millis();
        self.campaign_id
            .as_ref()
            .is_none_or(|x| c.campaign_id.as_ref() == Some(x))
            && self.partner_id.as_ref().is_none_or(|x| &c.partner_id == x)
            && self.status.is_none_or(|s| c.status == s)
            && self.kind.is_none_or(|k| c.kind == k)
            && self.from_ms.is_none_or(|t| created >= t)
            && self.to_ms.is_none_or(|t| created <= t)
    }
}

/// One page of the ledger, newest first, filtered. Round trips: ONE query of `limit` lines (a
/// page may hold fewer matches than `limit`; `next` says where to go on).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    state: &AppState,
    handle: &Handle,
    filter: &Filter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Commission>, Option<String>), StoreError> {
    let mut q = Query::prefix(ledger::pk(handle.as_str()), "com_", limit);
    q.after = after;
    q.descending = true;
    let page = state.store.query(q).await?;
    let mut out = Vec::new();
    for item in &page.items {
        let c = Commission::from_item(item)?;
        if filter.keeps(&c) {
            out.push(c);
        }
    }
    Ok((out, page.next))
}

/// Every line of a handle that `keep` accepts (payout runs, the rate resolution: they need the
/// lines themselves). Round trips: one query per 1,000 lines.
pub async fn scan(
    state: &AppState,
    handle: &Handle,
    keep: impl Fn(&Commission) -> bool,
) -> Result<Vec<Commission>, StoreError> {
    let mut out = Vec::new();
    for_each_line(state, handle, |c| {
        if keep(&c) {
            out.push(c);
        }
    })
    .await?;
    Ok(out)
}

/// Hands every line of a handle to `each`, one page at a time. Callers that only sum the lines
/// (balances, the funnel's amounts) fold them here instead of collecting the whole ledger: a
/// `Vec` of every line grew to an 11 MiB buffer in the load benchmark's commission run, at
/// every funnel request, and freeing it raised glibc's mmap threshold so far that each malloc
/// arena then kept ~10 MiB of free memory (BENCHMARKS.md, "Where the memory goes").
/// Round trips: one query per 1,000 lines.
pub async fn for_each_line(
    state: &AppState,
    handle: &Handle,
    mut each: impl FnMut(Commission),
) -> Result<(), StoreError> {
    let query = Query::prefix(ledger::pk(handle.as_str()), "com_", MAX_PAGE);
    for_each_item(state.store.as_ref(), query, |item| {
        each(Commission::from_item(item)?);
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await
}
