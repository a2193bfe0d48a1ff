//! Webhook routes: subscriptions (create, list, read, delete), test dispatch, the delivery log,
//! manual re-send, recovery of failed deliveries, and the handle's notifications. Operator role
//! or `webhooks.*` PAT scopes (see the access table). Every lookup is under the caller's own
//! handle, so one handle's subscriptions are invisible to another.

use std::collections::HashSet;
use std::time::Duration;

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::{EventId, SubscriptionId};
use crate::events::{Event, EventType};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdPath, Json, PathId, Query};
use crate::http::pagination::{self, Page, PageParams};
use crate::queue::QueueName;
use crate::state::AppState;
use crate::store::{Cond, CounterCap, Query as StoreQuery, SkRange, StoreError, WriteOp, keys};
use crate::webhooks::delivery::DeliveryMessage;
use crate::webhooks::log::{self, AttemptRecord, AttemptView, DeliveryRecord, DeliveryStatus};
use crate::webhooks::recover::{self as recovery, RecoverError, Recovery};
use crate::webhooks::signing::generate_secret;
use crate::webhooks::ssrf::{self, Refusal, SystemResolver};
use crate::webhooks::subscription::{
    MAX_SUBSCRIPTIONS_PER_HANDLE, Subscription, SubscriptionSpec, SubscriptionStatus,
    SubscriptionView,
};
use crate::webhooks::{repo, retry};

/// DNS at creation is advisory (the delivery re-checks), so it must not hold a request long.
const CREATE_DNS_TIMEOUT: Duration = Duration::from_secs(3);

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

/// The caller's subscription, or 404 (also for ids of other handles: they are not looked at).
async fn find(state: &AppState, caller: &Caller, id: &SubscriptionId) -> ApiResult<repo::Loaded> {
    repo::load(state.store.as_ref(), caller.handle.as_str(), id)
        .await?
        .ok_or_else(|| subscription_not_found(id.as_str()))
}

fn disabled_conflict(sub: &Subscription) -> ApiError {
    ApiError::conflict(format!(
        "Webhook subscription {} is disabled ({}); resume it with PATCH {{\"status\": \"active\"}} first.",
        sub.subscription_id,
        sub.disabled_reason.as_deref().unwrap_or("disabled")
    ))
}

