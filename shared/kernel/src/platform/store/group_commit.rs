//! Group commit on redb, shared by the embedded store and queue. redb runs one write transaction
//! at a time and every durable commit costs an fsync, so all writes go through one writer thread
//! that takes every pending request (up to `max_batch`), applies them in order in ONE write
//! transaction and commits once. Callers are answered only after the commit. What a request does
//! and how its answer looks is the owner's ([`Apply`]); the loop, the batching and the failure
//! handling are here.

use std::sync::Arc;
use std::thread::JoinHandle;

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

/// Outer `Err`: the transaction itself failed (the whole batch fails); inner: the request's own
/// outcome.
pub(crate) type Step<T, E> = Result<Result<T, E>, E>;

/// A request's outcome, held until the batch's fate is known.
pub(crate) trait Answer<E>: Send + Sized {
    /// Replaces the outcome with `err` (the batch was not committed).
    fn fail(self, err: &E) -> Self;
    /// Hands the outcome to the caller (one that gave up no longer needs it).
    fn send(self);
}

/// What an owner (the store, the queue) does with its requests inside the shared loop.
pub(crate) trait Apply: Send + 'static {
    type Request: Send + 'static;
    type Error: Send + 'static;
    type Answer: Answer<Self::Error>;

    fn db(&self) -> &Database;
    fn db_error(e: redb::Error) -> Self::Error;
    /// The answer slot of a request the batch never got to (it is failed with the batch).
    fn pending(request: Self::Request) -> Self::Answer;
    /// The batch's durability, chosen before it is applied.
    fn durability(&mut self, batch: &[Self::Request]) -> Durability;
    /// Applies one request; the error, when present, means the transaction is broken.
    fn apply(
        &mut self,
        txn: &WriteTransaction,
        request: Self::Request,
    ) -> (Self::Answer, Option<Self::Error>);
    /// Last writes of a batch (e.g. a sequence counter), in the same transaction.
    fn before_commit(&mut self, _txn: &WriteTransaction) -> Result<(), Self::Error> {
        Ok(())
    }
    /// After the batch: whether it was committed, and how durably.
    fn after_batch(&mut self, _committed: bool, _durability: Durability) {}
    /// The channel closed: the writer is about to stop.
    fn on_shutdown(&mut self) {}
}

/// The outcome of a step as the request's answer, and the batch's fatal error if it broke.
pub(crate) fn split<T, E, A: Answer<E>>(
    result: Step<T, E>,
    answer: impl FnOnce(Result<T, E>) -> A,
    placeholder: impl FnOnce() -> E,
) -> (A, Option<E>) {
    match result {
        Ok(outcome) => (answer(outcome), None),
        Err(err) => (answer(Err(placeholder())).fail(&err), Some(err)),
    }
}

/// The handle of a running writer: send requests; dropping it drains the queue and joins.
pub(crate) struct Writer<R> {
    tx: mpsc::Sender<R>,
    thread: Option<JoinHandle<()>>,
}

impl<R: Send + 'static> Writer<R> {
    pub(crate) fn spawn<A: Apply<Request = R>>(
        name: &str,
        owner: A,
        capacity: usize,
        max_batch: usize,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(capacity);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || run(owner, rx, max_batch))?;
        Ok(Self {
            tx,
            thread: Some(thread),
        })
    }

    /// Sends a request and waits for its answer; `stopped()` when the writer has stopped.
    pub(crate) async fn submit<T, E>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> R,
        stopped: impl FnOnce() -> E,
    ) -> Result<T, E> {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(make(reply)).await.is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

/// Runs a read on the blocking pool (redb reads block the thread); `lost` turns a read task
/// that panicked into the owner's error.
pub(crate) async fn read<T: Send + 'static, E: Send + 'static>(
    db: &Arc<Database>,
    f: impl FnOnce(&Database) -> Result<T, E> + Send + 'static,
    lost: impl FnOnce(String) -> E,
) -> Result<T, E> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || f(&db))
        .await
        .unwrap_or_else(|e| Err(lost(format!("read task failed: {e}"))))
}

impl<R> Drop for Writer<R> {
    fn drop(&mut self) {
        // Close the channel so the writer drains what is queued and exits, then wait for it so
        // the file is closed (and can be reopened) once the owner is gone.
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run<A: Apply>(mut owner: A, mut rx: mpsc::Receiver<A::Request>, max_batch: usize) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        for answer in apply_batch(&mut owner, batch) {
            answer.send();
        }
    }
    owner.on_shutdown();
}

fn apply_batch<A: Apply>(owner: &mut A, batch: Vec<A::Request>) -> Vec<A::Answer> {
    let durability = owner.durability(&batch);
    let mut txn = match owner.db().begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            let err = A::db_error(e.into());
            owner.after_batch(false, durability);
            return batch
                .into_iter()
                .map(|r| A::pending(r).fail(&err))
                .collect();
        }
    };
    txn.set_durability(durability);
    let mut answers = Vec::with_capacity(batch.len());
    let mut fatal = None;
    for request in batch {
        if fatal.is_some() {
            answers.push(A::pending(request));
            continue;
        }
        let (answer, broke) = owner.apply(&txn, request);
        answers.push(answer);
        fatal = broke;
    }
    let committed = match fatal {
        Some(err) => {
            let _ = txn.abort();
            Err(err)
        }
        None => owner
            .before_commit(&txn)
            .and_then(|()| txn.commit().map_err(|e| A::db_error(e.into()))),
    };
    owner.after_batch(committed.is_ok(), durability);
    match committed {
        Ok(()) => answers,
        Err(err) => answers.into_iter().map(|a| a.fail(&err)).collect(),
    }
}
