//! A rule's refinements (issue 47, pure): the `conditions` a conversion must meet for the rule
//! to pay it, the `tiers` that change its rate with the partner's standing in the calendar month
//! (UTC), and the milestone `bonus` a rule may be instead. Validated once, with the offending
//! field named (`rules[1].tiers[2].from`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::visitor::Device;
use crate::domain::{Currency, DomainError};

/// The most entries one `…In` list, or keys `metadataEquals`, may hold.
const MAX_LIST: usize = 50;
const MAX_METADATA_KEYS: usize = 10;
/// The most tiers one rule may carry.
pub const MAX_TIERS: usize = 10;
/// The highest `priority`.
pub const MAX_PRIORITY: u32 = 1000;

fn err(field: impl Into<String>, message: impl Into<String>) -> DomainError {
    DomainError::new(field, message)
}

/// What a conversion must be for a rule to pay it: every condition named must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleConditions {
    /// The click's country (two letters), one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_in: Option<Vec<Device>>,
    /// The click's source (`utm_source`, else `direct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_in: Option<Vec<String>>,
    /// Keys of the conversion's `metadata` and the value each must equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_equals: Option<BTreeMap<String, serde_json::Value>>,
    /// The conversion's value, in the plan's currency, at least this.
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub value_at_least: Option<Decimal>,
    /// `new`: the customer's first sale of the event type (a conversion without a bound
    /// customer is its own first); `returning`: a later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerCondition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerCondition {
    New,
    Returning,
}

/// What the conditions are checked against.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subject<'a> {
    pub country: Option<&'a str>,
    pub device: Option<Device>,
    pub source: Option<&'a str>,
    pub metadata: Option<&'a serde_json::Value>,
    /// The value in the plan's currency (`None`: no value).
    pub value: Option<Decimal>,
    /// The customer's first sale of the event type (or no customer).
    pub first: bool,
}

impl RuleConditions {
    pub(crate) fn validate(&self, at: &str, currency: Currency) -> Result<(), DomainError> {
        let f = |name: &str| format!("{at}.{name}");
        if *self == RuleConditions::default() {
            return Err(err(at, "names no condition; leave it out instead."));
        }
        if let Some(list) = &self.country_in {
            list_len(&f("countryIn"), list.len())?;
            for (i, c) in list.iter().enumerate() {
                if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(err(
                        format!("{at}.countryIn[{i}]"),
                        "must be two capital letters (ISO 3166-1 alpha-2).",
                    ));
                }
            }
        }
        if let Some(list) = &self.device_in {
            list_len(&f("deviceIn"), list.len())?;
        }
        if let Some(list) = &self.source_in {
            list_len(&f("sourceIn"), list.len())?;
            if let Some(i) = list.iter().position(|s| s.is_empty() || s.len() > 64) {
                return Err(err(
                    format!("{at}.sourceIn[{i}]"),
                    "must be 1 to 64 characters long.",
                ));
            }
        }
        if let Some(map) = &self.metadata_equals {
            validate_metadata(&f("metadataEquals"), map)?;
        }
        if let Some(v) = self.value_at_least {
            let minor = currency.parse_amount(&f("valueAtLeast"), &v.to_string())?;
            if minor < 0 {
                return Err(err(f("valueAtLeast"), "must not be negative."));
            }
        }
        Ok(())
    }

    /// Whether a conversion meets every condition named.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let within = |list: &Option<Vec<String>>, v: Option<&str>| {
            list.as_ref()
                .is_none_or(|l| v.is_some_and(|v| l.iter().any(|x| x.eq_ignore_ascii_case(v))))
        };
        within(&self.country_in, s.country)
            && within(&self.source_in, s.source)
            && self
                .device_in
                .as_ref()
                .is_none_or(|l| s.device.is_some_and(|d| l.contains(&d)))
            && self.metadata_equals.as_ref().is_none_or(|m| {
                m.iter()
                    .all(|(k, want)| s.metadata.and_then(|md| md.get(k)) == Some(want))
            })
            && self
                .value_at_least
                .is_none_or(|min| s.value.is_some_and(|v| v >= min))
            && self.customer.is_none_or(|c| match c {
                CustomerCondition::New => s.first,
                CustomerCondition::Returning => !s.first,
            })
    }
}

fn list_len(field: &str, n: usize) -> Result<(), DomainError> {
    if n == 0 || n > MAX_LIST {
        return Err(err(field, format!("must list 1 to {MAX_LIST} values.")));
    }
    Ok(())
}

