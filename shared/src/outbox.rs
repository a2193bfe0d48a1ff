//! The transactional outbox: an event that must never be lost (a conversion, a link change) is
//! written in the same store transaction as the state change that causes it. After the commit the
//! event is enqueued at once; if the process dies before that, the sweeper finds the entry and
//! enqueues it later. The events consumer deletes the entry once the event is applied; consumers
//! dedupe by event id, so a sweep that races a slow consumer costs a duplicate message, never a
//! duplicate effect.

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
    let doc = serde_json::to_value(&*event).unwrap_or(serde_json::Value::Null);
    WriteOp::Put {
        item: Item::new(pk, sk, doc),
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
    OutMessage::now(serde_json::to_string(event).unwrap_or_default())
}

/// Enqueues committed events. A failure here is logged, not returned: the entries are durable
/// and the sweeper will deliver them.
pub async fn publish(queue: &dyn Queue, events: &[Event]) {
    let messages = events.iter().map(message).collect();
    if let Err(e) = queue.send(QueueName::Events, messages).await {
        tracing::warn!(error = %e, "enqueue after commit failed; the outbox sweeper will retry");
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
