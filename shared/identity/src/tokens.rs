//! Personal access tokens: `tenx_pat_…`, bound to one handle and a set of scopes, stored only as
//! a SHA-256 hash. Two items per token, written and deleted in one transaction: the record under
//! the hash (`P#{sha256}`, read on every authenticated request) and a listing entry under the
//! handle (`H#{handle}` / `T#{tokenId}`, which also holds the hash so revocation can find the
//! record). Both carry the token's expiry; revocation deletes both, so it takes effect on the
//! very next request (nothing caches a token).

use crate::domain::time::Timestamp;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{AuthError, Credential, Principal, Role, Scope};
use crate::domain::{Handle, TokenId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix};

pub const PAT_PREFIX: &str = "tenx_pat_";
/// Random bytes in a token (256 bits, from the OS RNG).
const SECRET_BYTES: usize = 32;
/// Their unpadded base64url length.
const SECRET_CHARS: usize = 43;

pub const NAME_MAX_CHARS: usize = 100;
pub const EXPIRES_IN_DAYS_MAX: u32 = 3650;

/// Why a token request was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A bad field of `POST …/tokens`, named in the message (`400 invalid_request`).
    #[error("{0}")]
    Invalid(String),
    #[error("Token {0} was not found.")]
    NotFound(String),
    /// A scope beyond the minting person's role (`403 insufficient_role`).
    #[error(
        "Minting a token with the {} scope requires the {} role or higher.",
        scope.as_str(),
        required.as_str()
    )]
    BeyondRole { scope: Scope, required: Role },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What is stored under the token's hash (and returned by the list, which never has the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatRecord {
    pub token_id: TokenId,
    pub handle: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl PatRecord {
    /// The person who minted the token from their session (`createdBy` is their user id),
    /// on whose behalf it acts; a token minted with a JWT whose subject is no user's id
    /// names none.
    pub fn minted_by(&self) -> Option<crate::domain::UserId> {
        crate::domain::UserId::parse(&self.created_by).ok()
    }

    /// Unix seconds of the expiry. A stored expiry that is not a time fails the record's read
    /// (the token is refused: fail closed).
    fn expires_unix(&self) -> Option<i64> {
        self.expires_at.as_ref().map(Timestamp::unix)
    }
}

/// The per-handle listing entry: the record plus the hash of its token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatIndexEntry {
    #[serde(flatten)]
    record: PatRecord,
    token_hash: String,
}

/// A validated request to mint a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatSpec {
    pub name: String,
    /// Sorted, without duplicates, never empty.
    pub scopes: Vec<Scope>,
    pub expires_in_days: Option<u32>,
}

