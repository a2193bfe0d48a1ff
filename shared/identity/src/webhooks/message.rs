//! A message on the deliveries queue: one attempt to deliver one event to one subscription, and
//! the attempt record it claims.

use crate::domain::time::Timestamp;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::log::{self, AttemptRecord, AttemptStatus, DeliveryRecord};
use super::retry;
use crate::domain::{EventId, Handle, SubscriptionId};
use crate::kernel::events::{Event, EventType};
use crate::platform::queue::OutMessage;
use crate::platform::store::{Item, StoreError, keys};

/// How long a claimed attempt belongs to its worker: the send timeout, DNS and the commit fit
/// well inside it.
pub const LEASE: Duration = Duration::from_secs(60);

/// One attempt to deliver one event to one subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMessage {
    pub handle: Handle,
    pub subscription_id: SubscriptionId,
    /// Sent as `webhook-id`: the same on every attempt.
    pub event_id: EventId,
    pub event_type: EventType,
    /// The exact body to sign and send.
    pub body: String,
    pub attempt: u32,
    /// A re-send requested through the API: a single attempt, never retried automatically.
    #[serde(default)]
    pub manual: bool,
    /// Not before this instant (unix ms).
    #[serde(default)]
    pub due_at_ms: Option<i64>,
}

impl DeliveryMessage {
    /// The first attempt of an event's delivery to a subscription.
    pub fn first(event: &Event, subscription_id: &SubscriptionId) -> Self {
        Self {
            handle: event.handle.clone(),
            subscription_id: subscription_id.clone(),
            event_id: event.id.clone(),
            event_type: event.kind,
            body: event.webhook_body().to_string(),
            attempt: 1,
            manual: false,
            due_at_ms: None,
        }
    }

    /// A manual re-send of a recorded delivery, as attempt `attempt`.
    pub fn resend(handle: &Handle, delivery: &DeliveryRecord, attempt: u32) -> Self {
        Self {
            handle: handle.clone(),
            subscription_id: delivery.subscription_id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type,
            body: delivery.body.clone(),
            attempt,
            manual: true,
            due_at_ms: None,
        }
    }

    /// Deterministic: the same event to the same subscription is always the same delivery.
    pub fn delivery_id(&self) -> String {
        format!("{}:{}", self.event_id, self.subscription_id)
    }

    pub fn to_message(&self, delay: Duration) -> OutMessage {
        // Strings, numbers and a derived enum: serializing cannot fail.
        let body = serde_json::to_string(self).expect("a delivery message is serializable");
        OutMessage::delayed(body, delay)
    }

    pub fn next(&self, due_at_ms: i64) -> Self {
        Self {
            attempt: self.attempt + 1,
            due_at_ms: Some(due_at_ms),
            ..self.clone()
        }
    }

    /// The ids were parsed with the message; the attempt number is the one field left to check.
    pub fn is_well_formed(&self) -> bool {
        (1..=retry::MAX_ATTEMPT).contains(&self.attempt)
    }

    pub fn log_pk(&self) -> String {
        keys::webhook_log_pk(&self.handle, &self.subscription_id)
    }

    pub fn attempt_sk(&self) -> String {
        keys::webhook_attempt_sk(self.event_id.as_str(), self.attempt)
    }
    /// This attempt's record as claimed: `sending`, leased to the claiming worker.
    pub fn claim_record(&self, now_ms: i64) -> AttemptRecord {
        AttemptRecord {
            event_id: self.event_id.clone(),
            event_type: self.event_type,
            attempt: self.attempt,
            manual: self.manual,
            status: AttemptStatus::Sending,
            attempted_at: Timestamp::from_millis(now_ms),
            attempted_at_ms: now_ms,
            lease_until_ms: Some(now_ms + crate::domain::time::millis(LEASE)),
            status_code: None,
            duration_ms: None,
            error: None,
            next_attempt_ms: None,
            next_enqueued: false,
        }
    }

    pub fn attempt_item(&self, record: &AttemptRecord, version: u64) -> Result<Item, StoreError> {
        Ok(Item::new(
            self.log_pk(),
            self.attempt_sk(),
            crate::platform::store::to_doc(record)?,
        )
        .with_version(version)
        .expiring_at(Some(log::retention_expiry(record.attempted_at_ms / 1000))))
    }
}
