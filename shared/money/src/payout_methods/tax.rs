//! A partner's tax profile (issue 61): the form it files under (`w9` a US person, `w8ben` a
//! foreign person, `w8bene` a foreign entity, `eu_vat` a business with an EU VAT number, `none`),
//! its legal name and country, and its tax ids, checked where they are typed
//! (`domain::tax_id`: formats and check digits). Kept like payout details: the profile sealed at
//! rest under the payout keys (bound to the handle and partner), answered masked; its masked
//! form beside it for the screens. Only an admin's export for year-end filings (1099, DAC7)
//! opens it, and each export is audited.
//!
//! The partner signs its form (`certification`: its typed name, the time the server's), sealed
//! with the profile it certifies and that profile's version; a change of the profile unsigns it.
//! Its `status` (`draft`, `submitted`, `accepted`, `needs_fix`) is the program's review
//! (`tax_review`). A program with `requireTaxProfile` holds a partner's payouts out of batches
//! until the profile is given (`payout_tax_profile_missing`) or, with `"accepted"`, accepted
//! (`payout_tax_profile_not_accepted`).

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle, PartnerId, tax_id};
use crate::kernel::state::Unconfigured;
use crate::platform::store::{Item, Query, Store, StoreError, keys, to_doc};

/// The form a partner files under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxForm {
    W9,
    W8ben,
    W8bene,
    EuVat,
    None,
}

impl TaxForm {
    /// The form as people read it (the partner portal's words): the tax export's `formWords`.
    pub fn words(self) -> &'static str {
        match self {
            TaxForm::W9 => "W-9: a US person or company",
            TaxForm::W8ben => "W-8BEN: a person outside the US",
            TaxForm::W8bene => "W-8BEN-E: a company outside the US",
            TaxForm::EuVat => "A business with an EU VAT number",
            TaxForm::None => "None of these",
        }
    }
}

/// What `PUT …/tax-profile` sends: the profile and, from the partner only, its signature.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxSubmission {
    pub form: TaxForm,
    pub legal_name: String,
    pub country: String,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub certification: Option<Signature>,
}

/// A signature as sent: the signer's typed name (a person may sign for an entity).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signature {
    pub signed_name: String,
}

impl TaxSubmission {
    pub fn into_parts(self) -> (TaxProfile, Option<Signature>) {
        let profile = TaxProfile {
            form: self.form,
            legal_name: self.legal_name,
            country: self.country,
            tax_id: self.tax_id,
            vat_id: self.vat_id,
            address: self.address,
        };
        (profile, self.certification)
    }
}

/// The profile a partner gives, as sealed once validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxProfile {
    pub form: TaxForm,
    pub legal_name: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The profile as answered and listed: ids masked to their last characters, the address only
/// said to be given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxView {
    pub form: TaxForm,
    pub legal_name: String,
    pub country: String,
    pub tax_id: Option<String>,
    pub vat_id: Option<String>,
    pub address_given: bool,
}

/// Where a profile stands in the program's review. A profile stored before reviews existed
/// reads as `draft` (given, never signed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxStatus {
    /// Given, not signed (or changed since it was signed).
    #[default]
    Draft,
    /// Signed by the partner, waiting for the program.
    Submitted,
    Accepted,
    /// Sent back by the program with its reason (`fixReason`).
    NeedsFix,
}

/// The partner's signature under its form: the name it typed, the time the server stamped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certification {
    pub signed_name: String,
    pub signed_at: Timestamp,
}

/// The stored item: the masked view, the sealed profile (with its signature), who set it and
/// when, and the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRecord {
    pub partner_id: PartnerId,
    #[serde(flatten)]
    pub view: TaxView,
    pub sealed: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    /// The keyed digests of its tax id and VAT number ([`super::digests::tax_ids`]); empty on
    /// profiles set before digests were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<String>,
    #[serde(default)]
    pub status: TaxStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<Certification>,
    /// The profile's version: one more at each change or signature (what a signature names).
    #[serde(default)]
    pub profile_version: u64,
    /// The stored item's version (conditional writes).
    #[serde(skip)]
    pub version: u64,
}

/// The answer: the record without its sealed profile.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxAnswer<'a> {
    pub partner_id: &'a PartnerId,
    #[serde(flatten)]
    pub view: &'a TaxView,
    pub status: TaxStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_reason: Option<&'a str>,
    pub certification: Option<&'a Certification>,
    pub version: u64,
    pub updated_at: &'a Timestamp,
}