impl PatSpec {
    /// Validates the fields of `POST …/tokens`, naming the offending one.
    pub fn new(
        name: String,
        mut scopes: Vec<Scope>,
        expires_in_days: Option<u32>,
    ) -> Result<Self, TokenError> {
        let chars = name.chars().count();
        if name.trim().is_empty() || chars > NAME_MAX_CHARS {
            return Err(TokenError::Invalid(format!(
                "name: must be 1 to {NAME_MAX_CHARS} characters and not blank."
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(TokenError::Invalid(
                "name: must not contain control characters.".into(),
            ));
        }
        if scopes.is_empty() {
            return Err(TokenError::Invalid(format!(
                "scopes: give at least one of {}.",
                Scope::ALL.map(Scope::as_str).join(", ")
            )));
        }
        scopes.sort();
        scopes.dedup();
        if let Some(days) = expires_in_days
            && !(1..=EXPIRES_IN_DAYS_MAX).contains(&days)
        {
            return Err(TokenError::Invalid(format!(
                "expiresInDays: must be from 1 to {EXPIRES_IN_DAYS_MAX}."
            )));
        }
        Ok(Self {
            name,
            scopes,
            expires_in_days,
        })
    }
}

/// The bearer-secret item of a token's hash: ONE table of secrets for every kind of token
/// (personal here, a partner's in `partners::tokens`), so authenticating is ONE read.
pub fn secret_item(token_hash: &str, doc: serde_json::Value, expires_unix: Option<i64>) -> Item {
    let (pk, sk) = keys::pat(token_hash);
    Item::new(pk, sk, doc).expiring_at(expires_unix)
}

/// The delete of a token's bearer-secret item (revocation; a missing item is fine).
pub fn secret_delete(token_hash: &str) -> WriteOp {
    let (pk, sk) = keys::pat(token_hash);
    WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    }
}

/// The bearer-secret item of a token's hash, if any. Round trips: ONE read.
pub async fn secret(
    store: &dyn crate::platform::store::Store,
    token_hash: &str,
) -> Result<Option<Item>, crate::platform::store::StoreError> {
    let (pk, sk) = keys::pat(token_hash);
    store.get(&pk, &sk).await
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token: the prefix (so secret scanners and our router recognize it) and 32 random
/// bytes from the OS RNG, base64url without padding.
pub fn generate_token() -> String {
    let mut secret = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    format!(
        "{PAT_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    )
}

/// Shape check before any store read, so garbage costs nothing.
fn well_formed(token: &str) -> bool {
    token.strip_prefix(PAT_PREFIX).is_some_and(|secret| {
        secret.len() == SECRET_CHARS
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Who mints a token: its subject and role, and the role each scope needs (the API's access
/// table: the highest role any route the scope grants requires; `None` when no route uses it).
pub struct Minter<'a> {
    pub subject: &'a str,
    pub role: Role,
    pub role_for_scope: fn(Scope) -> Option<Role>,
}

/// Mints a token for `handle` by `minter`, refusing any scope beyond the minter's role, so a
/// token never does more than the person who made it could: no escalation through a token.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn mint(
    store: &dyn Store,
    handle: &Handle,
    minter: &Minter<'_>,
    spec: PatSpec,
) -> Result<(PatRecord, String), TokenError> {
    for &scope in &spec.scopes {
        if let Some(required) = (minter.role_for_scope)(scope)
            && minter.role < required
        {
            return Err(TokenError::BeyondRole { scope, required });
        }
    }
    create(store, handle, minter.subject, spec).await
}

/// Mints a token for `handle`; returns its record and the token, which is never seen again.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    store: &dyn Store,
    handle: &Handle,
    created_by: &str,
    spec: PatSpec,
) -> Result<(PatRecord, String), TokenError> {
    let token = generate_token();
    let token_hash = hash_token(&token);
    let now = now_unix();
    let expires_unix = spec
        .expires_in_days
        .map(|days| now + i64::from(days) * 86_400);
    let record = PatRecord {
        // Time-ordered (v7), so the listing (sorted by id) is in creation order.
        token_id: TokenId::new(),
        handle: handle.as_str().to_owned(),
        name: spec.name,
        scopes: spec.scopes,
        created_by: created_by.to_owned(),
        created_at: Timestamp::from_unix(now),
        expires_at: expires_unix.map(Timestamp::from_unix),
    };
    let secret_item = secret_item(
        &token_hash,
        crate::platform::store::to_doc(&record)?,
        expires_unix,
    );
    let entry = PatIndexEntry {
        record: record.clone(),
        token_hash,
    };
    let index_item = Item::new(
        keys::handle_pk(handle),
        keys::pat_index_sk(record.token_id.as_str()),
        crate::platform::store::to_doc(&entry)?,
    )
    .expiring_at(expires_unix);
    store
        .transact(vec![
            WriteOp::Put {
                item: secret_item,
                cond: Cond::Absent,
            },
            WriteOp::Put {
                item: index_item,
                cond: Cond::Absent,
            },
        ])
        .await?;
    Ok((record, token))
}

/// One page of a handle's live tokens (expired and revoked ones are gone), oldest first.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<PatRecord>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::handle_pk(handle), keys::PAT_INDEX_SK_PREFIX, limit);
    q.after = after;
    let page = store.query(q).await?;
    let records = page
        .items
        .iter()
        .map(|i| i.parse::<PatIndexEntry>().map(|e| e.record))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((records, page.next))
}

/// The person who minted `handle`'s token `token_id` ([`PatRecord::minted_by`]); `None` when
/// a machine's JWT minted it, or it is revoked or expired. Round trips: ONE read.
pub async fn minted_by(
    store: &dyn Store,
    handle: &Handle,
    token_id: &TokenId,
) -> Result<Option<crate::domain::UserId>, StoreError> {
    let sk = keys::pat_index_sk(token_id.as_str());
    let item = store.get(&keys::handle_pk(handle), &sk).await?;
    let record = item.map(|i| i.parse::<PatIndexEntry>()).transpose()?;
    Ok(record.and_then(|e| e.record.minted_by()))
}

/// Revokes a token of `handle` at once; `404 not_found` when it does not exist (any more).
#[tracing::instrument(skip_all, fields(handle = %handle, token = %token_id))]
pub async fn revoke(
    store: &dyn Store,
    handle: &Handle,
    token_id: &TokenId,
) -> Result<(), TokenError> {
    let not_found = || TokenError::NotFound(token_id.to_string());
    let pk = keys::handle_pk(handle);
    let sk = keys::pat_index_sk(token_id.as_str());
    let entry: PatIndexEntry = store.get(&pk, &sk).await?.ok_or_else(not_found)?.parse()?;
    let ops = vec![
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Exists,
        },
        secret_delete(&entry.token_hash),
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        // Revoked (or expired) concurrently: it is gone either way.
        Err(StoreError::TxConflict { .. }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Resolves a `tenx_pat_…` bearer token to its principal: one handle, its scopes.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    store: &dyn crate::platform::store::Store,
    token: &str,
) -> Result<Principal, AuthError> {
    let invalid = || {
        AuthError::Unauthorized("The personal access token is invalid, expired or revoked.".into())
    };
    if !well_formed(token) {
        return Err(invalid());
    }
    let (pk, sk) = keys::pat(&hash_token(token));
    // The store skips expired items; the record's own expiry is checked too, so a token never
    // outlives its `expiresAt` even if an item were written without its TTL.
    let item = store.get(&pk, &sk).await?.ok_or_else(invalid)?;
    let record: PatRecord = item.parse()?;
    if record.expires_unix().is_some_and(|at| at <= now_unix()) {
        return Err(invalid());
    }
    let minted_by = record.minted_by();
    Ok(Principal {
        subject: format!("pat:{}", record.token_id),
        // A PAT is judged by its scopes, not a role.
        role: Role::Viewer,
        handles: vec![record.handle],
        credential: Credential::Pat {
            minted_by,
            token_id: record.token_id,
            scopes: record.scopes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_well_formed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(PAT_PREFIX));
        assert_eq!(a.len(), PAT_PREFIX.len() + SECRET_CHARS);
        assert!(well_formed(&a));
        assert!(!well_formed(&a[..a.len() - 1]));
        assert!(!well_formed(&format!("{a}x")));
        assert!(!well_formed(&a.replace(PAT_PREFIX, "tenx_pot_")));
        let mut bad = a.clone();
        bad.replace_range(PAT_PREFIX.len()..PAT_PREFIX.len() + 1, "+");
        assert!(!well_formed(&bad));
        // The hash is of the whole token, hex SHA-256.
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn token_ids_are_checked_before_they_reach_a_key() {
        let id = TokenId::new();
        let valid = |raw: &str| TokenId::parse(raw).is_ok();
        assert!(valid(id.as_str()));
        assert!(!valid("tok_x#y"));
        assert!(!valid(&id.as_str().to_uppercase()));
        assert!(!valid(&format!("{id}0")));
        assert!(!valid("whatever"));
    }

    #[test]
    fn spec_validation_names_the_field() {
        let ok = PatSpec::new(
            "ci".into(),
            vec![Scope::WebhooksWrite, Scope::LinksRead, Scope::LinksRead],
            Some(30),
        )
        .unwrap();
        assert_eq!(ok.scopes, vec![Scope::LinksRead, Scope::WebhooksWrite]);
        let err = |name: &str, scopes: Vec<Scope>, days| {
            PatSpec::new(name.into(), scopes, days)
                .unwrap_err()
                .to_string()
        };
        assert!(err("", vec![Scope::LinksRead], None).starts_with("name:"));
        assert!(err("   ", vec![Scope::LinksRead], None).starts_with("name:"));
        assert!(err(&"x".repeat(101), vec![Scope::LinksRead], None).starts_with("name:"));
        assert!(err("a\nb", vec![Scope::LinksRead], None).starts_with("name:"));
        assert!(PatSpec::new("é".repeat(100), vec![Scope::LinksRead], None).is_ok());
        assert!(err("ci", vec![], None).starts_with("scopes:"));
        assert!(err("ci", vec![Scope::LinksRead], Some(0)).starts_with("expiresInDays:"));
        assert!(err("ci", vec![Scope::LinksRead], Some(3651)).starts_with("expiresInDays:"));
        assert!(PatSpec::new("ci".into(), vec![Scope::LinksRead], Some(3650)).is_ok());
    }

    #[test]
    fn a_token_acts_for_the_person_who_minted_it_when_a_person_did() {
        let user = crate::domain::UserId::new();
        let mut r = PatRecord {
            token_id: TokenId::new(),
            handle: "acme".into(),
            name: "ci".into(),
            scopes: vec![Scope::CommissionsWrite],
            created_by: user.to_string(),
            created_at: crate::platform::time::timestamp(),
            expires_at: None,
        };
        assert_eq!(r.minted_by(), Some(user));
        // Minted with a machine's JWT: nobody in particular, as before.
        r.created_by = "tester".into();
        assert_eq!(r.minted_by(), None);
    }

    #[test]
    fn unreadable_expiry_fails_closed() {
        let mut r = PatRecord {
            token_id: TokenId::new(),
            handle: "acme".into(),
            name: "ci".into(),
            scopes: vec![Scope::LinksRead],
            created_by: "u".into(),
            created_at: crate::platform::time::timestamp(),
            expires_at: None,
        };
        assert_eq!(r.expires_unix(), None);
        r.expires_at = Some(Timestamp::literal("2030-01-01T00:00:00Z"));
        assert_eq!(r.expires_unix(), Some(1_893_456_000));
        // A stored expiry that is not a time: the record does not read, so the token is refused.
        let mut stored = serde_json::to_value(&r).unwrap();
        stored["expiresAt"] = "tomorrow".into();
        assert!(serde_json::from_value::<PatRecord>(stored).is_err());
    }
}
