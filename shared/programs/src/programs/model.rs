//! A handle's partner program and the applications to it, as stored and answered, with the
//! validation of what a merchant and an applicant send.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::domain::fraud_rules::FraudAction;
use crate::domain::{ApplicationId, CampaignId, DomainError, PartnerId, Slug, TokenId};
use crate::kernel::events::{EventPayload, EventType};

const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 5000;
const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_REASON_CHARS: usize = 1000;

/// Who may apply: anyone (`open`), or nobody through the public form (`invite`: the merchant
/// adds its partners itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationPolicy {
    Open,
    Invite,
}

/// The campaign every approved partner's own campaign is copied from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    pub campaign_id: CampaignId,
}

/// The program as stored under `H#{handle}` / `P#program` and answered to the merchant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Program {
    pub name: String,
    pub description: Option<String>,
    pub terms_url: Option<String>,
    pub applications: ApplicationPolicy,
    pub auto_approve: bool,
    pub template: Option<Template>,
    /// How claims are decided (issue 63); `None`: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<super::claim_rules::ClaimRules>,
    /// What a sale on a coupon code with no click of its partner earns (issue 63).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_without_click: Option<super::coupon_rules::CouponWithoutClick>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_reduce_percent: Option<u8>,
    /// The leak score that raises `coupon.leak_suspected`; `None`: the default, 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_leak_threshold: Option<u8>,
    /// The URL prefixes a partner's own links may point to (issue 61); empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_destinations: Vec<String>,
    /// Payouts wait for the partner's tax profile: given (`payout_tax_profile_missing`) or
    /// accepted (`payout_tax_profile_not_accepted`). A program stored with `true` reads as given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "tax_requirement"
    )]
    pub require_tax_profile: Option<TaxRequirement>,
    /// Self-billing invoices (`programs::self_billing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_billing: Option<super::self_billing::SelfBilling>,
    /// Per partner signal, what its firing does to the money (issue 83, `domain::fraud_rules`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fraud_rules: BTreeMap<String, FraudAction>,
    /// Partners may buy ads (`paid_traffic` does not fire).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_paid_traffic: bool,
    /// Distinct paying customers a partner brings before its first payout is batched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_customers_before_payout: Option<u32>,
    /// The share (percent) of a partner's paid lines refunded afterwards above which
    /// `refunds_after_payout` fires; `None`: the default, 25.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_after_payout_threshold: Option<u8>,
    /// The 1099-NEC threshold per year of payment, in US cents, where the program sets one
    /// (`programs::tax_threshold`); else the law's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub form1099_nec_thresholds: BTreeMap<String, i64>,
    pub version: u64,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl Program {
    /// The program's coupon rules, defaults filled in.
    pub fn coupon_rules(&self) -> super::coupon_rules::CouponRules {
        super::coupon_rules::CouponRules {
            without_click: self.coupon_without_click.unwrap_or_default(),
            reduce_percent: self.coupon_reduce_percent,
            leak_threshold: self
                .coupon_leak_threshold
                .unwrap_or(super::coupon_rules::DEFAULT_LEAK_THRESHOLD),
        }
    }
}

/// What a `PUT …/program` sends, validated by [`ProgramSpec::validate`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgramSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub terms_url: Option<String>,
    pub applications: Option<ApplicationPolicy>,
    pub auto_approve: Option<bool>,
    pub template: Option<Template>,
    pub claims: Option<super::claim_rules::ClaimRules>,
    pub coupon_without_click: Option<super::coupon_rules::CouponWithoutClick>,
    pub coupon_reduce_percent: Option<u32>,
    pub coupon_leak_threshold: Option<u32>,
    pub allowed_destinations: Option<Vec<String>>,
    #[serde(default, deserialize_with = "tax_requirement")]
    pub require_tax_profile: Option<TaxRequirement>,
    pub self_billing: Option<super::self_billing::SelfBillingSpec>,
    /// Validated by hand, so any shape is refused naming `fraudRules`.
    pub fraud_rules: Option<serde_json::Value>,
    pub allow_paid_traffic: Option<bool>,
    pub min_customers_before_payout: Option<u32>,
    pub refund_after_payout_threshold: Option<u32>,
    /// Validated by hand (`programs::tax_threshold`), so a float or a string is refused by name.
    pub form1099_nec_thresholds: Option<serde_json::Value>,
}

