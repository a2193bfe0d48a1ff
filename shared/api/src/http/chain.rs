//! Chain lifecycle-messaging routes: public signal append, resolve and prefetch (no auth,
//! rate-limited per handle), and the authenticated per-handle rules (`GET`/`PUT`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::http::routes::Routes;
use serde::{Deserialize, Serialize};

use crate::chain::{self, ChainError, HandleRules};
use crate::domain::chain::{
    Decision, Rule, SessionFacts, SessionId, SignalInput, Trigger, evaluate, validate_rules,
    validate_signals,
};
use crate::domain::{DomainError, Handle};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, apply_quota};
use crate::http::extract::{ClientAddr, Json};
use crate::kernel::state::AppState;
use crate::{kernel::ratelimit, kernel::ratelimit::Quota};

/// Triggers one prefetch may ask about.
pub const MAX_PREFETCH_TRIGGERS: usize = 20;

/// The public chain routes (no authentication; admitted per client and handle, see [`admit`]).
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/v2/public/chain/signals", post(append))
        .route("/v2/public/chain/resolve", post(resolve))
        .route("/v2/public/chain/prefetch", post(prefetch))
}

/// The handle's chain rules: JWT only (no PAT scope covers lifecycle messaging).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Creator, Viewer};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/chain/rules")
        .get(Viewer, None, Free, read_rules)
        .put(Creator, None, Write, replace_rules)
}

/// Admits a public chain request (after validation, so malformed requests cost no store
/// write): only for a handle that exists (`handle_settings::exists`: none when cached, else ONE
/// read), then counted against the client address's limit (IPv6 by /64) and the handle's, one
/// conditional write each, the address's first, so one address cannot spend the handle's.
async fn admit(state: &AppState, handle: &Handle, client: &str) -> ApiResult<Quota> {
    if !crate::kernel::handle_settings::exists(state.store.as_ref(), &state.seen_handles, handle)
        .await?
    {
        return Err(ApiError::not_found(format!("Handle {handle}")));
    }
    let limits = &state.config.rate_limits;
    let address = ratelimit::address_bucket("cha_", client);
    ratelimit::consume(
        state.store.as_ref(),
        limits,
        handle,
        &address,
        limits.chain_per_address,
    )
    .await
    .map_err(|e| match e {
        ratelimit::RateLimitError::Limited(l) => l.of("this client address").into(),
        other => other,
    })?;
    Ok(ratelimit::consume(state.store.as_ref(), limits, handle, "chain", limits.chain).await?)
}

fn respond(status: StatusCode, body: impl Serialize, quota: Quota) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    apply_quota(&quota, &mut response);
    response
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppendRequest {
    handle: String,
    session_id: SessionId,
    signals: Vec<SignalInput>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    accepted: bool,
    session_id: SessionId,
    total_signals: i64,
}

async fn append(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<AppendRequest>,
) -> ApiResult<Response> {
    let handle = Handle::parse(&body.handle)?;
    let signals = validate_signals(body.signals, crate::platform::time::now_millis())?;
    let limits = admit(&state, &handle, &client).await?;
    let total = chain::append(
        state.store.as_ref(),
        &handle,
        &body.session_id,
        &chain::owner_of_client(&client),
        &signals,
        state.config.chain_session_ttl,
        state.config.chain_max_session_signals,
    )
    .await?;
    Ok(respond(
        StatusCode::ACCEPTED,
        Accepted {
            accepted: true,
            session_id: body.session_id,
            total_signals: total,
        },
        limits,
    ))
}

/// The decision envelope of one trigger.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    handle: Handle,
    session_id: SessionId,
    trigger: Trigger,
    decision: Decision,
    rule_id: Option<String>,
    reason: String,
    signals_considered: usize,
    evaluated_at: String,
}

/// One read of the rules and one of the session, then every trigger at one instant: prefetch is
/// exactly resolve for each trigger.
async fn decide(
    state: &AppState,
    (handle, session, client): (&Handle, &SessionId, &str),
    triggers: Vec<Trigger>,
) -> ApiResult<Vec<Envelope>> {
    let rules = chain::load_rules(state.store.as_ref(), handle).await?;
    let owner = chain::owner_of_client(client);
    let signals = chain::load_signals(state.store.as_ref(), handle, session, &owner).await?;
    let facts = SessionFacts::from_signals(&signals);
    let now = crate::platform::time::now();
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let evaluated_at = crate::domain::time::to_rfc3339(now);
    Ok(triggers
        .into_iter()
        .map(|trigger| {
            let e = evaluate(&rules.rules, &trigger, &facts, now_ms);
            Envelope {
                handle: handle.clone(),
                session_id: session.clone(),
                trigger,
                decision: e.decision,
                rule_id: e.rule_id,
                reason: e.reason,
                signals_considered: facts.total(),
                evaluated_at: evaluated_at.clone(),
            }
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResolveRequest {
    handle: String,
    session_id: SessionId,
    trigger: Trigger,
}

async fn resolve(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<ResolveRequest>,
) -> ApiResult<Response> {
    let handle = Handle::parse(&body.handle)?;
    let limits = admit(&state, &handle, &client).await?;
    let session = (&handle, &body.session_id, client.as_str());
    let mut envelopes = decide(&state, session, vec![body.trigger]).await?;
    let envelope = envelopes
        .pop()
        .ok_or_else(|| ApiError::internal("resolve produced no envelope"))?;
    Ok(respond(StatusCode::OK, envelope, limits))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PrefetchRequest {
    handle: String,
    session_id: SessionId,
    triggers: Vec<Trigger>,
}

#[derive(Serialize)]
struct Decisions {
    decisions: Vec<Envelope>,
}

fn check_triggers(triggers: &[Trigger]) -> Result<(), DomainError> {
    if triggers.is_empty() || triggers.len() > MAX_PREFETCH_TRIGGERS {
        return Err(DomainError::new(
            "triggers",
            format!(
                "must list 1 to {MAX_PREFETCH_TRIGGERS} triggers (got {})",
                triggers.len()
            ),
        ));
    }
    for (i, t) in triggers.iter().enumerate() {
        if triggers[..i].contains(t) {
            return Err(DomainError::new(
                format!("triggers[{i}]"),
                format!("duplicate trigger {t}"),
            ));
        }
    }
    Ok(())
}

async fn prefetch(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<PrefetchRequest>,
) -> ApiResult<Response> {
    let handle = Handle::parse(&body.handle)?;
    check_triggers(&body.triggers)?;
    let limits = admit(&state, &handle, &client).await?;
    let session = (&handle, &body.session_id, client.as_str());
    let decisions = decide(&state, session, body.triggers).await?;
    Ok(respond(StatusCode::OK, Decisions { decisions }, limits))
}

async fn read_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<HandleRules>> {
    Ok(axum::Json(
        chain::load_rules(state.store.as_ref(), &caller.handle).await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RulesRequest {
    rules: Vec<Rule>,
}

async fn replace_rules(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RulesRequest>,
) -> ApiResult<axum::Json<HandleRules>> {
    let rules = validate_rules(body.rules)?;
    Ok(axum::Json(
        chain::replace_rules(state.store.as_ref(), &caller.handle, rules).await?,
    ))
}

impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> Self {
        let message = e.to_string();
        match e {
            ChainError::SessionFull { .. } => ApiError::invalid_request(message),
            ChainError::Foreign(_) => ApiError::conflict(message),
            ChainError::Contended(_) => ApiError::unavailable(message),
            ChainError::RulesBusy => ApiError::conflict(message),
            ChainError::Store(e) => e.into(),
        }
    }
}
