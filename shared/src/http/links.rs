//! Link routes: upsert (with `if-match`), read, list (cursor-paginated), delete, route preview.

use crate::http::extract::Path;
use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::fallback::RedirectSettings;
use crate::domain::{Handle, LinkSpec, RouteInput, RoutingRule, Slug, route};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{self, IfMatch, Json, Query};
use crate::http::pagination::{self, Page, PageParams};
use crate::kernel::state::AppState;
use crate::links::{self, LinkError, LinkView, Precondition};

/// The links routes, each with its access rule.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Creator, Operator};
    use crate::http::auth::Scope::{LinksRead, LinksWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/links")
        .get(Creator, Some(LinksRead), Free, list)
        .at("/v2/handles/{handle}/links/{slug}")
        .get(Creator, Some(LinksRead), Free, read)
        .put(Creator, Some(LinksWrite), Write, upsert)
        .delete(Creator, Some(LinksWrite), Write, remove)
        .at("/v2/handles/{handle}/links/{slug}/route-preview")
        .post(Creator, Some(LinksRead), Free, preview)
        .at("/v2/handles/{handle}/links/{slug}/availability")
        .get(Creator, Some(LinksRead), Free, availability)
        .at("/v2/handles/{handle}/redirect-settings")
        .get(Operator, None, Free, redirect_settings)
        .put(Operator, None, Write, put_redirect_settings)
}

/// `if-match: 3` (`"3"`, `W/"3"`) pins the link's version; `if-match: *` needs the link to exist.
fn precondition(headers: &HeaderMap) -> ApiResult<Precondition> {
    Ok(match extract::if_match(headers)? {
        None => Precondition::None,
        Some(IfMatch::Any) => Precondition::Exists,
        Some(IfMatch::Version(v)) => Precondition::Version(v),
    })
}

fn with_etag(status: StatusCode, view: LinkView) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", view.link.version)).ok();
    let mut response = (status, axum::Json(view)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
    headers: HeaderMap,
    Json(spec): Json<LinkSpec>,
) -> ApiResult<Response> {
    let precondition = precondition(&headers)?;
    let spec = spec.validate()?;
    if let Some(campaign) = &spec.campaign_id
        && crate::campaigns::get(state.store.as_ref(), &caller.handle, campaign)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid_request(format!(
            "campaignId: campaign {campaign} does not exist; create it first."
        )));
    }
    let upserted = links::upsert(
        state.io(),
        &state.link_cache,
        &caller.handle,
        &slug,
        spec,
        precondition,
        Vec::new(),
    )
    .await?;
    let status = if upserted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(
        status,
        LinkView::new(&state.config, upserted.link),
    ))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
) -> ApiResult<Response> {
    let mut link = links::load(state.store.as_ref(), &caller.handle, &slug).await?;
    if let Some(own) = partner_campaigns(&state, &caller).await? {
        link = link.filter(|l| l.campaign_id.as_ref().is_some_and(|c| own.contains(c)));
    }
    let link = link.ok_or_else(|| ApiError::not_found(format!("Link {slug}")))?;
    Ok(with_etag(
        StatusCode::OK,
        LinkView::new(&state.config, link),
    ))
}

/// Whether a slug is free on the handle: always 200, so a form checking as the user types causes
/// no 404 (a browser logs every one as an error). The redirect already tells anyone which slugs
/// exist, so this reveals nothing new, even to a partner token. One read.
async fn availability(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
) -> ApiResult<axum::Json<Availability>> {
    let taken = links::load(state.store.as_ref(), &caller.handle, &slug)
        .await?
        .is_some();
    Ok(axum::Json(Availability {
        slug,
        available: !taken,
    }))
}

