//! `GET /v2/reasons` (no auth, cacheable): the words for every code the API answers, from the
//! one dictionary (`domain::words`). The console, the partner portal and anyone integrating
//! read it once and show words where the API answers codes.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::kernel::state::AppState;

pub fn public_router() -> Router<AppState> {
    Router::new().route("/v2/reasons", get(reasons))
}

/// The dictionary changes only with a deploy: an hour of caching, revalidated after.
async fn reasons() -> Response {
    let mut response = axum::Json(crate::domain::words::all()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
