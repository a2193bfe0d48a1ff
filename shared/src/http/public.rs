//! Public (unauthenticated) API routes: context resolution (and, merged in, conversions).

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};

use crate::domain::{CtxClaims, CtxError};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/public/context", get(context))
        .merge(crate::http::conversions::router())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextParams {
    ctx: Option<String>,
}

/// A resolved token: its claims, with RFC 3339 times.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextView {
    pub click_id: String,
    pub handle: String,
    pub slug: String,
    pub campaign_id: Option<String>,
    pub country: String,
    pub device: String,
    pub source: String,
    pub referrer: String,
    pub segment: String,
    pub issued_at: String,
    pub expires_at: String,
}

impl From<CtxClaims> for ContextView {
    fn from(c: CtxClaims) -> Self {
        Self {
            issued_at: crate::time::unix_to_rfc3339(c.issued_at),
            expires_at: crate::time::unix_to_rfc3339(c.expires_at),
            click_id: c.click_id,
            handle: c.handle,
            slug: c.slug,
            campaign_id: c.campaign_id,
            country: c.country,
            device: c.device,
            source: c.source,
            referrer: c.referrer,
            segment: c.segment,
        }
    }
}

/// Verifies a ctx token (no store read) or answers `400 invalid_ctx` saying why.
pub fn verify_ctx(state: &AppState, token: Option<&str>) -> ApiResult<CtxClaims> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid_ctx("ctx is required."))?;
    state
        .ctx_keys()?
        .verify(token, crate::store::now_unix())
        .map_err(|e| {
            ApiError::invalid_ctx(match e {
                CtxError::Expired => "The ctx token has expired; capture a fresh redirect.",
                CtxError::Malformed => "The ctx token is malformed; capture a fresh redirect URL.",
                CtxError::UnknownKey | CtxError::BadSignature => {
                    "The ctx token's signature is not valid."
                }
            })
        })
}

async fn context(
    State(state): State<AppState>,
    Query(params): Query<ContextParams>,
) -> ApiResult<axum::Json<ContextView>> {
    let claims = verify_ctx(&state, params.ctx.as_deref())?;
    Ok(axum::Json(claims.into()))
}
