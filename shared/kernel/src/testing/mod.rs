//! Failure-injection hooks and the one poller ([`eventually`]) for tests. Compiled in every build
//! (the tests and the shipped functions share one feature set, so CI builds each crate once),
//! named only by tests: `scripts/check_layers.py` refuses product code that names it.

pub mod conformance;
mod wait;

pub use wait::{WAIT, eventually, eventually_or, eventually_within};

mod builders;
pub use builders::conversion;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::platform::decorate::{Answer, Call, Decorated, Hook};
use crate::platform::queue::Queue;
use crate::platform::store::Store;
use crate::platform::stream::ClickStream;

/// A queue that fails the next N `send`s (as if the process died, or the queue was unreachable,
/// between a commit and its enqueue), or answers sends only after a pause (a slow network, a
/// busy disk), and otherwise passes every call through.
pub type FailingQueue = Decorated<dyn Queue, FailSwitch>;

/// A click stream whose appends fail, or land and lose their answer, while its [`FailSwitch`]
/// is armed: one switch shared with a [`FailingQueue`] takes both down together.
pub type FailingStream = Decorated<dyn ClickStream, FailSwitch>;

/// A store whose plain writes or transactions fail while its [`FailSwitch`] is armed by
/// [`FailSwitch::fail_writes_next`] or [`FailSwitch::fail_transacts_after`] (reads pass).
pub type FailingStore = Decorated<dyn Store, FailSwitch>;

/// `inner` behind `switch` (usually a [`FailingQueue`]'s).
pub fn failing_store(inner: Arc<dyn Store>, switch: FailSwitch) -> FailingStore {
    Decorated::new(inner, switch)
}

/// `inner` behind a fresh switch; `queue.hook()` is the switch (keep a clone to arm it after
/// handing the queue away).
pub fn failing_queue(inner: Arc<dyn Queue>) -> FailingQueue {
    Decorated::new(inner, FailSwitch::default())
}

/// `inner` behind `switch` (usually a [`FailingQueue`]'s).
pub fn failing_stream(inner: Arc<dyn ClickStream>, switch: FailSwitch) -> FailingStream {
    Decorated::new(inner, switch)
}

/// Arms a [`FailingQueue`] and a [`FailingStream`]: `fail_next(n)` makes the next `n` sends
/// and appends fail; `delay_sends(d)` makes every send wait `d` before it is passed through;
/// `lose_answers_next(n)` makes the next `n` appends land without an answer.
#[derive(Clone, Default)]
pub struct FailSwitch {
    failures: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
    lost_answers: Arc<AtomicUsize>,
    write_failures: Arc<AtomicUsize>,
    /// Transactions to let through before the armed ones fail, and how many fail.
    transacts_passing: Arc<AtomicUsize>,
    transact_failures: Arc<AtomicUsize>,
}

impl FailSwitch {
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// Sends still armed to fail.
    pub fn remaining(&self) -> usize {
        self.failures.load(Ordering::SeqCst)
    }

    /// Uses up one armed failure, if any is left: whether this call must fail.
    fn take_one(&self) -> bool {
        take(&self.failures)
    }

    /// The next `n` stream appends land, and their answer never comes (a `PutRecord` applied
    /// whose response was lost: the caller can only time out).
    pub fn lose_answers_next(&self, n: usize) {
        self.lost_answers.store(n, Ordering::SeqCst);
    }

    /// Appends still armed to lose their answer.
    pub fn remaining_lost_answers(&self) -> usize {
        self.lost_answers.load(Ordering::SeqCst)
    }

    /// The next `n` plain store writes fail as unavailable (the outbox's park among them).
    pub fn fail_writes_next(&self, n: usize) {
        self.write_failures.store(n, Ordering::SeqCst);
    }

    /// Store writes still armed to fail.
    pub fn remaining_write_failures(&self) -> usize {
        self.write_failures.load(Ordering::SeqCst)
    }

    /// The next `pass` store transactions go through, then the `n` after them fail as
    /// unavailable (a DynamoDB call failing in the middle of a long run of writes).
    pub fn fail_transacts_after(&self, pass: usize, n: usize) {
        self.transacts_passing.store(pass, Ordering::SeqCst);
        self.transact_failures.store(n, Ordering::SeqCst);
    }

    /// Transactions still armed to fail.
    pub fn remaining_transact_failures(&self) -> usize {
        self.transact_failures.load(Ordering::SeqCst)
    }

    /// Whether this transaction fails: the passing ones are used up first.
    fn transact_fails(&self) -> bool {
        !take(&self.transacts_passing) && take(&self.transact_failures)
    }

