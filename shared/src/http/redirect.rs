//! The public redirect: `GET|HEAD {handle}.{redirectDomain}/{slug}` → 302.
//!
//! Round-trip budget (enforced here, by construction): at most ONE store read — none when the
//! link is in the in-process cache — and ONE enqueue (the click event). Nothing else is awaited:
//! the ctx token is signed locally, routing is pure, analytics and webhooks happen downstream.

use std::borrow::Cow;

use crate::http::extract::Path;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::fallback::OrphanKind;
use crate::domain::{
    Attribution, BotReason, ClickId, CtxClaims, Device, Expiry, Handle, Link, RouteInput, Slug,
    SubIds, build_destination_with, classify_user_agent_bytes, click_source, referrer_host, route,
    segment,
};
use crate::http::edge::{self, viewer_country};
use crate::http::error::ApiError;
use crate::kernel::events::ClickData;
use crate::kernel::state::AppState;
use crate::platform::config::{CountryTrust, Scheme};

/// First-party visitor cookie on the short-link host: tells new from returning visitors.
pub const VISITOR_COOKIE: &str = "tenx_vid";
const VISITOR_COOKIE_MAX_AGE: u32 = 2 * 365 * 86_400;

pub fn router() -> Router<AppState> {
    slug_router().route("/", get(bare_domain))
}

/// The short links without the bare domain: the local app answers `/` itself, by host (the
/// bare redirect domain here, the console on the API host; `http::console::local_root`).
pub fn slug_router() -> Router<AppState> {
    Router::new().route("/{slug}", get(redirect))
}

/// The short URL's own parameters that feed routing, and the partner's sub-ids, read in one
/// pass. Parsed leniently (first value wins): a visitor's odd query string must never break a
/// redirect.
#[derive(Default)]
pub struct ShortUrlParams<'q> {
    utm_source: Option<Cow<'q, str>>,
    src: Option<Cow<'q, str>>,
    utm_campaign: Option<Cow<'q, str>>,
    sub_ids: SubIds,
}

impl<'q> ShortUrlParams<'q> {
    fn parse(query: Option<&'q str>) -> Self {
        let mut p = Self::default();
        for (k, v) in crate::domain::destination::query_pairs(query.unwrap_or("")) {
            let slot = match k.as_ref() {
                "utm_source" => &mut p.utm_source,
                "src" => &mut p.src,
                "utm_campaign" => &mut p.utm_campaign,
                name => {
                    p.sub_ids.capture(name, &v);
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(v);
            }
        }
        p
    }
}

/// `acme.links.example.com[:port]` → `acme`, when the host is one label under the redirect domain.
pub fn handle_from_host(host: &str, redirect_host: &str) -> Option<Handle> {
    let host = host.split(':').next()?.to_ascii_lowercase();
    let label = host.strip_suffix(redirect_host)?.strip_suffix('.')?;
    if label.contains('.') {
        return None;
    }
    Handle::parse(label).ok()
}

fn not_found() -> ApiError {
    ApiError::not_found("This short link")
}

fn visitor_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookies| {
            cookies.split(';').find_map(|c| {
                let (name, value) = c.trim().split_once('=')?;
                (name == VISITOR_COOKIE
                    && (8..=64).contains(&value.len())
                    && value.bytes().all(|b| b.is_ascii_alphanumeric()))
                .then_some(value)
            })
        })
}

async fn redirect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    // Only the head is read; `Parts` is `Sync`, so the future stays `Send`.
    let (parts, _body) = request.into_parts();
    serve(&state, &slug, &parts)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `GET|HEAD {handle}.{domain}/`: the bare domain, an orphan visit.
