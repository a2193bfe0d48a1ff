//! The queue seam: at-least-once queues with per-message delays, the semantics of SQS.
//!
//! Consumers are idempotent by event id (see `workers`), so at-least-once delivery becomes
//! effectively-once in counters and webhook deliveries.

use std::time::Duration;

use async_trait::async_trait;

pub mod click_log;
pub mod embedded;

/// SQS's largest `DelaySeconds`; longer delays are re-enqueued by the consumer.
pub const MAX_DELAY_SECS: u32 = 900;

/// The queues the product uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    /// Clicks, conversions, link changes and webhook test dispatches: consumed by the aggregator,
    /// which updates counters and fans events out to webhook deliveries.
    Events,
    /// One message per webhook delivery attempt: consumed by the webhook worker.
    Deliveries,
    /// One message per try of one mail (issue 59): consumed by the mail worker.
    Mail,
    /// SES's events (bounce, complaint, delivery) through SNS: consumed by the feedback worker.
    MailEvents,
    /// One message per import under way (issue 64): consumed by the imports worker.
    Imports,
}

impl QueueName {
    pub const ALL: [QueueName; 5] = [
        QueueName::Events,
        QueueName::Deliveries,
        QueueName::Mail,
        QueueName::MailEvents,
        QueueName::Imports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Events => "events",
            QueueName::Deliveries => "deliveries",
            QueueName::Mail => "mail",
            QueueName::MailEvents => "mail-events",
            QueueName::Imports => "imports",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutMessage {
    pub body: String,
    /// Invisible to consumers for this long (at most [`MAX_DELAY_SECS`]). SQS rounds up to whole
    /// seconds; the embedded queue honours milliseconds, which keeps retry tests fast.
    pub delay: Duration,
}

impl OutMessage {
    pub fn now(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(body: impl Into<String>, delay: Duration) -> Self {
        Self {
            body: body.into(),
            delay: delay.min(Duration::from_secs(u64::from(MAX_DELAY_SECS))),
        }
    }
}

/// Deliveries of one message before the queue dead-letters it: the embedded queue's redrive
/// threshold and the `maxReceiveCount` of every queue in `template.yaml`.
pub const MAX_RECEIVES: u32 = embedded::DEFAULT_MAX_RECEIVES;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    /// Handle for [`Queue::ack`].
    pub receipt: String,
    pub body: String,
    /// 1 on first delivery.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue error: {0}")]
    Other(String),
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Durably enqueues every message before returning (batched where the backend allows).
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError>;

    /// Up to `max` due messages, each hidden from other consumers for `visibility`.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError>;

    /// Deletes a received message (processing finished).
    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;

    /// How many messages `queue` holds, as far as the backend tells (an operator's view:
    /// `tenx status`, issue 58). `None` from a backend that cannot tell.
    async fn depth(&self, _queue: QueueName) -> Result<Option<Depth>, QueueError> {
        Ok(None)
    }
}

/// What a queue holds: messages waiting to be received, received and not yet acknowledged
/// (in flight), and dead-lettered after their last delivery. SQS's counts are approximate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Depth {
    pub waiting: u64,
    pub in_flight: u64,
    pub dead: u64,
}

/// SQS limits, enforced by every backend so code that works locally works on SQS.
pub const MAX_RECEIVE_BATCH: usize = 10;
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// SQS accepts 1..=256 KiB bodies of XML-safe characters.
pub fn validate_body(body: &str) -> Result<(), QueueError> {
    if body.is_empty() || body.len() > MAX_BODY_BYTES {
        return Err(QueueError::Other(format!(
            "message bodies must be 1..={MAX_BODY_BYTES} bytes, got {}",
            body.len()
        )));
    }
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    match body.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(QueueError::Other(format!("message body contains {c:?}"))),
        None => Ok(()),
    }
}
