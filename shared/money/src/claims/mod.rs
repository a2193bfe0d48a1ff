//! Claims (issue 63): a partner's "my sale was not tracked", answered with the evidence 10x
//! already holds ([`evidence`]: the signed click against the sale, what ties it to the buyer,
//! the buyer's binding, who the sale went to and why, the risk), a proposal in words, and the
//! merchant's signed decision by the program's deadline ([`decide`]; an overdue claim is
//! decided by the program's rule, [`overdue`]).
//!
//! Items (this module owns them): the claim `H#{handle}#CLM` / `{claimId}` and its copy in
//! `H#{handle}#CLMP#{partner}`; the partner's one open claim per sale `H#{handle}#CLMO` /
//! `{partner}#{sale}` (put-if-absent with the claim, deleted with its decision); the partner's
//! claims of the day, a capped counter `H#{handle}#CLMN#{partner}` / `{day}`; the overdue
//! index `CLMDUE` / `{deadlineMs:013}#{handle}#{claimId}`.
//!
//! Exactly once: opening is ONE transaction (claim, copy, open-sale lock, day counter, due
//! entry, audit entry, `claim.opened`); a decision is ONE transaction too (the claim at the
//! version read, its `claim` line put-if-absent under an id derived from the claim, the
//! reassigned line's reversal, the lock and due entry deleted, audit, `claim.decided`), so a
//! decision cut anywhere leaves nothing, and a retry or a racing approval finds the line and
//! the decision there, never a second one.

pub mod attachments;
pub mod decide;
pub mod evidence;
pub mod model;
pub mod names;
pub mod open;
pub mod overdue;
pub mod reassign;
pub mod signed;

use crate::domain::{ClaimId, Handle, PartnerId};
use crate::platform::store::{Query, Store, StoreError, keys};
pub use model::{Claim, Status, Verdict};

/// The most claims one partner may open on one UTC day.
pub const MAX_PER_DAY: i64 = 20;

/// Why a claim request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Bad input; the message starts with the field.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("Claim {0} is decided already.")]
    Decided(ClaimId),
    /// The partner, by its name ([`names`]).
    #[error("{0} opened as many claims today as a partner may ({1}); try tomorrow.")]
    TooMany(String, i64),
    /// The partner the sale is credited to, by its name ([`names`]).
    #[error("The sale is already credited to {0}.")]
    AlreadyCredited(String),
    #[error("The claim is being decided concurrently; retry.")]
    Busy,
    /// The decider acts for a partner the decision concerns (`403 forbidden`).
    #[error(transparent)]
    OwnPartner(#[from] crate::people::acting::OwnPartner),
    /// The request is well formed but the program cannot do it now (`409 invalid_state`).
    #[error("{0}")]
    NotPossible(String),
    #[error("claims need the ctx and statement keys")]
    Unconfigured,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::kernel::state::Unconfigured> for ClaimError {
    fn from(_: crate::kernel::state::Unconfigured) -> Self {
        ClaimError::Unconfigured
    }
}

/// One claim. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, claim = %id))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &ClaimId,
) -> Result<Option<Claim>, StoreError> {
    let item = store.get(&keys::claims_pk(handle), id.as_str()).await?;
    item.map(|i| {
        let mut c: Claim = i.parse()?;
        c.version = i.version;
        Ok(c)
    })
    .transpose()
}

/// A page of claims, newest first: the handle's, or one partner's (its own partition); `status`
/// filters the page. Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
    status: Option<Status>,
    (limit, after): (usize, Option<String>),
) -> Result<(Vec<Claim>, Option<String>), StoreError> {
    let pk = match partner {
        Some(p) => keys::partner_claims_pk(handle, p),
        None => keys::claims_pk(handle),
    };
    let mut q = Query::all(pk);
    q.limit = limit;
    q.after = after;
    q.descending = true;
    let (items, next) = store.query(q).await?.parsed::<Claim>()?;
    let items = items
        .into_iter()
        .filter(|c| status.is_none_or(|s| c.status == s))
        .collect();
    Ok((items, next))
}