/// The creation-time SSRF check. A name that does not resolve yet is accepted (every delivery
/// checks again); one that is, or resolves to, a non-public address is refused.
async fn vet_endpoint(url: &url::Url, allow_private: bool) -> ApiResult<()> {
    let resolver = SystemResolver {
        timeout: CREATE_DNS_TIMEOUT,
    };
    match ssrf::vet(url, &resolver, allow_private).await {
        Ok(_) | Err(Refusal::Unresolved { .. }) => Ok(()),
        Err(refusal) => Err(ApiError::invalid_request(format!("endpointUrl: {refusal}"))),
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
    let spec = spec.validate()?;
    vet_endpoint(&spec.endpoint_url, state.config.webhooks_allow_private).await?;
    let handle = caller.handle.as_str();
    let existing = state
        .store
        .query(StoreQuery::prefix(
            keys::handle_pk(handle),
            keys::WEBHOOK_SK_PREFIX,
            MAX_SUBSCRIPTIONS_PER_HANDLE,
        ))
        .await?;
    if existing.items.len() >= MAX_SUBSCRIPTIONS_PER_HANDLE {
        return Err(too_many_subscriptions());
    }
    let sub = Subscription::new(handle, spec, generate_secret(), crate::time::now_rfc3339());
    // ONE transaction: the per-handle count (capped atomically, so concurrent creates cannot
    // pass the cap together; the query above covers subscriptions older than the count) and
    // the subscription.
    let ops = vec![
        subscription_count(
            handle,
            1,
            Some(i64::try_from(MAX_SUBSCRIPTIONS_PER_HANDLE).unwrap_or(i64::MAX)),
        ),
        WriteOp::Put {
            item: repo::item(&sub, 1)?,
            cond: Cond::Absent,
        },
    ];
    match state.store.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TxConflict { index: 0, .. }) => return Err(too_many_subscriptions()),
        Err(e) => return Err(e.into()),
    }
    let location = format!("/v2/handles/{handle}/webhooks/{}", sub.subscription_id);
    let mut response = (
        StatusCode::CREATED,
        axum::Json(Created {
            view: sub.view(),
            secret: sub.secret.clone(),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    // The body carries the one-time secret: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn too_many_subscriptions() -> ApiError {
    ApiError::conflict(format!(
        "A handle may have at most {MAX_SUBSCRIPTIONS_PER_HANDLE} webhook subscriptions; delete one first."
    ))
}

/// The handle's subscription count, moved by `delta` (capped on creation).
fn subscription_count(handle: &str, delta: i64, max: Option<i64>) -> WriteOp {
    WriteOp::Add {
        pk: keys::handle_pk(handle),
        sk: keys::WEBHOOK_COUNT_SK.to_owned(),
        deltas: vec![(SUBSCRIPTIONS_COUNTER.to_owned(), delta.into())],
        cap: max.map(|max| CounterCap {
            counter: SUBSCRIPTIONS_COUNTER.to_owned(),
            max,
        }),
        expires_at: None,
    }
}

const SUBSCRIPTIONS_COUNTER: &str = "subscriptions";

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<SubscriptionView>>> {
    let pk = keys::handle_pk(caller.handle.as_str());
    let q = params.prefix_query(pk, keys::WEBHOOK_SK_PREFIX)?;
    let page = pagination::fetch(state.store.as_ref(), q, |s: Subscription| s.view());
    Ok(axum::Json(page.await?))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    let loaded = find(&state, &caller, &id).await?;
    Ok(axum::Json(loaded.subscription.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: SubscriptionStatus,
}

/// `PATCH /v2/handles/{handle}/webhooks/{subscriptionId}` `{"status": "active" | "disabled"}`:
/// resumes a subscription stopped by a `410` (or pauses one). ONE read and ONE write,
/// conditioned on the version read (a concurrent change answers 409, never lost silently).
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Json(change): Json<StatusChange>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    let loaded = find(&state, &caller, &id).await?;
    let now = crate::time::now_rfc3339();
    let sub = match change.status {
        SubscriptionStatus::Active => loaded.subscription.reactivated(now),
        SubscriptionStatus::Disabled if !loaded.subscription.is_active() => loaded.subscription,
        SubscriptionStatus::Disabled => loaded
            .subscription
            .disabled("paused by an operator".into(), now),
    };
    let item = repo::item(&sub, loaded.version + 1)?;
    let cond = Cond::Version(loaded.version);
    match state.store.write(WriteOp::Put { item, cond }).await {
        Ok(_) => Ok(axum::Json(sub.view())),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::conflict(format!(
            "Webhook subscription {id} changed meanwhile; read it and try again."
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
) -> ApiResult<StatusCode> {
    let loaded = find(&state, &caller, &id).await?;
    if let Some(partner) = &loaded.subscription.partner_id {
        return Err(ApiError::conflict(format!(
            "Webhook subscription {id} is the postback of partner {partner}: clear the partner's postbackUrl instead."
        )));
    }
    let handle = caller.handle.as_str();
    let (stats_pk, stats_sk) = keys::webhook_stats(handle, id.as_str());
    let ops = vec![
        WriteOp::Delete {
            pk: keys::handle_pk(handle),
            sk: keys::webhook_sk(id.as_str()),
            cond: Cond::Exists,
        },
        WriteOp::Delete {
            pk: stats_pk,
            sk: stats_sk,
            cond: Cond::None,
        },
        subscription_count(handle, -1, None),
    ];
    // Queued deliveries find the subscription gone and are dropped; its log expires on its own.
    match state.store.transact(ops).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::TxConflict { index: 0, .. }) => Err(subscription_not_found(id.as_str())),
        Err(e) => Err(e.into()),
    }
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
    let loaded = find(&state, &caller, &id).await?;
    if !loaded.subscription.is_active() {
        return Err(disabled_conflict(&loaded.subscription));
    }
    let mut event = Event::new(
        EventType::WebhookTest,
        &caller.handle,
        json!({
            "subscriptionId": id,
            "message": "A test event from 10x: your endpoint receives and can verify our webhooks.",
        }),
    );
    event.target_subscription = Some(id);
    // The same path as every real event: the events queue, fan-out, the deliveries queue.
    state
        .queue
        .send(QueueName::Events, vec![crate::outbox::message(&event)])
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"dispatchId": event.id, "status": "queued"})),
    )
        .into_response())
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<SubscriptionId>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AttemptView>>> {
    find(&state, &caller, &id).await?;
    let pk = keys::webhook_log_pk(caller.handle.as_str(), id.as_str());
    let mut q = params.prefix_query(pk, keys::WEBHOOK_ATTEMPT_SK_PREFIX)?;
    q.descending = true;
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
    let loaded = find(&state, &caller, &id).await?;
    let not_found = || EventId::not_found(event_id.as_str());
    let handle = caller.handle.as_str();
    let delivery: DeliveryRecord = state
        .store
        .get(
            &keys::webhook_log_pk(handle, id.as_str()),
            &keys::webhook_delivery_sk(event_id.as_str()),
        )
        .await?
        .ok_or_else(not_found)?
        .parse()?;
    if !loaded.subscription.is_active() {
        return Err(disabled_conflict(&loaded.subscription));
    }
    if delivery.status == DeliveryStatus::Pending {
        return Err(ApiError::conflict(
            "This delivery still has retries scheduled; re-send it once it has failed.",
        ));
    }
    if delivery.attempts >= retry::MAX_ATTEMPT {
        return Err(ApiError::conflict(format!(
            "This delivery has been attempted {} times, the most allowed.",
            retry::MAX_ATTEMPT
        )));
    }
    // Concurrent re-sends pick the same attempt number, and the worker sends it once.
    let message = DeliveryMessage::resend(&caller.handle, &delivery, delivery.attempts + 1);
    state
        .queue
        .send(
            QueueName::Deliveries,
            vec![message.to_message(Duration::ZERO)],
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "deliveryId": message.delivery_id(),
            "eventId": message.event_id,
            "attempt": message.attempt,
            "status": "queued",
        })),
    )
        .into_response())
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
    let recovery = recovery::recover(&state, &caller.handle, &id, &body.since).await?;
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
struct SubscriptionHealth {
    subscription_id: SubscriptionId,
    endpoint_url: String,
    status: SubscriptionStatus,
    /// Why it is disabled (a `410`, a long run of failures, an operator), when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    #[serde(flatten)]
    counts: log::DeliveryCounts,
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
    let store = state.store.as_ref();
    let handle = caller.handle.as_str();
    let subs = repo::list_all(store, handle).await?;
    let mut counts = log::read_counts(store, handle).await?;
    let live: HashSet<&str> = subs.iter().map(|s| s.subscription_id.as_str()).collect();
    let page = store
        .query(StoreQuery {
            pk: keys::webhook_notifications_pk(handle),
            range: SkRange::All,
            limit: params.limit()?,
            after: params.after()?,
            descending: true,
        })
        .await?;
    let failed_deliveries = page
        .items
        .iter()
        .map(super::super::store::Item::parse::<log::FailedDelivery>)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        // Entries of deleted subscriptions linger until they expire; they are not shown.
        .filter(|f| live.contains(f.subscription_id.as_str()))
        .collect();
    let subscriptions = subs
        .iter()
        .map(|s| SubscriptionHealth {
            subscription_id: s.subscription_id.clone(),
            endpoint_url: s.endpoint_url.clone(),
            status: s.status,
            disabled_reason: s.disabled_reason.clone(),
            counts: counts
                .remove(s.subscription_id.as_str())
                .unwrap_or_default(),
        })
        .collect();
    Ok(axum::Json(Notifications {
        subscriptions,
        failed_deliveries,
        next_cursor: page.next.as_deref().map(pagination::encode_cursor),
    }))
}
