//! A campaign's commission plan (pure): its rules, hold, verification rule, caps and attribution
//! window, validated once; and what one conversion earns under it.

use crate::domain::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, Currency, DomainError};
use crate::plans::rule::{self, Bonus, RuleConditions, Tier, TierBasis};

/// The most rules one plan may carry.
pub const MAX_RULES: usize = 20;
/// The default hold before a commission becomes payable.
pub const DEFAULT_HOLD_DAYS: u32 = 30;
const MAX_HOLD_DAYS: u32 = 365;

/// One rule: what an event type (or a qualified click) earns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub qualified_click: bool,
    /// A flat amount in the plan's currency (CPA, or CPC for a qualified click).
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub flat: Option<Decimal>,
    /// A share of the conversion's value (`"12.5"` = 12.5 %).
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
    /// Which of a customer's sales of the event type it pays (issue 44; absent: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// The order rules of one event type are tried in: lowest first (absent: 0; ties: the
    /// array's order). The first whose conditions hold pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// What the conversion must be for this rule to pay it (issue 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<RuleConditions>,
    /// Rates replacing the rule's own from a standing in the partner's month (issue 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<Tier>>,
    /// What `tiers` count (absent: `conversions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_basis: Option<TierBasis>,
    /// A milestone bonus rule: `flat` once per partner and month (a line of kind `bonus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<Bonus>,
}

/// Which of a customer's sales a rule pays: the first of its event type, the later ones, or
/// all. A conversion without a bound customer is its own first sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    All,
    First,
    Recurring,
}

impl AppliesTo {
    fn pays(self, first: bool) -> bool {
        match self {
            AppliesTo::All => true,
            AppliesTo::First => first,
            AppliesTo::Recurring => !first,
        }
    }
}

/// How long after a customer's binding its conversions earn (`{"months": N}` or `"lifetime"`;
/// 12 months when the plan says nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum CustomerDuration {
    Months { months: u32 },
    Lifetime(Lifetime),
}

/// The `"lifetime"` of [`CustomerDuration`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    Lifetime,
}

/// The default [`CustomerDuration`].
pub const DEFAULT_CUSTOMER_MONTHS: u32 = 12;
const MAX_CUSTOMER_MONTHS: u32 = 120;

impl CustomerDuration {
    /// Whether a conversion at `at_ms` of a customer bound at `bound_ms` is still within it
    /// (calendar months: bound on Jan 31, a month ends on the last day of February).
    pub fn covers(self, bound_ms: i64, at_ms: i64) -> bool {
        match self {
            CustomerDuration::Lifetime(_) => true,
            CustomerDuration::Months { months } => at_ms < add_months(bound_ms, months),
        }
    }
}

/// `ms` plus `months` calendar months (the day clamped to the month's last), UTC.
fn add_months(ms: i64, months: u32) -> i64 {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return i64::MAX;
    };
    let total = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + i64::from(months);
    let (Ok(year), Ok(month)) = (i32::try_from(total / 12), u8::try_from(total % 12 + 1)) else {
        return i64::MAX;
    };
    let Ok(month) = time::Month::try_from(month) else {
        return i64::MAX;
    };
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .map(|d| crate::domain::time::unix_millis(at.replace_date(d)))
        .unwrap_or(i64::MAX)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Caps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversions_per_day: Option<u32>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_per_month: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttributionWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
}

/// What a merchant PUTs (the body of `PUT …/commission-plan`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanSpec {
    pub currency: String,
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub hold_days: Option<u32>,
    #[serde(default)]
    pub require_verified: bool,
    #[serde(default)]
    pub caps: Caps,
    #[serde(default)]
    pub attribution_window: AttributionWindow,
    #[serde(default)]
    pub customer_duration: Option<CustomerDuration>,
    /// Holds the partner's new lines while its risk score (`…/partners/{id}/risk`) is above
    /// this (0 to 99), naming the signals in their reasons.
    #[serde(default)]
    pub hold_above_risk: Option<u32>,
    /// When the version takes effect (RFC 3339, not in the past); absent, when it is saved.
    #[serde(default)]
    pub effective_at: Option<Timestamp>,
}

/// A plan version as stored and answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub campaign_id: CampaignId,
    pub currency: Currency,
    pub rules: Vec<Rule>,
    pub hold_days: u32,
    pub require_verified: bool,
    pub caps: Caps,
    pub attribution_window: AttributionWindow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_duration: Option<CustomerDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_above_risk: Option<u8>,
    pub version: u64,
    /// When it was saved.
    pub updated_at: Timestamp,
    pub updated_by: String,
    /// From this time on, conversions are paid under this version (its `updatedAt` for a
    /// version saved to take effect at once, as every version before `effectiveAt` existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_at: Option<Timestamp>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> DomainError {
    DomainError::new(field, message)
}