pub(crate) async fn bare_domain(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let host = edge::viewer_host(&parts.headers, &state.config.country_trust);
    let Some(handle) = handle_from_host(host, state.config.redirect_host()) else {
        return not_found().into_response();
    };
    tracing::Span::current().record("handle", handle.as_str());
    orphan(&state, &handle, OrphanKind::Base, &parts)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// A visit that reaches no link: counted (ONE atomic add; a failure is logged, the visitor is
/// still answered), then sent to the handle's fallback URL (its settings: cached, else ONE
/// read), else a small HTML page for a browser or the JSON envelope for an API client.
async fn orphan(
    state: &AppState,
    handle: &Handle,
    kind: OrphanKind,
    request: &Parts,
) -> Result<Response, ApiError> {
    let user_agent = request.headers.get(header::USER_AGENT);
    let ua = classify_user_agent_bytes(user_agent.map(HeaderValue::as_bytes));
    let bot = ua.is_bot() || request.method == Method::HEAD;
    if let Err(e) = crate::clicks::orphans::record(state, handle, kind, bot).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "orphan visit not counted");
    }
    let settings = crate::clicks::orphans::settings_cached(state, handle).await?;
    let fallback = match kind {
        OrphanKind::NotFound => settings.not_found_url.as_deref(),
        OrphanKind::Base => settings.base_url.as_deref(),
    };
    if let Some(url) = fallback {
        let mut response = StatusCode::FOUND.into_response();
        let location = HeaderValue::from_str(url)
            .map_err(|_| ApiError::internal("fallback URL is not a valid header value"))?;
        response.headers_mut().insert(header::LOCATION, location);
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store, max-age=0"),
        );
        return Ok(response);
    }
    if wants_html(&request.headers) {
        return Ok(not_found_page());
    }
    Err(not_found())
}

/// A browser asks for HTML first; an API client does not.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The page a browser gets for a link that does not exist (no visitor input is echoed).
fn not_found_page() -> Response {
    status_page(
        StatusCode::NOT_FOUND,
        "Link not found",
        "link not found",
        "This short link does not exist, or no longer does. Check the address, or ask whoever \
         shared it.",
    )
}

/// The page a browser gets for an expired link without `expiredUrl`. The date is the server's
/// own rendering of the stored instant, never visitor input.
fn expired_page(expiry: &Expiry) -> Response {
    let at = crate::platform::time::unix_to_rfc3339(expiry.expires_at_unix);
    status_page(
        StatusCode::GONE,
        "Link expired",
        "link expired",
        &format!("This short link expired at {at}. Ask whoever shared it for a current one."),
    )
}