/// What `requireTaxProfile` asks for before a payout is batched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRequirement {
    /// A profile given, whatever its review.
    Given,
    /// A profile the program accepted.
    Accepted,
}

/// `"given"`, `"accepted"`, `true` (given: what `true` always meant), `false` or `null` (none).
fn tax_requirement<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<TaxRequirement>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Bool(false)) => Ok(None),
        Some(serde_json::Value::Bool(true)) => Ok(Some(TaxRequirement::Given)),
        Some(serde_json::Value::String(s)) if s == "given" => Ok(Some(TaxRequirement::Given)),
        Some(serde_json::Value::String(s)) if s == "accepted" => Ok(Some(TaxRequirement::Accepted)),
        Some(_) => Err(serde::de::Error::custom(
            "requireTaxProfile: must be \"given\", \"accepted\" or false",
        )),
    }
}

/// 1 to `max` characters as sent, not only spaces; kept trimmed.
fn text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || raw.chars().count() > max {
        return Err(DomainError::new(
            field,
            format!("must be 1 to {max} characters long."),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Up to `max` characters; empty or only spaces is none.
fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match raw {
        None => Ok(None),
        Some(t) if t.trim().is_empty() && t.chars().count() <= max => Ok(None),
        Some(t) => text(field, t, max).map(Some),
    }
}

/// An http(s) URL as sent (never fetched, so any host is fine); `null` is none. Only the
/// characters RFC 3986 allows (an IDN host in its `xn--` form), as the contract's pattern says.
fn url(field: &str, raw: Option<&str>) -> Result<Option<String>, DomainError> {
    const MARKS: &str = "-._~:/?#[]@!$&'()*+,;=%";
    let Some(u) = raw else { return Ok(None) };
    let scheme = u.starts_with("https://") || u.starts_with("http://");
    if !scheme
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || MARKS.contains(c))
    {
        return Err(DomainError::new(
            field,
            "must be an http:// or https:// URL of the characters RFC 3986 allows (an \
             international domain in its xn-- form).",
        ));
    }
    Ok(Some(
        crate::domain::validate_destination(field, u)?.to_string(),
    ))
}

/// A whole number from `min` to `max`, when given.
fn bounded(field: &str, raw: Option<u32>, min: u32, max: u32) -> Result<Option<u32>, DomainError> {
    match raw {
        Some(n) if !(min..=max).contains(&n) => Err(DomainError::new(
            field,
            format!("must be a whole number from {min} to {max}."),
        )),
        other => Ok(other),
    }
}

impl ProgramSpec {
    /// The program it describes (version and author set by the caller). An `autoApprove`
    /// program needs its template: approval copies it.
    pub fn validate(self) -> Result<Program, DomainError> {
        let name = text("name", self.name.as_deref().unwrap_or(""), MAX_NAME_CHARS)?;
        let description = optional_text(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let auto_approve = self.auto_approve.unwrap_or(false);
        if auto_approve && self.template.is_none() {
            return Err(DomainError::new(
                "template",
                "is required with autoApprove: approval copies the template campaign.",
            ));
        }
        let coupons = super::coupon_rules::CouponRules::validate(
            self.coupon_without_click,
            self.coupon_reduce_percent,
            self.coupon_leak_threshold,
        )?;
        Ok(Program {
            name,
            description,
            terms_url: url("termsUrl", self.terms_url.as_deref())?,
            applications: self.applications.unwrap_or(ApplicationPolicy::Open),
            auto_approve,
            template: self.template,
            claims: self
                .claims
                .map(super::claim_rules::ClaimRules::validate)
                .transpose()?,
            coupon_without_click: self.coupon_without_click,
            coupon_reduce_percent: coupons.reduce_percent,
            coupon_leak_threshold: self.coupon_leak_threshold.map(|_| coupons.leak_threshold),
            allowed_destinations: crate::domain::allowed_destinations::validate(
                self.allowed_destinations.unwrap_or_default(),
            )?,
            require_tax_profile: self.require_tax_profile,
            self_billing: self
                .self_billing
                .map(super::self_billing::SelfBillingSpec::validate)
                .transpose()?,
            fraud_rules: crate::domain::fraud_rules::validate(self.fraud_rules)?,
            allow_paid_traffic: self.allow_paid_traffic.unwrap_or(false),
            min_customers_before_payout: bounded(
                "minCustomersBeforePayout",
                self.min_customers_before_payout,
                1,
                crate::domain::fraud_rules::MAX_MIN_CUSTOMERS,
            )?,
            refund_after_payout_threshold: bounded(
                "refundAfterPayoutThreshold",
                self.refund_after_payout_threshold,
                0,
                100,
            )?
            .map(|n| u8::try_from(n).unwrap_or(100)),
            form1099_nec_thresholds: super::tax_threshold::validate(self.form1099_nec_thresholds)?,
            version: 0,
            updated_at: crate::platform::time::timestamp(),
            updated_by: String::new(),
        })
    }
}

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "pending" => Ok(ApplicationStatus::Pending),
            "approved" => Ok(ApplicationStatus::Approved),
            "rejected" => Ok(ApplicationStatus::Rejected),
            _ => Err(DomainError::new(
                "status",
                "must be pending, approved or rejected.",
            )),
        }
    }
}

