//! Partner risk (issue 46): `GET …/partners/{partnerId}/risk`, a manager's read (never a partner
//! token's: the route is not in the partner allow-list). The work is in `crate::risk`.

use axum::extract::State;

use crate::domain::{Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Path;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::risk::{self, PartnerRisk, RiskError};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Viewer;
    use crate::http::auth::Scope::CommissionsRead;
    use crate::http::routes::Charge::Free;
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/risk")
        .get(Viewer, Some(CommissionsRead), Free, get_risk)
}

/// The partner's score and signals, assessed now (its snapshot refreshed).
async fn get_risk(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<PartnerRisk>> {
    Ok(axum::Json(
        risk::assess(state.store.as_ref(), &caller.handle, &id).await?,
    ))
}

impl From<RiskError> for ApiError {
    fn from(e: RiskError) -> Self {
        match e {
            RiskError::UnknownPartner(id) => ApiError::not_found(format!("Partner {id}")),
            RiskError::Store(e) => e.into(),
        }
    }
}
