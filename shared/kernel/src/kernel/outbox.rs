//! The transactional outbox: an event that must never be lost (a conversion, a link change) is
//! written in the same store transaction as the state change that causes it. After the commit the
//! event is enqueued at once, and the enqueue, once the queue confirms it, is recorded on the
//! entry (ONE conditional write): the queue holds the message until it is applied or
//! dead-lettered, so the sweeper leaves a confirmed entry to it for [`QUEUE_HOLD`]. The sweeper
//! re-sends only what the queue may not hold: entries whose enqueue failed or was never
//! confirmed (the process died between the commit and the send), and confirmed ones older than
//! the queue keeps a message (issue 58: every sweep re-sent the whole backlog the consumer had
//! not reached yet, multiplying it). The events consumer deletes the entry once the event is
//! applied (and, on the queue's last delivery of an event it cannot apply, moves it to the dead
//! letters); consumers dedupe by event id, so a re-send costs a duplicate message, never a
//! duplicate effect.

use std::sync::Arc;
use std::time::Duration;

use crate::kernel::events::{Event, OutboxKey};
use crate::platform::queue::{OutMessage, Queue, QueueError, QueueName};
use crate::platform::store::{Cond, Item, Query, SkRange, Store, StoreError, WriteOp, keys};

fn shard_of(event_id: &str) -> u32 {
    // FNV-1a: stable across processes and releases (unlike std's hasher).
    let mut h: u32 = 0x811c_9dc5;
    for b in event_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % keys::OUTBOX_SHARDS
}

/// Assigns the event its outbox key and returns the write that records it; put it in the same
/// transaction as the state change.
pub fn record(event: &mut Event) -> WriteOp {
    let (pk, sk) = keys::outbox(
        shard_of(event.id.as_str()),
        crate::platform::time::now_millis(),
        event.id.as_str(),
    );
    event.outbox = Some(OutboxKey {
        pk: pk.clone(),
        sk: sk.clone(),
        sweeps: 0,
        next_sweep_at: 0,
        enqueued_at: 0,
    });
    WriteOp::Put {
        item: Item::new(pk, sk, event.to_doc()),
        cond: Cond::Absent,
    }
}

/// The write that clears an applied event's entry (None when the event had none).
pub fn clear(event: &Event) -> Option<WriteOp> {
    event.outbox.as_ref().map(|k| WriteOp::Delete {
        pk: k.pk.clone(),
        sk: k.sk.clone(),
        cond: Cond::None,
    })
}

/// Parks an already serialized event whose enqueue failed (a click) in the outbox: ONE store
/// write; the sweeper enqueues it and the consumer clears it, like any committed event.
///
/// Up to [`PARK_ATTEMPTS`] writes of the same entry (10, 40, 160, 640 ms apart, then a second):
/// a lost or refused answer is tried again, and a write that finds the entry already there has parked it: its key
/// (this instant and the event's id) is this call's alone, so only an earlier try of it (its
/// answer lost, retried by us or by the SDK's own retry) can have written it (issue 42: a
/// click answered 302 is never lost to one failed write).
pub async fn park(store: &dyn Store, event_json: &str) -> Result<(), StoreError> {
    let mut event: Event = serde_json::from_str(event_json)
        .map_err(|e| StoreError::Invalid(format!("parking an unreadable event: {e}")))?;
    let op = record(&mut event);
    let mut delay = std::time::Duration::from_millis(10);
    let mut attempt = 1;
    loop {
        let error = match store.write(op.clone()).await {
            Ok(_) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => return Ok(()),
            Err(e) => e,
        };
        if attempt == PARK_ATTEMPTS || !retryable(&error) {
            return Err(error);
        }
        tracing::debug!(error = %error, attempt, "parking failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 4).min(std::time::Duration::from_secs(1));
        attempt += 1;
    }
}

/// Writes of one parked entry before the click is counted lost: ~3.9 s of retries, spent only
/// when the stream and the store are both failing. Our own attempts, because the SDK's
/// standard retries stop once its retry quota is spent, as it is under a long fault window
/// (the 20 % chaos run lost a click answered 302 that way with three attempts).
pub const PARK_ATTEMPTS: u32 = 8;

fn retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(_) | StoreError::Other(_))
}

pub fn message(event: &Event) -> OutMessage {
    OutMessage::now(event.to_json())
}

