//! The storage seam: a small item store with DynamoDB's semantics, so every capability is written
//! once against this trait and runs unchanged on the embedded store and on DynamoDB.
//!
//! Model: items addressed by a partition key (`pk`) and a sort key (`sk`), carrying a JSON
//! document, named atomic counters, a caller-managed `version` and an optional expiry (unix
//! seconds; the DynamoDB TTL attribute). Every read ignores expired items, because DynamoDB
//! deletes them lazily. Key layout per item type: `docs/storage.md`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use async_trait::async_trait;

pub mod embedded;
pub(crate) mod group_commit;
pub mod keys;
pub mod validate;

/// The most operations one [`Store::transact`] call may carry (DynamoDB's limit).
pub const MAX_TRANSACT_OPS: usize = 100;

/// A counter's value or delta: i128, so that no sum of accepted money (each conversion capped by
/// `TENX_MAX_CONVERSION_VALUE`, at most 10^15 micro-units) can overflow. DynamoDB numbers hold
/// 38 digits; i128 parses all of them.
pub type Count = i128;

/// One stored item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// The entity, as JSON (`Value::Null` for pure counter items).
    pub doc: serde_json::Value,
    /// Atomic counters; names match `[a-z0-9_]+`. Wide (i128) so sums of money in micro-units
    /// have room (issue 28); every backend adds them with checked arithmetic.
    pub counters: BTreeMap<String, Count>,
    /// Caller-managed version for optimistic concurrency (see [`Cond::Version`]).
    pub version: u64,
    /// Unix seconds after which the item no longer exists for readers.
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, doc: serde_json::Value) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            doc,
            ..Self::default()
        }
    }

    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    pub fn expiring_at(mut self, unix_secs: Option<i64>) -> Self {
        self.expires_at = unix_secs;
        self
    }

    /// True when the item has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// A count (clicks, signals, …): clamped to i64, which no count can reach.
    pub fn counter(&self, name: &str) -> i64 {
        let wide = self.counter_wide(name);
        i64::try_from(wide).unwrap_or(if wide < 0 { i64::MIN } else { i64::MAX })
    }

    /// A counter at full width (money in micro-units).
    pub fn counter_wide(&self, name: &str) -> Count {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// Deserializes the document.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.doc.clone())
            .map_err(|e| StoreError::Corrupt(format!("{}/{}: {e}", self.pk, self.sk)))
    }
}

/// A precondition on the live (unexpired) item at the written key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// No precondition.
    None,
    /// No live item exists (a missing or expired item both qualify).
    Absent,
    /// A live item exists.
    Exists,
    /// A live item exists and its version equals this one.
    Version(u64),
}

/// A cap checked atomically with an increment: the write succeeds only if
/// `current(counter) + delta(counter) <= max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterCap {
    pub counter: String,
    pub max: i64,
}

/// One write.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    /// Replace the whole item.
    Put { item: Item, cond: Cond },
    /// Delete the item (deleting a missing item with `Cond::None` succeeds).
    Delete { pk: String, sk: String, cond: Cond },
    /// Add `deltas` to counters, creating the item (with a null doc) if absent (DynamoDB
    /// `UpdateItem ADD`). `expires_at`, when set, is written too. Keys written with `Add` must not
    /// be reused after they expire (put a time window in the key), because DynamoDB may still
    /// hold the expired item.
    Add {
        pk: String,
        sk: String,
        deltas: Vec<(String, Count)>,
        cap: Option<CounterCap>,
        expires_at: Option<i64>,
    },
    /// Writes nothing: the transaction commits only if `cond` holds for the item at this key
    /// (DynamoDB's `ConditionCheck`). Only inside a transaction, never with `Cond::None`: it ties
    /// a write to the state of an item it does not change (a payout's settlement to the absence
    /// of a batch's claim on it, and a claim to the payout it read, issue 57).
    Check { pk: String, sk: String, cond: Cond },
    /// Replace an existing item's document, version and expiry, keeping its counters and adding
    /// `item.counters` to them as deltas (DynamoDB `UpdateItem SET … ADD …`): a record whose
    /// counters other writers add to unconditionally (a customer's) changes its document without
    /// losing an add that commits meanwhile, and a transaction that also adds to it carries the
    /// add here (an item is named once per transaction). Only inside a transaction, and only
    /// with `Cond::Version` or `Cond::Exists`.
    SetDoc { item: Item, cond: Cond },
}

impl WriteOp {
    pub fn key(&self) -> (&str, &str) {
        match self {
            WriteOp::Put { item, .. } | WriteOp::SetDoc { item, .. } => (&item.pk, &item.sk),
            WriteOp::Delete { pk, sk, .. }
            | WriteOp::Add { pk, sk, .. }
            | WriteOp::Check { pk, sk, .. } => (pk, sk),
        }
    }
}

/// Which sort keys a query reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkRange {
    /// Every item of the partition.
    All,
    /// Sort keys starting with this prefix.
    Prefix(String),
    /// Sort keys in `[from, to]`, both inclusive.
    Between(String, String),
}

