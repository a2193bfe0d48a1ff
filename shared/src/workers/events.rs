//! The events consumer: applies each event to every [`EventSink`] (analytics counters, webhook
//! fan-out), then clears the events' outbox entries. Sinks dedupe by event id, so a redelivered
//! batch changes nothing twice.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::Instrument;

use crate::consume::{BatchHandler, EventSink};
use crate::events::Event;
use crate::queue::{QueueName, Received};
use crate::state::AppState;

pub struct EventsWorker {
    pub state: AppState,
    pub sinks: Vec<Arc<dyn EventSink>>,
}

#[async_trait]
impl BatchHandler for EventsWorker {
    fn queue(&self) -> QueueName {
        QueueName::Events
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        // The event ids are known once the bodies are parsed: `apply` records them.
        let span = tracing::info_span!(
            "events_batch",
            size = batch.len(),
            event_ids = tracing::field::Empty
        );
        self.apply(batch).instrument(span).await
    }
}

impl EventsWorker {
    /// Applies every readable event of the batch to every sink (each event's id is logged with
    /// any failure), then clears their outbox entries.
    async fn apply(&self, batch: Vec<Received>) -> Vec<String> {
        let mut failed = Vec::new();
        let mut events = Vec::with_capacity(batch.len());
        let mut ids = Vec::with_capacity(batch.len());
        for msg in batch {
            match serde_json::from_str::<Event>(&msg.body) {
                Ok(e) => {
                    events.push(e);
                    ids.push(msg.message_id);
                }
                Err(e) => {
                    // Left to fail until the queue dead-letters it, where it stays visible.
                    tracing::error!(message_id = %msg.message_id, error = %e, "unreadable event");
                    failed.push(msg.message_id);
                }
            }
        }
        if events.is_empty() {
            return failed;
        }
        let event_ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        tracing::Span::current().record("event_ids", tracing::field::debug(&event_ids));
        for sink in &self.sinks {
            if let Err(e) = sink.apply(&self.state, &events).await {
                tracing::warn!(sink = sink.name(), error = %e, "event sink failed; batch will be retried");
                failed.extend(ids);
                return failed;
            }
        }
        // Concurrent, so the embedded store commits them together. Best effort: a leftover
        // entry only makes the sweeper resend an already-applied event.
        let clears = events
            .iter()
            .filter_map(crate::outbox::clear)
            .map(|op| self.state.store.write(op));
        for result in futures::future::join_all(clears).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "clearing an outbox entry failed");
            }
        }
        failed
    }
}
