//! The embedded queue: [`Queue`] on a redb file of its own (so click enqueues never contend with
//! store writes), with SQS's semantics: at-least-once delivery, per-message delays, visibility
//! timeouts, and a redrive policy that moves a message received more than `max_receives` times
//! to a dead-letter table.
//!
//! Layout per queue: table `queue_<name>` keyed by `(due_ms, seq)`, so `receive` scans only the
//! due prefix, in order. Receiving re-keys a message to `(now + visibility, fresh seq)` with
//! `receive_count + 1`; its receipt encodes that key plus the message id, so a stale receipt (the
//! message was re-received after its visibility expired) no longer matches and `ack` is a no-op.
//! Dead letters live in `dead_<name>`, keyed by seq. `seq` is persisted in `meta`.
//!
//! All mutations (send, receive, ack) go through one writer thread with group commit, like the
//! embedded store: it applies every pending request in one write transaction and commits once,
//! so many concurrent `send` calls (one per click) share one fsync. Messages are durable when
//! `send` returns.
//!
//! Only sends need that fsync. A batch of receives and acks alone commits without one
//! (`Durability::None`; the next durable commit persists it, and every
//! [`MAX_LAZY_COMMITS`]th one is made durable anyway so redb can reuse freed pages). A crash may
//! roll those back: a received message becomes visible again early, an acked one is delivered
//! again, a receive count is lower than it was. All three are what at-least-once delivery
//! already allows (consumers dedupe by event id); a sent message is never lost. This removes
//! the consumers' fsyncs, which outnumbered the senders' several times under load
//! (BENCHMARKS.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redb::{
    Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, oneshot};

use crate::{
    platform::store::group_commit,
    platform::store::group_commit::{Apply, Writer, split},
};

use super::click_log;
use super::{MAX_DELAY_SECS, OutMessage, Queue, QueueError, QueueName, Received};
use crate::platform::stream::{ClickStream, StreamError, StreamRecord, validate_record};

type MessageTable = TableDefinition<'static, (u64, u64), &'static [u8]>;
type DeadTable = TableDefinition<'static, u64, &'static [u8]>;

const META: TableDefinition<'static, &str, u64> = TableDefinition::new("meta");
const SEQ: &str = "seq";

fn tables(queue: QueueName) -> (MessageTable, DeadTable) {
    match queue {
        QueueName::Events => (
            TableDefinition::new("queue_events"),
            TableDefinition::new("dead_events"),
        ),
        QueueName::Deliveries => (
            TableDefinition::new("queue_deliveries"),
            TableDefinition::new("dead_deliveries"),
        ),
        QueueName::Mail => (
            TableDefinition::new("queue_mail"),
            TableDefinition::new("dead_mail"),
        ),
        QueueName::MailEvents => (
            TableDefinition::new("queue_mail_events"),
            TableDefinition::new("dead_mail_events"),
        ),
        QueueName::Imports => (
            TableDefinition::new("queue_imports"),
            TableDefinition::new("dead_imports"),
        ),
    }
}

/// Default redrive threshold (receives without ack before a message is dead-lettered).
pub const DEFAULT_MAX_RECEIVES: u32 = 10;
pub use super::{MAX_BODY_BYTES, MAX_RECEIVE_BATCH, MAX_VISIBILITY, validate_body};
const MAX_BATCH: usize = 256;
/// Receive/ack-only batches committed without an fsync in a row, at most.
pub const MAX_LAZY_COMMITS: u32 = 64;
const CHANNEL_CAPACITY: usize = 4096;

#[derive(Serialize, Deserialize)]
struct StoredMsg {
    id: String,
    body: String,
    receive_count: u32,
}

/// [`Queue`] on redb. Dropping it stops the writer thread (after it has answered every queued
/// request) and closes the file.
pub struct EmbeddedQueue {
    db: Arc<Database>,
    writer: Writer<Request>,
    notify: Arc<BTreeMap<QueueName, Notify>>,
    /// Woken when clicks are appended to the click log.
    clicks_notify: Arc<Notify>,
    max_receives: u32,
}

