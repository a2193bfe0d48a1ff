//! A partner's tax profile (issue 61): the form it files under (`w9` a US person, `w8ben` a
//! foreign person, `w8bene` a foreign entity, `eu_vat` a business with an EU VAT number, `none`),
//! its legal name and country, and its tax ids, checked where they are typed
//! (`domain::tax_id`: formats and check digits). Kept like payout details: the profile sealed at
//! rest under the payout keys (bound to the handle and partner), answered masked; its masked
//! form beside it for the screens. Only an admin's export for year-end filings (1099, DAC7)
//! opens it, and each export is audited. A program with `requireTaxProfile` holds a partner's
//! payouts out of batches until it is given (`payout_tax_profile_missing`).

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle, PartnerId, tax_id};
use crate::kernel::state::Unconfigured;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

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

/// What a partner sends (`PUT …/tax-profile`), and what is sealed once validated.
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

/// The stored item: the masked view, the sealed profile, who set it and when.
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
}

/// The answer: the record without its sealed profile.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxAnswer<'a> {
    pub partner_id: &'a PartnerId,
    #[serde(flatten)]
    pub view: &'a TaxView,
    pub updated_at: &'a Timestamp,
}

impl TaxRecord {
    pub fn answer(&self) -> TaxAnswer<'_> {
        TaxAnswer {
            partner_id: &self.partner_id,
            view: &self.view,
            updated_at: &self.updated_at,
        }
    }
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

fn text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
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
fn aad(handle: &Handle, partner: &PartnerId) -> String {
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
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Every profile of the handle, masked (the manager's list). Round trips: ONE query per 1,000.
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<TaxRecord>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item::<StoreError>(
        store,
        Query::all(keys::tax_profiles_pk(handle)),
        |item| {
            out.push(item.parse()?);
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
}

/// Sets the partner's profile (validated, sealed) and audits it, in ONE transaction; a profile
/// set again replaces the one before. Round trips: ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn set(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    partner: &PartnerId,
    profile: TaxProfile,
    by: &str,
) -> Result<TaxRecord, TaxError> {
    let profile = profile.validate()?;
    let plain = serde_json::to_vec(&profile).unwrap_or_default();
    let ring = keys?;
    let record = TaxRecord {
        partner_id: partner.clone(),
        view: profile.view(),
        sealed: ring.seal(&aad(handle, partner), &plain),
        updated_at: crate::platform::time::timestamp(),
        updated_by: by.to_owned(),
        digests: super::digests::tax_ids(
            ring,
            handle,
            &profile.country,
            profile.tax_id.as_deref(),
            profile.vat_id.as_deref(),
        ),
    };
    let (pk, sk) = keys::tax_profile(handle, partner);
    let put = WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&record)?),
        cond: Cond::None,
    };
    let target = format!("partner {partner} ({:?} form)", record.view.form);
    let mut ops = vec![
        put,
        crate::kernel::audit::entry(handle, "tax_profile.set", &target)?,
    ];
    ops.extend(super::digests::index_ops(handle, partner, &record.digests)?);
    store.transact(ops).await?;
    Ok(record)
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
        let plain = keys.open(&aad(handle, &r.partner_id), &r.sealed)?;
        let profile: TaxProfile = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt(format!("tax profile: {e}")))?;
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
