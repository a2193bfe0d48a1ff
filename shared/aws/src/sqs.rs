//! The SQS queue: [`Queue`] on two standard SQS queues (events, deliveries), each with a
//! dead-letter queue and a redrive policy (set up by tenx-shared's `runtime::aws::provision`).
//!
//! `send` batches ten messages per `SendMessageBatch` and retries the entries SQS reports as
//! failed; `receive` long-polls briefly (1 s) and asks for `ApproximateReceiveCount`; `ack`
//! deletes. Delays are whole seconds on SQS (rounded up, at most 900 s).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::delete_message::DeleteMessageError;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use tokio::sync::OnceCell;

use crate::client::LazyClient;
use crate::errors::{Failure, classify, describe};
use tenx_kernel::platform::queue::{
    MAX_DELAY_SECS, OutMessage, Queue, QueueError, QueueName, Received,
};
use tenx_kernel::platform::queue::{MAX_RECEIVE_BATCH, MAX_VISIBILITY, validate_body};

/// SQS's limits on one `SendMessageBatch`.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;
/// Attempts for entries of a batch that SQS failed on its side.
const SEND_ATTEMPTS: u32 = 4;
const SEND_BACKOFF: Duration = Duration::from_millis(50);
/// Long-poll wait of `receive`: short, so a local worker loop stays responsive.
const WAIT_SECS: i32 = 1;

/// Where a queue is: its URL when configured, else its name, looked up on first use.
#[derive(Clone)]
pub enum QueueAddress {
    Url(String),
    /// `GetQueueUrl` on first use (one round trip, once per process), never at start: a
    /// function that never touches the queue never asks (cold starts make no network call).
    Named(String),
}

/// [`Queue`] on SQS, given where each queue is.
#[derive(Clone)]
pub struct SqsQueue {
    client: LazyClient<Client>,
    addresses: HashMap<QueueName, QueueAddress>,
    resolved: Arc<HashMap<QueueName, OnceCell<String>>>,
}

impl SqsQueue {
    pub fn new(
        client: impl Into<LazyClient<Client>>,
        events: QueueAddress,
        deliveries: QueueAddress,
    ) -> Self {
        let addresses = HashMap::from([
            (QueueName::Events, events),
            (QueueName::Deliveries, deliveries),
        ]);
        let resolved = QueueName::ALL.map(|q| (q, OnceCell::new()));
        Self {
            client: client.into(),
            addresses,
            resolved: Arc::new(HashMap::from(resolved)),
        }
    }

    /// The same queues and `queue` at `address` (the mail queue, issue 59).
    pub fn with_queue(mut self, queue: QueueName, address: QueueAddress) -> Self {
        self.addresses.insert(queue, address);
        self
    }

    /// The queue's URL: configured, or looked up once by name.
    pub async fn url(&self, queue: QueueName) -> Result<&str, QueueError> {
        let unknown = || QueueError::Other(format!("no address for queue {}", queue.as_str()));
        let cell = self.resolved.get(&queue).ok_or_else(unknown)?;
        let url = cell
            .get_or_try_init(|| async {
                match self.addresses.get(&queue).ok_or_else(unknown)? {
                    QueueAddress::Url(url) => Ok(url.clone()),
                    QueueAddress::Named(name) => self.lookup(name).await,
                }
            })
            .await?;
        Ok(url.as_str())
    }

    /// Every attribute of the queue at `url`. Round trips: ONE `GetQueueAttributes`.
    async fn attributes(
        &self,
        url: &str,
    ) -> Result<HashMap<QueueAttributeName, String>, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", &e))?;
        Ok(out.attributes.unwrap_or_default())
    }

    async fn lookup(&self, name: &str) -> Result<String, QueueError> {
        let out = self.client.get_queue_url().queue_name(name).send().await;
        let out = out.map_err(|e| match classify(&e) {
            Failure::Transient => QueueError::Unavailable(describe("GetQueueUrl", &e)),
            _ => QueueError::Other(format!(
                "{} (run `tenx setup` to create queue {name})",
                describe("GetQueueUrl", &e)
            )),
        })?;
        out.queue_url
            .ok_or_else(|| QueueError::Other(format!("SQS returned no URL for {name}")))
    }

    /// Sends one batch (≤ 10 entries), retrying the entries SQS failed on its side.
    async fn send_batch(&self, url: &str, batch: &[OutMessage]) -> Result<(), QueueError> {
        // Entry ids are positions in `batch`; `pending` holds the ones not yet accepted.
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut last = String::new();
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(SEND_BACKOFF * 2u32.pow(attempt)).await;
            }
            let entries = pending
                .iter()
                .map(|&i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&batch[i].body)
                        .delay_seconds(delay_seconds(batch[i].delay))
                        .build()
                        .map_err(|e| QueueError::Other(format!("building a batch entry: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("SendMessageBatch", &e))?;
            let mut retry = Vec::new();
            for failed in out.failed() {
                if failed.sender_fault() {
                    return Err(QueueError::Other(format!(
                        "SQS rejected a message: {} {}",
                        failed.code(),
                        failed.message().unwrap_or_default()
                    )));
                }
                let index: usize = failed.id().parse().map_err(|_| {
                    QueueError::Other(format!("SQS failed an unknown entry {:?}", failed.id()))
                })?;
                last = format!("{} {}", failed.code(), failed.message().unwrap_or_default());
                retry.push(index);
            }
            if retry.is_empty() {
                return Ok(());
            }
            pending = retry;
        }
        Err(QueueError::Unavailable(format!(
            "SQS kept failing {} of {} messages: {last}",
            pending.len(),
            batch.len()
        )))
    }
}