impl EmbeddedQueue {
    /// Opens (creating if needed) the queue file at `path`.
    pub fn open(path: &Path) -> Result<Self, QueueError> {
        crate::platform::store::embedded::create_parent(path).map_err(db_err)?;
        let db = Database::builder()
            .set_cache_size(crate::platform::store::embedded::CACHE_BYTES)
            .create(path)
            .map_err(db_err)?;
        Self::start(db)
    }

    /// A queue held in memory (same code path as a file; for tests).
    pub fn in_memory() -> Self {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("creating an in-memory redb database");
        Self::start(db).expect("starting an in-memory queue")
    }

    /// Sets the redrive threshold: a message received more than `max_receives` times without
    /// being acked moves to the dead-letter table instead of being delivered again (min 1).
    pub fn with_max_receives(mut self, max_receives: u32) -> Self {
        self.max_receives = max_receives.max(1);
        self
    }

    fn start(db: Database) -> Result<Self, QueueError> {
        // Create every table up front so read transactions always find them.
        let txn = db.begin_write().map_err(db_err)?;
        let seq = {
            let meta = txn.open_table(META).map_err(db_err)?;
            let seq = meta.get(SEQ).map_err(db_err)?.map_or(0, |v| v.value());
            for queue in QueueName::ALL {
                let (messages, dead) = tables(queue);
                txn.open_table(messages).map_err(db_err)?;
                txn.open_table(dead).map_err(db_err)?;
            }
            txn.open_table(click_log::CLICKS).map_err(db_err)?;
            seq
        };
        txn.commit().map_err(db_err)?;

        let db = Arc::new(db);
        let notify: Arc<BTreeMap<_, _>> = Arc::new(
            QueueName::ALL
                .into_iter()
                .map(|q| (q, Notify::new()))
                .collect(),
        );
        let clicks_notify = Arc::new(Notify::new());
        let owner = QueueWriter {
            db: db.clone(),
            notify: notify.clone(),
            clicks_notify: clicks_notify.clone(),
            appends: 0,
            seq,
            lazy_commits: 0,
            woken: BTreeSet::new(),
        };
        let writer = Writer::spawn("embedded-queue-writer", owner, CHANNEL_CAPACITY, MAX_BATCH)
            .map_err(|e| QueueError::Other(format!("spawning the queue writer: {e}")))?;
        Ok(Self {
            db,
            writer,
            notify,
            clicks_notify,
            max_receives: DEFAULT_MAX_RECEIVES,
        })
    }

