//! One commission's proof in words (issue 61): why this amount: the sale (or the clicks, the
//! claim, the bonus) it pays, the plan version and the rule that paid it (said as the plan's
//! words, `plans::words`), the rate and the exchange rate taken, and its status with its
//! reasons. Read from the line itself and the plan version it names, so it says what the
//! ledger did, never what a plan would do today.

use serde::Serialize;

use crate::domain::{CommissionId, Currency, Handle};
use crate::ledger::model::Commission;
use crate::ledger::placed::Kind;
use crate::plans::model::Plan;
use crate::platform::store::{Store, StoreError};

/// The answer: the amount and the sentences, in order.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub commission_id: CommissionId,
    pub amount: Option<String>,
    pub currency: Currency,
    pub sentences: Vec<String>,
}

fn day(ts: &crate::domain::time::Timestamp) -> &str {
    ts.as_str().get(..10).unwrap_or(ts.as_str())
}

/// What the line pays for, in a sentence.
fn what(line: &Commission) -> String {
    let tags: Vec<String> = (1..=5)
        .filter_map(|i| {
            let name = format!("sub{i}");
            line.sub_ids.get(&name).map(|v| format!("{name} {v}"))
        })
        .collect();
    let tagged = if tags.is_empty() {
        String::new()
    } else {
        format!(", tagged {}", tags.join(", "))
    };
    match line.kind {
        Kind::Conversion => {
            let event = line.event_type.as_deref().unwrap_or("conversion");
            match (line.value, line.value_currency) {
                (Some(v), Some(c)) => format!(
                    "A {event} of {} {c} on {} by a customer you referred{tagged}.",
                    v.normalize(),
                    day(&line.created_at)
                ),
                _ => format!(
                    "A {event} on {} by a customer you referred{tagged}.",
                    day(&line.created_at)
                ),
            }
        }
        Kind::ClickDay => format!(
            "{} qualified clicks on your links on {}.",
            line.click_count.unwrap_or(0),
            line.click_day.as_deref().unwrap_or(day(&line.created_at))
        ),
        Kind::Adjustment | Kind::Clawback => {
            "It takes back (part of) an earlier commission: its sale was refunded or changed."
                .to_owned()
        }
        Kind::Manual => "Added by the program by hand.".to_owned(),
        Kind::Bonus => "A milestone bonus: your month reached the plan's threshold.".to_owned(),
        Kind::Claim => "A sale you claimed, approved by the program.".to_owned(),
        Kind::Imported => "Imported from the tool the program used before.".to_owned(),
    }
}

/// The rate and the arithmetic's inputs, as the rule and tier say them.
fn rate(plan: &Plan, line: &Commission) -> Option<String> {
    let rule = plan.rules.get(usize::try_from(line.rule_index?).ok()?)?;
    let mut out = format!(
        "The rule that paid it: {}.",
        crate::plans::words::rule(plan, rule)
    );
    if let Some(t) = line
        .tier_index
        .and_then(|i| rule.tiers.as_ref()?.get(usize::try_from(i).ok()?))
    {
        out.push_str(&format!(
            " Your month had reached its tier from {}.",
            t.from.words()
        ));
    }
    Some(out)
}

/// The plan version `version` of the line's campaign. Round trips: ONE read.
async fn plan_version(
    store: &dyn Store,
    handle: &Handle,
    line: &Commission,
) -> Result<Option<Plan>, StoreError> {
    let (Some(campaign), Some(version)) = (&line.campaign_id, line.plan_version) else {
        return Ok(None);
    };
    crate::plans::version(store, handle, campaign, version).await
}

/// The line explained. Round trips: ONE read (its plan version).
#[tracing::instrument(skip_all, fields(handle = %handle, commission = %line.commission_id))]
pub async fn explain(
    store: &dyn Store,
    handle: &Handle,
    line: &Commission,
) -> Result<Explanation, StoreError> {
    let amount = line
        .amount_minor
        .map(|m| line.currency.format(i128::from(m)));
    let mut sentences = vec![what(line)];
    if let Some(plan) = plan_version(store, handle, line).await? {
        let since = crate::domain::time::Timestamp::from_millis(plan.effective_ms());
        sentences.push(format!(
            "Paid under version {} of your plan, in force since {}.",
            plan.version,
            day(&since)
        ));
        sentences.extend(rate(&plan, line));
    }
    if let (Some(rate), Some(from)) = (line.fx_rate, line.value_currency)
        && from != line.currency
    {
        sentences.push(format!(
            "The sale was in {from}: converted at {} {} per {from}.",
            rate.normalize(),
            line.currency
        ));
    }
    sentences.push(match &amount {
        Some(a) => format!("So it is {a} {}.", line.currency),
        None => format!(
            "No amount yet: the exchange rate to {} is not known yet.",
            line.currency
        ),
    });
    sentences.push(standing(line));
    if line.payout_id.is_none() && line.amount_minor.is_some_and(|m| m > 0) {
        sentences.push(format!("Payable from {}.", day(&line.available_at)));
    }
    Ok(Explanation {
        commission_id: line.commission_id.clone(),
        amount,
        currency: line.currency,
        sentences,
    })
}

/// Where the line stands, and why while that is still its state: an approved or paid line's
/// reasons are what it was held for once, not what it is now. A held line is being reviewed.
fn standing(line: &Commission) -> String {
    use crate::ledger::model::Status;
    let status = match line.status {
        Status::Held => "being reviewed".to_owned(),
        other => {
            let code = serde_json::to_value(other).unwrap_or_default();
            crate::domain::words::or_code(code.as_str().unwrap_or_default()).to_lowercase()
        }
    };
    let mut said = format!("It is {status}");
    let current = !matches!(line.status, Status::Approved | Status::Paid);
    if line.reasons.is_empty() || !current {
        said.push('.');
    } else {
        let why: Vec<&str> = line
            .reasons
            .iter()
            .map(|r| crate::domain::words::or_code(r))
            .collect();
        said.push_str(&format!(": {}.", why.join("; ")));
    }
    said
}
