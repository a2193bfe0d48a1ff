//! The click stream's consumer: a shard's records go through the sinks that are idempotent by
//! event id (the webhook fan-out), then into the counters, exactly once, with the shard's
//! checkpoint (`analytics::stream`). On AWS a Kinesis event source mapping hands it batches
//! (`workers::lambda::run_clicks`); in `tenx serve`, [`run`] polls the embedded click log.

use std::sync::Arc;
use std::time::Duration;

use crate::consume::EventSink;
use crate::events::Event;
use crate::state::AppState;
use crate::stream::{ClickStream, StreamRecord};

/// Records read per shard and poll (the local server; Lambda's batch size is the template's).
pub const POLL_BATCH: usize = 1000;

pub struct ClickConsumer {
    pub state: AppState,
    /// Applied before the counters; each must be idempotent by event id.
    pub sinks: Vec<Arc<dyn EventSink>>,
}

impl ClickConsumer {
    /// Applies one shard's records, in shard order. A record that is not a readable event is
    /// logged and skipped (it would otherwise stall the shard forever). `Err`: nothing is lost,
    /// the batch is delivered again and the checkpoint skips what was already counted.
    pub async fn apply(&self, shard: &str, records: Vec<StreamRecord>) -> anyhow::Result<()> {
        let parsed: Vec<(String, Option<Event>)> = records
            .into_iter()
            .map(|r| {
                let event = serde_json::from_str::<Event>(&r.data)
                    .map_err(|e| {
                        tracing::error!(shard, sequence = %r.sequence, error = %e, "unreadable click record; skipped");
                    })
                    .ok();
                (r.sequence, event)
            })
            .collect();
        let events: Vec<Event> = parsed.iter().filter_map(|(_, e)| e.clone()).collect();
        for sink in &self.sinks {
            sink.apply(&self.state, &events).await?;
        }
        crate::analytics::stream::apply(self.state.store.as_ref(), shard, &parsed).await?;
        Ok(())
    }

    /// Reads every shard once from its checkpoint and applies what it finds: per shard ONE
    /// checkpoint read, ONE stream read, and the batch. Returns how many records it applied.
    pub async fn poll(&self, stream: &dyn ClickStream) -> anyhow::Result<usize> {
        let mut applied = 0;
        for shard in stream.shards().await? {
            let at =
                crate::analytics::stream::checkpoint(self.state.store.as_ref(), &shard).await?;
            let records = stream
                .read(&shard, at.sequence.as_deref(), POLL_BATCH)
                .await?;
            if records.is_empty() {
                continue;
            }
            applied += records.len();
            self.apply(&shard, records).await?;
        }
        Ok(applied)
    }
}

/// Polls until aborted; `wait` pauses it when every shard is caught up (the embedded log wakes
/// it early when a click arrives).
pub async fn run<F, W>(consumer: ClickConsumer, stream: Arc<dyn ClickStream>, wait: W)
where
    W: Fn() -> F,
    F: std::future::Future<Output = ()>,
{
    loop {
        match consumer.poll(stream.as_ref()).await {
            Ok(0) => wait().await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "click stream poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