    /// Bodies of the messages dead-lettered from `queue`, oldest first.
    pub async fn dead_letters(&self, queue: QueueName) -> Result<Vec<String>, QueueError> {
        self.read(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(tables(queue).1).map_err(db_err)?;
            let mut bodies = Vec::new();
            for entry in table.iter().map_err(db_err)? {
                let (_, value) = entry.map_err(db_err)?;
                bodies.push(match decode(value.value()) {
                    Some(msg) => msg.body,
                    None => String::from_utf8_lossy(value.value()).into_owned(),
                });
            }
            Ok(bodies)
        })
        .await
    }

    /// Messages in `queue`, visible or not (dead letters excluded); for tests and monitoring.
    pub async fn depth(&self, queue: QueueName) -> Result<usize, QueueError> {
        self.read(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(tables(queue).0).map_err(db_err)?;
            let len = table.len().map_err(db_err)?;
            Ok(usize::try_from(len).unwrap_or(usize::MAX))
        })
        .await
    }

    /// Waits until a message of `queue` may be receivable, or `timeout` passes: returns early
    /// when a message without delay is sent, or when the earliest pending message (delayed or
    /// in flight) comes due. Lets local workers poll without spinning:
    ///
    /// ```ignore
    /// loop {
    ///     let batch = queue.receive(name, 10, visibility).await?;
    ///     if batch.is_empty() {
    ///         queue.wait_for_messages(name, Duration::from_secs(5)).await;
    ///     }
    ///     // ...
    /// }
    /// ```
    ///
    /// A wake-up is a hint, not a promise (another consumer may take the message first).
    pub async fn wait_for_messages(&self, queue: QueueName, timeout: Duration) {
        let Some(notify) = self.notify.get(&queue) else {
            return;
        };
        // Register before looking at the table, so a send in between still wakes us.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next_due = self
            .read(move |db| {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(tables(queue).0).map_err(db_err)?;
                let first = table.first().map_err(db_err)?;
                Ok(first.map(|(key, _)| key.value().0))
            })
            .await;
        let wait = match next_due {
            Ok(Some(due)) => timeout.min(Duration::from_millis(due.saturating_sub(now_ms()))),
            _ => timeout,
        };
        if !wait.is_zero() {
            let _ = tokio::time::timeout(wait, notified).await;
        }
    }

    /// Waits until a click may have been appended to the click log, or `timeout` passes (a
    /// hint, like [`Self::wait_for_messages`]).
    pub async fn wait_for_clicks(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.clicks_notify.notified()).await;
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        group_commit::read(&self.db, f, QueueError::Other).await
    }

    async fn submit<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, QueueError>>) -> Request,
    ) -> Result<T, QueueError> {
        let stopped = || QueueError::Unavailable("the queue writer has stopped".into());
        self.writer.submit(make, stopped).await
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            validate_body(&message.body)?;
            let delay = message
                .delay
                .min(Duration::from_secs(u64::from(MAX_DELAY_SECS)));
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            let id = uuid::Uuid::now_v7().to_string();
            out.push((
                delay_ms,
                StoredMsg {
                    id,
                    body: message.body,
                    receive_count: 0,
                },
            ));
        }
        self.submit(|reply| Request::Send {
            queue,
            messages: out,
            reply,
        })
        .await
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let max = max.min(MAX_RECEIVE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let visibility_ms =
            u64::try_from(visibility.min(MAX_VISIBILITY).as_millis()).unwrap_or(u64::MAX);
        let max_receives = self.max_receives;
        self.submit(|reply| Request::Receive {
            queue,
            max,
            visibility_ms,
            max_receives,
            reply,
        })
        .await
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let (key, id) = parse_receipt(receipt)
            .ok_or_else(|| QueueError::Other(format!("malformed receipt {receipt:?}")))?;
        self.submit(|reply| Request::Ack {
            queue,
            key,
            id,
            reply,
        })
        .await
    }

    /// Messages due now (waiting), due later (received and hidden, or delayed: in flight),
    /// and dead letters. ONE read transaction.
    async fn depth(&self, queue: QueueName) -> Result<Option<super::Depth>, QueueError> {
        let now = now_ms();
        self.read(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let (live, dead) = tables(queue);
            let live = txn.open_table(live).map_err(db_err)?;
            let mut depth = super::Depth::default();
            for entry in live.iter().map_err(db_err)? {
                let (key, _) = entry.map_err(db_err)?;
                match key.value().0 <= now {
                    true => depth.waiting += 1,
                    false => depth.in_flight += 1,
                }
            }
            depth.dead = txn
                .open_table(dead)
                .map_err(db_err)?
                .len()
                .map_err(db_err)?;
            Ok(Some(depth))
        })
        .await
    }
}

#[async_trait]
impl ClickStream for EmbeddedQueue {
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError> {
        validate_record(partition_key, data)?;
        let data = data.to_owned();
        self.submit(|reply| Request::Append { data, reply })
            .await
            .map_err(click_log::stream_error)
    }

