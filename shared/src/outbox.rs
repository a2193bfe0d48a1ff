//! The transactional outbox: an event that must never be lost (a conversion, a link change) is
//! written in the same store transaction as the state change that causes it. After the commit the
//! event is enqueued at once; if the process dies before that, the sweeper finds the entry and
//! enqueues it later. The events consumer deletes the entry once the event is applied; consumers
//! dedupe by event id, so a sweep that races a slow consumer costs a duplicate message, never a
//! duplicate effect.

use std::sync::Arc;
use std::time::Duration;

use crate::events::{Event, OutboxKey};
use crate::queue::{OutMessage, Queue, QueueError, QueueName};
use crate::store::{keys, Cond, Item, Query, SkRange, Store, StoreError, WriteOp};

fn shard_of(event_id: &str) -> u32 {
    // FNV-1a: stable across processes and releases (unlike std's hasher).
    let mut h: u32 = 0x811c_9dc5;
    for b in event_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % keys::OUTBOX_SHARDS
}

/// Assigns the event its outbox key and returns the write that records it; put it in the same
/// transaction as the state change.
pub fn record(event: &mut Event) -> WriteOp {
    let (pk, sk) = keys::outbox(shard_of(&event.id), crate::time::now_millis(), &event.id);
    event.outbox = Some(OutboxKey {
        pk: pk.clone(),
        sk: sk.clone(),
    });
    WriteOp::Put {
        item: Item::new(pk, sk, event.to_doc()),
        cond: Cond::Absent,
    }
}

/// The write that clears an applied event's entry (None when the event had none).
pub fn clear(event: &Event) -> Option<WriteOp> {
    event.outbox.as_ref().map(|k| WriteOp::Delete {
        pk: k.pk.clone(),
        sk: k.sk.clone(),
        cond: Cond::None,
    })
}

pub fn message(event: &Event) -> OutMessage {
    OutMessage::now(event.to_json())
}

/// Commits `ops` (which hold the events' outbox entries, from [`record`]) and then enqueues the
/// events: round trip 1 and round trip 2 of every write that emits an event.
///
/// Both run in a task of their own. A client that disconnects makes hyper drop the handler's
/// future; without the task, that could land between the commit and the enqueue, and the event
/// would wait for the sweeper (`TENX_OUTBOX_MIN_AGE_SECS`). Awaited, so a Lambda invocation
/// still finishes both before it answers. An enqueue failure is logged, not returned: the
/// entries are durable and the sweeper will deliver them.
pub async fn commit_and_publish(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    ops: Vec<WriteOp>,
    events: &[Event],
) -> Result<(), StoreError> {
    let messages: Vec<OutMessage> = events.iter().map(message).collect();
    let work = crate::metrics::same_attribution(async move {
        store.transact(ops).await?;
        if let Err(e) = queue.send(QueueName::Events, messages).await {
            tracing::warn!(error = %e, "enqueue after commit failed; the outbox sweeper will retry");
        }
        Ok(())
    });
    match tokio::spawn(work).await {
        Ok(result) => result,
        // The task panicked: whether it committed is unknown, as after a lost connection.
        Err(e) => Err(StoreError::Unavailable(format!("commit task failed: {e}"))),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Re-enqueues every outbox entry older than `min_age`. Returns how many were sent.
pub async fn sweep(
    store: &dyn Store,
    queue: &dyn Queue,
    min_age: Duration,
) -> Result<usize, SweepError> {
    let cutoff = crate::time::now_millis() - min_age.as_millis() as i64;
    let mut sent = 0;
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let mut after = None;
        loop {
            let page = store
                .query(Query {
                    pk: pk.clone(),
                    range: SkRange::Between("0".into(), format!("{cutoff:013}~")),
                    limit: 100,
                    after: after.take(),
                    descending: false,
                })
                .await?;
            let messages: Vec<OutMessage> = page
                .items
                .iter()
                .filter_map(|item| serde_json::from_value::<Event>(item.doc.clone()).ok())
                .map(|e| message(&e))
                .collect();
            sent += messages.len();
            if !messages.is_empty() {
                queue.send(QueueName::Events, messages).await?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::events::EventType;
    use crate::queue::embedded::EmbeddedQueue;
    use crate::testing::FailingQueue;

    #[tokio::test]
    async fn a_caller_that_goes_away_cancels_neither_the_commit_nor_the_enqueue() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let slow = FailingQueue::new(inner.clone());
        slow.switch().delay_sends(Duration::from_millis(200));
        let queue: Arc<dyn Queue> = Arc::new(slow);
        let store: Arc<dyn Store> = Arc::new(crate::store::embedded::EmbeddedStore::in_memory());
        let mut event = Event::new(
            EventType::LinkCreated,
            "acme",
            serde_json::json!({"slug": "s"}),
        );
        let ops = vec![record(&mut event)];
        // The handler's future is dropped mid-way, as when a client disconnects.
        let work = commit_and_publish(store.clone(), queue, ops, std::slice::from_ref(&event));
        let dropped = tokio::time::timeout(Duration::from_millis(20), work).await;
        assert!(
            dropped.is_err(),
            "the caller gave up before the send finished"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while inner.depth(QueueName::Events).await.unwrap() == 0 {
            assert!(Instant::now() < deadline, "the event was never enqueued");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = inner
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        let sent: Event = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(sent.id, event.id);
        let key = event.outbox.as_ref().unwrap();
        assert!(
            store.get(&key.pk, &key.sk).await.unwrap().is_some(),
            "the commit happened too"
        );
    }

    #[tokio::test]
    async fn a_failed_commit_enqueues_nothing() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let store: Arc<dyn Store> = Arc::new(crate::store::embedded::EmbeddedStore::in_memory());
        let mut event = Event::new(EventType::LinkCreated, "acme", serde_json::json!({}));
        let op = record(&mut event);
        store.transact(vec![op.clone()]).await.unwrap();
        // The same entry again: its `Absent` condition fails, so the transaction is cancelled.
        let err = commit_and_publish(store, inner.clone(), vec![op], &[event])
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::TxConflict { index: 0, .. }),
            "{err:?}"
        );
        assert_eq!(inner.depth(QueueName::Events).await.unwrap(), 0);
    }
}
