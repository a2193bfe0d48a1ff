//! Failure-injection hooks for tests (feature `testing`; never in shipped binaries).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::queue::{OutMessage, Queue, QueueError, QueueName, Received};
use crate::stream::{ClickStream, StreamError, StreamRecord};

/// A queue that fails the next N `send`s (as if the process died, or the queue was unreachable,
/// between a commit and its enqueue), or answers sends only after a pause (a slow network, a
/// busy disk), and otherwise passes every call through.
pub struct FailingQueue {
    inner: Arc<dyn Queue>,
    switch: FailSwitch,
}

impl FailingQueue {
    pub fn new(inner: Arc<dyn Queue>) -> Self {
        Self {
            inner,
            switch: FailSwitch {
                failures: Arc::new(AtomicUsize::new(0)),
                delay_ms: Arc::new(AtomicU64::new(0)),
                lost_answers: Arc::new(AtomicUsize::new(0)),
            },
        }
    }

    /// The switch that arms this queue; keep a clone to arm it after handing the queue away.
    pub fn switch(&self) -> FailSwitch {
        self.switch.clone()
    }
}

/// Arms a [`FailingQueue`]: `fail_next(n)` makes its next `n` sends fail; `delay_sends(d)`
/// makes every send wait `d` before it is passed through.
#[derive(Clone)]
pub struct FailSwitch {
    failures: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
    lost_answers: Arc<AtomicUsize>,
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
        self.failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
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

    fn take_lost_answer(&self) -> bool {
        self.lost_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn delay_sends(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::SeqCst);
    }
}

#[async_trait]
impl Queue for FailingQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        let delay = self.switch.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if self.switch.take_one() {
            return Err(QueueError::Unavailable("injected send failure".into()));
        }
        self.inner.send(queue, messages).await
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(queue, max, visibility).await
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.inner.ack(queue, receipt).await
    }
}

/// A click stream whose appends fail while the [`FailSwitch`] of a [`FailingQueue`] is armed:
/// one switch takes the events queue and the click stream down together.
pub struct FailingStream {
    inner: Arc<dyn ClickStream>,
    switch: FailSwitch,
}

impl FailingStream {
    pub fn new(inner: Arc<dyn ClickStream>, switch: FailSwitch) -> Self {
        Self { inner, switch }
    }
}

#[async_trait]
impl ClickStream for FailingStream {
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError> {
        if self.switch.take_one() {
            return Err(StreamError::Unavailable("injected append failure".into()));
        }
        if self.switch.take_lost_answer() {
            self.inner.append(partition_key, data).await?;
            return std::future::pending().await;
        }
        self.inner.append(partition_key, data).await
    }

    fn idle_poll(&self) -> Duration {
        self.inner.idle_poll()
    }

    async fn shards(&self) -> Result<Vec<String>, StreamError> {
        self.inner.shards().await
    }

    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError> {
        self.inner.read(shard, after, max).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::embedded::EmbeddedQueue;

    #[tokio::test]
    async fn fails_exactly_the_armed_sends() {
        let q = FailingQueue::new(Arc::new(EmbeddedQueue::in_memory()));
        let switch = q.switch();
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
        let q = Arc::new(FailingQueue::new(inner.clone()));
        q.switch().delay_sends(Duration::from_secs(2));
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
