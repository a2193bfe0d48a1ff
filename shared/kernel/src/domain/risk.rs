//! Conversion policy and fraud signals (pure). A handle's policy says what the public route may
//! do and where the fraud thresholds are; [`assess`] scores one conversion against it.
//!
//! Signals, each with its weight in the 0–100 score (a conversion is *flagged* when it has any):
//! - `unverified` (40): a public conversion under `publicConversions: flag`;
//! - `too_fast` (40): fewer than `minSecondsAfterClick` seconds after its click;
//! - `per_click_cap` (50): beyond `maxConversionsPerClick` for its click and event type;
//! - `value_above_limit` (30): above `maxValue` for its currency.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DomainError;
use super::conversion::parse_value;
use super::money::Currency;

/// The default `minSecondsAfterClick`: no human reads a page and pays in less.
pub const DEFAULT_MIN_SECONDS_AFTER_CLICK: u32 = 10;
/// Bounds of the settings (a day; a thousand conversions of one type on one click).
pub const MAX_MIN_SECONDS_AFTER_CLICK: u32 = 86_400;
pub const MAX_CONVERSIONS_PER_CLICK: u32 = 1000;

/// What the public (ctx-only) conversion route may do for a handle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicConversions {
    /// Accepted like verified ones (only marked `verified: false`).
    Allow,
    /// Accepted and flagged `unverified`. The default: a public conversion is never counted as
    /// if the merchant had confirmed it.
    #[default]
    Flag,
    /// Refused: `403 verification_required`; over-cap conversions are refused too.
    Deny,
}

/// A handle's conversion policy, as stored and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversionPolicy {
    pub public_conversions: PublicConversions,
    /// Per click and event type; `None`: no cap.
    pub max_conversions_per_click: Option<u32>,
    pub min_seconds_after_click: u32,
    /// Currency → the largest value not flagged.
    pub max_value: BTreeMap<Currency, Decimal>,
}

impl Default for ConversionPolicy {
    fn default() -> Self {
        Self {
            public_conversions: PublicConversions::Flag,
            max_conversions_per_click: None,
            min_seconds_after_click: DEFAULT_MIN_SECONDS_AFTER_CLICK,
            max_value: BTreeMap::new(),
        }
    }
}

/// A policy as submitted (`PUT …/conversion-policy`): absent fields take their defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyInput {
    pub public_conversions: Option<String>,
    pub max_conversions_per_click: Option<Value>,
    pub min_seconds_after_click: Option<Value>,
    pub max_value: Option<BTreeMap<String, Value>>,
}

impl PolicyInput {
    pub fn validate(self) -> Result<ConversionPolicy, DomainError> {
        let public_conversions = match self.public_conversions.as_deref() {
            Some("allow") => PublicConversions::Allow,
            None | Some("flag") => PublicConversions::Flag,
            Some("deny") => PublicConversions::Deny,
            Some(_) => {
                return Err(DomainError::new(
                    "publicConversions",
                    "must be allow, flag or deny",
                ));
            }
        };
        let max_conversions_per_click = match self.max_conversions_per_click {
            None | Some(Value::Null) => None,
            Some(v) => Some(bounded(
                "maxConversionsPerClick",
                &v,
                1,
                MAX_CONVERSIONS_PER_CLICK,
            )?),
        };
        let min_seconds_after_click = match self.min_seconds_after_click {
            None => DEFAULT_MIN_SECONDS_AFTER_CLICK,
            Some(v) => bounded("minSecondsAfterClick", &v, 0, MAX_MIN_SECONDS_AFTER_CLICK)?,
        };
        let mut max_value = BTreeMap::new();
        for (currency, raw) in self.max_value.unwrap_or_default() {
            let field = format!("maxValue.{currency}");
            let ccy = Currency::parse(&currency)
                .map_err(|e| DomainError::new(field.clone(), e.message))?;
            let value = parse_value(&raw).map_err(|e| DomainError::new(field, e.message))?;
            max_value.insert(ccy, value);
        }
        Ok(ConversionPolicy {
            public_conversions,
            max_conversions_per_click,
            min_seconds_after_click,
            max_value,
        })
    }
}

fn bounded(field: &str, value: &Value, min: u32, max: u32) -> Result<u32, DomainError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| DomainError::new(field, format!("must be an integer from {min} to {max}")))
}

/// One fraud signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    Unverified,
    TooFast,
    PerClickCap,
    ValueAboveLimit,
}

impl RiskReason {
    fn weight(self) -> u8 {
        match self {
            RiskReason::Unverified | RiskReason::TooFast => 40,
            RiskReason::PerClickCap => 50,
            RiskReason::ValueAboveLimit => 30,
        }
    }
}

/// The fraud signals of one conversion: stored with it, returned and sent with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// 0 (no signal) to 100.
    pub score: u8,
    pub reasons: Vec<RiskReason>,
}

impl Risk {
    pub fn flagged(&self) -> bool {
        !self.reasons.is_empty()
    }

