//! The click stream's consumer: a shard's records go through the sinks that are idempotent by
//! event id (the webhook fan-out), then into the counters, exactly once, with the shard's
//! checkpoint (`analytics::stream`). On AWS a Kinesis event source mapping hands it batches
//! (`workers::lambda::run_clicks`); in `tenx serve`, [`run`] polls the embedded click log.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::analytics::stream::Parsed;
use crate::kernel::consume::EventSink;
use crate::kernel::events::EventType;
use crate::kernel::state::AppState;
use crate::platform::stream::{ClickStream, StreamRecord};

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
    /// The clicks counted lately, per shard: kept across batches (and a Lambda container's
    /// invocations), checked against the store's record whenever the checkpoint moved.
    seen: crate::analytics::seen::Seen,
}

impl ClickConsumer {
    pub fn new(state: AppState, sinks: Vec<Arc<dyn EventSink>>) -> Self {
        Self {
            state,
            sinks,
            seen: Default::default(),
        }
    }

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
        let mut parsed: Vec<Parsed> = records.into_iter().map(Parsed::new).collect();
        // The sinks see the stream's own clicks only: relayed conversions and parked clicks
        // (those with an outbox entry) went through them on the events queue already. The
        // events are lent to the sinks and given back for the counting, not copied (a copy of
        // every click's data was ~4 % of a loaded redirect server's CPU).
        let (mut lent, mut events) = (Vec::new(), Vec::new());
        for (i, record) in parsed.iter_mut().enumerate() {
            match std::mem::replace(&mut record.event, Err(String::new())) {
                Ok(event) if event.kind == EventType::LinkClicked && event.outbox.is_none() => {
                    lent.push(i);
                    events.push(event);
                }
                kept => record.event = kept,
            }
        }
        for sink in &self.sinks {
            sink.apply(&self.state, &events).await?;
        }
        for (i, event) in lent.into_iter().zip(events) {
            parsed[i].event = Ok(event);
        }
        let store = self.state.store.as_ref();
        crate::analytics::stream::apply(store, &self.seen, shard, &parsed).await?;
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
            let Some(records) = self.ready_batch(stream, &shard, window).await? else {
                continue;
            };
            applied += records.len();
            self.apply(&shard, records).await?;
        }
        Ok(applied)
    }

    /// The records of `shard` to apply now, if its batch is full or old enough; otherwise they
    /// stay in the window and the next poll reads on after the last one instead of reading them
    /// again. Round trips: ONE checkpoint read when nothing is waiting (waiting records continue
    /// from their own last sequence), then ONE stream read. An error drops what was waiting:
    /// the next poll reads it again from the checkpoint, nothing is lost.
    async fn ready_batch(
        &self,
        stream: &dyn ClickStream,
        shard: &str,
        window: &mut Window,
    ) -> anyhow::Result<Option<Vec<StreamRecord>>> {
        let mut waiting = window.take(shard);
        let after = match waiting.records.last() {
            Some(last) => Some(last.sequence.clone()),
            None => {
                crate::analytics::stream::checkpoint(self.state.store.as_ref(), shard)
                    .await?
                    .sequence
            }
        };
        let room = POLL_BATCH - waiting.records.len();
        waiting
            .records
            .extend(stream.read(shard, after.as_deref(), room).await?);
        if waiting.records.is_empty() {
            return Ok(None);
        }
        Ok(window.ready_or_hold(shard, waiting))
    }
}

/// Each shard's records waiting for their batch, and since when (the local batching window).
pub struct Window {
    span: Duration,
    waiting: std::collections::HashMap<String, Waiting>,
}

/// Records read but not applied yet, and when the oldest of them was first read.
struct Waiting {
    since: std::time::Instant,
    records: Vec<StreamRecord>,
}

impl Window {
    pub fn new(span: Duration) -> Self {
        Self {
            span,
            waiting: Default::default(),
        }
    }

    /// No window: every read is applied at once.
    pub fn none() -> Self {
        Self::new(Duration::ZERO)
    }

    /// What `shard` has waiting (nothing yet: the window would start now).
    fn take(&mut self, shard: &str) -> Waiting {
        self.waiting.remove(shard).unwrap_or_else(|| Waiting {
            since: std::time::Instant::now(),
            records: Vec::new(),
        })
    }

