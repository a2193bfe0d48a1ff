//! The `tenx_session` cookie as a credential (issue 60): read from the request, resolved to a
//! live session, its CSRF token checked on every write, and turned into a principal with the
//! role of the person's membership of the handle asked for (read on each request, so a removed
//! member is refused at once), or into the partner they act for (issue 61).

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use crate::auth::{Credential, Principal};
use crate::domain::Handle;
use crate::http::error::{ApiError, ErrorCode};
use crate::kernel::state::AppState;
use crate::people::model::Session;
use crate::people::sessions::{self, Lifetimes};

/// The session cookie's name.
pub const COOKIE: &str = "tenx_session";

/// The header a cookie-authenticated write carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session lifetimes of this process's configuration.
pub fn lifetimes(state: &AppState) -> Lifetimes {
    Lifetimes {
        idle: state.config.session_idle,
        max: state.config.session_max,
    }
}

/// The session cookie's value, if the request carries one.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

fn signed_out() -> ApiError {
    ApiError::unauthorized("Your session has ended or was signed out; sign in again.")
}

/// The live session of the request's cookie (`401` when there is none), with its CSRF token
/// checked when the method writes (`403 csrf`).
pub async fn require(state: &AppState, parts: &Parts) -> Result<Session, ApiError> {
    let value = cookie(&parts.headers).ok_or_else(|| {
        ApiError::unauthorized("Sign in first, or send `Authorization: Bearer <token>`.")
    })?;
    let session = sessions::authenticate(state.store.as_ref(), value, lifetimes(state))
        .await?
        .ok_or_else(signed_out)?;
    if writes(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !crate::people::secret::same(sent, &session.csrf_token) {
            return Err(ApiError::new(
                ErrorCode::Csrf,
                "A write from a signed-in browser must carry the x-csrf-token that GET /v2/me \
                 answers.",
            ));
        }
    }
    Ok(session)
}

/// Whether a method may change something (everything but GET, HEAD and OPTIONS).
pub fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The header a person who is both a member of the handle and one of its partners names the
/// side they act on with: `member` or `partner` (issue 61). Without it a session acts as a
/// member when it is one (the console never sends it), else as its partner (the portal always
/// sends `partner`).
pub const ACT_AS_HEADER: &str = "x-tenx-act-as";

/// The side a session asked to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActAs {
    Either,
    Member,
    Partner,
}

/// The request's [`ACT_AS_HEADER`] (`400` for any other value).
pub fn act_as(headers: &HeaderMap) -> Result<ActAs, ApiError> {
    match headers.get(ACT_AS_HEADER).map(|v| v.to_str().unwrap_or("")) {
        None => Ok(ActAs::Either),
        Some("member") => Ok(ActAs::Member),
        Some("partner") => Ok(ActAs::Partner),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{ACT_AS_HEADER}: must be `member` or `partner`."
        ))),
    }
}

/// A session's principal on a handle, and, for a member who also acts for one of the handle's
/// partners, that partner (the routes that approve, review or pay commissions refuse it hers).
pub struct Resolved {
    pub principal: Principal,
    pub own_partner: Option<crate::domain::PartnerId>,
}

/// The principal of a session on `handle`: the membership's role, that handle only, or as the
/// person's partner when they act as one (`act`); a person who is neither is refused as a
/// foreign handle (`403 forbidden`). Round trips: TWO reads, at once (and for an admin the
/// handle's sign-in policy, `require_passkey`).
pub async fn principal(
    state: &AppState,
    session: Session,
    handle: &Handle,
    act: ActAs,
) -> Result<Resolved, ApiError> {
    let store = state.store.as_ref();
    let (role, partnership) = futures::join!(
        crate::people::memberships::role_of(store, &session.user_id, handle),
        crate::people::partnerships::on_handle(store, &session.user_id, handle),
    );
    let (role, partnership) = (role?, partnership?);
    let foreign = || ApiError::from(crate::auth::AuthError::ForeignHandle(handle.to_string()));
    let as_partner = match act {
        ActAs::Member => false,
        ActAs::Partner => true,
        ActAs::Either => role.is_none(),
    };
    let handles = vec![handle.as_str().to_owned()];
    if as_partner {
        let p = partnership.ok_or_else(foreign)?;
        return Ok(Resolved {
            principal: Principal {
                subject: session.user_id.to_string(),
                // Never consulted: a partner's routes are judged by the partner table.
                role: crate::auth::Role::Viewer,
                handles,
                credential: Credential::PartnerUser {
                    session_id: session.session_id,
                    user_id: session.user_id,
                    partner_id: p.partner_id,
                    owner: p.role == crate::people::model::PartnerRole::Owner,
                },
            },
            own_partner: None,
        });
    }
    let role = role.ok_or_else(foreign)?;
    if role == crate::auth::Role::Admin {
        require_passkey(store, &session.user_id, handle).await?;
    }
    Ok(Resolved {
        principal: Principal {
            subject: session.user_id.to_string(),
            role,
            handles,
            credential: Credential::Session {
                session_id: session.session_id,
                user_id: session.user_id,
            },
        },
        own_partner: partnership.map(|p| p.partner_id),
    })
}

/// An admin of a handle whose policy requires passkeys of its admins must have one: until they
/// register one (from their account screen, outside any handle) the handle's routes answer
/// `403 passkey_required`. Round trips: ONE read, and ONE query when the policy is on.
async fn require_passkey(
    store: &dyn crate::platform::store::Store,
    user: &crate::domain::UserId,
    handle: &Handle,
) -> Result<(), ApiError> {
    let policy = crate::people::passkey_policy::get(store, handle).await?;
    if policy.require_passkey_for_admins && !crate::people::passkeys::has_any(store, user).await? {
        return Err(ApiError::new(
            ErrorCode::PasskeyRequired,
            format!(
                "Admins of {handle} sign in with a passkey: add one on your account screen first."
            ),
        ));
    }
    Ok(())
}