    pub fn delay_sends(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::SeqCst);
    }
}

fn take(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

#[async_trait]
impl Hook for FailSwitch {
    async fn before(&self, call: Call) -> Result<(), String> {
        match call {
            Call::Send { .. } => {
                let delay = self.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                match self.take_one() {
                    true => Err("injected send failure".into()),
                    false => Ok(()),
                }
            }
            Call::Append if self.take_one() => Err("injected append failure".into()),
            Call::Write if take(&self.write_failures) => Err("injected write failure".into()),
            Call::Transact { .. } if self.transact_fails() => {
                Err("injected transaction failure".into())
            }
            _ => Ok(()),
        }
    }

    fn after(&self, call: Call, _returned: usize) -> Answer {
        match call == Call::Append && take(&self.lost_answers) {
            true => Answer::Lose,
            false => Answer::Pass,
        }
    }
}

/// A human's click claims on acme's `launch`, issued at `issued_at` and expiring at
/// `expires_at` (unix seconds): what a test signs itself, with the app's keys or foreign ones.
pub fn launch_claims(issued_at: i64, expires_at: i64) -> crate::domain::CtxClaims {
    use crate::domain::{Attribution, ClickId, CtxClaims, Device, Handle, Slug};
    CtxClaims {
        click_id: ClickId::new(),
        handle: Handle::parse("acme").unwrap(),
        slug: Slug::parse("launch").unwrap(),
        campaign_id: None,
        attribution: Attribution {
            country: "US".into(),
            device: Device::Mobile,
            source: "direct".into(),
            referrer: "direct".into(),
            segment: "new-mobile".into(),
            variant: None,
        },
        issued_at,
        expires_at,
        sub_ids: Default::default(),
        test: false,
        address_hash: None,
        visitor_hash: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::queue::embedded::EmbeddedQueue;
    use crate::platform::queue::{OutMessage, QueueName};

    #[tokio::test]
    async fn fails_exactly_the_armed_sends() {
        let q = failing_queue(Arc::new(EmbeddedQueue::in_memory()));
        let switch = q.hook().clone();
        switch.fail_next(2);
        for _ in 0..2 {
            assert!(
                q.send(QueueName::Events, vec![OutMessage::now("lost")])
                    .await
                    .is_err()
            );
        }
        assert_eq!(switch.remaining(), 0);
        q.send(QueueName::Events, vec![OutMessage::now("kept")])
            .await
            .unwrap();
        let got = q
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "kept");
    }

    #[tokio::test]
    async fn delayed_sends_land_only_after_the_delay() {
        let inner = Arc::new(EmbeddedQueue::in_memory());
        let q = Arc::new(failing_queue(inner.clone()));
        q.hook().delay_sends(Duration::from_secs(2));
        let send = {
            let q = q.clone();
            tokio::spawn(async move {
                q.send(QueueName::Events, vec![OutMessage::now("late")])
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            inner.depth(QueueName::Events).await.unwrap(),
            0,
            "not before the delay"
        );
        send.await.unwrap().unwrap();
        assert_eq!(inner.depth(QueueName::Events).await.unwrap(), 1);
    }
}

/// Which calls a [`meeting_at_the_store`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meet {
    Writes,
    Transactions,
}

/// `inner` where the first `n` calls of one kind wait for each other, so `n` racers that each
/// read "not written yet" reach the store together: the store decides their race, not the
/// scheduler. A racer whose fellows never come fails after 30 s (the racers did not meet)
/// instead of hanging the test.
pub fn meeting_at_the_store(inner: Arc<dyn Store>, n: usize, kind: Meet) -> Arc<dyn Store> {
    let hook = Meeting {
        kind,
        barrier: tokio::sync::Barrier::new(n),
        left: AtomicUsize::new(n),
    };
    Arc::new(Decorated::new(inner, hook))
}

struct Meeting {
    kind: Meet,
    barrier: tokio::sync::Barrier,
    left: AtomicUsize,
}

#[async_trait]
impl Hook for Meeting {
    async fn before(&self, call: Call) -> Result<(), String> {
        let held = match self.kind {
            Meet::Writes => call == Call::Write,
            Meet::Transactions => matches!(call, Call::Transact { .. }),
        };
        let racer = held
            && self
                .left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if !racer {
            return Ok(());
        }
        match tokio::time::timeout(Duration::from_secs(30), self.barrier.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => Err("the racers never met at the store".into()),
        }
    }
}