    async fn shards(&self) -> Result<Vec<String>, StreamError> {
        Ok(vec![click_log::SHARD.to_owned()])
    }

    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError> {
        let (shard, after) = (shard.to_owned(), after.map(str::to_owned));
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || click_log::read(&db, &shard, after.as_deref(), max))
            .await
            .map_err(|e| StreamError::Unavailable(format!("click log read task: {e}")))?
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn receipt((due, seq): (u64, u64), id: &str) -> String {
    format!("{due:x}.{seq:x}.{id}")
}

fn parse_receipt(receipt: &str) -> Option<((u64, u64), String)> {
    let mut parts = receipt.splitn(3, '.');
    let due = u64::from_str_radix(parts.next()?, 16).ok()?;
    let seq = u64::from_str_radix(parts.next()?, 16).ok()?;
    let id = parts.next()?;
    (!id.is_empty()).then(|| ((due, seq), id.to_owned()))
}

fn db_err(e: impl Into<redb::Error>) -> QueueError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::Io(_)
        | redb::Error::PreviousIo
        | redb::Error::DatabaseAlreadyOpen
        | redb::Error::LockPoisoned(_) => QueueError::Unavailable(e.to_string()),
        _ => QueueError::Other(e.to_string()),
    }
}

/// A failed batch is reported as `Unavailable`: nothing was written, the caller may retry.
fn unavailable(err: QueueError) -> QueueError {
    match err {
        QueueError::Other(m) => QueueError::Unavailable(m),
        err => err,
    }
}

/// First byte of the binary record format. Records written before it are JSON objects (they
/// start with `{`) and are still read.
const RECORD_V2: u8 = 2;

/// `[2][receive_count: u32 LE][id_len: u16 LE][id][body]`: the body is stored as is, not escaped
/// into JSON, and an ack compares the id without touching the body.
fn encode(msg: &StoredMsg) -> Result<Vec<u8>, QueueError> {
    let id_len =
        u16::try_from(msg.id.len()).map_err(|_| QueueError::Other("message id too long".into()))?;
    let mut out = Vec::with_capacity(7 + msg.id.len() + msg.body.len());
    out.push(RECORD_V2);
    out.extend_from_slice(&msg.receive_count.to_le_bytes());
    out.extend_from_slice(&id_len.to_le_bytes());
    out.extend_from_slice(msg.id.as_bytes());
    out.extend_from_slice(msg.body.as_bytes());
    Ok(out)
}

/// The receive count and id of a binary record, and where its body starts.
fn header(bytes: &[u8]) -> Option<(u32, &str, usize)> {
    let (&RECORD_V2, rest) = bytes.split_first()? else {
        return None;
    };
    let count = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    let id_len = usize::from(u16::from_le_bytes(rest.get(4..6)?.try_into().ok()?));
    let id = std::str::from_utf8(rest.get(6..6 + id_len)?).ok()?;
    Some((count, id, 7 + id_len))
}

fn decode(bytes: &[u8]) -> Option<StoredMsg> {
    match header(bytes) {
        Some((receive_count, id, body_at)) => Some(StoredMsg {
            id: id.to_owned(),
            body: std::str::from_utf8(&bytes[body_at..]).ok()?.to_owned(),
            receive_count,
        }),
        None => serde_json::from_slice(bytes).ok(),
    }
}

/// Whether the stored record is the message `id` (without decoding a binary record's body).
fn has_id(bytes: &[u8], id: &str) -> bool {
    match header(bytes) {
        Some((_, stored, _)) => stored == id,
        None => serde_json::from_slice::<StoredMsg>(bytes).is_ok_and(|msg| msg.id == id),
    }
}

// ---------------------------------------------------------------------------------------------
// The writer thread

type Reply<T> = oneshot::Sender<Result<T, QueueError>>;

enum Request {
    Send {
        queue: QueueName,
        messages: Vec<(u64, StoredMsg)>,
        reply: Reply<()>,
    },
    Receive {
        queue: QueueName,
        max: usize,
        visibility_ms: u64,
        max_receives: u32,
        reply: Reply<Vec<Received>>,
    },
    Ack {
        queue: QueueName,
        key: (u64, u64),
        id: String,
        reply: Reply<()>,
    },
    /// A click appended to the click log.
    Append { data: String, reply: Reply<()> },
}

