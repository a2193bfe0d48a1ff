//! A partner's payout method as stored (`H#{handle}` / `PM#{partnerId}`) and answered: the
//! details sealed ([`crate::domain::sealed`]), beside their masked form and the change state.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::bank::{self, Bic, Iban};
use crate::domain::{DomainError, Handle, PartnerId};
use crate::kernel::events::{EventPayload, EventType};
use crate::platform::store::{Item, StoreError};

/// How long a change of payout details keeps the partner's payouts out of batches unless a
/// manager confirms it first (the account-takeover window).
pub const HOLD_MS: i64 = 24 * 3_600_000;

/// The rails a partner can be paid on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodType {
    Sepa,
    Paypal,
    Wise,
    Manual,
    /// A Stripe Express account connected by the partner's own onboarding (never typed), paid
    /// by a Stripe Connect transfer when the program connected Stripe.
    #[serde(rename = "stripe_connect")]
    StripeConnect,
}

impl MethodType {
    /// The method in words, for a person (a mail).
    pub fn words(self) -> &'static str {
        match self {
            Self::Sepa => "a SEPA bank account",
            Self::Paypal => "PayPal",
            Self::Wise => "Wise",
            Self::Manual => "payment by hand",
            Self::StripeConnect => "a Stripe account",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sepa" => Some(Self::Sepa),
            "paypal" => Some(Self::Paypal),
            "wise" => Some(Self::Wise),
            "manual" => Some(Self::Manual),
            "stripe_connect" => Some(Self::StripeConnect),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sepa => "sepa",
            Self::Paypal => "paypal",
            Self::Wise => "wise",
            Self::Manual => "manual",
            Self::StripeConnect => "stripe_connect",
        }
    }
}

/// The details in clear: inside the seal, and in a batch's file. Never answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Details {
    Sepa {
        #[serde(rename = "accountName")]
        account_name: String,
        iban: String,
        bic: Option<String>,
    },
    /// A PayPal account by its email, or by its payer ID (PayPal Payouts' `PAYPAL_ID`):
    /// exactly one of the two.
    Paypal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(default, rename = "payerId", skip_serializing_if = "Option::is_none")]
        payer_id: Option<String>,
    },
    Wise {
        email: String,
        #[serde(rename = "accountName")]
        account_name: String,
    },
    Manual,
    /// Set only by the partner's Stripe onboarding (`payout_methods::stripe_connect`).
    #[serde(rename = "stripe_connect")]
    StripeConnect {
        #[serde(rename = "accountId")]
        account_id: String,
    },
}

/// A request's fields, before validation (`PUT …/payout-method`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MethodInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub account_name: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    /// A PayPal account's payer ID, instead of its email.
    pub payer_id: Option<String>,
}

fn required<'a>(field: &str, kind: &str, v: Option<&'a String>) -> Result<&'a str, DomainError> {
    v.map(String::as_str)
        .ok_or_else(|| DomainError::new(field, format!("is required for a {kind} method.")))
}

