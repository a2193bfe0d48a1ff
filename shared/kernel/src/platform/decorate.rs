//! One decorator for the three seams: [`Decorated`] forwards every call of a [`Store`], [`Queue`]
//! or [`ClickStream`] to the backend it wraps, and lets a [`Hook`] see the call first (and fail
//! or delay it) and see what came back (and lose the answer). Operation counting
//! (`op_counts`) and failure injection (`testing`) are hooks; neither forwards a method itself.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::platform::queue::{OutMessage, Queue, QueueError, QueueName, Received};
use crate::platform::store::{Item, Page, Query, Store, StoreError, WriteOp};
use crate::platform::stream::{ClickStream, StreamError, StreamRecord};

/// A call on a seam, as a hook sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Get,
    Write,
    Transact { items: usize },
    Query,
    Send { messages: usize },
    Receive,
    Ack,
    Append,
    Shards,
    Read,
}

/// What the caller gets once the backend has answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The backend's answer, as it is.
    Pass,
    /// None, ever: the call took effect and its answer was lost on the way back.
    Lose,
}

/// Sees each call of a [`Decorated`] seam. Both methods default to doing nothing.
#[async_trait]
pub trait Hook: Send + Sync + 'static {
    /// Before `call` reaches the backend; `Err(why)` answers it as the seam's `Unavailable`
    /// without reaching the backend.
    async fn before(&self, _call: Call) -> Result<(), String> {
        Ok(())
    }

    /// After the backend answered `call` successfully with `returned` items (records read,
    /// messages received; 0 where nothing is returned).
    fn after(&self, _call: Call, _returned: usize) -> Answer {
        Answer::Pass
    }
}

/// A seam `S` (`dyn Store`, `dyn Queue` or `dyn ClickStream`) with a [`Hook`] on every call.
pub struct Decorated<S: ?Sized, H> {
    inner: Arc<S>,
    hook: H,
}

impl<S: ?Sized, H: Hook> Decorated<S, H> {
    pub fn new(inner: Arc<S>, hook: H) -> Self {
        Self { inner, hook }
    }

    /// The hook, e.g. to arm a failure switch after the seam was handed away.
    pub fn hook(&self) -> &H {
        &self.hook
    }

    /// `call` through the hook: `before`, the backend's `answer`, then `after` on success.
    async fn around<T, E>(
        &self,
        call: Call,
        unavailable: fn(String) -> E,
        returned: fn(&T) -> usize,
        answer: impl Future<Output = Result<T, E>> + Send,
    ) -> Result<T, E> {
        self.hook.before(call).await.map_err(unavailable)?;
        let value = answer.await?;
        match self.hook.after(call, returned(&value)) {
            Answer::Pass => Ok(value),
            Answer::Lose => std::future::pending().await,
        }
    }
}

fn nothing<T>(_: &T) -> usize {
    0
}

#[async_trait]
impl<H: Hook> Store for Decorated<dyn Store, H> {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let answer = self.inner.get(pk, sk);
        self.around(
            Call::Get,
            StoreError::Unavailable,
            |i| usize::from(i.is_some()),
            answer,
        )
        .await
    }

    async fn write(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        let answer = self.inner.write(op);
        self.around(Call::Write, StoreError::Unavailable, nothing, answer)
            .await
    }

    async fn write_lazily(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        let answer = self.inner.write_lazily(op);
        self.around(Call::Write, StoreError::Unavailable, nothing, answer)
            .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let call = Call::Transact { items: ops.len() };
        let answer = self.inner.transact(ops);
        self.around(call, StoreError::Unavailable, nothing, answer)
            .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let answer = self.inner.query(query);
        self.around(
            Call::Query,
            StoreError::Unavailable,
            |p| p.items.len(),
            answer,
        )
        .await
    }
}

#[async_trait]
impl<H: Hook> Queue for Decorated<dyn Queue, H> {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        let call = Call::Send {
            messages: messages.len(),
        };
        let answer = self.inner.send(queue, messages);
        self.around(call, QueueError::Unavailable, nothing, answer)
            .await
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let answer = self.inner.receive(queue, max, visibility);
        self.around(Call::Receive, QueueError::Unavailable, Vec::len, answer)
            .await
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let answer = self.inner.ack(queue, receipt);
        self.around(Call::Ack, QueueError::Unavailable, nothing, answer)
            .await
    }

    /// Passed through: an operator's read, not a call the hooks count or fail.
    async fn depth(
        &self,
        queue: QueueName,
    ) -> Result<Option<crate::platform::queue::Depth>, QueueError> {
        self.inner.depth(queue).await
    }
}

#[async_trait]
impl<H: Hook> ClickStream for Decorated<dyn ClickStream, H> {
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError> {
        let answer = self.inner.append(partition_key, data);
        self.around(Call::Append, StreamError::Unavailable, nothing, answer)
            .await
    }

    fn idle_poll(&self) -> Duration {
        self.inner.idle_poll()
    }

    async fn shards(&self) -> Result<Vec<String>, StreamError> {
        let answer = self.inner.shards();
        self.around(Call::Shards, StreamError::Unavailable, Vec::len, answer)
            .await
    }

    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError> {
        let answer = self.inner.read(shard, after, max);
        self.around(Call::Read, StreamError::Unavailable, Vec::len, answer)
            .await
    }
}
