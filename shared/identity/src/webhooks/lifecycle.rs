//! The subscription lifecycle: create (capped per handle), pause or resume, delete, a test
//! dispatch, a manual re-send, and the handle's notifications. Every lookup is under the
//! caller's own handle, so one handle's subscriptions are invisible to another. The HTTP layer
//! (`http/webhooks.rs`) only parses, calls one of these and renders the answer.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;
use tracing::instrument;

use crate::domain::{EventId, Handle, SubscriptionId};
use crate::kernel::events::{Event, EventPayload, EventType};
use crate::kernel::io::Io;
use crate::platform::queue::{QueueError, QueueName};
use crate::platform::store::{Cond, CounterCap, Query, SkRange, Store, StoreError, WriteOp, keys};
use crate::webhooks::delivery::DeliveryMessage;
use crate::webhooks::log::{self, DeliveryRecord, DeliveryStatus};
use crate::webhooks::signing::generate_secret;
use crate::webhooks::ssrf::{self, Refusal, SystemResolver};
use crate::webhooks::subscription::{
    MAX_SUBSCRIPTIONS_PER_HANDLE, Subscription, SubscriptionStatus, ValidSpec,
};
use crate::webhooks::{repo, retry};

/// DNS at creation is advisory (the delivery re-checks), so it must not hold a request long.
const CREATE_DNS_TIMEOUT: Duration = Duration::from_secs(3);

const SUBSCRIPTIONS_COUNTER: &str = "subscriptions";

/// Why a lifecycle step was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("Webhook subscription {0} was not found.")]
    NotFound(String),
    #[error("A delivery of event {0} was not found.")]
    DeliveryNotFound(String),
    #[error(
        "A handle may have at most {MAX_SUBSCRIPTIONS_PER_HANDLE} webhook subscriptions; delete one first."
    )]
    TooMany,
    #[error("endpointUrl: {0}")]
    EndpointRefused(Refusal),
    #[error(
        "Webhook subscription {id} is disabled ({reason}); resume it with PATCH {{\"status\": \"active\"}} first."
    )]
    Disabled { id: SubscriptionId, reason: String },
    #[error("Webhook subscription {0} changed meanwhile; read it and try again.")]
    ChangedMeanwhile(SubscriptionId),
    #[error(
        "Webhook subscription {id} is the postback of partner {partner}: clear the partner's postbackUrl instead."
    )]
    IsPostback { id: SubscriptionId, partner: String },
    #[error("This delivery still has retries scheduled; re-send it once it has failed.")]
    RetriesPending,
    #[error(
        "This delivery has been attempted {} times, the most allowed.",
        retry::MAX_ATTEMPT
    )]
    MaxAttempts,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The caller's subscription (ids of other handles are not looked at).
pub async fn find(
    store: &dyn Store,
    handle: &Handle,
    id: &SubscriptionId,
) -> Result<repo::Loaded, SubscriptionError> {
    repo::load(store, handle, id)
        .await?
        .ok_or_else(|| SubscriptionError::NotFound(id.to_string()))
}

/// A new subscription with a fresh secret (returned here only). Round trips: ONE query (the
/// subscriptions older than the count) and ONE transaction (the count, capped atomically so
/// concurrent creates cannot pass the cap together, and the subscription).
#[instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    store: &dyn Store,
    allow_private: bool,
    handle: &Handle,
    spec: ValidSpec,
) -> Result<Subscription, SubscriptionError> {
    vet_endpoint(&spec.endpoint_url, allow_private).await?;
    let h = handle;
    let existing = Query::prefix(
        keys::handle_pk(h),
        keys::WEBHOOK_SK_PREFIX,
        MAX_SUBSCRIPTIONS_PER_HANDLE,
    );
    if store.query(existing).await?.items.len() >= MAX_SUBSCRIPTIONS_PER_HANDLE {
        return Err(SubscriptionError::TooMany);
    }
    let sub = Subscription::new(
        h,
        spec,
        generate_secret(),
        crate::platform::time::timestamp(),
    );
    let cap = i64::try_from(MAX_SUBSCRIPTIONS_PER_HANDLE).unwrap_or(i64::MAX);
    let put = WriteOp::Put {
        item: repo::item(&sub, 1)?,
        cond: Cond::Absent,
    };
    let target = audit_target(&sub);
    let audit = crate::kernel::audit::entry(h, "webhook.created", &target)?;
    match store
        .transact(vec![subscription_count(h, 1, Some(cap)), put, audit])
        .await
    {
        Ok(()) => Ok(sub),
        Err(StoreError::TxConflict { index: 0, .. }) => Err(SubscriptionError::TooMany),
        Err(e) => Err(e.into()),
    }
}