/// A request's outcome, held until the batch is committed.
enum Answer {
    Unit(Reply<()>, Result<(), QueueError>),
    Received(Reply<Vec<Received>>, Result<Vec<Received>, QueueError>),
}

impl group_commit::Answer<QueueError> for Answer {
    /// A failed batch is reported as `Unavailable`: nothing was written, the caller may retry.
    fn fail(self, err: &QueueError) -> Self {
        let err = || match err {
            QueueError::Unavailable(m) | QueueError::Other(m) => QueueError::Unavailable(m.clone()),
        };
        match self {
            Answer::Unit(reply, _) => Answer::Unit(reply, Err(err())),
            Answer::Received(reply, _) => Answer::Received(reply, Err(err())),
        }
    }

    fn send(self) {
        // A caller that gave up no longer needs the answer. (A receive whose caller is gone
        // leaves its messages in flight; they come back when their visibility expires.)
        let _ = match self {
            Answer::Unit(reply, result) => reply.send(result).map_err(drop),
            Answer::Received(reply, result) => reply.send(result).map_err(drop),
        };
    }
}

/// The queue's side of the group-commit writer: sequence numbers, lazy durability for batches
/// without sends, and waking consumers of queues that got due messages.
struct QueueWriter {
    db: Arc<Database>,
    notify: Arc<BTreeMap<QueueName, Notify>>,
    clicks_notify: Arc<Notify>,
    /// Clicks appended in the current batch.
    appends: usize,
    /// The last sequence number handed out (persisted with every batch).
    seq: u64,
    /// Commits without fsync since the last durable one.
    lazy_commits: u32,
    /// Queues to wake once the current batch commits.
    woken: BTreeSet<QueueName>,
}

impl Apply for QueueWriter {
    type Request = Request;
    type Error = QueueError;
    type Answer = Answer;

    fn db(&self) -> &Database {
        &self.db
    }

    fn db_error(e: redb::Error) -> QueueError {
        unavailable(db_err(e))
    }

    fn pending(request: Request) -> Answer {
        let unset = || QueueError::Other("batch aborted".into());
        match request {
            Request::Send { reply, .. }
            | Request::Ack { reply, .. }
            | Request::Append { reply, .. } => Answer::Unit(reply, Err(unset())),
            Request::Receive { reply, .. } => Answer::Received(reply, Err(unset())),
        }
    }

    fn durability(&mut self, batch: &[Request]) -> Durability {
        self.woken.clear();
        self.appends = 0;
        let mut sends = false;
        for request in batch {
            if let Request::Append { .. } = request {
                sends = true;
                self.appends += 1;
            }
            if let Request::Send {
                queue, messages, ..
            } = request
            {
                sends = true;
                if messages.iter().any(|(delay, _)| *delay == 0) {
                    self.woken.insert(*queue);
                }
            }
        }
        if sends || self.lazy_commits >= MAX_LAZY_COMMITS {
            Durability::Immediate
        } else {
            Durability::None
        }
    }

    fn apply(&mut self, txn: &WriteTransaction, request: Request) -> (Answer, Option<QueueError>) {
        let now = now_ms();
        let unset = || QueueError::Other(String::new());
        match request {
            Request::Send {
                queue,
                messages,
                reply,
            } => {
                let result = self.send(txn, queue, messages, now);
                split(result, |r| Answer::Unit(reply, r), unset)
            }
            Request::Receive {
                queue,
                max,
                visibility_ms,
                max_receives,
                reply,
            } => {
                let result = self.receive(txn, queue, max, visibility_ms, max_receives, now);
                split(result, |r| Answer::Received(reply, r), unset)
            }
            Request::Ack {
                queue,
                key,
                id,
                reply,
            } => split(ack(txn, queue, key, &id), |r| Answer::Unit(reply, r), unset),
            Request::Append { data, reply } => {
                let seq = self.next_seq();
                let result = click_log::insert(txn, seq, now, &data)
                    .map(Ok)
                    .map_err(unavailable);
                split(result, |r| Answer::Unit(reply, r), unset)
            }
        }
    }

