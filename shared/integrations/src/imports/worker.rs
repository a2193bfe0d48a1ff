//! The imports worker: one message per import, worked off a few chunks at a time ([`run::run`]);
//! an import with more chunks than one invocation writes is queued again, so a Lambda never runs
//! into its timeout, and a worker that dies leaves the message to come back (SQS's visibility
//! timeout) and resume at the stored cursor. An import of an uploaded file is read and staged
//! first (`uploads::stage_pending`: ONE read of the job more per message), a budget's worth
//! per invocation (`uploads::Budget`): a file staged over several invocations is queued again
//! the same way, and resumes at the chunk its last invocation recorded; a pull by API key is
//! read from the tool a budget's worth of pages per invocation first (`pulled::step_pending`,
//! ONE read of the job more), resuming at the page its last invocation recorded.

use async_trait::async_trait;

use super::Message;
use super::run::{self, Progress};
use crate::kernel::consume::BatchHandler;
use crate::kernel::state::AppState;
use crate::platform::queue::{OutMessage, QueueName, Received};

/// Chunks one message writes before the import is queued again (100 rows each).
pub const CHUNKS_PER_MESSAGE: usize = 20;

/// The consumer of [`QueueName::Imports`].
pub struct ImportWorker {
    state: AppState,
}

impl ImportWorker {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// The next part, as a message of its own; if it cannot be sent, this one comes back and
    /// resumes where the job says (its staging's progress, its cursor).
    async fn again(&self, received: &Received) -> bool {
        let again = OutMessage::now(received.body.clone());
        self.state
            .queue
            .send(QueueName::Imports, vec![again])
            .await
            .is_ok()
    }

    /// Where a staging step (a pull's pages, an upload's file) leaves the message: `None` to go
    /// on to the run; else the consumer's answer (the next part sent, or the message back to
    /// resume where the job recorded).
    async fn staged(
        &self,
        step: Result<super::uploads::Step, super::ImportError>,
        (received, message): (&Received, &Message),
        what: &'static str,
    ) -> Option<bool> {
        match step {
            Ok(super::uploads::Step::Ready) => None,
            Ok(super::uploads::Step::Paused) => Some(self.again(received).await),
            Err(e) => {
                tracing::warn!(import_id = %message.import_id, error = %e, "{what}; it resumes where it was recorded");
                Some(false)
            }
        }
    }

    /// `true`: done with the message (acknowledged).
    async fn process(&self, received: &Received) -> bool {
        let Ok(message) = serde_json::from_str::<Message>(&received.body) else {
            // Left to fail until the queue dead-letters it, where it stays visible.
            tracing::error!(message_id = %received.message_id, "unreadable import message");
            return false;
        };
        let state = &self.state;
        let budget = super::uploads::Budget::of(&state.config);
        // A pull by API key: the tool's pages read and staged first (nothing when it is not
        // one, or was read already), a budget's worth per invocation.
        let bases = super::pull::Bases::of(&state.config);
        let pulled = super::pulled::step_pending(
            state.io(),
            state.payout_key().ok(),
            &bases,
            &message.handle,
            &message.import_id,
            budget,
        );
        if let Some(done) = self
            .staged(pulled.await, (received, &message), "pull not read")
            .await
        {
            return done;
        }
        // An import of an upload: the file read and staged first (nothing when it is not one,
        // or was staged already), a budget's worth per invocation.
        let uploaded = super::uploads::stage_pending(
            state.io(),
            state.uploads.clone(),
            &message.handle,
            &message.import_id,
            budget,
        );
        if let Some(done) = self
            .staged(uploaded.await, (received, &message), "upload not staged")
            .await
        {
            return done;
        }
        let progress = run::run(
            state.io(),
            &state.link_cache,
            super::keyrings::Keys::of(state),
            &message.handle,
            &message.import_id,
            CHUNKS_PER_MESSAGE,
        )
        .await;
        match progress {
            Ok(Progress::Finished) => true,
            Ok(Progress::Paused) => self.again(received).await,
            Err(e) => {
                tracing::warn!(import_id = %message.import_id, error = %e, "import not finished; it will resume");
                false
            }
        }
    }
}

#[async_trait]
impl BatchHandler for ImportWorker {
    fn queue(&self) -> QueueName {
        QueueName::Imports
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        let mut retry = Vec::new();
        // One import at a time per message, in order: an import's chunks are sequential anyway.
        for m in batch {
            if !self.process(&m).await {
                retry.push(m.message_id);
            }
        }
        retry
    }
}
