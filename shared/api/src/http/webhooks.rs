//! Webhook routes: subscriptions (create, list, read, delete), test dispatch, the delivery log,
//! manual re-send, recovery of failed deliveries, and the handle's notifications. Operator role
//! or `webhooks.*` PAT scopes (see the access table). Every lookup is under the caller's own
//! handle, so one handle's subscriptions are invisible to another.

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::{EventId, SubscriptionId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdPath, Json, PathId, Query};
use crate::http::pagination::{self, Page, PageParams};
use crate::kernel::state::AppState;
use crate::webhooks::lifecycle::{self, SubscriptionError, SubscriptionHealth};
use crate::webhooks::log::{self, AttemptRecord, AttemptView};
use crate::webhooks::recover::{self as recovery, RecoverError, Recovery};
use crate::webhooks::subscription::{
    Subscription, SubscriptionSpec, SubscriptionStatus, SubscriptionView,
};

/// Webhooks: operator, or a PAT with webhooks.write (mutations) / webhooks.read.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::auth::Scope::{WebhooksRead, WebhooksWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/webhooks")
        .post(Operator, Some(WebhooksWrite), Write, create)
        .get(Operator, Some(WebhooksRead), Free, list)
        .at("/v2/handles/{handle}/webhooks/{subscriptionId}")
        .get(Operator, Some(WebhooksRead), Free, read)
        .patch(Operator, Some(WebhooksWrite), Write, update)
        .delete(Operator, Some(WebhooksWrite), Write, remove)
        .at("/v2/handles/{handle}/webhooks/{subscriptionId}/test")
        .post(Operator, Some(WebhooksWrite), Write, test)
        .at("/v2/handles/{handle}/webhooks/{subscriptionId}/deliveries")
        .get(Operator, Some(WebhooksRead), Free, deliveries)
        .at("/v2/handles/{handle}/webhooks/{subscriptionId}/deliveries/{eventId}/resend")
        .post(Operator, Some(WebhooksWrite), Write, resend)
        .at("/v2/handles/{handle}/webhooks/{subscriptionId}/recover")
        .post(Operator, Some(WebhooksWrite), Write, recover)
        .at("/v2/handles/{handle}/notifications")
        .get(Operator, Some(WebhooksRead), Free, notifications)
}

fn subscription_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Webhook subscription {id}"))
}

impl PathId for SubscriptionId {
    const SEGMENT: &'static str = "subscriptionId";

    fn parse(raw: &str) -> Option<Self> {
        SubscriptionId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        subscription_not_found(raw)
    }
}

impl PathId for EventId {
    const SEGMENT: &'static str = "eventId";

    fn parse(raw: &str) -> Option<Self> {
        EventId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("A delivery of event {raw}"))
    }
}

impl From<SubscriptionError> for ApiError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::NotFound(id) => subscription_not_found(&id),
            SubscriptionError::DeliveryNotFound(id) => EventId::not_found(&id),
            SubscriptionError::EndpointRefused(_) => ApiError::invalid_request(e.to_string()),
            SubscriptionError::TooMany
            | SubscriptionError::Disabled { .. }
            | SubscriptionError::ChangedMeanwhile(_)
            | SubscriptionError::IsPostback { .. }
            | SubscriptionError::RetriesPending
            | SubscriptionError::MaxAttempts => ApiError::conflict(e.to_string()),
            SubscriptionError::Store(e) => e.into(),
            SubscriptionError::Queue(e) => e.into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(flatten)]
    view: SubscriptionView,
    /// Shown here only.
    secret: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(spec): Json<SubscriptionSpec>,
) -> ApiResult<Response> {
    let sub = lifecycle::create(
        state.store.as_ref(),
        state.config.webhooks_allow_private,
        &caller.handle,
        spec.validate()?,
    )
    .await?;
    Ok(created(&caller, &sub))
}