impl Rule {
    fn validate(&self, i: usize, currency: Currency) -> Result<(), DomainError> {
        let f = |name: &str| format!("rules[{i}].{name}");
        if let Some(bonus) = &self.bonus {
            return self.validate_bonus(i, bonus, currency);
        }
        match (&self.event_type, self.qualified_click) {
            (Some(_), true) | (None, false) => {
                return Err(err(
                    format!("rules[{i}]"),
                    "needs exactly one of eventType or qualifiedClick: true (or bonus).",
                ));
            }
            (Some(t), false) if t.is_empty() || t.len() > 64 => {
                return Err(err(f("eventType"), "must be 1 to 64 characters long."));
            }
            _ => {}
        }
        let from_zero = rule::ladder_from_zero(
            self.tiers.as_deref(),
            self.tier_basis.unwrap_or_default(),
            currency,
        );
        if self.flat.is_none() && self.percent.is_none() && !from_zero {
            return Err(err(
                format!("rules[{i}]"),
                "needs flat, percent or both (or tiers whose first starts at 0).",
            ));
        }
        if self.qualified_click && self.percent.is_some() {
            return Err(err(f("percent"), "a click has no value; use flat."));
        }
        rule::check_rate(&f("flat"), &f("percent"), self.flat, self.percent, currency)?;
        if self.priority.is_some_and(|p| p > rule::MAX_PRIORITY) {
            return Err(err(
                f("priority"),
                format!("must be 0 to {}.", rule::MAX_PRIORITY),
            ));
        }
        self.validate_refinements(i, currency)
    }

    /// Conditions and tiers: a conversion's refinements (a qualified click has neither).
    fn validate_refinements(&self, i: usize, currency: Currency) -> Result<(), DomainError> {
        let f = |name: &str| format!("rules[{i}].{name}");
        if self.qualified_click {
            let refined = [
                (self.conditions.is_some(), "conditions"),
                (self.tiers.is_some(), "tiers"),
                (self.tier_basis.is_some(), "tierBasis"),
            ];
            if let Some((_, name)) = refined.iter().find(|(on, _)| *on) {
                return Err(err(f(name), "a qualified-click rule takes neither."));
            }
        }
        if let Some(c) = &self.conditions {
            c.validate(&f("conditions"), currency)?;
        }
        match &self.tiers {
            Some(tiers) => rule::validate_tiers(
                &f("tiers"),
                tiers,
                self.tier_basis.unwrap_or_default(),
                currency,
            ),
            None if self.tier_basis.is_some() => {
                Err(err(f("tierBasis"), "applies only to a rule with tiers."))
            }
            None => Ok(()),
        }
    }

    /// A bonus rule: `flat` (required) and at most an `eventType` beside `bonus`.
    fn validate_bonus(
        &self,
        i: usize,
        bonus: &Bonus,
        currency: Currency,
    ) -> Result<(), DomainError> {
        let f = |name: &str| format!("rules[{i}].{name}");
        let extra = [
            (self.qualified_click, "qualifiedClick"),
            (self.percent.is_some(), "percent"),
            (self.applies_to.is_some(), "appliesTo"),
            (self.priority.is_some(), "priority"),
            (self.conditions.is_some(), "conditions"),
            (self.tiers.is_some(), "tiers"),
            (self.tier_basis.is_some(), "tierBasis"),
        ];
        if let Some((_, name)) = extra.iter().find(|(on, _)| *on) {
            return Err(err(
                f(name),
                "a bonus rule takes only bonus, flat and eventType.",
            ));
        }
        if let Some(t) = &self.event_type
            && (t.is_empty() || t.len() > 64)
        {
            return Err(err(f("eventType"), "must be 1 to 64 characters long."));
        }
        let n = bonus.conversions_in_month;
        if n == 0 || n > rule::MAX_MILESTONE {
            return Err(err(
                f("bonus.conversionsInMonth"),
                format!("must be 1 to {}.", rule::MAX_MILESTONE),
            ));
        }
        if self.flat.is_none() {
            return Err(err(f("flat"), "a bonus rule pays a flat amount."));
        }
        rule::check_rate(&f("flat"), &f("percent"), self.flat, None, currency)
    }