fn validate_metadata(
    at: &str,
    map: &BTreeMap<String, serde_json::Value>,
) -> Result<(), DomainError> {
    if map.is_empty() || map.len() > MAX_METADATA_KEYS {
        return Err(err(at, format!("must name 1 to {MAX_METADATA_KEYS} keys.")));
    }
    for (k, v) in map {
        if k.is_empty() || k.len() > 64 {
            return Err(err(at, "keys must be 1 to 64 characters long."));
        }
        let scalar = matches!(
            v,
            serde_json::Value::String(_)
                | serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
        );
        if !scalar {
            return Err(err(
                format!("{at}.{k}"),
                "must be a string, a number or a boolean.",
            ));
        }
    }
    Ok(())
}

/// What a rule's tiers count in the calendar month (UTC): the partner's conversions of the
/// event type, or their value summed in the plan's currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    #[default]
    Conversions,
    Revenue,
}

/// A tier's threshold as written: a count (`50`) or an amount (`"1000.00"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    Number(u64),
    Text(String),
}

impl Threshold {
    /// As written, for a sentence.
    pub fn words(&self) -> String {
        self.text()
    }

    fn text(&self) -> String {
        match self {
            Threshold::Number(n) => n.to_string(),
            Threshold::Text(s) => s.clone(),
        }
    }

    /// In the basis' unit: a count, or minor units of `currency`. `None`: not one.
    pub fn units(&self, basis: TierBasis, currency: Currency) -> Option<i128> {
        match basis {
            TierBasis::Conversions => self.text().parse::<u64>().ok().map(i128::from),
            TierBasis::Revenue => currency
                .parse_amount("from", &self.text())
                .ok()
                .map(i128::from),
        }
    }
}

/// A rate that replaces the rule's own once the partner's month reaches `from` (this
/// conversion included: `from: 3` pays the month's 3rd conversion and later ones at it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tier {
    pub from: Threshold,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub flat: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
}

/// Validates a rule's tiers: each with a rate, `from` in the basis' unit (positive, or 0 for the
/// first) and strictly above the tier before it (tiers never overlap).
pub(crate) fn validate_tiers(
    at: &str,
    tiers: &[Tier],
    basis: TierBasis,
    currency: Currency,
) -> Result<(), DomainError> {
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        return Err(err(at, format!("must hold 1 to {MAX_TIERS} tiers.")));
    }
    let mut last = 0;
    for (k, tier) in tiers.iter().enumerate() {
        let f = |name: &str| format!("{at}[{k}].{name}");
        // The first tier may start at 0 (a ladder as managers write it: "0-9: 5 %, 10+: 8 %"),
        // and then the rule's own rate is never used (issue 62).
        let from = tier
            .from
            .units(basis, currency)
            .filter(|n| *n > 0 || (k == 0 && *n == 0));
        let Some(from) = from else {
            let unit = match basis {
                TierBasis::Conversions => {
                    "a whole number of conversions (0 for the first tier only)"
                }
                TierBasis::Revenue => {
                    "an amount in the plan's currency (0 for the first tier only)"
                }
            };
            return Err(err(f("from"), format!("must be {unit}.")));
        };
        if k > 0 && from <= last {
            return Err(err(
                f("from"),
                "must be above the previous tier's (tiers may not overlap).",
            ));
        }
        last = from;
        if tier.flat.is_none() && tier.percent.is_none() {
            return Err(err(format!("{at}[{k}]"), "needs flat, percent or both."));
        }
        check_rate(&f("flat"), &f("percent"), tier.flat, tier.percent, currency)?;
    }
    Ok(())
}

/// A flat amount in the plan's currency (not negative) and a percentage of 0 to 100.
pub(crate) fn check_rate(
    flat_field: &str,
    percent_field: &str,
    flat: Option<Decimal>,
    percent: Option<Decimal>,
    currency: Currency,
) -> Result<(), DomainError> {
    if let Some(flat) = flat {
        currency.parse_amount(flat_field, &flat.to_string())?;
        if flat.is_sign_negative() {
            return Err(err(flat_field, "must not be negative."));
        }
    }
    if let Some(p) = percent
        && (p.is_sign_negative() || p > Decimal::ONE_HUNDRED || p.scale() > 4)
    {
        return Err(err(
            percent_field,
            "must be 0 to 100 with at most 4 decimals.",
        ));
    }
    Ok(())
}

