//! A campaign's commission plan (pure): its rules, hold, verification rule, caps and attribution
//! window, validated once; and what one conversion earns under it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, Currency, DomainError};

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
    pub effective_at: Option<String>,
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
    pub updated_at: String,
    pub updated_by: String,
    /// From this time on, conversions are paid under this version (its `updatedAt` for a
    /// version saved to take effect at once, as every version before `effectiveAt` existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_at: Option<String>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> DomainError {
    DomainError::new(field, message)
}

impl Rule {
    fn validate(&self, i: usize, currency: Currency) -> Result<(), DomainError> {
        let f = |name: &str| format!("rules[{i}].{name}");
        match (&self.event_type, self.qualified_click) {
            (Some(_), true) | (None, false) => {
                return Err(err(
                    format!("rules[{i}]"),
                    "needs exactly one of eventType or qualifiedClick: true.",
                ));
            }
            (Some(t), false) if t.is_empty() || t.len() > 64 => {
                return Err(err(f("eventType"), "must be 1 to 64 characters long."));
            }
            _ => {}
        }
        if self.flat.is_none() && self.percent.is_none() {
            return Err(err(format!("rules[{i}]"), "needs flat, percent or both."));
        }
        if self.qualified_click && self.percent.is_some() {
            return Err(err(f("percent"), "a click has no value; use flat."));
        }
        if let Some(flat) = self.flat {
            currency.parse_amount(&f("flat"), &flat.to_string())?;
            if flat.is_sign_negative() {
                return Err(err(f("flat"), "must not be negative."));
            }
        }
        if let Some(p) = self.percent
            && (p.is_sign_negative() || p > Decimal::ONE_HUNDRED || p.scale() > 4)
        {
            return Err(err(
                f("percent"),
                "must be 0 to 100 with at most 4 decimals.",
            ));
        }
        Ok(())
    }

    fn key(&self) -> (Option<&str>, AppliesTo) {
        (
            self.event_type.as_deref(),
            self.applies_to.unwrap_or(AppliesTo::All),
        )
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
            // `all` overlaps `first` and `recurring` of the same event type: the rule that pays
            // a conversion is never ambiguous.
            let overlaps = |r: &Rule| {
                let ((t1, a1), (t2, a2)) = (r.key(), rule.key());
                t1 == t2 && (a1 == a2 || a1 == AppliesTo::All || a2 == AppliesTo::All)
            };
            let dup = self.rules[..i]
                .iter()
                .any(|r| overlaps(r) && r.qualified_click == rule.qualified_click);
            if dup {
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
        updated_at: String,
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
            effective_at: self
                .effective_at_ms
                .map(crate::domain::time::unix_millis_to_rfc3339),
            updated_at,
            updated_by,
        }
    }
}

impl Plan {
    /// From when conversions are paid under this version (unix ms; `i64::MAX` if unreadable).
    pub fn effective_ms(&self) -> i64 {
        let at = self.effective_at.as_deref().unwrap_or(&self.updated_at);
        crate::domain::time::rfc3339_millis(at).unwrap_or(i64::MAX)
    }

    /// The rule paying a conversion of `event_type` that is (`first`) or is not its
    /// customer's first of that type.
    pub fn rule_for_event(&self, event_type: &str, first: bool) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            r.event_type.as_deref() == Some(event_type)
                && r.applies_to.unwrap_or(AppliesTo::All).pays(first)
        })
    }

    /// How long a bound customer's conversions earn.
    pub fn customer_duration(&self) -> CustomerDuration {
        self.customer_duration.unwrap_or(CustomerDuration::Months {
            months: DEFAULT_CUSTOMER_MONTHS,
        })
    }

    pub fn click_rule(&self) -> Option<&Rule> {
        self.rules.iter().find(|r| r.qualified_click)
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
