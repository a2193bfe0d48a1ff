//! A person's own routes (issue 60), outside any handle: the email link, sign-out, `GET
//! /v2/me` and their sessions. Authenticated by the `tenx_session` cookie alone
//! ([`crate::http::auth::session`]); a write needs the session's `x-csrf-token`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::domain::email::Email;
use crate::domain::{Handle, SessionId, UserId};
use crate::http::auth::session::{self, COOKIE};
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{ClientAddr, IdPath, Json, PathId, Query};
use crate::kernel::state::AppState;
use crate::people::model::Session;
use crate::people::sessions::Origin;
use crate::people::{PeopleError, first_admin, memberships, sessions, sign_in, users};
use crate::platform::config::Config;

pub use crate::people::sign_in::{LINKS_PER_ADDRESS, LINKS_PER_EMAIL};

/// The routes of a person's own account (no handle, so no access-table rule: the cookie is the
/// whole credential).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/auth/email-link", post(email_link))
        .route("/v2/auth/email-link/verify", get(verify_page).post(verify))
        .route("/v2/auth/setup", get(setup_page).post(setup))
        .route("/v2/auth/sign-out", post(sign_out))
        .route("/v2/me", get(me))
        .route(
            "/v2/me/sessions",
            get(list_sessions).delete(end_all_sessions),
        )
        .route("/v2/me/sessions/{sessionId}", delete(end_session))
}

impl From<PeopleError> for ApiError {
    fn from(e: PeopleError) -> Self {
        let message = e.to_string();
        match e {
            PeopleError::LinkRefused | PeopleError::SetUpLinkRefused => {
                ApiError::unauthorized(message)
            }
            PeopleError::NotFound(_) => ApiError::new(ErrorCode::NotFound, message),
            PeopleError::LastAdmin(_)
            | PeopleError::AlreadyMember(_)
            | PeopleError::OtherPartner(_)
            | PeopleError::SetUpDone => ApiError::new(ErrorCode::InvalidState, message),
            PeopleError::Contended => ApiError::new(ErrorCode::Unavailable, message),
            PeopleError::Limited(l) => l.into(),
            PeopleError::Store(e) => e.into(),
            PeopleError::Mail(e) => e.into(),
        }
    }
}

/// A signed-in person: the session of the request's cookie (CSRF checked on writes).
pub struct SignedIn(pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        session::require(state, parts).await.map(SignedIn)
    }
}

/// The origin links are mailed with ([`crate::http::origin::base`]): never a request's `Host`.
pub fn base_url(state: &AppState) -> ApiResult<String> {
    crate::http::origin::base(&state.config)
}

/// The cookie that carries a session (`Secure` unless this server's origin is plain HTTP: a
/// local server).
pub fn session_cookie(value: &str, max_age: i64, config: &Config) -> HeaderValue {
    let secure = if crate::http::origin::secure_cookies(config) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("tenx_session=; Path=/; Max-Age=0"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkRequest {
    email: String,
    /// The handle the person means to work on (kept for the console; not a grant).
    handle: Option<String>,
    next: Option<String>,
}

/// `POST /v2/auth/email-link`: `202 {sent: true}` whether or not the address is known.
async fn email_link(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LinkRequest>,
) -> ApiResult<Response> {
    let email = Email::parse("email", &body.email)?;
    if let Some(h) = &body.handle {
        Handle::parse(h)?;
    }
    let base = base_url(&state)?;
    let limits = &state.config.rate_limits;
    sign_in::request_limited(state.io(), limits, &client, &base, &email, body.next).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"sent": true})),
    )
        .into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn page(status: StatusCode, body: &str) -> Response {
    titled(status, "Sign in", body)
}

/// A page of the sign-in and set-up flows, under its own title (a browser tab, a screen reader's
/// first words).
fn titled(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <link rel=\"icon\" href=\"/console/icon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/console/console.css\"></head>\
         <body><main class=\"sign-in\">{body}</main></body></html>"
    );
    // The stylesheet under its hashed name (the console serves no other).
    let html = crate::http::console::Bundle::embedded().page(&html);
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::http::console::CONTENT_SECURITY_POLICY),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser posts the page's form
    // with `Origin: null`, which the sign-in's login-CSRF check refuses; the link's token still
    // never leaves this origin in a referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /v2/auth/email-link/verify?token=…`: a page whose button signs in. Changes nothing
/// (mail scanners follow links).
async fn verify_page(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    let token = q.token.unwrap_or_default();
    if !sign_in::is_live(state.store.as_ref(), &token).await? {
        // A page still (a person reads it), saying so; the button's post answers the envelope.
        return Ok(page(
            StatusCode::OK,
            "<h1>This link no longer works</h1><p>It was already used, has expired or was \
             withdrawn. Ask for a new one from the sign-in page.</p><p><a href=\"/\">Sign in</a></p>",
        ));
    }
    // The token is base64url (checked by `is_live`): nothing in it needs escaping.
    Ok(page(
        StatusCode::OK,
        &format!(
            "<h1>Sign in to 10x</h1><form method=\"post\" action=\"/v2/auth/email-link/verify\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <button type=\"submit\">Sign in</button></form>"
        ),
    ))
}

