//! The embedded store: [`Store`] on a single redb file (ACID, pure Rust), so the product runs
//! locally with nothing but cargo and keeps its data across restarts.
//!
//! Layout: one table `items`, keyed by `pk ++ 0x00 ++ sk` (UTF-8 bytes), so the byte order of the
//! keys is the order of `(pk, sk)`, a partition is one contiguous key range and a sort-key prefix
//! is a sub-range. Keys therefore must not contain NUL (rejected as [`StoreError::Invalid`]).
//! Keys are also held to DynamoDB's rules (non-empty, pk ≤ 2048 bytes, sk ≤ 1024 bytes, items
//! ≤ 400 KB) so code that works here does not fail on DynamoDB.
//!
//! Value: `[format=1][has_expiry: 0|1][expires_at: i64 LE]` followed by the JSON of
//! `{doc, counters, version}`; the fixed header lets [`EmbeddedStore::purge_expired`] find expired
//! items without parsing documents.
//!
//! Writes use group commit: redb runs one write transaction at a time and every durable commit
//! costs an fsync, so all writes go through one writer thread that takes every pending request
//! (up to [`MAX_BATCH`]), applies them in order in ONE write transaction and commits once. Each
//! request checks its own conditions against the state including the earlier requests of the
//! batch and is applied only if they all hold, so no rollback is needed and every request keeps
//! exactly the semantics of a lone conditional write. Callers are answered only after the
//! commit is durable, but for [`Store::write_lazily`]: a batch of lazy writes alone commits
//! without an fsync (`Durability::None`) and becomes durable with the next durable commit (every
//! [`MAX_LAZY_COMMITS`]th is made durable anyway, so redb can reuse freed pages, and the last
//! ones at shutdown). Reads use their own read transactions on the blocking pool.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, Durability, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::group_commit::{self, Apply, Writer, split};
use super::validate::{validate_key, validate_op, validate_query, validate_transact};
use super::{Cond, CounterCap, Item, Page, Query, SkRange, Store, StoreError, WriteOp, now_unix};

const ITEMS: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("items");

/// The most requests one write transaction (one fsync) carries.
pub const MAX_BATCH: usize = 256;
/// Lazy commits in a row before one is made durable anyway: redb frees pages only at durable
/// commits, so a long run of lazy ones (a flood of refused requests) would grow the file.
pub const MAX_LAZY_COMMITS: u32 = 64;
/// Queued write requests before `write` callers wait (async backpressure).
const CHANNEL_CAPACITY: usize = 4096;
pub use super::validate::{MAX_ITEM_BYTES, MAX_PK_BYTES, MAX_SK_BYTES};
/// Keys collected per purge round (bounds the time one purge holds the writer).
const PURGE_CHUNK: usize = 1000;
/// How many expired entries a query skips while checking whether a full page has a successor.
const LOOKAHEAD: usize = 100;

const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 10;

/// redb's page cache (its default is 1 GiB, which a busy local server fills: the OS page cache
/// keeps recently used pages anyway, outside the process). Keeps `tenx serve` within its memory
/// target under load (BENCHMARKS.md).
pub const CACHE_BYTES: usize = 8 * 1024 * 1024;

