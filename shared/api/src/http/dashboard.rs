//! `GET /v2/handles/{handle}/dashboard?from=&to=` (viewer+; a partner's credential is refused
//! by the access table): the program's money picture (issue 62), revenue, commissions by status
//! and payouts per day, and its partners by earnings, one picture per currency. The work and its
//! round trips are in `portal::dashboard`; its figures add up with the partner summaries'.

use axum::extract::State;
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::portal::dashboard::{self, Dashboard, DashboardError};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Viewer;
    use crate::http::auth::Scope::CommissionsRead;
    use crate::http::routes::Charge::Free;
    Routes::new().at("/v2/handles/{handle}/dashboard").get(
        Viewer,
        Some(CommissionsRead),
        Free,
        show,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    from: Option<String>,
    to: Option<String>,
}

impl From<DashboardError> for ApiError {
    fn from(e: DashboardError) -> Self {
        match e {
            DashboardError::TooManyLines => ApiError::invalid_request(e.to_string()),
            DashboardError::Store(s) => s.into(),
        }
    }
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Params>,
) -> ApiResult<axum::Json<Dashboard>> {
    let now = crate::platform::time::now_millis();
    let window = crate::http::partner_portal::window(p.from.as_deref(), p.to.as_deref(), now)?;
    Ok(axum::Json(
        dashboard::dashboard(state.store.as_ref(), &caller.handle, window).await?,
    ))
}