impl MethodInput {
    /// The details, each field checked and named on error: an IBAN by its country's length,
    /// check digits and BBAN structure (and, for SEPA, its country in SEPA), a BIC by its shape
    /// and country, an email by its shape, a SEPA name by SEPA's character set. Fields another
    /// type takes are refused rather than dropped.
    pub fn validate(&self) -> Result<Details, DomainError> {
        let kind = MethodType::parse(&self.kind)
            .ok_or_else(|| DomainError::new("type", "expected sepa, paypal, wise or manual."))?;
        if kind == MethodType::StripeConnect {
            // An account id is never typed: only Stripe's onboarding, done by the partner,
            // names the account it pays into.
            return Err(DomainError::new(
                "type",
                "stripe_connect is set by the partner's own Stripe onboarding (POST …/payout-method/stripe-connect/onboarding), never typed.",
            ));
        }
        let k = kind.as_str();
        let stray = match kind {
            MethodType::Sepa => vec![
                ("email", self.email.is_some()),
                ("payerId", self.payer_id.is_some()),
            ],
            MethodType::Paypal => vec![
                ("accountName", self.account_name.is_some()),
                ("iban", self.iban.is_some()),
                ("bic", self.bic.is_some()),
            ],
            MethodType::Wise => vec![
                ("iban", self.iban.is_some()),
                ("bic", self.bic.is_some()),
                ("payerId", self.payer_id.is_some()),
            ],
            MethodType::Manual | MethodType::StripeConnect => vec![
                ("accountName", self.account_name.is_some()),
                ("iban", self.iban.is_some()),
                ("bic", self.bic.is_some()),
                ("email", self.email.is_some()),
                ("payerId", self.payer_id.is_some()),
            ],
        };
        if let Some((field, _)) = stray.into_iter().find(|(_, given)| *given) {
            return Err(DomainError::new(
                field,
                format!("is not a field of a {k} method."),
            ));
        }
        match kind {
            MethodType::Sepa => self.sepa(),
            MethodType::Paypal => self.paypal(),
            MethodType::Wise => Ok(Details::Wise {
                email: bank::email("email", required("email", k, self.email.as_ref())?)?,
                account_name: bank::account_name(
                    "accountName",
                    required("accountName", k, self.account_name.as_ref())?,
                )?,
            }),
            MethodType::Manual | MethodType::StripeConnect => Ok(Details::Manual),
        }
    }

    /// A PayPal account by its email or its payer ID, never both.
    fn paypal(&self) -> Result<Details, DomainError> {
        match (&self.email, &self.payer_id) {
            (Some(_), Some(_)) => Err(DomainError::new(
                "payerId",
                "give the PayPal account's email or its payer ID, not both.",
            )),
            (None, Some(id)) => Ok(Details::Paypal {
                email: None,
                payer_id: Some(payer_id("payerId", id)?),
            }),
            (Some(email), None) => Ok(Details::Paypal {
                email: Some(bank::email("email", email)?),
                payer_id: None,
            }),
            (None, None) => Err(DomainError::new(
                "email",
                "or payerId is required for a paypal method: the email the PayPal account signs in with, or its payer ID (13 capital letters and digits, in the PayPal account's settings).",
            )),
        }
    }

    fn sepa(&self) -> Result<Details, DomainError> {
        let name = required("accountName", "sepa", self.account_name.as_ref())?;
        let iban = bank::sepa_iban("iban", required("iban", "sepa", self.iban.as_ref())?)?;
        let bic = self
            .bic
            .as_deref()
            .map(|b| Bic::parse("bic", b))
            .transpose()?;
        if let Some(b) = bic.as_ref().filter(|b| !b.fits(&iban)) {
            return Err(DomainError::new(
                "bic",
                format!(
                    "{} is a bank in {}, the IBAN an account in {}.",
                    b.as_str(),
                    b.country(),
                    iban.country()
                ),
            ));
        }
        Ok(Details::Sepa {
            account_name: bank::sepa_name("accountName", name)?,
            iban: iban.as_str().to_owned(),
            bic: bic.map(|b| b.as_str().to_owned()),
        })
    }
}

/// A PayPal payer ID (PayPal Payouts' `recipient_type: PAYPAL_ID`): the account's 13 capital
/// letters and digits, as PayPal shows it in the account's settings.
pub fn payer_id(field: &str, raw: &str) -> Result<String, DomainError> {
    let id = raw.trim();
    let shape = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    if id.len() == 13 && id.bytes().all(shape) {
        return Ok(id.to_owned());
    }
    let why = if id.contains('@') {
        "is an email: give it as `email`, or give the account's payer ID here.".to_owned()
    } else if id.len() == 13 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "must be in capital letters, as PayPal shows it (such as 7ZQ4L8NWK2M3P).".to_owned()
    } else {
        format!(
            "is not a PayPal payer ID: one is 13 capital letters and digits (such as 7ZQ4L8NWK2M3P), in the PayPal account's settings; this is {} characters{}.",
            id.chars().count(),
            if id.chars().all(|c| c.is_ascii_alphanumeric()) {
                ""
            } else {
                ", not only letters and digits"
            }
        )
    };
    Err(DomainError::new(field, why))
}