/// An application as stored under `H#{handle}#APP` / `{applicationId}`. The email is kept as
/// given (the applicant gave it to the merchant to be contacted) and answered only to the
/// handle's operators and in the merchant's own signed events; `emailMasked` is the form for
/// screens and lists; `emailHash` ([`super::apply::email_key`]) is the deduplication key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub application_id: ApplicationId,
    pub name: String,
    pub email: String,
    pub email_masked: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub email_hash: String,
    pub website: Option<String>,
    pub message: Option<String>,
    /// The listed throwaway-mail domain the address is at (`mailinator.com`), for the manager
    /// deciding: such addresses often apply again under another name. Never shown to the
    /// applicant (its answer is the application's id alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throwaway_domain: Option<String>,
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub partner_id: Option<PartnerId>,
    pub campaign_id: Option<CampaignId>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub version: u64,
    /// The digest of the `idempotency-key` its approval came with, so that approval asked again
    /// answers the partner it made (`approve::Approval::Again`). Never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_key: Option<String>,
}

impl Application {
    /// The record as answered (the digests are the store's business).
    pub fn view(mut self) -> Application {
        self.email_hash = String::new();
        self.approval_key = None;
        self
    }
}

/// `partner.applied`: the application as answered, never its email digest (the only
/// constructor clears it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartnerApplied(Application);

impl PartnerApplied {
    pub fn of(a: Application) -> Self {
        Self(a.view())
    }

    pub fn application(&self) -> &Application {
        &self.0
    }
}

impl EventPayload for PartnerApplied {
    const TYPES: &'static [EventType] = &[EventType::PartnerApplied];
    fn event_type(&self) -> EventType {
        EventType::PartnerApplied
    }
}

/// What the public form sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSpec {
    pub name: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub message: Option<String>,
}

/// A validated application, before it is stored.
#[derive(Clone, Debug)]
pub struct NewApplication {
    pub name: String,
    pub email: String,
    pub website: Option<String>,
    pub message: Option<String>,
}

