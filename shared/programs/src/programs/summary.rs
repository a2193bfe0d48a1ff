//! The public program page's data: the program's own words and its commission summary, taken
//! from the template campaign's current plan. Only what a prospective partner may read: each
//! rule's rate and what it pays for, the currency, the hold and the customer duration; never
//! caps, verification rules, other campaigns or anything of the merchant's partners.

use serde::Serialize;

use super::{ApplicationPolicy, ProgramError};
use crate::domain::Handle;
use crate::plans::model::{AppliesTo, CustomerDuration, Plan, Rule};
use crate::platform::store::Store;

/// `GET /v2/public/programs/{handle}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicProgram {
    pub handle: Handle,
    pub name: String,
    pub description: Option<String>,
    pub terms_url: Option<String>,
    pub applications: ApplicationPolicy,
    /// `null` while the program has no template, or its template no plan.
    pub commission: Option<CommissionSummary>,
    /// The program's logo (its mail branding's `logoUrl`), when it set one.
    pub logo_url: Option<String>,
    /// The program's accent colour (its mail branding's, else the default).
    pub color: String,
    /// Whether its partners may make links of their own (it allows some destinations).
    pub own_links: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommissionSummary {
    pub currency: String,
    pub rules: Vec<RuleSummary>,
    /// Days a commission is held before it is payable.
    pub hold_days: u32,
    /// How long a referred customer's later purchases earn: `12 months` or `lifetime`.
    pub customer_duration: String,
    /// The rules in one sentence (`10% of each purchase; 2.00 EUR per lead`).
    pub text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSummary {
    /// The conversion it pays (`purchase`), or `qualified_click`.
    pub pays_for: String,
    pub percent: Option<String>,
    pub flat: Option<String>,
    pub applies_to: AppliesTo,
    pub text: String,
}

/// The page's data (the partner portal's header too). Round trips: the program and its
/// branding read, and with a template ONE plan query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn public(store: &dyn Store, handle: &Handle) -> Result<PublicProgram, ProgramError> {
    let program = super::settings::require(store, handle).await?;
    let brand = crate::mail::branding::get(store, handle).await?;
    let plan = match &program.template {
        Some(t) => crate::plans::current(store, handle, &t.campaign_id).await?,
        None => None,
    };
    Ok(PublicProgram {
        handle: handle.clone(),
        name: program.name,
        description: program.description,
        terms_url: program.terms_url,
        applications: program.applications,
        commission: plan.as_ref().map(summarize),
        logo_url: brand.as_ref().and_then(|b| b.logo_url.clone()),
        color: brand
            .and_then(|b| b.color)
            .unwrap_or_else(|| crate::mail::branding::DEFAULT_COLOR.to_owned()),
        own_links: !program.allowed_destinations.is_empty(),
    })
}

/// The plan in words.
pub fn summarize(plan: &Plan) -> CommissionSummary {
    let currency = plan.currency.as_str().to_owned();
    let rules: Vec<RuleSummary> = plan.rules.iter().map(|r| rule(r, &currency)).collect();
    let text = rules
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let customer_duration = match plan.customer_duration() {
        CustomerDuration::Lifetime(_) => "lifetime".to_owned(),
        CustomerDuration::Months { months: 1 } => "1 month".to_owned(),
        CustomerDuration::Months { months } => format!("{months} months"),
    };
    CommissionSummary {
        currency,
        rules,
        hold_days: plan.hold_days,
        customer_duration,
        text,
    }
}

fn rule(r: &Rule, currency: &str) -> RuleSummary {
    let pays_for = match (&r.event_type, r.qualified_click) {
        (Some(t), _) => t.clone(),
        (None, _) => "qualified_click".to_owned(),
    };
    let percent = r.percent.map(|p| p.normalize().to_string());
    let flat = r.flat.map(|f| format!("{f:.2}"));
    let amount = match (&percent, &flat) {
        (Some(p), Some(f)) => format!("{p}% + {f} {currency}"),
        (Some(p), None) => format!("{p}%"),
        (None, Some(f)) => format!("{f} {currency}"),
        (None, None) => String::new(),
    };
    let applies_to = r.applies_to.unwrap_or(AppliesTo::All);
    let what = pays_for.replace('_', " ");
    let text = match (r.qualified_click, applies_to) {
        (true, _) => format!("{amount} per qualified click"),
        (false, AppliesTo::All) if percent.is_some() => format!("{amount} of each {what}"),
        (false, AppliesTo::All) => format!("{amount} per {what}"),
        (false, AppliesTo::First) => format!("{amount} on a customer's first {what}"),
        (false, AppliesTo::Recurring) => format!("{amount} on each later {what}"),
    };
    RuleSummary {
        pays_for,
        percent,
        flat,
        applies_to,
        text,
    }
}
