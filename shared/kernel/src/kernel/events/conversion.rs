//! `conversion.created`, `conversion.tested` and `conversion.reversed`: a conversion as
//! recorded, and its reversal.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::{EventPayload, EventType};
use crate::domain::risk::Risk;
use crate::domain::{Attribution, CampaignId, ClickId, ConversionId, Currency, ReversalId, SubIds};

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
    pub received_at: Timestamp,
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
    pub customer_bound_at: Option<Timestamp>,
    /// The customer's email is its partner's own (issue 44): its commissions are held.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_self_referral: bool,
    /// The keyed digest of the address behind its click, from the ctx (partner risk groups a
    /// partner's conversions by it); absent without a visitor's click.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
    /// The keyed fingerprint of the browser behind its click, from the ctx (partner risk tells a
    /// sale made from a browser its people sign in from); absent without a visitor's click.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_hash: Option<String>,
    /// The coupon code the sale named and whether its partner's click came with it (issue 63).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<crate::domain::CouponUse>,
}

/// A test conversion goes out as `conversion.tested`, every other as `conversion.created`: the
/// type follows from the record, so the two cannot disagree.
impl EventPayload for ConversionData {
    const TYPES: &'static [EventType] =
        &[EventType::ConversionCreated, EventType::ConversionTested];
    fn event_type(&self) -> EventType {
        if self.test {
            EventType::ConversionTested
        } else {
            EventType::ConversionCreated
        }
    }
}

/// `value` as a JSON number that reads back as exactly the stored decimal.
pub mod money {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
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

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
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
    pub reversed_at: Timestamp,
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

impl EventPayload for ReversalData {
    const TYPES: &'static [EventType] = &[EventType::ConversionReversed];
    fn event_type(&self) -> EventType {
        EventType::ConversionReversed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::conversion;

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
                    reversed_at: crate::domain::time::Timestamp::literal(
                        "2026-11-22T09:00:00.000Z",
                    ),
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
