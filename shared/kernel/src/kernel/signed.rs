//! A signed-scope token: a scope (what the token may do) as JSON, base64url, `~`, and its tag by
//! the ctx keyring under the token's own label (`CtxKeyring::tag`), so a token of one kind, or
//! of another scope, is never taken for another. Used by the mail's unsubscribe and "this was
//! not me" links and the embed's tokens (`embed`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::CtxKeyring;

/// `scope`'s token under `label`.
pub fn token<S: Serialize>(keys: &CtxKeyring, label: &str, scope: &S) -> String {
    let payload = serde_json::to_vec(scope).expect("a scope serializes");
    let tag = keys.tag(label, &payload);
    format!("{}~{tag}", URL_SAFE_NO_PAD.encode(&payload))
}

/// The token's scope when its tag under `label` holds (constant-time), else `None`.
pub fn verify<S: DeserializeOwned>(keys: &CtxKeyring, label: &str, token: &str) -> Option<S> {
    let (payload, tag) = token.split_once('~')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    if !keys.verify_tag(label, &payload, tag) {
        return None;
    }
    serde_json::from_slice(&payload).ok()
}
