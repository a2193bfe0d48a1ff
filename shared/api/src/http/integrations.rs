//! Connector routes (issue 45). Authenticated: `…/integrations/{provider}` (settings; secrets
//! never answered), `…/integrations/{provider}/events` (the event log) and
//! `…/integrations/{provider}/test` (a signed sample event, issue 62). Public: the
//! providers' webhooks (`POST /v2/public/integrations/stripe/{handle}`: the signature is the
//! credential) and checkout refs (`POST /v2/public/refs`: the ctx is). The work is in
//! `crate::connectors`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::connectors::shopify::{self, ShopifyError};
use crate::connectors::stripe::{self, StripeError};
use crate::connectors::{self, IntegrationInput, Provider, log, refs};
use crate::domain::Handle;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{ClientAddr, Json, Path, Query, verify_ctx};
use crate::http::pagination::{PageParams, encode_cursor};
use crate::http::routes::Routes;
use crate::kernel::ratelimit;
use crate::kernel::state::AppState;

/// A provider's delivery may be larger than an API request (an invoice with many lines).
pub const MAX_EVENT_BYTES: usize = 512 * 1024;

/// The public routes (served by the public function).
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/public/integrations/stripe/{handle}",
            post(stripe_event).layer(DefaultBodyLimit::max(MAX_EVENT_BYTES)),
        )
        .route(
            "/v2/public/integrations/shopify/{handle}",
            post(shopify_event).layer(DefaultBodyLimit::max(MAX_EVENT_BYTES)),
        )
        .route("/v2/public/refs", post(create_ref))
}

/// The settings and the event log (the conversions function).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{ConversionsRead, ConversionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/integrations/{provider}")
        .get(Viewer, Some(ConversionsRead), Free, get_integration)
        .put(Operator, Some(ConversionsWrite), Write, put_integration)
        .delete(Operator, Some(ConversionsWrite), Write, delete_integration)
        .at("/v2/handles/{handle}/integrations/{provider}/events")
        .get(Viewer, Some(ConversionsRead), Free, list_events)
        .at("/v2/handles/{handle}/integrations/{provider}/test")
        .post(Operator, Some(ConversionsWrite), Write, send_test)
}

/// What a test event came to: its log entry, marked test.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TestSent {
    #[serde(flatten)]
    entry: log::Entry,
    provider: &'static str,
    /// Always true: the sample never earns a commission (`connectors::test_event`).
    test: bool,
}

/// `POST …/integrations/{provider}/test` → 202 `{eventId, type, receivedAt, status, reason,
/// conversionId, provider, test: true}`: a signed sample event through the provider's webhook
/// code (`connectors::test_event`); `409 invalid_state` when the provider is not connected.
async fn send_test(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, p)): Path<(Handle, Provider)>,
) -> ApiResult<Response> {
    use crate::connectors::test_event::{self, TestEventError};
    // Audited as the caller who sent it (the authorize layer's scope), not as the provider.
    let sent = test_event::send(deps(&state), &caller.handle, p).await;
    let entry = match sent {
        Ok(entry) => entry,
        Err(e @ TestEventError::NotConnected(_)) => {
            return Err(ApiError::invalid_state(e.to_string()));
        }
        Err(TestEventError::Stripe(e)) => return Err(e.into()),
        Err(TestEventError::Shopify(e)) => return Err(e.into()),
        Err(TestEventError::Store(e)) => return Err(e.into()),
    };
    let answer = TestSent {
        entry,
        provider: p.as_str(),
        test: true,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IntegrationBody {
    signing_secrets: Option<Vec<String>>,
    event_type: Option<String>,
    shop_domain: Option<String>,
}

async fn get_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, p)): Path<(Handle, Provider)>,
) -> ApiResult<axum::Json<connectors::IntegrationView>> {
    let found = connectors::get(state.store.as_ref(), &caller.handle, p).await?;
    let integration =
        found.ok_or_else(|| ApiError::not_found(format!("The {} integration", p.as_str())))?;
    Ok(axum::Json(integration.view(&caller.handle)))
}

async fn put_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, p)): Path<(Handle, Provider)>,
    Json(body): Json<IntegrationBody>,
) -> ApiResult<axum::Json<connectors::IntegrationView>> {
    let input = IntegrationInput {
        signing_secrets: body.signing_secrets.unwrap_or_default(),
        event_type: body.event_type,
        shop_domain: body.shop_domain,
    }
    .validate(p)?;
    let saved = connectors::put(state.store.as_ref(), &caller.handle, p, input).await?;
    Ok(axum::Json(saved.view(&caller.handle)))
}

async fn delete_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, p)): Path<(Handle, Provider)>,
) -> ApiResult<StatusCode> {
    match connectors::delete(state.store.as_ref(), &caller.handle, p).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!(
            "The {} integration",
            p.as_str()
        ))),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventList {
    items: Vec<log::Entry>,
    next_cursor: Option<String>,
}

