//! Payout provider routes: the program's Stripe and PayPal accounts, connected by an admin
//! (JWT or session only: no token scope reaches the program's own accounts), listed masked to
//! managers, and checked in words. The work is in `crate::payout_providers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Handle;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::payout_providers::check::{self, CheckOutcome};
use crate::payout_providers::{
    self, PaypalInput, Provider, ProviderError, ProviderView, StripeInput,
};
use crate::payouts::provider_hooks::{self, HookError};
use crate::payouts::send::Sender;

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Operator};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/payout-providers")
        .get(Operator, None, Free, list)
        .at("/v2/handles/{handle}/payout-providers/{provider}")
        .put(Admin, None, Write, put)
        .delete(Admin, None, Write, remove)
        .at("/v2/handles/{handle}/payout-providers/{provider}/test")
        .post(Admin, None, Write, test)
}

/// The provider a path names, else `404` naming the two there are.
fn provider_of(raw: &str) -> ApiResult<Provider> {
    Provider::parse(raw).ok_or_else(|| {
        ApiError::not_found(format!(
            "The payout provider “{raw}” (there are stripe and paypal)"
        ))
    })
}

#[derive(Serialize)]
struct ListBody {
    providers: Vec<ProviderView>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<ListBody>> {
    let providers = payout_providers::list(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(ListBody { providers }))
}

async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    let provider = provider_of(&raw)?;
    let refused = |e: serde_json::Error| ApiError::invalid_request(format!("{raw}: {e}"));
    let credentials = match provider {
        Provider::Stripe => serde_json::from_value::<StripeInput>(body)
            .map_err(refused)?
            .validate()?,
        Provider::Paypal => serde_json::from_value::<PaypalInput>(body)
            .map_err(refused)?
            .validate()?,
    };
    let store = state.store.as_ref();
    let created = !payout_providers::connected(store, &caller.handle, provider).await?;
    let by = &caller.principal.subject;
    let view =
        payout_providers::put(store, state.payout_key(), &caller.handle, &credentials, by).await?;
    let status = match created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok((status, axum::Json(view)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<StatusCode> {
    let provider = provider_of(&raw)?;
    match payout_providers::remove(state.store.as_ref(), &caller.handle, provider).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(not_connected(provider)),
    }
}

async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<axum::Json<CheckOutcome>> {
    let provider = provider_of(&raw)?;
    let credentials = payout_providers::credentials(
        state.store.as_ref(),
        state.payout_key(),
        &caller.handle,
        provider,
    )
    .await?;
    let base = match provider {
        Provider::Stripe => &state.config.stripe_api_base,
        Provider::Paypal => &state.config.paypal_api_base,
    };
    Ok(axum::Json(check::check(base, &credentials).await))
}

fn not_connected(provider: Provider) -> ApiError {
    ApiError::not_found(format!("The {} account of this program", provider.title()))
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::NotConnected(_) => ApiError::invalid_state(e.to_string()),
            ProviderError::Sealed(_) => ApiError::internal_error(&e),
            ProviderError::Unconfigured(e) => e.into(),
            ProviderError::Store(e) => e.into(),
        }
    }
}

/// The providers' webhooks about payouts (served by the commissions function, which holds the
/// payout keys that open the program's credentials).
pub fn public_router() -> axum::Router<AppState> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    let limit = crate::http::integrations::MAX_EVENT_BYTES;
    axum::Router::new()
        .route(
            "/v2/public/integrations/stripe-connect/{handle}",
            post(stripe_event).layer(DefaultBodyLimit::max(limit)),
        )
        .route(
            "/v2/public/integrations/paypal/{handle}",
            post(paypal_event).layer(DefaultBodyLimit::max(limit)),
        )
}

fn sender(state: &AppState) -> Sender<'_> {
    Sender {
        io: state.io(),
        keys: state.payout_key(),
        stripe_base: &state.config.stripe_api_base,
        paypal_base: &state.config.paypal_api_base,
        origin: state.config.public_origin().unwrap_or_default(),
    }
}

#[derive(Serialize)]
struct Received {
    received: bool,
}

fn received() -> axum::Json<Received> {
    axum::Json(Received { received: true })
}

/// `POST /v2/public/integrations/stripe-connect/{handle}`: `200` once verified (applied or
/// ignored), `400 invalid_signature` (also when Stripe is not connected), `503` for Stripe to
/// deliver again.
async fn stripe_event(
    State(state): State<AppState>,
    Path(handle): Path<Handle>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::Json<Received>> {
    let body = event_body(body)?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now_s = crate::platform::time::now_millis() / 1000;
    let work = provider_hooks::stripe_event(sender(&state), &handle, signature, &body, now_s);
    let applied = as_provider("stripe", work).await?;
    tracing::info!(?applied, "a Stripe Connect event");
    Ok(received())
}

/// `POST /v2/public/integrations/paypal/{handle}`: as the Stripe route, verified by PayPal's
/// `verify-webhook-signature`.
async fn paypal_event(
    State(state): State<AppState>,
    Path(handle): Path<Handle>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::Json<Received>> {
    let body = event_body(body)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let delivery = provider_hooks::PaypalDelivery {
        transmission: crate::payout_providers::paypal::Transmission {
            id: header("paypal-transmission-id"),
            time: header("paypal-transmission-time"),
            sig: header("paypal-transmission-sig"),
            cert_url: header("paypal-cert-url"),
            auth_algo: header("paypal-auth-algo"),
        },
        body: &body,
    };
    let work = provider_hooks::paypal_event(sender(&state), &handle, delivery);
    let applied = as_provider("paypal", work).await?;
    tracing::info!(?applied, "a PayPal Payouts event");
    Ok(received())
}

/// A delivery's body, or the envelope's error (too large: `413`).
fn event_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::body::Bytes> {
    body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "The event exceeds {} KiB.",
                crate::http::integrations::MAX_EVENT_BYTES / 1024
            ),
        ),
        _ => ApiError::invalid_request("The request body could not be read."),
    })
}

/// Runs a provider's delivery as that provider's, for the audit log.
async fn as_provider<F: Future>(provider: &str, work: F) -> F::Output {
    let actor = crate::kernel::audit::Actor {
        kind: crate::kernel::audit::ActorType::Provider,
        id: provider.to_owned(),
    };
    crate::kernel::audit::scope(actor, crate::http::current_request::id(), work).await
}

impl From<HookError> for ApiError {
    fn from(e: HookError) -> Self {
        match e {
            HookError::Signature => ApiError::new(ErrorCode::InvalidSignature, e.to_string()),
            HookError::Unavailable(why) => ApiError::unavailable(why),
            HookError::Payout(e) => e.into(),
        }
    }
}
