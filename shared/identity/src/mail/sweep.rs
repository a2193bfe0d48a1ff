//! Mail the queue never took: each queued message has a pending entry until it is final; an
//! entry the queue confirmed taking is left to the queue (the worker re-enqueues its own
//! retries); one never confirmed (the send after the commit failed, or the process died between
//! them) is sent again by the sweeper once older than the outbox's minimum age. A duplicate
//! message is harmless: the worker's claim lets one send at a time, and a final record none.

use std::time::Duration;

use crate::kernel::io::Io;
use crate::platform::queue::{OutMessage, QueueName};
use crate::platform::store::{Cond, Item, Query, SkRange, Store, StoreError, WriteOp, keys};

use super::MailMessage;

/// Notes on a pending entry that the mail queue took its message (best effort: a note lost
/// costs one duplicate message from the sweeper).
pub(crate) async fn confirm(store: &dyn Store, pending: &(String, String), message: &MailMessage) {
    let doc = serde_json::json!({
        "message": message,
        "confirmed": crate::platform::time::now_millis(),
    });
    let op = WriteOp::Put {
        item: Item::new(pending.0.clone(), pending.1.clone(), doc),
        cond: Cond::Exists,
    };
    match store.write(op).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
        Err(e) => tracing::debug!(error = %e, "confirming a mail's enqueue failed"),
    }
}

/// The write that removes a message's pending entry (its record is final).
pub(crate) fn clear(created_ms: i64, mail_id: &str) -> WriteOp {
    WriteOp::Delete {
        pk: keys::MAIL_PENDING_PK.to_owned(),
        sk: keys::mail_pending_sk(created_ms, mail_id),
        cond: Cond::None,
    }
}

/// Sends again every pending message older than `min_age` that the queue never confirmed
/// taking, and confirms it. Returns how many. Round trips: ONE query per 100 pending entries,
/// ONE send and ONE write per page re-sent.
pub async fn sweep(io: Io<'_>, min_age: Duration) -> Result<usize, StoreError> {
    let cutoff = crate::platform::time::now_millis() - crate::domain::time::millis(min_age);
    let mut after = None;
    let mut sent = 0;
    loop {
        let page = io
            .store
            .query(Query {
                pk: keys::MAIL_PENDING_PK.to_owned(),
                range: SkRange::Between("0".into(), format!("{cutoff:013}~")),
                limit: 100,
                after: after.take(),
                descending: false,
            })
            .await?;
        let due: Vec<(Item, MailMessage)> = page
            .items
            .into_iter()
            .filter(|i| i.doc.get("confirmed").and_then(serde_json::Value::as_i64) == Some(0))
            .filter_map(|i| {
                let m = serde_json::from_value(i.doc.get("message")?.clone()).ok()?;
                Some((i, m))
            })
            .collect();
        if !due.is_empty() {
            let bodies = due
                .iter()
                .map(|(_, m)| OutMessage::now(serde_json::to_string(m).expect("serializes")))
                .collect();
            if let Err(e) = io.queue.send(QueueName::Mail, bodies).await {
                tracing::warn!(error = %e, "re-sending pending mail failed; the next sweep tries again");
                return Ok(sent);
            }
            for (item, message) in &due {
                confirm(
                    io.store.as_ref(),
                    &(item.pk.clone(), item.sk.clone()),
                    message,
                )
                .await;
            }
            sent += due.len();
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if sent > 0 {
        tracing::warn!(
            resent = sent,
            "mail the queue never took was sent to it again"
        );
    }
    Ok(sent)
}
