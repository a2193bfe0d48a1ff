//! What the event pipeline has not done yet (issue 58), in one operator's view (`tenx status`):
//! the outbox's pending events (those the queue confirmed taking, waiting for the consumer, and
//! those never enqueued, which the sweeper sends), the oldest one's time, the events given up on
//! (the outbox's dead letters), and each queue's depth with its dead letters. A backlog after an
//! incident reads as a number that falls to zero, never as numbers silently behind.

use serde::Serialize;

use crate::platform::queue::{Depth, Queue, QueueError, QueueName};
use crate::platform::store::{Store, StoreError};

/// The pipeline's backlog now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backlog {
    /// Outbox entries: events committed whose consumer has not applied them yet.
    pub pending: u64,
    /// Of those, the ones the queue never confirmed taking (the sweeper sends them).
    pub not_enqueued: u64,
    /// The oldest pending event's time (RFC 3339), if any.
    pub oldest: Option<String>,
    /// Events given up on: the outbox's dead letters (kept 30 days, each named).
    pub dead_letters: u64,
    pub events_queue: Option<Depth>,
    pub deliveries_queue: Option<Depth>,
}

impl Backlog {
    /// Nothing waits and nothing was given up on.
    pub fn is_clear(&self) -> bool {
        let queue_empty =
            |d: &Option<Depth>| d.is_none_or(|d| d.waiting + d.in_flight + d.dead == 0);
        self.pending == 0
            && self.dead_letters == 0
            && queue_empty(&self.events_queue)
            && queue_empty(&self.deliveries_queue)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BacklogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Reads the backlog: the outbox's census ([`crate::kernel::outbox::census`]) and each queue's
/// depth. An operator's read, never a request's.
pub async fn read(store: &dyn Store, queue: &dyn Queue) -> Result<Backlog, BacklogError> {
    let census = crate::kernel::outbox::census(store).await?;
    let mut backlog = Backlog {
        pending: census.pending,
        not_enqueued: census.not_enqueued,
        oldest: census
            .oldest_ms
            .map(crate::domain::time::unix_millis_to_rfc3339),
        dead_letters: census.dead_letters,
        ..Backlog::default()
    };
    backlog.events_queue = queue.depth(QueueName::Events).await?;
    backlog.deliveries_queue = queue.depth(QueueName::Deliveries).await?;
    Ok(backlog)
}

/// The backlog in words, a line each (`tenx status`).
pub fn describe(b: &Backlog) -> Vec<String> {
    let mut lines = vec![match (b.pending, &b.oldest) {
        (0, _) | (_, None) => "Every accepted event is counted: nothing waits.".to_owned(),
        (n, Some(oldest)) => format!(
            "{n} events wait to be counted, the oldest accepted at {oldest}; {} of them not in the queue yet (the sweeper sends those).",
            b.not_enqueued
        ),
    }];
    lines.push(match b.dead_letters {
        0 => "No event was given up on.".to_owned(),
        n => format!("{n} events were given up on after their last delivery (dead letters, kept 30 days): see the log for each one's id."),
    });
    for (name, depth) in [
        ("events", &b.events_queue),
        ("webhook deliveries", &b.deliveries_queue),
    ] {
        lines.push(match depth {
            Some(d) => format!(
                "The {name} queue holds {} waiting, {} being handled, {} dead-lettered.",
                d.waiting, d.in_flight, d.dead
            ),
            None => format!("The {name} queue does not tell its depth."),
        });
    }
    lines
}

/// One handle's backlog, for its managers (issue 58: the console's Settings): its own events
/// only (the queues' depths are every handle's, so they stay with `tenx status`), and words.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandleBacklog {
    pub pending: u64,
    pub not_enqueued: u64,
    pub oldest: Option<String>,
    pub dead_letters: u64,
    /// What it means, a sentence each, for a manager.
    pub words: Vec<String>,
}

/// `handle`'s backlog. Round trips: the census's (every pending entry read: a manager's look,
/// never on a request's path).
pub async fn of_handle(store: &dyn Store, handle: &str) -> Result<HandleBacklog, StoreError> {
    let census = crate::kernel::outbox::census_of(store, Some(handle)).await?;
    let oldest = census
        .oldest_ms
        .map(crate::domain::time::unix_millis_to_rfc3339);
    let mut words = vec![match (census.pending, &oldest) {
        (0, _) | (_, None) => "Every click and sale accepted is counted: nothing waits.".to_owned(),
        (n, Some(at)) => format!(
            "{n} accepted events wait to be counted, the oldest since {at}. They are counted once each, by themselves; until then your reports say they are behind."
        ),
    }];
    if census.dead_letters > 0 {
        words.push(format!(
            "{} events could not be counted after every retry and were set aside (kept 30 days). Your operator can see each one in the server's log and replay it.",
            census.dead_letters
        ));
    }
    Ok(HandleBacklog {
        pending: census.pending,
        not_enqueued: census.not_enqueued,
        oldest,
        dead_letters: census.dead_letters,
        words,
    })
}
