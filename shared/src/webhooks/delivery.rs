//! The delivery worker: one message on the deliveries queue = one attempt to deliver one event
//! to one subscription.
//!
//! Exactly-once per attempt, on an at-least-once queue: before sending attempt N the worker
//! claims it with a conditional put of its attempt record (`sending`, with a lease). A duplicate
//! message that finds the attempt finished does nothing (beyond making sure the next attempt is
//! enqueued); one that finds a live lease comes back later; one that finds an expired lease (the
//! first worker died) takes the attempt over. The outcome, the delivery record, the counters,
//! the notification and a 410's disabling of the subscription commit in one transaction that is
//! conditioned on the claim, so a worker that lost its lease cannot record anything.
//!
//! A failed automatic attempt re-enqueues the next one with a delay (see `retry`); the sixth
//! failure is final. `410 Gone` disables the subscription at once.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::log::{
    self, AttemptRecord, AttemptStatus, DeliveryRecord, DeliveryStatus, FailedDelivery,
};
use super::send::{self, SendOutcome, SignedRequest};
use super::signing::SigningKey;
use super::subscription::{is_event_id, is_subscription_id};
use super::{repo, retry};
use crate::domain::Handle;
use crate::events::{Event, EventType};
use crate::queue::{OutMessage, QueueName, Received};
use crate::state::AppState;
use crate::store::{keys, Cond, Item, StoreError, WriteOp};
use crate::workers::BatchHandler;

/// How long a claimed attempt belongs to its worker: the send timeout, DNS and the commit fit
/// well inside it.
pub const LEASE: Duration = Duration::from_secs(60);
/// Messages that arrive this early are re-enqueued (delays above SQS's 15-minute maximum).
const EARLY_TOLERANCE_MS: i64 = 1000;
/// Rounds of re-reading a concurrently changed delivery or subscription before giving up.
const FINALIZE_ROUNDS: usize = 4;

/// One attempt to deliver one event to one subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMessage {
    pub handle: String,
    pub subscription_id: String,
    /// Sent as `webhook-id`: the same on every attempt.
    pub event_id: String,
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
    pub fn first(event: &Event, subscription_id: &str) -> Self {
        Self {
            handle: event.handle.clone(),
            subscription_id: subscription_id.to_owned(),
            event_id: event.id.clone(),
            event_type: event.kind,
            body: event.webhook_body().to_string(),
            attempt: 1,
            manual: false,
            due_at_ms: None,
        }
    }

    /// A manual re-send of a recorded delivery, as attempt `attempt`.
    pub fn resend(handle: &str, delivery: &DeliveryRecord, attempt: u32) -> Self {
        Self {
            handle: handle.to_owned(),
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
        OutMessage::delayed(serde_json::to_string(self).unwrap_or_default(), delay)
    }

    fn next(&self, due_at_ms: i64) -> Self {
        Self {
            attempt: self.attempt + 1,
            due_at_ms: Some(due_at_ms),
            ..self.clone()
        }
    }

    fn is_well_formed(&self) -> bool {
        Handle::parse(&self.handle).is_ok()
            && is_subscription_id(&self.subscription_id)
            && is_event_id(&self.event_id)
            && (1..=retry::MAX_ATTEMPT).contains(&self.attempt)
    }

    fn log_pk(&self) -> String {
        keys::webhook_log_pk(&self.handle, &self.subscription_id)
    }

    fn attempt_sk(&self) -> String {
        keys::webhook_attempt_sk(&self.event_id, self.attempt)
    }
}

/// The consumer of [`QueueName::Deliveries`].
pub struct DeliveryWorker {
    pub state: AppState,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Done with this message (delete it).
    Ack,
    /// Leave it on the queue; it comes back after its visibility timeout.
    Retry,
}

#[async_trait]
impl BatchHandler for DeliveryWorker {
    fn queue(&self) -> QueueName {
        QueueName::Deliveries
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        // Concurrently: one slow endpoint must not hold up the rest of the batch.
        let verdicts = futures::future::join_all(batch.iter().map(|m| self.process(m))).await;
        batch
            .into_iter()
            .zip(verdicts)
            .filter(|(_, v)| *v == Verdict::Retry)
            .map(|(m, _)| m.message_id)
            .collect()
    }
}

/// The outcome of trying to claim an attempt.
enum Claim {
    /// Ours to send; the record is at this version.
    Won(u64),
    /// Already finished (by an earlier copy of this message).
    Finished(AttemptRecord, u64),
    /// Another worker holds a live lease.
    Busy,
}

