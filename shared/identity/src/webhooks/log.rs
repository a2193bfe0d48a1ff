//! The delivery log and notifications: what the worker records and the routes read.
//!
//! Per subscription (partition `H#{handle}#W#{subscriptionId}`):
//! - one [`AttemptRecord`] per attempt (`D#{eventId}#{attempt:02}`): first the idempotency claim
//!   (`sending` with a lease), then the outcome;
//! - one [`DeliveryRecord`] per event (`E#{eventId}`): the exact body sent (so a re-send sends the
//!   same bytes), the status and the attempt count.
//!
//! Per handle: the failed deliveries (`H#{handle}#WN`, newest first) and the per-subscription
//! counters (`H#{handle}#WS`, atomic `Add`). Log items expire after [`LOG_RETENTION`].

use crate::domain::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::{EventId, SubscriptionId};
use crate::kernel::events::EventType;
use crate::platform::store::{Query, SkRange, Store, StoreError, keys};

/// How long attempts, deliveries and notifications are kept.
pub const LOG_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Counter names on a subscription's stats item.
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const FAILED_ATTEMPTS: &str = "failed_attempts";

pub fn retention_expiry(now_unix: i64) -> i64 {
    now_unix + crate::domain::time::secs(LOG_RETENTION)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    /// Claimed by a worker that is sending it now (until `leaseUntilMs`).
    Sending,
    Succeeded,
    Failed,
}

/// One attempt, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub event_id: EventId,
    pub event_type: EventType,
    pub attempt: u32,
    pub manual: bool,
    pub status: AttemptStatus,
    pub attempted_at: Timestamp,
    pub attempted_at_ms: i64,
    /// While `sending`: another worker may take the attempt over after this.
    #[serde(default)]
    pub lease_until_ms: Option<i64>,
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub next_attempt_ms: Option<i64>,
    /// The next attempt's message is on the queue (a duplicate of this attempt's message
    /// re-enqueues it when this is still false, e.g. after a crash between commit and send).
    #[serde(default)]
    pub next_enqueued: bool,
}

impl AttemptRecord {
    pub fn view(&self, subscription_id: &SubscriptionId) -> AttemptView {
        AttemptView {
            delivery_id: format!("{}:{subscription_id}", self.event_id),
            event_id: self.event_id.clone(),
            event_type: self.event_type,
            attempt: self.attempt,
            manual: self.manual,
            status: self.status,
            status_code: self.status_code,
            duration_ms: self.duration_ms,
            error: self.error.clone(),
            attempted_at: self.attempted_at.clone(),
            next_attempt_at: self.next_attempt_ms.map(Timestamp::from_millis),
        }
    }
}

/// One attempt, as `GET …/deliveries` returns it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub delivery_id: String,
    pub event_id: EventId,
    pub event_type: EventType,
    pub attempt: u32,
    pub manual: bool,
    pub status: AttemptStatus,
    pub status_code: Option<u16>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    pub attempted_at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Another attempt is scheduled.
    Pending,
    Delivered,
    /// Retries are exhausted, or the endpoint answered 410 Gone.
    Failed,
}

/// The delivery of one event to one subscription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub subscription_id: SubscriptionId,
    pub event_id: EventId,
    pub event_type: EventType,
    /// The exact bytes sent (every attempt and re-send signs and sends these).
    pub body: String,
    pub status: DeliveryStatus,
    /// The highest attempt number finished.
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    /// The sort key of this delivery's entry in the handle's failed deliveries, if listed.
    #[serde(default)]
    pub notification_sk: Option<String>,
}

/// A failed delivery, as stored in the handle's notifications and returned by the route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedDelivery {
    pub subscription_id: SubscriptionId,
    pub endpoint_url: String,
    pub event_id: EventId,
    pub event_type: EventType,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub failed_at: Timestamp,
}

/// Success/failure counts of one subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCounts {
    /// Deliveries that reached the endpoint (a 2xx).
    pub success_count: i64,
    /// Deliveries that failed for good (retries exhausted, or 410 Gone).
    pub failure_count: i64,
    /// Every attempt that did not get a 2xx, including ones retried later.
    pub failed_attempts: i64,
}

/// The counts of every subscription of a handle that has any.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn read_counts(
    store: &dyn Store,
    handle: &Handle,
) -> Result<HashMap<String, DeliveryCounts>, StoreError> {
    let mut counts = HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .query(Query {
                pk: keys::webhook_stats_pk(handle),
                range: SkRange::Prefix("S#".into()),
                limit: 1000,
                after: after.take(),
                descending: false,
            })
            .await?;
        for item in &page.items {
            // A subscription's counters are spread over shards (`keys::webhook_stats`): summed.
            if let Some(sharded) = item.sk.strip_prefix("S#") {
                let id = sharded.split_once('#').map_or(sharded, |(id, _)| id);
                let sum: &mut DeliveryCounts = counts.entry(id.to_owned()).or_default();
                sum.success_count += item.counter(DELIVERED);
                sum.failure_count += item.counter(FAILED);
                sum.failed_attempts += item.counter(FAILED_ATTEMPTS);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(counts),
        }
    }
}

/// Where a subscription's delivery attempts are listed from, newest first.
pub fn attempts(
    handle: &crate::domain::Handle,
    id: &SubscriptionId,
) -> crate::platform::store::Listing {
    crate::platform::store::Listing {
        pk: crate::platform::store::keys::webhook_log_pk(handle, id),
        prefix: crate::platform::store::keys::WEBHOOK_ATTEMPT_SK_PREFIX,
        descending: true,
    }
}
