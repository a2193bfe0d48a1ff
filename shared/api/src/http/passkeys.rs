//! Passkey routes (issue 60): registering one (a signed-in person, CSRF checked), signing in
//! with one (public: the assertion is the credential), the account screen's list and removal,
//! and a handle's sign-in policy (admins). The work is in [`crate::people::passkeys`].

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use crate::domain::PasskeyId;
use crate::http::auth::Caller;
use crate::http::auth::session;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{ClientAddr, IdPath, Json, PathId};
use crate::http::people::{SignedIn, session_cookie};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::people::passkey_policy::{self, SignInPolicy};
use crate::people::passkeys::{self, Passkey, PasskeyError, RelyingParty};
use crate::people::users;

/// A person's own passkey routes (no handle: the session cookie, or for signing in the
/// assertion itself, is the whole credential).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/auth/passkeys/register/begin", post(register_begin))
        .route("/v2/auth/passkeys/register/finish", post(register_finish))
        .route("/v2/auth/passkeys/authenticate/begin", post(sign_in_begin))
        .route(
            "/v2/auth/passkeys/authenticate/finish",
            post(sign_in_finish),
        )
        .route("/v2/me/passkeys", get(list))
        .route("/v2/me/passkeys/{passkeyId}", delete(remove))
}

/// The handle's sign-in policy: admins only.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Admin;
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/sign-in-policy")
        .get(Admin, None, Free, get_policy)
        .put(Admin, None, Write, put_policy)
}

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        let message = e.to_string();
        match e {
            PasskeyError::Invalid(_) => ApiError::invalid_request(message),
            PasskeyError::CeremonyRefused | PasskeyError::Refused(_) | PasskeyError::Unknown => {
                ApiError::unauthorized(message)
            }
            PasskeyError::TooMany | PasskeyError::Duplicate => {
                ApiError::new(ErrorCode::InvalidState, message)
            }
            PasskeyError::NotFound(id) => ApiError::not_found(format!("Passkey {id}")),
            PasskeyError::Misconfigured(m) => ApiError::internal(m),
            PasskeyError::Limited(l) => ApiError::from(l),
            PasskeyError::Store(e) => e.into(),
        }
    }
}

/// The relying party: `TENX_PASSKEY_RP_ID` / `TENX_PASSKEY_ORIGIN`, else this server's origin
/// ([`crate::http::origin::base`]): a `Host` a client chose never names it.
pub fn relying_party(state: &AppState) -> ApiResult<RelyingParty> {
    let config = &state.config;
    let origin = match &config.passkey_origin {
        Some(o) => o.clone(),
        None => crate::http::origin::base(config)?,
    };
    let rp_id = match &config.passkey_rp_id {
        Some(id) => id.clone(),
        None => url::Url::parse(&origin)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| ApiError::internal(format!("{origin}: no host to be an RP id")))?,
    };
    Ok(RelyingParty { rp_id, origin })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasskeyView {
    passkey_id: PasskeyId,
    name: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<String>,
}

impl From<Passkey> for PasskeyView {
    fn from(p: Passkey) -> Self {
        Self {
            passkey_id: p.passkey_id,
            name: p.name,
            created_at: p.created_at.into(),
            last_used_at: p.last_used_at.map(Into::into),
        }
    }
}