/// How the audit log names a subscription: its id and endpoint's host (never the URL's path or
/// query, which may carry the receiver's own secret).
fn audit_target(sub: &Subscription) -> String {
    let host = url::Url::parse(&sub.endpoint_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{} ({host})", sub.subscription_id)
}

/// The creation-time SSRF check. A name that does not resolve yet is accepted (every delivery
/// checks again); one that is, or resolves to, a non-public address is refused.
async fn vet_endpoint(url: &url::Url, allow_private: bool) -> Result<(), SubscriptionError> {
    let resolver = SystemResolver {
        timeout: CREATE_DNS_TIMEOUT,
    };
    match ssrf::vet(url, &resolver, allow_private).await {
        Ok(_) | Err(Refusal::Unresolved { .. }) => Ok(()),
        Err(refusal) => Err(SubscriptionError::EndpointRefused(refusal)),
    }
}

/// The handle's subscription count, moved by `delta` (capped on creation).
fn subscription_count(handle: &Handle, delta: i64, max: Option<i64>) -> WriteOp {
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

/// Resumes a subscription stopped by a `410` (or pauses one). ONE read and ONE write,
/// conditioned on the version read (a concurrent change is refused, never lost silently).
#[instrument(skip_all, fields(handle = %handle, subscription_id = %id))]
pub async fn set_status(
    store: &dyn Store,
    handle: &Handle,
    id: &SubscriptionId,
    status: SubscriptionStatus,
) -> Result<Subscription, SubscriptionError> {
    let loaded = find(store, handle, id).await?;
    let now = crate::platform::time::timestamp();
    let sub = match status {
        SubscriptionStatus::Active => loaded.subscription.reactivated(now),
        SubscriptionStatus::Disabled if !loaded.subscription.is_active() => loaded.subscription,
        SubscriptionStatus::Disabled => loaded
            .subscription
            .disabled("paused by an operator".into(), now),
    };
    let item = repo::item(&sub, loaded.version + 1)?;
    let cond = Cond::Version(loaded.version);
    let action = if sub.is_active() {
        "webhook.resumed"
    } else {
        "webhook.paused"
    };
    let op = WriteOp::Put { item, cond };
    match crate::kernel::audit::write(store, op, handle, action, id.as_str()).await {
        Ok(()) => Ok(sub),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(SubscriptionError::ChangedMeanwhile(id.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes a subscription with its delivery counts: ONE read, ONE transaction. Queued
/// deliveries find it gone and are dropped; its log expires on its own. A partner's postback
/// subscription is the partner's to clear.
#[instrument(skip_all, fields(handle = %handle, subscription_id = %id))]
pub async fn remove(
    store: &dyn Store,
    handle: &Handle,
    id: &SubscriptionId,
) -> Result<(), SubscriptionError> {
    let loaded = find(store, handle, id).await?;
    if let Some(partner) = &loaded.subscription.partner_id {
        let partner = partner.to_string();
        return Err(SubscriptionError::IsPostback {
            id: id.clone(),
            partner,
        });
    }
    let h = handle;
    let mut ops = vec![WriteOp::Delete {
        pk: keys::handle_pk(h),
        sk: keys::webhook_sk(id),
        cond: Cond::Exists,
    }];
    ops.extend((0..keys::WEBHOOK_STATS_SHARDS).map(|shard| {
        let (pk, sk) = keys::webhook_stats(h, id, shard);
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        }
    }));
    ops.push(subscription_count(h, -1, None));
    let target = audit_target(&loaded.subscription);
    ops.push(crate::kernel::audit::entry(h, "webhook.deleted", &target)?);
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TxConflict { index: 0, .. }) => {
            Err(SubscriptionError::NotFound(id.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

fn ensure_active(sub: &Subscription) -> Result<(), SubscriptionError> {
    match sub.is_active() {
        true => Ok(()),
        false => Err(SubscriptionError::Disabled {
            id: sub.subscription_id.clone(),
            reason: sub
                .disabled_reason
                .clone()
                .unwrap_or_else(|| "disabled".into()),
        }),
    }
}

/// What a `webhook.test` event says.
pub const TEST_MESSAGE: &str =
    "A test event from 10x: your endpoint receives and can verify our webhooks.";

/// `webhook.test`: the subscription it is aimed at, and a sentence for whoever reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTestData {
    pub subscription_id: SubscriptionId,
    pub message: String,
}

impl EventPayload for WebhookTestData {
    const TYPES: &'static [EventType] = &[EventType::WebhookTest];
    fn event_type(&self) -> EventType {
        EventType::WebhookTest
    }
}

/// A `webhook.test` event for one active subscription, on the same path as every real event
/// (the events queue, fan-out, the deliveries queue): ONE read, ONE enqueue. Its event id.
#[instrument(skip_all, fields(handle = %handle, subscription_id = %id))]
pub async fn dispatch_test(
    io: Io<'_>,
    handle: &Handle,
    id: &SubscriptionId,
) -> Result<EventId, SubscriptionError> {
    let loaded = find(io.store.as_ref(), handle, id).await?;
    ensure_active(&loaded.subscription)?;
    let mut event = Event::new(
        handle,
        &WebhookTestData {
            subscription_id: id.clone(),
            message: TEST_MESSAGE.to_owned(),
        },
    );
    event.target_subscription = Some(id.clone());
    let message = crate::kernel::outbox::message(&event);
    io.queue.send(QueueName::Events, vec![message]).await?;
    Ok(event.id)
}

/// One more attempt of a delivery that ended (failed or delivered), while attempts remain:
/// TWO reads, ONE enqueue. Concurrent re-sends pick the same attempt number, and the worker
/// sends it once.
#[instrument(skip_all, fields(handle = %handle, subscription_id = %id, event_id = %event_id))]
pub async fn resend(
    io: Io<'_>,
    handle: &Handle,
    id: &SubscriptionId,
    event_id: &EventId,
) -> Result<DeliveryMessage, SubscriptionError> {
    let loaded = find(io.store.as_ref(), handle, id).await?;
    let pk = keys::webhook_log_pk(handle, id);
    let delivery: DeliveryRecord = io
        .store
        .get(&pk, &keys::webhook_delivery_sk(event_id.as_str()))
        .await?
        .ok_or_else(|| SubscriptionError::DeliveryNotFound(event_id.to_string()))?
        .parse()?;
    ensure_active(&loaded.subscription)?;
    if delivery.status == DeliveryStatus::Pending {
        return Err(SubscriptionError::RetriesPending);
    }
    if delivery.attempts >= retry::MAX_ATTEMPT {
        return Err(SubscriptionError::MaxAttempts);
    }
    let message = DeliveryMessage::resend(handle, &delivery, delivery.attempts + 1);
    let queued = vec![message.to_message(Duration::ZERO)];
    io.queue.send(QueueName::Deliveries, queued).await?;
    Ok(message)
}

/// One subscription's health on the notifications panel.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionHealth {
    subscription_id: SubscriptionId,
    endpoint_url: String,
    status: SubscriptionStatus,
    /// Why it is disabled (a `410`, a long run of failures, an operator), when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    #[serde(flatten)]
    counts: log::DeliveryCounts,
}

/// The handle's notifications: every subscription's health, and a page of failed deliveries
/// (newest first; `next` resumes after it).
pub struct Notifications {
    pub subscriptions: Vec<SubscriptionHealth>,
    pub failed_deliveries: Vec<log::FailedDelivery>,
    pub next: Option<String>,
}

/// Round trips: the subscriptions (one query per 1,000), the counts, ONE page of failures.
#[instrument(skip_all, fields(handle = %handle))]
pub async fn notifications(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<Notifications, SubscriptionError> {
    let h = handle;
    let subs = repo::list_all(store, h).await?;
    let mut counts = log::read_counts(store, h).await?;
    let live: HashSet<&str> = subs.iter().map(|s| s.subscription_id.as_str()).collect();
    let query = Query {
        pk: keys::webhook_notifications_pk(h),
        range: SkRange::All,
        limit,
        after,
        descending: true,
    };
    let page = store.query(query).await?;
    let failed_deliveries = page
        .items
        .iter()
        .map(crate::platform::store::Item::parse::<log::FailedDelivery>)
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
    Ok(Notifications {
        subscriptions,
        failed_deliveries,
        next: page.next,
    })
}
