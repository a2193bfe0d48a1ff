//! Events flowing through the events queue. The webhook body is the public part of the envelope
//! (`id`, `type`, `createdAt`, `handle`, `data`); `outbox` is internal bookkeeping.

use serde::{Deserialize, Serialize};

use crate::domain::risk::Risk;
use crate::domain::{
    Attribution, BotReason, CampaignId, ClickId, ConversionId, Currency, EventId, Handle,
    ReversalId, SubIds, SubscriptionId,
};

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
    #[serde(rename = "conversion.reversed")]
    ConversionReversed,
    #[serde(rename = "webhook.test")]
    WebhookTest,
    #[serde(rename = "commission.created")]
    CommissionCreated,
    #[serde(rename = "commission.approved")]
    CommissionApproved,
    #[serde(rename = "commission.rejected")]
    CommissionRejected,
    #[serde(rename = "commission.reversed")]
    CommissionReversed,
    #[serde(rename = "payout.created")]
    PayoutCreated,
    #[serde(rename = "payout.paid")]
    PayoutPaid,
    #[serde(rename = "customer.bound")]
    CustomerBound,
    #[serde(rename = "plan.changed")]
    PlanChanged,
    #[serde(rename = "partner.applied")]
    PartnerApplied,
    #[serde(rename = "partner.approved")]
    PartnerApproved,
    #[serde(rename = "partner.updated")]
    PartnerUpdated,
}

impl EventType {
    pub const ALL: [EventType; 18] = [
        EventType::LinkClicked,
        EventType::LinkCreated,
        EventType::LinkUpdated,
        EventType::ConversionCreated,
        EventType::ConversionTested,
        EventType::ConversionReversed,
        EventType::WebhookTest,
        EventType::CommissionCreated,
        EventType::CommissionApproved,
        EventType::CommissionRejected,
        EventType::CommissionReversed,
        EventType::PayoutCreated,
        EventType::PayoutPaid,
        EventType::CustomerBound,
        EventType::PlanChanged,
        EventType::PartnerApplied,
        EventType::PartnerApproved,
        EventType::PartnerUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LinkClicked => "link.clicked",
            EventType::LinkCreated => "link.created",
            EventType::LinkUpdated => "link.updated",
            EventType::ConversionCreated => "conversion.created",
            EventType::ConversionTested => "conversion.tested",
            EventType::ConversionReversed => "conversion.reversed",
            EventType::WebhookTest => "webhook.test",
            EventType::CommissionCreated => "commission.created",
            EventType::CommissionApproved => "commission.approved",
            EventType::CommissionRejected => "commission.rejected",
            EventType::CommissionReversed => "commission.reversed",
            EventType::PayoutCreated => "payout.created",
            EventType::PayoutPaid => "payout.paid",
            EventType::CustomerBound => "customer.bound",
            EventType::PlanChanged => "plan.changed",
            EventType::PartnerApplied => "partner.applied",
            EventType::PartnerApproved => "partner.approved",
            EventType::PartnerUpdated => "partner.updated",
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
    /// How many times the sweeper has re-sent the event (not the first enqueue).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sweeps: u32,
    /// Epoch ms before which the sweeper leaves the entry alone (its backoff).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_sweep_at: i64,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// Why serializing an event cannot fail: it is strings, numbers, derived structs and a
/// `serde_json::Value` (whose map keys are strings).
const INFALLIBLE: &str = "an event is always serializable";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Stable id: consumers dedupe on it, webhooks send it as `webhook-id`.
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub created_at: String,
    pub handle: Handle,
    pub data: serde_json::Value,
    /// Only this subscription receives the event (webhook tests and re-sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_subscription: Option<SubscriptionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxKey>,
}

impl Event {
    pub fn new(kind: EventType, handle: &Handle, data: serde_json::Value) -> Self {
        Self {
            id: EventId::new(),
            kind,
            created_at: crate::platform::time::now_rfc3339(),
            handle: handle.clone(),
            data,
            target_subscription: None,
            outbox: None,
        }
    }

    /// The event as a queue message body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect(INFALLIBLE)
    }

