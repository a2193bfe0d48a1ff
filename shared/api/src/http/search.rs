//! `GET /v2/handles/{handle}/search?q=` (viewer+, signed in; a partner's credential is refused
//! by the access table): the console's pickers (issue 62) find partners, campaigns and links by
//! their id or name instead of asking for an id typed by hand. The work is in `crate::search`.

use axum::extract::State;
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::search::{self, Found, MAX_QUERY_CHARS};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Viewer;
    use crate::http::routes::Charge::Free;
    Routes::new()
        .at("/v2/handles/{handle}/search")
        .get(Viewer, None, Free, find)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    q: Option<String>,
}

async fn find(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Params>,
) -> ApiResult<axum::Json<Found>> {
    let q = p.q.unwrap_or_default();
    // Any text is a search (one that matches nothing finds nothing); only its length is bounded.
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid_request(format!(
            "q: at most {MAX_QUERY_CHARS} characters."
        )));
    }
    Ok(axum::Json(
        search::search(state.store.as_ref(), &caller.handle, &q).await?,
    ))
}
