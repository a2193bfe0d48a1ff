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
use tracing::Instrument;

use super::log::{AttemptRecord, AttemptStatus};
use super::repo;
use super::send::{self, SendOutcome, SignedRequest};
use super::settle::Settled;
use super::signing::SigningKey;
use crate::consume::BatchHandler;
use crate::queue::{QueueName, Received};
use crate::state::AppState;
use crate::store::{keys, Cond, StoreError, WriteOp};

pub use super::message::LEASE;
/// Messages that arrive this early are re-enqueued (delays above SQS's 15-minute maximum).
const EARLY_TOLERANCE_MS: i64 = 1000;
/// Rounds of re-reading a concurrently changed delivery or subscription before giving up.
const FINALIZE_ROUNDS: usize = 4;
/// Positions in the outcome transaction (see [`Settled::ops`]).
const OP_ATTEMPT: usize = 0;
const OP_DELIVERY: usize = 1;

pub use super::message::DeliveryMessage;

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

    async fn claim(&self, m: &DeliveryMessage, now_ms: i64) -> Result<Claim, StoreError> {
        let store = self.state.store.as_ref();
        let record = m.claim_record(now_ms);
        let put = WriteOp::Put {
            item: m.attempt_item(&record, 1)?,
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
            item: m.attempt_item(&record, current.version + 1)?,
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

    /// Records the attempt's outcome and schedules what follows: one transaction conditioned on
    /// our claim (round trip 1 of 2 per round, after one read of the delivery record).
    async fn finish(
        &self,
        m: &DeliveryMessage,
        mut loaded: repo::Loaded,
        claim_version: u64,
        attempted_at_ms: i64,
        outcome: SendOutcome,
    ) -> anyhow::Result<Verdict> {
        let store = self.state.store.as_ref();
        let settled = Settled::new(&self.state, m, attempted_at_ms, &outcome);
        let mut disable = settled.gone;
        for _ in 0..FINALIZE_ROUNDS {
            let previous = store
                .get(&m.log_pk(), &keys::webhook_delivery_sk(&m.event_id))
                .await?;
            let ops = settled.ops(m, &loaded, claim_version, previous.as_ref(), disable)?;
            match store.transact(ops.ops).await {
                Ok(()) => {
                    return self
                        .schedule_next(m, settled.record, claim_version + 1)
                        .await
                }
                // Our lease expired and another worker took the attempt over: it records it.
                Err(StoreError::TxConflict {
                    index: OP_ATTEMPT, ..
                }) => return Ok(Verdict::Ack),
                Err(StoreError::TxConflict {
                    index: OP_DELIVERY, ..
                }) => continue,
                Err(StoreError::TxConflict { index, .. }) if Some(index) == ops.disable_at => {
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
