//! What one conversion earns under a plan version (pure): the amount, rounded once, or no amount
//! while an exchange rate is missing; and why it is held for review.

use rust_decimal::Decimal;

use crate::domain::Currency;
use crate::domain::attribution::Attribution;
use crate::domain::risk::{Risk, RiskReason};
use crate::plans::model::{Plan, Rule};
use crate::plans::rule::{Subject, TierBasis};
use crate::plans::tally::{MonthTally, Standing};

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
    /// The click's country, device and source (a rule's conditions), when known.
    pub attribution: Option<&'a Attribution>,
    /// The conversion's metadata (`metadataEquals`).
    pub metadata: Option<&'a serde_json::Value>,
    /// The partner's standing in the conversion's month for its event type, BEFORE it
    /// ([`MonthTally::standing`]); tiers rate it by where it stands with it counted.
    pub month: Standing,
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Earned {
    /// Minor units of the plan's currency; `None`: the rate is missing.
    pub minor: Option<i64>,
    pub fx_rate: Option<Decimal>,
    pub reasons: Vec<String>,
    /// The rule that paid (its index in the plan's `rules`); `None`: none did.
    pub rule_index: Option<usize>,
    /// The tier of that rule that set the rate (its index in `tiers`); `None`: the rule's own.
    pub tier_index: Option<usize>,
    /// The conversion's value in minor units of the plan's currency, when known: what it adds
    /// to the partner's month revenue ([`MonthTally::add`]).
    pub revenue_minor: Option<i64>,
}

impl Earned {
    fn zero(reason: &str) -> Self {
        Earned {
            minor: Some(0),
            reasons: vec![reason.to_owned()],
            ..Earned::default()
        }
    }
}

/// Whether a rule needs the conversion's value in the plan's currency: a percentage of it, a
/// `valueAtLeast`, or tiers counting revenue.
fn needs_value(rule: &Rule) -> bool {
    rule.percent.is_some()
        || rule.tier_basis == Some(TierBasis::Revenue)
        || rule
            .tiers
            .as_ref()
            .is_some_and(|t| t.iter().any(|t| t.percent.is_some()))
        || rule
            .conditions
            .as_ref()
            .is_some_and(|c| c.value_at_least.is_some())
}

/// The conversion currency a rate is needed from (a value in another currency that one of the
/// rules that may pay it takes a percentage of, compares or counts).
pub fn rate_needed(plan: &Plan, facts: &Facts<'_>) -> Option<Currency> {
    let candidates = plan.candidates(facts.event_type, facts.first());
    if !candidates.iter().any(|(_, r)| needs_value(r)) {
        return None;
    }
    facts.value?;
    facts.currency.filter(|c| *c != plan.currency)
}

/// What a rule's conditions are checked against.
fn subject<'a>(facts: &Facts<'a>, value: Option<Decimal>) -> Subject<'a> {
    Subject {
        country: facts.attribution.map(|a| a.country.as_str()),
        device: facts.attribution.map(|a| a.device),
        source: facts.attribution.map(|a| a.source.as_str()),
        metadata: facts.metadata,
        value,
        first: facts.first(),
    }
}

/// The rate a rule pays at a standing (this conversion counted): the highest tier reached, else
/// the rule's own. Returns `(flat, percent, tier index)`.
fn rate_at(
    rule: &Rule,
    currency: Currency,
    standing: Standing,
) -> (Option<Decimal>, Option<Decimal>, Option<usize>) {
    let basis = rule.tier_basis.unwrap_or_default();
    let reached = match basis {
        TierBasis::Conversions => i128::from(standing.count),
        TierBasis::Revenue => standing.revenue_minor,
    };
    let tier = rule.tiers.as_ref().and_then(|tiers| {
        tiers
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.from.units(basis, currency).is_some_and(|f| reached >= f))
    });
    match tier {
        Some((k, t)) => (t.flat, t.percent, Some(k)),
        None => (rule.flat, rule.percent, None),
    }
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
/// one [`rate_needed`] asked for, `None` when it asked and none exists. The rule that pays is
/// the first of the conversion's event type, in priority order, whose conditions hold; its rate
/// is the tier the partner reaches with this conversion ([`Facts::month`]), never revisited.
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
    let candidates = plan.candidates(facts.event_type, facts.first());
    if candidates.is_empty() {
        return Earned::zero("no_rule");
    }
    // The value in the plan's currency, at the rate asked for.
    let (fx_rate, value) = match (facts.value, rate_needed(plan, facts)) {
        (None, _) => (None, None),
        (Some(v), None) => (None, Some(v)),
        (Some(v), Some(_)) => match rate {
            Some(r) => (Some(r), v.checked_mul(r)),
            None => {
                return Earned {
                    minor: None,
                    reasons: vec!["fx_rate_missing".to_owned()],
                    ..Earned::default()
                };
            }
        },
    };
    let revenue_minor = value.and_then(|v| plan.currency.round_to_minor(v));
    let who = subject(facts, value);
    let Some((index, rule)) = candidates
        .into_iter()
        .find(|(_, r)| r.conditions.as_ref().is_none_or(|c| c.matches(&who)))
    else {
        return Earned {
            revenue_minor,
            ..Earned::zero("no_rule")
        };
    };
    let standing = Standing {
        count: facts.month.count.saturating_add(1),
        revenue_minor: facts
            .month
            .revenue_minor
            .saturating_add(i128::from(revenue_minor.unwrap_or(0))),
    };
    let (flat, percent, tier_index) = rate_at(rule, plan.currency, standing);
    let mut reasons = Vec::new();
    let mut exact = flat.unwrap_or(Decimal::ZERO);
    if let Some(percent) = percent {
        match value {
            None => reasons.push("no_value".to_owned()),
            Some(value) => {
                let part = value
                    .checked_mul(percent)
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
            fx_rate: fx_rate.filter(|_| percent.is_some() && value.is_some()),
            reasons,
            rule_index: Some(index),
            tier_index,
            revenue_minor,
        },
        None => Earned::zero("out_of_range"),
    }
}

