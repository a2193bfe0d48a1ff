//! The consumer seams: a [`BatchHandler`] consumes one queue's batches; an [`EventSink`] applies
//! events taken off the events queue. Services implement them; `workers` runs them; which ones
//! run where is decided by the assembly (`crate::runtime::assembly`, the function binaries).

use async_trait::async_trait;

use crate::kernel::events::Event;
use crate::kernel::state::AppState;
use crate::platform::queue::{QueueName, Received};

#[async_trait]
pub trait BatchHandler: Send + Sync + 'static {
    /// The queue this handler consumes.
    fn queue(&self) -> QueueName;

    /// Processes a batch; returns the `message_id`s that must be retried (empty: all done).
    /// Handlers are idempotent: a message may arrive more than once.
    async fn handle(&self, batch: Vec<Received>) -> Vec<String>;
}

/// Something that consumes events (idempotently, by event id).
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()>;
}
