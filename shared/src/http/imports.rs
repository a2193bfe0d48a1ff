//! Import routes (issue 64): start an import of another tool's export (the body) and read its
//! report. The work is in `crate::imports`; the rows are written by the imports worker.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{Handle, ImportId};
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Path, Query};
use crate::http::routes::Routes;
use crate::imports::links_sources::Format;
use crate::imports::model::{Counts, Job, OnConflict, RowError, Source, Status};
use crate::imports::{self, ImportError, MAX_BODY_BYTES};
use crate::kernel::state::AppState;

/// Operators and admins signed in (no token scope: an import writes many links at once);
/// a program's export (partners, customers, commissions) is an admin's
/// ([`Source::is_program`], checked in [`start`]).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/imports")
        .post(Operator, None, Write, start)
        .at("/v2/handles/{handle}/imports/{importId}")
        .get(Operator, None, Free, read)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StartParams {
    source: String,
    #[serde(default)]
    dry_run: Option<String>,
    #[serde(default)]
    on_conflict: Option<String>,
}

/// An import as the API answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportView {
    import_id: ImportId,
    source: Source,
    status: Status,
    dry_run: bool,
    on_conflict: OnConflict,
    counts: Counts,
    errors: Vec<RowError>,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<Timestamp>,
}

impl From<Job> for ImportView {
    fn from(j: Job) -> Self {
        Self {
            import_id: j.import_id,
            source: j.source,
            status: j.status,
            dry_run: j.dry_run,
            on_conflict: j.on_conflict,
            counts: j.counts,
            errors: j.errors,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

fn format_of(headers: &HeaderMap) -> ApiResult<Format> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/json" => Ok(Format::Json),
        _ => Err(ApiError::invalid_request(
            "content-type: the export goes as text/csv or application/json.",
        )),
    }
}

fn flag(name: &str, raw: Option<&str>) -> ApiResult<bool> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{name}: must be true or false."
        ))),
    }
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<StartParams>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let source = Source::parse(&params.source).ok_or_else(|| {
        let names: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::invalid_request(format!("source: one of {}.", names.join(", ")))
    })?;
    if source.is_program() && caller.principal.role < Role::Admin {
        return Err(ApiError::new(
            ErrorCode::InsufficientRole,
            "Importing a partner program (partners, customers, commissions) takes an admin.",
        ));
    }
    let dry_run = flag("dryRun", params.dry_run.as_deref())?;
    let on_conflict = match params.on_conflict.as_deref() {
        None | Some("skip") => OnConflict::Skip,
        Some("overwrite") => OnConflict::Overwrite,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "onConflict: must be skip or overwrite.",
            ));
        }
    };
    let format = format_of(&headers)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The export exceeds {} MiB; import it with `tenx import`.",
                    MAX_BODY_BYTES / (1024 * 1024)
                ),
            )
        })?;
    let request = imports::Request {
        source,
        format,
        body: &bytes,
        dry_run,
        on_conflict,
    };
    let job = imports::start(state.io(), &caller.handle, request).await?;
    let body = serde_json::json!({ "importId": job.import_id });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<axum::Json<ImportView>> {
    let id = ImportId::parse(&raw).map_err(|_| ApiError::not_found(format!("The import {raw}")))?;
    let job = imports::get(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(axum::Json(job.into()))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        let message = e.to_string();
        match e {
            ImportError::Unreadable(_) => ApiError::invalid_request(message),
            ImportError::AlreadyRunning => ApiError::conflict(message),
            ImportError::DailyLimit => ApiError::new(ErrorCode::RateLimited, message),
            ImportError::NotFound(id) => ApiError::not_found(format!("The import {id}")),
            ImportError::Store(e) => e.into(),
            ImportError::Queue(e) => e.into(),
        }
    }
}
