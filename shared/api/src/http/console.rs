//! The web console (`console/` at the repository root, crate `tenx-console`, whose build lists
//! its files): plain HTML, CSS and ES modules embedded in the binary and served by us alone,
//! under a strict Content-Security-Policy.
//!
//! - `GET /` (the API host): the console's page, `cache-control: no-cache`. Locally `/` is also
//!   the bare short-link domain, so [`local_root`] answers it by `Host`.
//! - `GET /console/{file}`: the assets, under content-hashed names (`app.3f2a9c1b7d4e.js`,
//!   computed once at start), cached for a year as `immutable`. A file in a folder is served
//!   flat, its folder before a `-` (`portal/main.js` as `portal-main.3f2a9c1b7d4e.js`): every
//!   reference is rewritten to the hashed name, so the URLs need no folders.
//! - `POST /console/sign-in`: the local sign-in, which mints a short-lived JWT only when `tenx
//!   serve` was started with `--local-sign-in` (`Config::local_sign_in`), for a caller on this
//!   machine that presents the code the server printed on its terminal; otherwise `404` (off)
//!   or `401` (no code, or not that code).
//! - `POST /v2/handles/{handle}/links/{slug}/try`: "try the redirect". A browser's `fetch`
//!   cannot read a `302`'s `location`, so the server runs the redirect's use case in-process
//!   (`clicks::visit`, as the redirect does) and answers what a visitor would get. The click is
//!   recorded as a test click (`Visitor::test`): counted apart (`testClicks`), never in `clicks` or
//!   `qualifiedClicks`, and its ctx converts only as a test conversion.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::jwt::Claims;
use crate::clicks::visit::{self, Outcome, Visitor};
use crate::domain::{Handle, Slug};
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path};
use crate::http::redirect::handle_from_host;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

/// Every console response's policy: our own scripts, styles, images and API, nothing else; no
/// inline script or style, no framing, no form posts elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// The console page's policy: [`CONTENT_SECURITY_POLICY`] with `connect-src` widened to
/// `uploads_origin`, where the import screen PUTs a file on AWS (the uploads bucket's origin,
/// [`crate::platform::uploads::UploadSettings::browser_origin`]); a local server's upload URL
/// is its own, so nothing is added.
pub fn content_security_policy(uploads_origin: Option<&str>) -> String {
    match uploads_origin {
        Some(origin) => CONTENT_SECURITY_POLICY.replacen(
            "connect-src 'self'",
            &format!("connect-src 'self' {origin}"),
            1,
        ),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    }
}

/// Hashed assets never change under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How long a token minted by the local sign-in lives.
pub const SIGN_IN_TTL_SECS: i64 = 3600;

use tenx_console::refs::references;
use tenx_console::{FILES, INDEX, PORTAL_PAGE, PROGRAM_PAGE};

/// One served file.
#[derive(Debug)]
pub struct Asset {
    /// Its path in `console/` (`widgets/picker.js`).
    pub name: &'static str,
    /// Its served name (`widgets-picker.3f2a9c1b7d4e.js`): the first 12 hex digits of its
    /// SHA-256.
    pub hashed: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The body gzipped, for a browser that accepts it (text only; the page's weight is what
    /// travels, ~30 % of the bytes).
    pub gzip: Option<Vec<u8>>,
}

/// The page and its assets, with every reference rewritten to the hashed names.
#[derive(Debug)]
pub struct Bundle {
    pub index: String,
    pub assets: Vec<Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// A text asset compressed (best level: once per process), when that is smaller.
fn gzipped(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    if content_type.starts_with("image/png") {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).ok()?;
    let compressed = encoder.finish().ok()?;
    (compressed.len() < body.len()).then_some(compressed)
}

/// Whether `accept-encoding` takes gzip (`gzip`, `x-gzip` or `*`, not at `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("").to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        ["gzip", "x-gzip", "*"].contains(&coding.as_str()) && !refused
    })
}

