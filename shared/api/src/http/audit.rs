//! The audit log's routes (issue 60): `GET /v2/handles/{handle}/audit` (`{items, nextCursor}`,
//! filters `actorType`, `actorId`, `action`, `from`, `to`) and `…/audit/export` (CSV of the same
//! filters, up to 10,000 entries). Admins and operators; not viewers or creators; no PAT.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::{self, PageParams};
use crate::http::routes::Routes;
use crate::kernel::audit::{self, ActorType, Filter};
use crate::kernel::state::AppState;

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::routes::Charge::Free;
    Routes::new()
        .at("/v2/handles/{handle}/audit")
        .get(Operator, None, Free, list)
        .at("/v2/handles/{handle}/audit/export")
        .get(Operator, None, Free, export)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Params {
    limit: Option<String>,
    cursor: Option<String>,
    actor_type: Option<String>,
    actor_id: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Params {
    fn filter(&self) -> ApiResult<Filter> {
        let time = |name: &str, raw: &Option<String>| -> ApiResult<Option<i64>> {
            raw.as_deref()
                .map(|v| {
                    crate::domain::time::rfc3339_millis(v).ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "{name}: an RFC 3339 time such as 2026-11-01T00:00:00Z."
                        ))
                    })
                })
                .transpose()
        };
        let actor_type = self
            .actor_type
            .as_deref()
            .map(|t| {
                ActorType::parse(t).ok_or_else(|| {
                    ApiError::invalid_request(format!(
                        "actorType: one of {}.",
                        ActorType::ALL.map(ActorType::as_str).join(", ")
                    ))
                })
            })
            .transpose()?;
        Ok(Filter {
            actor_type,
            actor_id: self.actor_id.clone(),
            action: self.action.clone(),
            from_ms: time("from", &self.from)?,
            to_ms: time("to", &self.to)?,
        })
    }

    fn page(&self) -> PageParams {
        PageParams {
            limit: self.limit.clone(),
            cursor: self.cursor.clone(),
        }
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let filter = params.filter()?;
    let page = params.page();
    let (items, next) = audit::list(
        state.store.as_ref(),
        &caller.handle,
        &filter,
        page.limit()?,
        page.after()?,
    )
    .await?;
    Ok(axum::Json(serde_json::json!({
        "items": items,
        "nextCursor": next.as_deref().map(pagination::encode_cursor),
    })))
}

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let filter = params.filter()?;
    let body = audit::export_csv(state.store.as_ref(), &caller.handle, &filter).await?;
    Ok(crate::http::csv_download::attachment(
        body,
        "audit.csv",
        false,
    ))
}

impl From<audit::ExportError> for ApiError {
    fn from(e: audit::ExportError) -> Self {
        match e {
            audit::ExportError::Csv(_) => ApiError::internal(e.to_string()),
            audit::ExportError::Store(e) => e.into(),
        }
    }
}
