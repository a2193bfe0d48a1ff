//! Per-handle fixed-window rate limits. The window counter lives in the store (one atomic capped
//! increment, `UpdateItem ADD … ConditionExpression` on DynamoDB), so the limit holds across any
//! number of concurrent function instances, not per process.
//!
//! Reusable: any route may count requests in its own bucket with [`consume`]; the authenticated
//! write routes use [`enforce`] (bucket [`WRITES_BUCKET`], the handle's plan limit).
//!
//! Headers follow GitHub and X/Twitter: `x-ratelimit-limit`, `x-ratelimit-remaining`,
//! `x-ratelimit-reset` (the window's end in UTC **epoch seconds**), and on a 429 `retry-after`
//! (seconds to wait). A fixed window may admit up to twice the limit across one boundary; that is
//! the accepted trade-off for one conditional write per request.

use crate::domain::Handle;
use crate::state::AppState;
use crate::store::{keys, now_unix, CounterCap, Store, StoreError, WriteOp};

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

/// The capped increment that counts one request of `bucket` for `handle` in `window`. [`count`]
/// writes it alone; a caller may instead put it in its own transaction (the conversions route
/// does), where a cancelled transaction counts nothing and a failed cap cancels the transaction.
pub fn increment_op(
    handle: &Handle,
    bucket: &str,
    limit: u32,
    window: Window,
) -> Result<WriteOp, StoreError> {
    if bucket.is_empty()
        || !bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Invalid(format!(
            "rate-limit bucket `{bucket}` must match [a-z0-9_]+"
        )));
    }
    let (pk, sk) = keys::rate_window(handle.as_str(), bucket, window.start);
    Ok(WriteOp::Add {
        pk,
        sk,
        deltas: vec![(COUNTER.into(), 1)],
        cap: Some(CounterCap {
            counter: COUNTER.into(),
            max: i64::from(limit),
        }),
        // Kept a little past the window; the key carries the window so it is never reused.
        expires_at: Some(window.reset + (window.reset - window.start)),
    })
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
    match store.write(op).await {
        Ok(item) => Ok(Outcome::Allowed {
            used: item.map_or(1, |i| i.counter(COUNTER)),
        }),
        Err(StoreError::ConditionFailed { .. }) => Ok(Outcome::Limited),
        Err(other) => Err(other),
    }
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
    state: &AppState,
    handle: &Handle,
    bucket: &str,
    limit: u32,
) -> Result<Quota, RateLimitError> {
    let now = now_unix();
    let window_secs = state.config.rate_limits.window_secs;
    let window = Window::at(now, window_secs);
    match count(state.store.as_ref(), handle, bucket, limit, window).await? {
        Outcome::Allowed { used } => Ok(Quota {
            limit,
            remaining: (i64::from(limit) - used).max(0),
            reset: window.reset,
        }),
        Outcome::Limited => Err(Limited::new(handle, limit, window_secs, window, now).into()),
    }
}

/// The write limit of the handle's plan, for authenticated write routes.
pub async fn enforce(state: &AppState, handle: &Handle) -> Result<Quota, RateLimitError> {
    let limit = state.config.rate_limits.writes_per_minute(handle.as_str());
    consume(state, handle, WRITES_BUCKET, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

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