/// The details as answered: nothing that would pay someone else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Masked {
    #[serde(rename = "type")]
    pub kind: MethodType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// `DE89 **** **** 3000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    /// `a***@example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A PayPal payer ID, by its last 4 (`…M3P7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_id: Option<String>,
    /// The IBAN's country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A Stripe account's id, by its last 4 (`acct_…WXYZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Details {
    /// PayPal details of `raw`, checked by the rule a request's are (`field` named on error).
    pub fn paypal(field: &str, raw: &str) -> Result<Self, DomainError> {
        Ok(Details::Paypal {
            email: Some(bank::email(field, raw)?),
            payer_id: None,
        })
    }

    /// Where PayPal pays: its `recipient_type` and `receiver` (`None` for another rail).
    pub fn paypal_receiver(&self) -> Option<(&'static str, &str)> {
        match self {
            Details::Paypal {
                payer_id: Some(id), ..
            } => Some(("PAYPAL_ID", id)),
            Details::Paypal {
                email: Some(email), ..
            } => Some(("EMAIL", email)),
            _ => None,
        }
    }

    pub fn kind(&self) -> MethodType {
        match self {
            Details::Sepa { .. } => MethodType::Sepa,
            Details::Paypal { .. } => MethodType::Paypal,
            Details::Wise { .. } => MethodType::Wise,
            Details::Manual => MethodType::Manual,
            Details::StripeConnect { .. } => MethodType::StripeConnect,
        }
    }

    pub fn masked(&self) -> Masked {
        let mut m = Masked {
            kind: self.kind(),
            account_name: None,
            iban: None,
            bic: None,
            email: None,
            payer_id: None,
            country: None,
            account: None,
        };
        match self {
            Details::Sepa {
                account_name,
                iban,
                bic,
            } => {
                let parsed = Iban::parse("iban", iban).ok();
                m.account_name = Some(account_name.clone());
                m.iban = parsed.as_ref().map(Iban::masked);
                m.country = parsed.map(|i| i.country().to_owned());
                m.bic.clone_from(bic);
            }
            Details::Paypal { email, payer_id } => {
                m.email = email.as_deref().map(bank::mask_email);
                m.payer_id = payer_id.as_deref().map(last_four);
            }
            Details::Wise {
                email,
                account_name,
            } => {
                m.email = Some(bank::mask_email(email));
                m.account_name = Some(account_name.clone());
            }
            Details::StripeConnect { account_id } => {
                m.account = Some(format!("acct_{}", last_four(account_id)));
            }
            Details::Manual => {}
        }
        m
    }
}

/// `…WXYZ`: an account's id by its last 4 characters.
fn last_four(id: &str) -> String {
    let tail: String = id.chars().rev().take(4).collect();
    format!("…{}", tail.chars().rev().collect::<String>())
}

impl Masked {
    /// What today's rules refuse in details stored before them (issue 57), from their masked
    /// form (the sealed details open only in a batch's file, which checks them in full): a SEPA
    /// IBAN's country and check digits, a SEPA name's script and length. `None` when they pass.
    pub fn fault(&self) -> Option<DomainError> {
        if self.kind != MethodType::Sepa {
            return None;
        }
        let (Some(country), Some(iban)) = (self.country.as_deref(), self.iban.as_deref()) else {
            return Some(DomainError::new(
                "iban",
                "is not a valid IBAN: set it again.",
            ));
        };
        let digits = iban.get(2..4).unwrap_or_default();
        if !matches!(digits.parse::<u8>(), Ok(2..=98)) {
            return Some(DomainError::new(
                "iban",
                format!("the check digits `{digits}` are never issued (ISO 13616: 02 to 98)."),
            ));
        }
        let name = self.account_name.as_deref().unwrap_or_default();
        bank::sepa_country("iban", country)
            .and_then(|()| bank::sepa_name("accountName", name).map(drop))
            .err()
    }
}

/// A change of details not confirmed yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub changed_at: Timestamp,
    pub changed_by: String,
    pub previous: Masked,
}

