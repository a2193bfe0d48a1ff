//! Payout batch routes (issue 46): create (an idempotency key), read, the rail's file, mark
//! paid, cancel. The work is in `crate::payout_batches`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::{BatchId, Currency, Handle, PayoutId, PayoutRunKey};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::{Page, PageParams, encode_cursor};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::payout_batches::select::BatchSpec;
use crate::payout_batches::{self, BatchError, BatchView, create, file, settle};
use crate::payout_methods::MethodType;

/// Read with `commissions.read`; create, download (the file holds the full details), mark
/// paid and cancel with `payouts.write`.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, PayoutsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(PayoutsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/payout-batches")
        .get(Viewer, R, Free, list)
        .post(Operator, W, Write, create_batch)
        .at("/v2/handles/{handle}/payout-batches/{batchId}")
        .get(Viewer, R, Free, get_one)
        .at("/v2/handles/{handle}/payout-batches/{batchId}/file")
        .get(Operator, W, Free, get_file)
        .at("/v2/handles/{handle}/payout-batches/{batchId}/mark-paid")
        .post(Operator, W, Write, mark_paid)
        .at("/v2/handles/{handle}/payout-batches/{batchId}/cancel")
        .post(Operator, W, Write, cancel)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    method: String,
    #[serde(default)]
    payout_ids: Option<Vec<String>>,
    #[serde(default)]
    execution_date: Option<String>,
}

impl CreateBody {
    fn spec(self) -> ApiResult<BatchSpec> {
        let method = MethodType::parse(&self.method)
            .filter(|m| !matches!(m, MethodType::Manual | MethodType::StripeConnect))
            .ok_or_else(|| ApiError::invalid_request("method: expected sepa, paypal or wise."))?;
        let payout_ids = self
            .payout_ids
            .map(|ids| {
                ids.iter()
                    .enumerate()
                    .map(|(i, raw)| {
                        PayoutId::parse(raw).map_err(|_| {
                            ApiError::invalid_request(format!(
                                "payoutIds[{i}]: `{raw}` is not a payout id (pay_…)."
                            ))
                        })
                    })
                    .collect::<ApiResult<Vec<_>>>()
            })
            .transpose()?;
        let execution_date = self
            .execution_date
            .map(|d| execution_date(&d))
            .transpose()?;
        Ok(BatchSpec {
            method,
            payout_ids,
            execution_date,
        })
    }
}

/// `YYYY-MM-DD`, today or later (a bank refuses a past execution date).
fn execution_date(raw: &str) -> ApiResult<String> {
    let bad =
        || ApiError::invalid_request("executionDate: expected a date YYYY-MM-DD, today or later.");
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw, &format).map_err(|_| bad())?;
    if date < crate::platform::time::now().date() {
        return Err(bad());
    }
    Ok(raw.to_owned())
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<PayoutRunKey> {
    let raw = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(PayoutRunKey::parse(raw)?)
}

async fn create_batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<CreateBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let spec = body.spec()?;
    // A batch pays every partner due: a member who is also one never makes or settles one.
    caller.refuse_own(None).await?;
    let by = &caller.principal.subject;
    let (batch, created) =
        create::create(state.store.as_ref(), &caller.handle, &key, &spec, by).await?;
    let status = match created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok((status, axum::Json(BatchView::from(&batch))).into_response())
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<BatchView>>> {
    let (items, next) = payout_batches::list(
        state.store.as_ref(),
        &caller.handle,
        params.limit()?,
        params.after()?,
    )
    .await?;
    Ok(axum::Json(Page {
        items: items.iter().map(BatchView::from).collect(),
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, BatchId)>,
) -> ApiResult<axum::Json<BatchView>> {
    let batch = payout_batches::get(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(axum::Json(BatchView::from(&batch)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParams {
    currency: Option<String>,
}

async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, BatchId)>,
    Query(params): Query<FileParams>,
) -> ApiResult<Response> {
    let currency = params
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()?;
    let batch = payout_batches::get(state.store.as_ref(), &caller.handle, &id).await?;
    let f = file::render(
        (state.store.as_ref(), state.payout_key()),
        &caller.handle,
        &batch,
        currency,
    )
    .await?;
    let mut response = f.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", f.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceBody {
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

fn text(field: &str, raw: &str) -> ApiResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 140 || t.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!(
            "{field}: must be 1 to 140 characters long, without control characters."
        )));
    }
    Ok(t.to_owned())
}

async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, BatchId)>,
    Json(body): Json<ReferenceBody>,
) -> ApiResult<axum::Json<BatchView>> {
    let reference = text("reference", &body.reference)?;
    caller.refuse_own(None).await?;
    let batch = settle::mark_paid(state.io(), &caller.handle, &id, &reference).await?;
    Ok(axum::Json(BatchView::from(&batch)))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, BatchId)>,
    Json(body): Json<ReasonBody>,
) -> ApiResult<axum::Json<BatchView>> {
    let reason = text("reason", &body.reason)?;
    caller.refuse_own(None).await?;
    let batch = settle::cancel(state.store.as_ref(), &caller.handle, &id, &reason).await?;
    Ok(axum::Json(BatchView::from(&batch)))
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let message = e.to_string();
        match e {
            BatchError::NotFound(id) => ApiError::not_found(format!("Batch {id}")),
            BatchError::Invalid(_) | BatchError::Empty { .. } => ApiError::invalid_request(message),
            BatchError::InLiveBatch { .. } => ApiError::conflict(message),
            BatchError::InvalidState(_) => ApiError::invalid_state(message),
            BatchError::KeyReused => ApiError::new(ErrorCode::IdempotencyKeyReused, message),
            BatchError::Busy => ApiError::conflict(message),
            BatchError::Method(e) => e.into(),
            BatchError::Payout(e) => e.into(),
            BatchError::Store(e) => e.into(),
        }
    }
}
