//! Recovery (Svix's "recover"): re-send every delivery of a subscription that ended failed
//! since a given time, each as one more manual attempt with its original `webhook-id` and body.
//!
//! Which deliveries: those whose delivery record is `failed` and whose entry in the handle's
//! failed deliveries (the notifications, one per failed delivery, keyed by the time it failed)
//! lies in the window `[since, until]`, where `until` is the moment of the first call for this
//! `since`. A delivery re-sent and failed again moves out of the window (its entry is rewritten
//! with the later time), one delivered leaves the list, and one still in flight is re-sent as the
//! same attempt number (claimed once by the worker).
//!
//! Idempotent per `since` (to the millisecond): the first call records the window under
//! `R#{since}` in the subscription's log partition (put if absent) and marks it done once every
//! re-send is enqueued; a later call with the same `since` answers from that record and sends
//! nothing. A call that finds the record unfinished (the first died midway) runs the same window
//! again, which re-sends only what is still failed in it, as the same attempts.

use serde::{Deserialize, Serialize};

use super::log::{self, DeliveryRecord, DeliveryStatus, FailedDelivery};
use super::message::DeliveryMessage;
use super::{repo, retry};
use crate::domain::prefixed::RecoverId;
use crate::domain::{Handle, SubscriptionId};
use crate::kernel::io::Io;
use crate::platform::queue::{QueueError, QueueName};
use crate::platform::store::{Cond, Item, Query, SkRange, Store, StoreError, WriteOp, keys};

/// Delivery records read at once.
const READ_CHUNK: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("since: {0}")]
    InvalidSince(&'static str),
    #[error("Webhook subscription {0}")]
    NotFound(String),
    #[error(
        "Webhook subscription {id} is disabled ({reason}); resume it with PATCH {{\"status\": \"active\"}} first."
    )]
    Disabled { id: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What a recovery did (or, for a repeated `since`, had done).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recovery {
    pub recover_id: RecoverId,
    pub subscription_id: SubscriptionId,
    pub since: String,
    pub until: String,
    /// Re-sends enqueued.
    pub queued: usize,
    /// An earlier call with the same `since` already did this recovery.
    pub deduped: bool,
}

/// The idempotency record of one recovery.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecoverRecord {
    recover_id: RecoverId,
    since_ms: i64,
    until_ms: i64,
    done: bool,
    queued: usize,
}

/// `since` as unix milliseconds: RFC 3339, not before 1970, not in the future.
pub fn parse_since(raw: &str, now_ms: i64) -> Result<i64, RecoverError> {
    let t = crate::domain::time::parse_rfc3339(raw.trim()).ok_or(RecoverError::InvalidSince(
        "must be an RFC 3339 timestamp such as 2026-03-01T00:00:00Z",
    ))?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| RecoverError::InvalidSince("is out of range"))?;
    if ms < 0 {
        return Err(RecoverError::InvalidSince("must not be before 1970"));
    }
    if ms > now_ms {
        return Err(RecoverError::InvalidSince("must not be in the future"));
    }
    Ok(ms)
}

/// Re-sends the subscription's deliveries that failed since `since` (see the module docs).
#[tracing::instrument(skip_all, fields(handle = %handle, subscription = %subscription_id))]
pub async fn recover(
    io: Io<'_>,
    handle: &Handle,
    subscription_id: &SubscriptionId,
    since: &str,
) -> Result<Recovery, RecoverError> {
    let now_ms = crate::platform::time::now_millis();
    let since_ms = parse_since(since, now_ms)?;
    let not_found = || RecoverError::NotFound(subscription_id.to_string());
    let store = io.store.as_ref();
    let loaded = repo::load(store, handle, subscription_id)
        .await?
        .ok_or_else(not_found)?;
    if !loaded.subscription.is_active() {
        return Err(RecoverError::Disabled {
            id: subscription_id.to_string(),
            reason: loaded.subscription.disabled_reason.unwrap_or_default(),
        });
    }
    let pk = keys::webhook_log_pk(handle, subscription_id);
    let (mut record, version, existed) = claim(store, &pk, since_ms, now_ms).await?;
    if !record.done {
        record.queued = resend_window(io, handle, subscription_id, &record).await?;
        record.done = true;
        finish(store, &pk, &record, version).await;
    }
    Ok(Recovery {
        recover_id: record.recover_id,
        subscription_id: subscription_id.clone(),
        since: crate::domain::time::unix_millis_to_rfc3339(record.since_ms),
        until: crate::domain::time::unix_millis_to_rfc3339(record.until_ms),
        queued: record.queued,
        deduped: existed,
    })
}

