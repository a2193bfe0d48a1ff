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
use crate::http::extract::{Json, Path, Query};
use crate::http::routes::Routes;
use crate::imports::dashboard_csv::{ColumnMap, Field};
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
        .at("/v2/handles/{handle}/imports/uploads")
        .post(Operator, None, Write, create_upload)
        .at("/v2/handles/{handle}/imports/preview")
        .post(Operator, None, Free, preview)
        .at("/v2/handles/{handle}/imports/column-maps/{tool}")
        .get(Operator, None, Free, read_column_map)
        .put(Operator, None, Write, save_column_map)
        .at("/v2/handles/{handle}/imports/{importId}")
        .get(Operator, None, Free, read)
}

/// A pull by API key: served by the commissions function, which holds the keyring its key is
/// sealed with (the links function holds no payout key). Operators for links, admins for a
/// program (checked in [`pull`]).
pub(crate) fn pull_routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::routes::Charge::Write;
    Routes::new()
        .at("/v2/handles/{handle}/imports/pull")
        .post(Operator, None, Write, pull)
}

/// The local server's upload URL (issue 64): the PUT of a file to the data dir's `uploads/`,
/// allowed by the URL's signature alone (as S3's presigned URL is on AWS). A process whose
/// uploads go to S3 answers 404 here.
pub fn public_router() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/v2/uploads/imports/{handle}/{uploadId}",
        axum::routing::put(put_upload),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StartParams {
    source: String,
    #[serde(default)]
    dry_run: Option<String>,
    #[serde(default)]
    on_conflict: Option<String>,
    /// The import of an uploaded file (`POST …/imports/uploads`) instead of the body.
    #[serde(default)]
    upload_id: Option<String>,
    /// The file's format: `csv`, `json` or `zip` (Dub Partners' CSVs; default: a body's content-type; an upload's, the
    /// source's own, JSON but for `csv`).
    #[serde(default)]
    format: Option<String>,
    /// A CSV of a tool 10x does not know, read by the column map remembered for this tool's
    /// name (`PUT …/imports/column-maps/{tool}`); with `source=csv`.
    #[serde(default)]
    column_map: Option<String>,
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
    notes: Vec<RowError>,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<Timestamp>,
    /// A pull by API key the worker is still reading: how far it got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pulling: Option<Pulling>,
}

/// How much of the tool's lists a pull has read so far.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pulling {
    pages: u64,
    items: u64,
}