    /// Two rules are the same target when one could never pay what the other pays: the same
    /// event type (or both the click rule), overlapping `appliesTo`, the same conditions; for
    /// bonuses, the same event type and milestone.
    fn repeats(&self, other: &Rule) -> bool {
        if self.bonus.is_some() || other.bonus.is_some() {
            return self.bonus == other.bonus && self.event_type == other.event_type;
        }
        let ((t1, a1), (t2, a2)) = (self.key(), other.key());
        t1 == t2
            && self.qualified_click == other.qualified_click
            && (a1 == a2 || a1 == AppliesTo::All || a2 == AppliesTo::All)
            && self.conditions == other.conditions
    }

    fn key(&self) -> (Option<&str>, AppliesTo) {
        (
            self.event_type.as_deref(),
            self.applies_to.unwrap_or(AppliesTo::All),
        )
    }

    /// Whether it pays conversions of `event_type` that are (`first`) or are not their
    /// customer's first (conditions aside).
    pub fn targets(&self, event_type: &str, first: bool) -> bool {
        self.bonus.is_none()
            && self.event_type.as_deref() == Some(event_type)
            && self.applies_to.unwrap_or(AppliesTo::All).pays(first)
    }
}

impl PlanSpec {
    /// Validates the plan; `max_window_days` is the ctx lifetime (attribution cannot outlive it).
    pub fn validate(self, max_window_days: u32) -> Result<ValidPlan, DomainError> {
        let currency = Currency::parse(&self.currency)?;
        if self.rules.len() > MAX_RULES {
            return Err(err("rules", format!("at most {MAX_RULES} rules.")));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate(i, currency)?;
            // `all` overlaps `first` and `recurring` of the same event type: without conditions
            // that tell them apart, the rule that pays a conversion would be ambiguous.
            if self.rules[..i].iter().any(|r| r.repeats(rule)) {
                return Err(err(
                    format!("rules[{i}]"),
                    "repeats an earlier rule's target.",
                ));
            }
        }
        let hold_days = self.hold_days.unwrap_or(DEFAULT_HOLD_DAYS);
        if hold_days > MAX_HOLD_DAYS {
            return Err(err("holdDays", "must be at most 365."));
        }
        if let Some(cap) = self.caps.amount_per_month {
            let minor = currency.parse_amount("caps.amountPerMonth", &cap.to_string())?;
            if minor <= 0 {
                return Err(err("caps.amountPerMonth", "must be positive."));
            }
        }
        if self.caps.conversions_per_day == Some(0) {
            return Err(err("caps.conversionsPerDay", "must be positive."));
        }
        if let Some(days) = self.attribution_window.max_days
            && (days == 0 || days > max_window_days)
        {
            return Err(err(
                "attributionWindow.maxDays",
                format!("must be 1 to {max_window_days} (the click context's lifetime)."),
            ));
        }
        if let Some(CustomerDuration::Months { months }) = self.customer_duration
            && (months == 0 || months > MAX_CUSTOMER_MONTHS)
        {
            return Err(err(
                "customerDuration.months",
                format!("must be 1 to {MAX_CUSTOMER_MONTHS}, or use \"lifetime\"."),
            ));
        }
        let effective_at_ms = self
            .effective_at
            .as_deref()
            .map(|t| {
                crate::domain::time::rfc3339_millis(t)
                    .ok_or_else(|| err("effectiveAt", "must be an RFC 3339 time."))
            })
            .transpose()?;
        let hold_above_risk = self
            .hold_above_risk
            .map(|n| u8::try_from(n).ok().filter(|n| *n < 100))
            .map(|n| n.ok_or_else(|| err("holdAboveRisk", "must be 0 to 99 (a risk score).")))
            .transpose()?;
        Ok(ValidPlan {
            currency,
            rules: self.rules,
            hold_days,
            require_verified: self.require_verified,
            caps: self.caps,
            attribution_window: self.attribution_window,
            customer_duration: self.customer_duration,
            hold_above_risk,
            effective_at_ms,
        })
    }
}

/// A validated plan, not yet versioned.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPlan {
    pub currency: Currency,
    pub rules: Vec<Rule>,
    pub hold_days: u32,
    pub require_verified: bool,
    pub caps: Caps,
    pub attribution_window: AttributionWindow,
    pub customer_duration: Option<CustomerDuration>,
    pub hold_above_risk: Option<u8>,
    /// `effectiveAt` as given (checked against the clock when saved: [`ValidPlan::versioned`]).
    pub effective_at_ms: Option<i64>,
}