impl DeliveryWorker {
    async fn process(&self, received: &Received) -> Verdict {
        let message = match serde_json::from_str::<DeliveryMessage>(&received.body) {
            Ok(m) if m.is_well_formed() => m,
            _ => {
                // Left to fail until the queue dead-letters it, where it stays visible.
                tracing::error!(message_id = %received.message_id, "unreadable delivery message");
                return Verdict::Retry;
            }
        };
        match self.deliver(&message).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(
                    delivery_id = %message.delivery_id(),
                    attempt = message.attempt,
                    error = %e,
                    "webhook delivery failed to complete; the message will be retried"
                );
                Verdict::Retry
            }
        }
    }

    async fn deliver(&self, m: &DeliveryMessage) -> anyhow::Result<Verdict> {
        let state = &self.state;
        let now_ms = crate::time::now_millis();
        if let Some(due) = m.due_at_ms {
            let early = due - now_ms;
            if early > EARLY_TOLERANCE_MS {
                let delay = Duration::from_millis(early as u64);
                state
                    .queue
                    .send(QueueName::Deliveries, vec![m.to_message(delay)])
                    .await?;
                return Ok(Verdict::Ack);
            }
        }
        let Some(loaded) = repo::load(state.store.as_ref(), &m.handle, &m.subscription_id).await?
        else {
            tracing::info!(delivery_id = %m.delivery_id(), "subscription deleted; delivery dropped");
            return Ok(Verdict::Ack);
        };
        if !loaded.subscription.is_active() {
            tracing::info!(delivery_id = %m.delivery_id(), "subscription disabled; delivery dropped");
            return Ok(Verdict::Ack);
        }
        let claim_version = match self.claim(m, now_ms).await? {
            Claim::Won(version) => version,
            Claim::Busy => return Ok(Verdict::Retry),
            Claim::Finished(record, version) => {
                return self.ensure_next_enqueued(m, record, version).await
            }
        };
        let key = SigningKey::parse(&loaded.subscription.secret)
            .map_err(|e| anyhow::anyhow!("stored secret unusable: {e}"))?;
        let timestamp = now_ms.div_euclid(1000);
        let outcome = send::post(
            state.config.webhooks_allow_private,
            SignedRequest {
                url: &loaded.subscription.endpoint_url,
                msg_id: &m.event_id,
                timestamp,
                signature: key.sign(&m.event_id, timestamp, m.body.as_bytes()),
                body: &m.body,
            },
        )
        .await;
        self.finish(m, loaded, claim_version, now_ms, outcome).await
    }

    fn claim_record(m: &DeliveryMessage, now_ms: i64) -> AttemptRecord {
        AttemptRecord {
            event_id: m.event_id.clone(),
            event_type: m.event_type,
            attempt: m.attempt,
            manual: m.manual,
            status: AttemptStatus::Sending,
            attempted_at: log::millis_to_rfc3339(now_ms),
            attempted_at_ms: now_ms,
            lease_until_ms: Some(now_ms + LEASE.as_millis() as i64),
            status_code: None,
            duration_ms: None,
            error: None,
            next_attempt_ms: None,
            next_enqueued: false,
        }
    }

    fn attempt_item(m: &DeliveryMessage, record: &AttemptRecord, version: u64) -> Item {
        Item::new(
            m.log_pk(),
            m.attempt_sk(),
            serde_json::to_value(record).unwrap_or_default(),
        )
        .with_version(version)
        .expiring_at(Some(log::retention_expiry(record.attempted_at_ms / 1000)))
    }

    async fn claim(&self, m: &DeliveryMessage, now_ms: i64) -> Result<Claim, StoreError> {
        let store = self.state.store.as_ref();
        let record = Self::claim_record(m, now_ms);
        let put = WriteOp::Put {
            item: Self::attempt_item(m, &record, 1),
            cond: Cond::Absent,
        };
        let current = match store.write(put).await {
            Ok(_) => return Ok(Claim::Won(1)),
            Err(StoreError::ConditionFailed { current }) => current,
            Err(e) => return Err(e),
        };
        let current = match current {
            Some(item) => *item,
            None => match store.get(&m.log_pk(), &m.attempt_sk()).await? {
                Some(item) => item,
                // Vanished in between (expired): let the message come back and claim afresh.
                None => return Ok(Claim::Busy),
            },
        };
        let existing: AttemptRecord = current.parse()?;
        if existing.status != AttemptStatus::Sending {
            return Ok(Claim::Finished(existing, current.version));
        }
        if existing.lease_until_ms.unwrap_or(0) > now_ms {
            return Ok(Claim::Busy);
        }
        // The previous holder died mid-attempt: take it over (one taker wins the version race).
        let takeover = WriteOp::Put {
            item: Self::attempt_item(m, &record, current.version + 1),
            cond: Cond::Version(current.version),
        };
        match store.write(takeover).await {
            Ok(_) => {
                tracing::warn!(delivery_id = %m.delivery_id(), attempt = m.attempt, "took over an expired attempt lease");
                Ok(Claim::Won(current.version + 1))
            }
            Err(StoreError::ConditionFailed { .. }) => Ok(Claim::Busy),
            Err(e) => Err(e),
        }
    }

    /// A finished attempt that scheduled a retry whose message may never have been enqueued
    /// (crash between commit and send): enqueue it now. A duplicate is harmless (claimed once).
    async fn ensure_next_enqueued(
        &self,
        m: &DeliveryMessage,
        mut record: AttemptRecord,
        version: u64,
    ) -> anyhow::Result<Verdict> {
        let Some(next_ms) = record.next_attempt_ms else {
            return Ok(Verdict::Ack);
        };
        if record.next_enqueued {
            return Ok(Verdict::Ack);
        }
        let delay = Duration::from_millis((next_ms - crate::time::now_millis()).max(0) as u64);
        self.state
            .queue
            .send(
                QueueName::Deliveries,
                vec![m.next(next_ms).to_message(delay)],
            )
            .await?;
        record.next_enqueued = true;
        self.mark_enqueued(m, &record, version).await;
        Ok(Verdict::Ack)
    }

    async fn mark_enqueued(&self, m: &DeliveryMessage, record: &AttemptRecord, version: u64) {
        let op = WriteOp::Put {
            item: Self::attempt_item(m, record, version + 1),
            cond: Cond::Version(version),
        };
        // Best effort: if this is lost, a duplicate message re-enqueues (deduped by the claim).
        if let Err(e) = self.state.store.write(op).await {
            tracing::debug!(error = %e, "marking the next attempt enqueued failed");
        }
    }

    /// Records the attempt's outcome and schedules what follows.
    async fn finish(
        &self,
        m: &DeliveryMessage,
        mut loaded: repo::Loaded,
        claim_version: u64,
        attempted_at_ms: i64,
        outcome: SendOutcome,
    ) -> anyhow::Result<Verdict> {
        let state = &self.state;
        let store = state.store.as_ref();
        let finished_ms = attempted_at_ms + outcome.duration_ms as i64;
        let succeeded = outcome.succeeded();
        let gone = outcome.gone();
        let retry_in = if succeeded || gone {
            None
        } else {
            retry::delay_after_failure(state.config.webhook_retry_base, m.attempt, m.manual)
        };
        let next_ms = retry_in.map(|d| finished_ms + d.as_millis() as i64);
        let error = if gone {
            Some("410 Gone: the subscription was disabled".to_owned())
        } else {
            outcome.error.clone()
        };
        let mut record = Self::claim_record(m, attempted_at_ms);
        record.status = if succeeded {
            AttemptStatus::Succeeded
        } else {
            AttemptStatus::Failed
        };
        record.lease_until_ms = None;
        record.status_code = outcome.status_code;
        record.duration_ms = Some(outcome.duration_ms);
        record.error = error.clone();
        record.next_attempt_ms = next_ms;
        let delivery_status = match (succeeded, next_ms) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let final_failure = delivery_status == DeliveryStatus::Failed;
        let now_iso = log::millis_to_rfc3339(finished_ms);
        let expiry = Some(log::retention_expiry(finished_ms / 1000));
        let mut disable = gone;

        for _ in 0..FINALIZE_ROUNDS {
            let previous = store
                .get(&m.log_pk(), &keys::webhook_delivery_sk(&m.event_id))
                .await?;
            let (prev, prev_version) = match &previous {
                Some(item) => (Some(item.parse::<DeliveryRecord>()?), item.version),
                None => (None, 0),
            };
            let mut ops = vec![WriteOp::Put {
                item: Self::attempt_item(m, &record, claim_version + 1),
                cond: Cond::Version(claim_version),
            }];

            let (n_pk, n_sk) =
                keys::webhook_notification(&m.handle, finished_ms, &m.subscription_id, &m.event_id);
            let old_notification = prev.as_ref().and_then(|p| p.notification_sk.clone());
            let delivery = DeliveryRecord {
                subscription_id: m.subscription_id.clone(),
                event_id: m.event_id.clone(),
                event_type: m.event_type,
                body: m.body.clone(),
                status: delivery_status,
                attempts: prev.as_ref().map_or(0, |p| p.attempts).max(m.attempt),
                created_at: prev
                    .as_ref()
                    .map_or_else(|| now_iso.clone(), |p| p.created_at.clone()),
                updated_at: now_iso.clone(),
                last_status_code: outcome.status_code,
                last_error: error.clone(),
                notification_sk: match delivery_status {
                    DeliveryStatus::Failed => Some(n_sk.clone()),
                    DeliveryStatus::Delivered => None,
                    DeliveryStatus::Pending => old_notification.clone(),
                },
            };
            ops.push(WriteOp::Put {
                item: Item::new(
                    m.log_pk(),
                    keys::webhook_delivery_sk(&m.event_id),
                    serde_json::to_value(&delivery)?,
                )
                .with_version(prev_version + 1)
                .expiring_at(expiry),
                cond: if previous.is_some() {
                    Cond::Version(prev_version)
                } else {
                    Cond::Absent
                },
            });

            let (s_pk, s_sk) = keys::webhook_stats(&m.handle, &m.subscription_id);
            let mut deltas = Vec::new();
            if succeeded {
                deltas.push((log::DELIVERED.to_owned(), 1));
            } else {
                deltas.push((log::FAILED_ATTEMPTS.to_owned(), 1));
                if final_failure {
                    deltas.push((log::FAILED.to_owned(), 1));
                }
            }
            ops.push(WriteOp::Add {
                pk: s_pk,
                sk: s_sk,
                deltas,
                cap: None,
                expires_at: None,
            });

            // At most one notification per delivery: its latest failure, removed on success.
            if final_failure {
                let failed = FailedDelivery {
                    subscription_id: m.subscription_id.clone(),
                    endpoint_url: loaded.subscription.endpoint_url.clone(),
                    event_id: m.event_id.clone(),
                    event_type: m.event_type,
                    attempts: delivery.attempts,
                    last_status_code: outcome.status_code,
                    last_error: error.clone(),
                    failed_at: now_iso.clone(),
                };
                ops.push(WriteOp::Put {
                    item: Item::new(n_pk.clone(), n_sk.clone(), serde_json::to_value(&failed)?)
                        .expiring_at(expiry),
                    cond: Cond::None,
                });
            }
            if delivery_status != DeliveryStatus::Pending {
                if let Some(old) = old_notification.filter(|old| *old != n_sk) {
                    ops.push(WriteOp::Delete {
                        pk: n_pk.clone(),
                        sk: old,
                        cond: Cond::None,
                    });
                }
            }

            let disable_index = ops.len();
            if disable {
                let disabled = loaded
                    .subscription
                    .clone()
                    .disabled("the endpoint answered 410 Gone".to_owned(), now_iso.clone());
                ops.push(WriteOp::Put {
                    item: repo::item(&disabled, loaded.version + 1)?,
                    cond: Cond::Version(loaded.version),
                });
            }

            match store.transact(ops).await {
                Ok(()) => return self.schedule_next(m, record, claim_version + 1).await,
                // Our lease expired and another worker took the attempt over: it records it.
                Err(StoreError::TxConflict { index: 0, .. }) => return Ok(Verdict::Ack),
                Err(StoreError::TxConflict { index: 1, .. }) => continue,
                Err(StoreError::TxConflict { index, .. }) if disable && index == disable_index => {
                    match repo::load(store, &m.handle, &m.subscription_id).await? {
                        Some(fresh) if fresh.subscription.is_active() => loaded = fresh,
                        // Deleted or already disabled: nothing left to disable.
                        _ => disable = false,
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::bail!("the delivery record kept changing; giving up this round")
    }

    async fn schedule_next(
        &self,
        m: &DeliveryMessage,
        mut record: AttemptRecord,
        version: u64,
    ) -> anyhow::Result<Verdict> {
        let Some(next_ms) = record.next_attempt_ms else {
            return Ok(Verdict::Ack);
        };
        let delay = Duration::from_millis((next_ms - crate::time::now_millis()).max(0) as u64);
        let sent = self
            .state
            .queue
            .send(
                QueueName::Deliveries,
                vec![m.next(next_ms).to_message(delay)],
            )
            .await;
        if let Err(e) = sent {
            // This message comes back, finds the attempt finished, and enqueues the next one.
            tracing::warn!(error = %e, delivery_id = %m.delivery_id(), "enqueueing the retry failed");
            return Ok(Verdict::Retry);
        }
        record.next_enqueued = true;
        self.mark_enqueued(m, &record, version).await;
        Ok(Verdict::Ack)
    }
}