    /// The event as a stored document (its outbox entry).
    pub fn to_doc(&self) -> serde_json::Value {
        serde_json::to_value(self).expect(INFALLIBLE)
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
/// `T` must be one of the event data structs (derived, string keys): see [`INFALLIBLE`].
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
    let created_at = crate::platform::time::now_rfc3339();
    let event = Borrowed {
        id,
        kind,
        created_at: &created_at,
        handle,
        data,
    };
    serde_json::to_string(&event).expect(INFALLIBLE)
}

/// What the redirect records for every click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClickData {
    pub click_id: ClickId,
    pub slug: String,
    pub campaign_id: Option<CampaignId>,
    #[serde(flatten)]
    pub attribution: Attribution,
    pub bot: bool,
    /// Why the click is a bot's (`null` for a human). Absent in events recorded before it existed.
    #[serde(default)]
    pub bot_reason: Option<BotReason>,
    /// The link had expired: counted as a click, never as a qualified one.
    #[serde(default)]
    pub expired: bool,
    /// The partner's `sub1` … `sub5` from the short URL.
    #[serde(default)]
    pub sub_ids: SubIds,
    /// The console's "try the redirect", not a visitor: counted as a test click only, never in
    /// `clicks` or `qualifiedClicks`. Absent (false) on every visitor's click.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    pub destination_url: String,
    pub at: String,
}

/// A conversion, as recorded and as sent in `conversion.created` / `conversion.tested` events.
/// The click's dimensions come from the ctx token, so analytics can break conversions down the
/// same way as clicks without a lookup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversionData {
    pub conversion_id: ConversionId,
    pub idempotency_key: crate::domain::IdempotencyKey,
    pub click_id: ClickId,
    pub campaign_id: Option<CampaignId>,
    pub slug: String,
    pub event_type: String,
    /// Exact decimal; at most 6 decimal places and 15 significant digits, so the JSON number
    /// sent to webhooks reads back as exactly this value.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    pub value: Option<rust_decimal::Decimal>,
    pub currency: Option<Currency>,
    pub test: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// The click's attribution, from the ctx token.
    #[serde(flatten)]
    pub attribution: Attribution,
    /// The click's `sub1` … `sub5` (from the ctx token).
    #[serde(default)]
    pub sub_ids: SubIds,
    pub received_at: String,
    /// Submitted by the merchant's server (authenticated route); `false` for the public route.
    #[serde(default)]
    pub verified: bool,
    /// Fraud signals at submission.
    #[serde(default)]
    pub risk: Risk,
    /// The reversal, once the merchant reversed it (never on `conversion.created` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversal: Option<Reversal>,
    /// The verified conversion that took this (unverified) one's idempotency key: it is no
    /// longer counted (see `conversions::supersede`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The signed receipt (`conversions::signed`), when the accepting process signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// The bound customer it was attributed through (issue 44), when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<crate::domain::CustomerId>,
    /// The customer's first conversion of this event type (a plan's `appliesTo: first`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_first: bool,
    /// When the customer was bound (a plan's `customerDuration` counts from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_bound_at: Option<String>,
    /// The customer's email is its partner's own (issue 44): its commissions are held.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_self_referral: bool,
    /// The keyed digest of the address behind its click, from the ctx (partner risk groups a
    /// partner's conversions by it); absent without a visitor's click.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
}

/// `partner.updated` (issue 46): a partner's payout details changed (not their first setting),
/// masked on both sides; payouts to them wait for a manager's confirmation or 24 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUpdatedData {
    pub partner_id: crate::domain::PartnerId,
    /// What changed: `payoutMethod`.
    pub changes: Vec<String>,
    /// The payout method before and after, masked (`DE89 **** **** 3000`).
    pub previous: serde_json::Value,
    pub current: serde_json::Value,
    pub changed_by: String,
    pub changed_at: String,
    /// Until then (or a manager's confirmation) the partner's payouts stay out of batches.
    pub held_until: String,
}

