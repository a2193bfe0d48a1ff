//! Signing in with an OpenID Connect provider (issue 60): the providers configured
//! (`TENX_OIDC_{PROVIDER}_*`), the start (a `303` to the provider, the state bound to this
//! browser by a cookie) and the callback (a `303` to `next` or the console, with the session
//! cookie). No handle, so no access rule: these routes make a session, they need none.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::auth::session;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ClientAddr, IdPath, PathId, Query};
use crate::kernel::state::AppState;
use crate::people::oidc::{self, OidcError};
use crate::platform::config::OidcProvider;

/// The cookie that binds a sign-in under way to the browser that started it.
const STATE_COOKIE: &str = "tenx_oidc";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/auth/oidc", get(providers))
        .route("/v2/auth/oidc/{provider}/start", get(start))
        .route("/v2/auth/oidc/{provider}/callback", get(callback))
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        let message = e.to_string();
        match e {
            OidcError::StateRefused
            | OidcError::CodeRefused(_)
            | OidcError::TokenRefused(_)
            | OidcError::Declined(_) => ApiError::unauthorized(message),
            OidcError::NoAccount(_) => ApiError::forbidden(message),
            OidcError::Unreachable(detail) => ApiError::unavailable(detail),
            OidcError::Limited(l) => ApiError::from(l),
            OidcError::Store(e) => e.into(),
        }
    }
}

/// A provider's id in a path: letters and digits (anything else names no provider).
struct ProviderId(String);

impl PathId for ProviderId {
    const SEGMENT: &'static str = "provider";

    fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then(|| ProviderId(raw.to_owned()))
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("The sign-in provider {raw:?}"))
    }
}

fn provider<'a>(state: &'a AppState, id: &ProviderId) -> ApiResult<&'a OidcProvider> {
    state
        .config
        .oidc
        .iter()
        .find(|p| p.id == id.0)
        .ok_or_else(|| ProviderId::not_found(&id.0))
}

/// `GET /v2/auth/oidc`: the providers the sign-in page offers ("Sign in with …").
async fn providers(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    let items: Vec<_> = state
        .config
        .oidc
        .iter()
        .map(|p| {
            serde_json::json!({
                "provider": p.id,
                "name": p.name,
                "startUrl": format!("/v2/auth/oidc/{}/start", p.id),
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "items": items }))
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

fn state_cookie(
    provider: &str,
    value: &str,
    max_age: i64,
    config: &crate::platform::config::Config,
) -> HeaderValue {
    let secure = if crate::http::origin::secure_cookies(config) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path=/v2/auth/oidc/{provider}; HttpOnly; SameSite=Lax; \
         Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("tenx_oidc=; Max-Age=0"))
}

fn named_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

/// `GET /v2/auth/oidc/{provider}/start?next=…`: `303` to the provider. A signed-in browser
/// (its session cookie) links the provider's person to its user at the callback. Limited per
/// client address ([`oidc::STARTS_PER_ADDRESS`] a rate-limit window): each start is stored.
async fn start(
    State(state): State<AppState>,
    IdPath(id): IdPath<ProviderId>,
    ClientAddr(client): ClientAddr,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = provider(&state, &id)?;
    let base = crate::http::people::base_url(&state)?;
    let store = state.store.as_ref();
    let link_user = match session::cookie(&headers) {
        Some(c) => crate::people::sessions::authenticate(store, c, session::lifetimes(&state))
            .await?
            .map(|s| s.user_id),
        None => None,
    };
    let limits = &state.config.rate_limits;
    let started = oidc::start_limited(
        store,
        limits,
        (p, &client),
        &base,
        (q.next.as_deref(), link_user),
    )
    .await?;
    let max_age = crate::domain::time::secs(oidc::STATE_TTL);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&started.url).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    h.insert(
        header::SET_COOKIE,
        state_cookie(&p.id, &started.state, max_age, &state.config),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /v2/auth/oidc/{provider}/callback?code=…&state=…`: the session cookie (a new id) and
/// a `303` to `next` or the console; every refusal is the error envelope and starts nothing.
async fn callback(
    State(state): State<AppState>,
    IdPath(id): IdPath<ProviderId>,
    ClientAddr(client): ClientAddr,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = provider(&state, &id)?;
    let base = crate::http::people::base_url(&state)?;
    let value = q.state.unwrap_or_default();
    let callback = oidc::Callback {
        state: &value,
        bound: named_cookie(&headers, STATE_COOKIE),
        code: match (q.code, q.error) {
            (Some(code), None) => Ok(code),
            (_, Some(error)) => Err(error.chars().take(64).collect()),
            (None, None) => Err("no code".to_owned()),
        },
    };
    let origin = crate::http::people::origin_of(&state, &headers, client);
    let signed_in = oidc::finish(
        state.store.as_ref(),
        p,
        &base,
        callback,
        session::lifetimes(&state),
        &origin,
    )
    .await?;
    let to = signed_in.next.unwrap_or_else(|| "/".to_owned());
    let max_age = crate::domain::time::secs(state.config.session_max);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&to).unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    h.append(
        header::SET_COOKIE,
        crate::http::people::session_cookie(&signed_in.secret, max_age, &state.config),
    );
    // The sign-in is spent: its binding goes too.
    h.append(
        header::SET_COOKIE,
        state_cookie(&p.id, "", 0, &state.config),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