/// A milestone: the rule's `flat` once per partner and calendar month, when the partner's
/// conversions in the month (of the rule's `eventType`, or of every type without one) reach
/// `conversionsInMonth`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bonus {
    pub conversions_in_month: u64,
}

/// The most a milestone may count.
pub const MAX_MILESTONE: u64 = 10_000_000;

/// Whether a rule's tiers start at 0: its first tier then pays from the month's first
/// conversion and the rule's own rate is never used (so it may have none).
pub fn ladder_from_zero(tiers: Option<&[Tier]>, basis: TierBasis, currency: Currency) -> bool {
    tiers
        .and_then(<[Tier]>::first)
        .is_some_and(|t| t.from.units(basis, currency) == Some(0))
}

#[cfg(test)]
mod tests {
    use crate::domain::Attribution;
    use crate::domain::risk::Risk;
    use crate::domain::visitor::Device;
    use crate::plans::earn::{self, CustomerFacts, Facts};
    use crate::plans::model::{Plan, PlanSpec};
    use crate::plans::tally::{MonthTally, Standing};
    use serde_json::json;

    fn spec(body: serde_json::Value) -> Result<Plan, String> {
        let spec = serde_json::from_value::<PlanSpec>(body).map_err(|e| e.to_string())?;
        let v = spec
            .validate(30)
            .map_err(|e| format!("{}: {}", e.field, e.message))?;
        Ok(v.versioned(
            crate::domain::CampaignId::parse("alpha").unwrap(),
            1,
            crate::domain::time::Timestamp::literal("2026-11-01T00:00:00Z"),
            "t".into(),
        ))
    }

    fn field(body: serde_json::Value) -> String {
        spec(body).unwrap_err()
    }

