//! Partner tokens: `tenx_ptk_…`, bound to one partner of one handle, shown once, stored only as
//! a SHA-256 hash (under the same `P#{sha256}` key family as personal access tokens, so one read
//! authenticates either), revocable and expiring. Two items per token in one transaction: the
//! record under the hash and a listing entry under the handle (`PT#{partnerId}#{tokenId}`, which
//! holds the hash so revocation finds the record). A partner token reads only its partner's
//! data, on the routes `http::auth::access::PARTNER_ROUTES` lists.

use crate::domain::time::Timestamp;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, Credential, Principal, Role};
use crate::domain::{Handle, PartnerId, TokenId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix};
use crate::tokens::hash_token;
use crate::{partners, partners::PartnerStatus};

pub const PREFIX: &str = "tenx_ptk_";
const SECRET_CHARS: usize = 43;
pub const EXPIRES_IN_DAYS_MAX: u32 = 3650;
pub const DEFAULT_EXPIRES_IN_DAYS: u32 = 365;

#[derive(Debug, thiserror::Error)]
pub enum PartnerTokenError {
    #[error("{0}")]
    Invalid(String),
    #[error("Partner {0} was not found.")]
    PartnerNotFound(PartnerId),
    #[error("Partner {0} is suspended: no token is minted for it.")]
    Suspended(PartnerId),
    #[error("Token {0} was not found.")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What is stored (the listing never holds the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerTokenRecord {
    pub token_id: String,
    pub handle: String,
    pub partner_id: PartnerId,
    pub name: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The token's hash, on the listing entry only (revocation's way to the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

fn listing_sk(partner: &PartnerId, token_id: &str) -> String {
    format!("PT#{partner}#{token_id}")
}

fn generate() -> String {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    format!("{PREFIX}{b64}")
}

fn well_formed(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|s| {
        s.len() == SECRET_CHARS
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Mints a token for an active partner. Round trips: the partner read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn mint(
    store: &dyn Store,
    handle: &Handle,
    partner_id: &PartnerId,
    name: &str,
    expires_in_days: Option<u32>,
    by: &str,
) -> Result<(PartnerTokenRecord, String), PartnerTokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(PartnerTokenError::Invalid(
            "name: must be 1 to 100 characters long.".into(),
        ));
    }
    let days = expires_in_days.unwrap_or(DEFAULT_EXPIRES_IN_DAYS);
    if days == 0 || days > EXPIRES_IN_DAYS_MAX {
        return Err(PartnerTokenError::Invalid(format!(
            "expiresInDays: must be 1 to {EXPIRES_IN_DAYS_MAX}."
        )));
    }
    match partners::get(store, handle, partner_id).await? {
        None => return Err(PartnerTokenError::PartnerNotFound(partner_id.clone())),
        Some(p) if p.status == PartnerStatus::Suspended => {
            return Err(PartnerTokenError::Suspended(partner_id.clone()));
        }
        Some(_) => {}
    }
    let (record, token, ops) = plan_mint(handle, partner_id, name, days, by)?;
    store.transact(ops).await?;
    Ok((record, token))
}

/// The writes that mint a token for `partner_id` (its record under the hash and its listing
/// entry), for a caller that commits them in a transaction of its own (a program approval
/// creates the partner and its first token together). `name` and `days` are already checked.
pub fn plan_mint(
    handle: &Handle,
    partner_id: &PartnerId,
    name: &str,
    days: u32,
    by: &str,
) -> Result<(PartnerTokenRecord, String, Vec<WriteOp>), StoreError> {
    let token = generate();
    let hash = hash_token(&token);
    let expires = now_unix() + i64::from(days) * 86_400;
    let record = PartnerTokenRecord {
        token_id: TokenId::new().to_string(),
        handle: handle.to_string(),
        partner_id: partner_id.clone(),
        name: name.to_owned(),
        created_by: by.to_owned(),
        created_at: crate::platform::time::timestamp(),
        expires_at: Timestamp::from_unix(expires),
        hash: None,
    };
    let mut listed = record.clone();
    listed.hash = Some(hash.clone());
    let doc = crate::platform::store::to_doc(&record)?;
    let ops = vec![
        WriteOp::Put {
            item: crate::tokens::secret_item(&hash, doc, Some(expires)),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(
                keys::handle_pk(handle),
                listing_sk(partner_id, &record.token_id),
                crate::platform::store::to_doc(&listed)?,
            )
            .expiring_at(Some(expires)),
            cond: Cond::Absent,
        },
    ];
    Ok((record, token, ops))
}

/// The partner's live tokens (without hashes). Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner_id))]
pub async fn list(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    partner_id: &PartnerId,
) -> Result<Vec<PartnerTokenRecord>, StoreError> {
    let q = Query::prefix(keys::handle_pk(handle), format!("PT#{partner_id}#"), 1000);
    let page = store.query(q).await?;
    page.items
        .iter()
        .map(|i| {
            let mut r: PartnerTokenRecord = i.parse()?;
            r.hash = None;
            Ok(r)
        })
        .collect()
}

/// Revokes a token: both items deleted in ONE transaction; the next request is refused.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn revoke(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    partner_id: &PartnerId,
    token_id: &TokenId,
) -> Result<(), PartnerTokenError> {
    let pk = keys::handle_pk(handle);
    let sk = listing_sk(partner_id, token_id.as_str());
    let item = store.get(&pk, &sk).await?;
    let record: PartnerTokenRecord = item
        .ok_or_else(|| PartnerTokenError::NotFound(token_id.to_string()))?
        .parse()?;
    let hash = record.hash.unwrap_or_default();
    let ops = vec![
        crate::tokens::secret_delete(&hash),
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        },
    ];
    store.transact(ops).await?;
    Ok(())
}

/// A partner token's principal: a viewer of its handle, bound to its partner. ONE read.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    store: &dyn crate::platform::store::Store,
    token: &str,
) -> Result<Principal, AuthError> {
    let invalid =
        || AuthError::Unauthorized("The partner token is invalid, expired or revoked.".into());
    if !well_formed(token) {
        return Err(invalid());
    }
    let item = crate::tokens::secret(store, &hash_token(token))
        .await?
        .ok_or_else(invalid)?;
    let record: PartnerTokenRecord = item.parse()?;
    let live = record.expires_at.unix() > now_unix();
    if !live || record.hash.is_some() {
        return Err(invalid());
    }
    Ok(Principal {
        subject: format!("partner:{}", record.partner_id),
        role: Role::Viewer,
        handles: vec![record.handle],
        credential: Credential::Partner {
            token_id: record.token_id,
            partner_id: record.partner_id,
        },
    })
}