    /// The records, when the batch is full or its oldest record waited the window's span (the
    /// window then starts over); otherwise they wait on.
    fn ready_or_hold(&mut self, shard: &str, waiting: Waiting) -> Option<Vec<StreamRecord>> {
        if waiting.records.len() >= POLL_BATCH || waiting.since.elapsed() >= self.span {
            return Some(waiting.records);
        }
        self.waiting.insert(shard.to_owned(), waiting);
        None
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

    fn records(from: usize, n: usize) -> Vec<StreamRecord> {
        (from..from + n)
            .map(|i| StreamRecord {
                sequence: i.to_string(),
                data: format!("r{i}"),
            })
            .collect()
    }

    fn waiting(window: &mut Window, shard: &str, new: Vec<StreamRecord>) -> Waiting {
        let mut w = window.take(shard);
        w.records.extend(new);
        w
    }

    #[test]
    fn a_window_holds_a_small_batch_until_it_is_old_or_full() {
        let mut window = Window::new(Duration::from_millis(30));
        let w = waiting(&mut window, "s", records(0, 10));
        assert_eq!(window.ready_or_hold("s", w), None, "young and small: wait");
        // The next read continues after what waits: the held records come back with it.
        let w = waiting(&mut window, "s", records(10, POLL_BATCH - 10));
        let batch = window.ready_or_hold("s", w).expect("full: now");
        assert_eq!(batch, records(0, POLL_BATCH), "each record once, in order");
        let w = waiting(&mut window, "s", records(POLL_BATCH, 10));
        assert_eq!(window.ready_or_hold("s", w), None, "the window starts over");
        std::thread::sleep(Duration::from_millis(40));
        let w = waiting(&mut window, "s", Vec::new());
        assert_eq!(
            window.ready_or_hold("s", w),
            Some(records(POLL_BATCH, 10)),
            "old enough: now"
        );
        let mut none = Window::none();
        let w = waiting(&mut none, "s", records(0, 1));
        assert!(none.ready_or_hold("s", w).is_some(), "no window: at once");
    }

    /// The window of the consumer tests: long enough that a slow machine's polls fall inside it.
    const HELD: Duration = Duration::from_secs(2);

    type Embedded = (
        tempfile::TempDir,
        Arc<dyn crate::platform::store::Store>,
        Arc<crate::platform::queue::embedded::EmbeddedQueue>,
        ClickConsumer,
    );

    /// A consumer on an embedded store, and the embedded queue whose click log it reads.
    fn embedded() -> Embedded {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn crate::platform::store::Store> = Arc::new(
            crate::platform::store::embedded::EmbeddedStore::open(&dir.path().join("s.redb"))
                .unwrap(),
        );
        let queue = Arc::new(
            crate::platform::queue::embedded::EmbeddedQueue::open(&dir.path().join("q.redb"))
                .unwrap(),
        );
        let state = crate::aws::app_state(
            crate::platform::config::Config::default(),
            store.clone(),
            queue.clone(),
            crate::platform::config::Secrets::NONE,
        )
        .unwrap();
        let consumer = ClickConsumer::new(state, Vec::new());
        (dir, store, queue, consumer)
    }

    /// The embedded click log read by a consumer with a window: records that wait are not
    /// read again, and each is counted once when the window closes.
    #[tokio::test]
    async fn records_waiting_in_the_window_are_read_once() {
        use crate::platform::op_counts::{OpCounters, counted};
        use crate::testing::conformance_stream::{click_event, clicks_by_country};
        let (_dir, store, queue, consumer) = embedded();
        let counters = OpCounters::new();
        let stream = counted(queue as Arc<dyn ClickStream>, &counters);
        let mut window = Window::new(HELD);
        for i in 0..5 {
            stream
                .append("acme/l", &click_event("acme", "DE"))
                .await
                .unwrap();
            assert_eq!(
                consumer.poll_batched(&stream, &mut window).await.unwrap(),
                0,
                "{i}"
            );
        }
        tokio::time::sleep(HELD + Duration::from_millis(100)).await;
        assert_eq!(
            consumer.poll_batched(&stream, &mut window).await.unwrap(),
            5
        );
        assert_eq!(
            counters.snapshot().background.stream_records,
            5,
            "read once each"
        );
        let counted = clicks_by_country(
            store.as_ref(),
            &crate::domain::Handle::parse("acme").unwrap(),
        )
        .await;
        assert_eq!(counted.get("DE"), Some(&5), "{counted:?}");
    }

    /// Fails the next stream read once armed (a read error while records wait in the window).
    #[derive(Default)]
    struct FailRead(std::sync::atomic::AtomicBool);

    #[async_trait::async_trait]
    impl crate::platform::decorate::Hook for FailRead {
        async fn before(&self, call: crate::platform::decorate::Call) -> Result<(), String> {
            let armed = call == crate::platform::decorate::Call::Read
                && self.0.swap(false, std::sync::atomic::Ordering::SeqCst);
            if armed {
                return Err("injected read failure".into());
            }
            Ok(())
        }
    }

    /// A read that fails while records wait drops them from the window; the next poll reads
    /// them again from the checkpoint and each is counted once.
    #[tokio::test]
    async fn a_failed_read_drops_what_waited_and_nothing_is_lost_or_doubled() {
        use crate::testing::conformance_stream::{click_event, clicks_by_country};
        let (_dir, store, queue, consumer) = embedded();
        let stream = crate::platform::decorate::Decorated::new(
            queue as Arc<dyn ClickStream>,
            FailRead::default(),
        );
        let mut window = Window::new(HELD);
        for _ in 0..3 {
            stream
                .append("acme/l", &click_event("acme", "FR"))
                .await
                .unwrap();
        }
        assert_eq!(
            consumer.poll_batched(&stream, &mut window).await.unwrap(),
            0
        );
        stream
            .append("acme/l", &click_event("acme", "FR"))
            .await
            .unwrap();
        stream
            .hook()
            .0
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(consumer.poll_batched(&stream, &mut window).await.is_err());
        tokio::time::sleep(HELD + Duration::from_millis(100)).await;
        // The window starts over with the re-read: wait it out once more.
        assert_eq!(
            consumer.poll_batched(&stream, &mut window).await.unwrap(),
            0
        );
        tokio::time::sleep(HELD + Duration::from_millis(100)).await;
        assert_eq!(
            consumer.poll_batched(&stream, &mut window).await.unwrap(),
            4
        );
        let counted = clicks_by_country(
            store.as_ref(),
            &crate::domain::Handle::parse("acme").unwrap(),
        )
        .await;
        assert_eq!(counted.get("FR"), Some(&4), "{counted:?}");
    }
}