/// [`Store`] on redb. Cheap to share behind an `Arc`; dropping it stops the writer thread
/// (after it has answered every queued request) and closes the file.
pub struct EmbeddedStore {
    db: Arc<Database>,
    writer: Writer<Request>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store file at `path`. Every accepted write is fsynced
    /// before the call that made it returns.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        create_parent(path).map_err(db_err)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(db_err)?;
        Self::start(db)
    }

    /// A store held in memory (same code path as a file; for tests).
    pub fn in_memory() -> Self {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("creating an in-memory redb database");
        Self::start(db).expect("starting an in-memory store")
    }

    fn start(db: Database) -> Result<Self, StoreError> {
        // Create the table up front so read transactions always find it.
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(ITEMS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;

        let db = Arc::new(db);
        let owner = StoreWriter {
            db: db.clone(),
            lazy_commits: 0,
        };
        let writer = Writer::spawn("embedded-store-writer", owner, CHANNEL_CAPACITY, MAX_BATCH)
            .map_err(|e| StoreError::Other(format!("spawning the store writer: {e}")))?;
        Ok(Self { db, writer })
    }

    /// Physically deletes expired items (readers already ignore them); returns how many.
    /// Meant to be called periodically by the server. Scans in chunks with read transactions and
    /// hands the deletes to the writer, which re-checks expiry, so it never loses a rewrite.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let now = now_unix();
            let from = after.clone();
            let keys = self
                .read(move |db| expired_keys(db, from.as_deref(), now))
                .await?;
            let Some(last) = keys.last().cloned() else {
                break;
            };
            let full = keys.len() == PURGE_CHUNK;
            total += self.submit(|reply| Request::Purge { keys, reply }).await?;
            if !full {
                break;
            }
            after = Some(last);
        }
        Ok(total)
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        group_commit::read(&self.db, f, StoreError::Other).await
    }

    async fn submit<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Request,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::Unavailable("the store writer has stopped".into());
        self.writer.submit(make, stopped).await
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        validate_key(pk, sk)?;
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.read(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(ITEMS).map_err(db_err)?;
            let raw = table.get(encode_key(&pk, &sk).as_slice()).map_err(db_err)?;
            match raw {
                Some(raw) => decode_live(&pk, &sk, raw.value(), now_unix()),
                None => Ok(None),
            }
        })
        .await
    }

    async fn write(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        validate_op(&op)?;
        self.submit(|reply| Request::Write {
            op,
            lazy: false,
            reply,
        })
        .await
    }

    async fn write_lazily(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        validate_op(&op)?;
        self.submit(|reply| Request::Write {
            op,
            lazy: true,
            reply,
        })
        .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transact(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        self.submit(|reply| Request::Transact { ops, reply }).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate_query(&query)?;
        self.read(move |db| run_query(db, &query, now_unix())).await
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn encode_key(pk: &str, sk: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(pk.len() + 1 + sk.len());
    key.extend_from_slice(pk.as_bytes());
    key.push(0);
    key.extend_from_slice(sk.as_bytes());
    key
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[derive(Serialize)]
struct BodyRef<'a> {
    doc: &'a serde_json::Value,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    counters: &'a BTreeMap<String, crate::platform::store::Count>,
    version: u64,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    doc: serde_json::Value,
    #[serde(default)]
    counters: BTreeMap<String, crate::platform::store::Count>,
    #[serde(default)]
    version: u64,
}

fn encode_value(item: &Item) -> Result<Vec<u8>, StoreError> {
    let mut value = Vec::with_capacity(64);
    value.push(FORMAT_V1);
    value.push(u8::from(item.expires_at.is_some()));
    value.extend_from_slice(&item.expires_at.unwrap_or(0).to_le_bytes());
    let body = BodyRef {
        doc: &item.doc,
        counters: &item.counters,
        version: item.version,
    };
    serde_json::to_writer(&mut value, &body)
        .map_err(|e| StoreError::Invalid(format!("{}/{}: {e}", item.pk, item.sk)))?;
    if value.len() > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "{}/{}: item of {} bytes exceeds {MAX_ITEM_BYTES}",
            item.pk,
            item.sk,
            value.len()
        )));
    }
    Ok(value)
}

/// The expiry stored in a value's header (`Err` for an unreadable header).
fn header_expiry(value: &[u8]) -> Result<Option<i64>, ()> {
    match value {
        [FORMAT_V1, flag, rest @ ..] if rest.len() >= 8 => {
            let at = i64::from_le_bytes(rest[..8].try_into().map_err(|_| ())?);
            Ok((*flag != 0).then_some(at))
        }
        _ => Err(()),
    }
}

fn decode_value(pk: &str, sk: &str, value: &[u8]) -> Result<Item, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(format!("{pk}/{sk}: {why}"));
    let expires_at = header_expiry(value).map_err(|()| corrupt("bad record header".into()))?;
    let body: Body =
        serde_json::from_slice(&value[HEADER_LEN..]).map_err(|e| corrupt(e.to_string()))?;
    Ok(Item {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
        doc: body.doc,
        counters: body.counters,
        version: body.version,
        expires_at,
    })
}

/// The item, unless it has expired at `now` (readers treat expired items as absent).
fn decode_live(pk: &str, sk: &str, value: &[u8], now: i64) -> Result<Option<Item>, StoreError> {
    let item = decode_value(pk, sk, value)?;
    Ok((!item.is_expired(now)).then_some(item))
}

/// Creates the directory a database file goes in (e.g. `.tenx/`), if missing.
pub(crate) fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::Io(_)
        | redb::Error::PreviousIo
        | redb::Error::DatabaseAlreadyOpen
        | redb::Error::LockPoisoned(_) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

