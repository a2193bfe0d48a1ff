//! Events flowing through the events queue. The webhook body is the public part of the envelope
//! (`id`, `type`, `createdAt`, `handle`, `data`); `outbox` is internal bookkeeping.

use serde::{Deserialize, Serialize};

use crate::domain::Device;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "link.clicked")]
    LinkClicked,
    #[serde(rename = "link.created")]
    LinkCreated,
    #[serde(rename = "link.updated")]
    LinkUpdated,
    #[serde(rename = "conversion.created")]
    ConversionCreated,
    #[serde(rename = "conversion.tested")]
    ConversionTested,
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        EventType::LinkClicked,
        EventType::LinkCreated,
        EventType::LinkUpdated,
        EventType::ConversionCreated,
        EventType::ConversionTested,
        EventType::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LinkClicked => "link.clicked",
            EventType::LinkCreated => "link.created",
            EventType::LinkUpdated => "link.updated",
            EventType::ConversionCreated => "conversion.created",
            EventType::ConversionTested => "conversion.tested",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where an event's outbox entry lives, so the consumer can clear it once the event is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxKey {
    pub pk: String,
    pub sk: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Stable id: consumers dedupe on it, webhooks send it as `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub created_at: String,
    pub handle: String,
    pub data: serde_json::Value,
    /// Only this subscription receives the event (webhook tests and re-sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_subscription: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxKey>,
}

impl Event {
    pub fn new(kind: EventType, handle: &str, data: serde_json::Value) -> Self {
        Self {
            id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
            kind,
            created_at: crate::time::now_rfc3339(),
            handle: handle.to_owned(),
            data,
            target_subscription: None,
            outbox: None,
        }
    }

    /// The body a webhook endpoint receives.
    pub fn webhook_body(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "createdAt": self.created_at,
            "handle": self.handle,
            "data": self.data,
        })
    }
}

/// What the redirect records for every click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClickData {
    pub click_id: String,
    pub slug: String,
    pub campaign_id: Option<String>,
    pub country: String,
    pub device: Device,
    pub source: String,
    /// Referrer host, or `direct`.
    pub referrer: String,
    /// `new-mobile`, `returning-desktop`, … or `bot`.
    pub segment: String,
    pub bot: bool,
    pub destination_url: String,
    pub at: String,
}

/// A conversion, as recorded and as sent in `conversion.created` / `conversion.tested` events.
/// The click's dimensions come from the ctx token, so analytics can break conversions down the
/// same way as clicks without a lookup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversionData {
    pub conversion_id: String,
    pub idempotency_key: String,
    pub click_id: String,
    pub campaign_id: Option<String>,
    pub slug: String,
    pub event_type: String,
    /// Exact decimal; at most 6 decimal places and 15 significant digits, so the JSON number
    /// sent to webhooks reads back as exactly this value.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    pub value: Option<rust_decimal::Decimal>,
    pub currency: Option<String>,
    pub test: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    pub country: String,
    pub device: String,
    pub source: String,
    /// Referrer host or `direct` (from the ctx token).
    pub referrer: String,
    /// Visitor segment at click time (from the ctx token).
    pub segment: String,
    pub received_at: String,
}
