//! The outcome of one delivery attempt as the writes that record it: the attempt record, the
//! delivery record, the subscription's counters, the failure notification and the subscription's
//! change of health, if any (see `health`: a `410` or a long run of failures disables it). All in
//! one transaction conditioned on the worker's claim.

use super::log::{
    self, AttemptRecord, AttemptStatus, DeliveryRecord, DeliveryStatus, FailedDelivery,
};
use super::message::DeliveryMessage;
use super::repo;
use super::retry;
use super::send::SendOutcome;
use super::subscription::Subscription;
use crate::domain::time::Timestamp;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys, to_doc};
use sha2::Digest as _;

/// What an attempt settled to, computed once and written in every round.
pub(super) struct Settled {
    pub record: AttemptRecord,
    succeeded: bool,
    status: DeliveryStatus,
    error: Option<String>,
    finished_ms: i64,
    now_iso: Timestamp,
    expiry: Option<i64>,
}

/// The transaction of one round, and where the subscription's write sits in it (if any).
pub(super) struct SettleOps {
    pub ops: Vec<WriteOp>,
    pub subscription_at: Option<usize>,
}

impl Settled {
    /// `stop`: the attempt is final for this reason (see `health::HealthChange`).
    pub(super) fn new(
        retry_base: std::time::Duration,
        m: &DeliveryMessage,
        attempted_at_ms: i64,
        outcome: &SendOutcome,
        stop: Option<String>,
    ) -> Self {
        let finished_ms = attempted_at_ms.saturating_add_unsigned(outcome.duration_ms);
        let succeeded = outcome.succeeded();
        let retry_in = if succeeded || stop.is_some() {
            None
        } else {
            retry::delay_after_failure(retry_base, m.attempt, m.manual)
        };
        let next_ms = retry_in.map(|d| finished_ms + crate::domain::time::millis(d));
        let error = stop.or_else(|| outcome.error.clone());
        let mut record = m.claim_record(attempted_at_ms);
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
        let status = match (succeeded, next_ms) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        Self {
            record,
            succeeded,
            status,
            error,
            finished_ms,
            now_iso: Timestamp::from_millis(finished_ms),
            expiry: Some(log::retention_expiry(finished_ms / 1000)),
        }
    }

    /// The round's writes, given the delivery record read this round and the subscription as
    /// it must be written (conditioned on the version `loaded` was read at), if it changes.
    pub(super) fn ops(
        &self,
        m: &DeliveryMessage,
        loaded: &repo::Loaded,
        claim_version: u64,
        previous: Option<&Item>,
        subscription: Option<&Subscription>,
    ) -> Result<SettleOps, StoreError> {
        let prev = previous
            .map(crate::platform::store::Item::parse::<DeliveryRecord>)
            .transpose()?;
        let (n_pk, n_sk) = keys::webhook_notification(
            &m.handle,
            self.finished_ms,
            m.subscription_id.as_str(),
            m.event_id.as_str(),
        );
        let delivery = self.delivery(m, prev.as_ref(), &n_sk);
        let mut ops = vec![
            // OP_ATTEMPT
            WriteOp::Put {
                item: m.attempt_item(&self.record, claim_version + 1)?,
                cond: Cond::Version(claim_version),
            },
            // OP_DELIVERY
            self.delivery_put(m, &delivery, previous)?,
            self.stats_add(m),
        ];
        let old_notification = prev.and_then(|p| p.notification_sk);
        ops.extend(self.notification_ops(m, loaded, &delivery, (n_pk, n_sk), old_notification)?);
        let subscription_at = subscription.map(|_| ops.len());
        if let Some(changed) = subscription {
            ops.push(WriteOp::Put {
                item: repo::item(changed, loaded.version + 1)?,
                cond: Cond::Version(loaded.version),
            });
        }
        Ok(SettleOps {
            ops,
            subscription_at,
        })
    }

    fn delivery(
        &self,
        m: &DeliveryMessage,
        prev: Option<&DeliveryRecord>,
        n_sk: &str,
    ) -> DeliveryRecord {
        DeliveryRecord {
            subscription_id: m.subscription_id.clone(),
            event_id: m.event_id.clone(),
            event_type: m.event_type,
            body: m.body.clone(),
            status: self.status,
            attempts: prev.map_or(0, |p| p.attempts).max(m.attempt),
            created_at: prev.map_or_else(|| self.now_iso.clone(), |p| p.created_at.clone()),
            updated_at: self.now_iso.clone(),
            last_status_code: self.record.status_code,
            last_error: self.error.clone(),
            notification_sk: match self.status {
                DeliveryStatus::Failed => Some(n_sk.to_owned()),
                DeliveryStatus::Delivered => None,
                DeliveryStatus::Pending => prev.and_then(|p| p.notification_sk.clone()),
            },
        }
    }

    fn delivery_put(
        &self,
        m: &DeliveryMessage,
        delivery: &DeliveryRecord,
        previous: Option<&Item>,
    ) -> Result<WriteOp, StoreError> {
        let prev_version = previous.map_or(0, |i| i.version);
        Ok(WriteOp::Put {
            item: Item::new(
                m.log_pk(),
                keys::webhook_delivery_sk(m.event_id.as_str()),
                to_doc(delivery)?,
            )
            .with_version(prev_version + 1)
            .expiring_at(self.expiry),
            cond: if previous.is_some() {
                Cond::Version(prev_version)
            } else {
                Cond::Absent
            },
        })
    }

    fn stats_add(&self, m: &DeliveryMessage) -> WriteOp {
        // The shard by the event (any would do: the claim makes the outcome count once).
        let digest = sha2::Sha256::digest(m.event_id.as_str().as_bytes());
        let shard = digest[0] % keys::WEBHOOK_STATS_SHARDS;
        let (pk, sk) = keys::webhook_stats(&m.handle, &m.subscription_id, shard);
        let mut deltas = Vec::new();
        if self.succeeded {
            deltas.push((log::DELIVERED.to_owned(), 1));
        } else {
            deltas.push((log::FAILED_ATTEMPTS.to_owned(), 1));
            if self.status == DeliveryStatus::Failed {
                deltas.push((log::FAILED.to_owned(), 1));
            }
        }
        WriteOp::Add {
            pk,
            sk,
            deltas,
            cap: None,
            expires_at: None,
        }
    }

    /// At most one notification per delivery: its latest failure, removed on success.
    fn notification_ops(
        &self,
        m: &DeliveryMessage,
        loaded: &repo::Loaded,
        delivery: &DeliveryRecord,
        (n_pk, n_sk): (String, String),
        old: Option<String>,
    ) -> Result<Vec<WriteOp>, StoreError> {
        let mut ops = Vec::new();
        if self.status == DeliveryStatus::Failed {
            let failed = FailedDelivery {
                subscription_id: m.subscription_id.clone(),
                endpoint_url: loaded.subscription.endpoint_url.clone(),
                event_id: m.event_id.clone(),
                event_type: m.event_type,
                attempts: delivery.attempts,
                last_status_code: self.record.status_code,
                last_error: self.error.clone(),
                failed_at: self.now_iso.clone(),
            };
            ops.push(WriteOp::Put {
                item: Item::new(n_pk.clone(), n_sk.clone(), to_doc(&failed)?)
                    .expiring_at(self.expiry),
                cond: Cond::None,
            });
        }
        if self.status != DeliveryStatus::Pending
            && let Some(old) = old.filter(|old| *old != n_sk)
        {
            ops.push(WriteOp::Delete {
                pk: n_pk,
                sk: old,
                cond: Cond::None,
            });
        }
        Ok(ops)
    }
}
