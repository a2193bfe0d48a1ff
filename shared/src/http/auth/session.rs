//! The `tenx_session` cookie as a credential (issue 60): read from the request, resolved to a
//! live session, its CSRF token checked on every write, and turned into a principal with the
//! role of the person's membership of the handle asked for (read on each request, so a removed
//! member is refused at once).

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

/// The principal of a session on `handle`: the membership's role, that handle only; a person
/// who is not a member is refused as a foreign handle (`403 forbidden`).
pub async fn principal(
    state: &AppState,
    session: Session,
    handle: &Handle,
) -> Result<Principal, ApiError> {
    let role = crate::people::memberships::role_of(state.store.as_ref(), &session.user_id, handle)
        .await?
        .ok_or_else(|| ApiError::from(crate::auth::AuthError::ForeignHandle(handle.to_string())))?;
    Ok(Principal {
        subject: session.user_id.to_string(),
        role,
        handles: vec![handle.as_str().to_owned()],
        credential: Credential::Session {
            session_id: session.session_id,
            user_id: session.user_id,
        },
    })
}