/// What is stored: the sealed details (none for `manual`), their masked form, the change state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodRecord {
    pub partner_id: PartnerId,
    pub masked: Masked,
    #[serde(default)]
    pub sealed: Option<String>,
    pub set_at: Timestamp,
    pub set_by: String,
    #[serde(default)]
    pub pending: Option<Pending>,
    #[serde(default)]
    pub confirmed_at: Option<Timestamp>,
    #[serde(default)]
    pub confirmed_by: Option<String>,
    /// The partner said a change was not theirs (the "this was not me" link of
    /// `payout_method_changed`): its payouts stay out of batches (`payout_method_disputed`)
    /// until an admin lifts it. Kept across later changes of details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disputed: Option<Dispute>,
    /// The keyed digest of the account paid into ([`super::digests::account`]); absent for
    /// payment by hand and on details set before digests were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_digest: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

/// A freeze of a partner's payouts: when the partner disputed a change, and the change's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispute {
    pub at: Timestamp,
    /// Who froze it: `partner` (the mailed link), in words.
    pub by: String,
}

/// Why a payout stays out of a batch (`excluded[].reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    NoPayoutMethod,
    Manual,
    PayoutMethodUnconfirmed,
    /// Paid on another rail than the batch's.
    OtherMethod,
    /// A SEPA batch pays EUR only.
    CurrencyNotSupported,
    /// Already in a batch that is not canceled.
    InLiveBatch,
    /// Details stored before a rule that now refuses them (issue 57: an IBAN outside SEPA, a
    /// name SEPA cannot write): the partner must set them again.
    PayoutMethodInvalid,
    /// The partner said a change of details was not theirs: frozen until an admin lifts it.
    PayoutMethodDisputed,
    /// The program asks for tax details before paying and the partner gave none (issue 61).
    PayoutTaxProfileMissing,
    /// A partner signal the program's `fraudRules` hold payouts on fired (issue 83).
    PayoutFraudHold,
    /// The partner's first payout waits for the program's `minCustomersBeforePayout`.
    PayoutMinCustomers,
    /// The program accepts tax details before paying (`requireTaxProfile: "accepted"`) and the
    /// partner's are not accepted yet.
    PayoutTaxProfileNotAccepted,
}

impl Exclusion {
    /// The reason in words, for a manager reading a batch: from the one dictionary
    /// (`domain::words`), under the code this reason is answered as.
    pub fn words(self) -> &'static str {
        let Ok(serde_json::Value::String(code)) = serde_json::to_value(self) else {
            return "";
        };
        crate::domain::words::of(&code).unwrap_or("")
    }
}

impl MethodRecord {
    pub(crate) fn item(&self, handle: &Handle) -> Result<Item, StoreError> {
        let (pk, sk) = crate::platform::store::keys::payout_method(handle, &self.partner_id);
        Ok(Item::new(pk, sk, crate::platform::store::to_doc(self)?).with_version(self.version))
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        let mut r: MethodRecord = item.parse()?;
        r.version = item.version;
        Ok(r)
    }

    /// When a pending change stops holding payouts (unix ms), if one does.
    pub fn held_until_ms(&self) -> Option<i64> {
        let p = self.pending.as_ref()?;
        Some(p.changed_at.millis().saturating_add(HOLD_MS))
    }

    /// The rail this partner's payouts go on at `now_ms`, or why they wait.
    pub fn payable_by(&self, now_ms: i64) -> Result<MethodType, Exclusion> {
        if self.disputed.is_some() {
            return Err(Exclusion::PayoutMethodDisputed);
        }
        if self.masked.kind == MethodType::Manual {
            return Err(Exclusion::Manual);
        }
        if self.masked.fault().is_some() {
            return Err(Exclusion::PayoutMethodInvalid);
        }
        if self.held_until_ms().is_some_and(|until| now_ms < until) {
            return Err(Exclusion::PayoutMethodUnconfirmed);
        }
        Ok(self.masked.kind)
    }
}

