//! Personal access tokens: `tenx_pat_…`, bound to one handle and a set of scopes, stored only as
//! a SHA-256 hash. Revocation deletes the hash record, so it takes effect on the next request.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::auth::{Credential, Principal, Role, Scope};
use crate::state::AppState;
use crate::store::keys;

pub const PAT_PREFIX: &str = "tenx_pat_";

/// What is stored under the token's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatRecord {
    pub token_id: String,
    pub handle: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let invalid =
        || ApiError::unauthorized("The personal access token is invalid, expired or revoked.");
    if token.len() > 128 {
        return Err(invalid());
    }
    let (pk, sk) = keys::pat(&hash_token(token));
    // The store skips expired items, so an expired token reads as absent.
    let item = state.store.get(&pk, &sk).await?.ok_or_else(invalid)?;
    let record: PatRecord = item.parse()?;
    Ok(Principal {
        subject: format!("pat:{}", record.token_id),
        // A PAT is judged by its scopes, not a role.
        role: Role::Viewer,
        handles: vec![record.handle],
        credential: Credential::Pat {
            token_id: record.token_id,
            scopes: record.scopes,
        },
    })
}