/// `value` as a JSON number that reads back as exactly the stored decimal.
pub(crate) mod money {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        use rust_decimal::prelude::ToPrimitive;
        match v {
            // Whole amounts print as integers (`10`, not `10.0`).
            Some(d) if d.fract().is_zero() => match d.to_u64() {
                Some(n) => s.serialize_u64(n),
                None => s.serialize_f64(crate::domain::conversion::value_to_f64(d)),
            },
            Some(d) => s.serialize_f64(crate::domain::conversion::value_to_f64(d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        // Reads a number through its shortest decimal text, as the API input does. Through
        // `Option`, whose visitor takes `null` in every form: inside a flattened struct
        // (`ReversalData`) a `null` arrives as a unit, which rust_decimal's `float_option`
        // refuses, so analytics could not read the reversal of a conversion without a value.
        #[derive(serde::Deserialize)]
        struct Float(#[serde(with = "rust_decimal::serde::float")] Decimal);
        Ok(<Option<Float> as serde::Deserialize>::deserialize(d)?.map(|Float(v)| v))
    }
}

/// A reversal (refund, chargeback) of a conversion, in full or in part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reversal {
    pub reversal_id: ReversalId,
    pub reason: String,
    /// The amount reversed (at most the conversion's value); `null` for a conversion without one.
    #[serde(with = "money", default)]
    pub amount: Option<rust_decimal::Decimal>,
    pub currency: Option<Currency>,
    pub reversed_at: String,
    /// Who reversed it (the caller's subject or token id).
    pub reversed_by: String,
    /// A larger reversal replacing an earlier one (a connector's refunds add up): what the
    /// earlier one reversed. Its consumers move the difference only. Absent on a first reversal.
    #[serde(with = "money", default, skip_serializing_if = "Option::is_none")]
    pub previous_amount: Option<rust_decimal::Decimal>,
}

impl Reversal {
    /// What this reversal adds to the earlier one's (all of it for a first reversal).
    pub fn added(&self) -> Option<rust_decimal::Decimal> {
        let amount = self.amount?;
        Some(amount - self.previous_amount.unwrap_or_default())
    }
}

/// `conversion.reversed`: the reversal and the conversion it reverses (with the click's
/// attribution, so analytics nets revenue on the same day and dimensions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReversalData {
    #[serde(flatten)]
    pub reversal: Reversal,
    pub conversion: ConversionData,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Device;

    #[test]
    fn typed_event_json_reads_back_as_the_event_built_from_a_value() {
        let click = ClickData {
            click_id: ClickId::new(),
            slug: "spring".into(),
            campaign_id: None,
            attribution: crate::domain::Attribution {
                country: "DE".into(),
                device: Device::Mobile,
                source: "instagram".into(),
                referrer: "direct".into(),
                segment: "new-mobile".into(),
            },
            bot: false,
            bot_reason: None,
            expired: false,
            sub_ids: Default::default(),
            test: false,
            destination_url: "https://example.com/?a=\"b\"".into(),
            at: "2026-11-21T09:00:00.000Z".into(),
        };
        let id = EventId::new();
        let json = event_json(id.as_str(), EventType::LinkClicked, "acme", &click);
        let read: Event = serde_json::from_str(&json).unwrap();
        let mut expected = Event::new(
            EventType::LinkClicked,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::to_value(&click).unwrap(),
        );
        expected.id = id;
        expected.created_at = read.created_at.clone();
        assert_eq!(read, expected);
        assert!(crate::domain::time::parse_rfc3339(&read.created_at).is_some());
    }

    fn conversion(value: Option<&str>) -> ConversionData {
        ConversionData {
            conversion_id: ConversionId::new(),
            idempotency_key: crate::domain::IdempotencyKey::parse("order-1").unwrap(),
            click_id: ClickId::new(),
            campaign_id: None,
            slug: "spring".into(),
            event_type: "signup".into(),
            value: value.map(|v| v.parse().unwrap()),
            currency: value.map(|_| Currency::parse("EUR").unwrap()),
            test: false,
            metadata: None,
            attribution: crate::domain::Attribution {
                country: "DE".into(),
                device: Device::Desktop,
                source: "direct".into(),
                referrer: "direct".into(),
                segment: "new-desktop".into(),
            },
            sub_ids: Default::default(),
            received_at: "2026-11-21T09:00:00.000Z".into(),
            verified: false,
            risk: Default::default(),
            reversal: None,
            superseded_by: None,
            receipt: None,
            customer_id: None,
            customer_first: false,
            customer_bound_at: None,
            customer_self_referral: false,
            address_hash: None,
        }
    }

    /// `conversion.reversed` data reads back, also for a conversion without a value (its
    /// `amount` is null inside the flattened reversal: analytics could not read it).
    #[test]
    fn reversal_data_reads_back_with_and_without_an_amount() {
        for value in [None, Some("19.99"), Some("10")] {
            let data = ReversalData {
                reversal: Reversal {
                    reversal_id: ReversalId::new(),
                    reason: "refund".into(),
                    amount: value.map(|v| v.parse().unwrap()),
                    currency: value.map(|_| Currency::parse("EUR").unwrap()),
                    reversed_at: "2026-11-22T09:00:00.000Z".into(),
                    reversed_by: "local-user".into(),
                    previous_amount: None,
                },
                conversion: conversion(value),
            };
            let json = serde_json::to_value(&data).unwrap();
            let read: ReversalData = serde_json::from_value(json.clone())
                .unwrap_or_else(|e| panic!("{value:?}: {e} in {json}"));
            assert_eq!(read, data, "{value:?}");
        }
    }
}
