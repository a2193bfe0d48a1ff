//! The public redirect: `GET|HEAD {handle}.{redirectDomain}/{slug}` → 302.
//!
//! Round-trip budget (enforced here, by construction): at most ONE store read — none when the
//! link is in the in-process cache — and ONE enqueue (the click event). Nothing else is awaited:
//! the ctx token is signed locally, routing is pure, analytics and webhooks happen downstream.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::domain::{
    build_destination, classify_user_agent, click_source, referrer_host, route, segment, CtxClaims,
    Handle, RouteInput, Slug,
};
use crate::error::ApiError;
use crate::events::{ClickData, EventType};
use crate::queue::{OutMessage, QueueName};
use crate::state::AppState;

/// First-party visitor cookie on the short-link host: tells new from returning visitors.
pub const VISITOR_COOKIE: &str = "tenx_vid";
const VISITOR_COOKIE_MAX_AGE: u32 = 2 * 365 * 86_400;

pub fn router() -> Router<AppState> {
    Router::new().route("/{slug}", get(redirect))
}

/// The short URL's own parameters that feed routing. Parsed leniently (first value wins):
/// a visitor's odd query string must never break a redirect.
#[derive(Default)]
pub struct ShortUrlParams {
    utm_source: Option<String>,
    src: Option<String>,
    utm_campaign: Option<String>,
}

impl ShortUrlParams {
    fn parse(query: Option<&str>) -> Self {
        let mut p = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match k.as_ref() {
                "utm_source" => &mut p.utm_source,
                "src" => &mut p.src,
                "utm_campaign" => &mut p.utm_campaign,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.into_owned());
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

fn not_found() -> Response {
    ApiError::not_found("This short link").into_response()
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
    // Read from the request in place (the `HeaderMap` extractor would copy every header).
    let (method, uri, headers) = (request.method(), request.uri(), request.headers());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Some(handle) = handle_from_host(host, state.config.redirect_host()) else {
        return not_found();
    };
    let ctx_keys = match state.ctx_keys() {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let Ok(slug) = Slug::parse(&slug) else {
        return not_found();
    };
    // Round trip 1 (skipped on a cache hit): the link.
    let link = match crate::links::load_cached(&state, &handle, &slug).await {
        Ok(Some(link)) => link,
        Ok(None) => return not_found(),
        Err(e) => return e.into_response(),
    };
    let params = ShortUrlParams::parse(uri.query());
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    let ua = classify_user_agent(header_str("user-agent"));
    let is_bot = ua.is_bot || method == Method::HEAD;
    let referrer = referrer_host(header_str("referer"));
    let source = click_source(
        params.utm_source.as_deref(),
        params.src.as_deref(),
        referrer.as_deref(),
    );
    let campaign = params
        .utm_campaign
        .as_deref()
        .or(link
            .tracking
            .as_ref()
            .and_then(|t| t.utm_campaign.as_deref()))
        .or(link.campaign_id.as_ref().map(|c| c.as_str()));
    let input = RouteInput::normalized(
        header_str("cloudfront-viewer-country"),
        Some(ua.device.as_str()),
        Some(&source),
        campaign,
    );
    let decision = route(&link, &input);

    let existing_visitor = visitor_id(headers).map(str::to_owned);
    let returning = existing_visitor.is_some();
    let visitor = existing_visitor.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());

    let now = crate::store::now_unix();
    let click_id = format!("clk_{}", uuid::Uuid::now_v7().simple());
    let campaign_id = link.campaign_id.as_ref().map(|c| c.as_str().to_owned());
    let referrer = referrer.unwrap_or_else(|| "direct".into());
    let segment = segment(returning, is_bot, ua.device);
    // Bots get no ctx: they cannot convert, and a token in a crawler's cache would be replayable.
    let ctx = (!is_bot).then(|| {
        ctx_keys.sign(&CtxClaims {
            click_id: click_id.clone(),
            handle: handle.as_str().to_owned(),
            slug: slug.as_str().to_owned(),
            campaign_id: campaign_id.clone(),
            country: input.country.clone(),
            device: input.device.clone(),
            source: input.source.clone(),
            referrer: referrer.clone(),
            segment: segment.clone(),
            issued_at: now,
            expires_at: now + state.config.attribution_window.as_secs() as i64,
        })
    });
    let location = build_destination(
        decision.destination_url,
        link.tracking.as_ref(),
        ctx.as_deref(),
    );

    let click = ClickData {
        click_id: click_id.clone(),
        slug: slug.as_str().to_owned(),
        campaign_id,
        country: input.country.clone(),
        device: ua.device,
        source: input.source.clone(),
        referrer,
        segment,
        bot: is_bot,
        destination_url: decision.destination_url.to_owned(),
        at: crate::time::unix_to_rfc3339(now),
    };
    let event_id = format!("evt_{}", click_id.trim_start_matches("clk_"));
    let event =
        crate::events::event_json(&event_id, EventType::LinkClicked, handle.as_str(), &click);
    // Round trip 2: the click, durable before the visitor leaves. If the queue is down the
    // visitor still gets their redirect (availability first); the failure is logged loudly.
    if let Err(e) = state
        .queue
        .send(QueueName::Events, vec![OutMessage::now(event)])
        .await
    {
        tracing::error!(error = %e, click_id = %click_id, "click not recorded: enqueue failed");
    }

    let mut response = StatusCode::FOUND.into_response();
    let h = response.headers_mut();
    // Room for the headers below and the request id: no rehashing on the hot path.
    h.reserve(8);
    match HeaderValue::from_str(&location) {
        Ok(v) => h.insert(header::LOCATION, v),
        Err(_) => {
            return ApiError::internal("destination is not a valid header value").into_response()
        }
    };
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
    if !returning && !is_bot {
        let secure = if state.config.short_url_scheme == "https" {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!("{VISITOR_COOKIE}={visitor}; Max-Age={VISITOR_COOKIE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    response
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
