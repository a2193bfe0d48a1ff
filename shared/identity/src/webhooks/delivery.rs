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
//! failure is final. `410 Gone` disables the subscription at once, and so does a run of failures
//! longer than the auto-disable period (see `health`). A message for a subscription disabled
//! meanwhile is recorded as a failed attempt that was not sent (so `recover` finds it later).
//!
//! Concurrency: deliveries run side by side (the local consumer keeps up to
//! `TENX_DELIVERY_CONCURRENCY` in flight; on Lambda, a batch at a time), at most
//! `TENX_DELIVERY_CONCURRENCY_PER_ENDPOINT` to one subscription ([`EndpointLimits`]). A message
//! whose endpoint stays full for [`ENDPOINT_WAIT`] goes back on the queue for
//! [`ENDPOINT_BUSY_DELAY`], so one slow endpoint cannot hold every slot.

use std::time::Duration;

use async_trait::async_trait;
use tracing::Instrument;

use super::claim::{self, Claim};
use super::health::{self, Attempt};
use super::limits::EndpointLimits;
use super::log::AttemptRecord;
use super::repo;
use super::send::{self, Clients, SendOutcome, SignedRequest};
use super::settle::Settled;
use super::signing::SigningKey;
use crate::kernel::consume::BatchHandler;
use crate::kernel::state::AppState;
use crate::platform::queue::{QueueName, Received};
use crate::platform::store::{Cond, StoreError, WriteOp, keys};

pub use super::message::LEASE;
/// Messages that arrive this early are re-enqueued (delays above SQS's 15-minute maximum).
const EARLY_TOLERANCE_MS: i64 = 1000;
/// How long a delivery waits for a place at its endpoint before going back on the queue.
pub const ENDPOINT_WAIT: Duration = Duration::from_secs(5);
/// … and how long it stays there.
pub const ENDPOINT_BUSY_DELAY: Duration = Duration::from_secs(1);
/// Rounds of re-reading a concurrently changed delivery or subscription before giving up.
const FINALIZE_ROUNDS: usize = 6;
/// Rounds in which a mere start or end of a run of failures is written (see `health_change`).
const HEALTH_ROUNDS: usize = 3;
/// Positions in the outcome transaction (see [`Settled::ops`]).
const OP_ATTEMPT: usize = 0;
const OP_DELIVERY: usize = 1;

pub use super::message::DeliveryMessage;

/// The consumer of [`QueueName::Deliveries`].
pub struct DeliveryWorker {
    pub state: AppState,
    limits: EndpointLimits,
    clients: Clients,
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

impl DeliveryWorker {
    pub fn new(state: AppState) -> Self {
        let limits = EndpointLimits::new(state.config.delivery_concurrency_per_endpoint);
        Self {
            state,
            limits,
            clients: Clients::default(),
        }
    }