fn hashed_name(path: &str, body: &[u8]) -> String {
    let digest = hex::encode(&Sha256::digest(body)[..6]);
    let name = path.replace('/', "-");
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{digest}.{ext}"),
        None => format!("{name}.{digest}"),
    }
}

/// Modules another change may add, named by `console/places.js` (issue 62): the money
/// dashboard, the plan editor's rows, "send a test event". While one is not among the files,
/// its quoted name is served as `''`, so the page sees an empty place and never asks for it.
pub const OPTIONAL_MODULES: &[&str] = &[
    "home/dashboard.js",
    "commissions/plan_editor.js",
    "integrations/test_event.js",
];

/// `text` (the file at `from`) with the quoted names of the optional modules absent from
/// `names` emptied.
fn blank_absent(from: &str, text: &str, names: &[&str]) -> String {
    let absent = |path: &str| OPTIONAL_MODULES.contains(&path) && !names.contains(&path);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in references(from, text)
        .into_iter()
        .filter(|r| absent(&r.path))
    {
        out.push_str(&text[at..r.start - 1]);
        out.push_str("''");
        at = r.end + 1;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` (the file at `from`) with its references to the assets hashed so far rewritten to
/// their served names, from the same place (`./x.js` or `/console/x.js`: every asset is served
/// at `/console/`).
fn rewrite(from: &str, text: &str, done: &[Asset]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in references(from, text) {
        let Some(asset) = done.iter().find(|a| a.name == r.path) else {
            continue;
        };
        out.push_str(&text[at..r.start]);
        out.push_str(if r.relative { "./" } else { "/console/" });
        out.push_str(&asset.hashed);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The page's `{{GROUP_BY}}`, `{{EVENT_TYPES}}` and `{{SCOPES}}`: the code's own lists, so the
/// console offers every breakdown, event type and scope there is, and no other.
fn with_vocabulary(index: &str) -> String {
    fn joined<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
        all.iter().map(|x| name(*x)).collect::<Vec<_>>().join(",")
    }
    index
        .replace(
            "{{GROUP_BY}}",
            &joined(
                &crate::analytics::report::GroupBy::ALL,
                super::super::analytics::report::GroupBy::as_str,
            ),
        )
        .replace(
            "{{EVENT_TYPES}}",
            &joined(
                &crate::kernel::events::EventType::ALL,
                crate::kernel::events::EventType::as_str,
            ),
        )
        .replace(
            "{{SCOPES}}",
            &joined(&crate::auth::Scope::ALL, super::super::auth::Scope::as_str),
        )
}

impl Bundle {
    /// Hashes `files` in order (rewriting each text file's references first), then the page.
    pub fn build(index: &str, files: Vec<(&'static str, Vec<u8>)>) -> Self {
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        let mut assets: Vec<Asset> = Vec::with_capacity(files.len());
        for (name, raw) in files {
            let content_type = content_type(name);
            let body = match String::from_utf8(raw) {
                Ok(text) if !content_type.starts_with("image/png") => {
                    rewrite(name, &blank_absent(name, &text, &names), &assets).into_bytes()
                }
                Ok(text) => text.into_bytes(),
                Err(e) => e.into_bytes(),
            };
            let hashed = hashed_name(name, &body);
            let gzip = gzipped(content_type, &body);
            assets.push(Asset {
                name,
                hashed,
                content_type,
                body,
                gzip,
            });
        }
        Self {
            index: rewrite("index.html", &with_vocabulary(index), &assets),
            assets,
        }
    }

    /// The copies embedded in the binary, hashed once per process.
    pub fn embedded() -> Arc<Bundle> {
        static EMBEDDED: OnceLock<Arc<Bundle>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                let files = FILES.iter().map(|(n, b)| (*n, b.to_vec())).collect();
                Arc::new(Bundle::build(INDEX, files))
            })
            .clone()
    }

    /// The same files read from `dir` (`TENX_CONSOLE_DIR`, console development).
    pub fn from_dir(dir: &std::path::Path) -> std::io::Result<Bundle> {
        let index = std::fs::read_to_string(dir.join("index.html"))?;
        let mut files = Vec::with_capacity(FILES.len());
        for (name, _) in FILES {
            files.push((*name, std::fs::read(dir.join(name))?));
        }
        Ok(Bundle::build(&index, files))
    }

    /// Another page over the same assets (its references rewritten to their hashed names).
    pub fn page(&self, html: &str) -> String {
        rewrite("index.html", html, &self.assets)
    }

    /// The served asset with this hashed name.
    pub fn asset(&self, hashed: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.hashed == hashed)
    }
}

fn bundle(state: &AppState) -> ApiResult<Arc<Bundle>> {
    match &state.config.console_dir {
        None => Ok(Bundle::embedded()),
        Some(dir) => Bundle::from_dir(dir).map(Arc::new).map_err(|e| {
            ApiError::internal(format!("reading the console from {}: {e}", dir.display()))
        }),
    }
}

/// The console's pages but `/`: its assets and the local sign-in (no authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/{file}", get(asset))
        .route("/console/sign-in", post(sign_in))
        .route("/programs/{handle}", get(program_page))
        .route("/portal/{handle}", get(portal_page))
        .layer(axum::middleware::map_response(secure))
}

/// "Try the redirect": a test click (counted apart, never paid) that writes a click record, so
/// it takes `links.write` and counts against the write limit.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Creator;
    use crate::http::auth::Scope::LinksWrite;
    use crate::http::routes::Charge::Write;
    Routes::new()
        .at("/v2/handles/{handle}/links/{slug}/try")
        .post(Creator, Some(LinksWrite), Write, try_redirect)
}

/// The headers every console response carries.
pub async fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    // A page with a policy of its own (the portal's) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /`: the console's page (revalidated on every load, so a new build is picked up at once).
pub async fn index(State(state): State<AppState>) -> Response {
    let response = match bundle(&state) {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            b.index.clone(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    };
    let mut response = secure(response).await;
    // The page is the document whose policy governs its `fetch`es: the import screen's PUT
    // to the uploads bucket is allowed here (issue 64).
    let origin = state.config.uploads.browser_origin();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(origin.as_deref())) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// `GET /programs/{handle}`: the handle's public partner program page (no sign-in). The page
/// reads the program from the public API itself, so any well-formed handle gets the page; it
/// says when the handle has none. No store read here.
async fn program_page(State(state): State<AppState>, Path(_): Path<Handle>) -> ApiResult<Response> {
    page_of(&state, PROGRAM_PAGE, "program_page/program.html")
}

/// `GET /portal/{handle}`: the partner portal. The page signs its person in (or asks for an
/// email link) and reads everything through the API as the partner; no store read here.
async fn portal_page(State(state): State<AppState>, Path(_): Path<Handle>) -> ApiResult<Response> {
    let mut page = page_of(&state, PORTAL_PAGE, "portal/portal.html")?;
    page.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PORTAL_CONTENT_SECURITY_POLICY),
    );
    Ok(page)
}

/// The portal's policy: [`CONTENT_SECURITY_POLICY`] with the program's logo, an https image its
/// admins named in its branding, allowed (an image runs nothing).
pub const PORTAL_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: https:; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// A page of its own over the console's assets (read from `console_dir` when set).
fn page_of(state: &AppState, embedded: &str, file: &str) -> ApiResult<Response> {
    let bundle = bundle(state)?;
    let html = match &state.config.console_dir {
        None => bundle.page(embedded),
        Some(dir) => {
            let raw = std::fs::read_to_string(dir.join(file)).map_err(|e| {
                ApiError::internal(format!("reading {file} from {}: {e}", dir.display()))
            })?;
            bundle.page(&raw)
        }
    };
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    Ok((headers, html).into_response())
}

/// `GET /` on the local server: the bare short-link domain (`{handle}.localhost:8080/`, an
/// orphan visit) keeps the redirect's answer; any other host gets the console.
pub async fn local_root(State(state): State<AppState>, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if handle_from_host(host, state.config.redirect_host()).is_some() {
        return crate::http::redirect::bare_domain(State(state), request).await;
    }
    index(State(state)).await
}

async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let bundle = bundle(&state)?;
    let asset = bundle
        .asset(&file)
        .ok_or_else(|| ApiError::not_found("This console file"))?;
    let fixed = [
        (header::CONTENT_TYPE, asset.content_type),
        (header::CACHE_CONTROL, IMMUTABLE),
        (header::VARY, "accept-encoding"),
    ];
    Ok(match &asset.gzip {
        Some(gz) if accepts_gzip(&headers) => {
            (fixed, [(header::CONTENT_ENCODING, "gzip")], gz.clone()).into_response()
        }
        _ => (fixed, asset.body.clone()).into_response(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignInRequest {
    handle: String,
    /// `viewer`, `creator`, `operator` or `admin` (the default: the first start on a laptop is
    /// its owner's, who must be able to save the program).
    role: Option<String>,
    /// The code in the URL `tenx serve --local-sign-in` printed (`/?code=…`).
    code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignInResponse {
    token: String,
    handle: String,
    role: &'static str,
    expires_at: String,
}

fn sign_in_refused() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "Local sign-in is offered only by `tenx serve --local-sign-in`, to a browser on the same \
         machine that opened the URL it printed. Sign in with your email instead (or, for engineers, \
         with an access token).",
    )
}

fn sign_in_code_refused() -> ApiError {
    ApiError::unauthorized(
        "code: not the code `tenx serve --local-sign-in` printed on its terminal; open the URL \
         it printed (`http://127.0.0.1:PORT/?code=…`).",
    )
}

/// A loopback `Host`: `localhost`, `127.x.y.z`, `[::1]`, with any port, parsed as a URI
/// authority ([`crate::http::origin::parse_host`]: `localhost:1@evil.example` is not one). A
/// DNS name that resolves to 127.0.0.1, as in a DNS-rebinding attack, is refused.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    crate::http::origin::parse_host(host).is_some_and(|a| crate::http::origin::is_loopback(&a))
}

/// Whether the local sign-in is on and this request may present a code: no proxy we know of
/// stands in between, and the peer and the `Host` are loopback. Defence in depth only: a
/// same-host proxy passes all of it, so the code (checked by the handler) is what decides.
pub fn sign_in_allowed(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let proxied =
        headers.contains_key("x-forwarded-for") || headers.contains_key(header::FORWARDED);
    let origin_ok = match header(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = header(header::HOST).unwrap_or("");
            origin.strip_prefix("http://") == Some(host)
        }
    };
    state.config.local_sign_in.is_some()
        && !state.config.trusted_proxy
        && !proxied
        && origin_ok
        && peer.is_some_and(|p| p.ip().is_loopback())
        && header(header::HOST).is_some_and(is_loopback_host)
}

/// `POST /console/sign-in {handle, role?, code}`: a JWT for the browser that opened the URL
/// `tenx serve --local-sign-in` printed. No store or queue call.
async fn sign_in(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Json(body): Json<SignInRequest>,
) -> ApiResult<axum::Json<SignInResponse>> {
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    if !sign_in_allowed(&state, peer, &headers) {
        return Err(sign_in_refused());
    }
    let code_ok = match (&state.config.local_sign_in, body.code.as_deref()) {
        (Some(expected), Some(code)) => expected.matches(code.trim()),
        _ => false,
    };
    if !code_ok {
        return Err(sign_in_code_refused());
    }
    let handle = Handle::parse(body.handle.trim())?;
    let role_name = body.role.as_deref().unwrap_or("admin");
    let role = Role::parse(role_name).ok_or_else(|| {
        ApiError::invalid_request("role: expected viewer, creator, operator or admin.")
    })?;
    let exp = crate::platform::store::now_unix() + SIGN_IN_TTL_SECS;
    let claims = Claims {
        sub: "console-local".into(),
        handles: vec![handle.as_str().to_owned()],
        role,
        exp,
        iss: state.config.jwt_issuer.clone(),
        aud: state.config.jwt_audience.clone(),
    };
    let token = state
        .jwt()?
        .mint(&claims)
        .map_err(|e| ApiError::internal(format!("minting a console token: {e:#}")))?;
    Ok(axum::Json(SignInResponse {
        token,
        handle: handle.as_str().to_owned(),
        role: role.as_str(),
        expires_at: crate::domain::time::unix_to_rfc3339(exp),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TryRequest {
    /// The short URL's query string, as a visitor's link would carry it (`utm_source=ad&sub1=x`).
    query: Option<String>,
    /// The visitor's User-Agent; the caller's own when absent.
    user_agent: Option<String>,
    /// The visitor's country (ISO 3166-1 alpha-2), as the edge would report it; none when
    /// absent (the try has no edge in front of it).
    country: Option<String>,
}

/// A tried country: two ASCII letters, upper-cased (`us` → `US`).
fn tried_country(country: Option<&str>) -> ApiResult<Option<String>> {
    match country.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(Some(c.to_ascii_uppercase()))
        }
        Some(_) => Err(ApiError::invalid_request(
            "country: a two-letter ISO 3166-1 code, such as US or DE.",
        )),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TryResponse {
    /// The short URL that was visited.
    short_url: String,
    /// The redirect's status: `302`, or `410` for an expired link without `expiredUrl`.
    status: u16,
    location: Option<String>,
    /// The `ctx` on the location (none for a bot).
    ctx: Option<String>,
}

/// The visitor the try plays, as the short-link host would see them: validated once.
struct Tried {
    /// The short URL that is visited.
    short_url: String,
    /// The query, percent-encoded as a browser would send it.
    query: Option<String>,
    user_agent: Option<HeaderValue>,
    country: Option<String>,
}

impl Tried {
    fn read(
        state: &AppState,
        handle: &Handle,
        slug: &Slug,
        body: &TryRequest,
        headers: &HeaderMap,
    ) -> ApiResult<Self> {
        let query = body
            .query
            .as_deref()
            .map(|q| q.trim().trim_start_matches('?'))
            .filter(|q| !q.is_empty());
        if let Some(q) = query
            && (q.len() > 2048 || !q.bytes().all(|b| b.is_ascii_graphic() && b != b'#'))
        {
            return Err(ApiError::invalid_request(
                "query: at most 2048 printable ASCII characters without spaces or `#` \
                 (percent-encode the rest).",
            ));
        }
        let query = query.map(encode_query_bytes);
        let short_url = format!(
            "{}://{}.{}/{slug}{}",
            state.config.short_url_scheme,
            handle,
            state.config.redirect_domain,
            query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        let user_agent =
            match &body.user_agent {
                // Bytes: a localized browser's UA is UTF-8, which `from_str` would refuse.
                Some(ua) => Some(HeaderValue::from_bytes(ua.as_bytes()).map_err(|_| {
                    ApiError::invalid_request("userAgent: not a valid header value.")
                })?),
                None => headers.get(header::USER_AGENT).cloned(),
            };
        let country = tried_country(body.country.as_deref())?;
        Ok(Self {
            short_url,
            query,
            user_agent,
            country,
        })
    }

    /// A test visit: no cookie, no referrer, no edge.
    fn visitor(&self) -> Visitor<'_> {
        Visitor {
            user_agent: self.user_agent.as_ref().map(HeaderValue::as_bytes),
            query: self.query.as_deref(),
            country: self.country.as_deref(),
            test: true,
            ..Visitor::default()
        }
    }
}

impl TryResponse {
    /// What a visitor would get: the status and location of the redirect's answer.
    fn new(short_url: String, outcome: Outcome) -> Self {
        let (status, location, ctx) = match outcome {
            Outcome::Found { location, ctx, .. } => (302, Some(location), ctx),
            Outcome::Expired { expiry, .. } => match expiry.expired_url {
                Some(url) => (302, Some(url), None),
                None => (410, None, None),
            },
            Outcome::Orphan { fallback } => {
                (if fallback.is_some() { 302 } else { 404 }, fallback, None)
            }
        };
        Self {
            short_url,
            status,
            location,
            ctx,
        }
    }
}

/// Percent-encodes what the URI parser refuses raw in a query (`"`, `<`, `>`, `\`, `[`, `]`,
/// `^`, `` ` ``, `{`, `|`, `}`), as a browser would: the tried query is a visitor's.
fn encode_query_bytes(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `POST …/links/{slug}/try`: follows the short link once, as a visitor would, as a test click.
/// Round trips: ONE link read, then the redirect's own (the link from its cache, ONE click
/// append); the write limit's counter is taken by `authorize` before.
async fn try_redirect(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, slug)): Path<(Handle, Slug)>,
    headers: HeaderMap,
    Json(body): Json<TryRequest>,
) -> ApiResult<axum::Json<TryResponse>> {
    // An unknown slug is the console's mistake, not a visit: no orphan visit is recorded.
    crate::links::load(state.store.as_ref(), &caller.handle, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Link {slug}")))?;
    let tried = Tried::read(&state, &caller.handle, &slug, &body, &headers)?;
    let r = crate::http::redirect::redirector(&state);
    let outcome = visit::visit(r, &caller.handle, slug.as_str(), &tried.visitor()).await?;
    Ok(axum::Json(TryResponse::new(tried.short_url, outcome)))
}

#[cfg(test)]
mod tests {
    /// Every printable query the contract admits builds a request (the fuzzer found `>` and
    /// `|` refused as "not a valid URL query string").
    #[test]
    fn every_printable_query_is_encoded_into_a_valid_uri() {
        let all: String = (0x21u8..=0x7e)
            .filter(|b| *b != b'#')
            .map(char::from)
            .collect();
        let path = format!("/fuzz?{}", super::encode_query_bytes(&all));
        assert!(path.parse::<axum::http::Uri>().is_ok(), "{path}");
        assert_eq!(super::encode_query_bytes("a=1&b=x|y"), "a=1&b=x%7Cy");
    }

    use super::*;

    #[test]
    fn references_are_rewritten_to_hashed_names_leaves_first() {
        let b = Bundle::build(
            r#"<link href="/console/a.css"><script src="/console/m.js" type="module"></script>"#,
            vec![
                ("a.css", b"body{}".to_vec()),
                ("u.js", b"export const x = 1;".to_vec()),
                ("m.js", b"import { x } from './u.js';".to_vec()),
            ],
        );
        let u = &b.assets[1];
        let m = &b.assets[2];
        assert!(u.hashed.starts_with("u.") && u.hashed.ends_with(".js") && u.hashed.len() == 17);
        assert_eq!(
            String::from_utf8_lossy(&m.body),
            format!("import {{ x }} from './{}';", u.hashed)
        );
        assert!(
            b.index
                .contains(&format!("/console/{}", b.assets[0].hashed))
        );
        assert!(b.index.contains(&format!("/console/{}", m.hashed)));
        assert!(b.asset(&m.hashed).is_some() && b.asset("m.js").is_none());
    }

    #[test]
    fn a_changed_leaf_changes_the_names_of_what_imports_it() {
        let build = |leaf: &[u8]| {
            Bundle::build(
                "",
                vec![
                    ("u.js", leaf.to_vec()),
                    ("m.js", b"import './u.js';".to_vec()),
                ],
            )
        };
        let (one, two) = (build(b"1"), build(b"2"));
        assert_ne!(one.assets[1].hashed, two.assets[1].hashed);
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "acme.localhost:8080",
            "evil.example:8080",
            "10.0.0.1",
            "",
            "[::2]:80",
            "localhost:1@evil.example",
            "[::1]@evil.example",
            "127.0.0.1:80@evil.example",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