    fn before_commit(&mut self, txn: &WriteTransaction) -> Result<(), QueueError> {
        if self.appends > 0 {
            click_log::trim(txn, now_ms())?;
        }
        self.save_seq(txn)
    }

    fn after_batch(&mut self, committed: bool, durability: Durability) {
        if !committed {
            return;
        }
        self.lazy_commits = if matches!(durability, Durability::Immediate) {
            0
        } else {
            self.lazy_commits + 1
        };
        if self.appends > 0 {
            self.clicks_notify.notify_waiters();
            self.clicks_notify.notify_one();
        }
        for queue in std::mem::take(&mut self.woken) {
            if let Some(notify) = self.notify.get(&queue) {
                // Wake every waiting consumer, and leave a permit for one that is between
                // `receive` and `wait_for_messages`.
                notify.notify_waiters();
                notify.notify_one();
            }
        }
    }

    /// Shutting down: make the last lazy commits (receives, acks) durable too.
    fn on_shutdown(&mut self) {
        if self.lazy_commits > 0
            && let Ok(mut txn) = self.db.begin_write()
        {
            txn.set_durability(Durability::Immediate);
            let _ = txn.commit();
        }
    }
}

impl QueueWriter {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn save_seq(&self, txn: &WriteTransaction) -> Result<(), QueueError> {
        let mut meta = txn.open_table(META).map_err(db_err)?;
        meta.insert(SEQ, self.seq).map_err(db_err)?;
        Ok(())
    }

    fn send(
        &mut self,
        txn: &WriteTransaction,
        queue: QueueName,
        messages: Vec<(u64, StoredMsg)>,
        now: u64,
    ) -> Step<()> {
        let mut table = txn.open_table(tables(queue).0).map_err(db_err)?;
        for (delay_ms, msg) in messages {
            let value = match encode(&msg) {
                Ok(value) => value,
                Err(e) => return Ok(Err(e)),
            };
            let key = (now.saturating_add(delay_ms), self.next_seq());
            table.insert(key, value.as_slice()).map_err(db_err)?;
        }
        Ok(Ok(()))
    }

    fn receive(
        &mut self,
        txn: &WriteTransaction,
        queue: QueueName,
        max: usize,
        visibility_ms: u64,
        max_receives: u32,
        now: u64,
    ) -> Step<Vec<Received>> {
        let (messages, dead) = tables(queue);
        let mut table = txn.open_table(messages).map_err(db_err)?;
        // Pick the due messages first (the table cannot change while it is being scanned).
        let mut deliver = Vec::new();
        let mut bury = Vec::new();
        for entry in table.range(..=(now, u64::MAX)).map_err(db_err)? {
            let (key, value) = entry.map_err(db_err)?;
            let msg = decode(value.value()).unwrap_or_else(|| {
                // Unreadable: dead-letter it as is rather than block or drop it.
                let body = String::from_utf8_lossy(value.value()).into_owned();
                StoredMsg {
                    id: String::new(),
                    body,
                    receive_count: u32::MAX,
                }
            });
            if msg.receive_count >= max_receives {
                bury.push((key.value(), msg));
            } else {
                deliver.push((key.value(), msg));
                if deliver.len() == max {
                    break;
                }
            }
        }
        if !bury.is_empty() {
            let mut dead = txn.open_table(dead).map_err(db_err)?;
            for (key, msg) in bury {
                table.remove(key).map_err(db_err)?;
                let value = match encode(&msg) {
                    Ok(value) => value,
                    Err(e) => return Ok(Err(e)),
                };
                dead.insert(self.next_seq(), value.as_slice())
                    .map_err(db_err)?;
            }
        }
        let mut received = Vec::with_capacity(deliver.len());
        for (key, mut msg) in deliver {
            table.remove(key).map_err(db_err)?;
            msg.receive_count += 1;
            let new_key = (now.saturating_add(visibility_ms), self.next_seq());
            let value = match encode(&msg) {
                Ok(value) => value,
                Err(e) => return Ok(Err(e)),
            };
            table.insert(new_key, value.as_slice()).map_err(db_err)?;
            received.push(Received {
                receipt: receipt(new_key, &msg.id),
                message_id: msg.id,
                body: msg.body,
                receive_count: msg.receive_count,
            });
        }
        Ok(Ok(received))
    }
}

