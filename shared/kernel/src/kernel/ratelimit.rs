//! Per-handle fixed-window rate limits. The window counter lives in the store (one atomic capped
//! increment, `UpdateItem ADD … ConditionExpression` on DynamoDB), so the limit holds across any
//! number of concurrent function instances, not per process.
//!
//! Reusable: any route may count requests in its own bucket with [`consume`]; the authenticated
//! write routes use [`enforce`] (bucket [`WRITES_BUCKET`], the handle's plan limit).
//!
//! [`admit`] counts on a window counter spread over several items (shards) when one item would
//! be hot, and returns an [`Admission`] its caller can take back ([`Admission::refund_op`]): the
//! conversion path counts before its transaction and refunds a submission that turned out to be
//! a replay, so its transaction holds no item shared by a handle's conversions.
//!
//! Headers follow GitHub and X/Twitter: `x-ratelimit-limit`, `x-ratelimit-remaining`,
//! `x-ratelimit-reset` (the window's end in UTC **epoch seconds**), and on a 429 `retry-after`
//! (seconds to wait). A fixed window may admit up to twice the limit across one boundary; that is
//! the accepted trade-off for one conditional write per request.
//!
//! The counts are written lazily ([`Store::write_lazily`]): on the embedded engine they become
//! durable with the next durable commit (on the conversion path, the conversion's own
//! transaction right after), not with an fsync of their own. A crash forgets the counts since the
//! last durable commit, which errs towards admitting a few requests more once, never towards
//! losing anything stored.

use sha2::Digest;

use crate::auth::{Credential, Principal};
use crate::domain::Handle;
use crate::kernel::state::FullCounters;
use crate::platform::config::RateLimits;
use crate::platform::store::{CounterCap, Store, StoreError, WriteOp, keys, now_unix};

/// The bucket of the authenticated write routes.
pub const WRITES_BUCKET: &str = "w";

const COUNTER: &str = "n";

/// The fixed window that contains a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Unix seconds, a multiple of the window length (part of the counter's key).
    pub start: i64,
    /// Unix seconds at which the next window starts.
    pub reset: i64,
}

impl Window {
    pub fn at(now: i64, len_secs: u32) -> Window {
        let len = i64::from(len_secs.max(1));
        let start = now - now.rem_euclid(len);
        Window {
            start,
            reset: start + len,
        }
    }
}

/// What one counted request learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Admitted; `used` requests (this one included) counted in the window so far.
    Allowed { used: i64 },
    /// The window's limit is reached; this request was not counted.
    Limited,
}

impl Window {
    /// When a counter of this window expires: a little past the window (the key carries the
    /// window, so it is never reused).
    fn expiry(self) -> i64 {
        self.reset + (self.reset - self.start)
    }
}

fn check_bucket(bucket: &str) -> Result<(), StoreError> {
    if bucket.is_empty()
        || !bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Invalid(format!(
            "rate-limit bucket `{bucket}` must match [a-z0-9_]+"
        )));
    }
    Ok(())
}

/// `ADD n 1` capped at `max` on one counter item.
fn capped_increment(pk: String, sk: String, max: i64, window: Window) -> WriteOp {
    WriteOp::Add {
        pk,
        sk,
        deltas: vec![(COUNTER.into(), 1)],
        cap: Some(CounterCap {
            counter: COUNTER.into(),
            max,
        }),
        expires_at: Some(window.expiry()),
    }
}

/// The capped increment that counts one request of `bucket` for `handle` in `window` on one
/// item; [`count`] writes it.
pub fn increment_op(
    handle: &Handle,
    bucket: &str,
    limit: u32,
    window: Window,
) -> Result<WriteOp, StoreError> {
    check_bucket(bucket)?;
    let (pk, sk) = keys::rate_window(handle, bucket, window.start);
    Ok(capped_increment(pk, sk, i64::from(limit), window))
}

/// Counts one request of `bucket` for `handle` in the window containing `now`. The cap is checked
/// atomically with the increment, so concurrent callers on any number of instances never admit
/// more than `limit` requests per window.
pub async fn count(
    store: &dyn Store,
    handle: &Handle,
    bucket: &str,
    limit: u32,
    window: Window,
) -> Result<Outcome, StoreError> {
    let op = increment_op(handle, bucket, limit, window)?;
    match store.write_lazily(op).await {
        Ok(item) => Ok(Outcome::Allowed {
            used: item.map_or(1, |i| i.counter(COUNTER)),
        }),
        Err(StoreError::ConditionFailed { .. }) => Ok(Outcome::Limited),
        Err(other) => Err(other),
    }
}

