//! The embedded referral dashboard (issue 61): the merchant's server mints a short-lived token
//! for one partner; `<tenx-referrals token="…">` (`/embed.js`) shows that partner's links,
//! earnings and payouts inside the merchant's own app with it.
//!
//! A token is a signed scope (`kernel::signed`: handle, partner, expiry, under a label of its
//! own), so nothing is stored per token; it is read only from the `x-embed-token` header of
//! `GET /v2/embed/referrals` (never as a bearer, so no other route takes it), expires within an
//! hour, and is refused once its partner is suspended (checked on every use).

pub mod referrals;

use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{CtxKeyring, Handle, PartnerId};
use crate::partners::PartnerStatus;
use crate::platform::store::{Store, StoreError};

/// What every embed token starts with (so it is recognised in logs and secret scanners).
pub const PREFIX: &str = "tenx_emb_";
const LABEL: &str = "embed/v1";
/// The lifetime when none is asked for, and the bounds of one asked for.
pub const DEFAULT_TTL_SECS: i64 = 900;
pub const MIN_TTL_SECS: i64 = 60;
pub const MAX_TTL_SECS: i64 = 3_600;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("Partner {0} was not found.")]
    PartnerNotFound(PartnerId),
    #[error("Partner {0} is suspended: its referral dashboard cannot be shown.")]
    Suspended(PartnerId),
    #[error("ttlSeconds must be {MIN_TTL_SECS} to {MAX_TTL_SECS}.")]
    Ttl,
    #[error("This embed token is not valid or has expired; ask the app for a new one.")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The token's scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Scope {
    h: Handle,
    p: PartnerId,
    /// Unix seconds.
    exp: i64,
}

/// A minted token and when it expires.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Minted {
    pub token: String,
    pub expires_at: Timestamp,
}

/// A token for `partner` (active) living `ttl_secs` (default 15 minutes, at most an hour).
/// Round trips: ONE read of the partner.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn mint(
    store: &dyn Store,
    keys: &CtxKeyring,
    handle: &Handle,
    partner: &PartnerId,
    ttl_secs: Option<i64>,
) -> Result<Minted, EmbedError> {
    let ttl = ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&ttl) {
        return Err(EmbedError::Ttl);
    }
    active(store, handle, partner).await?;
    let exp = crate::platform::time::now_millis() / 1000 + ttl;
    let scope = Scope {
        h: handle.clone(),
        p: partner.clone(),
        exp,
    };
    Ok(Minted {
        token: format!(
            "{PREFIX}{}",
            crate::kernel::signed::token(keys, LABEL, &scope)
        ),
        expires_at: Timestamp::from_millis(exp * 1000),
    })
}

/// The handle and partner of a token that holds now, whose partner is still active. Round
/// trips: ONE read of the partner.
pub async fn verify(
    store: &dyn Store,
    keys: &CtxKeyring,
    token: &str,
) -> Result<(Handle, PartnerId), EmbedError> {
    let signed = token.strip_prefix(PREFIX).ok_or(EmbedError::Refused)?;
    let scope: Scope =
        crate::kernel::signed::verify(keys, LABEL, signed).ok_or(EmbedError::Refused)?;
    if scope.exp <= crate::platform::time::now_millis() / 1000 {
        return Err(EmbedError::Refused);
    }
    match active(store, &scope.h, &scope.p).await {
        Ok(()) => Ok((scope.h, scope.p)),
        Err(EmbedError::Store(e)) => Err(EmbedError::Store(e)),
        Err(_) => Err(EmbedError::Refused),
    }
}

async fn active(store: &dyn Store, handle: &Handle, partner: &PartnerId) -> Result<(), EmbedError> {
    let found = crate::partners::get(store, handle, partner)
        .await?
        .ok_or_else(|| EmbedError::PartnerNotFound(partner.clone()))?;
    match found.status {
        PartnerStatus::Active => Ok(()),
        PartnerStatus::Suspended => Err(EmbedError::Suspended(partner.clone())),
    }
}