impl ApplicationSpec {
    /// Name 1–200 characters, an email address ([`crate::domain::email`]'s rule: no markup,
    /// kept in NFC), an http(s) website, a message up to 2000.
    pub fn validate(self) -> Result<NewApplication, DomainError> {
        let name = text("name", self.name.as_deref().unwrap_or(""), MAX_NAME_CHARS)?;
        // As sent: the contract's `Email` refuses spaces, and so does the server.
        let email = self.email.as_deref().unwrap_or("");
        if email.is_empty() {
            return Err(DomainError::new("email", "is required."));
        }
        let email = crate::domain::email::Email::parse("email", email)?;
        Ok(NewApplication {
            name,
            email: email.into_string(),
            website: url("website", self.website.as_deref())?,
            message: optional_text("message", self.message.as_deref(), MAX_MESSAGE_CHARS)?,
        })
    }
}

/// A rejection's reason: required, 1–1000 characters.
pub fn validate_reason(raw: Option<&str>) -> Result<String, DomainError> {
    text("reason", raw.unwrap_or(""), MAX_REASON_CHARS)
}

/// The data of `partner.applied`: the application as the merchant's tools see it.
pub type PartnerAppliedData = Application;

/// The partner token an approval mints: the secret itself, shown once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    pub token_id: TokenId,
    pub token: String,
    pub expires_at: Timestamp,
}

/// The data of `partner.approved` and the approval's answer: what was created, and the
/// partner's token (for the merchant's mailer to send the partner; never to the applicant's
/// own request).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerApprovedData {
    pub application_id: ApplicationId,
    pub partner_id: PartnerId,
    pub campaign_id: CampaignId,
    pub slug: Slug,
    pub short_url: String,
    pub name: String,
    pub email: String,
    pub partner_token: IssuedToken,
}

impl EventPayload for PartnerApprovedData {
    const TYPES: &'static [EventType] = &[EventType::PartnerApproved];
    fn event_type(&self) -> EventType {
        EventType::PartnerApproved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, email: &str) -> ApplicationSpec {
        ApplicationSpec {
            name: Some(name.into()),
            email: Some(email.into()),
            website: None,
            message: None,
        }
    }

    #[test]
    fn applications_name_the_field_they_refuse() {
        let e = spec("", "a@b.co").validate().unwrap_err();
        assert_eq!(e.field, "name");
        let e = spec("Ann", "nope").validate().unwrap_err();
        assert_eq!(e.field, "email");
        let e = spec("Ann", "<svg/onload=alert(1)>@evil.example").validate();
        assert_eq!(e.unwrap_err().field, "email");
        let mut s = spec("Ann", "a@b.co");
        s.website = Some("ftp://x.example".into());
        assert_eq!(s.validate().unwrap_err().field, "website");
        let mut s = spec("Ann", "a@b.co");
        s.website = Some("https://\u{cf}.example/".into());
        assert_eq!(s.validate().unwrap_err().field, "website");
        let mut s = spec("Ann", "a@b.co");
        s.message = Some("x".repeat(2001));
        assert_eq!(s.validate().unwrap_err().field, "message");
        assert!(spec(&"n".repeat(200), "a@b.co").validate().is_ok());
    }

    #[test]
    fn auto_approve_needs_a_template() {
        let s = ProgramSpec {
            name: Some("Acme partners".into()),
            description: None,
            terms_url: None,
            applications: None,
            auto_approve: Some(true),
            template: None,
            claims: None,
            coupon_without_click: None,
            coupon_reduce_percent: None,
            coupon_leak_threshold: None,
            allowed_destinations: None,
            require_tax_profile: None,
            self_billing: None,
            fraud_rules: None,
            allow_paid_traffic: None,
            min_customers_before_payout: None,
            refund_after_payout_threshold: None,
            form1099_nec_thresholds: None,
        };
        assert_eq!(s.validate().unwrap_err().field, "template");
    }
}