/// 201 with the subscription, its location and its one-time secret (which no cache may keep).
fn created(caller: &Caller, sub: &Subscription) -> Response {
    let body = Created {
        view: sub.view(),
        secret: sub.secret.clone(),
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    let location = format!(
        "/v2/handles/{}/webhooks/{}",
        caller.handle, sub.subscription_id
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<SubscriptionView>>> {
    let q = params.page_of(crate::webhooks::repo::listing(&caller.handle))?;
    let page = pagination::fetch(state.store.as_ref(), q, |s: Subscription| s.view());
    Ok(axum::Json(page.await?))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    let loaded = lifecycle::find(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(axum::Json(loaded.subscription.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: SubscriptionStatus,
}

/// `PATCH /v2/handles/{handle}/webhooks/{subscriptionId}` `{"status": "active" | "disabled"}`:
/// resumes a subscription stopped by a `410` (or pauses one); 409 on a concurrent change.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Json(change): Json<StatusChange>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    let sub =
        lifecycle::set_status(state.store.as_ref(), &caller.handle, &id, change.status).await?;
    Ok(axum::Json(sub.view()))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
) -> ApiResult<StatusCode> {
    lifecycle::remove(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The test and re-send bodies: empty (`{}`), but unknown fields are still refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

async fn test(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Json(EmptyBody {}): Json<EmptyBody>,
) -> ApiResult<Response> {
    let dispatch_id = lifecycle::dispatch_test(state.io(), &caller.handle, &id).await?;
    let body = json!({"dispatchId": dispatch_id, "status": "queued"});
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AttemptView>>> {
    lifecycle::find(state.store.as_ref(), &caller.handle, &id).await?;
    let q = params.page_of(crate::webhooks::log::attempts(&caller.handle, &id))?;
    let page = pagination::fetch(state.store.as_ref(), q, |r: AttemptRecord| r.view(&id));
    Ok(axum::Json(page.await?))
}

async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    IdPath(event_id): IdPath<EventId>,
    Json(EmptyBody {}): Json<EmptyBody>,
) -> ApiResult<Response> {
    let message = lifecycle::resend(state.io(), &caller.handle, &id, &event_id).await?;
    let body = json!({
        "deliveryId": message.delivery_id(),
        "eventId": message.event_id,
        "attempt": message.attempt,
        "status": "queued",
    });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverBody {
    since: String,
}

#[derive(Serialize)]
struct Recovered {
    #[serde(flatten)]
    recovery: Recovery,
    status: &'static str,
}

/// `POST …/webhooks/{subscriptionId}/recover` `{since}`: re-sends every delivery that ended
/// failed since then (see `webhooks::recover`); 202, or 200 for a `since` recovered before.
async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Json(body): Json<RecoverBody>,
) -> ApiResult<Response> {
    let recovery = recovery::recover(state.io(), &caller.handle, &id, &body.since).await?;
    let status = if recovery.deduped {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = Recovered {
        recovery,
        status: "queued",
    };
    Ok((status, axum::Json(body)).into_response())
}

impl From<RecoverError> for ApiError {
    fn from(e: RecoverError) -> Self {
        match e {
            RecoverError::InvalidSince(_) => ApiError::invalid_request(e.to_string()),
            RecoverError::NotFound(id) => subscription_not_found(&id),
            RecoverError::Disabled { .. } => ApiError::conflict(e.to_string()),
            RecoverError::Store(e) => e.into(),
            RecoverError::Queue(e) => e.into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notifications {
    subscriptions: Vec<SubscriptionHealth>,
    failed_deliveries: Vec<log::FailedDelivery>,
    next_cursor: Option<String>,
}

async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Notifications>> {
    let (limit, after) = (params.limit()?, params.after()?);
    let n = lifecycle::notifications(state.store.as_ref(), &caller.handle, limit, after).await?;
    Ok(axum::Json(Notifications {
        subscriptions: n.subscriptions,
        failed_deliveries: n.failed_deliveries,
        next_cursor: n.next.as_deref().map(pagination::encode_cursor),
    }))
}