async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, p)): Path<(Handle, Provider)>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<EventList>> {
    let (limit, after) = (page.limit()?, page.after()?);
    let (items, next) = log::list(state.store.as_ref(), &caller.handle, p, limit, after).await?;
    Ok(axum::Json(EventList {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventAnswer {
    received: bool,
    deduped: bool,
    status: log::Status,
}

/// A provider's delivery recorded: 200 `{received, deduped, status}`.
fn answered(deduped: bool, entry: &log::Entry) -> Response {
    let answer = EventAnswer {
        received: true,
        deduped,
        status: entry.status,
    };
    (StatusCode::OK, axum::Json(answer)).into_response()
}

/// `POST /v2/public/integrations/stripe/{handle}`: 200 once verified and recorded (applied,
/// ignored, parked or failed: the log says which), `400 invalid_signature` (also for a handle
/// without the integration: the same answer, so nobody can list who uses Stripe), `503` for
/// Stripe to retry.
async fn stripe_event(
    State(state): State<AppState>,
    Path(handle): Path<Handle>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = event_body(body)?;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    // What the delivery writes (a reversal from a refund) is audited as the provider's.
    let received = as_provider(
        "stripe",
        stripe::receive(deps(&state), &handle, header, &body),
    )
    .await?;
    Ok(answered(received.deduped, &received.entry))
}

/// `POST /v2/public/integrations/shopify/{handle}`: as the Stripe route, verified by
/// `x-shopify-hmac-sha256` and deduplicated by `x-shopify-webhook-id`.
async fn shopify_event(
    State(state): State<AppState>,
    Path(handle): Path<Handle>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = event_body(body)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let delivery = shopify::Delivery {
        hmac: header("x-shopify-hmac-sha256"),
        topic: header("x-shopify-topic"),
        webhook_id: header("x-shopify-webhook-id"),
        shop_domain: header("x-shopify-shop-domain"),
        body: &body,
    };
    let (deduped, entry) =
        as_provider("shopify", shopify::receive(deps(&state), &handle, delivery)).await?;
    Ok(answered(deduped, &entry))
}

/// Runs a provider's delivery as that provider's, for the audit log.
async fn as_provider<F: Future>(provider: &str, work: F) -> F::Output {
    let actor = crate::kernel::audit::Actor {
        kind: crate::kernel::audit::ActorType::Provider,
        id: provider.to_owned(),
    };
    crate::kernel::audit::scope(actor, crate::http::current_request::id(), work).await
}

/// What a provider's delivery uses of the router's state.
fn deps(state: &AppState) -> connectors::Deps<'_> {
    connectors::Deps {
        intake: crate::http::conversions::intake(state),
        ctx_keys: state.ctx_keys(),
        max_value: state.config.max_conversion_value,
    }
}

impl From<ShopifyError> for ApiError {
    fn from(e: ShopifyError) -> Self {
        match e {
            ShopifyError::Signature => ApiError::new(ErrorCode::InvalidSignature, e.to_string()),
            ShopifyError::Unconfigured(e) => e.into(),
            ShopifyError::Store(e) => e.into(),
        }
    }
}

/// A provider's delivery as raw bytes (its signature is over them): `413` past the limit.
fn event_body(body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => event_too_large(),
        _ => ApiError::invalid_request("The request body could not be read."),
    })
}

fn event_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The event exceeds {} KiB.", MAX_EVENT_BYTES / 1024),
    )
}

impl From<StripeError> for ApiError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Signature(_) => ApiError::new(ErrorCode::InvalidSignature, e.to_string()),
            StripeError::Unconfigured(e) => e.into(),
            StripeError::Store(e) => e.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefBody {
    ctx: Option<String>,
}

#[derive(Serialize)]
struct RefAnswer {
    #[serde(rename = "ref")]
    reference: String,
}

/// `POST /v2/public/refs`: 201 `{ref}` for a live ctx (the same ref for the same click),
/// `400 invalid_ctx` otherwise; limited per client address like the public conversions.
async fn create_ref(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<RefBody>,
) -> ApiResult<Response> {
    let claims = verify_ctx(&state, body.ctx.as_deref())?;
    let bucket = ratelimit::address_bucket("ref_", &client);
    let limit = state.config.rate_limits.conversions_per_address;
    ratelimit::consume(
        state.store.as_ref(),
        &state.config.rate_limits,
        &claims.handle,
        &bucket,
        limit,
    )
    .await?;
    let keyring = state.ctx_keys()?;
    let ctx = body.ctx.unwrap_or_default();
    let reference = refs::create(state.store.as_ref(), keyring, &claims, &ctx).await?;
    Ok((StatusCode::CREATED, axum::Json(RefAnswer { reference })).into_response())
}
