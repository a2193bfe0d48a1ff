//! One-click unsubscribe (RFC 8058): every kind but sign-in and invitation carries
//! `List-Unsubscribe: <{public}/v2/public/unsubscribe?token=…>` with `List-Unsubscribe-Post`.
//! The token names the recipient, the kind and the handle, and is tagged with the keyring
//! (`CtxKeyring::tag`, a label of its own), so it turns off that one kind for that one address
//! with that one handle and nothing else. A `GET` of the link shows a page and changes nothing
//! (mail scanners follow links); the `POST` turns the kind off in the recipient's preferences.

use serde::{Deserialize, Serialize};

use super::{MailError, MailKind, MailRecord, preferences};
use crate::domain::email::Email;
use crate::domain::{CtxKeyring, Handle};
use crate::kernel::state::AppState;
use crate::platform::store::Store;

const LABEL: &str = "tenx mail unsubscribe";

/// What a token unsubscribes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Handle>,
    #[serde(rename = "e")]
    pub email: String,
    #[serde(rename = "k")]
    pub kind: MailKind,
}

pub fn token(keys: &CtxKeyring, scope: &Scope) -> String {
    crate::kernel::signed::token(keys, LABEL, scope)
}

/// The token's scope when its tag holds (and its address and kind are ones a mail carries),
/// else `None`.
pub fn verify(keys: &CtxKeyring, token: &str) -> Option<Scope> {
    let scope: Scope = crate::kernel::signed::verify(keys, LABEL, token)?;
    Email::parse("email", &scope.email).ok()?;
    scope.kind.unsubscribable().then_some(scope)
}

/// The origin every link in a mail is absolute to: this server's origin
/// ([`crate::platform::config::Config::public_origin`]), else the redirect domain with the short
/// links' scheme (a worker's process, which listens nowhere).
pub fn public_base(config: &crate::platform::config::Config) -> String {
    match config.public_origin() {
        Some(url) => url.to_owned(),
        None => format!(
            "{}://{}",
            config.short_url_scheme.as_str(),
            config.redirect_domain
        ),
    }
}

/// The unsubscribe link of `rec`, `None` for sign-in and invitation mail (or a process
/// without the keyring, which is logged: such mail goes out without the header).
pub fn url_for(state: &AppState, rec: &MailRecord) -> Option<String> {
    if !rec.kind.unsubscribable() {
        return None;
    }
    let keys = match state.ctx_keys() {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "no keyring: mail goes out without List-Unsubscribe");
            return None;
        }
    };
    let scope = Scope {
        handle: rec.handle.clone(),
        email: rec.to.clone(),
        kind: rec.kind,
    };
    Some(format!(
        "{}/v2/public/unsubscribe?token={}",
        public_base(&state.config),
        token(keys, &scope)
    ))
}

/// Turns off the token's kind for its recipient. `Invalid` when the token does not verify.
#[tracing::instrument(skip_all)]
pub async fn unsubscribe(
    store: &dyn Store,
    keys: &CtxKeyring,
    token: &str,
) -> Result<Scope, MailError> {
    let scope = verify(keys, token)
        .ok_or_else(|| MailError::Invalid("this unsubscribe link is not valid".into()))?;
    preferences::set(
        store,
        scope.handle.as_ref(),
        &scope.email,
        scope.kind,
        false,
    )
    .await?;
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn a_token_is_scoped_and_cannot_be_altered() {
        let keys = CtxKeyring::parse(&CtxKeyring::generate_spec()).unwrap();
        let scope = Scope {
            handle: Some(Handle::parse("acme").unwrap()),
            email: "ann@example.org".into(),
            kind: MailKind::PayoutSent,
        };
        let t = token(&keys, &scope);
        assert_eq!(verify(&keys, &t), Some(scope.clone()));
        let (payload, tag) = t.split_once('~').unwrap();
        let mut other = scope;
        other.kind = MailKind::CommissionDigest;
        let forged = format!(
            "{}~{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap())
        );
        assert_eq!(verify(&keys, &forged), None, "another kind, the same tag");
        let foreign = CtxKeyring::parse(&CtxKeyring::generate_spec()).unwrap();
        assert_eq!(verify(&foreign, &t), None, "another keyring");
        assert_eq!(verify(&keys, payload), None);
        assert_eq!(verify(&keys, "x~y.z"), None);
    }
}