/// Commits `ops` (which hold the events' outbox entries, from [`record`]) and then enqueues the
/// events: round trip 1 and round trip 2 of every write that emits an event.
///
/// Both run in a task of their own. A client that disconnects makes hyper drop the handler's
/// future; without the task, that could land between the commit and the enqueue, and the event
/// would wait for the sweeper (`TENX_OUTBOX_MIN_AGE_SECS`). Awaited, so a Lambda invocation
/// still finishes both before it answers. An enqueue failure is logged, not returned: the
/// entries are durable and the sweeper will deliver them.
pub async fn commit_and_publish(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    ops: Vec<WriteOp>,
    events: &[Event],
) -> Result<(), StoreError> {
    let messages: Vec<OutMessage> = events.iter().map(message).collect();
    let events = events.to_vec();
    let work = crate::platform::metrics::same_attribution(async move {
        store.transact(ops).await?;
        send_confirmed(store.as_ref(), queue.as_ref(), messages, &events).await;
        Ok(())
    });
    match tokio::spawn(work).await {
        Ok(result) => result,
        // The task panicked: whether it committed is unknown, as after a lost connection.
        Err(e) => Err(StoreError::Unavailable(format!("commit task failed: {e}"))),
    }
}

/// Enqueues committed `events` and records each enqueue the queue confirmed on its entry
/// ([`confirm_all`]). A failed send is logged, not returned: the entries are durable and the
/// sweeper sends them. Round trips: ONE send, then ONE write per event.
pub async fn publish(store: &dyn Store, queue: &dyn Queue, events: &[Event]) {
    let messages = events.iter().map(message).collect();
    send_confirmed(store, queue, messages, events).await;
}

async fn send_confirmed(
    store: &dyn Store,
    queue: &dyn Queue,
    messages: Vec<OutMessage>,
    events: &[Event],
) {
    match queue.send(QueueName::Events, messages).await {
        Ok(()) => confirm_all(store, events).await,
        Err(e) => {
            tracing::warn!(error = %e, "enqueue after commit failed; the outbox sweeper will retry");
        }
    }
}

/// How long the events queue may hold a message it confirmed taking: SQS's
/// `MessageRetentionPeriod` of the events queue in `template.yaml` (14 days; the embedded queue
/// keeps a message until it is acked or dead-lettered). A message is deleted only when its
/// event is applied (the consumer clears the entry first) or dead-lettered after the queue's
/// last delivery (the consumer moves the entry to the dead letters then), so an entry confirmed
/// and still here after that long lost its message some other way, and is sent again.
pub const QUEUE_HOLD: Duration = Duration::from_secs(14 * 86_400);

/// Records on each event's entry that the queue confirmed taking it (ONE conditional write per
/// event, concurrently: an entry the consumer cleared meanwhile stays cleared). Best effort: an
/// entry left unconfirmed is re-sent once by the sweeper, a duplicate the consumers dedupe; so
/// the write is lazy (no fsync of its own on the embedded engine). It can never be durable
/// without the message: the send it confirms was durable before it was made.
async fn confirm_all(store: &dyn Store, events: &[Event]) {
    let now = crate::platform::time::now_millis();
    let writes = events.iter().filter_map(|e| confirmed(e, now)).map(|op| async move {
        match store.write_lazily(op).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => tracing::debug!(error = %e, "confirming an enqueue failed; it will be re-sent once"),
        }
    });
    futures::future::join_all(writes).await;
}

