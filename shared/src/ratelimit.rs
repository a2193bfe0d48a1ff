//! Per-handle fixed-window rate limits. The window counter lives in the store (one atomic capped
//! increment, `UpdateItem ADD … ConditionExpression` on DynamoDB), so the limit holds across any
//! number of concurrent function instances, not per process.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::domain::Handle;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{keys, now_unix, CounterCap, StoreError, WriteOp};

const WINDOW_SECS: i64 = 60;

/// The `x-ratelimit-*` headers to put on the response.
#[derive(Clone, Debug, Default)]
pub struct RateLimitHeaders(pub HeaderMap);

fn headers(limit: u32, remaining: i64, reset: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(limit),
    );
    h.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(remaining.max(0)),
    );
    h.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        HeaderValue::from(reset),
    );
    h
}

/// Counts one request of `bucket` for `handle` against `limit` per minute.
pub async fn consume(
    state: &AppState,
    handle: &Handle,
    bucket: &str,
    limit: u32,
) -> Result<RateLimitHeaders, ApiError> {
    let now = now_unix();
    let window = now - now.rem_euclid(WINDOW_SECS);
    let reset = window + WINDOW_SECS;
    let (pk, sk) = keys::rate_window(handle.as_str(), bucket, window);
    let op = WriteOp::Add {
        pk,
        sk,
        deltas: vec![("n".into(), 1)],
        cap: Some(CounterCap {
            counter: "n".into(),
            max: i64::from(limit),
        }),
        expires_at: Some(reset + WINDOW_SECS),
    };
    match state.store.write(op).await {
        Ok(item) => {
            let used = item.map(|i| i.counter("n")).unwrap_or(1);
            Ok(RateLimitHeaders(headers(
                limit,
                i64::from(limit) - used,
                reset,
            )))
        }
        Err(StoreError::ConditionFailed { .. }) => {
            let retry_after = (reset - now).max(1);
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Write limit of {limit} per minute reached for handle {handle}; retry after {retry_after} s."
                ),
            );
            e.headers.extend(
                headers(limit, 0, reset)
                    .into_iter()
                    .filter_map(|(k, v)| k.map(|k| (k, v))),
            );
            e.headers.push((
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(retry_after),
            ));
            Err(e)
        }
        Err(other) => Err(other.into()),
    }
}

/// The write limit of the handle's plan, for authenticated write routes.
pub async fn enforce(state: &AppState, handle: &Handle) -> Result<RateLimitHeaders, ApiError> {
    let limit = state.config.rate_limits.writes_per_minute(handle.as_str());
    consume(state, handle, "w", limit).await
}