/// Admitted requests per second one counter item is planned for. A DynamoDB partition takes about
/// 1,000 writes per second; half of that leaves room for refused attempts and refunds.
pub const SHARD_WRITES_PER_SEC: u64 = 500;
/// The most items one window counter is spread over.
pub const MAX_SHARDS: u32 = 32;

/// How many items [`admit`] spreads a limit of `limit` per `window_secs` over: one, unless
/// admitting the whole limit would take more than [`SHARD_WRITES_PER_SEC`] per second on one
/// item; at most [`MAX_SHARDS`], and never more than the limit (every shard admits at least one).
pub fn shards_for(limit: u32, window_secs: u32) -> u32 {
    let per_sec = u64::from(limit).div_ceil(u64::from(window_secs.max(1)));
    let wanted = per_sec
        .div_ceil(SHARD_WRITES_PER_SEC)
        .clamp(1, u64::from(MAX_SHARDS));
    u32::try_from(wanted).map_or(MAX_SHARDS, |n| n.min(limit.max(1)))
}

/// The part of `limit` shard `i` of `n` admits: the limit split as evenly as whole numbers
/// allow, so the shares add up to exactly the limit.
fn share(limit: u32, n: u32, i: u32) -> i64 {
    i64::from(limit / n) + i64::from(i < limit % n)
}

/// One request counted by [`admit`]: the shard it was counted on, so it can be taken back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    pk: String,
    sk: String,
    expires_at: i64,
    /// The shard's count after this admission (the whole window's when it has one shard).
    used: i64,
}

impl Admission {
    /// The uncapped `ADD n -1` that takes this admission back (the request was not served: a
    /// replay, a cancelled submission).
    pub fn refund_op(&self) -> WriteOp {
        WriteOp::Add {
            pk: self.pk.clone(),
            sk: self.sk.clone(),
            deltas: vec![(COUNTER.into(), -1)],
            cap: None,
            expires_at: Some(self.expires_at),
        }
    }
}

/// Counts one request of `bucket` for `handle` in `window` against `limit`, on a counter spread
/// over [`shards_for`] items; `None` when the limit is reached (nothing counted).
///
/// Each shard admits its share of the limit with one capped `ADD` (atomic, so concurrent callers
/// on any number of instances never admit more than the limit). A request starts on a random
/// shard and moves on to the next only when that one is full, so the limit is reached only when
/// every shard is: one conditional write while the window has room, one per shard over it.
/// Shards found full are remembered in `full` for the rest of the window, so a request over the
/// limit costs no write on an instance that already saw every shard full. A refund makes room
/// again that `full` then hides from this instance until the window ends: the limit errs towards
/// refusing, by at most the refunds of one window.
pub async fn admit(
    store: &dyn Store,
    full: &FullCounters,
    handle: &Handle,
    bucket: &str,
    limit: u32,
    window: Window,
) -> Result<Option<Admission>, StoreError> {
    let len = u32::try_from(window.reset - window.start).unwrap_or(u32::MAX);
    admit_on(
        store,
        full,
        handle,
        bucket,
        limit,
        window,
        shards_for(limit, len),
    )
    .await
}

/// [`admit`] on `n` shards.
async fn admit_on(
    store: &dyn Store,
    full: &FullCounters,
    handle: &Handle,
    bucket: &str,
    limit: u32,
    window: Window,
    n: u32,
) -> Result<Option<Admission>, StoreError> {
    check_bucket(bucket)?;
    let first = rand::random::<u32>() % n;
    for shard in (0..n).map(|k| (first + k) % n) {
        let (pk, sk) = keys::rate_shard(handle, bucket, window.start, shard);
        if full.contains_key(&pk) {
            continue;
        }
        let op = capped_increment(pk.clone(), sk.clone(), share(limit, n, shard), window);
        match store.write_lazily(op).await {
            Ok(item) => {
                let expires_at = window.expiry();
                let used = item.map_or(1, |i| i.counter(COUNTER));
                return Ok(Some(Admission {
                    pk,
                    sk,
                    expires_at,
                    used,
                }));
            }
            Err(StoreError::ConditionFailed { .. }) => full.insert(pk, ()),
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// An admitted request's standing in its window (the `x-ratelimit-*` headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: i64,
    /// Unix seconds at which the window resets.
    pub reset: i64,
}

/// A refused request: the window's limit is reached.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Rate limit of {} requests per {window_secs} s reached for {scope}; retry after \
     {retry_after} s.",
    .quota.limit
)]
pub struct Limited {
    pub handle: Handle,
    /// What was limited: `handle acme`, `this click (ctx)`, `this client address`.
    pub scope: String,
    pub window_secs: u32,
    /// The quota with nothing remaining.
    pub quota: Quota,
    pub retry_after: i64,
}