impl From<Job> for ImportView {
    /// The refused rows and the notes in the file's order (a staging's and a worker's findings
    /// come at different times).
    fn from(mut j: Job) -> Self {
        j.errors.sort_by(RowError::file_order);
        j.notes.sort_by(RowError::file_order);
        if j.notes_left_out > 0 {
            // Said last, as the file's own row (row 0), where the kept notes end.
            j.notes.push(RowError {
                row: 0,
                field: "notes".into(),
                message: format!(
                    "{} more notes are not listed: the report keeps the first {}.",
                    j.notes_left_out,
                    j.notes.len()
                ),
                ..Default::default()
            });
        }
        Self {
            import_id: j.import_id,
            source: j.source,
            status: j.status,
            dry_run: j.dry_run,
            on_conflict: j.on_conflict,
            counts: j.counts,
            errors: j.errors,
            notes: j.notes,
            created_at: j.created_at,
            finished_at: j.finished_at,
            pulling: j.pending_pull.map(|p| Pulling {
                pages: p.at.pages,
                items: p.at.items,
            }),
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
        "application/zip" | "application/x-zip-compressed" => Ok(Format::Zip),
        _ => Err(ApiError::invalid_request(
            "content-type: the export goes as text/csv, application/json or (Dub Partners' CSVs) application/zip.",
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
    let (on_conflict, format) = conflict_and_format(&params)?;
    let column_map =
        column_map_of(&state, &caller.handle, source, params.column_map.as_deref()).await?;
    let format = format.or(column_map.is_some().then_some(Format::Csv));
    if let Some(upload_id) = params.upload_id.as_deref() {
        let format = format.unwrap_or(if source == Source::Csv {
            Format::Csv
        } else {
            Format::Json
        });
        let options = imports::Options {
            source,
            format,
            dry_run,
            on_conflict,
            column_map,
        };
        let job = imports::uploads::start(
            state.io(),
            state.uploads.as_deref(),
            &caller.handle,
            upload_id,
            options,
        )
        .await?;
        let body = serde_json::json!({ "importId": job.import_id });
        return Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response());
    }
    // A file chosen in a browser goes as whatever type its name says: `format` tells it then.
    let format = match format {
        Some(format) => format,
        None => format_of(&headers)?,
    };
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The export exceeds {} MiB, the most a request takes; import it with `tenx import`, or upload it first (POST /v2/handles/{{handle}}/imports/uploads).",
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
        column_map,
    };
    let job = imports::start(state.io(), &caller.handle, request).await?;
    let body = serde_json::json!({ "importId": job.import_id });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PullBody {
    source: String,
    api_key: String,
    /// FirstPromoter's Account ID, sent beside its key.
    #[serde(default)]
    account_id: Option<String>,
    /// Tolt's program id (`prg_…`), whose lists are read.
    #[serde(default)]
    program_id: Option<String>,
    /// PartnerStack's public key, sent with its secret key (`apiKey`).
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    on_conflict: Option<OnConflict>,
}

/// A program (or a tool's links) pulled from the tool by the manager's API key: the key
/// checked by the tool, then read and imported by the imports worker (as its file would be),
/// the key sealed on the job until then.
async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PullBody>,
) -> ApiResult<Response> {
    let source = Source::parse(&body.source).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "source: the tool to pull from: {}.",
            imports::pull::SOURCES
        ))
    })?;
    if !imports::pull::pulls(source) {
        return Err(ApiError::invalid_request(format!(
            "source: pulling from {} by API key is not available yet; export its lists and import the file instead.",
            source.as_str()
        )));
    }
    if imports::pull::imported_as(source).is_program() && caller.principal.role < Role::Admin {
        return Err(ApiError::new(
            ErrorCode::InsufficientRole,
            "Importing a partner program (partners, customers, commissions) takes an admin.",
        ));
    }
    let request = imports::pulled::PullRequest {
        tool: source,
        credentials: imports::pull::Credentials {
            api_key: body.api_key,
            account_id: body.account_id,
            program_id: body.program_id,
            public_key: body.public_key,
        },
        dry_run: body.dry_run,
        on_conflict: body.on_conflict.unwrap_or_default(),
    };
    let job = imports::pulled::start(
        state.io(),
        state.payout_key().ok(),
        &imports::pull::Bases::of(&state.config),
        &caller.handle,
        request,
    )
    .await?;
    let answer = serde_json::json!({ "importId": job.import_id });
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}

/// `onConflict` and `format` (`None`: the body's content-type, or the source's own).
fn conflict_and_format(params: &StartParams) -> ApiResult<(OnConflict, Option<Format>)> {
    let on_conflict = match params.on_conflict.as_deref() {
        None | Some("skip") => OnConflict::Skip,
        Some("overwrite") => OnConflict::Overwrite,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "onConflict: must be skip or overwrite.",
            ));
        }
    };
    let format = match params.format.as_deref() {
        None => None,
        Some("json") => Some(Format::Json),
        Some("csv") => Some(Format::Csv),
        Some("zip") => Some(Format::Zip),
        Some(_) => {
            return Err(ApiError::invalid_request(
                "format: must be csv, json or zip.",
            ));
        }
    };
    Ok((on_conflict, format))
}