type Step<T> = group_commit::Step<T, QueueError>;

/// Deletes the message the receipt names, if it is still that delivery (else a no-op).
fn ack(txn: &WriteTransaction, queue: QueueName, key: (u64, u64), id: &str) -> Step<()> {
    let mut table = txn.open_table(tables(queue).0).map_err(db_err)?;
    let matches = match table.get(key).map_err(db_err)? {
        Some(value) => has_id(value.value(), id),
        None => false,
    };
    if matches {
        table.remove(key).map_err(db_err)?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn receipts_round_trip() {
        let r = receipt((1_700_000_000_123, 42), "0190-abc.def");
        assert_eq!(
            parse_receipt(&r),
            Some(((1_700_000_000_123, 42), "0190-abc.def".into()))
        );
        for bad in ["", "x", "1.2", "1.2.", "zz.1.id", "1.zz.id"] {
            assert_eq!(parse_receipt(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn records_round_trip_and_legacy_json_records_still_read() {
        let msg = StoredMsg {
            id: "0190-abc".into(),
            body: "{\"a\":\"é\\n\"}".into(),
            receive_count: 3,
        };
        let bytes = encode(&msg).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(
            (back.id.as_str(), back.body.as_str(), back.receive_count),
            (msg.id.as_str(), msg.body.as_str(), 3)
        );
        assert!(has_id(&bytes, "0190-abc"));
        assert!(!has_id(&bytes, "0190-abd"));

        let legacy = serde_json::to_vec(&msg).unwrap();
        let back = decode(&legacy).unwrap();
        assert_eq!(
            (back.id.as_str(), back.body.as_str(), back.receive_count),
            (msg.id.as_str(), msg.body.as_str(), 3)
        );
        assert!(has_id(&legacy, "0190-abc"));

        for bad in [
            &b""[..],
            b"\x02\x00",
            b"\x02\x00\x00\x00\x00\x09\x00ab",
            b"not json",
        ] {
            assert!(decode(bad).is_none(), "{bad:?}");
            assert!(!has_id(bad, "ab"));
        }
    }

    #[test]
    fn bodies_follow_sqs_rules() {
        assert!(validate_body("{\"a\":1}\n\t").is_ok());
        assert!(validate_body("").is_err());
        assert!(validate_body("a\u{0}b").is_err());
        assert!(validate_body(&"x".repeat(MAX_BODY_BYTES + 1)).is_err());
    }

    #[tokio::test]
    async fn malformed_receipt_is_an_error_and_delivery_stays_intact() {
        let queue = EmbeddedQueue::in_memory();
        assert!(queue.ack(QueueName::Events, "nonsense").await.is_err());
        queue
            .send(QueueName::Events, vec![OutMessage::now("m")])
            .await
            .unwrap();
        let got = queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(queue.depth(QueueName::Events).await.unwrap(), 1);
        assert_eq!(queue.depth(QueueName::Deliveries).await.unwrap(), 0);
        queue.ack(QueueName::Events, &got[0].receipt).await.unwrap();
        assert_eq!(queue.depth(QueueName::Events).await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn wait_for_messages_wakes_on_send() {
        let queue = Arc::new(EmbeddedQueue::in_memory());
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move {
                let start = std::time::Instant::now();
                queue
                    .wait_for_messages(QueueName::Events, Duration::from_secs(10))
                    .await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        queue
            .send(QueueName::Events, vec![OutMessage::now("wake")])
            .await
            .unwrap();
        let waited = waiter.await.unwrap();
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn conformance_in_memory() {
        crate::testing::conformance::run_queue_suite(
            Arc::new(EmbeddedQueue::in_memory()),
            QueueName::Events,
        )
        .await;
    }
}
