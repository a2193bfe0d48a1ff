//! The "this was not me" link of `payout_method_changed` (issue 59):
//! `{public}/v2/public/payout-dispute?token=…`, its token naming the handle and the partner and
//! tagged with the ctx keyring under a label of its own (so neither an unsubscribe token nor a
//! token of another partner or handle is taken). A `GET` shows a button and changes nothing
//! (scanners follow links); the `POST` freezes the partner's payouts (`payout_methods::dispute`).
//! The link is written when the mail is rendered, from the record's handle and `partnerId`.

use serde::{Deserialize, Serialize};

use crate::domain::{CtxKeyring, Handle, PartnerId};
use crate::kernel::state::AppState;

const LABEL: &str = "tenx payout dispute";

/// What a token freezes: one partner of one handle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(rename = "h")]
    pub handle: Handle,
    #[serde(rename = "p")]
    pub partner: PartnerId,
}

pub fn token(keys: &CtxKeyring, scope: &Scope) -> String {
    crate::kernel::signed::token(keys, LABEL, scope)
}

/// The token's scope when its tag holds (constant-time), else `None`.
pub fn verify(keys: &CtxKeyring, token: &str) -> Option<Scope> {
    crate::kernel::signed::verify(keys, LABEL, token)
}

/// The link for a partner of a handle; `None` without the keyring (logged: the mail then has no
/// link, and says so by its missing action).
pub fn url_for(state: &AppState, handle: &Handle, partner: &str) -> Option<String> {
    let partner = PartnerId::parse(partner).ok()?;
    let keys = match state.ctx_keys() {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "no keyring: a payout change's mail goes without its link");
            return None;
        }
    };
    let scope = Scope {
        handle: handle.clone(),
        partner,
    };
    Some(format!(
        "{}/v2/public/payout-dispute?token={}",
        super::unsubscribe::public_base(&state.config),
        token(keys, &scope)
    ))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn a_token_names_one_partner_of_one_handle_and_cannot_be_altered() {
        let keys = CtxKeyring::parse(&CtxKeyring::generate_spec()).unwrap();
        let scope = Scope {
            handle: Handle::parse("acme").unwrap(),
            partner: PartnerId::parse("pub-ann").unwrap(),
        };
        let t = token(&keys, &scope);
        assert_eq!(verify(&keys, &t), Some(scope.clone()));
        let (_, tag) = t.split_once('~').unwrap();
        let mut other = scope;
        other.partner = PartnerId::parse("pub-bob").unwrap();
        let forged = format!(
            "{}~{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap())
        );
        assert_eq!(
            verify(&keys, &forged),
            None,
            "another partner, the same tag"
        );
        let foreign = CtxKeyring::parse(&CtxKeyring::generate_spec()).unwrap();
        assert_eq!(verify(&foreign, &t), None, "another keyring");
    }
}