    fn of(mut reasons: Vec<RiskReason>) -> Self {
        reasons.sort();
        reasons.dedup();
        let score: u32 = reasons.iter().map(|r| u32::from(r.weight())).sum();
        Risk {
            score: score.min(100) as u8,
            reasons,
        }
    }
}

/// What [`assess`] looks at.
pub struct Facts {
    pub verified: bool,
    /// Seconds from the click (the ctx's issue time) to now.
    pub seconds_after_click: i64,
    /// Whether this conversion goes beyond the per-click cap (decided by the store).
    pub over_click_cap: bool,
    pub value: Option<Decimal>,
    pub currency: Option<Currency>,
}

pub fn assess(policy: &ConversionPolicy, facts: &Facts) -> Risk {
    let mut reasons = Vec::new();
    if !facts.verified && policy.public_conversions == PublicConversions::Flag {
        reasons.push(RiskReason::Unverified);
    }
    if facts.seconds_after_click < i64::from(policy.min_seconds_after_click) {
        reasons.push(RiskReason::TooFast);
    }
    if facts.over_click_cap {
        reasons.push(RiskReason::PerClickCap);
    }
    let limit = facts.currency.and_then(|c| policy.max_value.get(&c));
    if let (Some(value), Some(limit)) = (facts.value, limit)
        && value > *limit
    {
        reasons.push(RiskReason::ValueAboveLimit);
    }
    Risk::of(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts() -> Facts {
        Facts {
            verified: true,
            seconds_after_click: 60,
            over_click_cap: false,
            value: Some(Decimal::new(2499, 2)),
            currency: Currency::parse("USD").ok(),
        }
    }

    fn policy(body: Value) -> Result<ConversionPolicy, DomainError> {
        serde_json::from_value::<PolicyInput>(body)
            .unwrap()
            .validate()
    }

    #[test]
    fn a_clean_conversion_has_no_signal() {
        let risk = assess(&ConversionPolicy::default(), &facts());
        assert_eq!(risk, Risk::default());
        assert!(!risk.flagged());
    }

    #[test]
    fn each_signal_is_named_and_weighed() {
        let p = policy(json!({"publicConversions": "flag", "maxValue": {"USD": 100}})).unwrap();
        let mut f = facts();
        f.verified = false;
        f.seconds_after_click = 3;
        f.over_click_cap = true;
        f.value = Some(Decimal::new(10_001, 2));
        let risk = assess(&p, &f);
        use RiskReason::*;
        assert_eq!(
            risk.reasons,
            [Unverified, TooFast, PerClickCap, ValueAboveLimit]
        );
        assert_eq!(risk.score, 100, "clamped");
        f.value = Some(Decimal::new(100, 0));
        f.over_click_cap = false;
        assert_eq!(assess(&p, &f).reasons, [Unverified, TooFast]);
        assert_eq!(assess(&p, &f).score, 80);
        // Unverified counts only under `flag`.
        let allow = ConversionPolicy {
            public_conversions: PublicConversions::Allow,
            ..ConversionPolicy::default()
        };
        assert_eq!(assess(&allow, &f).reasons, [TooFast]);
        // New handles flag public conversions.
        assert_eq!(
            assess(&ConversionPolicy::default(), &f).reasons,
            [Unverified, TooFast]
        );
        // Another currency's limit does not apply.
        f.currency = Currency::parse("EUR").ok();
        f.value = Some(Decimal::new(1_000_000, 0));
        f.seconds_after_click = 10;
        assert_eq!(assess(&p, &f).reasons, [Unverified]);
    }

    #[test]
    fn policies_validate_every_field_by_name() {
        assert_eq!(policy(json!({})).unwrap(), ConversionPolicy::default());
        let p = policy(
            json!({"publicConversions": "deny", "maxConversionsPerClick": 1,
            "minSecondsAfterClick": 0, "maxValue": {"USD": "500.50"}}),
        )
        .unwrap();
        assert_eq!(p.public_conversions, PublicConversions::Deny);
        assert_eq!(p.max_conversions_per_click, Some(1));
        assert_eq!(
            p.max_value[&Currency::parse("USD").unwrap()],
            Decimal::new(50050, 2)
        );
        for (body, field) in [
            (json!({"publicConversions": "maybe"}), "publicConversions"),
            (
                json!({"maxConversionsPerClick": 0}),
                "maxConversionsPerClick",
            ),
            (
                json!({"maxConversionsPerClick": "2"}),
                "maxConversionsPerClick",
            ),
            (json!({"minSecondsAfterClick": -1}), "minSecondsAfterClick"),
            (json!({"maxValue": {"XYZ": 1}}), "maxValue.XYZ"),
            (json!({"maxValue": {"usd": 1}}), "maxValue.usd"),
            (json!({"maxValue": {"USD": -1}}), "maxValue.USD"),
        ] {
            assert_eq!(policy(body.clone()).unwrap_err().field, field, "{body}");
        }
    }
}
