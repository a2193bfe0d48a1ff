//! `GET /t.js` (no auth): the first-party script merchants embed on landing and checkout pages
//! (`console/site/t.js`, [docs/connectors-script.md](../../../docs/connectors-script.md)). It keeps the
//! landing page's ctx in a first-party cookie, asks `POST /v2/public/refs` for a ref when the page
//! has a Stripe Payment Link, buy button or pricing table to fill, and exposes `tenx.ctx()` and
//! `tenx.ref()`.
//!
//! The URL is fixed (merchants paste it once), so the file is cached for a day, not as
//! `immutable`, and revalidated by its `etag` (`304` to a matching `if-none-match`). It is served
//! gzipped to a browser that accepts it, each encoding with its own strong `etag`.
//!
//! The script runs on the merchant's origin and calls this API's two public ctx routes from there:
//! [`cors`] lets it read their answers (`access-control-allow-origin: *`; no credentials travel,
//! and the script's requests are simple ones, so there is no preflight).

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::console::accepts_gzip;
use crate::http::error::ApiError;
use crate::kernel::state::AppState;

/// The script, as embedded in the binary.
pub const SCRIPT: &[u8] = tenx_console::SCRIPT;
/// The referral dashboard's element (`<tenx-referrals>`, issue 61), served the same way.
pub const EMBED_SCRIPT: &[u8] = tenx_console::EMBED_SCRIPT;

/// A day: a new release reaches every page within one.
pub const CACHE_CONTROL: &str = "public, max-age=86400";

/// The routes the script calls from the merchant's origin, whose answers it must be able to read.
pub const CORS_PATHS: [&str; 2] = ["/v2/public/context", "/v2/public/refs"];

/// One encoding of the script and its validator.
struct Variant {
    body: Vec<u8>,
    etag: String,
}

/// The script plain and gzipped.
struct Served {
    plain: Variant,
    gzip: Variant,
}

/// `"{the first 16 hex digits of the body's SHA-256}"`.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..8]))
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .unwrap_or_default()
}

impl Served {
    fn new(plain: Vec<u8>) -> Self {
        let gz = gzip(&plain);
        Self {
            gzip: Variant {
                etag: etag_of(&gz),
                body: gz,
            },
            plain: Variant {
                etag: etag_of(&plain),
                body: plain,
            },
        }
    }

    /// The embedded copy, compressed once per process.
    fn embedded(cell: &'static OnceLock<Served>, body: &'static [u8]) -> &'static Served {
        cell.get_or_init(|| Served::new(body.to_vec()))
    }
}

/// Whether `if-none-match` names `etag` (weak comparison, as for any GET) or is `*`.
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/t.js", get(t_script))
        .route("/embed.js", get(embed_script))
}

async fn t_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    static SERVED: OnceLock<Served> = OnceLock::new();
    script(
        &state,
        &headers,
        "site/t.js",
        Served::embedded(&SERVED, SCRIPT),
    )
}

async fn embed_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    static SERVED: OnceLock<Served> = OnceLock::new();
    script(
        &state,
        &headers,
        "site/embed.js",
        Served::embedded(&SERVED, EMBED_SCRIPT),
    )
}

/// `GET /t.js` (or `/embed.js`): the embedded script, or its file (`site/t.js`) in
/// `TENX_CONSOLE_DIR` when set (console development, read on every request like the console's
/// files).
fn script(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    embedded: &'static Served,
) -> Response {
    let read;
    let served = match &state.config.console_dir {
        None => embedded,
        Some(dir) => match std::fs::read(dir.join(name)) {
            Ok(body) => {
                read = Served::new(body);
                &read
            }
            Err(e) => {
                let message = format!("reading {name} from {}: {e}", dir.display());
                return ApiError::internal(message).into_response();
            }
        },
    };
    let (variant, encoding) = if accepts_gzip(headers) {
        (&served.gzip, Some("gzip"))
    } else {
        (&served.plain, None)
    };
    let mut response = if matches(headers, &variant.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = variant.body.clone().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        if let Some(encoding) = encoding {
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&variant.etag) {
        h.insert(header::ETAG, etag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // The merchant's page may measure it (its size and timing in Resource Timing).
    h.insert("timing-allow-origin", HeaderValue::from_static("*"));
    // Embeddable by a page that isolates itself (COEP).
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// The public group's layer: `access-control-allow-origin: *` on the answers of [`CORS_PATHS`],
/// which the script reads from the merchant's origin.
pub async fn cors(request: Request, next: Next) -> Response {
    let cross_origin = CORS_PATHS.contains(&request.uri().path());
    let mut response = next.run(request).await;
    if cross_origin {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}
