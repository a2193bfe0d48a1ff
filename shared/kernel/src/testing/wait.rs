//! Waiting for work done elsewhere (a queue's consumer, the outbox, another backend's delayed
//! delivery): poll until it shows, and fail with what was last seen. One poller for every
//! suite, so each wait reads the same and reports the same way.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for the service's background work (the queue consumers, the outbox,
/// the aggregator, the mail worker): a hang guard, not a timing claim (on the AWS backend a
/// retry waits out SQS's whole-second delays, and a CI machine runs other work beside the tests).
pub const WAIT: Duration = Duration::from_secs(60);

/// Polls `probe` until it answers `Some`, failing after [`WAIT`] with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_or(what, || {
        let next = probe();
        async move { next.await.ok_or_else(|| "not yet".to_owned()) }
    })
    .await
}

/// Polls `probe` until it answers `Ok`, failing after [`WAIT`] with `what` and the last state
/// the probe saw (its `Err`): what a failing test's reader needs to tell slow from wrong.
pub async fn eventually_or<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    eventually_within(what, WAIT, probe).await
}

/// [`eventually_or`] bounded by `limit` instead of [`WAIT`]: for the waits whose work takes
/// longer than [`WAIT`] on purpose (a large import on the emulator, a drain after an outage),
/// and for the seams' own checks, whose limits are part of what they check; each says why at
/// its call.
pub async fn eventually_within<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    // Quick to see what is quick, then no more than ten looks a second: on the AWS backend
    // each look is served by the emulator doing the work awaited.
    let mut pause = Duration::from_millis(25);
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) => assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last: {last}"
            ),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn waits_until_the_probe_answers_and_returns_its_answer() {
        let looks = Cell::new(0);
        let got = eventually("the third look", || {
            looks.set(looks.get() + 1);
            let n = looks.get();
            async move { (n == 3).then_some(n) }
        })
        .await;
        assert_eq!((got, looks.get()), (3, 3));
    }

    #[tokio::test]
    #[should_panic(expected = "timed out waiting for a value never given; last: look 1")]
    async fn gives_up_past_its_limit_naming_the_wait_and_the_last_state() {
        let looks = Cell::new(0);
        eventually_within("a value never given", Duration::ZERO, || {
            looks.set(looks.get() + 1);
            let n = looks.get();
            async move { Err::<(), _>(format!("look {n}")) }
        })
        .await;
    }
}