/// A milestone reached: the bonus rule at `rule_index` pays `minor` once per partner and month
/// (`key` names it in the month's [`MonthTally`]; the ledger derives the line's id from it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BonusDue {
    pub rule_index: usize,
    pub minor: i64,
    pub key: String,
}

/// The bonuses `tally` (with the conversion just counted) has reached and not been paid, for a
/// conversion of `event_type` on `campaign` under `plan`. A milestone counts the partner's
/// conversions of the bonus rule's event type (of every type without one) in the month; it is
/// paid by the conversion that reaches it, or the first after it once a plan gains it.
pub fn bonuses_due(
    plan: &Plan,
    tally: &MonthTally,
    event_type: &str,
    campaign: &str,
) -> Vec<BonusDue> {
    plan.rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let bonus = r.bonus.as_ref()?;
            let ty = r.event_type.as_deref();
            if ty.is_some_and(|t| t != event_type) {
                return None;
            }
            let count = match ty {
                Some(t) => tally.standing(t, plan.currency).count,
                None => tally.total_count(),
            };
            let key = format!(
                "{campaign}#{}#{}",
                ty.unwrap_or("*"),
                bonus.conversions_in_month
            );
            if count < bonus.conversions_in_month || tally.is_paid(&key) {
                return None;
            }
            let minor = plan.currency.round_to_minor(r.flat?)?;
            Some(BonusDue {
                rule_index: i,
                minor,
                key,
            })
        })
        .collect()
}

/// One conversion of a replay (a backtest), rated and counted as the ledger does it: where the
/// partner stands in `tally` (its month, [`crate::plans::tally::month_of`]) before it, what it
/// earns there, the tally moved by it and the bonuses it reaches (marked paid in `tally`; each
/// is a `bonus` line). `facts.month` is ignored. A plan without tiers or a bonus for the event
/// type neither reads nor moves the tally, as in the ledger.
pub fn earn_in_month(
    plan: &Plan,
    tally: &mut MonthTally,
    mut facts: Facts<'_>,
    rate: Option<Decimal>,
    campaign: &str,
) -> (Earned, Vec<BonusDue>) {
    if !plan.counts_month(facts.event_type) {
        facts.month = Standing::default();
        return (earn(plan, &facts, rate), Vec::new());
    }
    facts.month = tally.standing(facts.event_type, plan.currency);
    let earned = earn(plan, &facts, rate);
    tally.add(facts.event_type, plan.currency, earned.revenue_minor);
    let due = bonuses_due(plan, tally, facts.event_type, campaign);
    for d in &due {
        tally.mark_paid(&d.key);
    }
    (earned, due)
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

impl<'a> Facts<'a> {
    /// What a recorded conversion brings to its earning, at the partner's `month` standing
    /// before it: the accrual's and the backtest's one reading of a conversion.
    pub fn of(c: &'a crate::kernel::events::ConversionData, month: Standing) -> Facts<'a> {
        let click_ms = c.click_id.unix_millis();
        Facts {
            event_type: &c.event_type,
            value: c.value,
            currency: c.currency,
            received_ms: c.received_at.millis(),
            click_ms,
            verified: c.verified,
            risk: &c.risk,
            customer: c.customer_id.as_ref().map(|_| CustomerFacts {
                first: c.customer_first,
                bound_ms: c
                    .customer_bound_at
                    .as_deref()
                    .and_then(crate::domain::time::rfc3339_millis)
                    .unwrap_or(click_ms),
                self_referral: c.customer_self_referral,
            }),
            attribution: Some(&c.attribution),
            metadata: c.metadata.as_ref(),
            month,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::model::PlanSpec;

    use crate::testing::plan;

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
            attribution: None,
            metadata: None,
            month: Standing::default(),
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