/// The map remembered for `tool` (`columnMap=`), which only a `csv` import reads.
async fn column_map_of(
    state: &AppState,
    handle: &Handle,
    source: Source,
    tool: Option<&str>,
) -> ApiResult<Option<ColumnMap>> {
    let Some(tool) = tool else { return Ok(None) };
    if source != Source::Csv {
        return Err(ApiError::invalid_request(
            "columnMap: only with source=csv (a file of a tool 10x does not know).",
        ));
    }
    let saved = imports::column_maps::get(state.store.as_ref(), handle, tool).await?;
    let saved = saved.ok_or_else(|| ApiError::not_found(format!("The column map of “{tool}”")))?;
    Ok(Some(saved.columns))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewParams {
    /// The tool the file comes from: its remembered map, when it has one, instead of a guess.
    #[serde(default)]
    tool: Option<String>,
}

/// What the preview answers: the file's first rows, and the map to read it by (the tool's
/// remembered one, else 10x's guess from its headers).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreviewView {
    #[serde(flatten)]
    preview: imports::dashboard_csv::Preview,
    remembered: bool,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct FieldView {
    field: Field,
    words: &'static str,
}

/// The header and first rows of a CSV (the body, or its first part), for the manager to map
/// its columns to 10x's fields. Nothing is stored.
async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PreviewParams>,
    body: axum::body::Body,
) -> ApiResult<axum::Json<PreviewView>> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "A preview reads at most {} MiB: send the file's first part.",
                    MAX_BODY_BYTES / (1024 * 1024)
                ),
            )
        })?;
    let reader = imports::decode::Utf8Reader::new(std::io::Cursor::new(bytes))
        .map_err(|e| ApiError::invalid_request(format!("The file could not be read: {e}.")))?;
    let mut preview =
        imports::dashboard_csv::preview(reader).map_err(|e| ApiError::invalid_request(e.0))?;
    let saved = match params.tool.as_deref() {
        Some(tool) => imports::column_maps::get(state.store.as_ref(), &caller.handle, tool).await?,
        None => None,
    };
    let remembered = saved.is_some();
    if let Some(saved) = saved {
        preview.column_map = saved.columns;
    }
    let fields = Field::ALL
        .into_iter()
        .map(|field| FieldView {
            field,
            words: imports::dashboard_csv::words(field),
        })
        .collect();
    Ok(axum::Json(PreviewView {
        preview,
        remembered,
        fields,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnMapBody {
    columns: ColumnMap,
}

async fn read_column_map(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, tool)): Path<(Handle, String)>,
) -> ApiResult<axum::Json<imports::column_maps::SavedMap>> {
    let saved = imports::column_maps::get(state.store.as_ref(), &caller.handle, &tool).await?;
    let saved = saved.ok_or_else(|| ApiError::not_found(format!("The column map of “{tool}”")))?;
    Ok(axum::Json(saved))
}

async fn save_column_map(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, tool)): Path<(Handle, String)>,
    Json(body): Json<ColumnMapBody>,
) -> ApiResult<axum::Json<imports::column_maps::SavedMap>> {
    let saved =
        imports::column_maps::save(state.store.as_ref(), &caller.handle, &tool, body.columns)
            .await?;
    Ok(axum::Json(saved))
}