/// The write that records `event`'s enqueue as confirmed at `now`: left to the queue until
/// [`QUEUE_HOLD`] has passed. `None` for an event without an entry.
fn confirmed(event: &Event, now: i64) -> Option<WriteOp> {
    let mut event = event.clone();
    let key = event.outbox.as_mut()?;
    key.enqueued_at = now;
    key.next_sweep_at = now + crate::domain::time::millis(QUEUE_HOLD);
    let item = Item::new(key.pk.clone(), key.sk.clone(), event.to_doc());
    Some(WriteOp::Put {
        item,
        cond: Cond::Exists,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Confirmed sends of one entry before it is dead-lettered: an event whose message the queue
/// lost this often (three [`QUEUE_HOLD`]s, six weeks) is given up on, visibly. A sweep whose send
/// fails notes nothing: the next sweep tries again.
pub const MAX_SWEEPS: u32 = 3;

/// Events the sweeper gave up on (each also logged with `metric = "outbox_dead_letters"`); the
/// entry moves to the `OUTBOXDEAD` partition, kept 30 days for inspection and replay.
pub static DEAD_LETTERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Re-enqueues every outbox entry older than `min_age` that the queue may not hold (never
/// confirmed, or confirmed longer ago than [`QUEUE_HOLD`]) and whose backoff has passed, and
/// records the confirmed send on the entry (ONE conditional write each: an entry the consumer
/// cleared meanwhile stays cleared). Entries swept [`MAX_SWEEPS`] times, and unreadable ones,
/// are moved to the dead letters instead. Returns how many were sent.
pub async fn sweep(
    store: &dyn Store,
    queue: &dyn Queue,
    min_age: Duration,
) -> Result<usize, SweepError> {
    Ok(sweep_counted(store, queue, min_age).await?.resent)
}

/// What one sweep found: the entries older than its `min_age` (events still waiting for the
/// consumer: a drain's progress, logged by the sweepers) and those it re-sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub waiting: usize,
    pub resent: usize,
    /// Whether every entry was read (else only those after the sweeper's [`Floor`]).
    pub whole: bool,
}

impl Swept {
    /// A drain's progress, in the log at each sweep while a backlog lasts (issue 58): how many
    /// events older than the sweep's minimum age still wait for the consumer, and how many of
    /// them the sweep sent (those the queue never took).
    pub fn log(&self, min_age: Duration) {
        if self.resent > 0 && !self.whole {
            tracing::info!(resent = self.resent, "events the queue never took re-sent");
        }
        if self.waiting > 0 && self.whole {
            tracing::info!(
                waiting = self.waiting,
                resent = self.resent,
                older_than_secs = min_age.as_secs(),
                metric = "outbox_backlog",
                "events wait to be counted; {} re-sent (never taken by the queue)",
                self.resent
            );
        }
    }
}

/// [`sweep`], counting what it saw. Round trips: ONE query per 100 entries older than
/// `min_age`, then per page ONE send and ONE write per event re-sent.
pub async fn sweep_counted(
    store: &dyn Store,
    queue: &dyn Queue,
    min_age: Duration,
) -> Result<Swept, SweepError> {
    let now = crate::platform::time::now_millis();
    let cutoff = now - crate::domain::time::millis(min_age);
    let lost_before = idle_since(queue, now).await;
    sweep_between(store, queue, (0, cutoff), (now, lost_before)).await
}

/// How long an idle events queue must have confirmed taking an event before the entry counts
/// as lost: longer than SQS's approximate counts lag (about a minute) and than a message's
/// visibility timeout, so a message in flight or not yet counted is never taken for lost.
pub const LOST_AFTER: Duration = Duration::from_secs(90);

/// When the events queue holds nothing (none waiting, none in flight), the time before which
/// a confirmed enqueue cannot still be in it ([`LOST_AFTER`] ago); `None` while it holds
/// something or cannot tell. ONE `GetQueueAttributes` on SQS.
///
/// A message can leave the queue without its event being applied: a queue purged by an
/// operator, a message deleted by mistake, an emulator's fault (issue 58: one conversion in a
/// chaos run stayed pending with its enqueue confirmed and the queue empty). Its entry would
/// otherwise wait out [`QUEUE_HOLD`] with the funnel's `pendingSince` stuck; re-sent, it is
/// applied once (the consumers dedupe), and after [`MAX_SWEEPS`] it is dead-lettered, visibly.
async fn idle_since(queue: &dyn Queue, now: i64) -> Option<i64> {
    match queue.depth(QueueName::Events).await {
        Ok(Some(d)) if d.waiting == 0 && d.in_flight == 0 => {
            Some(now - crate::domain::time::millis(LOST_AFTER))
        }
        _ => None,
    }
}

/// Where the next sweep of a running sweeper starts reading (issue 58). After a sweep that
/// succeeded, every entry older than its cutoff is confirmed (the queue holds it until
/// [`QUEUE_HOLD`]), dead-lettered or cleared: the next sweep need not read them again. It reads
/// from that cutoff less [`LATE_COMMIT`], and a whole pass runs every [`WHOLE_PASS_EVERY`]
/// (and at start) for the entries whose hold ran out. A backlog of n confirmed events then
/// costs a sweep one query page of what is new instead of n / 100 pages, each of which an
/// emulator answers by reading the whole shard (a 1,000-event drain spent most of moto's time
/// there).
#[derive(Debug, Default)]
pub struct Floor(std::sync::Mutex<Option<Mark>>);

#[derive(Clone, Copy, Debug)]
struct Mark {
    /// Entries at or before this (their key's time) were all confirmed by a sweep.
    confirmed_to: i64,
    /// When the last whole pass ran.
    whole_at: i64,
}

/// How late an entry may become visible after the time in its key (a commit's time is taken
/// before its transaction lands; clocks of two functions differ by far less).
pub const LATE_COMMIT: Duration = Duration::from_secs(60);
/// How often a running sweeper reads every entry again. Far below [`QUEUE_HOLD`].
pub const WHOLE_PASS_EVERY: Duration = Duration::from_secs(300);

impl Floor {
    fn start(&self, now: i64) -> Option<i64> {
        let mark = (*self.0.lock().ok()?)?;
        let whole_due = now - mark.whole_at >= crate::domain::time::millis(WHOLE_PASS_EVERY);
        (!whole_due).then(|| mark.confirmed_to - crate::domain::time::millis(LATE_COMMIT))
    }

    fn confirmed(&self, to: i64, whole_at: Option<i64>) {
        if let Ok(mut mark) = self.0.lock() {
            let whole_at = whole_at.or(mark.map(|m| m.whole_at)).unwrap_or(to);
            *mark = Some(Mark {
                confirmed_to: to,
                whole_at,
            });
        }
    }
}

/// [`sweep_counted`] for a sweeper that runs again and again: it reads only the entries after
/// `floor`'s mark, unless a whole pass is due. `Swept::whole` says which it did (its `waiting`
/// counts the whole backlog only then).
pub async fn sweep_from(
    store: &dyn Store,
    queue: &dyn Queue,
    min_age: Duration,
    floor: &Floor,
) -> Result<Swept, SweepError> {
    let now = crate::platform::time::now_millis();
    let cutoff = now - crate::domain::time::millis(min_age);
    // An idle queue holds nothing: an entry it confirmed taking a while ago is lost, wherever
    // the floor stands (a whole pass, as cheap as a floor's when nothing waits).
    let lost_before = idle_since(queue, now).await;
    let start = floor.start(now).filter(|_| lost_before.is_none());
    let range = (start.unwrap_or(0).max(0), cutoff);
    let mut swept = sweep_between(store, queue, range, (now, lost_before)).await?;
    swept.whole = start.is_none();
    floor.confirmed(cutoff, swept.whole.then_some(now));
    Ok(swept)
}

/// Sweeps the entries whose key's time is in `from..=to`; with `lost_before`, also those the
/// queue confirmed taking before then ([`idle_since`]).
async fn sweep_between(
    store: &dyn Store,
    queue: &dyn Queue,
    (from, to): (i64, i64),
    at: (i64, Option<i64>),
) -> Result<Swept, SweepError> {
    let (mut sent, mut waiting) = (0, 0);
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let mut after = None;
        loop {
            let page = store
                .query(Query {
                    pk: pk.clone(),
                    range: SkRange::Between(format!("{from:013}"), format!("{to:013}~")),
                    limit: 100,
                    after: after.take(),
                    descending: false,
                })
                .await?;
            waiting += page.items.len();
            sent += sweep_page(store, queue, &page.items, at).await?;
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(Swept {
        waiting,
        resent: sent,
        whole: true,
    })
}

async fn sweep_page(
    store: &dyn Store,
    queue: &dyn Queue,
    items: &[Item],
    (now, lost_before): (i64, Option<i64>),
) -> Result<usize, SweepError> {
    let mut due = Vec::new();
    for item in items {
        match serde_json::from_value::<Event>(item.doc.clone()) {
            Ok(event) if swept_out(&event) => dead_letter(store, item, "swept too often").await?,
            Ok(event) if next_sweep_at(&event) <= now => due.push(event),
            Ok(event) if lost(&event, lost_before) => {
                tracing::warn!(event_id = %event.id, "the idle events queue no longer holds a confirmed event; re-sent");
                due.push(event);
            }
            Ok(_) => {}
            Err(e) => dead_letter(store, item, &format!("unreadable: {e}")).await?,
        }
    }
    if due.is_empty() {
        return Ok(0);
    }
    queue
        .send(QueueName::Events, due.iter().map(message).collect())
        .await?;
    for mut event in due.iter().cloned() {
        note_sweep(store, &mut event, now).await?;
    }
    Ok(due.len())
}

fn swept_out(event: &Event) -> bool {
    event
        .outbox
        .as_ref()
        .is_some_and(|k| k.sweeps >= MAX_SWEEPS)
}

/// Whether `event`'s enqueue was confirmed before `lost_before` (an idle queue's horizon).
fn lost(event: &Event, lost_before: Option<i64>) -> bool {
    let enqueued = event.outbox.as_ref().map_or(0, |k| k.enqueued_at);
    lost_before.is_some_and(|t| enqueued > 0 && enqueued <= t)
}

fn next_sweep_at(event: &Event) -> i64 {
    event.outbox.as_ref().map_or(0, |k| k.next_sweep_at)
}

/// Counts the sweep on the entry and records its send as confirmed (the queue took it: it is
/// left to the queue for [`QUEUE_HOLD`]), if the consumer has not cleared it meanwhile.
async fn note_sweep(store: &dyn Store, event: &mut Event, now: i64) -> Result<(), StoreError> {
    let Some(key) = event.outbox.as_mut() else {
        return Ok(());
    };
    key.next_sweep_at = now + crate::domain::time::millis(QUEUE_HOLD);
    key.enqueued_at = now;
    key.sweeps += 1;
    let item = Item::new(key.pk.clone(), key.sk.clone(), event.to_doc());
    match store
        .write(WriteOp::Put {
            item,
            cond: Cond::Exists,
        })
        .await
    {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Moves `event`'s entry to the dead letters, visibly (the events consumer, on the queue's last
/// delivery of an event it cannot apply: the queue dead-letters the message next, and the entry
/// must not stay pending forever, holding the funnel's `pendingSince`). Round trips: ONE
/// transaction.
pub async fn dead_letter_event(
    store: &dyn Store,
    event: &Event,
    why: &str,
) -> Result<(), StoreError> {
    let Some(key) = event.outbox.as_ref() else {
        return Ok(());
    };
    let item = Item::new(key.pk.clone(), key.sk.clone(), event.to_doc());
    dead_letter(store, &item, why).await
}

/// Moves an entry to the dead letters (one transaction), visibly: an error log and a metric.
async fn dead_letter(store: &dyn Store, item: &Item, why: &str) -> Result<(), StoreError> {
    const KEEP_SECS: i64 = 30 * 86_400;
    let mut dead = Item::new(keys::OUTBOX_DEAD_PK, item.sk.clone(), item.doc.clone());
    dead.expires_at = Some(crate::platform::time::now_millis() / 1000 + KEEP_SECS);
    let ops = vec![
        WriteOp::Delete {
            pk: item.pk.clone(),
            sk: item.sk.clone(),
            cond: Cond::Exists,
        },
        WriteOp::Put {
            item: dead,
            cond: Cond::None,
        },
    ];
    match store.transact(ops).await {
        Ok(()) => {
            DEAD_LETTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(sk = %item.sk, why, metric = "outbox_dead_letters", "outbox entry dead-lettered");
            Ok(())
        }
        // Cleared by the consumer meanwhile: nothing to give up on.
        Err(StoreError::TxConflict { index: 0, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// What the outbox holds, counted (`tenx status`, issue 58).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Entries: events committed whose consumer has not applied them yet.
    pub pending: u64,
    /// Of those, the ones the queue never confirmed taking.
    pub not_enqueued: u64,
    /// The oldest entry's time (unix ms).
    pub oldest_ms: Option<i64>,
    /// Entries given up on (the dead letters).
    pub dead_letters: u64,
}

/// Counts every entry and dead letter: ONE query per 1,000 entries, per shard, and per 1,000
/// dead letters. An operator's read, never a request's.
pub async fn census(store: &dyn Store) -> Result<Census, StoreError> {
    census_of(store, None).await
}

/// [`census`] of one handle's events only (`None`: every handle's). The same reads: the outbox
/// is keyed by time, not by handle.
pub async fn census_of(store: &dyn Store, handle: Option<&str>) -> Result<Census, StoreError> {
    use crate::platform::store::for_each_item;
    let mine = |item: &Item| handle.is_none_or(|h| item.doc["handle"].as_str() == Some(h));
    let mut census = Census::default();
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        for_each_item::<StoreError>(store, Query::all(pk), |item| {
            if !mine(item) {
                return Ok(std::ops::ControlFlow::Continue(()));
            }
            census.pending += 1;
            let key: Option<OutboxKey> = serde_json::from_value(item.doc["outbox"].clone()).ok();
            if key.is_none_or(|k| k.enqueued_at == 0) {
                census.not_enqueued += 1;
            }
            let at = item.sk.get(..13).and_then(|t| t.parse::<i64>().ok());
            census.oldest_ms = census.oldest_ms.into_iter().chain(at).min();
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .await?;
    }
    for_each_item::<StoreError>(store, Query::all(keys::OUTBOX_DEAD_PK), |item| {
        census.dead_letters += u64::from(mine(item));
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(census)
}

/// The oldest outbox entry's time (unix ms): ONE query of one item per outbox shard.
pub async fn oldest(store: &dyn Store) -> Result<Option<i64>, StoreError> {
    let mut oldest = None;
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let query = Query {
            pk,
            range: SkRange::All,
            limit: 1,
            after: None,
            descending: false,
        };
        let page = store.query(query).await?;
        let first = page
            .items
            .first()
            .and_then(|i| i.sk.get(..13)?.parse().ok());
        oldest = oldest.into_iter().chain(first).min();
    }
    Ok(oldest)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::domain::time::millis;
    use crate::kernel::events::EventType;
    use crate::platform::queue::embedded::EmbeddedQueue;
    use crate::testing::failing_queue;

    #[tokio::test]
    async fn a_caller_that_goes_away_cancels_neither_the_commit_nor_the_enqueue() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let slow = failing_queue(inner.clone());
        slow.hook().delay_sends(Duration::from_millis(200));
        let queue: Arc<dyn Queue> = Arc::new(slow);
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let mut event = Event::untyped(
            EventType::LinkCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::json!({"slug": "s"}),
        );
        let ops = vec![record(&mut event)];
        // The handler's future is dropped mid-way, as when a client disconnects.
        let work = commit_and_publish(store.clone(), queue, ops, std::slice::from_ref(&event));
        let dropped = tokio::time::timeout(Duration::from_millis(20), work).await;
        assert!(
            dropped.is_err(),
            "the caller gave up before the send finished"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while inner.depth(QueueName::Events).await.unwrap() == 0 {
            assert!(Instant::now() < deadline, "the event was never enqueued");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = inner
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        let sent: Event = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(sent.id, event.id);
        let key = event.outbox.as_ref().unwrap();
        assert!(
            store.get(&key.pk, &key.sk).await.unwrap().is_some(),
            "the commit happened too"
        );
    }

    #[tokio::test]
    async fn a_failed_commit_enqueues_nothing() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let mut event = Event::untyped(
            EventType::LinkCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::json!({}),
        );
        let op = record(&mut event);
        store.transact(vec![op.clone()]).await.unwrap();
        // The same entry again: its `Absent` condition fails, so the transaction is cancelled.
        let err = commit_and_publish(store, inner.clone(), vec![op], &[event])
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::TxConflict { index: 0, .. }),
            "{err:?}"
        );
        assert_eq!(inner.depth(QueueName::Events).await.unwrap(), 0);
    }

    /// An entry never enqueued (a crash between commit and send) whose key says `at`.
    async fn unsent_at(store: &dyn Store, at: i64) -> Event {
        let mut event = Event::untyped(
            EventType::LinkCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::json!({}),
        );
        let (pk, sk) = keys::outbox(shard_of(event.id.as_str()), at, event.id.as_str());
        record(&mut event);
        let key = event.outbox.as_mut().unwrap();
        (key.pk, key.sk) = (pk.clone(), sk.clone());
        store
            .write(WriteOp::Put {
                item: Item::new(pk, sk, event.to_doc()),
                cond: Cond::Absent,
            })
            .await
            .unwrap();
        event
    }

    /// Issue 58: a running sweeper reads what is new since its last sweep, not the whole
    /// backlog again; an entry older than its floor waits for the next whole pass; a sweep whose
    /// send failed leaves the floor where it was, so nothing it missed is skipped.
    #[tokio::test]
    async fn a_running_sweeper_reads_from_its_floor_and_a_failed_sweep_keeps_it() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let failing = Arc::new(failing_queue(inner.clone()));
        let store = crate::platform::store::embedded::EmbeddedStore::in_memory();
        let (floor, now) = (Floor::default(), crate::platform::time::now_millis());
        unsent_at(&store, now - 10_000).await;
        let first = sweep_from(&store, failing.as_ref(), Duration::ZERO, &floor).await;
        assert!(
            matches!(
                first,
                Ok(Swept {
                    resent: 1,
                    whole: true,
                    ..
                })
            ),
            "{first:?}"
        );

        // Too old for the floor (a commit visible much later than its key says): left to the
        // whole pass. Within the margin: re-sent by the next sweep, which reads only those.
        let late = unsent_at(&store, now - millis(LATE_COMMIT) - 60_000).await;
        unsent_at(&store, now - 1_000).await;
        let next = sweep_from(&store, failing.as_ref(), Duration::ZERO, &floor).await;
        assert!(
            matches!(
                next,
                Ok(Swept {
                    resent: 1,
                    waiting: 2,
                    whole: false
                })
            ),
            "{next:?}"
        );
        assert_eq!(
            entry(&store, &late).await.unwrap().outbox.unwrap().sweeps,
            0
        );

        // The queue refuses: the sweep fails and the floor stays, so the entry is sent later.
        failing.hook().fail_next(1);
        let fresh = unsent_at(&store, crate::platform::time::now_millis()).await;
        assert!(
            sweep_from(&store, failing.as_ref(), Duration::ZERO, &floor)
                .await
                .is_err()
        );
        let again = sweep_from(&store, failing.as_ref(), Duration::ZERO, &floor).await;
        assert!(matches!(again, Ok(Swept { resent: 1, .. })), "{again:?}");
        assert_eq!(
            entry(&store, &fresh).await.unwrap().outbox.unwrap().sweeps,
            1
        );

        // The whole pass (due again after WHOLE_PASS_EVERY) finds the late one.
        floor.0.lock().unwrap().as_mut().unwrap().whole_at -= millis(WHOLE_PASS_EVERY);
        let whole = sweep_from(&store, failing.as_ref(), Duration::ZERO, &floor).await;
        assert!(
            matches!(
                whole,
                Ok(Swept {
                    resent: 1,
                    whole: true,
                    ..
                })
            ),
            "{whole:?}"
        );
        assert_eq!(
            entry(&store, &late).await.unwrap().outbox.unwrap().sweeps,
            1
        );
    }

    async fn entry(store: &dyn Store, event: &Event) -> Option<Event> {
        let key = event.outbox.clone().unwrap();
        let item = store.get(&key.pk, &key.sk).await.unwrap()?;
        Some(serde_json::from_value(item.doc).unwrap())
    }

    fn link_event() -> Event {
        Event::untyped(
            EventType::LinkCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::json!({}),
        )
    }

    /// Issue 58: an event the queue confirmed taking is left to the queue (no sweep re-sends
    /// it, however long the consumer takes to reach it); one whose send failed is re-sent once,
    /// and its sweep is recorded as confirmed too.
    #[tokio::test]
    async fn the_sweeper_resends_only_what_the_queue_may_not_hold() {
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let queue = failing_queue(inner.clone());
        let switch = queue.hook().clone();
        let queue: Arc<dyn Queue> = Arc::new(queue);
        let (mut sent, mut lost) = (link_event(), link_event());
        let ops = vec![record(&mut sent)];
        commit_and_publish(
            store.clone(),
            queue.clone(),
            ops,
            std::slice::from_ref(&sent),
        )
        .await
        .unwrap();
        switch.fail_next(1);
        let ops = vec![record(&mut lost)];
        commit_and_publish(
            store.clone(),
            queue.clone(),
            ops,
            std::slice::from_ref(&lost),
        )
        .await
        .unwrap();
        let confirmed = entry(store.as_ref(), &sent).await.unwrap().outbox.unwrap();
        assert!(
            confirmed.enqueued_at > 0,
            "the queue took it: {confirmed:?}"
        );
        assert_eq!(
            entry(store.as_ref(), &lost)
                .await
                .unwrap()
                .outbox
                .unwrap()
                .enqueued_at,
            0
        );
        assert_eq!(inner.depth(QueueName::Events).await.unwrap(), 1);

        // The consumer has not reached either: only the one the queue never took is re-sent.
        assert_eq!(
            sweep(store.as_ref(), queue.as_ref(), Duration::ZERO)
                .await
                .unwrap(),
            1
        );
        assert_eq!(inner.depth(QueueName::Events).await.unwrap(), 2);
        let swept = entry(store.as_ref(), &lost).await.unwrap().outbox.unwrap();
        assert_eq!(swept.sweeps, 1);
        assert!(swept.next_sweep_at >= swept.enqueued_at + millis(QUEUE_HOLD));
        for _ in 0..3 {
            assert_eq!(
                sweep(store.as_ref(), queue.as_ref(), Duration::ZERO)
                    .await
                    .unwrap(),
                0
            );
        }
        assert_eq!(
            inner.depth(QueueName::Events).await.unwrap(),
            2,
            "no copy multiplied"
        );
    }

    /// Issue 58: a message that left the queue without its event being applied (a purge, an
    /// emulator's fault) is sent again once the queue is idle and the enqueue was confirmed
    /// [`LOST_AFTER`] ago; never while the queue still holds something, nor sooner.
    #[tokio::test]
    async fn an_idle_queue_that_lost_a_confirmed_event_gets_it_again() {
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let queue = Arc::new(EmbeddedQueue::in_memory());
        let mut event = link_event();
        let ops = vec![record(&mut event)];
        let sent = std::slice::from_ref(&event);
        commit_and_publish(store.clone(), queue.clone(), ops, sent)
            .await
            .unwrap();
        let take_all = || async {
            let got = queue
                .receive(QueueName::Events, 10, Duration::from_secs(30))
                .await
                .unwrap();
            for m in &got {
                queue.ack(QueueName::Events, &m.receipt).await.unwrap();
            }
            got.len()
        };
        assert_eq!(take_all().await, 1, "lost: taken without being applied");
        let sweep_now = || sweep(store.as_ref(), queue.as_ref(), Duration::ZERO);
        assert_eq!(sweep_now().await.unwrap(), 0, "confirmed just now");

        // Confirmed long ago, but the queue holds another message: it may still hold this one.
        let mut old = entry(store.as_ref(), &event).await.unwrap();
        let key = old.outbox.as_mut().unwrap();
        key.enqueued_at -= millis(LOST_AFTER) + 1_000;
        let item = Item::new(key.pk.clone(), key.sk.clone(), old.to_doc());
        store
            .write(WriteOp::Put {
                item,
                cond: Cond::Exists,
            })
            .await
            .unwrap();
        queue
            .send(QueueName::Events, vec![OutMessage::now("{}")])
            .await
            .unwrap();
        assert_eq!(sweep_now().await.unwrap(), 0, "the queue is not idle");

        // Idle: the entry is sent again, counted as a sweep (toward the dead letters).
        assert_eq!(take_all().await, 1);
        assert_eq!(sweep_now().await.unwrap(), 1);
        let got = queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        let again: Event = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(again.id, event.id);
        let swept = entry(store.as_ref(), &event).await.unwrap().outbox.unwrap();
        assert_eq!(swept.sweeps, 1);
        assert_eq!(sweep_now().await.unwrap(), 0, "in flight: not idle");
    }

    /// A confirmed entry still here after the queue could hold its message is sent again; one
    /// whose message was lost [`MAX_SWEEPS`] times goes to the dead letters, visibly.
    #[tokio::test]
    async fn an_entry_older_than_the_queue_holds_is_resent_then_dead_lettered_visibly() {
        let store = crate::platform::store::embedded::EmbeddedStore::in_memory();
        let queue = EmbeddedQueue::in_memory();
        let mut event = link_event();
        store.transact(vec![record(&mut event)]).await.unwrap();
        let key = event.outbox.clone().unwrap();
        let put = |mut e: Event, enqueued_at: i64, sweeps: u32| {
            let k = e.outbox.as_mut().unwrap();
            (k.enqueued_at, k.next_sweep_at, k.sweeps) =
                (enqueued_at, enqueued_at + millis(QUEUE_HOLD), sweeps);
            WriteOp::Put {
                item: Item::new(k.pk.clone(), k.sk.clone(), e.to_doc()),
                cond: Cond::None,
            }
        };
        let long_ago = crate::platform::time::now_millis() - millis(QUEUE_HOLD) - 1_000;
        store.write(put(event.clone(), long_ago, 1)).await.unwrap();
        assert_eq!(sweep(&store, &queue, Duration::ZERO).await.unwrap(), 1);
        assert_eq!(queue.depth(QueueName::Events).await.unwrap(), 1);

        store
            .write(put(event.clone(), long_ago, MAX_SWEEPS))
            .await
            .unwrap();
        let dead_before = DEAD_LETTERS.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(sweep(&store, &queue, Duration::ZERO).await.unwrap(), 0);
        assert!(store.get(&key.pk, &key.sk).await.unwrap().is_none());
        assert!(
            store
                .get(keys::OUTBOX_DEAD_PK, &key.sk)
                .await
                .unwrap()
                .is_some()
        );
        assert!(DEAD_LETTERS.load(std::sync::atomic::Ordering::Relaxed) > dead_before);
    }
}
