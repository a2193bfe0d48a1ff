//! What one conversion earns under a plan version (pure): the amount, rounded once, or no amount
//! while an exchange rate is missing; and why it is held for review.

use rust_decimal::Decimal;

use crate::domain::Currency;
use crate::domain::risk::{Risk, RiskReason};
use crate::plans::model::Plan;

/// The facts of a conversion a commission is computed from.
pub struct Facts<'a> {
    pub event_type: &'a str,
    pub value: Option<Decimal>,
    pub currency: Option<Currency>,
    pub received_ms: i64,
    pub click_ms: i64,
    pub verified: bool,
    pub risk: &'a Risk,
    /// The bound customer's side of it (issue 44), when it came through a customer.
    pub customer: Option<CustomerFacts>,
}

/// A bound customer's conversion: whether it is the customer's first of its event type, and
/// when the customer was bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomerFacts {
    pub first: bool,
    pub bound_ms: i64,
    /// Flagged `self_referral`: held for review whatever it earns.
    pub self_referral: bool,
}

impl Facts<'_> {
    /// A conversion without a bound customer is its own first sale.
    fn first(&self) -> bool {
        self.customer.is_none_or(|c| c.first)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Earned {
    /// Minor units of the plan's currency; `None`: the rate is missing.
    pub minor: Option<i64>,
    pub fx_rate: Option<Decimal>,
    pub reasons: Vec<String>,
}

impl Earned {
    fn zero(reason: &str) -> Self {
        Earned {
            minor: Some(0),
            fx_rate: None,
            reasons: vec![reason.to_owned()],
        }
    }
}

/// The conversion currency a rate is needed from (a percentage of a value in another currency).
pub fn rate_needed(plan: &Plan, facts: &Facts<'_>) -> Option<Currency> {
    let rule = plan.rule_for_event(facts.event_type, facts.first())?;
    rule.percent?;
    facts.value?;
    facts.currency.filter(|c| *c != plan.currency)
}

/// The click's attribution window; a bound customer's conversions answer to the plan's
/// customer duration instead (its click may be months old).
fn outside_window(plan: &Plan, facts: &Facts<'_>) -> bool {
    facts.customer.is_none()
        && plan
            .attribution_window
            .max_days
            .is_some_and(|days| facts.received_ms - facts.click_ms > i64::from(days) * 86_400_000)
}

/// The amount earned; `rate` (units of the plan's currency per one of the conversion's) is the
/// one [`rate_needed`] asked for, `None` when it asked and none exists.
pub fn earn(plan: &Plan, facts: &Facts<'_>, rate: Option<Decimal>) -> Earned {
    if outside_window(plan, facts) {
        return Earned::zero("outside_window");
    }
    if let Some(c) = facts.customer
        && !plan
            .customer_duration()
            .covers(c.bound_ms, facts.received_ms)
    {
        return Earned::zero("outside_customer_duration");
    }
    let Some(rule) = plan.rule_for_event(facts.event_type, facts.first()) else {
        return Earned::zero("no_rule");
    };
    let mut reasons = Vec::new();
    let mut exact = rule.flat.unwrap_or(Decimal::ZERO);
    let mut fx_rate = None;
    if let Some(percent) = rule.percent {
        match facts.value {
            None => reasons.push("no_value".to_owned()),
            Some(value) => {
                let rate = match rate_needed(plan, facts) {
                    None => Decimal::ONE,
                    Some(_) => match rate {
                        Some(r) => {
                            fx_rate = Some(r);
                            r
                        }
                        None => {
                            return Earned {
                                minor: None,
                                fx_rate: None,
                                reasons: vec!["fx_rate_missing".to_owned()],
                            };
                        }
                    },
                };
                let part = value
                    .checked_mul(rate)
                    .and_then(|v| v.checked_mul(percent))
                    .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED));
                match part.and_then(|p| exact.checked_add(p)) {
                    Some(sum) => exact = sum,
                    None => return Earned::zero("out_of_range"),
                }
            }
        }
    }
    match plan.currency.round_to_minor(exact) {
        Some(minor) => Earned {
            minor: Some(minor),
            fx_rate,
            reasons,
        },
        None => Earned::zero("out_of_range"),
    }
}