/// Where a list lives: the partition and the sort-key prefix a page reads, and in which
/// order. Built by the service that owns the items (the only place that knows their keys); the
/// HTTP edge adds the page's size and cursor.
#[derive(Clone, Debug)]
pub struct Listing {
    pub pk: String,
    pub prefix: &'static str,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub range: SkRange,
    /// At most this many items per page (1..=1000).
    pub limit: usize,
    /// Resume after this sort key (exclusive), as returned in [`Page::next`].
    pub after: Option<String>,
    pub descending: bool,
}

impl Query {
    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>, limit: usize) -> Self {
        Self {
            pk: pk.into(),
            range: SkRange::Prefix(prefix.into()),
            limit,
            after: None,
            descending: false,
        }
    }

    /// Every item of the partition, in pages of the most a query returns.
    pub fn all(pk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            range: SkRange::All,
            limit: MAX_PAGE,
            after: None,
            descending: false,
        }
    }

    /// The sort keys in `[from, to]`, in pages of the most a query returns.
    pub fn between(pk: impl Into<String>, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            range: SkRange::Between(from.into(), to.into()),
            ..Self::all(pk)
        }
    }
}

/// The most items one query page holds (DynamoDB stops at 1 MB before that on large items).
pub const MAX_PAGE: usize = 1000;

/// Reads every page of `query` in order, handing each item to `each` until it breaks: one
/// query round trip per page. The one paginating loop for readers that need a whole range.
pub async fn for_each_item<E: From<StoreError>>(
    store: &dyn Store,
    mut query: Query,
    mut each: impl FnMut(&Item) -> Result<ControlFlow<()>, E>,
) -> Result<(), E> {
    loop {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            if each(item)?.is_break() {
                return Ok(());
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(()),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// The sort key to resume after, when more items may follow.
    pub next: Option<String>,
}

impl Page {
    /// Its items read as `T`, and where the next page starts (a listing's usual answer).
    pub fn parsed<T: serde::de::DeserializeOwned>(
        self,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let items = self
            .items
            .iter()
            .map(Item::parse::<T>)
            .collect::<Result<_, _>>()?;
        Ok((items, self.next))
    }
}

/// Writes `item` whatever stands at its key (last writer wins): ONE write.
pub async fn put(store: &dyn Store, item: Item) -> Result<(), StoreError> {
    let put = WriteOp::Put {
        item,
        cond: Cond::None,
    };
    store.write(put).await.map(|_| ())
}

/// Writes `item` only where none is: ONE conditional write. `Ok(false)`: one was there.
pub async fn put_new(store: &dyn Store, item: Item) -> Result<bool, StoreError> {
    let put = WriteOp::Put {
        item,
        cond: Cond::Absent,
    };
    match store.write(put).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A single write's condition (or counter cap) did not hold. `current` is the live item at
    /// that key, when the backend returned it with the failure (no second read needed).
    #[error("condition failed")]
    ConditionFailed { current: Option<Box<Item>> },
    /// A transaction was cancelled because the condition of operation `index` did not hold.
    #[error("transaction cancelled by operation {index}")]
    TxConflict {
        index: usize,
        current: Option<Box<Item>>,
    },
    /// The backend is overloaded or unreachable and retries were exhausted (maps to 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored document could not be read.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    /// The request itself was invalid (a bug in the caller).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// A query's `after` (a client's pagination cursor) lies outside the query's key range or
    /// DynamoDB's key limits: the client's mistake (400), not ours.
    #[error("bad cursor: {0}")]
    BadCursor(String),
    #[error("store error: {0}")]
    Other(String),
}

/// The storage seam. All reads are strongly consistent and skip expired items.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;

    /// One conditional write. Returns the item as written (for `Add`, with the counters after the
    /// increment); `None` for a delete.
    async fn write(&self, op: WriteOp) -> Result<Option<Item>, StoreError>;

    /// [`Store::write`] of a write whose loss in a crash costs nothing but a repeat: a rate
    /// window's count (a crash forgets the requests counted since the last durable commit) or an
    /// outbox entry's confirmation (a lost one re-sends its event once, which consumers dedupe).
    /// An engine may make it durable with its next durable commit instead of its own; what the
    /// write does, its conditions and its answer are [`Store::write`]'s. Engines whose every
    /// write is durable (DynamoDB) keep this default.
    async fn write_lazily(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        self.write(op).await
    }

    /// All or nothing, at most [`MAX_TRANSACT_OPS`] operations on distinct keys.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    async fn query(&self, query: Query) -> Result<Page, StoreError>;
}

/// A value as a stored document. Serialization fails only for maps with non-string keys or a
/// failing `Serialize` impl: reported (as a caller bug), never stored as a blank.
pub fn to_doc<T: serde::Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value)
        .map_err(|e| StoreError::Invalid(format!("unencodable document: {e}")))
}

/// Current time in unix seconds.
pub fn now_unix() -> i64 {
    crate::platform::time::now().unix_timestamp()
}