/// The recovery's record: created now (put if absent), or the one an earlier call created.
async fn claim(
    store: &dyn Store,
    pk: &str,
    since_ms: i64,
    now_ms: i64,
) -> Result<(RecoverRecord, u64, bool), StoreError> {
    let record = RecoverRecord {
        recover_id: RecoverId::new(),
        since_ms,
        until_ms: now_ms,
        done: false,
        queued: 0,
    };
    let put = WriteOp::Put {
        item: record_item(pk, &record, 1)?,
        cond: Cond::Absent,
    };
    let current = match store.write(put).await {
        Ok(_) => return Ok((record, 1, false)),
        Err(StoreError::ConditionFailed { current }) => current,
        Err(e) => return Err(e),
    };
    let item = match current {
        Some(item) => *item,
        None => store
            .get(pk, &keys::webhook_recover_sk(since_ms))
            .await?
            .ok_or_else(|| StoreError::Other("a recovery record vanished".into()))?,
    };
    Ok((item.parse()?, item.version, true))
}

fn record_item(pk: &str, record: &RecoverRecord, version: u64) -> Result<Item, StoreError> {
    let expiry = log::retention_expiry(record.until_ms / 1000);
    Ok(Item::new(
        pk,
        keys::webhook_recover_sk(record.since_ms),
        crate::platform::store::to_doc(record)?,
    )
    .with_version(version)
    .expiring_at(Some(expiry)))
}

/// Marks the recovery done. Best effort: if this is lost, a repeated call runs the window
/// again, which sends nothing twice.
async fn finish(store: &dyn Store, pk: &str, record: &RecoverRecord, version: u64) {
    let written = match record_item(pk, record, version + 1) {
        Ok(item) => {
            let cond = Cond::Version(version);
            store.write(WriteOp::Put { item, cond }).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        tracing::debug!(error = %e, "marking a recovery done failed");
    }
}

/// Enqueues a re-send of every delivery still failed in the record's window; returns how many.
async fn resend_window(
    io: Io<'_>,
    handle: &Handle,
    subscription_id: &SubscriptionId,
    record: &RecoverRecord,
) -> Result<usize, RecoverError> {
    let store = io.store.as_ref();
    let mut query = Query {
        pk: keys::webhook_notifications_pk(handle),
        range: SkRange::Between(
            format!("{:013}", record.since_ms),
            // Sort keys are `{ms:013}#…`: `~` sorts after `#`, so the whole last millisecond.
            format!("{:013}~", record.until_ms),
        ),
        limit: 1000,
        after: None,
        descending: false,
    };
    let marker = format!("#{subscription_id}#");
    let mut queued = 0;
    loop {
        let page = store.query(query.clone()).await?;
        let mine: Vec<&Item> = page
            .items
            .iter()
            .filter(|i| i.sk.contains(&marker))
            .collect();
        for chunk in mine.chunks(READ_CHUNK) {
            let reads = chunk
                .iter()
                .map(|i| still_failed(store, handle, subscription_id, i));
            let messages: Vec<_> = futures::future::try_join_all(reads)
                .await?
                .into_iter()
                .flatten()
                .map(|d| DeliveryMessage::resend(handle, &d, d.attempts + 1))
                .map(|m| m.to_message(std::time::Duration::ZERO))
                .collect();
            if !messages.is_empty() {
                queued += messages.len();
                io.queue.send(QueueName::Deliveries, messages).await?;
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(queued),
        }
    }
}

/// The delivery behind a failed-deliveries entry, if it is still failed because of exactly
/// that failure and may be attempted again.
async fn still_failed(
    store: &dyn Store,
    handle: &Handle,
    subscription_id: &SubscriptionId,
    entry: &Item,
) -> Result<Option<DeliveryRecord>, StoreError> {
    let failed: FailedDelivery = entry.parse()?;
    let Some(item) = store
        .get(
            &keys::webhook_log_pk(handle, subscription_id),
            &keys::webhook_delivery_sk(failed.event_id.as_str()),
        )
        .await?
    else {
        return Ok(None);
    };
    let delivery: DeliveryRecord = item.parse()?;
    let current = delivery.status == DeliveryStatus::Failed
        && delivery.notification_sk.as_deref() == Some(entry.sk.as_str())
        && delivery.attempts < retry::MAX_ATTEMPT;
    Ok(current.then_some(delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_must_be_a_past_rfc3339_instant() {
        let now = 1_772_000_000_000;
        assert_eq!(parse_since("2026-02-25T06:13:20Z", now).unwrap(), now);
        assert_eq!(
            parse_since("2026-02-25T06:13:19.5Z", now).unwrap(),
            now - 500
        );
        for bad in ["", "yesterday", "2026-02-25", "1772000000"] {
            let e = parse_since(bad, now).unwrap_err();
            assert!(e.to_string().starts_with("since: "), "{e}");
        }
        let e = parse_since("2026-02-25T06:13:21Z", now).unwrap_err();
        assert!(e.to_string().contains("future"), "{e}");
        let e = parse_since("1969-12-31T23:59:59Z", now).unwrap_err();
        assert!(e.to_string().contains("1970"), "{e}");
    }
}