impl TaxRecord {
    pub fn answer(&self) -> TaxAnswer<'_> {
        TaxAnswer {
            partner_id: &self.partner_id,
            view: &self.view,
            status: self.status,
            fix_reason: match self.status {
                TaxStatus::NeedsFix => self.fix_reason.as_deref(),
                _ => None,
            },
            certification: self.certification.as_ref(),
            version: self.profile_version,
            updated_at: &self.updated_at,
        }
    }

    pub(crate) fn item(&self, handle: &Handle) -> Result<Item, StoreError> {
        let (pk, sk) = keys::tax_profile(handle, &self.partner_id);
        Ok(Item::new(pk, sk, to_doc(self)?).with_version(self.version))
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        let mut r: TaxRecord = item.parse()?;
        r.version = item.version;
        Ok(r)
    }
}

/// What is sealed: the profile and, once signed, the signature and the version it certifies
/// (a profile sealed before signatures existed is the bare profile).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sealed {
    pub profile: TaxProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<SealedCertification>,
}

/// A signature as sealed: who, when, which version of the profile, under which words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedCertification {
    pub signed_name: String,
    pub signed_at: Timestamp,
    pub profile_version: u64,
    /// SHA-256 (hex) of the certification's words the partner was shown
    /// (`tax_words::certification`).
    pub words_sha256: String,
}

fn mask(id: &str, keep_prefix: usize) -> String {
    let n = id.chars().count();
    let tail: String = id.chars().skip(n.saturating_sub(4)).collect();
    let head: String = id
        .chars()
        .take(keep_prefix.min(n.saturating_sub(4)))
        .collect();
    format!(
        "{head}{}{tail}",
        "•".repeat(n.saturating_sub(4 + head.chars().count()))
    )
}

pub(crate) fn text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::new(
            field,
            format!("must be 1 to {max} characters of text."),
        ));
    }
    Ok(t.to_owned())
}

impl TaxProfile {
    /// The profile with every field checked for its form: `400` naming the first field that
    /// does not hold. Ids are kept in their compact form.
    pub fn validate(self) -> Result<TaxProfile, DomainError> {
        let legal_name = text("legalName", &self.legal_name, 200)?;
        let country = tax_id::country("country", &self.country)?;
        let address = self
            .address
            .as_deref()
            .map(|a| text("address", a, 500))
            .transpose()?;
        let none = |field: &str, v: &Option<String>| match v {
            Some(_) => Err(DomainError::new(field, "is not asked for with this form.")),
            None => Ok(()),
        };
        let (tax, vat) = match self.form {
            TaxForm::W9 => {
                if country != "US" {
                    return Err(DomainError::new("country", "a W-9 is a US person's: US."));
                }
                none("vatId", &self.vat_id)?;
                let raw = self.tax_id.as_deref().ok_or_else(|| {
                    DomainError::new("taxId", "is required with a W-9 (a SSN or an EIN).")
                })?;
                (Some(tax_id::us_tin("taxId", raw)?), None)
            }
            TaxForm::W8ben | TaxForm::W8bene => {
                if country == "US" {
                    return Err(DomainError::new(
                        "country",
                        "a W-8 is for a person or entity outside the US; a US one files a W-9.",
                    ));
                }
                none("vatId", &self.vat_id)?;
                let tin = self
                    .tax_id
                    .as_deref()
                    .map(|t| text("taxId", t, 30))
                    .transpose()?;
                (tin, None)
            }
            TaxForm::EuVat => {
                none("taxId", &self.tax_id)?;
                let raw = self
                    .vat_id
                    .as_deref()
                    .ok_or_else(|| DomainError::new("vatId", "is required with eu_vat."))?;
                let (vat, state) = tax_id::vat_id("vatId", raw)?;
                if state != country {
                    return Err(DomainError::new(
                        "country",
                        format!("the VAT number is of {state}: the country must be {state}."),
                    ));
                }
                (None, Some(vat))
            }
            TaxForm::None => {
                none("taxId", &self.tax_id)?;
                none("vatId", &self.vat_id)?;
                (None, None)
            }
        };
        Ok(TaxProfile {
            form: self.form,
            legal_name,
            country,
            tax_id: tax,
            vat_id: vat,
            address,
        })
    }

    pub fn view(&self) -> TaxView {
        TaxView {
            form: self.form,
            legal_name: self.legal_name.clone(),
            country: self.country.clone(),
            tax_id: self.tax_id.as_deref().map(|t| mask(t, 0)),
            vat_id: self.vat_id.as_deref().map(|v| mask(v, 2)),
            address_given: self.address.is_some(),
        }
    }
}

/// What seals a partner's profile: its handle and id (copied elsewhere, it does not open).
pub(crate) fn aad(handle: &Handle, partner: &PartnerId) -> String {
    format!("tenx/tax-profile/v1/{handle}/{partner}")
}

/// A partner's profile as stored. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<TaxRecord>, StoreError> {
    let (pk, sk) = keys::tax_profile(handle, partner);
    store
        .get(&pk, &sk)
        .await?
        .map(|i| TaxRecord::from_item(&i))
        .transpose()
}

