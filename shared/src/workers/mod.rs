//! Queue consumers. Each is a [`BatchHandler`]: given a batch of received messages it returns
//! the ones that failed. The same handler runs as an SQS-triggered Lambda (partial batch
//! failures, `ReportBatchItemFailures`) and, locally, inside `tenx serve` as a polling task.

pub mod events;
pub mod lambda;
pub mod local;
pub mod sweeper;

use std::sync::Arc;

use async_trait::async_trait;

use crate::queue::{QueueName, Received};
use crate::state::AppState;

#[async_trait]
pub trait BatchHandler: Send + Sync + 'static {
    /// The queue this handler consumes.
    fn queue(&self) -> QueueName;

    /// Processes a batch; returns the `message_id`s that must be retried (empty: all done).
    /// Handlers are idempotent: a message may arrive more than once.
    async fn handle(&self, batch: Vec<Received>) -> Vec<String>;
}

/// Every consumer of the product's queues, as the local server runs them.
pub fn handlers(state: &AppState) -> Vec<Arc<dyn BatchHandler>> {
    vec![
        Arc::new(events::EventsWorker {
            state: state.clone(),
            sinks: events::sinks(),
        }),
        Arc::new(crate::webhooks::delivery::DeliveryWorker {
            state: state.clone(),
        }),
    ]
}
