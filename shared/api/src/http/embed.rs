//! The embedded referral dashboard (issue 61): `POST …/embed-tokens` (the merchant's server,
//! operator+ or PAT `partners.embed`) and `GET /v2/embed/referrals` (the `<tenx-referrals>`
//! element of `/embed.js`, from the merchant's own origin, with header `x-embed-token`).
//!
//! The answer is read cross-origin: `access-control-allow-origin: *` and never credentials (the
//! token travels in a header, no cookie is read or set), so a preflight (`OPTIONS`) is answered
//! for that one header; `cache-control: no-store`, since it is one partner's money.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::PartnerId;
use crate::embed::{self, EmbedError};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

pub const TOKEN_HEADER: &str = "x-embed-token";

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::auth::Scope::PartnersEmbed;
    use crate::http::routes::Charge::Write;
    Routes::new().at("/v2/handles/{handle}/embed-tokens").post(
        Operator,
        Some(PartnersEmbed),
        Write,
        mint,
    )
}

pub(crate) fn public_router() -> Router<AppState> {
    Router::new().route("/v2/embed/referrals", get(referrals).options(preflight))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MintBody {
    partner_id: PartnerId,
    ttl_seconds: Option<i64>,
}

async fn mint(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<MintBody>,
) -> ApiResult<Response> {
    let keys = state.ctx_keys()?;
    let minted = embed::mint(
        state.store.as_ref(),
        keys,
        &caller.handle,
        &body.partner_id,
        body.ttl_seconds,
    )
    .await?;
    let mut response = (StatusCode::CREATED, axum::Json(minted)).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

async fn referrals(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = match referrals_of(&state, &headers).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let h = response.headers_mut();
    cross_origin(h);
    no_store(h);
    response
}

async fn referrals_of(state: &AppState, headers: &HeaderMap) -> ApiResult<Response> {
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(format!("Send the embed token in `{TOKEN_HEADER}`."))
        })?;
    let store = state.store.as_ref();
    let (handle, partner) = embed::verify(store, state.ctx_keys()?, token).await?;
    let view = embed::referrals::referrals(store, &state.config, &handle, &partner).await?;
    Ok(axum::Json(view).into_response())
}

/// The preflight of the element's request: GET with the token header, from any origin.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    cross_origin(h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(TOKEN_HEADER),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn cross_origin(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

impl From<EmbedError> for ApiError {
    fn from(e: EmbedError) -> Self {
        let message = e.to_string();
        match e {
            EmbedError::PartnerNotFound(id) => ApiError::not_found(format!("Partner {id}")),
            EmbedError::Suspended(_) => ApiError::invalid_state(message),
            EmbedError::Ttl => ApiError::invalid_request(message),
            EmbedError::Refused => ApiError::unauthorized(message),
            EmbedError::Store(e) => e.into(),
        }
    }
}
