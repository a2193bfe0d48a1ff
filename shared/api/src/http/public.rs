//! `GET /v2/public/context` (no auth): a ctx token's claims, verified without a store read.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::domain::{Attribution, CampaignId, ClickId, CtxClaims, Handle, Slug, SubIds};
use crate::http::error::ApiResult;
use crate::http::extract::{Query, verify_ctx};
use crate::kernel::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/public/context", get(context))
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
    pub click_id: ClickId,
    pub handle: Handle,
    pub slug: Slug,
    pub campaign_id: Option<CampaignId>,
    #[serde(flatten)]
    pub attribution: Attribution,
    pub sub_ids: SubIds,
    pub issued_at: String,
    pub expires_at: String,
    /// `true` for a console try's click (its conversions are test ones); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl From<CtxClaims> for ContextView {
    fn from(c: CtxClaims) -> Self {
        Self {
            issued_at: crate::domain::time::unix_to_rfc3339(c.issued_at),
            expires_at: crate::domain::time::unix_to_rfc3339(c.expires_at),
            click_id: c.click_id,
            handle: c.handle,
            slug: c.slug,
            campaign_id: c.campaign_id,
            attribution: c.attribution,
            sub_ids: c.sub_ids,
            test: c.test,
        }
    }
}

async fn context(
    State(state): State<AppState>,
    Query(params): Query<ContextParams>,
) -> ApiResult<axum::Json<ContextView>> {
    let claims = verify_ctx(&state, params.ctx.as_deref())?;
    Ok(axum::Json(claims.into()))
}
