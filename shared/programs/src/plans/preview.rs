//! What a sample conversion would earn under a plan (a draft being edited, or the version in
//! force): the ledger's own arithmetic (`earn::earn`) at the rate in force now, so the console's
//! preview is the number the ledger would write, rounding included. Nothing is stored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::risk::Risk;
use crate::domain::{CampaignId, Currency, DomainError, Handle};
use crate::fx;
use crate::plans::model::{Plan, PlanSpec};
use crate::platform::store::Store;
use crate::{plans, plans::PlanError};
use crate::{plans::earn, plans::earn::Facts};
use std::time::Duration;

/// The body of `POST …/commission-plan/preview`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Sample {
    /// The draft to preview; without it, the version in force.
    #[serde(default)]
    pub plan: Option<PlanSpec>,
    pub event_type: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// The sample as a bound customer's conversion (its first sale or a renewal, so many days
    /// after the binding); without it, a conversion without a customer.
    #[serde(default)]
    pub customer: Option<SampleCustomer>,
    /// The sample's click (a rule's country, device and source conditions); absent: unknown.
    #[serde(default)]
    pub click: Option<SampleClick>,
    /// The sample's metadata (a rule's `metadataEquals`).
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// Where the partner stands in the month before the sample (tiers); absent: nothing yet.
    #[serde(default)]
    pub month: Option<SampleMonth>,
}

/// A sample's click.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SampleClick {
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub device: Option<crate::domain::visitor::Device>,
    #[serde(default)]
    pub source: Option<String>,
}

/// The partner's month before a sample: conversions of its event type, and their value in the
/// plan's currency.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SampleMonth {
    #[serde(default)]
    pub conversions: Option<u64>,
    #[serde(default)]
    pub revenue: Option<String>,
}

/// A sample's customer: whether the sale is its first, and how long after the binding it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SampleCustomer {
    pub first: bool,
    #[serde(default)]
    pub bound_days_ago: Option<u32>,
}

/// The longest a sample's customer may have been bound: a century.
const MAX_BOUND_DAYS: u32 = 36_500;

#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// In the plan's currency; `null` while the rate is missing.
    pub amount: Option<String>,
    pub currency: Currency,
    pub reasons: Vec<String>,
    pub fx_rate: Option<String>,
    /// The version previewed; `null` for a draft.
    pub plan_version: Option<u64>,
    /// The rule that would pay it (index into the plan's `rules`) and its tier, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_index: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Round trips: the plan (ONE query; for a draft, ONE read of the campaign) and a rate query
/// when a percentage of a value in another currency needs one.
#[tracing::instrument(skip_all, fields(handle = %handle, campaign = %campaign))]
pub async fn preview(
    store: &dyn Store,
    attribution_window: Duration,
    handle: &Handle,
    campaign: &CampaignId,
    sample: Sample,
) -> Result<Preview, PreviewError> {
    let plan = match sample.plan {
        Some(spec) => {
            // A campaign's preview: an unknown campaign is 404 as for a PUT. ONE read.
            crate::campaigns::get(store, handle, campaign)
                .await
                .map_err(PlanError::from)?
                .ok_or_else(|| PlanError::CampaignNotFound(campaign.clone()))?;
            draft(attribution_window, campaign, spec)?
        }
        None => plans::current(store, handle, campaign)
            .await
            .map_err(PlanError::from)?
            .ok_or_else(|| PlanError::NotFound(campaign.clone()))?,
    };
    let (value, currency) = sample_value(&sample.value, &sample.currency, plan.currency)?;
    let now = crate::platform::time::now_millis();
    let customer = sample_customer(sample.customer.as_ref(), now)?;
    let risk = Risk::default();
    let click = sample_click(sample.click.as_ref());
    let month = sample_month(sample.month.as_ref(), plan.currency)?;
    let facts = Facts {
        event_type: check_event_type(&sample.event_type)?,
        value,
        currency: Some(currency),
        received_ms: now,
        click_ms: now,
        verified: true,
        risk: &risk,
        customer,
        attribution: click.as_ref(),
        metadata: sample.metadata.as_ref(),
        month,
    };
    let rate = match earn::rate_needed(&plan, &facts) {
        Some(from) => fx::rate_at(store, handle, from, plan.currency, now)
            .await
            .map_err(PlanError::from)?,
        None => None,
    };
    let earned = earn::earn(&plan, &facts, rate);
    Ok(Preview {
        amount: earned.minor.map(|m| plan.currency.format(i128::from(m))),
        currency: plan.currency,
        reasons: earned.reasons,
        fx_rate: earned.fx_rate.map(|r| r.normalize().to_string()),
        plan_version: (plan.version > 0).then_some(plan.version),
        rule_index: earned.rule_index,
        tier_index: earned.tier_index,
    })
}