/// Every profile of the handle, masked (the manager's list). Round trips: ONE query per 1,000.
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<TaxRecord>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item::<StoreError>(
        store,
        Query::all(keys::tax_profiles_pk(handle)),
        |item| {
            out.push(TaxRecord::from_item(item)?);
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .await?;
    Ok(out)
}

/// The other partners of the handle whose tax profile has a tax id or VAT number of
/// `partner`'s now. Round trips: ONE read (its profile), ONE query per id, ONE read per partner
/// listed.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn sharing_tax_id(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Vec<PartnerId>, StoreError> {
    let Some(own) = get(store, handle, partner).await? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<PartnerId> = Vec::new();
    for digest in &own.digests {
        for other in super::digests::listed(store, handle, digest, partner).await? {
            if out.contains(&other) {
                continue;
            }
            let current = get(store, handle, &other).await?;
            if current.is_some_and(|t| t.digests.contains(digest)) {
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Why a profile was not set or opened.
#[derive(Debug, thiserror::Error)]
pub enum TaxError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Unconfigured(#[from] Unconfigured),
    #[error("stored tax details do not open: {0}")]
    Sealed(#[from] crate::domain::sealed::SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Someone other than the partner tried to sign its form.
    #[error("{0}")]
    NotThePartner(String),
    #[error("The tax profile of partner {0} was not found.")]
    NotFound(PartnerId),
    /// The review's step does not fit the profile's state (accepting an unsigned one).
    #[error("{0}")]
    InvalidState(String),
    #[error("The tax profile is being changed at the same time; try again.")]
    Busy,
}

/// Opens a record's sealed profile (and signature, when signed).
pub fn open(keys: &Keyring, handle: &Handle, record: &TaxRecord) -> Result<Sealed, TaxError> {
    let plain = keys.open(&aad(handle, &record.partner_id), &record.sealed)?;
    serde_json::from_slice::<Sealed>(&plain)
        .or_else(|_| {
            serde_json::from_slice::<TaxProfile>(&plain).map(|profile| Sealed {
                profile,
                certification: None,
            })
        })
        .map_err(|e| StoreError::Corrupt(format!("tax profile: {e}")).into())
}

/// Every profile of the handle, opened: the year-end export's rows, by partner. Audited as
/// `tax_profiles.exported` (how many) before anything is answered. Round trips: ONE query per
/// 1,000 profiles, ONE audited write.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn export(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
) -> Result<Vec<(TaxRecord, TaxProfile)>, TaxError> {
    let keys = keys?;
    let records = list(store, handle).await?;
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let profile = open(keys, handle, &r)?.profile;
        rows.push((r, profile));
    }
    let entry = crate::kernel::audit::entry(
        handle,
        "tax_profiles.exported",
        &format!("{} tax profiles", rows.len()),
    )?;
    store.write(entry).await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(form: TaxForm, country: &str, tax: Option<&str>, vat: Option<&str>) -> TaxProfile {
        TaxProfile {
            form,
            legal_name: "Jane Doe".into(),
            country: country.into(),
            tax_id: tax.map(Into::into),
            vat_id: vat.map(Into::into),
            address: None,
        }
    }

    #[test]
    fn each_form_asks_for_its_own_fields() {
        let ok = profile(TaxForm::W9, "us", Some("123-45-6789"), None)
            .validate()
            .unwrap();
        assert_eq!(
            (ok.country.as_str(), ok.tax_id.as_deref()),
            ("US", Some("123456789"))
        );
        assert_eq!(ok.view().tax_id.as_deref(), Some("•••••6789"));
        let vat = profile(TaxForm::EuVat, "DE", None, Some("DE 136 695 976"))
            .validate()
            .unwrap();
        assert_eq!(vat.view().vat_id.as_deref(), Some("DE•••••5976"));
        let field = |p: TaxProfile| p.validate().unwrap_err().field;
        assert_eq!(
            field(profile(TaxForm::W9, "DE", Some("123-45-6789"), None)),
            "country"
        );
        assert_eq!(field(profile(TaxForm::W9, "US", None, None)), "taxId");
        assert_eq!(field(profile(TaxForm::W8ben, "US", None, None)), "country");
        assert_eq!(
            field(profile(TaxForm::EuVat, "FR", None, Some("DE136695976"))),
            "country"
        );
        assert_eq!(
            field(profile(TaxForm::EuVat, "DE", None, Some("DE136695977"))),
            "vatId"
        );
        assert_eq!(
            field(profile(TaxForm::None, "DE", Some("x"), None)),
            "taxId"
        );
        assert!(
            profile(TaxForm::W8bene, "GB", Some("GB-12345"), None)
                .validate()
                .is_ok()
        );
    }
}
