//! Click recording: one redirect's click made durable before the visitor leaves.
//!
//! Round trips: ONE stream append (or, in a process without a click stream, ONE events-queue
//! send), retried at most [`SEND_ATTEMPTS`] times within [`SEND_BUDGET`]; only when that stays
//! down, ONE store write (the outbox), retried up to `outbox::PARK_ATTEMPTS` times (~4 s) while
//! the store fails too. The redirect awaits [`record`] and answers its 302 once the click is
//! sent or parked; a click [`Recorded::Lost`] (stream and store both down for seconds) is
//! answered `503` with `retry-after` instead (issue 42: every click answered 302 counts).

pub mod orphans;
pub mod visit;

use std::time::Duration;

use tracing::instrument;

use crate::domain::Handle;
use crate::kernel::events::ClickData;
use crate::kernel::io::Io;
use crate::platform::queue::{OutMessage, Queue, QueueName};
use crate::platform::stream::ClickStream;

/// Sends of one click before it falls back to the outbox (10 + 40 ms of waiting at most).
pub const SEND_ATTEMPTS: u32 = 3;
/// The click's time over all its attempts before it is parked: a visitor never waits out the
/// SDK's 10 s attempt timeout (issue 28). Kinesis answers a `PutRecord` in tens of ms.
pub const SEND_BUDGET: Duration = Duration::from_millis(500);

/// Where a click ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// On the click stream (or the events queue): counted by the click consumer.
    Sent,
    /// In the outbox: the sweeper enqueues it, the events worker relays it through the stream,
    /// where it counts once even if an abandoned append had landed.
    Parked,
    /// Stream and store both failed: counted in [`crate::platform::metrics::CLICKS_LOST`] and logged.
    Lost,
}

impl Recorded {
    /// Whether the click will be counted (sent, or parked for the relay).
    pub fn kept(self) -> bool {
        self != Recorded::Lost
    }
}

/// Why one send of a click failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("click stream append failed: {0}")]
    Stream(#[from] crate::platform::stream::StreamError),
    #[error("events queue send failed: {0}")]
    Queue(#[from] crate::platform::queue::QueueError),
    #[error("no answer within the redirect's budget")]
    OutOfTime,
}

/// Records `click`: sent, else parked, else lost (see the module's round trips).
// At debug level: the redirect's request span already names the handle, and a click is the hot path.
#[instrument(level = "debug", skip_all, fields(handle = %handle, click_id = %click.click_id))]
pub async fn record(
    io: Io<'_>,
    clicks: Option<&dyn ClickStream>,
    handle: &Handle,
    click: &ClickData,
) -> Recorded {
    let event_id = click.click_id.event_id();
    let event = crate::kernel::events::event_json(event_id.as_str(), handle.as_str(), click);
    let Err(error) =
        send_within_budget(io.queue.as_ref(), clicks, handle, &click.slug, &event).await
    else {
        return Recorded::Sent;
    };
    tracing::warn!(error = %error, "click append failed; parking it in the outbox");
    match crate::kernel::outbox::park(io.store.as_ref(), &event).await {
        Ok(()) => Recorded::Parked,
        Err(e) => {
            crate::platform::metrics::CLICKS_LOST
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(error = %e, metric = "clicks_lost", "click lost: stream and store both failed");
            Recorded::Lost
        }
    }
}

/// Up to [`SEND_ATTEMPTS`] sends, backing off 10 then 40 ms, all within [`SEND_BUDGET`]: an
/// attempt still unanswered when the budget runs out is abandoned. The last error is returned.
async fn send_within_budget(
    queue: &dyn Queue,
    clicks: Option<&dyn ClickStream>,
    handle: &Handle,
    slug: &str,
    event: &str,
) -> Result<(), SendError> {
    let deadline = tokio::time::Instant::now() + SEND_BUDGET;
    let mut delay = Duration::from_millis(10);
    let mut attempt = 1;
    loop {
        let sent =
            tokio::time::timeout_at(deadline, send(queue, clicks, handle, slug, event)).await;
        let error = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e,
            Err(_) => SendError::OutOfTime,
        };
        let out_of_time = tokio::time::Instant::now() + delay >= deadline;
        if attempt == SEND_ATTEMPTS || out_of_time {
            return Err(error);
        }
        tracing::debug!(error = %error, attempt, "click send failed; retrying");
        tokio::time::sleep(delay).await;
        delay *= 4;
        attempt += 1;
    }
}

/// One attempt: ONE append (partitioned by handle and link), or ONE enqueue without a stream.
async fn send(
    queue: &dyn Queue,
    clicks: Option<&dyn ClickStream>,
    handle: &Handle,
    slug: &str,
    event: &str,
) -> Result<(), SendError> {
    match clicks {
        Some(stream) => {
            let key = crate::platform::stream::click_partition_key(handle.as_str(), slug);
            Ok(stream.append(&key, event).await?)
        }
        None => {
            let message = vec![OutMessage::now(event.to_owned())];
            Ok(queue.send(QueueName::Events, message).await?)
        }
    }
}
