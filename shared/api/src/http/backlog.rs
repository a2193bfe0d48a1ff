//! `GET /v2/handles/{handle}/backlog` (issue 58): the handle's events accepted and not yet
//! counted, and those set aside, in words for the console's Settings screen. Admins and
//! operators (a session or a JWT): it reads every pending outbox entry, a look, not a poll.

use axum::Json;
use axum::extract::State;

use crate::http::auth::Caller;
use crate::http::error::ApiResult;
use crate::http::routes::Routes;
use crate::kernel::backlog::{self, HandleBacklog};
use crate::kernel::state::AppState;

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::routes::Charge::Free;
    Routes::new()
        .at("/v2/handles/{handle}/backlog")
        .get(Operator, None, Free, show)
}

async fn show(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<HandleBacklog>> {
    let handle = caller.handle.as_str();
    Ok(Json(
        backlog::of_handle(state.store.as_ref(), handle).await?,
    ))
}