/// A small HTML page with the status, for a browser (`accept: text/html`) where an API client
/// gets the JSON envelope. Callers pass only fixed text or server-formatted values.
fn status_page(status: StatusCode, title: &str, heading: &str, text: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
<body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto\">\
<h1>{code}: {heading}</h1><p>{text}</p></body></html>",
        code = status.as_u16()
    );
    let mut response = (status, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The redirect, start to end; `Err` is an early answer (404, 500).
async fn serve(state: &AppState, slug: &str, request: &Parts) -> Result<Response, ApiError> {
    // Read from the request in place (the `HeaderMap` extractor would copy every header).
    let host = edge::viewer_host(&request.headers, &state.config.country_trust);
    let handle = handle_from_host(host, state.config.redirect_host()).ok_or_else(not_found)?;
    tracing::Span::current().record("handle", handle.as_str());
    let ctx_keys = state.ctx_keys()?;
    let Ok(slug) = Slug::parse(slug) else {
        return orphan(state, &handle, OrphanKind::NotFound, request).await;
    };
    // Round trip 1 (skipped on a cache hit): the link.
    let Some(link) = crate::links::load_cached(state, &handle, &slug).await? else {
        return orphan(state, &handle, OrphanKind::NotFound, request).await;
    };
    let mut visit = Visit::read(request, &link, &state.config.country_trust);
    let now = crate::platform::store::now_unix();
    if let Some(expiry) = link.expiry.as_ref().filter(|e| now >= e.expires_at_unix) {
        let html = wants_html(&request.headers);
        return expired(state, &handle, &link, &mut visit, expiry, now, html).await;
    }
    let decision = route(&link, &visit.input);
    let click_id = ClickId::new();
    let claims = visit.claims(&click_id, &handle, &link, now, state);
    // Bots get no ctx: they cannot convert, and a token in a crawler's cache would be replayable.
    let ctx = visit.bot.is_none().then(|| ctx_keys.sign(&claims));
    let forwarded = request.uri.query().filter(|_| link.forward_query);
    let location = build_destination_with(
        decision.destination_url,
        link.tracking.as_ref(),
        forwarded,
        ctx.as_deref(),
    );
    let click = visit.click_data(claims, decision.destination_url, now);
    // Round trip 2: the click, durable before the visitor leaves (crate::clicks).
    crate::clicks::record(state, &handle, &click).await;
    found(state, &location, &visit)
}

/// Marks a request as the console's "try the redirect" (`POST …/links/{slug}/try`), which
/// runs the redirect in-process: its click is a test click, counted apart and never paid. A
/// request extension, so no client-sent header or parameter can set it.
#[derive(Clone, Debug, Default)]
pub struct TestVisit {
    /// The country the tried visitor is from (two letters, checked by the try): a test click's
    /// routing input, in place of the edge's header.
    pub country: Option<String>,
}

/// What the redirect learns about one visit from the request alone.
struct Visit {
    /// Why this visit is a bot's; `None` for a human.
    bot: Option<BotReason>,
    device: Device,
    input: RouteInput,
    referrer: String,
    segment: String,
    sub_ids: SubIds,
    /// The visitor cookie's id; `None` for a new visitor (one is minted in the response).
    returning: Option<String>,
    /// The console's try ([`TestVisit`]), not a visitor.
    test: bool,
}

impl Visit {
    fn read(request: &Parts, link: &Link, trust: &CountryTrust) -> Self {
        let headers = &request.headers;
        let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let params = ShortUrlParams::parse(request.uri.query());
        let ua = classify_user_agent_bytes(
            headers
                .get(header::USER_AGENT)
                .map(axum::http::HeaderValue::as_bytes),
        );
        // The User-Agent's reason first: it says more about where bot traffic comes from.
        let bot = ua
            .bot
            .or((request.method == Method::HEAD).then_some(BotReason::HeadRequest));
        let referrer = referrer_host(header_str("referer"));
        let source = click_source(
            params.utm_source.as_deref(),
            params.src.as_deref(),
            referrer.as_deref(),
        );
        let tracked_campaign = link
            .tracking
            .as_ref()
            .and_then(|t| t.utm_campaign.as_deref());
        let campaign = params.utm_campaign.as_deref().or(tracked_campaign).or(link
            .campaign_id
            .as_ref()
            .map(super::super::domain::ids::CampaignId::as_str));
        let test = request.extensions.get::<TestVisit>();
        let country = match test.and_then(|t| t.country.as_deref()) {
            Some(tried) => Some(tried),
            None => viewer_country(headers, trust),
        };
        let input =
            RouteInput::normalized(country, Some(ua.device.as_str()), Some(&source), campaign);
        let returning = visitor_id(headers).map(str::to_owned);
        Self {
            bot,
            device: ua.device,
            input,
            referrer: referrer.unwrap_or_else(|| "direct".into()),
            segment: segment(returning.is_some(), bot.is_some(), ua.device),
            sub_ids: params.sub_ids,
            returning,
            test: test.is_some(),
        }
    }

    /// The click's attribution as the ctx carries it (signed only for humans). Moves the
    /// visit's strings into the claims, so it is called once, after routing: only `bot` and
    /// `returning` are read afterwards.
    fn claims(
        &mut self,
        click_id: &ClickId,
        handle: &Handle,
        link: &Link,
        now: i64,
        state: &AppState,
    ) -> CtxClaims {
        CtxClaims {
            click_id: click_id.clone(),
            handle: handle.clone(),
            slug: link.slug.clone(),
            campaign_id: link.campaign_id.clone(),
            attribution: Attribution {
                country: std::mem::take(&mut self.input.country),
                device: self.device,
                source: std::mem::take(&mut self.input.source),
                referrer: std::mem::take(&mut self.referrer),
                segment: std::mem::take(&mut self.segment),
            },
            issued_at: now,
            expires_at: now + crate::platform::time::secs(state.config.attribution_window),
            sub_ids: std::mem::take(&mut self.sub_ids),
            test: self.test,
        }
    }

    fn click_data(&self, claims: CtxClaims, destination_url: &str, now: i64) -> ClickData {
        ClickData {
            click_id: claims.click_id,
            slug: claims.slug.to_string(),
            campaign_id: claims.campaign_id,
            attribution: claims.attribution,
            bot: self.bot.is_some(),
            bot_reason: self.bot,
            expired: false,
            sub_ids: claims.sub_ids,
            test: claims.test,
            destination_url: destination_url.to_owned(),
            at: crate::platform::time::unix_to_rfc3339(now),
        }
    }
}

/// An expired link: no ctx (nothing can convert on it), the click recorded as expired (counted,
/// never qualified), and the visitor sent to `expiredUrl` or answered `410`: a small HTML page
/// for a browser (`html`), the `link_expired` envelope for an API client. The expiry is part of
/// the cached link: no store read is added.
async fn expired(
    state: &AppState,
    handle: &Handle,
    link: &Link,
    visit: &mut Visit,
    expiry: &Expiry,
    now: i64,
    html: bool,
) -> Result<Response, ApiError> {
    let click_id = ClickId::new();
    let claims = visit.claims(&click_id, handle, link, now, state);
    let target = expiry.expired_url.as_deref().unwrap_or("");
    let click = ClickData {
        expired: true,
        ..visit.click_data(claims, target, now)
    };
    crate::clicks::record(state, handle, &click).await;
    match &expiry.expired_url {
        Some(url) => found(state, url, visit),
        None if html => Ok(expired_page(expiry)),
        None => Err(ApiError::new(
            StatusCode::GONE,
            "link_expired",
            format!("This short link expired at {}.", expiry.expires_at),
        )),
    }
}

/// The 302 with its caching, robots and visitor-cookie headers.
fn found(state: &AppState, location: &str, visit: &Visit) -> Result<Response, ApiError> {
    let mut response = StatusCode::FOUND.into_response();
    let h = response.headers_mut();
    // Room for the headers below and the request id: no rehashing on the hot path.
    h.reserve(8);
    let location = HeaderValue::from_str(location)
        .map_err(|_| ApiError::internal("destination is not a valid header value"))?;
    h.insert(header::LOCATION, location);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store, max-age=0, must-revalidate"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer-when-downgrade"),
    );
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    if visit.returning.is_none()
        && visit.bot.is_none()
        && let Ok(v) = HeaderValue::from_str(&visitor_cookie(state))
    {
        h.insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// A new visitor's first-party id cookie.
fn visitor_cookie(state: &AppState) -> String {
    let visitor = uuid::Uuid::new_v4().simple();
    let secure = if state.config.short_url_scheme == Scheme::Https {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{VISITOR_COOKIE}={visitor}; Max-Age={VISITOR_COOKIE_MAX_AGE}; Path=/; HttpOnly; \
         SameSite=Lax{secure}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_comes_from_one_label_under_the_redirect_domain() {
        assert_eq!(
            handle_from_host("acme.localhost:8080", "localhost")
                .unwrap()
                .as_str(),
            "acme"
        );
        assert_eq!(
            handle_from_host("ACME.links.example.com", "links.example.com")
                .unwrap()
                .as_str(),
            "acme"
        );
        assert!(handle_from_host("a.b.links.example.com", "links.example.com").is_none());
        assert!(handle_from_host("links.example.com", "links.example.com").is_none());
        assert!(handle_from_host("acme.evil.com", "links.example.com").is_none());
        assert!(handle_from_host("acmelinks.example.com", "links.example.com").is_none());
    }

    #[test]
    fn visitor_cookie_is_read_only_when_well_formed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tenx_vid=abcdef0123456789; b=2"),
        );
        assert_eq!(visitor_id(&h), Some("abcdef0123456789"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("tenx_vid=<script>"),
        );
        assert_eq!(visitor_id(&h), None);
    }
}