    #[test]
    fn each_bad_refinement_is_refused_naming_its_field() {
        let eur = |rules: serde_json::Value| json!({"currency": "EUR", "rules": rules});
        let cases = [
            (
                json!([{"eventType": "p", "flat": "1"},
                       {"eventType": "p", "percent": "5", "tiers": [{"from": 5, "percent": "6"}, {"from": 5, "percent": "7"}]}]),
                "rules[1].tiers[1].from",
            ),
            (
                json!([{"eventType": "p", "percent": "5", "tiers": [{"from": 10, "percent": "6"}, {"from": 20}]}]),
                "rules[0].tiers[1]",
            ),
            (
                // Only the first tier may start at 0 (issue 62).
                json!([{"eventType": "p", "percent": "5", "tiers": [{"from": 10, "percent": "6"}, {"from": 0, "percent": "7"}]}]),
                "rules[0].tiers[1].from",
            ),
            (
                json!([{"eventType": "p", "percent": "5", "tierBasis": "revenue", "tiers": [{"from": "10.001", "percent": "6"}]}]),
                "rules[0].tiers[0].from",
            ),
            (
                json!([{"eventType": "p", "percent": "5", "tiers": [{"from": 3, "percent": "101"}]}]),
                "rules[0].tiers[0].percent",
            ),
            (
                json!([{"eventType": "p", "percent": "5", "tierBasis": "revenue"}]),
                "rules[0].tierBasis",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "conditions": {"countryIn": ["de"]}}]),
                "rules[0].conditions.countryIn[0]",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "conditions": {}}]),
                "rules[0].conditions",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "conditions": {"metadataEquals": {"plan": {"a": 1}}}}]),
                "rules[0].conditions.metadataEquals.plan",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "conditions": {"valueAtLeast": "1.001"}}]),
                "rules[0].conditions.valueAtLeast",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "priority": 1001}]),
                "rules[0].priority",
            ),
            (
                json!([{"qualifiedClick": true, "flat": "1", "conditions": {"countryIn": ["DE"]}}]),
                "rules[0].conditions",
            ),
            (
                json!([{"bonus": {"conversionsInMonth": 0}, "flat": "500.00"}]),
                "rules[0].bonus.conversionsInMonth",
            ),
            (
                json!([{"bonus": {"conversionsInMonth": 100}, "percent": "5"}]),
                "rules[0].percent",
            ),
            (
                json!([{"bonus": {"conversionsInMonth": 100}}]),
                "rules[0].flat",
            ),
            (
                json!([{"bonus": {"conversionsInMonth": 100}, "flat": "5"},
                       {"bonus": {"conversionsInMonth": 100}, "flat": "6"}]),
                "rules[1]",
            ),
            (
                json!([{"eventType": "p", "flat": "1", "conditions": {"countryIn": ["DE"]}},
                       {"eventType": "p", "flat": "2", "conditions": {"countryIn": ["DE"]}, "priority": 3}]),
                "rules[1]",
            ),
        ];
        for (rules, want) in cases {
            let e = field(eur(rules.clone()));
            assert!(e.starts_with(&format!("{want}:")), "{rules}: {e}");
        }
        // Serde names an unknown condition key (the API answers it 400 naming the path).
        let e = field(eur(
            json!([{"eventType": "p", "flat": "1", "conditions": {"planIs": "pro"}}]),
        ));
        assert!(e.contains("planIs"), "{e}");
        let e = field(eur(
            json!([{"eventType": "p", "flat": "1", "conditions": {"deviceIn": ["toaster"]}}]),
        ));
        assert!(e.contains("toaster"), "{e}");
        // Rules of one event type that differ by conditions coexist; every earlier plan shape
        // stays valid.
        spec(eur(json!([
            {"eventType": "p", "percent": "20", "conditions": {"countryIn": ["DE", "AT"]}, "priority": 1},
            {"eventType": "p", "percent": "10"},
            {"bonus": {"conversionsInMonth": 100}, "flat": "500.00"},
            {"eventType": "s", "flat": "1", "tiers": [{"from": 50, "flat": "2"}]}
        ])))
        .unwrap();
    }

    fn facts<'a>(risk: &'a Risk, attribution: &'a Attribution, value: &str) -> Facts<'a> {
        Facts {
            event_type: "purchase",
            value: Some(value.parse().unwrap()),
            currency: Some(crate::domain::Currency::parse("EUR").unwrap()),
            received_ms: 1000,
            click_ms: 0,
            verified: true,
            risk,
            customer: None,
            attribution: Some(attribution),
            metadata: None,
            month: Standing::default(),
        }
    }

    fn click(country: &str, device: Device, source: &str) -> Attribution {
        Attribution {
            country: country.into(),
            device,
            source: source.into(),
            ..Attribution::unknown()
        }
    }

    #[test]
    fn the_first_matching_rule_in_priority_order_pays_and_is_named() {
        let p = spec(json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "10"},
            {"eventType": "purchase", "percent": "20", "priority": 0, "conditions": {"countryIn": ["DE", "AT"]}},
            {"eventType": "purchase", "percent": "30", "conditions": {"metadataEquals": {"plan": "pro"}, "valueAtLeast": "50.00"}},
            {"eventType": "purchase", "percent": "40", "conditions": {"deviceIn": ["tablet"], "sourceIn": ["news"]}},
            {"eventType": "purchase", "percent": "50", "conditions": {"customer": "returning"}}
        ]}))
        .unwrap();
        // Priorities: rule 0 (no conditions) is tried before its conditioned siblings at the
        // same priority, so give it a later one by reordering priorities.
        let risk = Risk::default();
        let us = click("US", Device::Mobile, "direct");
        let got = earn::earn(&p, &facts(&risk, &us, "100"), None);
        assert_eq!((got.minor, got.rule_index), (Some(1000), Some(0)));
        let mut p = p;
        p.rules[0].priority = Some(9);
        let de = click("DE", Device::Mobile, "direct");
        let got = earn::earn(&p, &facts(&risk, &de, "100"), None);
        assert_eq!((got.minor, got.rule_index), (Some(2000), Some(1)));
        let pro = json!({"plan": "pro"});
        let mut f = facts(&risk, &us, "100");
        f.metadata = Some(&pro);
        assert_eq!(earn::earn(&p, &f, None).rule_index, Some(2));
        let mut f = facts(&risk, &us, "49.99");
        f.metadata = Some(&pro);
        assert_eq!(
            earn::earn(&p, &f, None).rule_index,
            Some(0),
            "below valueAtLeast"
        );
        let tablet = click("FR", Device::Tablet, "news");
        assert_eq!(
            earn::earn(&p, &facts(&risk, &tablet, "100"), None).rule_index,
            Some(3)
        );
        let mut f = facts(&risk, &us, "100");
        f.customer = Some(CustomerFacts {
            first: false,
            bound_ms: 0,
            self_referral: false,
        });
        assert_eq!(earn::earn(&p, &f, None).rule_index, Some(4));
        f.customer = Some(CustomerFacts {
            first: true,
            bound_ms: 0,
            self_referral: false,
        });
        assert_eq!(earn::earn(&p, &f, None).rule_index, Some(0));
        // Ties keep the array's order: two priority-0 conditioned rules, the first listed wins.
        let p = spec(json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "flat": "1", "conditions": {"countryIn": ["DE"]}},
            {"eventType": "purchase", "flat": "2", "conditions": {"deviceIn": ["mobile"]}}]}))
        .unwrap();
        let got = earn::earn(&p, &facts(&risk, &de, "1"), None);
        assert_eq!((got.minor, got.rule_index), (Some(100), Some(0)));
        // None matches: no_rule, amount 0.
        assert_eq!(
            earn::earn(
                &p,
                &facts(&risk, &click("US", Device::Desktop, "x"), "1"),
                None
            )
            .reasons,
            ["no_rule"]
        );
    }

    #[test]
    fn tiers_rate_each_conversion_by_where_the_partner_stands_counted_or_summed() {
        let p = spec(json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "10", "tiers": [{"from": 3, "percent": "20"}, {"from": 5, "flat": "1.00", "percent": "25"}]}]}))
        .unwrap();
        let risk = Risk::default();
        let us = click("US", Device::Mobile, "direct");
        let mut tally = MonthTally::default();
        let eur = p.currency;
        let mut got = Vec::new();
        for _ in 0..6 {
            let f = Facts {
                month: tally.standing("purchase", eur),
                ..facts(&risk, &us, "100")
            };
            let e = earn::earn(&p, &f, None);
            tally.add("purchase", eur, e.revenue_minor);
            got.push((e.minor.unwrap(), e.tier_index));
        }
        assert_eq!(
            got,
            [
                (1000, None),
                (1000, None),
                (2000, Some(0)),
                (2000, Some(0)),
                (2600, Some(1)),
                (2600, Some(1))
            ]
        );
        let by_revenue = spec(json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "10", "tierBasis": "revenue", "tiers": [{"from": "250.00", "percent": "20"}]}]}))
        .unwrap();
        let mut tally = MonthTally::default();
        let mut got = Vec::new();
        for _ in 0..4 {
            let f = Facts {
                month: tally.standing("purchase", eur),
                ..facts(&risk, &us, "100")
            };
            let e = earn::earn(&by_revenue, &f, None);
            tally.add("purchase", eur, e.revenue_minor);
            got.push(e.minor.unwrap());
        }
        // 100, 200: below 250; the 3rd brings the month to 300: the tier.
        assert_eq!(got, [1000, 1000, 2000, 2000]);
    }

    #[test]
    fn a_bonus_is_due_once_at_its_milestone() {
        let p = spec(json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "flat": "1"},
            {"bonus": {"conversionsInMonth": 3}, "flat": "500.00"},
            {"bonus": {"conversionsInMonth": 2}, "eventType": "signup", "flat": "5"}]}))
        .unwrap();
        let eur = p.currency;
        let mut tally = MonthTally::default();
        let mut paid = Vec::new();
        for ty in ["purchase", "signup", "purchase", "purchase", "signup"] {
            tally.add(ty, eur, None);
            for due in earn::bonuses_due(&p, &tally, ty, "alpha") {
                tally.mark_paid(&due.key);
                paid.push((tally.total_count(), due.rule_index, due.minor));
            }
        }
        assert_eq!(paid, [(3, 1, 50_000), (5, 2, 500)]);
        // The replay helper does the same in one call per conversion.
        let risk = Risk::default();
        let us = click("US", Device::Mobile, "direct");
        let mut month = MonthTally::default();
        let mut bonuses = Vec::new();
        for ty in ["purchase", "signup", "purchase", "purchase", "signup"] {
            let f = Facts {
                event_type: ty,
                ..facts(&risk, &us, "10")
            };
            let (_, due) = earn::earn_in_month(&p, &mut month, f, None, "alpha");
            bonuses.extend(due.into_iter().map(|d| d.rule_index));
        }
        assert_eq!(bonuses, [1, 2]);
        assert_eq!((month.total_count(), &month.bonuses), (5, &tally.bonuses));
        assert_eq!(month.standing("purchase", eur).revenue_minor, 3000);
        assert!(p.counts_month("purchase") && p.counts_month("lead"));
        let plain =
            spec(json!({"currency": "EUR", "rules": [{"eventType": "purchase", "flat": "1"}]}))
                .unwrap();
        assert!(!plain.counts_month("purchase"));
    }
}