impl ValidPlan {
    /// This plan as version `version` of `campaign_id`'s, in force from `updated_at`.
    pub fn versioned(
        self,
        campaign_id: CampaignId,
        version: u64,
        updated_at: Timestamp,
        updated_by: String,
    ) -> Plan {
        Plan {
            campaign_id,
            currency: self.currency,
            rules: self.rules,
            hold_days: self.hold_days,
            require_verified: self.require_verified,
            caps: self.caps,
            attribution_window: self.attribution_window,
            customer_duration: self.customer_duration,
            hold_above_risk: self.hold_above_risk,
            version,
            effective_at: self.effective_at_ms.map(Timestamp::from_millis),
            updated_at,
            updated_by,
        }
    }
}

impl Plan {
    /// From when conversions are paid under this version (unix ms; `i64::MAX` if unreadable).
    pub fn effective_ms(&self) -> i64 {
        self.effective_at
            .as_ref()
            .unwrap_or(&self.updated_at)
            .millis()
    }

    /// The rules that may pay a conversion of `event_type` that is (`first`) or is not its
    /// customer's first of that type, with their index in `rules`, in the order they are tried:
    /// `priority` (lowest first), then the array's order. The first whose conditions hold pays.
    pub fn candidates(&self, event_type: &str, first: bool) -> Vec<(usize, &Rule)> {
        let mut found: Vec<(usize, &Rule)> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.targets(event_type, first))
            .collect();
        found.sort_by_key(|(i, r)| (r.priority.unwrap_or(0), *i));
        found
    }

    /// Whether conversions of `event_type` need the partner's month standing: a rule of that
    /// type with tiers, or a bonus counting it.
    pub fn counts_month(&self, event_type: &str) -> bool {
        self.rules.iter().any(|r| match &r.bonus {
            Some(_) => r.event_type.as_deref().is_none_or(|t| t == event_type),
            None => r.tiers.is_some() && r.event_type.as_deref() == Some(event_type),
        })
    }

    /// How long a bound customer's conversions earn.
    pub fn customer_duration(&self) -> CustomerDuration {
        self.customer_duration.unwrap_or(CustomerDuration::Months {
            months: DEFAULT_CUSTOMER_MONTHS,
        })
    }

    pub fn click_rule(&self) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.qualified_click && r.bonus.is_none())
    }

    /// The monthly amount cap in minor units.
    pub fn month_cap_minor(&self) -> Option<i64> {
        self.caps
            .amount_per_month
            .and_then(|d| self.currency.round_to_minor(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_with_keys_beside_months_is_refused() {
        let raw = serde_json::json!({"months": 1, "extra": 42});
        assert!(serde_json::from_value::<CustomerDuration>(raw).is_err());
        let ok = serde_json::json!({"months": 3});
        assert_eq!(
            serde_json::from_value::<CustomerDuration>(ok).unwrap(),
            CustomerDuration::Months { months: 3 }
        );
    }

    fn spec(json: serde_json::Value) -> Result<ValidPlan, DomainError> {
        serde_json::from_value::<PlanSpec>(json)
            .unwrap()
            .validate(30)
    }

    #[test]
    fn a_plan_validates_each_rule_and_names_the_field() {
        let ok = spec(serde_json::json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "flat": "2.00", "percent": "12.5"},
            {"qualifiedClick": true, "flat": "0.05"}]}));
        assert_eq!(ok.unwrap().hold_days, DEFAULT_HOLD_DAYS);
        let cases = [
            (
                serde_json::json!({"currency": "eur", "rules": []}),
                "currency",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [{"flat": "1"}]}),
                "rules[0]",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [{"eventType": "a"}]}),
                "rules[0]",
            ),
            (
                serde_json::json!({"currency": "JPY", "rules": [{"eventType": "a", "flat": "1.5"}]}),
                "rules[0].flat",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [{"eventType": "a", "percent": "101"}]}),
                "rules[0].percent",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [{"qualifiedClick": true, "percent": "1"}]}),
                "rules[0].percent",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [{"eventType": "a", "flat": "1"}, {"eventType": "a", "flat": "2"}]}),
                "rules[1]",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [], "attributionWindow": {"maxDays": 31}}),
                "attributionWindow.maxDays",
            ),
            (
                serde_json::json!({"currency": "EUR", "rules": [], "caps": {"amountPerMonth": "0"}}),
                "caps.amountPerMonth",
            ),
        ];
        for (body, field) in cases {
            let e = spec(body.clone()).unwrap_err();
            assert_eq!(e.field, field, "{body}");
        }
    }
}
