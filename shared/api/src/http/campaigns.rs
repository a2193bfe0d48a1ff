//! Campaign routes: create (with the primary link, one transaction), read, list
//! (cursor-paginated), status change (version-checked, `if-match` optional).

use crate::http::extract::Path;
use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::campaigns::{
    self, Campaign, CampaignError, CampaignPatch, CampaignStatus, GoalType, NewCampaign,
};
use crate::domain::{CampaignId, DomainError, Handle, LinkSpec, PartnerId, Slug};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{IfMatch, Json, Query, if_match};
use crate::http::pagination::{self, PageParams};
use crate::kernel::state::AppState;
use crate::links::LinkView;
use crate::platform::config::Config;

/// The campaigns routes, each with its access rule.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Creator;
    use crate::http::auth::Scope::{CampaignsRead, CampaignsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/campaigns")
        .post(Creator, Some(CampaignsWrite), Write, create)
        .get(Creator, Some(CampaignsRead), Free, list)
        .at("/v2/handles/{handle}/campaigns/{campaignId}")
        .get(Creator, Some(CampaignsRead), Free, read)
        .patch(Creator, Some(CampaignsWrite), Write, update_status)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    campaign_id: String,
    goal_type: GoalType,
    /// Defaults to `ACTIVE`.
    #[serde(default)]
    status: Option<CampaignStatus>,
    primary_link: PrimaryLinkBody,
    #[serde(default)]
    partner_id: Option<PartnerId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PrimaryLinkBody {
    slug: String,
    destination_url: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchBody {
    #[serde(default)]
    status: Option<CampaignStatus>,
    #[serde(default)]
    partner_id: Option<PartnerId>,
}

/// The primary link as listed with a campaign (the full link is at `…/links/{slug}`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkSummary {
    slug: Slug,
    short_url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CampaignView<L: Serialize> {
    campaign_id: CampaignId,
    goal_type: GoalType,
    status: CampaignStatus,
    tracking_preset: String,
    conversion_event: String,
    partner_id: Option<PartnerId>,
    version: u64,
    created_at: String,
    updated_at: String,
    primary_link: L,
}

fn view<L: Serialize>(c: Campaign, primary_link: L) -> CampaignView<L> {
    CampaignView {
        campaign_id: c.campaign_id,
        goal_type: c.goal_type,
        status: c.status,
        tracking_preset: c.tracking_preset,
        conversion_event: c.conversion_event,
        partner_id: c.partner_id,
        version: c.version,
        created_at: c.created_at.into(),
        updated_at: c.updated_at.into(),
        primary_link,
    }
}

fn summary_view(config: &Config, handle: &Handle, c: Campaign) -> CampaignView<LinkSummary> {
    let link = LinkSummary {
        short_url: config.short_url(handle.as_str(), c.primary_slug.as_str()),
        slug: c.primary_slug.clone(),
    };
    view(c, link)
}

fn with_etag(status: StatusCode, version: u64, body: impl Serialize) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Re-roots a link validation error under `primaryLink.` so the message names the body field.
fn in_primary_link(e: DomainError) -> ApiError {
    ApiError::invalid_request(format!("primaryLink.{}: {}", e.field, e.message))
}

/// Naming a campaign's partner decides whose commissions its sales earn under its plan: the
/// operator's decision (a token's: `commissions.write`, which only an operator mints), never
/// about a partner the person acts for ([`crate::people::acting`]), neither the partner the
/// campaign leaves nor the one it goes to.
async fn may_name_partner(caller: &Caller, partners: &[&PartnerId]) -> ApiResult<()> {
    use crate::http::auth::{Role, Scope};
    let (role, scope) = (Role::Operator, Some(Scope::CommissionsWrite));
    crate::auth::check(&caller.principal, role, scope, caller.handle.as_str())?;
    Ok(caller
        .decider()
        .await?
        .refuse_each(partners.iter().copied())?)
}

pub fn parse_campaign_id(raw: &str) -> ApiResult<CampaignId> {
    Ok(CampaignId::parse(raw)?)
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> ApiResult<Response> {
    let campaign_id = parse_campaign_id(&body.campaign_id)?;
    if let Some(partner) = &body.partner_id {
        may_name_partner(&caller, &[partner]).await?;
    }
    let primary_slug = Slug::parse(&body.primary_link.slug).map_err(in_primary_link)?;
    let primary_link = LinkSpec {
        destination_url: body.primary_link.destination_url,
        title: body.primary_link.title,
        tracking: None,
        routing_rules: Vec::new(),
        campaign_id: None,
        forward_query: None,
        expires_at: None,
        expired_url: None,
        variants: None,
    }
    .validate()
    .map_err(in_primary_link)?;
    let new = NewCampaign {
        campaign_id,
        goal_type: body.goal_type,
        status: body.status.unwrap_or(CampaignStatus::Active),
        primary_slug,
        primary_link,
        partner_id: body.partner_id,
    };
    let (campaign, link) =
        campaigns::create(state.io(), &state.link_cache, &caller.handle, new).await?;
    let location = format!(
        "/v2/handles/{}/campaigns/{}",
        caller.handle, campaign.campaign_id
    );
    let version = campaign.version;
    let mut response = with_etag(
        StatusCode::CREATED,
        version,
        view(campaign, LinkView::new(&state.config, link)),
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CampaignId)>,
) -> ApiResult<Response> {
    let campaign = campaigns::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|c| {
            caller
                .partner()
                .is_none_or(|own| c.partner_id.as_ref() == Some(own))
        })
        .ok_or_else(|| ApiError::not_found(format!("Campaign {id}")))?;
    let version = campaign.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        summary_view(&state.config, &caller.handle, campaign),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CampaignList {
    items: Vec<CampaignView<LinkSummary>>,
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<CampaignList>> {
    let (page, next) = campaigns::list(
        state.store.as_ref(),
        &caller.handle,
        params.limit()?,
        params.after()?,
    )
    .await?;
    Ok(axum::Json(CampaignList {
        items: page
            .into_iter()
            .filter(|c| {
                caller
                    .partner()
                    .is_none_or(|own| c.partner_id.as_ref() == Some(own))
            })
            .map(|c| summary_view(&state.config, &caller.handle, c))
            .collect(),
        next_cursor: next.as_deref().map(pagination::encode_cursor),
    }))
}

/// `if-match: 3` (`"3"`, `W/"3"`) pins the version the change applies to; a campaign always
/// exists once created, so `*` says nothing and is refused.
fn expected_version(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    match if_match(headers)? {
        None => Ok(None),
        Some(IfMatch::Version(v)) => Ok(Some(v)),
        Some(IfMatch::Any) => Err(ApiError::invalid_request(
            "if-match: expected a campaign version such as 3 or \"3\".",
        )),
    }
}

async fn update_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CampaignId)>,
    headers: HeaderMap,
    Json(body): Json<PatchBody>,
) -> ApiResult<Response> {
    if body.status.is_none() && body.partner_id.is_none() {
        return Err(ApiError::invalid_request(
            "body: give status, partnerId or both.",
        ));
    }
    let mut expected = expected_version(&headers)?;
    if let Some(to) = &body.partner_id {
        may_name_partner(&caller, &[to]).await?;
        if caller.own_partner().await?.is_some() {
            // The partner it leaves is judged as read, and the change applies to that version
            // only: a concurrent move answers 412 rather than slipping past the judgement.
            let current = campaigns::get(state.store.as_ref(), &caller.handle, &id)
                .await?
                .ok_or_else(|| ApiError::from(CampaignError::NotFound(id.clone())))?;
            if let Some(from) = &current.partner_id {
                caller.refuse_own(Some(from)).await?;
            }
            expected = expected.or(Some(current.version));
        }
    }
    let patch = CampaignPatch {
        status: body.status,
        partner_id: body.partner_id,
    };
    let campaign =
        campaigns::update(state.store.as_ref(), &caller.handle, &id, patch, expected).await?;
    let version = campaign.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        summary_view(&state.config, &caller.handle, campaign),
    ))
}

impl From<CampaignError> for ApiError {
    fn from(e: CampaignError) -> Self {
        let message = e.to_string();
        match e {
            CampaignError::NotFound(_) => ApiError::new(ErrorCode::NotFound, message),
            CampaignError::AlreadyExists(_) | CampaignError::Busy => ApiError::conflict(message),
            CampaignError::PreconditionFailed(_) => ApiError::precondition_failed(message),
            CampaignError::UnknownPartner(_) => ApiError::invalid_request(message),
            CampaignError::Link(e) => e.into(),
            CampaignError::Store(e) => e.into(),
        }
    }
}