/// `GET …/payout-method`: masked, with the change state.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodView {
    pub partner_id: PartnerId,
    #[serde(flatten)]
    pub method: Masked,
    pub updated_at: Timestamp,
    pub updated_by: String,
    /// A change of details waits for a manager's confirmation (or 24 hours).
    pub pending_confirmation: bool,
    pub change: Option<ChangeView>,
    pub confirmed_at: Option<Timestamp>,
    pub confirmed_by: Option<String>,
    /// Details stored before a rule that now refuses them: the field and why, in words
    /// (`iban: \`SA\` is not a country of the SEPA scheme…`); the partner's payouts stay out
    /// of batches (`payout_method_invalid`) until the details are set again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The partner disputed a change ("this was not me"): payouts frozen until an admin lifts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disputed: Option<Dispute>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeView {
    pub changed_at: Timestamp,
    pub changed_by: String,
    pub previous: Masked,
    /// When payouts go into batches again without a confirmation.
    pub held_until: Option<String>,
}

impl MethodRecord {
    pub fn view(&self, now_ms: i64) -> MethodView {
        let held = self.held_until_ms();
        MethodView {
            partner_id: self.partner_id.clone(),
            method: self.masked.clone(),
            updated_at: self.set_at.clone(),
            updated_by: self.set_by.clone(),
            pending_confirmation: held.is_some_and(|until| now_ms < until),
            change: self.pending.as_ref().map(|p| ChangeView {
                changed_at: p.changed_at.clone(),
                changed_by: p.changed_by.clone(),
                previous: p.previous.clone(),
                held_until: held.map(crate::domain::time::unix_millis_to_rfc3339),
            }),
            confirmed_at: self.confirmed_at.clone(),
            confirmed_by: self.confirmed_by.clone(),
            problem: self.masked.fault().map(|e| {
                format!(
                    "{e} Set the payout method again: until then its payouts stay out of batches."
                )
            }),
            disputed: self.disputed.clone(),
        }
    }
}

/// One audited change: who, when, the details before and after (masked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub partner_id: PartnerId,
    /// `changed`, `confirmed`, `disputed` (the partner's "this was not me") or `unfrozen`.
    pub action: String,
    pub at: Timestamp,
    pub by: String,
    pub previous: Option<Masked>,
    pub current: Masked,
}

/// `partner.updated` (issue 46): a partner's payout details changed (not their first setting),
/// masked on both sides; payouts to them wait for a manager's confirmation or 24 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUpdatedData {
    pub partner_id: crate::domain::PartnerId,
    /// What changed: `payoutMethod`.
    pub changes: Vec<String>,
    /// The payout method before and after, masked (`DE89 **** **** 3000`).
    pub previous: serde_json::Value,
    pub current: serde_json::Value,
    pub changed_by: String,
    pub changed_at: Timestamp,
    /// Until then (or a manager's confirmation) the partner's payouts stay out of batches.
    pub held_until: String,
}

