//! `POST /v2/public/conversions` (no auth: the signed ctx token is the credential, and it scopes
//! the idempotency key to its handle). The write path is `crate::conversions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use crate::domain::conversion::ConversionInput;
use crate::error::ApiResult;
use crate::http::extract::Json;
use crate::http::public::verify_ctx;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/public/conversions", post(create))
}

/// The body. Every field is optional here so that each missing one is reported in its own
/// words (a missing ctx is `invalid_ctx`, a missing key names `idempotencyKey`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConversionBody {
    ctx: Option<String>,
    idempotency_key: Option<String>,
    event_type: Option<String>,
    /// A JSON number or a decimal string; parsed exactly by the domain layer.
    value: Option<serde_json::Value>,
    currency: Option<String>,
    test: Option<bool>,
    metadata: Option<serde_json::Value>,
}

/// 202 for a new conversion, 200 (`deduped: true`, the original response) for a replay.
async fn create(
    State(state): State<AppState>,
    Json(body): Json<ConversionBody>,
) -> ApiResult<Response> {
    let claims = verify_ctx(&state, body.ctx.as_deref())?;
    let conversion = ConversionInput {
        idempotency_key: body.idempotency_key,
        event_type: body.event_type,
        value: body.value,
        currency: body.currency,
        test: body.test,
        metadata: body.metadata,
    }
    .validate()?;
    let receipt = crate::conversions::submit(&state, &claims, conversion).await?;
    let status = if receipt.deduped {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, axum::Json(receipt)).into_response())
}
