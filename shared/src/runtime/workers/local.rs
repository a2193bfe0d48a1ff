//! Runs a [`BatchHandler`] inside the local server: poll the embedded queue, hand batches to the
//! handler, ack what succeeded; failed messages reappear when their visibility timeout ends.
//!
//! [`run`] handles one batch at a time (the events consumer: one analytics transaction per
//! batch). [`run_concurrent`] keeps up to `max_in_flight` messages in flight, each handled and
//! acknowledged on its own as soon as it is done, receiving more as places free up: the webhook
//! deliveries, where one slow endpoint must not hold up the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::kernel::consume::BatchHandler;
use crate::platform::queue::{Queue, QueueError, QueueName, Received};

pub const BATCH_SIZE: usize = 10;
pub const VISIBILITY: Duration = Duration::from_secs(30);
/// A batch handed to [`run`]'s handler gathers up to this many messages when the queue holds
/// a backlog (receives of [`BATCH_SIZE`] while each comes back full): a batch's fixed reads
/// (a campaign's terms, its confidence, the subscriptions) are then shared by 30 events, as
/// the events function's `BatchSize` shares them on AWS (issue 58's drain).
pub const GATHER: usize = 30;

/// Polls until aborted. `idle` is the pause when the queue is empty; a batch holds up to
/// `most` messages.
pub async fn run(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn BatchHandler>,
    idle: Duration,
    most: usize,
) {
    let name = handler.queue();
    loop {
        match gather(queue.as_ref(), name, most).await {
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

/// One receive, then more while each comes back full, up to `most` messages. A receive that
/// fails after the first keeps what was gathered (its messages come back when their
/// visibility ends).
async fn gather(
    queue: &dyn Queue,
    name: QueueName,
    most: usize,
) -> Result<Vec<Received>, QueueError> {
    let mut batch = queue.receive(name, BATCH_SIZE, VISIBILITY).await?;
    while batch.len() % BATCH_SIZE == 0 && !batch.is_empty() && batch.len() < most {
        match queue.receive(name, BATCH_SIZE, VISIBILITY).await {
            Ok(more) if more.is_empty() => break,
            Ok(more) => batch.extend(more),
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// Polls until aborted, keeping up to `max_in_flight` messages in flight, each in a task of its
/// own (aborted with the runner, like the batch of [`run`]: the queue brings them back).
pub async fn run_concurrent(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn BatchHandler>,
    idle: Duration,
    max_in_flight: usize,
) {
    let name = handler.queue();
    let places = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        // Wait for one free place (reaping finished tasks meanwhile), then take what else is free.
        let first = tokio::select! {
            permit = places.clone().acquire_owned() => permit.expect("never closed"),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let mut permits = vec![first];
        while permits.len() < BATCH_SIZE {
            match places.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        match queue.receive(name, permits.len(), VISIBILITY).await {
            Ok(batch) if batch.is_empty() => {
                drop(permits);
                tokio::time::sleep(idle).await;
            }
            Ok(batch) => {
                for (message, permit) in batch.into_iter().zip(permits) {
                    let (queue, handler) = (queue.clone(), handler.clone());
                    tasks.spawn(async move {
                        handle_one(queue.as_ref(), handler.as_ref(), message).await;
                        drop(permit);
                    });
                }
            }
            Err(e) => {
                drop(permits);
                tracing::warn!(queue = name.as_str(), error = %e, "receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Handles one message and acks it unless the handler wants it retried.
async fn handle_one(queue: &dyn Queue, handler: &dyn BatchHandler, message: Received) {
    let name = handler.queue();
    let receipt = message.receipt.clone();
    if !handler.handle(vec![message]).await.is_empty() {
        return;
    }
    if let Err(e) = queue.ack(name, &receipt).await {
        tracing::warn!(error = %e, "ack failed; the message will be redelivered");
    }
}
