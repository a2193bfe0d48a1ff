//! Partner risk (issue 46): `GET …/partners/{partnerId}/risk`, a manager's read (never a partner
//! token's: the route is not in the partner allow-list). The work is in `crate::risk`.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::{Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::risk::{self, PartnerRisk, RiskError};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::auth::Role::Viewer;
    use crate::http::auth::Scope::CommissionsRead;
    use crate::http::auth::Scope::CommissionsWrite;
    use crate::http::routes::Charge::Free;
    use crate::http::routes::Charge::Write;
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/risk")
        .get(Viewer, Some(CommissionsRead), Free, get_risk)
        .at("/v2/handles/{handle}/partners/{partnerId}/risk/signals/{code}/dismiss")
        .post(Operator, Some(CommissionsWrite), Write, dismiss)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DismissBody {
    reason: Option<String>,
}

/// `POST …/risk/signals/{code}/dismiss` `{reason}` → 200: the partner's risk, the signal
/// dismissed. Never by a person for a partner they act for (it releases what the signal holds).
async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id, code)): Path<(Handle, PartnerId, String)>,
    Json(body): Json<DismissBody>,
) -> ApiResult<axum::Json<PartnerRisk>> {
    let code = risk::SignalCode::parse(&code).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "code: `{}` is not a partner signal.",
            code.chars().take(60).collect::<String>()
        ))
    })?;
    let reason = risk::dismissals::reason(body.reason.as_deref()).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "reason: required, 1 to {} characters: why the signal is fine.",
            risk::dismissals::MAX_REASON_CHARS
        ))
    })?;
    caller.refuse_own(Some(&id)).await?;
    let by = &caller.principal.subject;
    let risk = risk::dismiss(state.store.as_ref(), &caller.handle, &id, code, reason, by);
    Ok(axum::Json(risk.await?))
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
            e @ RiskError::NotFiring(_) => ApiError::invalid_state(e.to_string()),
            RiskError::Store(e) => e.into(),
        }
    }
}