impl Limited {
    pub fn new(handle: &Handle, limit: u32, window_secs: u32, window: Window, now: i64) -> Self {
        Self {
            handle: handle.clone(),
            scope: format!("handle {handle}"),
            window_secs,
            quota: Quota {
                limit,
                remaining: 0,
                reset: window.reset,
            },
            retry_after: (window.reset - now).max(1),
        }
    }

    /// The same refusal, naming a narrower scope than the handle.
    pub fn of(mut self, scope: &str) -> Self {
        self.scope = scope.to_owned();
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error(transparent)]
    Limited(#[from] Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts one request of `bucket` for `handle` against `limit` per configured window
/// (`TENX_RATE_LIMIT_WINDOW_SECS`, 60 s by default): one conditional write.
pub async fn consume(
    store: &dyn Store,
    limits: &RateLimits,
    handle: &Handle,
    bucket: &str,
    limit: u32,
) -> Result<Quota, RateLimitError> {
    let now = now_unix();
    let window_secs = limits.window_secs;
    let window = Window::at(now, window_secs);
    match count(store, handle, bucket, limit, window).await? {
        Outcome::Allowed { used } => Ok(Quota {
            limit,
            remaining: (i64::from(limit) - used).max(0),
            reset: window.reset,
        }),
        Outcome::Limited => Err(Limited::new(handle, limit, window_secs, window, now).into()),
    }
}

/// A client address as a rate-limit bucket name under `prefix`: IPv6 grouped by its /64 (one
/// subscriber's whole prefix is one address, so rotating within it gains nothing), IPv4 (and
/// IPv4-mapped IPv6) as is; hashed, so the store never holds a client's address.
pub fn address_bucket(prefix: &str, client: &str) -> String {
    use std::net::IpAddr;
    let grouped = match client.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => client.to_owned(),
    };
    let digest = hex::encode(sha2::Sha256::digest(grouped.as_bytes()));
    format!("{prefix}{}", &digest[..20])
}

/// What an authenticated write counted: the credential's and the handle's admissions, taken
/// back when the request is answered 4xx (it changed nothing).
#[derive(Debug)]
pub struct WriteCharge {
    pub quota: Quota,
    admissions: Vec<Admission>,
}

impl WriteCharge {
    /// Takes the charge back: ONE round of concurrent `ADD -1`s. Best effort (a failed refund
    /// only errs towards refusing).
    pub async fn refund(self, store: &dyn Store) {
        let refunds = self
            .admissions
            .iter()
            .map(|a| store.write_lazily(a.refund_op()));
        for result in futures::future::join_all(refunds).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "a write-budget refund failed; the request stays counted");
            }
        }
    }
}

/// The bucket of one credential's writes inside the handle's: a PAT by its id, a JWT by its
/// subject (hashed: bucket names are `[a-z0-9_]+`).
fn credential_bucket(principal: &Principal) -> String {
    let id = match &principal.credential {
        Credential::Pat { token_id, .. } => format!("pat:{token_id}"),
        Credential::Jwt => format!("sub:{}", principal.subject),
        Credential::Session { user_id, .. } => format!("usr:{user_id}"),
        Credential::Partner { token_id, .. } => format!("ptk:{token_id}"),
        Credential::PartnerUser { user_id, .. } => format!("pus:{user_id}"),
    };
    let digest = hex::encode(sha2::Sha256::digest(id.as_bytes()));
    format!("wc_{}", &digest[..20])
}