/// The token of `POST …/verify`: JSON `{token}` or the page's form (`token=…`).
fn posted_token(headers: &HeaderMap, body: &Bytes) -> ApiResult<String> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let token = if form {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    } else {
        #[derive(Deserialize)]
        struct Body {
            token: String,
        }
        serde_json::from_slice::<Body>(body).ok().map(|b| b.token)
    };
    token.ok_or_else(|| ApiError::invalid_request("token: send the link's token."))
}

/// A sign-in posted from another site's page is refused (login CSRF): `403 csrf`.
pub(crate) fn posted_here(headers: &HeaderMap) -> ApiResult<()> {
    if same_origin(headers) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Csrf,
        "A sign-in must be posted from this site's own page.",
    ))
}

/// Where a sign-in came from, for the person's list of sessions: the client's address and
/// its browser (every way in records the same), and when this process holds the ctx keys the
/// keyed digest of the address and the browser's visitor fingerprint, as a click from it has
/// them: of the visitor cookie's id when the browser sends it (same origin), else of the id a
/// first visit from this address and browser gets.
pub(crate) fn origin_of(state: &AppState, headers: &HeaderMap, client: String) -> Origin {
    let keys = state.ctx_keys().ok();
    let visitor_hash = keys.map(|k| {
        let user_agent = headers.get(header::USER_AGENT).map(HeaderValue::as_bytes);
        match crate::http::redirect::visitor_id(headers) {
            Some(id) => k.fingerprint(id),
            None => k.fingerprint(&k.visitor_digest(&client, user_agent.unwrap_or_default())),
        }
    });
    Origin {
        address_hash: keys.map(|k| k.address_digest(&client)),
        visitor_hash,
        address: Some(client),
        browser: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// A sign-in posted from another site is refused (login CSRF): a browser names the page's
/// origin, which must be this host.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

/// `POST /v2/auth/email-link/verify`: spends the token, sets the session cookie (a new id) and
/// answers `303` to `next` or the console.
async fn verify(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = crate::http::extract::body(body)?;
    posted_here(&headers)?;
    let token = posted_token(&headers, &body)?;
    let origin = origin_of(&state, &headers, client);
    let signed_in = sign_in::spend(
        state.store.as_ref(),
        &token,
        session::lifetimes(&state),
        &origin,
    )
    .await?;
    Ok(signed_in_response(&state, signed_in))
}

/// `303` to where a sign-in goes (`next`, else the console) with the new session's cookie.
fn signed_in_response(state: &AppState, signed_in: sign_in::SignedIn) -> Response {
    let to = signed_in.next.unwrap_or_else(|| "/".to_owned());
    let max_age = crate::domain::time::secs(state.config.session_max);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&to).unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    h.insert(
        header::SET_COOKIE,
        session_cookie(&signed_in.secret, max_age, &state.config),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the set-up page posts: `{token, email, handle}` (JSON or the page's form).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetUpForm {
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    handle: String,
}

impl SetUpForm {
    fn read(headers: &HeaderMap, body: &Bytes) -> ApiResult<(Self, bool)> {
        if is_form(headers) {
            let mut form = SetUpForm::default();
            for (k, v) in url::form_urlencoded::parse(body) {
                match &*k {
                    "token" => form.token = v.into_owned(),
                    "email" => form.email = v.trim().to_owned(),
                    "handle" => form.handle = v.trim().to_ascii_lowercase(),
                    _ => {}
                }
            }
            return Ok((form, true));
        }
        serde_json::from_slice(body)
            .map(|f| (f, false))
            .map_err(|_| ApiError::invalid_request("Send {token, email, handle}."))
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The set-up page's form, with what was typed and the error beside it.
fn setup_form(form: &SetUpForm, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e))
    });
    format!(
        "<h1>Set up 10x</h1><p>Nobody is set up on this server yet: you become its admin and \
         are signed in. This link works once, for an hour.</p>{error}\
         <form method=\"post\" action=\"/v2/auth/setup\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <label>Your email <input type=\"email\" name=\"email\" required \
         autocomplete=\"email\" value=\"{}\"></label>\
         <label>Your workspace's short name, used in your links (such as acme) \
         <input name=\"handle\" required autocapitalize=\"none\" value=\"{}\"></label>\
         <button type=\"submit\">Make me the admin</button></form>",
        html_escape(&form.token),
        html_escape(&form.email),
        html_escape(&form.handle),
    )
}

/// A set-up link that cannot be spent, in words (`200` to the link's `GET`: a person opened it).
fn setup_refused(status: StatusCode, e: &PeopleError) -> Response {
    titled(
        status,
        "Set up 10x",
        &format!(
            "<h1>This set-up link no longer works</h1><p>{}</p><p><a href=\"/\">Sign in</a></p>",
            html_escape(&e.to_string())
        ),
    )
}

/// `GET /v2/auth/setup?token=…`: the first start's page (`tenx serve` printed its link). Changes
/// nothing.
async fn setup_page(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    let token = q.token.unwrap_or_default();
    if let Some(refused) = first_admin::refusal(state.store.as_ref(), &token).await? {
        return Ok(setup_refused(StatusCode::OK, &refused));
    }
    let form = SetUpForm {
        token,
        ..SetUpForm::default()
    };
    Ok(titled(
        StatusCode::OK,
        "Set up 10x",
        &setup_form(&form, None),
    ))
}

/// `POST /v2/auth/setup`: makes the first admin and signs them in (`303` to the console with
/// the session's cookie). The page's form gets pages back, the typed values kept; JSON gets the
/// envelope.
async fn setup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = crate::http::extract::body(body)?;
    posted_here(&headers)?;
    let (form, from_page) = SetUpForm::read(&headers, &body)?;
    let who = Email::parse("email", &form.email).and_then(|email| {
        let handle = Handle::parse(&form.handle)?;
        Ok(first_admin::FirstAdmin { email, handle })
    });
    let who = match who {
        Ok(who) => who,
        Err(e) if from_page => {
            let e = ApiError::from(e);
            return Ok(titled(
                e.status,
                "Set up 10x",
                &setup_form(&form, Some(&e.message)),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let origin = origin_of(&state, &headers, client);
    let life = session::lifetimes(&state);
    match first_admin::spend(state.store.as_ref(), &form.token, &who, life, &origin).await {
        Ok(signed_in) => Ok(signed_in_response(&state, signed_in)),
        Err(e @ (PeopleError::SetUpDone | PeopleError::SetUpLinkRefused)) if from_page => {
            let status = if matches!(e, PeopleError::SetUpLinkRefused) {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::CONFLICT
            };
            Ok(setup_refused(status, &e))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /v2/auth/sign-out`: ends this session on the server and clears the cookie.
async fn sign_out(State(state): State<AppState>, SignedIn(s): SignedIn) -> ApiResult<Response> {
    sessions::revoke(state.store.as_ref(), &s.user_id, &s.session_id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0, &state.config));
    Ok(response)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    user_id: UserId,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct MembershipView {
    handle: Handle,
    role: Role,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartnershipView {
    handle: Handle,
    partner_id: crate::domain::PartnerId,
    role: crate::people::model::PartnerRole,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeView {
    user: UserView,
    memberships: Vec<MembershipView>,
    /// The partners the person acts for (issue 61), one per handle.
    partnerships: Vec<PartnershipView>,
    csrf_token: String,
}

/// `GET /v2/me`: who is signed in, where they are a member, and the CSRF token for writes.
async fn me(State(state): State<AppState>, SignedIn(s): SignedIn) -> ApiResult<Response> {
    let store = state.store.as_ref();
    let user = users::get(store, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("This account no longer exists."))?;
    let memberships = memberships::of_user(store, &s.user_id)
        .await?
        .into_iter()
        .map(|m| MembershipView {
            handle: m.handle,
            role: m.role,
        })
        .collect();
    let partnerships = crate::people::partnerships::of_user(store, &s.user_id)
        .await?
        .into_iter()
        .map(|p| PartnershipView {
            handle: p.handle,
            partner_id: p.partner_id,
            role: p.role,
        })
        .collect();
    let view = MeView {
        user: UserView {
            user_id: user.user_id,
            email: user.email,
            name: user.name,
        },
        memberships,
        partnerships,
        csrf_token: s.csrf_token,
    };
    let mut response = axum::Json(view).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView {
    session_id: SessionId,
    /// This browser's own session.
    current: bool,
    since: String,
    last_seen: String,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    browser: Option<String>,
}

/// `GET /v2/me/sessions`: the person's live sessions.
async fn list_sessions(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let all = sessions::list(state.store.as_ref(), &s.user_id, session::lifetimes(&state)).await?;
    let items: Vec<SessionView> = all
        .into_iter()
        .map(|x| SessionView {
            current: x.session_id == s.session_id,
            session_id: x.session_id,
            since: x.created_at.into(),
            last_seen: x.last_seen_at.into(),
            expires_at: x.expires_at.into(),
            address: x.address,
            browser: x.browser,
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

/// `DELETE /v2/me/sessions/{sessionId}`: signs one of the person's sessions out.
async fn end_session(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    IdPath(id): IdPath<SessionId>,
) -> ApiResult<StatusCode> {
    if !sessions::revoke(state.store.as_ref(), &s.user_id, &id).await? {
        return Err(SessionId::not_found(id.as_str()));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v2/me/sessions`: signs every session of the person out, this one included.
async fn end_all_sessions(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
) -> ApiResult<StatusCode> {
    sessions::revoke_all(state.store.as_ref(), &s.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl PathId for SessionId {
    const SEGMENT: &'static str = "sessionId";

    fn parse(raw: &str) -> Option<Self> {
        SessionId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Session {raw}"))
    }
}