/// `POST /v2/auth/passkeys/register/begin`: `{publicKey}` for `navigator.credentials.create`.
async fn register_begin(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
) -> ApiResult<Response> {
    let rp = relying_party(&state)?;
    let store = state.store.as_ref();
    let user = users::get(store, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("This account no longer exists."))?;
    let options = passkeys::register_begin(store, &rp, &user).await?;
    Ok(no_store(axum::Json(
        serde_json::json!({ "publicKey": options }),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterFinish {
    /// The browser's `PublicKeyCredential.toJSON()`.
    credential: serde_json::Value,
    name: Option<String>,
}

/// `POST /v2/auth/passkeys/register/finish` `{credential, name?}`: `201` the passkey.
async fn register_finish(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Json(body): Json<RegisterFinish>,
) -> ApiResult<Response> {
    let rp = relying_party(&state)?;
    let passkey = passkeys::register_finish(
        state.store.as_ref(),
        &rp,
        &s.user_id,
        &body.credential,
        body.name.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(PasskeyView::from(passkey))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignInBegin {
    next: Option<String>,
}

/// `POST /v2/auth/passkeys/authenticate/begin` `{next?}`: `{publicKey}` for
/// `navigator.credentials.get`.
async fn sign_in_begin(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = crate::http::extract::body(body)?;
    let begin: SignInBegin = if body.iter().all(u8::is_ascii_whitespace) {
        SignInBegin::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid_request(format!("body: {e}")))?
    };
    let rp = relying_party(&state)?;
    let limits = &state.config.rate_limits;
    let begun = passkeys::sign_in_begin_limited(
        state.store.as_ref(),
        limits,
        (&rp, &client),
        begin.next.as_deref(),
    );
    let options = begun.await?;
    Ok(no_store(axum::Json(
        serde_json::json!({ "publicKey": options }),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignInFinish {
    credential: serde_json::Value,
}

/// `POST /v2/auth/passkeys/authenticate/finish` `{credential}`: the session cookie (a new id)
/// and `200 {next}` (the console goes there).
async fn sign_in_finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Json(body): Json<SignInFinish>,
) -> ApiResult<Response> {
    crate::http::people::posted_here(&headers)?;
    let rp = relying_party(&state)?;
    let origin = crate::http::people::origin_of(&state, &headers, client);
    let signed_in = passkeys::sign_in_finish(
        state.store.as_ref(),
        &rp,
        &body.credential,
        session::lifetimes(&state),
        &origin,
    )
    .await?;
    let next = signed_in.next.unwrap_or_else(|| "/".to_owned());
    let max_age = crate::domain::time::secs(state.config.session_max);
    let mut response = no_store(axum::Json(serde_json::json!({ "next": next })));
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&signed_in.secret, max_age, &state.config),
    );
    Ok(response)
}

/// `GET /v2/me/passkeys`: the person's passkeys.
async fn list(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items: Vec<PasskeyView> = passkeys::list(state.store.as_ref(), &s.user_id)
        .await?
        .into_iter()
        .map(PasskeyView::from)
        .collect();
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

/// `DELETE /v2/me/passkeys/{passkeyId}`: removes one (a lost passkey, after an email link).
async fn remove(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    IdPath(id): IdPath<PasskeyId>,
) -> ApiResult<StatusCode> {
    passkeys::remove(state.store.as_ref(), &s.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<SignInPolicy>> {
    Ok(axum::Json(
        passkey_policy::get(state.store.as_ref(), &caller.handle).await?,
    ))
}

/// `PUT /v2/handles/{handle}/sign-in-policy` `{requirePasskeyForAdmins}`. An admin who turns it
/// on must have a passkey (else they would shut themselves out).
async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(policy): Json<SignInPolicy>,
) -> ApiResult<axum::Json<SignInPolicy>> {
    let store = state.store.as_ref();
    if policy.require_passkey_for_admins
        && let crate::auth::Credential::Session { user_id, .. } = &caller.principal.credential
        && !passkeys::has_any(store, user_id).await?
    {
        return Err(ApiError::new(
            ErrorCode::PasskeyRequired,
            "Add a passkey to your own account first, then require them of the team's admins.",
        ));
    }
    passkey_policy::put(store, &caller.handle, &policy).await?;
    Ok(axum::Json(policy))
}

fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl PathId for PasskeyId {
    const SEGMENT: &'static str = "passkeyId";

    fn parse(raw: &str) -> Option<Self> {
        PasskeyId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Passkey {raw}"))
    }
}
