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

/// The JSON of an [`Event`] (without target or outbox) serialized straight from typed data, with
/// no intermediate `serde_json::Value`: the redirect builds one per click.
pub fn event_json<T: Serialize>(id: &str, kind: EventType, handle: &str, data: &T) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Borrowed<'a, T> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: EventType,
        created_at: &'a str,
        handle: &'a str,
        data: &'a T,
    }
    let created_at = crate::time::now_rfc3339();
    let event = Borrowed {
        id,
        kind,
        created_at: &created_at,
        handle,
        data,
    };
    // Strings, numbers and derived structs: serializing cannot fail.
    serde_json::to_string(&event).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Device;

    #[test]
    fn typed_event_json_reads_back_as_the_event_built_from_a_value() {
        let click = ClickData {
            click_id: "clk_1".into(),
            slug: "spring".into(),
            campaign_id: None,
            country: "DE".into(),
            device: Device::Mobile,
            source: "instagram".into(),
            referrer: "direct".into(),
            segment: "new-mobile".into(),
            bot: false,
            destination_url: "https://example.com/?a=\"b\"".into(),
            at: "2026-11-21T09:00:00.000Z".into(),
        };
        let json = event_json("evt_1", EventType::LinkClicked, "acme", &click);
        let read: Event = serde_json::from_str(&json).unwrap();
        let mut expected = Event::new(
            EventType::LinkClicked,
            "acme",
            serde_json::to_value(&click).unwrap(),
        );
        expected.id = "evt_1".into();
        expected.created_at = read.created_at.clone();
        assert_eq!(read, expected);
        assert!(crate::time::parse_rfc3339(&read.created_at).is_some());
    }
}