/// The sample's click as an attribution (what is not given is `unknown`).
fn sample_click(click: Option<&SampleClick>) -> Option<crate::domain::Attribution> {
    let c = click?;
    let mut a = crate::domain::Attribution::unknown();
    if let Some(country) = &c.country {
        a.country = country.to_ascii_uppercase();
    }
    if let Some(device) = c.device {
        a.device = device;
    }
    if let Some(source) = &c.source {
        a.source.clone_from(source);
    }
    Some(a)
}

/// The sample's month standing (revenue an amount in the plan's currency).
fn sample_month(
    month: Option<&SampleMonth>,
    currency: Currency,
) -> Result<crate::plans::tally::Standing, DomainError> {
    let Some(m) = month else {
        return Ok(crate::plans::tally::Standing::default());
    };
    let revenue = match &m.revenue {
        Some(raw) => currency.parse_amount("month.revenue", raw)?,
        None => 0,
    };
    if revenue < 0 {
        return Err(DomainError::new("month.revenue", "must not be negative."));
    }
    Ok(crate::plans::tally::Standing {
        count: m.conversions.unwrap_or(0),
        revenue_minor: i128::from(revenue),
    })
}

/// A draft validated as a PUT would be, as version 0 (never stored).
pub fn draft(
    attribution_window: Duration,
    campaign: &CampaignId,
    spec: PlanSpec,
) -> Result<Plan, DomainError> {
    let max_days =
        u32::try_from((attribution_window.as_secs() / 86_400).max(1)).unwrap_or(u32::MAX);
    let valid = spec
        .validate(max_days)
        .map_err(|e| DomainError::new(format!("plan.{}", e.field), e.message))?;
    Ok(valid.versioned(
        campaign.clone(),
        0,
        crate::platform::time::timestamp(),
        String::new(),
    ))
}

/// The sample's customer facts: bound `boundDaysAgo` days before now (0 when absent).
fn sample_customer(
    customer: Option<&SampleCustomer>,
    now: i64,
) -> Result<Option<earn::CustomerFacts>, DomainError> {
    let Some(c) = customer else {
        return Ok(None);
    };
    let days = c.bound_days_ago.unwrap_or(0);
    if days > MAX_BOUND_DAYS {
        return Err(DomainError::new(
            "customer.boundDaysAgo",
            format!("at most {MAX_BOUND_DAYS}."),
        ));
    }
    Ok(Some(earn::CustomerFacts {
        first: c.first,
        bound_ms: now - i64::from(days) * 86_400_000,
        self_referral: false,
    }))
}

fn check_event_type(raw: &str) -> Result<&str, DomainError> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(DomainError::new(
            "eventType",
            "must be 1 to 64 characters long.",
        ));
    }
    Ok(raw)
}

/// The sample's value in its currency (the plan's when none is named), validated as an amount.
fn sample_value(
    value: &Option<String>,
    currency: &Option<String>,
    plan_currency: Currency,
) -> Result<(Option<Decimal>, Currency), DomainError> {
    let currency = match currency {
        Some(raw) => Currency::parse(raw)?,
        None => plan_currency,
    };
    let Some(raw) = value else {
        return Ok((None, currency));
    };
    let minor = currency.parse_amount("value", raw)?;
    if minor < 0 {
        return Err(DomainError::new("value", "must not be negative."));
    }
    let scale = currency.minor_units();
    Ok((Some(Decimal::new(minor, scale)), currency))
}
