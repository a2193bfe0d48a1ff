//! Mail routes (issue 59): the handle's sent mail and suppressions and its branding (admins),
//! and the public one-click unsubscribe (RFC 8058). The work is in `crate::mail`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::mail::branding::{self, Branding};
use crate::mail::{MailError, dispute, suppressions, unsubscribe};

/// The most messages `GET …/mail` answers (the newest).
const LIST_LIMIT: usize = 100;

/// Admins only (JWT: no token scope reaches who was mailed what).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Admin;
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/mail")
        .get(Admin, None, Free, list_mail)
        .at("/v2/handles/{handle}/mail/suppressions")
        .get(Admin, None, Free, list_suppressions)
        .delete(Admin, None, Write, delete_suppression)
        .at("/v2/handles/{handle}/branding")
        .get(Admin, None, Free, get_branding)
        .put(Admin, None, Write, put_branding)
}

/// `GET`/`POST /v2/public/unsubscribe?token=…` and `/v2/public/payout-dispute?token=…`.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/public/unsubscribe",
            get(unsubscribe_page).post(unsubscribe_now),
        )
        .route(
            "/v2/public/payout-dispute",
            get(dispute_page).post(dispute_now),
        )
}

impl From<MailError> for ApiError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Invalid(m) => ApiError::invalid_request(m),
            MailError::Store(e) => e.into(),
        }
    }
}

async fn list_mail(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = crate::mail::list(state.store.as_ref(), &caller.handle, LIST_LIMIT).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn list_suppressions(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = suppressions::list(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailParam {
    email: String,
}

async fn delete_suppression(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<EmailParam>,
) -> ApiResult<StatusCode> {
    let email = crate::domain::email::Email::parse("email", &p.email)?;
    match suppressions::remove(state.store.as_ref(), &caller.handle, email.as_str()).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!(
            "A suppression of {}",
            email.as_str()
        ))),
    }
}

async fn get_branding(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Branding>> {
    let found = branding::get(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(found.unwrap_or_else(|| {
        Branding::default_for(Some(&caller.handle))
    })))
}

async fn put_branding(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Branding>,
) -> ApiResult<axum::Json<Branding>> {
    let branding = body.validate()?;
    branding::put(state.store.as_ref(), &caller.handle, &branding).await?;
    Ok(axum::Json(branding))
}

#[derive(Deserialize)]
struct TokenParam {
    token: String,
}

/// A page with a button: following the link (as a mail scanner does) changes nothing.
async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(p): Query<TokenParam>,
) -> ApiResult<Response> {
    let keys = state.ctx_keys()?;
    let scope = unsubscribe::verify(keys, &p.token)
        .ok_or_else(|| ApiError::invalid_request("This unsubscribe link is not valid."))?;
    let action = format!("/v2/public/unsubscribe?token={}", url_escape(&p.token));
    let body = format!(
        "<p>Stop mails of this kind ({kind}){from} to {email}?</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form>",
        kind = html_escape(&words(scope.kind)),
        from = scope
            .handle
            .as_ref()
            .map(|h| format!(" from {}", html_escape(h.as_str())))
            .unwrap_or_default(),
        email = html_escape(&scope.email),
    );
    Ok(page("Unsubscribe", &body))
}

/// The one-click POST (RFC 8058; also the page's button): turns the kind off.
async fn unsubscribe_now(
    State(state): State<AppState>,
    Query(p): Query<TokenParam>,
) -> ApiResult<Response> {
    let keys = state.ctx_keys()?;
    let scope = unsubscribe::unsubscribe(state.store.as_ref(), keys, &p.token).await?;
    let body = format!(
        "<p>Done: no more mails of this kind ({}) to {}.</p>",
        html_escape(&words(scope.kind)),
        html_escape(&scope.email)
    );
    Ok(page("Unsubscribed", &body))
}

/// The "this was not me" page: a button; following the link changes nothing.
async fn dispute_page(
    State(state): State<AppState>,
    Query(p): Query<TokenParam>,
) -> ApiResult<Response> {
    let keys = state.ctx_keys()?;
    let scope = dispute::verify(keys, &p.token).ok_or_else(invalid_dispute)?;
    let action = format!("/v2/public/payout-dispute?token={}", url_escape(&p.token));
    let body = format!(
        "<p>Your payout method with {handle} was changed. If you did not make this change,          confirm below: your payouts stop until {handle} checks it with you.</p>\
         <form method=\"post\" action=\"{action}\">\
         <button type=\"submit\">This was not me: stop my payouts</button></form>",
        handle = html_escape(scope.handle.as_str()),
    );
    Ok(page("Was this you?", &body))
}

/// The button: freezes the token's partner's payouts (once; a second press changes nothing).
async fn dispute_now(
    State(state): State<AppState>,
    Query(p): Query<TokenParam>,
) -> ApiResult<Response> {
    let keys = state.ctx_keys()?;
    let scope = dispute::verify(keys, &p.token).ok_or_else(invalid_dispute)?;
    crate::payout_methods::dispute::freeze(state.store.as_ref(), &scope.handle, &scope.partner)
        .await?;
    let body = format!(
        "<p>Done: your payouts are stopped. {} will check the change with you.</p>",
        html_escape(scope.handle.as_str())
    );
    Ok(page("Payouts stopped", &body))
}

fn invalid_dispute() -> ApiError {
    ApiError::invalid_request("This link is not valid.")
}

fn words(kind: crate::mail::MailKind) -> String {
    kind.as_str().replace('_', " ")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem\">\
         <h1>{title}</h1>{body}</body></html>"
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A token is `[A-Za-z0-9_-]`, `~` and `.`; anything else is percent-encoded.
fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
