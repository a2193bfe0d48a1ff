//! The click stream's consumer: a shard's records go through the sinks that are idempotent by
//! event id (the webhook fan-out), then into the counters, exactly once, with the shard's
//! checkpoint (`analytics::stream`). On AWS a Kinesis event source mapping hands it batches
//! (`workers::lambda::run_clicks`); in `tenx serve`, [`run`] polls the embedded click log.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::analytics::stream::Parsed;
use crate::consume::EventSink;
use crate::events::{Event, EventType};
use crate::state::AppState;
use crate::stream::{ClickStream, StreamRecord};

/// Records read per shard and poll (the local server; Lambda's batch size is the template's).
pub const POLL_BATCH: usize = 1500;
/// The local batching window, like the event source mapping's `MaximumBatchingWindowInSeconds`:
/// a shard with fewer than [`POLL_BATCH`] records waiting is applied once its oldest waiting
/// record has waited this long. Bigger batches share counter items: fewer writes per click.
pub const BATCH_WINDOW: Duration = Duration::from_millis(250);

pub struct ClickConsumer {
    pub state: AppState,
    /// Applied before the counters; each must be idempotent by event id.
    pub sinks: Vec<Arc<dyn EventSink>>,
}

impl ClickConsumer {
    /// Applies one shard's records, in shard order. A record that cannot be applied (not a
    /// readable event, refused by the store) is set aside in the dead letters, never stalls
    /// the shard (`analytics::poison`). `Err`: nothing is lost,
    /// the batch is delivered again and the checkpoint skips what was already counted.
    pub async fn apply(&self, shard: &str, records: Vec<StreamRecord>) -> anyhow::Result<()> {
        let span = tracing::info_span!(
            "clicks_batch",
            shard,
            size = records.len(),
            first = records.first().map(|r| r.sequence.as_str()),
            last = records.last().map(|r| r.sequence.as_str()),
        );
        self.apply_batch(shard, records).instrument(span).await
    }

    async fn apply_batch(&self, shard: &str, records: Vec<StreamRecord>) -> anyhow::Result<()> {
        let parsed: Vec<Parsed> = records.into_iter().map(Parsed::new).collect();
        // The sinks see the stream's own clicks only: relayed conversions and parked clicks
        // (those with an outbox entry) went through them on the events queue already.
        let events: Vec<Event> = parsed
            .iter()
            .filter_map(|r| r.event.as_ref().ok())
            .filter(|e| e.kind == EventType::LinkClicked && e.outbox.is_none())
            .cloned()
            .collect();
        for sink in &self.sinks {
            sink.apply(&self.state, &events).await?;
        }
        crate::analytics::stream::apply(self.state.store.as_ref(), shard, &parsed).await?;
        Ok(())
    }

    /// Reads every shard once from its checkpoint and applies what it finds: per shard ONE
    /// checkpoint read, ONE stream read, and the batch. Returns how many records it applied.
    pub async fn poll(&self, stream: &dyn ClickStream) -> anyhow::Result<usize> {
        self.poll_batched(stream, &mut Window::none()).await
    }

    /// [`Self::poll`], leaving a shard's records waiting while they are fewer than
    /// [`POLL_BATCH`] and younger than the window (see [`BATCH_WINDOW`]).
    pub async fn poll_batched(
        &self,
        stream: &dyn ClickStream,
        window: &mut Window,
    ) -> anyhow::Result<usize> {
        let mut applied = 0;
        for shard in stream.shards().await? {
            let at =
                crate::analytics::stream::checkpoint(self.state.store.as_ref(), &shard).await?;
            let records = stream
                .read(&shard, at.sequence.as_deref(), POLL_BATCH)
                .await?;
            if records.is_empty() || !window.ready(&shard, records.len()) {
                continue;
            }
            applied += records.len();
            self.apply(&shard, records).await?;
        }
        Ok(applied)
    }
}

/// When each shard's oldest waiting records were first seen (the local batching window).
pub struct Window {
    span: Duration,
    waiting_since: std::collections::HashMap<String, std::time::Instant>,
}

impl Window {
    pub fn new(span: Duration) -> Self {
        Self {
            span,
            waiting_since: Default::default(),
        }
    }

    /// No window: every read is applied at once.
    pub fn none() -> Self {
        Self::new(Duration::ZERO)
    }

    /// Whether `waiting` records of `shard` are applied now (and the window starts over).
    fn ready(&mut self, shard: &str, waiting: usize) -> bool {
        let since = *self
            .waiting_since
            .entry(shard.to_owned())
            .or_insert_with(std::time::Instant::now);
        let ready = waiting >= POLL_BATCH || since.elapsed() >= self.span;
        if ready {
            self.waiting_since.remove(shard);
        }
        ready
    }
}

/// Polls until aborted, batching each shard's records within [`BATCH_WINDOW`]; `wait` pauses it
/// between polls unless a full batch was just applied.
pub async fn run<F, W>(consumer: ClickConsumer, stream: Arc<dyn ClickStream>, wait: W)
where
    W: Fn() -> F,
    F: Future<Output = ()>,
{
    let mut window = Window::new(BATCH_WINDOW);
    loop {
        match consumer.poll_batched(stream.as_ref(), &mut window).await {
            Ok(n) if n < POLL_BATCH => wait().await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "click stream poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_a_small_batch_until_it_is_old_or_full() {
        let mut window = Window::new(Duration::from_millis(30));
        assert!(!window.ready("s", 10), "young and small: wait");
        assert!(window.ready("s", POLL_BATCH), "full: now");
        assert!(!window.ready("s", 10), "the window starts over");
        std::thread::sleep(Duration::from_millis(40));
        assert!(window.ready("s", 10), "old enough: now");
        assert!(Window::none().ready("s", 1), "no window: at once");
    }
}
