//! Payout methods (issue 46): how a partner is paid (SEPA, PayPal, Wise, manual), set by the
//! partner's own token or a manager. The details are sealed at rest (AES-256-GCM under
//! `TENX_PAYOUT_KEY`, bound to the handle and partner: [`crate::domain::sealed`]) and answered
//! masked; only a batch's file opens them. A change of details (not the first setting) is
//! audited, sends `partner.updated`, and holds the partner's payouts out of batches until a
//! manager confirms it or 24 hours pass (the account-takeover pattern). The handle's debtor
//! (SEPA files) is [`settings`].
//!
//! Round trips: `get` ONE read; `set` TWO reads (partner, method) and ONE write, or ONE
//! transaction (method, audit entry, `partner.updated` outbox entry) for a change; `confirm`
//! ONE read and ONE transaction. A change also mails the partner's address (as it was then) a
//! "this was not me" link (`payout_method_changed`, staged in the change's transaction), whose
//! confirmation freezes the partner's payouts until an admin lifts it ([`dispute`]).

pub mod confirm;
pub mod digests;
pub mod dispute;
pub mod model;
pub mod set;
pub mod settings;
pub mod stripe_connect;
pub mod tax;
pub mod tax_review;
pub mod tax_words;

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId};
use crate::kernel::state::Unconfigured;
use crate::platform::store::{Query, Store, StoreError, keys};
pub use model::{AuditEntry, Details, Exclusion, MethodRecord, MethodType, MethodView};

#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    #[error("Partner {0} was not found.")]
    PartnerNotFound(PartnerId),
    #[error("Partner {0} has no payout method.")]
    NotSet(PartnerId),
    #[error("Partner {0}'s payout method has no change to confirm.")]
    NothingToConfirm(PartnerId),
    #[error("Partner {0}'s payouts are not frozen.")]
    NotFrozen(PartnerId),
    /// The person who changed the details confirms them (`403 forbidden`): a change is
    /// confirmed by a second person, so one manager never redirects a partner's payouts
    /// unseen.
    #[error(
        "You changed partner {0}'s payout method: another manager confirms the change (or it \
         stops holding payouts after 24 hours)."
    )]
    OwnChange(PartnerId),
    #[error("The payout method is being changed concurrently; retry.")]
    Busy,
    #[error("stored payout details do not open: {0}")]
    Sealed(#[from] crate::domain::sealed::SealError),
    #[error(transparent)]
    Unconfigured(#[from] crate::kernel::state::Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What seals a partner's details: its handle and id, so a ciphertext copied to another
/// partner (or handle) does not open.
pub(crate) fn aad(handle: &Handle, partner: &PartnerId) -> String {
    format!("tenx/payout-method/v1/{handle}/{partner}")
}

/// A partner's method as stored. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<MethodRecord>, StoreError> {
    let (pk, sk) = keys::payout_method(handle, partner);
    let item = store.get(&pk, &sk).await?;
    item.as_ref().map(MethodRecord::from_item).transpose()
}

/// The details in clear, for a batch's file only.
pub fn open(
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    partner: &PartnerId,
    sealed: Option<&str>,
) -> Result<Details, MethodError> {
    let Some(sealed) = sealed else {
        return Ok(Details::Manual);
    };
    let plain = keys?.open(&aad(handle, partner), sealed)?;
    serde_json::from_slice(&plain)
        .map_err(|e| MethodError::Store(StoreError::Corrupt(format!("payout details: {e}"))))
}

/// A partner's audited changes, newest first (at most `limit`). Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn changes(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = Query::prefix(
        keys::payout_method_audit_pk(handle),
        format!("{partner}#"),
        limit,
    );
    q.descending = true;
    store.query(q).await?.parsed().map(|(items, _)| items)
}
