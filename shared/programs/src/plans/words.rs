//! A plan in words, for people: the change notices partners receive (issue 47) say the old and
//! the new terms this way, so a partner reads what changed without reading JSON.

use crate::plans::model::{AppliesTo, CustomerDuration, Plan, Rule};

/// Each rule as a sentence, then the plan's terms (hold, verification, caps, customers).
pub fn terms(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.rules.iter().map(|r| rule(plan, r)).collect();
    if out.is_empty() {
        out.push("No rule: nothing is paid.".to_owned());
    }
    out.push(format!(
        "Commissions become payable {} days after the conversion.",
        plan.hold_days
    ));
    if plan.require_verified {
        out.push("Only conversions the merchant verified are paid without review.".to_owned());
    }
    if let Some(n) = plan.caps.conversions_per_day {
        out.push(format!("At most {n} paid conversions a day."));
    }
    if let Some(cap) = plan.caps.amount_per_month {
        out.push(format!("At most {cap} {} a month.", plan.currency));
    }
    out.push(match plan.customer_duration() {
        CustomerDuration::Lifetime(_) => "A referred customer earns for its lifetime.".to_owned(),
        CustomerDuration::Months { months } => {
            format!("A referred customer earns for {months} months after it is bound.")
        }
    });
    if let Some(n) = plan.hold_above_risk {
        out.push(format!(
            "Held for review while the partner's risk score is above {n}."
        ));
    }
    out
}

/// One rule: `purchase (first sale): 10 % of the value + 2.00 EUR`.
pub fn rule(plan: &Plan, r: &Rule) -> String {
    let what = match (&r.event_type, r.qualified_click) {
        (Some(t), _) => t.clone(),
        (None, _) => "qualified click".to_owned(),
    };
    let which = match r.applies_to {
        Some(AppliesTo::First) => " (a customer's first)",
        Some(AppliesTo::Recurring) => " (a customer's later ones)",
        _ => "",
    };
    let rate = |percent: Option<rust_decimal::Decimal>, flat: Option<rust_decimal::Decimal>| match (
        percent, flat,
    ) {
        (Some(p), Some(f)) => format!("{p} % of the value + {f} {}", plan.currency),
        (Some(p), None) => format!("{p} % of the value"),
        (None, Some(f)) => format!("{f} {}", plan.currency),
        (None, None) => "nothing".to_owned(),
    };
    let mut pays = Vec::new();
    // A ladder that starts at 0 replaces the rule's own rate (issue 62): it is not said.
    let basis = r.tier_basis.unwrap_or_default();
    if !crate::plans::rule::ladder_from_zero(r.tiers.as_deref(), basis, plan.currency) {
        pays.push(rate(r.percent, r.flat));
    }
    for t in r.tiers.iter().flatten() {
        let from = match basis {
            crate::plans::rule::TierBasis::Conversions => {
                format!("from the month's conversion {}", t.from.words())
            }
            crate::plans::rule::TierBasis::Revenue => {
                format!(
                    "from {} {} of the month's sales",
                    t.from.words(),
                    plan.currency
                )
            }
        };
        pays.push(format!("{from}, {}", rate(t.percent, t.flat)));
    }
    format!("{what}{which}: {}", pays.join("; "))
}

/// What changed, in one paragraph: the rules that went and came.
pub fn summary(before: &[String], after: &[String]) -> String {
    let gone: Vec<&String> = before.iter().filter(|t| !after.contains(t)).collect();
    let came: Vec<&String> = after.iter().filter(|t| !before.contains(t)).collect();
    let join = |v: &[&String]| {
        v.iter()
            .map(|s| s.trim_end_matches('.'))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match (gone.is_empty(), came.is_empty()) {
        (true, true) => "The terms are unchanged.".to_owned(),
        (true, false) => format!("New: {}.", join(&came)),
        (false, true) => format!("No longer: {}.", join(&gone)),
        (false, false) => format!("Was: {}. Now: {}.", join(&gone), join(&came)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::plan;

    #[test]
    fn rules_read_as_sentences_and_a_change_names_what_went_and_came() {
        let old = plan(serde_json::json!({"currency": "EUR", "rules": [
            {"eventType": "purchase", "percent": "10"}]}));
        let new = plan(
            serde_json::json!({"currency": "EUR", "holdDays": 14, "rules": [
            {"eventType": "purchase", "percent": "12.5", "flat": "1.00", "appliesTo": "first"}]}),
        );
        let (before, after) = (terms(&old), terms(&new));
        assert_eq!(before[0], "purchase: 10 % of the value");
        assert_eq!(
            after[0],
            "purchase (a customer's first): 12.5 % of the value + 1.00 EUR"
        );
        let s = summary(&before, &after);
        assert!(s.starts_with("Was: purchase: 10 % of the value;"), "{s}");
        assert!(s.contains("Now: purchase (a customer's first)"), "{s}");
        assert!(s.contains("payable 14 days"), "{s}");
    }
}
