//! Runs a [`BatchHandler`] inside the local server: poll the embedded queue, hand batches to the
//! handler, ack what succeeded; failed messages reappear when their visibility timeout ends.

use std::sync::Arc;
use std::time::Duration;

use crate::consume::BatchHandler;
use crate::queue::Queue;

pub const BATCH_SIZE: usize = 10;
pub const VISIBILITY: Duration = Duration::from_secs(30);

/// Polls until aborted. `idle` is the pause when the queue is empty.
pub async fn run(queue: Arc<dyn Queue>, handler: Arc<dyn BatchHandler>, idle: Duration) {
    let name = handler.queue();
    loop {
        match queue.receive(name, BATCH_SIZE, VISIBILITY).await {
            Ok(batch) if batch.is_empty() => tokio::time::sleep(idle).await,
            Ok(batch) => {
                let receipts: Vec<(String, String)> = batch
                    .iter()
                    .map(|m| (m.message_id.clone(), m.receipt.clone()))
                    .collect();
                let failed = handler.handle(batch).await;
                // Issued together, the acks share one commit of the embedded queue (one fsync
                // per batch instead of one per message).
                let acks = receipts
                    .iter()
                    .filter(|(id, _)| !failed.contains(id))
                    .map(|(_, receipt)| queue.ack(name, receipt));
                for result in futures::future::join_all(acks).await {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "ack failed; the message will be redelivered");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(queue = name.as_str(), error = %e, "receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