impl EventPayload for PartnerUpdatedData {
    const TYPES: &'static [EventType] = &[EventType::PartnerUpdated];
    fn event_type(&self) -> EventType {
        EventType::PartnerUpdated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sepa(name: &str, iban: &str) -> MethodInput {
        MethodInput {
            kind: "sepa".into(),
            account_name: Some(name.into()),
            iban: Some(iban.into()),
            ..MethodInput::default()
        }
    }

    /// A record as stored before issue 57's rules (no check of country nor script).
    fn stored(name: &str, country: &str, iban: &str) -> MethodRecord {
        MethodRecord {
            partner_id: PartnerId::parse("pub-old").unwrap(),
            masked: Masked {
                kind: MethodType::Sepa,
                account_name: Some(name.into()),
                iban: Some(iban.into()),
                bic: None,
                email: None,
                payer_id: None,
                country: Some(country.into()),
                account: None,
            },
            sealed: Some("v1.x".into()),
            set_at: Timestamp::from_millis(0),
            set_by: "old".into(),
            pending: None,
            confirmed_at: None,
            confirmed_by: None,
            disputed: None,
            account_digest: None,
            version: 1,
        }
    }

    #[test]
    fn a_sepa_method_takes_a_sepa_iban_and_a_latin_greek_or_cyrillic_name() {
        let e = sepa("Ann", "SA03 8000 0000 6080 1016 7519")
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "iban");
        assert!(e.message.starts_with("`SA` is not"), "{}", e.message);
        let e = sepa("Ann", "BR18 0036 0305 0000 1000 9795 493C 1")
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "iban");
        let e = sepa("王小明", "DE89 3704 0044 0532 0130 00")
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "accountName");
        assert!(e.message.contains("Latin script"), "{}", e.message);
        let ok = sepa("Γιώργος", "GR16 0110 1250 0000 0001 2300 695")
            .validate()
            .unwrap();
        assert!(matches!(ok, Details::Sepa { account_name, .. } if account_name == "Γιώργος"));
    }

    #[test]
    fn a_method_stored_before_the_rules_is_invalid_and_says_why() {
        let now = 1_000;
        let fine = stored("Ann", "DE", "DE89 **** **** 3000");
        assert_eq!(fine.payable_by(now), Ok(MethodType::Sepa));
        assert!(fine.view(now).problem.is_none());
        for (record, field) in [
            (stored("Ann", "SA", "SA03 **** **** 7519"), "iban"),
            (stored("Ann", "DE", "DE99 **** **** 0024"), "iban"),
            (stored("王小明", "DE", "DE89 **** **** 3000"), "accountName"),
        ] {
            assert_eq!(record.payable_by(now), Err(Exclusion::PayoutMethodInvalid));
            let problem = record.view(now).problem.unwrap();
            assert!(problem.starts_with(&format!("{field}: ")), "{problem}");
            assert!(problem.contains("Set the payout method again"), "{problem}");
        }
        // A manual method stays `manual`; another rail is not SEPA's business.
        let mut manual = stored("王小明", "SA", "SA03 **** **** 7519");
        manual.masked.kind = MethodType::Manual;
        assert_eq!(manual.payable_by(now), Err(Exclusion::Manual));
        let code = serde_json::to_value(Exclusion::PayoutMethodInvalid).unwrap();
        assert_eq!(code, "payout_method_invalid");
    }

    fn paypal(email: Option<&str>, payer: Option<&str>) -> MethodInput {
        MethodInput {
            kind: "paypal".into(),
            email: email.map(Into::into),
            payer_id: payer.map(Into::into),
            ..MethodInput::default()
        }
    }

    #[test]
    fn a_paypal_method_takes_an_email_or_a_payer_id_of_13_capitals_and_digits() {
        let by_id = paypal(None, Some(" 7ZQ4L8NWK2M3P ")).validate().unwrap();
        assert_eq!(
            by_id.paypal_receiver(),
            Some(("PAYPAL_ID", "7ZQ4L8NWK2M3P"))
        );
        assert_eq!(by_id.masked().payer_id.as_deref(), Some("…2M3P"));
        assert_eq!(by_id.masked().email, None);
        let by_mail = paypal(Some("Ann@Example.com"), None).validate().unwrap();
        assert_eq!(by_mail.paypal_receiver().map(|r| r.0), Some("EMAIL"));
        for (raw, words) in [
            ("7zq4l8nwk2m3p", "capital letters"),
            ("7ZQ4L8NWK2M3", "12 characters"),
            ("7ZQ4L8NWK2M3P9", "14 characters"),
            ("7ZQ4L8NWK2-3P", "not only letters and digits"),
            ("ann@example.com", "is an email"),
        ] {
            let e = paypal(None, Some(raw)).validate().unwrap_err();
            assert_eq!(e.field, "payerId", "{raw}");
            assert!(e.message.contains(words), "{raw}: {}", e.message);
        }
        let both = paypal(Some("ann@example.com"), Some("7ZQ4L8NWK2M3P"));
        assert!(both.validate().unwrap_err().message.contains("not both"));
        let neither = paypal(None, None).validate().unwrap_err();
        assert_eq!(neither.field, "email");
        assert!(neither.message.contains("payer ID"), "{}", neither.message);
        let stray = MethodInput {
            payer_id: Some("7ZQ4L8NWK2M3P".into()),
            ..sepa("Ann", "DE89 3704 0044 0532 0130 00")
        };
        assert_eq!(stray.validate().unwrap_err().field, "payerId");
        // Details stored before payer IDs read as an email's.
        let old: Details =
            serde_json::from_str(r#"{"type":"paypal","email":"a@b.example"}"#).unwrap();
        assert_eq!(old.paypal_receiver(), Some(("EMAIL", "a@b.example")));
    }
}
