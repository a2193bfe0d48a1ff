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
    use crate::http::auth::Role::{Creator, Operator, Viewer};
    use crate::http::auth::Scope::{AnalyticsRead, LinksRead, LinksWrite};
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
        .at("/v2/handles/{handle}/links/{slug}/variants")
        .get(Viewer, Some(AnalyticsRead), Free, variants)
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
    let upserted = crate::campaigns::link_save::save(
        state.io(),
        &state.link_cache,
        &caller.handle,
        (&slug, spec),
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
        LinkView::written(&state.config, upserted),
    ))
}

/// `GET …/links/{slug}/variants`: the link's A/B test, each variant's numbers since
/// `variantsSince` and the winner when there is one. A partner sees its own links' only.
async fn variants(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
) -> ApiResult<axum::Json<crate::analytics::variants::VariantsReport>> {
    if let Some(own) = partner_campaigns(&state, &caller).await? {
        let link = links::load(state.store.as_ref(), &caller.handle, &slug).await?;
        if !link.is_some_and(|l| l.campaign_id.as_ref().is_some_and(|c| own.contains(c))) {
            return Err(ApiError::not_found(format!("Link {slug}")));
        }
    }
    let today = crate::platform::time::now().date();
    let report =
        crate::analytics::variants::report(state.store.as_ref(), &caller.handle, &slug, today)
            .await?;
    Ok(axum::Json(report))
}

impl From<crate::campaigns::link_save::LinkSaveError> for ApiError {
    fn from(e: crate::campaigns::link_save::LinkSaveError) -> Self {
        use crate::campaigns::link_save::LinkSaveError;
        match e {
            LinkSaveError::NoSuchCampaign(_) => ApiError::invalid_request(e.to_string()),
            LinkSaveError::Link(e) => e.into(),
        }
    }
}

impl From<crate::analytics::variants::VariantsError> for ApiError {
    fn from(e: crate::analytics::variants::VariantsError) -> Self {
        use crate::analytics::variants::VariantsError;
        match e {
            VariantsError::NotFound(slug) => ApiError::not_found(format!("Link {slug}")),
            VariantsError::Store(e) => e.into(),
        }
    }
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
    /// The visitor an A/B split is previewed for: a visitor cookie's value (`tenx_vid`), or any
    /// text standing for one; without it, a new visitor drawn at random.
    visitor: Option<String>,
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
    /// The A/B test variant the split chose (`decision: "variant"`), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<usize>,
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
    // The split as the redirect makes it, for a human (a bot always gets the first variant).
    let variant = match decision.matched_rule {
        Some(_) => None,
        None if link.variants.is_empty() => None,
        None => {
            let visitor = body
                .visitor
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
            let bucket = state.ctx_keys()?.variant_bucket(
                &visitor,
                link.handle.as_str(),
                link.slug.as_str(),
            );
            crate::domain::variants::choose(&link.variants, bucket)
        }
    };
    let destination_url = match variant {
        Some(i) => link.variants[i].destination_url.as_str(),
        None => decision.destination_url,
    };
    let response = PreviewResponse {
        slug: link.slug.as_str(),
        destination_url,
        tracked_url: crate::domain::build_destination_with(
            destination_url,
            link.tracking.as_ref(),
            body.query.as_deref().filter(|_| link.forward_query),
            None,
        ),
        decision: match (decision.matched_rule, variant) {
            (Some(_), _) => "rule",
            (None, Some(_)) => "variant",
            (None, None) => "default",
        },
        matched_rule: decision.matched_rule,
        variant,
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