/// A local server's upload URL is absolute to this server's origin (a path alone when a server
/// off loopback has no `TENX_PUBLIC_URL`); S3's presigned URL names its own.
async fn create_upload(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let created = imports::uploads::create(
        state.uploads.as_deref(),
        &caller.handle,
        state.config.public_origin().unwrap_or(""),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutParams {
    expires: String,
    signature: String,
}

/// The local upload URL's PUT: the signature and expiry checked first, then the body streamed
/// to a temporary file (at most [`crate::platform::uploads::MAX_UPLOAD_BYTES`]) and put in
/// place.
async fn put_upload(
    State(state): State<AppState>,
    Path((handle, upload_id)): Path<(Handle, String)>,
    Query(params): Query<PutParams>,
    body: axum::body::Body,
) -> ApiResult<StatusCode> {
    use crate::platform::uploads::MAX_UPLOAD_BYTES;
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let local = state
        .uploads
        .as_deref()
        .and_then(|u| u.local())
        .ok_or_else(|| ApiError::not_found("This route"))?;
    let upload_id = imports::uploads::parse_id(&upload_id)
        .ok_or_else(|| ApiError::not_found(format!("The upload {upload_id}")))?;
    let key = imports::uploads::key(&handle, upload_id);
    let forbidden = |e: crate::platform::uploads::local::PutRefused| {
        ApiError::new(ErrorCode::Forbidden, e.to_string())
    };
    let expires = params
        .expires
        .parse::<i64>()
        .map_err(|_| forbidden(crate::platform::uploads::local::PutRefused::BadSignature))?;
    local
        .check(
            &key,
            expires,
            &params.signature,
            crate::platform::store::now_unix(),
        )
        .map_err(forbidden)?;
    let io_error = |e: std::io::Error| {
        ApiError::from(crate::platform::store::StoreError::Other(e.to_string()))
    };
    let (mut file, tmp) = local.create(&key).await.map_err(io_error)?;
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid_request(format!("The upload broke off: {e}.")));
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        written += chunk.len() as u64;
        if written > MAX_UPLOAD_BYTES {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The file exceeds {} MiB, the most an upload takes.",
                    MAX_UPLOAD_BYTES / (1024 * 1024)
                ),
            ));
        }
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    file.sync_all().await.map_err(io_error)?;
    drop(file);
    local.commit(&tmp, &key).await.map_err(io_error)?;
    Ok(StatusCode::OK)
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
            ImportError::UploadNotFound(id) => ApiError::not_found(format!("The upload {id}")),
            ImportError::NotUploaded(_) => ApiError::conflict(message),
            ImportError::UploadsOff => ApiError::invalid_request(message),
            ImportError::Uploads(e) => {
                ApiError::from(crate::platform::store::StoreError::Other(e.to_string()))
            }
            ImportError::Pull(
                imports::pull::PullError::Key(_) | imports::pull::PullError::TooLarge(_),
            ) => ApiError::invalid_request(message),
            ImportError::Pull(imports::pull::PullError::Limited(_)) => {
                ApiError::new(ErrorCode::RateLimited, message)
            }
            ImportError::Pull(imports::pull::PullError::Tool(_)) => {
                ApiError::new(ErrorCode::Unavailable, message)
            }
            ImportError::Store(e) => e.into(),
            ImportError::Queue(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(notes_left_out: u64) -> Job {
        serde_json::from_value(serde_json::json!({
            "importId": ImportId::new(),
            "source": "dub-partners",
            "status": "done",
            "dryRun": false,
            "onConflict": "skip",
            "counts": {"created": 2, "updated": 0, "skipped": 0, "failed": 0},
            "errors": [],
            "notes": [
                {"row": 3, "field": "coupons", "message": "'X' is another partner's code here"},
                {"row": 2, "field": "links[0].key", "message": "'a b' may only contain letters"},
            ],
            "notesLeftOut": notes_left_out,
            "chunks": 1,
            "cursor": 1,
            "actor": {"type": "system", "id": "system"},
            "createdAt": "2026-03-14T10:22:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn notes_past_the_kept_ones_are_counted_in_a_last_note() {
        let view = serde_json::to_value(ImportView::from(job(1_234))).unwrap();
        let notes = view["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 3);
        assert_eq!(notes[0]["row"], 2);
        let last = &notes[2];
        assert_eq!((&last["row"], &last["field"]), (&0.into(), &"notes".into()));
        assert_eq!(
            last["message"],
            "1234 more notes are not listed: the report keeps the first 2."
        );
        let view = serde_json::to_value(ImportView::from(job(0))).unwrap();
        assert_eq!(view["notes"].as_array().unwrap().len(), 2);
    }
}
