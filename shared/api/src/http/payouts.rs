//! Payout routes: a run (idempotency key), reads, status changes and the statement (JSON or
//! RFC 4180 CSV). The work is in `crate::{payouts, payouts::statement}`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::routes::Routes;
use serde::Deserialize;

use crate::domain::{CommissionId, Currency, Handle, PartnerId, PayoutId, PayoutRunKey};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::{Page, PageParams, encode_cursor};
use crate::kernel::state::AppState;
use crate::payouts::PayoutView;
use crate::payouts::background::{self, Progress};
use crate::payouts::budget::Budget;
use crate::payouts::settle::Change;
use crate::payouts::statement;
use crate::{payouts, payouts::PayoutError, payouts::RunSpec};

/// The payout routes: read with `commissions.read`, act with `payouts.write`.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, PayoutsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(PayoutsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/payouts")
        .get(Viewer, R, Free, list)
        .post(Operator, W, Write, run)
        .at("/v2/handles/{handle}/payouts/{payoutId}")
        .get(Viewer, R, Free, get_one)
        .at("/v2/handles/{handle}/payouts/{payoutId}/proof")
        .get(Viewer, R, Free, get_proof)
        .at("/v2/handles/{handle}/payouts/{payoutId}/statement")
        .get(Viewer, R, Free, crate::http::statement::get_statement)
        .at("/v2/handles/{handle}/payouts/{payoutId}/mark-paid")
        .post(Operator, W, Write, mark_paid)
        .at("/v2/handles/{handle}/payouts/{payoutId}/mark-failed")
        .post(Operator, W, Write, mark_failed)
        .at("/v2/handles/{handle}/payouts/{payoutId}/cancel")
        .post(Operator, W, Write, cancel)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RunBody {
    period_end: String,
    #[serde(default)]
    partner_id: Option<PartnerId>,
    #[serde(default)]
    minimums: BTreeMap<String, String>,
    /// A run of test mode's lines (only while test mode is on).
    #[serde(default)]
    test: bool,
}

/// The run's key, parsed once here (a missing or non-ASCII header reads as empty, refused).
fn idempotency_key(headers: &HeaderMap) -> ApiResult<PayoutRunKey> {
    let raw = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(PayoutRunKey::parse(raw)?)
}

impl RunBody {
    fn spec(self) -> ApiResult<RunSpec> {
        let period_end_ms = crate::domain::time::rfc3339_millis(&self.period_end)
            .ok_or_else(|| ApiError::invalid_request("periodEnd: must be an RFC 3339 time."))?;
        if period_end_ms > crate::platform::time::now_millis() {
            return Err(ApiError::invalid_request(
                "periodEnd: must not be in the future.",
            ));
        }
        let mut minimums = BTreeMap::new();
        for (code, amount) in &self.minimums {
            let field = format!("minimums.{code}");
            let c = Currency::parse(code)
                .map_err(|e| ApiError::invalid_request(format!("{field}: {}", e.message)))?;
            let minor = c.parse_amount(&field, amount)?;
            if minor < 0 {
                return Err(ApiError::invalid_request(format!(
                    "{field}: must not be negative."
                )));
            }
            minimums.insert(c, minor);
        }
        Ok(RunSpec {
            period_end_ms,
            partner_id: self.partner_id,
            minimums,
            test: self.test,
        })
    }
}

/// Seconds a client is asked to wait before repeating a request whose work goes on in the
/// background (a sweep advances it each `TENX_OUTBOX_SWEEP_SECS` locally, each minute on AWS).
const RETRY_AFTER_SECS: u64 = 5;

