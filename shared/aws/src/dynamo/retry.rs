//! Contention: what DynamoDB answers when a write meets a transaction in flight on one of its
//! items, and how the store retries it.
//!
//! DynamoDB cancels a `TransactWriteItems` that names an item another in-flight transaction holds
//! (`TransactionCanceledException`, reason `TransactionConflict` at that item), and rejects a
//! `PutItem` / `UpdateItem` / `DeleteItem` of such an item (`TransactionConflictException`). The
//! SDK retries neither. Both mean "nothing was written, try again shortly", so the store retries
//! them here with jittered exponential backoff (as it does a transaction cancelled by throttling)
//! and reports `Unavailable` (503 + `retry-after`) only when the contention outlasts every
//! attempt.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use tenx_kernel::platform::store::StoreError;

/// Attempts of a write cancelled by contention (a conflicting transaction, or throttling of a
/// transaction, which the SDK does not retry either).
pub(super) const ATTEMPTS: u32 = 10;
/// The first backoff ceiling; it doubles per attempt up to [`MAX_BACKOFF`].
pub(super) const BASE_BACKOFF: Duration = Duration::from_millis(10);
pub(super) const MAX_BACKOFF: Duration = Duration::from_millis(1000);

/// The error code of a single write rejected because a transaction holds its item.
const CONFLICT_CODE: &str = "TransactionConflictException";

/// What one attempt of a write learned.
pub(super) enum Attempt<T> {
    Done(T),
    /// Cancelled by contention (this reason): nothing was written; worth another attempt.
    Contended(String),
}

/// True when a single write was rejected because a transaction in flight holds its item.
pub(super) fn is_conflict<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(ctx) if ctx.err().code() == Some(CONFLICT_CODE))
}

/// Runs `attempt` until it is done or fails, at most [`ATTEMPTS`] times while it is contended,
/// sleeping [`backoff`] in between; then `Unavailable`, naming the last reason.
pub(super) async fn contended<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, StoreError>>,
{
    let mut last = String::new();
    for n in 0..ATTEMPTS {
        if n > 0 {
            tokio::time::sleep(backoff(n)).await;
        }
        match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Contended(reason) => last = reason,
        }
    }
    Err(StoreError::Unavailable(format!(
        "{last} (contended: {ATTEMPTS} attempts)"
    )))
}

/// The pause before attempt `n` (1-based retries): "full jitter", a uniform draw below a
/// ceiling that doubles per attempt, so writers that collided once spread out instead of
/// colliding again in step.
pub(super) fn backoff(n: u32) -> Duration {
    let ceiling = BASE_BACKOFF
        .saturating_mul(2u32.saturating_pow(n.min(16)))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::TransactionConflictException;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for n in 1..30 {
            let ceiling = BASE_BACKOFF * 2u32.pow(n.min(16)).min(1 << 16);
            assert!(backoff(n) <= ceiling.min(MAX_BACKOFF), "attempt {n}");
        }
        // Full jitter: the draws of one attempt spread over its whole range.
        let draws: Vec<Duration> = (0..200).map(|_| backoff(4)).collect();
        assert!(draws.iter().any(|d| *d < BASE_BACKOFF * 4));
        assert!(draws.iter().any(|d| *d > BASE_BACKOFF * 12));
    }

    #[test]
    fn only_transaction_conflicts_are_conflicts() {
        let raw = || HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        let conflict = PutItemError::TransactionConflictException(
            TransactionConflictException::builder()
                .message("Transaction is ongoing for the item")
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code(CONFLICT_CODE)
                        .build(),
                )
                .build(),
        );
        assert!(is_conflict(&SdkError::service_error(conflict, raw())));
        let other = PutItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("ValidationException")
                .build(),
        );
        assert!(!is_conflict(&SdkError::service_error(other, raw())));
        let timeout: SdkError<PutItemError, HttpResponse> = SdkError::timeout_error("slow");
        assert!(!is_conflict(&timeout));
    }

    // Real time: the ten backoffs of the exhausted case sleep ~1.6 s on average (3.3 s at most).
    #[tokio::test]
    async fn contention_is_retried_then_reported_unavailable() {
        let calls = AtomicU32::new(0);
        let done = contended(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(if n < 3 {
                Attempt::Contended(format!("conflict {n}"))
            } else {
                Attempt::Done(n)
            })
        })
        .await
        .unwrap();
        assert_eq!(done, 3, "the fourth attempt went through");

        calls.store(0, Ordering::SeqCst);
        let never = contended(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<Attempt<()>, _>(Attempt::Contended("still held".into()))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
        assert!(
            matches!(&never, Err(StoreError::Unavailable(m)) if m.contains("still held")),
            "{never:?}"
        );

        calls.store(0, Ordering::SeqCst);
        let failed = contended(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<Attempt<()>, _>(StoreError::Invalid("bad".into()))
        })
        .await;
        assert!(matches!(failed, Err(StoreError::Invalid(_))));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "other errors are not retried"
        );
    }
}