#[derive(serde::Serialize)]
struct Availability {
    slug: Slug,
    available: bool,
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    links::delete(
        state.store.as_ref(),
        &state.link_cache,
        &caller.handle,
        &slug,
        precondition(&headers)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<LinkView>>> {
    let q = params.page_of(links::listing(&caller.handle))?;
    let own = partner_campaigns(&state, &caller).await?;
    let page = pagination::fetch(state.store.as_ref(), q, |l: crate::domain::Link| {
        let visible = own
            .as_ref()
            .is_none_or(|set| l.campaign_id.as_ref().is_some_and(|c| set.contains(c)));
        visible.then(|| LinkView::new(&state.config, l))
    });
    let mut page = page.await?;
    let items = std::mem::take(&mut page.items);
    Ok(axum::Json(Page {
        items: items.into_iter().flatten().collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A partner token's campaigns (`None` for the merchant's own credentials): a partner sees the
/// links of its campaigns only. Round trips: the handle's campaigns, for a partner only.
async fn partner_campaigns(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<Option<std::collections::BTreeSet<crate::domain::CampaignId>>> {
    let Some(own) = caller.partner() else {
        return Ok(None);
    };
    let all = crate::campaigns::list_all(state.store.as_ref(), &caller.handle).await?;
    Ok(Some(
        all.into_iter()
            .filter(|c| c.partner_id.as_ref() == Some(own))
            .map(|c| c.campaign_id)
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PreviewRequest {
    country: Option<String>,
    device: Option<String>,
    source: Option<String>,
    campaign: Option<String>,
    /// The visitor's operating system (`ios`, `android`, …; issue 64).
    os: Option<String>,
    /// The short URL's query, as a visitor would send it (forwarded when the link says so).
    query: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreviewResponse<'a> {
    slug: &'a str,
    destination_url: &'a str,
    /// The destination with the link's utm_* parameters and the forwarded query, as the redirect
    /// sends it (minus ctx).
    tracked_url: String,
    decision: &'static str,
    matched_rule: Option<&'a RoutingRule>,
    input: RouteInput,
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
    Json(body): Json<PreviewRequest>,
) -> ApiResult<Response> {
    let link = links::load(state.store.as_ref(), &caller.handle, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Link {slug}")))?;
    let input = RouteInput::normalized(
        body.country.as_deref(),
        body.device.as_deref(),
        body.source.as_deref(),
        body.campaign.as_deref(),
        body.os.as_deref(),
    );
    let decision = route(&link, &input);
    let response = PreviewResponse {
        slug: link.slug.as_str(),
        destination_url: decision.destination_url,
        tracked_url: crate::domain::build_destination_with(
            decision.destination_url,
            link.tracking.as_ref(),
            body.query.as_deref().filter(|_| link.forward_query),
            None,
        ),
        decision: if decision.matched_rule.is_some() {
            "rule"
        } else {
            "default"
        },
        matched_rule: decision.matched_rule,
        input: input.clone(),
    };
    Ok(axum::Json(response).into_response())
}

/// `GET …/redirect-settings`: where visitors who reach no link go (nowhere until set).
async fn redirect_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<RedirectSettings>> {
    let settings = crate::clicks::orphans::settings(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(settings))
}

/// `PUT …/redirect-settings`: replaces them (this process at once, others within the link cache
/// TTL).
async fn put_redirect_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RedirectSettings>,
) -> ApiResult<axum::Json<RedirectSettings>> {
    let settings = body.validate()?;
    crate::clicks::orphans::save_settings(
        state.store.as_ref(),
        &state.redirect_settings_cache,
        &caller.handle,
        &settings,
    )
    .await?;
    Ok(axum::Json(settings))
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        let message = e.to_string();
        match e {
            LinkError::NotFound(_) => ApiError::new(ErrorCode::NotFound, message),
            LinkError::SlugTaken(_) | LinkError::Busy => ApiError::conflict(message),
            LinkError::PreconditionFailed(_) => ApiError::precondition_failed(message),
            LinkError::Extra { .. } => ApiError::internal(message),
            LinkError::Store(e) => e.into(),
        }
    }
}