    async fn process(&self, received: &Received) -> Verdict {
        let message = match serde_json::from_str::<DeliveryMessage>(&received.body) {
            Ok(m) if m.is_well_formed() => m,
            _ => {
                // Left to fail until the queue dead-letters it, where it stays visible.
                tracing::error!(message_id = %received.message_id, "unreadable delivery message");
                return Verdict::Retry;
            }
        };
        let span = tracing::info_span!(
            "delivery",
            event_id = %message.event_id,
            subscription_id = %message.subscription_id,
            attempt = message.attempt,
        );
        match self.deliver(&message).instrument(span).await {
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
        if self.requeue_if_early(m).await? {
            return Ok(Verdict::Ack);
        }
        let Some(_place) = self
            .limits
            .acquire(m.subscription_id.as_str(), ENDPOINT_WAIT)
            .await
        else {
            // The endpoint is full: come back shortly instead of holding a slot of the worker.
            let again = m.to_message(ENDPOINT_BUSY_DELAY);
            self.state
                .queue
                .send(QueueName::Deliveries, vec![again])
                .await?;
            return Ok(Verdict::Ack);
        };
        let state = &self.state;
        let now_ms = crate::platform::time::now_millis();
        let Some(loaded) = repo::load(state.store.as_ref(), &m.handle, &m.subscription_id).await?
        else {
            tracing::info!(delivery_id = %m.delivery_id(), "subscription deleted; delivery dropped");
            return Ok(Verdict::Ack);
        };
        let claim_version = match claim::claim(state.store.as_ref(), m, now_ms).await? {
            Claim::Won(version) => version,
            Claim::Busy => return Ok(Verdict::Retry),
            Claim::Finished(record, version) => {
                return self.ensure_next_enqueued(m, record, version).await;
            }
        };
        let outcome = if loaded.subscription.is_active() {
            Some(self.send(m, &loaded, now_ms).await?)
        } else {
            tracing::info!(delivery_id = %m.delivery_id(), "subscription disabled; attempt recorded as not sent");
            None
        };
        self.finish(m, loaded, claim_version, now_ms, outcome).await
    }

    /// A message that arrived well before its time goes back on the queue for the rest.
    async fn requeue_if_early(&self, m: &DeliveryMessage) -> anyhow::Result<bool> {
        let Some(due) = m.due_at_ms else {
            return Ok(false);
        };
        let early = due - crate::platform::time::now_millis();
        if early <= EARLY_TOLERANCE_MS {
            return Ok(false);
        }
        let delay = Duration::from_millis(early.unsigned_abs());
        self.state
            .queue
            .send(QueueName::Deliveries, vec![m.to_message(delay)])
            .await?;
        Ok(true)
    }

    /// Signs and POSTs the attempt (a postback: GETs its rendered URL).
    async fn send(
        &self,
        m: &DeliveryMessage,
        loaded: &repo::Loaded,
        now_ms: i64,
    ) -> anyhow::Result<SendOutcome> {
        let allow_private = self.state.config.webhooks_allow_private;
        if loaded.subscription.partner_id.is_some() {
            let url = super::postback::render(&loaded.subscription.endpoint_url, &m.body);
            return Ok(send::get(&self.clients, allow_private, &url, m.event_id.as_str()).await);
        }
        let key = SigningKey::parse(&loaded.subscription.secret)
            .map_err(|e| anyhow::anyhow!("stored secret unusable: {e}"))?;
        let timestamp = now_ms.div_euclid(1000);
        let request = SignedRequest {
            url: &loaded.subscription.endpoint_url,
            msg_id: m.event_id.as_str(),
            timestamp,
            signature: key.sign(m.event_id.as_str(), timestamp, m.body.as_bytes()),
            body: &m.body,
        };
        Ok(send::post(&self.clients, allow_private, request).await)
    }

    /// A finished attempt that scheduled a retry whose message may never have been enqueued
    /// (crash between commit and send): enqueue it now. A duplicate is harmless (claimed once).
    async fn ensure_next_enqueued(
        &self,
        m: &DeliveryMessage,
        record: AttemptRecord,
        version: u64,
    ) -> anyhow::Result<Verdict> {
        if record.next_enqueued {
            return Ok(Verdict::Ack);
        }
        self.schedule_next(m, record, version).await
    }

    async fn mark_enqueued(&self, m: &DeliveryMessage, record: &AttemptRecord, version: u64) {
        // Best effort: if this is lost, a duplicate message re-enqueues (deduped by the claim).
        let written = match m.attempt_item(record, version + 1) {
            Ok(item) => {
                let cond = Cond::Version(version);
                self.state.store.write(WriteOp::Put { item, cond }).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            tracing::debug!(error = %e, "marking the next attempt enqueued failed");
        }
    }

    /// Records the attempt's outcome (`None`: not sent) and schedules what follows: one
    /// transaction conditioned on our claim (after one read of the delivery record per round).
    async fn finish(
        &self,
        m: &DeliveryMessage,
        mut loaded: repo::Loaded,
        claim_version: u64,
        attempted_at_ms: i64,
        outcome: Option<SendOutcome>,
    ) -> anyhow::Result<Verdict> {
        let store = self.state.store.as_ref();
        let result = outcome.clone().unwrap_or(SendOutcome {
            status_code: None,
            duration_ms: 0,
            error: None,
        });
        let attempt = Attempt {
            outcome: outcome.as_ref(),
            started_ms: attempted_at_ms,
            finished_ms: attempted_at_ms.saturating_add_unsigned(result.duration_ms),
        };
        // The subscription was deleted meanwhile: nothing of it is left to change.
        let mut deleted = false;
        for round in 1..=FINALIZE_ROUNDS {
            let change = self.health_change(&loaded, &attempt, deleted, round);
            let settled = Settled::new(
                self.state.config.webhook_retry_base,
                m,
                attempted_at_ms,
                &result,
                change.stop,
            );
            let previous = store
                .get(&m.log_pk(), &keys::webhook_delivery_sk(m.event_id.as_str()))
                .await?;
            let changed = change.subscription.as_ref();
            let ops = settled.ops(m, &loaded, claim_version, previous.as_ref(), changed)?;
            match store.transact(ops.ops).await {
                Ok(()) => {
                    return self
                        .schedule_next(m, settled.record, claim_version + 1)
                        .await;
                }
                // Our lease expired and another worker took the attempt over: it records it.
                Err(StoreError::TxConflict {
                    index: OP_ATTEMPT, ..
                }) => return Ok(Verdict::Ack),
                Err(StoreError::TxConflict {
                    index: OP_DELIVERY, ..
                }) => continue,
                // The subscription changed since it was read: assess again on what it is now.
                Err(StoreError::TxConflict { index, .. }) if Some(index) == ops.subscription_at => {
                    match repo::load(store, &m.handle, &m.subscription_id).await? {
                        Some(fresh) => loaded = fresh,
                        None => deleted = true,
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::bail!("the delivery record kept changing; giving up this round")
    }

    /// What the attempt does to its subscription this round. After [`HEALTH_ROUNDS`] rounds lost
    /// to concurrent changes of the subscription (a flapping endpoint, many deliveries at once),
    /// the start or end of a run of failures is left to the next attempt, so the outcome is
    /// recorded; a disabling is not given up.
    fn health_change(
        &self,
        loaded: &repo::Loaded,
        attempt: &Attempt<'_>,
        deleted: bool,
        round: usize,
    ) -> health::HealthChange {
        let auto_disable = self.state.config.webhook_auto_disable_after;
        let mut change = health::assess(&loaded.subscription, attempt, auto_disable);
        if deleted || (round > HEALTH_ROUNDS && change.stop.is_none()) {
            change.subscription = None;
        }
        change
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
        let delay = Duration::from_millis(
            (next_ms - crate::platform::time::now_millis())
                .max(0)
                .unsigned_abs(),
        );
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