/// `202 Accepted`: the work goes on in the background; `body` says what is done so far.
fn accepted(body: serde_json::Value) -> Response {
    let mut response = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// `201` with the run's payouts once it is done; `202` with those made so far while it goes
/// on (`payouts::background`): the same request repeated answers the same way.
async fn run(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<RunBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let spec = body.spec()?;
    caller.refuse_own(spec.partner_id.as_ref()).await?;
    let by = &caller.principal.subject;
    let payer = payouts::Payer::new(state.io(), state.signing());
    let budget = Budget::request(&state.config);
    let progress = background::run((payer, &budget), &caller.handle, &key, &spec, by).await?;
    let views = |made: Vec<payouts::Payout>| -> Vec<PayoutView> {
        made.iter().map(PayoutView::from).collect()
    };
    Ok(match progress {
        Progress::Done(made) => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({ "payouts": views(made) })),
        )
            .into_response(),
        Progress::Running(made) => {
            accepted(serde_json::json!({ "status": "running", "payouts": views(made) }))
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
    partner_id: Option<PartnerId>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<PayoutView>>> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let (store, handle) = (state.store.as_ref(), &caller.handle);
    let (limit, after) = (page.limit()?, page.after()?);
    let (items, next) = match caller.partner().or(params.partner_id.as_ref()) {
        Some(partner) => payouts::of_partner::list(store, handle, partner, limit, after).await?,
        None => payouts::list(store, handle, limit, after).await?,
    };
    let own = caller.own_partner().await?;
    Ok(axum::Json(Page {
        items: payouts::waiting::views(store, handle, &items, |p| told(&caller, own.as_ref(), p))
            .await?,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// Whether `caller` reads why a payout of `partner` waits: a manager does, never the partner
/// (its token, or a member who is that partner).
fn told(caller: &Caller, own: Option<&PartnerId>, partner: &PartnerId) -> bool {
    caller.partner().is_none() && own != Some(partner)
}

pub async fn load(state: &AppState, caller: &Caller, id: &PayoutId) -> ApiResult<payouts::Payout> {
    payouts::get(state.store.as_ref(), &caller.handle, id)
        .await?
        .filter(|p| caller.sees_partner(&p.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Payout {id}")))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
) -> ApiResult<axum::Json<PayoutView>> {
    let payout = load(&state, &caller, &id).await?;
    let store = state.store.as_ref();
    let own = caller.own_partner().await?;
    let told = |p: &PartnerId| told(&caller, own.as_ref(), p);
    let views = payouts::waiting::views(store, &caller.handle, &[payout], told).await?;
    Ok(axum::Json(views.into_iter().next().ok_or_else(|| {
        ApiError::not_found(format!("Payout {id}"))
    })?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProofParams {
    commission_id: Option<String>,
}

async fn get_proof(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Query(params): Query<ProofParams>,
) -> ApiResult<axum::Json<statement::Proof>> {
    let raw = params
        .commission_id
        .ok_or_else(|| ApiError::invalid_request("commissionId: is required."))?;
    let payout = load(&state, &caller, &id).await?;
    let unknown = || ApiError::not_found(format!("Commission {raw} in payout {id}"));
    // Not a commission id: in no statement, as an unknown one.
    let commission = CommissionId::parse(&raw).map_err(|_| unknown())?;
    statement::proof_of(state.store.as_ref(), &caller.handle, &payout, &commission)
        .await?
        .map(axum::Json)
        .ok_or_else(unknown)
}

/// `GET /v2/public/keys`: the statement signing keys as a JWKS (RFC 7517; `kid` = RFC 7638
/// thumbprint), retired keys included, so anyone can verify a statement offline.
pub fn public_router() -> Router<AppState> {
    Router::new().route("/v2/public/keys", get(public_keys))
}

async fn public_keys(State(state): State<AppState>) -> ApiResult<Response> {
    let jwks = state.signing()?.jwks();
    let mut response = axum::Json(jwks).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
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
    if t.is_empty() || t.chars().count() > 500 {
        return Err(ApiError::invalid_request(format!(
            "{field}: must be 1 to 500 characters long."
        )));
    }
    Ok(t.to_owned())
}

/// The payout once its lines are settled; `202` with it and the lines settled so far while
/// the rest goes on in the background.
async fn apply(
    state: &AppState,
    caller: &Caller,
    id: &PayoutId,
    change: Change,
) -> ApiResult<Response> {
    if caller.own_partner().await?.is_some() {
        caller
            .refuse_own(Some(&load(state, caller, id).await?.partner_id))
            .await?;
    }
    crate::payout_batches::claim::forget_if_canceled(state.store.as_ref(), &caller.handle, id)
        .await?;
    Ok(
        match background::change(
            (state.io(), &Budget::request(&state.config)),
            &caller.handle,
            id,
            change,
        )
        .await?
        {
            Progress::Done(s) => axum::Json(PayoutView::from(&s.payout)).into_response(),
            Progress::Running(s) => accepted(serde_json::json!({
                "status": "running",
                "payout": PayoutView::from(&s.payout),
                "linesSettled": s.lines_settled,
            })),
        },
    )
}

async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Json(body): Json<ReferenceBody>,
) -> ApiResult<Response> {
    let reference = text("reference", &body.reference)?;
    apply(&state, &caller, &id, Change::Paid { reference }).await
}

async fn mark_failed(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Json(body): Json<ReasonBody>,
) -> ApiResult<Response> {
    let reason = text("reason", &body.reason)?;
    apply(&state, &caller, &id, Change::Failed { reason }).await
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Json(body): Json<ReasonBody>,
) -> ApiResult<Response> {
    let reason = text("reason", &body.reason)?;
    apply(&state, &caller, &id, Change::Canceled { reason }).await
}

impl From<PayoutError> for ApiError {
    fn from(e: PayoutError) -> Self {
        let message = e.to_string();
        match e {
            PayoutError::NotFound(id) => ApiError::not_found(format!("Payout {id}")),
            PayoutError::KeyReused => ApiError::new(ErrorCode::IdempotencyKeyReused, message),
            PayoutError::InvalidState(_) => ApiError::invalid_state(message),
            PayoutError::Busy | PayoutError::Suspended => ApiError::conflict(message),
            PayoutError::Store(e) => e.into(),
            PayoutError::Unconfigured(e) => e.into(),
        }
    }
}
