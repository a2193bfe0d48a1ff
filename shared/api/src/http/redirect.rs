//! The public redirect: `GET|HEAD {handle}.{redirectDomain}/{slug}` → 302. A thin caller of
//! the clicks service's use case (`clicks::visit`, which states the round trips): this file
//! reads the visit off the request and turns the outcome into HTTP (the 302 with its caching
//! and cookie headers, the 404/410 pages for a browser, the envelope for an API client).

use crate::http::extract::Path;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::clicks::visit::{self, Outcome, VisitError, Visitor};
use crate::domain::custom_domain::CustomDomain;
use crate::domain::fallback::OrphanKind;
use crate::domain::{Expiry, Handle};
use crate::http::edge::{self, viewer_country};
use crate::http::error::{ApiError, ErrorCode};
use crate::kernel::state::AppState;
use crate::platform::config::Scheme;

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

impl From<VisitError> for ApiError {
    fn from(e: VisitError) -> Self {
        match e {
            VisitError::Store(e) => e.into(),
            VisitError::Unconfigured(e) => e.into(),
            VisitError::ClickLost => ApiError::unavailable(e),
        }
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

/// The visitor cookie's id, when the request carries a well-formed one.
pub(crate) fn visitor_id(headers: &HeaderMap) -> Option<&str> {
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
    let Some(handle) = handle_of(&state, &parts) else {
        return not_found().into_response();
    };
    let visitor = visitor(&state, &parts);
    let answer = match visit::orphan(redirector(&state), &handle, OrphanKind::Base, &visitor).await
    {
        Ok(outcome) => respond(&state, outcome, &parts.headers),
        Err(e) => Err(e.into()),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// What a visit uses of the router's state.
pub(crate) fn redirector(state: &AppState) -> visit::Redirector<'_> {
    visit::Redirector {
        io: state.io(),
        stream: state.clicks.as_deref(),
        ctx_keys: state.ctx_keys(),
        links: &state.link_cache,
        settings: &state.redirect_settings_cache,
        attribution_window: state.config.attribution_window,
    }
}

/// The redirect, start to end; `Err` is an early answer (404, 500).
async fn serve(state: &AppState, slug: &str, request: &Parts) -> Result<Response, ApiError> {
    let handle = handle_of(state, request).ok_or_else(not_found)?;
    serve_slug(state, &handle, slug, request).await
}

/// A slug of `handle`, on whichever host named it.
async fn serve_slug(
    state: &AppState,
    handle: &Handle,
    slug: &str,
    request: &Parts,
) -> Result<Response, ApiError> {
    let address = crate::http::extract::client_address(request, state);
    let mut visitor = Visitor {
        address: address.as_deref(),
        ..visitor(state, request)
    };
    // No trusted edge named the country: the address's, from the IP database.
    if visitor.country.is_none() {
        visitor.country = address.as_deref().and_then(edge::country_of);
    }
    let outcome = visit::visit(redirector(state), handle, slug, &visitor).await?;
    respond(state, outcome, &request.headers)
}

/// Whether `host` may be a custom domain: a name that is neither the redirect domain nor under
/// it, nor `localhost`, nor an address (the API's hosts in `tenx serve`).
fn maybe_custom(host: &str, redirect_host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let name = name.to_ascii_lowercase();
    !(name.is_empty()
        || name == "localhost"
        || name.ends_with(".localhost")
        || name.starts_with('[')
        || name.parse::<std::net::IpAddr>().is_ok()
        || name == redirect_host
        || name.ends_with(&format!(".{redirect_host}")))
}

/// The gate of custom domains (issue 64), around the redirect function and the local app: a
/// request whose host is a claimed domain is answered here, whatever its path (its links, its
/// root, its well-known files; never `/v2`, the console or the portal); any other host goes on.
pub async fn custom_domains(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let host = edge::viewer_host(request.headers(), &state.config.country_trust);
    if !maybe_custom(host, state.config.redirect_host()) {
        return next.run(request).await;
    }
    let site = crate::domains::site(state.store.as_ref(), &state.domain_cache, host).await;
    match site {
        Ok(None) => next.run(request).await,
        Ok(Some(site)) => {
            let (parts, _body) = request.into_parts();
            serve_site(&state, &site, &parts)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A request on a custom domain: `GET|HEAD` of `/`, `/{slug}` or a well-known file; anything
/// else is not found. A domain not (or no longer) serving answers not found too.
async fn serve_site(
    state: &AppState,
    site: &CustomDomain,
    request: &Parts,
) -> Result<Response, ApiError> {
    let now = crate::platform::time::now_millis();
    if !site.serving(now) {
        return Err(not_found());
    }
    if request.method != Method::GET && request.method != Method::HEAD {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this route.",
        ));
    }
    tracing::Span::current().record("handle", site.handle.as_str());
    let path = request.uri.path();
    let links = site.app_links.clone().unwrap_or_default();
    match path {
        "/.well-known/apple-app-site-association" => well_known(links.apple_app_site_association()),
        "/.well-known/assetlinks.json" => well_known(links.asset_links()),
        "/" => {
            if let Some(url) = &site.root_url {
                return fallback(url);
            }
            let visitor = visitor(state, request);
            let outcome =
                visit::orphan(redirector(state), &site.handle, OrphanKind::Base, &visitor).await?;
            respond(state, outcome, &request.headers)
        }
        _ => {
            let slug = path.strip_prefix('/').unwrap_or(path);
            if slug.contains('/') {
                return Err(not_found());
            }
            let slug = percent_decoded(slug).ok_or_else(not_found)?;
            match serve_slug(state, &site.handle, &slug, request).await {
                Ok(response) if response.status() == StatusCode::NOT_FOUND => {
                    domain_not_found(site, response)
                }
                Err(e) if e.status == StatusCode::NOT_FOUND => {
                    domain_not_found(site, e.into_response())
                }
                other => other,
            }
        }
    }
}

/// A slug the handle does not have, on its domain: the domain's own not-found URL when set,
/// else what the handle's settings answered.
fn domain_not_found(site: &CustomDomain, answered: Response) -> Result<Response, ApiError> {
    match &site.not_found_url {
        Some(url) => fallback(url),
        None => Ok(answered),
    }
}

/// A path segment as a slug (`%41` is `A`); `None` when it does not decode to UTF-8.
fn percent_decoded(segment: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("s={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// A well-known file: JSON with its content type, or not found when the domain has none.
fn well_known(body: Option<serde_json::Value>) -> Result<Response, ApiError> {
    let body = body.ok_or_else(|| ApiError::not_found("This file"))?;
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The handle the short-link host names (read from the request in place: the `HeaderMap`
/// extractor would copy every header).
fn handle_of(state: &AppState, request: &Parts) -> Option<Handle> {
    let host = edge::viewer_host(&request.headers, &state.config.country_trust);
    let handle = handle_from_host(host, state.config.redirect_host())?;
    tracing::Span::current().record("handle", handle.as_str());
    Some(handle)
}

/// The visit as the request carries it; the country only from a trusted edge (the address's is
/// added by the caller, which knows the address).
fn visitor<'r>(state: &AppState, request: &'r Parts) -> Visitor<'r> {
    let headers = &request.headers;
    let (region, city) = edge::viewer_place(headers, &state.config.country_trust);
    Visitor {
        head: request.method == Method::HEAD,
        user_agent: headers.get(header::USER_AGENT).map(HeaderValue::as_bytes),
        referer: headers.get(header::REFERER).and_then(|v| v.to_str().ok()),
        query: request.uri.query(),
        country: viewer_country(headers, &state.config.country_trust),
        returning: visitor_id(headers),
        test: false,
        address: None,
        region,
        city,
    }
}

/// The outcome as HTTP: a browser (`accept: text/html`) gets a page where an API client gets
/// the envelope.
fn respond(state: &AppState, outcome: Outcome, headers: &HeaderMap) -> Result<Response, ApiError> {
    match outcome {
        Outcome::Found {
            location,
            new_visitor,
            ..
        } => found(state, &location, new_visitor.as_deref()),
        Outcome::Expired {
            expiry,
            new_visitor,
        } => match &expiry.expired_url {
            Some(url) => found(state, url, new_visitor.then_some("")),
            None if wants_html(headers) => Ok(expired_page(&expiry)),
            None => Err(expired_error(&expiry)),
        },
        Outcome::Orphan {
            fallback: Some(url),
        } => fallback(&url),
        Outcome::Orphan { fallback: None } if wants_html(headers) => Ok(not_found_page()),
        Outcome::Orphan { fallback: None } => Err(not_found()),
    }
}

/// `410 link_expired` for an API client.
fn expired_error(expiry: &Expiry) -> ApiError {
    ApiError::new(
        ErrorCode::LinkExpired,
        format!("This short link expired at {}.", expiry.expires_at),
    )
}

/// An orphan visit's 302 to the handle's fallback URL.
fn fallback(url: &str) -> Result<Response, ApiError> {
    let mut response = StatusCode::FOUND.into_response();
    let location = HeaderValue::from_str(url)
        .map_err(|_| ApiError::internal("fallback URL is not a valid header value"))?;
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store, max-age=0"),
    );
    Ok(response)
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
    let at = crate::domain::time::unix_to_rfc3339(expiry.expires_at_unix);
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

/// The 302 with its caching, robots and visitor-cookie headers; `new_visitor`: the id of the
/// cookie to mint (empty: a fresh random one).
fn found(
    state: &AppState,
    location: &str,
    new_visitor: Option<&str>,
) -> Result<Response, ApiError> {
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
    if let Some(id) = new_visitor
        && let Ok(v) = HeaderValue::from_str(&visitor_cookie(state, id))
    {
        h.insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// A new visitor's first-party id cookie: `id` when it is one the cookie reader accepts (the
/// visit's digest), else a fresh random one.
fn visitor_cookie(state: &AppState, id: &str) -> String {
    let visitor = if (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        id.to_owned()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    };
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