/// `DelaySeconds` of a delay: whole seconds rounded up, at most 900.
pub fn delay_seconds(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    i32::try_from(secs.min(u64::from(MAX_DELAY_SECS))).unwrap_or(0)
}

/// `VisibilityTimeout` of a duration: whole seconds rounded up, at most 12 h.
pub fn visibility_seconds(visibility: Duration) -> i32 {
    let visibility = visibility.min(MAX_VISIBILITY);
    let secs = visibility.as_secs() + u64::from(visibility.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// Splits messages into SQS batches: at most 10 entries and 256 KiB of bodies each.
fn batches(messages: &[OutMessage]) -> Vec<&[OutMessage]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, message) in messages.iter().enumerate() {
        let full = i - start == BATCH_ENTRIES || bytes + message.body.len() > BATCH_BYTES;
        if full && i > start {
            out.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += message.body.len();
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        for message in &messages {
            validate_body(&message.body)?;
        }
        let url = self.url(queue).await?;
        for batch in batches(&messages) {
            self.send_batch(url, batch).await?;
        }
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let max = max.min(MAX_RECEIVE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .receive_message()
            .queue_url(self.url(queue).await?)
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .visibility_timeout(visibility_seconds(visibility))
            .wait_time_seconds(WAIT_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", &e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                message_id: m.message_id.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let result = self
            .client
            .delete_message()
            .queue_url(self.url(queue).await?)
            .receipt_handle(receipt)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A stale receipt (the message was received again, or is gone): nothing to do, and
            // an unacked message is redelivered anyway.
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), DeleteMessageError::ReceiptHandleIsInvalid(_)) =>
            {
                tracing::debug!(queue = queue.as_str(), "ack with a stale receipt");
                Ok(())
            }
            Err(e) => Err(sdk_error("DeleteMessage", &e)),
        }
    }

    /// SQS's approximate counts: the queue's visible, not visible (and delayed), and its
    /// dead-letter queue's (named by the redrive policy's ARN). Round trips: TWO
    /// `GetQueueAttributes` and ONE `GetQueueUrl` of the dead-letter queue.
    async fn depth(
        &self,
        queue: QueueName,
    ) -> Result<Option<tenx_kernel::platform::queue::Depth>, QueueError> {
        let url = self.url(queue).await?;
        let attrs = self.attributes(url).await?;
        let count = |name: &QueueAttributeName| -> u64 {
            attrs.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        let mut depth = tenx_kernel::platform::queue::Depth {
            waiting: count(&QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                + count(&QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            dead: 0,
        };
        let dlq = attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned))
            .and_then(|arn| arn.rsplit(':').next().map(str::to_owned));
        if let Some(name) = dlq {
            let dlq_url = self.lookup(&name).await?;
            let dead = self.attributes(&dlq_url).await?;
            depth.dead = dead
                .get(&QueueAttributeName::ApproximateNumberOfMessages)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
        Ok(Some(depth))
    }
}

fn sdk_error<E>(
    what: &str,
    err: &SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
) -> QueueError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = describe(what, err);
    match classify(err) {
        Failure::Transient => QueueError::Unavailable(message),
        Failure::Invalid | Failure::Permanent => QueueError::Other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_seconds_and_cap_at_900() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(5)), 1);
        assert_eq!(delay_seconds(Duration::from_secs(2)), 2);
        assert_eq!(delay_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(delay_seconds(Duration::from_secs(5000)), 900);
        assert_eq!(visibility_seconds(Duration::ZERO), 0);
        assert_eq!(visibility_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(visibility_seconds(Duration::from_secs(1 << 40)), 43_200);
    }

    #[test]
    fn batches_hold_ten_entries_and_256_kib() {
        let small: Vec<_> = (0..25).map(|i| OutMessage::now(format!("m{i}"))).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        let big: Vec<_> = (0..3)
            .map(|_| OutMessage::now("x".repeat(100 * 1024)))
            .collect();
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 1]);
        assert!(batches(&[]).is_empty());
    }
}
