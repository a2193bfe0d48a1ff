//! Process-wide counters every function keeps (clicks lost, poison records) and the task-local
//! that tells request work from background work. The per-operation counting decorators that the
//! load benchmark reads are in [`crate::platform::op_counts`] (the local server turns them on
//! with `TENX_COUNT_OPS=1`; no Lambda function does).

use std::future::Future;
use std::sync::atomic::AtomicU64;

/// Clicks lost because neither the queue nor the outbox took them (each also logged with
/// `metric = "clicks_lost"`, which a log-based alarm can count on Lambda).
pub static CLICKS_LOST: AtomicU64 = AtomicU64::new(0);

/// Records a consumer set aside as poison (each also logged once with
/// `metric = "poison_records"` and kept in its dead letters, `analytics::poison`).
pub static POISON_RECORDS: AtomicU64 = AtomicU64::new(0);

tokio::task_local! {
    static IN_REQUEST: ();
}

/// Runs `f` with its seam operations attributed to requests rather than background work.
pub async fn in_request<F: Future>(f: F) -> F::Output {
    IN_REQUEST.scope((), f).await
}

/// Wraps `f` so it is attributed like the current task's work: for a future that is spawned as a
/// task of its own on behalf of a request.
pub fn same_attribution<F: Future>(f: F) -> impl Future<Output = F::Output> {
    let requested = serving_a_request();
    async move {
        if requested {
            in_request(f).await
        } else {
            f.await
        }
    }
}

pub(crate) fn serving_a_request() -> bool {
    IN_REQUEST.try_with(|_| ()).is_ok()
}