/// Charges one authenticated write to `principal`'s bucket and to the handle's, each at the
/// plan's limit: a credential cannot spend more than the handle has, and the caller refunds
/// both ([`WriteCharge::refund`]) when the request is answered 4xx. Round trips: TWO capped
/// `ADD`s in turn, the handle's only once the credential's admitted (plus the refund of the
/// credential's when the handle is full). In turn, not at once: two concurrent counters may
/// order a burst differently, so request 3 could take the credential's last slot and request 4
/// the handle's, both be refused, and fewer than the limit be admitted.
/// No "found full" cache here: a counter briefly full of requests that are then refunded must
/// not keep refusing for the rest of the window.
pub async fn charge_write(
    store: &dyn Store,
    limits: &RateLimits,
    handle: &Handle,
    principal: &Principal,
) -> Result<WriteCharge, RateLimitError> {
    let limit = limits.writes_per_minute(handle.as_str());
    let now = now_unix();
    let window_secs = limits.window_secs;
    let window = Window::at(now, window_secs);
    let fresh = FullCounters::new(4);
    let credential = credential_bucket(principal);
    let own = admit(store, &fresh, handle, &credential, limit, window).await;
    let all = match &own {
        Ok(Some(_)) => admit(store, &fresh, handle, WRITES_BUCKET, limit, window).await,
        // Not counted against the handle: the credential's refusal (or failure) decides.
        _ => Ok(None),
    };
    let admissions: Vec<Admission> = [&own, &all]
        .into_iter()
        .filter_map(|r| r.as_ref().ok().cloned().flatten())
        .collect();
    let refused = match (own, all) {
        (Ok(Some(_)), Ok(Some(_))) => None,
        (Err(e), _) | (_, Err(e)) => Some(RateLimitError::Store(e)),
        (Ok(None), _) => Some(
            Limited::new(handle, limit, window_secs, window, now)
                .of("this credential")
                .into(),
        ),
        (_, Ok(None)) => Some(Limited::new(handle, limit, window_secs, window, now).into()),
    };
    // Write limits are far below a shard's rate, so each counter is one item and its count
    // is the window's: the tighter of the two is what remains.
    let used = admissions.iter().map(|a| a.used).max().unwrap_or(0);
    let charge = WriteCharge {
        quota: Quota {
            limit,
            remaining: (i64::from(limit) - used).max(0),
            reset: window.reset,
        },
        admissions,
    };
    if let Some(e) = refused {
        charge.refund(store).await;
        return Err(e);
    }
    Ok(charge)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::platform::store::embedded::EmbeddedStore;

    // Windows are taken around the real clock: the store hides items whose expiry has passed.
    fn handle(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[test]
    fn windows_are_aligned_to_their_length() {
        let w = Window::at(1_700_000_059, 60);
        assert_eq!((w.start, w.reset), (1_700_000_040, 1_700_000_100));
        let w = Window::at(125, 60);
        assert_eq!((w.start, w.reset), (120, 180));
        let w = Window::at(120, 60);
        assert_eq!((w.start, w.reset), (120, 180), "a boundary opens a window");
        let w = Window::at(7, 2);
        assert_eq!((w.start, w.reset), (6, 8));
    }

    #[tokio::test]
    async fn admits_exactly_the_limit_per_window_then_opens_the_next() {
        let store = EmbeddedStore::in_memory();
        let acme = handle("acme");
        let w1 = Window::at(now_unix(), 60);
        for used in 1..=3 {
            assert_eq!(
                count(&store, &acme, "w", 3, w1).await.unwrap(),
                Outcome::Allowed { used }
            );
        }
        assert_eq!(
            count(&store, &acme, "w", 3, w1).await.unwrap(),
            Outcome::Limited
        );
        assert_eq!(
            count(&store, &acme, "w", 3, w1).await.unwrap(),
            Outcome::Limited,
            "a refused request is not counted, and refusal is stable"
        );
        let w2 = Window::at(w1.reset, 60);
        assert_eq!(
            count(&store, &acme, "w", 3, w2).await.unwrap(),
            Outcome::Allowed { used: 1 }
        );
    }

    #[tokio::test]
    async fn handles_and_buckets_are_counted_apart() {
        let store = EmbeddedStore::in_memory();
        let w = Window::at(now_unix(), 60);
        assert_eq!(
            count(&store, &handle("acme"), "w", 1, w).await.unwrap(),
            Outcome::Allowed { used: 1 }
        );
        assert_eq!(
            count(&store, &handle("acme"), "w", 1, w).await.unwrap(),
            Outcome::Limited
        );
        assert_eq!(
            count(&store, &handle("other-co"), "w", 1, w).await.unwrap(),
            Outcome::Allowed { used: 1 }
        );
        assert_eq!(
            count(&store, &handle("acme"), "conversions", 1, w)
                .await
                .unwrap(),
            Outcome::Allowed { used: 1 }
        );
    }

    #[tokio::test]
    async fn concurrent_requests_never_exceed_the_limit() {
        let store = std::sync::Arc::new(EmbeddedStore::in_memory());
        let w = Window::at(now_unix(), 60);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    count(store.as_ref(), &handle("acme"), "w", 5, w)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Outcome::Allowed { .. }) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 5);
    }

    #[test]
    fn one_item_unless_it_would_be_hot() {
        assert_eq!(
            shards_for(6000, 60),
            1,
            "the default conversions limit: 100/s"
        );
        assert_eq!(shards_for(30_000, 60), 1, "500/s");
        assert_eq!(shards_for(30_060, 60), 2, "just over 500/s");
        assert_eq!(shards_for(2000, 1), 4);
        assert_eq!(shards_for(u32::MAX, 60), MAX_SHARDS);
        assert_eq!(shards_for(1, 0), 1);
        for (limit, n) in [(7, 3), (2000, 4), (2001, 4), (u32::MAX, MAX_SHARDS)] {
            let shares: Vec<i64> = (0..n).map(|i| share(limit, n, i)).collect();
            assert_eq!(shares.iter().sum::<i64>(), i64::from(limit), "{limit}/{n}");
            assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
        }
    }

    fn full_counters() -> FullCounters {
        moka::sync::Cache::builder().max_capacity(1000).build()
    }

    /// The sharded counter admits exactly the limit, concurrently, across its shards.
    #[tokio::test]
    async fn admits_exactly_the_limit_across_shards() {
        let store = std::sync::Arc::new(EmbeddedStore::in_memory());
        let full = full_counters();
        let w = Window::at(now_unix(), 60);
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let (store, full) = (store.clone(), full.clone());
                tokio::spawn(async move {
                    admit_on(store.as_ref(), &full, &handle("acme"), "c", 8, w, 4)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut admitted = Vec::new();
        for t in tasks {
            admitted.extend(t.await.unwrap());
        }
        assert_eq!(admitted.len(), 8, "exactly the limit");
        let shards: BTreeSet<&str> = admitted.iter().map(|a| a.pk.as_str()).collect();
        assert_eq!(shards.len(), 4, "on every shard");
        for shard in shards {
            let item = store.get(shard, "T").await.unwrap().expect("a shard item");
            assert_eq!(item.counter(COUNTER), 2, "{shard} holds its share");
        }
    }

    #[tokio::test]
    async fn a_refund_makes_room_and_full_shards_cost_no_write() {
        let store = CountingStore {
            inner: EmbeddedStore::in_memory(),
            writes: Default::default(),
        };
        let w = Window::at(now_unix(), 60);
        let acme = handle("acme");
        let full = full_counters();
        let first = admit(&store, &full, &acme, "c", 2, w)
            .await
            .unwrap()
            .unwrap();
        assert!(
            admit(&store, &full, &acme, "c", 2, w)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(admit(&store, &full, &acme, "c", 2, w).await.unwrap(), None);
        let writes = store.writes();
        assert_eq!(
            admit(&store, &full, &acme, "c", 2, w).await.unwrap(),
            None,
            "still refused"
        );
        assert_eq!(
            store.writes(),
            writes,
            "a shard known full is not written again"
        );

        store.write(first.refund_op()).await.unwrap();
        // Another instance (no memory of full shards) gets the refunded room; this one errs
        // towards refusing until the window ends.
        let elsewhere = full_counters();
        assert!(
            admit(&store, &elsewhere, &acme, "c", 2, w)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            admit(&store, &elsewhere, &acme, "c", 2, w).await.unwrap(),
            None
        );
        assert_eq!(admit(&store, &full, &acme, "c", 2, w).await.unwrap(), None);
        assert!(matches!(
            admit(&store, &full, &acme, "C", 2, w).await,
            Err(StoreError::Invalid(_))
        ));
    }

    /// An embedded store that counts its writes.
    struct CountingStore {
        inner: EmbeddedStore,
        writes: std::sync::atomic::AtomicUsize,
    }

    impl CountingStore {
        fn writes(&self) -> usize {
            self.writes.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[async_trait::async_trait]
    impl Store for CountingStore {
        async fn get(
            &self,
            pk: &str,
            sk: &str,
        ) -> Result<Option<crate::platform::store::Item>, StoreError> {
            self.inner.get(pk, sk).await
        }
        async fn write(
            &self,
            op: WriteOp,
        ) -> Result<Option<crate::platform::store::Item>, StoreError> {
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.write(op).await
        }
        async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
            self.inner.transact(ops).await
        }
        async fn query(
            &self,
            q: crate::platform::store::Query,
        ) -> Result<crate::platform::store::Page, StoreError> {
            self.inner.query(q).await
        }
    }

    #[tokio::test]
    async fn a_bucket_that_could_break_the_key_is_refused() {
        let store = EmbeddedStore::in_memory();
        let w = Window::at(now_unix(), 60);
        for bad in ["", "a#b", "W", "x y"] {
            assert!(matches!(
                count(&store, &handle("acme"), bad, 1, w).await,
                Err(StoreError::Invalid(_))
            ));
        }
    }
}