/// The raw key bounds a query scans.
fn query_bounds(q: &Query) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    use Bound::{Excluded, Included, Unbounded};
    let key = |sk: &str| encode_key(&q.pk, sk);
    let open_end = |start: &[u8]| prefix_end(start).map_or(Unbounded, Excluded);
    let (mut lo, mut hi) = match &q.range {
        SkRange::All => (Included(key("")), open_end(&key(""))),
        SkRange::Prefix(p) => (Included(key(p)), open_end(&key(p))),
        SkRange::Between(from, to) => (Included(key(from)), Included(key(to))),
    };
    if let Some(after) = &q.after {
        let after = key(after);
        if q.descending {
            let tighter = match &hi {
                Unbounded => true,
                Included(end) => after <= *end,
                Excluded(end) => after < *end,
            };
            if tighter {
                hi = Excluded(after);
            }
        } else {
            let tighter = match &lo {
                Unbounded => true,
                Included(start) | Excluded(start) => after >= *start,
            };
            if tighter {
                lo = Excluded(after);
            }
        }
    }
    (lo, hi)
}

fn is_empty_range(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    use Bound::{Excluded, Included, Unbounded};
    match (lo, hi) {
        (Unbounded, _) | (_, Unbounded) => false,
        (Included(a), Included(b)) => a > b,
        (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a >= b,
    }
}

fn as_slice_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

type Entry<'a> = Result<
    (
        redb::AccessGuard<'a, &'static [u8]>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

fn run_query(db: &Database, q: &Query, now: i64) -> Result<Page, StoreError> {
    let (lo, hi) = query_bounds(q);
    if is_empty_range(&lo, &hi) {
        return Ok(Page::default());
    }
    let txn = db.begin_read().map_err(db_err)?;
    let table = txn.open_table(ITEMS).map_err(db_err)?;
    let range = table
        .range::<&[u8]>((as_slice_bound(&lo), as_slice_bound(&hi)))
        .map_err(db_err)?;
    if q.descending {
        collect_page(range.rev(), q, now)
    } else {
        collect_page(range, q, now)
    }
}

fn collect_page<'a>(
    mut entries: impl Iterator<Item = Entry<'a>>,
    q: &Query,
    now: i64,
) -> Result<Page, StoreError> {
    let prefix_len = q.pk.len() + 1;
    let mut items = Vec::new();
    for entry in entries.by_ref() {
        let (key, value) = entry.map_err(db_err)?;
        let sk = std::str::from_utf8(key.value().get(prefix_len..).unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(format!("{}: sort key: {e}", q.pk)))?;
        if let Some(item) = decode_live(&q.pk, sk, value.value(), now)? {
            items.push(item);
            if items.len() == q.limit {
                break;
            }
        }
    }
    // Report a successor only if a live item follows (a long run of expired ones counts too).
    let mut more = false;
    if items.len() == q.limit {
        for entry in entries.take(LOOKAHEAD + 1).enumerate() {
            let (i, entry) = entry;
            let (_, value) = entry.map_err(db_err)?;
            let expired = matches!(header_expiry(value.value()), Ok(Some(at)) if at <= now);
            if !expired || i == LOOKAHEAD {
                more = true;
                break;
            }
        }
    }
    let next = if more {
        items.last().map(|item| item.sk.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Up to [`PURGE_CHUNK`] keys (after `after`) whose items have expired at `now`.
fn expired_keys(db: &Database, after: Option<&[u8]>, now: i64) -> Result<Vec<Vec<u8>>, StoreError> {
    let txn = db.begin_read().map_err(db_err)?;
    let table = txn.open_table(ITEMS).map_err(db_err)?;
    let lo = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut keys = Vec::new();
    for entry in table
        .range::<&[u8]>((lo, Bound::Unbounded))
        .map_err(db_err)?
    {
        let (key, value) = entry.map_err(db_err)?;
        if matches!(header_expiry(value.value()), Ok(Some(at)) if at <= now) {
            keys.push(key.value().to_vec());
            if keys.len() == PURGE_CHUNK {
                break;
            }
        }
    }
    Ok(keys)
}

// ---------------------------------------------------------------------------------------------
// The writer thread

enum Request {
    Write {
        op: WriteOp,
        /// Durable with the next durable commit ([`Store::write_lazily`]).
        lazy: bool,
        reply: oneshot::Sender<Result<Option<Item>, StoreError>>,
    },
    Transact {
        ops: Vec<WriteOp>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Purge {
        keys: Vec<Vec<u8>>,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
}

/// A request's outcome, held until the batch is committed.
enum Answer {
    Write(
        oneshot::Sender<Result<Option<Item>, StoreError>>,
        Result<Option<Item>, StoreError>,
    ),
    Transact(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
    Purge(
        oneshot::Sender<Result<usize, StoreError>>,
        Result<usize, StoreError>,
    ),
}

impl group_commit::Answer<StoreError> for Answer {
    fn fail(self, err: &StoreError) -> Self {
        let err = || match err {
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            StoreError::Other(m) => StoreError::Other(m.clone()),
            other => StoreError::Other(other.to_string()),
        };
        match self {
            Answer::Write(reply, _) => Answer::Write(reply, Err(err())),
            Answer::Transact(reply, _) => Answer::Transact(reply, Err(err())),
            Answer::Purge(reply, _) => Answer::Purge(reply, Err(err())),
        }
    }

    fn send(self) {
        let _ = match self {
            Answer::Write(reply, result) => reply.send(result).map_err(drop),
            Answer::Transact(reply, result) => reply.send(result).map_err(drop),
            Answer::Purge(reply, result) => reply.send(result).map_err(drop),
        };
    }
}

type ItemTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

type Step<T> = group_commit::Step<T, StoreError>;

/// The store's side of the group-commit writer: every batch is durable (fsynced) unless it
/// holds lazy writes only.
struct StoreWriter {
    db: Arc<Database>,
    /// Lazy commits since the last durable one.
    lazy_commits: u32,
}

impl Apply for StoreWriter {
    type Request = Request;
    type Error = StoreError;
    type Answer = Answer;

    fn db(&self) -> &Database {
        &self.db
    }

    fn db_error(e: redb::Error) -> StoreError {
        db_err(e)
    }

    fn pending(request: Request) -> Answer {
        let unset = || StoreError::Other("batch aborted".into());
        match request {
            Request::Write { reply, .. } => Answer::Write(reply, Err(unset())),
            Request::Transact { reply, .. } => Answer::Transact(reply, Err(unset())),
            Request::Purge { reply, .. } => Answer::Purge(reply, Err(unset())),
        }
    }

    fn durability(&mut self, batch: &[Request]) -> Durability {
        let lazy = batch
            .iter()
            .all(|r| matches!(r, Request::Write { lazy: true, .. }));
        if lazy && self.lazy_commits < MAX_LAZY_COMMITS {
            Durability::None
        } else {
            Durability::Immediate
        }
    }

    fn after_batch(&mut self, committed: bool, durability: Durability) {
        if committed {
            self.lazy_commits = match durability {
                Durability::None => self.lazy_commits + 1,
                _ => 0,
            };
        }
    }

    /// Shutting down: make the last lazy commits durable too.
    fn on_shutdown(&mut self) {
        if self.lazy_commits > 0
            && let Ok(mut txn) = self.db.begin_write()
        {
            txn.set_durability(Durability::Immediate);
            let _ = txn.commit();
        }
    }

    fn apply(&mut self, txn: &WriteTransaction, request: Request) -> (Answer, Option<StoreError>) {
        use group_commit::Answer as _;
        let mut table = match txn.open_table(ITEMS) {
            Ok(table) => table,
            Err(e) => {
                let err = db_err(e);
                return (Self::pending(request).fail(&err), Some(err));
            }
        };
        let now = now_unix();
        let unset = || StoreError::Other(String::new());
        match request {
            Request::Write { op, reply, .. } => split(
                write_one(&mut table, op, now),
                |r| Answer::Write(reply, r),
                unset,
            ),
            Request::Transact { ops, reply } => split(
                transact_all(&mut table, ops, now),
                |r| Answer::Transact(reply, r),
                unset,
            ),
            Request::Purge { keys, reply } => split(
                purge(&mut table, keys, now),
                |r| Answer::Purge(reply, r),
                unset,
            ),
        }
    }
}

/// What an accepted write does to its key.
enum Effect {
    Put {
        item: Item,
        value: Vec<u8>,
    },
    Delete,
    /// A `Check` that held: nothing written.
    Keep,
}

fn load(table: &ItemTable<'_>, pk: &str, sk: &str, now: i64) -> Step<Option<Item>> {
    let raw = table.get(encode_key(pk, sk).as_slice()).map_err(db_err)?;
    Ok(match raw {
        Some(raw) => decode_live(pk, sk, raw.value(), now),
        None => Ok(None),
    })
}

fn store_effect(table: &mut ItemTable<'_>, key: &[u8], effect: &Effect) -> Result<(), StoreError> {
    match effect {
        Effect::Put { value, .. } => table.insert(key, value.as_slice()).map(drop),
        Effect::Delete => table.remove(key).map(drop),
        Effect::Keep => Ok(()),
    }
    .map_err(db_err)
}

fn write_one(table: &mut ItemTable<'_>, op: WriteOp, now: i64) -> Step<Option<Item>> {
    let key = {
        let (pk, sk) = op.key();
        encode_key(pk, sk)
    };
    let current = match load(table, op.key().0, op.key().1, now)? {
        Ok(current) => current,
        Err(e) => return Ok(Err(e)),
    };
    match plan(op, current) {
        Err(e) => Ok(Err(e)),
        Ok(effect) => {
            store_effect(table, &key, &effect)?;
            Ok(Ok(match effect {
                Effect::Put { item, .. } => Some(item),
                Effect::Delete | Effect::Keep => None,
            }))
        }
    }
}

fn transact_all(table: &mut ItemTable<'_>, ops: Vec<WriteOp>, now: i64) -> Step<()> {
    // Check every operation first (keys are distinct, so they cannot affect each other), then
    // apply them all: nothing is written unless every condition holds.
    let mut effects = Vec::with_capacity(ops.len());
    for (index, op) in ops.into_iter().enumerate() {
        let key = encode_key(op.key().0, op.key().1);
        let current = match load(table, op.key().0, op.key().1, now)? {
            Ok(current) => current,
            Err(e) => return Ok(Err(e)),
        };
        match plan(op, current) {
            Ok(effect) => effects.push((key, effect)),
            Err(StoreError::ConditionFailed { current }) => {
                return Ok(Err(StoreError::TxConflict { index, current }));
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    for (key, effect) in &effects {
        store_effect(table, key, effect)?;
    }
    Ok(Ok(()))
}

fn purge(table: &mut ItemTable<'_>, keys: Vec<Vec<u8>>, now: i64) -> Step<usize> {
    let mut purged = 0;
    for key in keys {
        // Re-check: the item may have been rewritten since the scan.
        let expired = match table.get(key.as_slice()).map_err(db_err)? {
            Some(value) => matches!(header_expiry(value.value()), Ok(Some(at)) if at <= now),
            None => false,
        };
        if expired {
            table.remove(key.as_slice()).map_err(db_err)?;
            purged += 1;
        }
    }
    Ok(Ok(purged))
}

fn condition_failed(current: Option<Item>) -> StoreError {
    StoreError::ConditionFailed {
        current: current.map(Box::new),
    }
}

fn check(cond: &Cond, current: &Option<Item>) -> Result<(), StoreError> {
    let holds = match cond {
        Cond::None => true,
        Cond::Absent => current.is_none(),
        Cond::Exists => current.is_some(),
        Cond::Version(v) => current.as_ref().is_some_and(|item| item.version == *v),
    };
    if holds {
        Ok(())
    } else {
        Err(condition_failed(current.clone()))
    }
}

/// Decides what `op` does given the live item at its key, or why it fails.
fn plan(op: WriteOp, current: Option<Item>) -> Result<Effect, StoreError> {
    match op {
        WriteOp::Put { item, cond } => {
            check(&cond, &current)?;
            let value = encode_value(&item)?;
            Ok(Effect::Put { item, value })
        }
        WriteOp::Delete { cond, .. } => {
            check(&cond, &current)?;
            Ok(Effect::Delete)
        }
        WriteOp::Check { cond, .. } => {
            check(&cond, &current)?;
            Ok(Effect::Keep)
        }
        WriteOp::SetDoc { mut item, cond } => {
            check(&cond, &current)?;
            // The counters stay as they are now, whatever the caller read, plus its deltas.
            let mut counters = current.map(|c| c.counters).unwrap_or_default();
            for (name, delta) in std::mem::take(&mut item.counters) {
                let slot = counters.entry(name).or_insert(0);
                *slot = slot.checked_add(delta).ok_or_else(|| {
                    StoreError::Invalid(format!("counter overflow on {}/{}", item.pk, item.sk))
                })?;
            }
            item.counters = counters;
            let value = encode_value(&item)?;
            Ok(Effect::Put { item, value })
        }
        WriteOp::Add {
            pk,
            sk,
            deltas,
            cap,
            expires_at,
        } => {
            if let Some(CounterCap { counter, max }) = &cap {
                let now = current
                    .as_ref()
                    .map_or(0, |item| item.counter_wide(counter));
                let delta = deltas
                    .iter()
                    .find(|(n, _)| n == counter)
                    .map_or(0, |(_, d)| *d);
                if now.saturating_add(delta) > i128::from(*max) {
                    return Err(condition_failed(current));
                }
            }
            let mut item = current.unwrap_or_else(|| Item::new(pk, sk, serde_json::Value::Null));
            for (name, delta) in deltas {
                let slot = item.counters.entry(name).or_insert(0);
                *slot = slot.checked_add(delta).ok_or_else(|| {
                    StoreError::Invalid(format!("counter overflow on {}/{}", item.pk, item.sk))
                })?;
            }
            if expires_at.is_some() {
                item.expires_at = expires_at;
            }
            let value = encode_value(&item)?;
            Ok(Effect::Put { item, value })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn q(range: SkRange, after: Option<&str>, descending: bool) -> Query {
        Query {
            pk: "p".into(),
            range,
            limit: 10,
            after: after.map(Into::into),
            descending,
        }
    }

    #[test]
    fn keys_order_by_pk_then_sk() {
        assert!(encode_key("a", "z") < encode_key("ab", "a"));
        assert!(encode_key("a", "b") < encode_key("a", "ba"));
        assert_eq!(prefix_end(b"ab\xff\xff"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"\xff"), None);
    }

    #[test]
    fn after_tightens_the_right_bound() {
        let (lo, hi) = query_bounds(&q(SkRange::Prefix("x#".into()), Some("x#5"), false));
        assert_eq!(lo, Bound::Excluded(encode_key("p", "x#5")));
        assert_eq!(hi, Bound::Excluded(encode_key("p", "x$")));
        let (lo, hi) = query_bounds(&q(
            SkRange::Between("b".into(), "d".into()),
            Some("c"),
            true,
        ));
        assert_eq!(lo, Bound::Included(encode_key("p", "b")));
        assert_eq!(hi, Bound::Excluded(encode_key("p", "c")));
        // Resuming past the end of the range yields an empty range, not a panic.
        let (lo, hi) = query_bounds(&q(
            SkRange::Between("b".into(), "d".into()),
            Some("e"),
            false,
        ));
        assert!(is_empty_range(&lo, &hi));
    }

    #[test]
    fn value_round_trips() {
        let mut item = Item::new("p", "s", serde_json::json!({"a": [1, 2]}))
            .with_version(4)
            .expiring_at(Some(-5));
        item.counters.insert("clicks".into(), 7);
        let value = encode_value(&item).unwrap();
        assert_eq!(header_expiry(&value), Ok(Some(-5)));
        assert_eq!(decode_value("p", "s", &value).unwrap(), item);
        assert!(decode_value("p", "s", b"garbage").is_err());
    }

    #[tokio::test]
    async fn rejects_bad_input() {
        let store = EmbeddedStore::in_memory();
        for (pk, sk) in [("a\0b", "s"), ("p", "s\0"), ("", "s"), ("p", "")] {
            let err = store.get(pk, sk).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid(_)),
                "{pk:?}/{sk:?}: {err:?}"
            );
        }
        let add = |name: &str| WriteOp::Add {
            pk: "p".into(),
            sk: "s".into(),
            deltas: vec![(name.into(), 1)],
            cap: None,
            expires_at: None,
        };
        assert!(matches!(
            store.write(add("Bad-Name")).await,
            Err(StoreError::Invalid(_))
        ));
        let big = Item::new(
            "p",
            "s",
            serde_json::Value::String("x".repeat(MAX_ITEM_BYTES)),
        );
        let put = WriteOp::Put {
            item: big,
            cond: Cond::None,
        };
        assert!(matches!(
            store.write(put).await,
            Err(StoreError::Invalid(_))
        ));
        let mut query = q(SkRange::Between("b".into(), "a".into()), None, false);
        assert!(matches!(
            store.query(query.clone()).await,
            Err(StoreError::Invalid(_))
        ));
        query.range = SkRange::All;
        query.limit = 0;
        assert!(matches!(
            store.query(query).await,
            Err(StoreError::Invalid(_))
        ));
        // The store still works after rejecting all of that.
        assert!(store.write(add("ok")).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn purge_removes_only_expired_items() {
        let store = EmbeddedStore::in_memory();
        let now = now_unix();
        for (sk, at) in [("a", Some(now - 1)), ("b", Some(now + 3600)), ("c", None)] {
            let item = Item::new("p", sk, serde_json::Value::Null).expiring_at(at);
            store
                .write(WriteOp::Put {
                    item,
                    cond: Cond::None,
                })
                .await
                .unwrap();
        }
        assert_eq!(store.purge_expired().await.unwrap(), 1);
        assert_eq!(store.purge_expired().await.unwrap(), 0);
        let txn = store.db.begin_read().unwrap();
        assert_eq!(
            redb::ReadableTableMetadata::len(&txn.open_table(ITEMS).unwrap()).unwrap(),
            2
        );
    }

    /// redb's in-memory backend, counting the syncs (fsyncs, on a file) its commits ask for.
    #[derive(Debug)]
    struct CountingSyncs {
        inner: redb::backends::InMemoryBackend,
        syncs: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl redb::StorageBackend for CountingSyncs {
        fn len(&self) -> std::io::Result<u64> {
            self.inner.len()
        }
        fn read(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
            self.inner.read(offset, len)
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            self.inner.set_len(len)
        }
        fn sync_data(&self, eventual: bool) -> std::io::Result<()> {
            self.syncs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.sync_data(eventual)
        }
        fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            self.inner.write(offset, data)
        }
    }

    fn counting_syncs() -> (EmbeddedStore, impl Fn() -> usize) {
        let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let backend = CountingSyncs {
            inner: redb::backends::InMemoryBackend::new(),
            syncs: syncs.clone(),
        };
        let db = Database::builder().create_with_backend(backend).unwrap();
        let store = EmbeddedStore::start(db).unwrap();
        (store, move || {
            syncs.load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    fn put(sk: &str, cond: Cond) -> WriteOp {
        WriteOp::Put {
            item: Item::new("p", sk, serde_json::json!({ "sk": sk })),
            cond,
        }
    }

    #[tokio::test]
    async fn lazy_writes_commit_without_a_sync_and_the_next_durable_write_syncs_them() {
        let (store, syncs) = counting_syncs();
        let before = syncs();
        for sk in ["a", "b", "c"] {
            store.write_lazily(put(sk, Cond::Absent)).await.unwrap();
        }
        assert_eq!(syncs(), before, "lazy writes alone ask for no sync");
        assert!(
            store.get("p", "b").await.unwrap().is_some(),
            "a lazy write is read at once"
        );
        store.write(put("d", Cond::Absent)).await.unwrap();
        assert!(
            syncs() > before,
            "a durable write syncs, the lazy ones before it with it"
        );
    }

    #[tokio::test]
    async fn a_lazy_write_keeps_its_conditions_and_answer() {
        let (store, _) = counting_syncs();
        store.write_lazily(put("a", Cond::Absent)).await.unwrap();
        let refused = store.write_lazily(put("a", Cond::Absent)).await;
        assert!(
            matches!(refused, Err(StoreError::ConditionFailed { .. })),
            "{refused:?}"
        );
        let counted = store
            .write_lazily(WriteOp::Add {
                pk: "p".into(),
                sk: "n".into(),
                deltas: vec![("n".to_owned(), 2)],
                cap: None,
                expires_at: None,
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(counted.counter("n"), 2);
    }

    #[tokio::test]
    async fn a_long_run_of_lazy_commits_is_made_durable_now_and_then_and_at_shutdown() {
        let (store, syncs) = counting_syncs();
        let before = syncs();
        for n in 0..=MAX_LAZY_COMMITS {
            store
                .write_lazily(put(&n.to_string(), Cond::None))
                .await
                .unwrap();
        }
        let during = syncs();
        assert!(
            during > before,
            "the {MAX_LAZY_COMMITS}th lazy commit in a row is durable"
        );
        store.write_lazily(put("last", Cond::None)).await.unwrap();
        assert_eq!(syncs(), during);
        drop(store);
        assert!(
            syncs() > during,
            "shutting down makes the last lazy commit durable"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn conformance_in_memory() {
        crate::testing::conformance::run_store_suite(Arc::new(EmbeddedStore::in_memory())).await;
    }
}