/// Why a new commission is held for an operator's review (empty: it follows the normal flow).
/// `unverified` is the plan's call (`requireVerified`), never the risk signal's alone.
pub fn hold_reasons(plan: &Plan, facts: &Facts<'_>, partner_suspended: bool) -> Vec<String> {
    let mut reasons: Vec<String> = facts
        .risk
        .reasons
        .iter()
        .filter(|r| **r != RiskReason::Unverified)
        .map(|r| {
            let name = serde_json::to_value(r).ok();
            format!(
                "risk_{}",
                name.as_ref().and_then(|v| v.as_str()).unwrap_or("signal")
            )
        })
        .collect();
    if plan.require_verified && !facts.verified {
        reasons.push("unverified".to_owned());
    }
    if partner_suspended {
        reasons.push("partner_suspended".to_owned());
    }
    if facts.customer.is_some_and(|c| c.self_referral) {
        reasons.push(crate::domain::customer::SELF_REFERRAL.to_owned());
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::model::PlanSpec;

    fn plan(json: serde_json::Value) -> Plan {
        let v = serde_json::from_value::<PlanSpec>(json)
            .unwrap()
            .validate(30)
            .unwrap();
        Plan {
            campaign_id: crate::domain::CampaignId::parse("alpha").unwrap(),
            currency: v.currency,
            rules: v.rules,
            hold_days: v.hold_days,
            require_verified: v.require_verified,
            caps: v.caps,
            attribution_window: v.attribution_window,
            customer_duration: v.customer_duration,
            hold_above_risk: v.hold_above_risk,
            effective_at: None,
            version: 1,
            updated_at: "2026-11-01T00:00:00Z".into(),
            updated_by: "t".into(),
        }
    }

    fn facts<'a>(risk: &'a Risk, value: Option<&str>, currency: &str) -> Facts<'a> {
        Facts {
            event_type: "purchase",
            value: value.map(|v| v.parse().unwrap()),
            currency: Some(Currency::parse(currency).unwrap()),
            received_ms: 10 * 86_400_000,
            click_ms: 0,
            verified: true,
            risk,
            customer: None,
        }
    }

    const DAY: i64 = 86_400_000;

    /// Issue 44: "30 % of the first payment, 20 % of renewals for 12 months". A renewal on day
    /// 364 after the binding earns; on day 366 it is past the 12 months and earns nothing, with
    /// the reason; the click's attribution window does not apply to a bound customer.
    #[test]
    fn first_and_recurring_rates_and_the_customers_duration() {
        let p = plan(
            serde_json::json!({"currency": "EUR", "attributionWindow": {"maxDays": 7},
            "customerDuration": {"months": 12}, "rules": [
            {"eventType": "purchase", "percent": "30", "appliesTo": "first"},
            {"eventType": "purchase", "percent": "20", "appliesTo": "recurring"}]}),
        );
        let risk = Risk::default();
        let bound_ms = 1_767_225_600_000; // 2026-01-01
        let at = |day: i64, first: bool| Facts {
            received_ms: bound_ms + day * DAY,
            click_ms: bound_ms,
            customer: Some(CustomerFacts {
                first,
                bound_ms,
                self_referral: false,
            }),
            ..facts(&risk, Some("100"), "EUR")
        };
        assert_eq!(earn(&p, &at(0, true), None).minor, Some(3000));
        assert_eq!(earn(&p, &at(30, false), None).minor, Some(2000));
        assert_eq!(earn(&p, &at(364, false), None).minor, Some(2000));
        let late = earn(&p, &at(366, false), None);
        assert_eq!(
            (late.minor, late.reasons),
            (Some(0), vec!["outside_customer_duration".to_owned()])
        );
        let lifetime = plan(
            serde_json::json!({"currency": "EUR", "customerDuration": "lifetime",
            "rules": [{"eventType": "purchase", "percent": "20"}]}),
        );
        assert_eq!(earn(&lifetime, &at(3650, false), None).minor, Some(2000));
        // Without a customer, a conversion is its own first sale (the `first` rule pays it).
        let one_shot = Facts {
            received_ms: DAY,
            ..facts(&risk, Some("100"), "EUR")
        };
        assert_eq!(earn(&p, &one_shot, None).minor, Some(3000));
        // …and its click's window still holds it (10 days after a 7-day window: nothing).
        let stale = facts(&risk, Some("100"), "EUR");
        assert_eq!(earn(&p, &stale, None).reasons, ["outside_window"]);
    }

    #[test]
    fn overlapping_or_misshapen_customer_rules_are_named() {
        let bad = |json: serde_json::Value| {
            serde_json::from_value::<PlanSpec>(json)
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    s.validate(30)
                        .map_err(|e| format!("{}: {}", e.field, e.message))
                })
                .unwrap_err()
        };
        let e = bad(serde_json::json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "30"},
            {"eventType": "purchase", "percent": "20", "appliesTo": "recurring"}]}));
        assert!(e.starts_with("rules[1]"), "{e}");
        let e = bad(
            serde_json::json!({"currency": "EUR", "customerDuration": {"months": 0},
            "rules": [{"eventType": "purchase", "percent": "20"}]}),
        );
        assert!(e.starts_with("customerDuration.months"), "{e}");
        let e = bad(serde_json::json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "20", "appliesTo": "sometimes"}]}));
        assert!(e.contains("sometimes"), "{e}");
    }

    #[test]
    fn flat_plus_percent_is_rounded_once_in_the_plan_currency() {
        let p = plan(serde_json::json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "flat": "1.00", "percent": "12.5"}]}));
        let risk = Risk::default();
        // 1.00 + 12.5 % of 19.99 = 3.49875 → 3.50
        assert_eq!(
            earn(&p, &facts(&risk, Some("19.99"), "EUR"), None).minor,
            Some(350)
        );
        let usd = facts(&risk, Some("100"), "USD");
        assert_eq!(rate_needed(&p, &usd), Currency::parse("USD").ok());
        let missing = earn(&p, &usd, None);
        assert_eq!(
            (missing.minor, missing.reasons),
            (None, vec!["fx_rate_missing".to_owned()])
        );
        let rate = "0.9".parse().unwrap();
        assert_eq!(earn(&p, &usd, Some(rate)).minor, Some(1225));
        assert_eq!(
            earn(&p, &facts(&risk, None, "EUR"), None).reasons,
            ["no_value"]
        );
    }

    #[test]
    fn jpy_rounds_to_whole_yen_and_the_window_and_rules_say_zero() {
        let p = plan(serde_json::json!({"currency": "JPY", "rules": [
            {"eventType": "purchase", "percent": "3"}], "attributionWindow": {"maxDays": 7}}));
        let risk = Risk::default();
        let mut f = facts(&risk, Some("1250"), "JPY");
        f.received_ms = 86_400_000;
        // 3 % of 1250 = 37.5 → 38 (half away from zero)
        assert_eq!(earn(&p, &f, None).minor, Some(38));
        f.received_ms = 8 * 86_400_000;
        assert_eq!(earn(&p, &f, None).reasons, ["outside_window"]);
        f.received_ms = 86_400_000;
        f.event_type = "signup";
        assert_eq!(earn(&p, &f, None), Earned::zero("no_rule"));
    }

    #[test]
    fn only_the_plan_decides_on_unverified_and_other_risk_holds() {
        let p = plan(serde_json::json!({"currency": "EUR", "rules": [], "requireVerified": true}));
        let unverified = Risk {
            score: 40,
            reasons: vec![RiskReason::Unverified],
        };
        let mut f = facts(&unverified, None, "EUR");
        f.verified = false;
        assert_eq!(hold_reasons(&p, &f, false), ["unverified"]);
        let lax = plan(serde_json::json!({"currency": "EUR", "rules": []}));
        assert!(hold_reasons(&lax, &f, false).is_empty());
        let fast = Risk {
            score: 40,
            reasons: vec![RiskReason::TooFast],
        };
        let f = facts(&fast, None, "EUR");
        assert_eq!(
            hold_reasons(&lax, &f, true),
            ["risk_too_fast", "partner_suspended"]
        );
    }
}
