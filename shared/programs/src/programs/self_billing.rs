//! Self-billing (the merchant writes its partners' invoices for them): the program's side
//! (`selfBilling`: on or off, the merchant's legal name, address and VAT number, which every
//! invoice is addressed to) and each partner's acceptance of the agreement, once, by the partner
//! itself (`H#{handle}#SBA` / `{partnerId}`, audited). The invoices are `payouts::invoice`'s.

use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle, PartnerId};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// What `selfBilling` sends in `PUT …/program`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfBillingSpec {
    pub enabled: bool,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
}

/// The program's self-billing, validated: the invoices' addressee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfBilling {
    pub enabled: bool,
    pub legal_name: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

/// The agreement a partner accepts, as the portal shows it.
pub const AGREEMENT: &str = "I agree that the program issues the invoices for the commissions \
it pays me in my name (self-billing), that I will not issue invoices of my own for those \
payments, that I will tell the program at once when my tax details (my name, address or VAT \
number) change, and that I may end this agreement by writing to the program; invoices already \
issued stay valid.";

fn text(field: &str, raw: Option<&str>, max: usize) -> Result<String, DomainError> {
    let t = raw.unwrap_or("").trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::new(
            field,
            format!("must be 1 to {max} characters of text (the invoices are addressed to it)."),
        ));
    }
    Ok(t.to_owned())
}

impl SelfBillingSpec {
    /// Turned on, it needs the merchant's legal name and address; a VAT number is checked for
    /// its state's format and check digits. Turned off, what was given is kept as sent.
    pub fn validate(self) -> Result<SelfBilling, DomainError> {
        let vat_id = self
            .vat_id
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| crate::domain::tax_id::vat_id("selfBilling.vatId", v).map(|(v, _)| v))
            .transpose()?;
        if !self.enabled {
            return Ok(SelfBilling {
                enabled: false,
                legal_name: self.legal_name.unwrap_or_default().trim().to_owned(),
                address: self.address.unwrap_or_default().trim().to_owned(),
                vat_id,
            });
        }
        Ok(SelfBilling {
            enabled: true,
            legal_name: text("selfBilling.legalName", self.legal_name.as_deref(), 200)?,
            address: text("selfBilling.address", self.address.as_deref(), 500)?,
            vat_id,
        })
    }
}

/// A partner's acceptance of self-billing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    pub partner_id: PartnerId,
    pub accepted_at: Timestamp,
    pub accepted_by: String,
    /// SHA-256 (hex) of the agreement's words accepted.
    pub agreement_sha256: String,
}

/// The partner's acceptance, if it accepted. Round trips: ONE read.
pub async fn acceptance(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<Acceptance>, StoreError> {
    let (pk, sk) = keys::self_billing_acceptance(handle, partner);
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Records the partner's acceptance, audited; accepting again answers the first acceptance.
/// Round trips: ONE transaction (ONE read more when it was accepted before).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn accept(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    by: &str,
) -> Result<Acceptance, StoreError> {
    use sha2::Digest;
    let record = Acceptance {
        partner_id: partner.clone(),
        accepted_at: crate::platform::time::timestamp(),
        accepted_by: by.to_owned(),
        agreement_sha256: hex::encode(sha2::Sha256::digest(AGREEMENT.as_bytes())),
    };
    let (pk, sk) = keys::self_billing_acceptance(handle, partner);
    let put = WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&record)?),
        cond: Cond::Absent,
    };
    let target = format!("partner {partner}");
    match crate::kernel::audit::write(store, put, handle, "self_billing.accepted", &target).await {
        Ok(()) => Ok(record),
        Err(StoreError::ConditionFailed { .. }) => acceptance(store, handle, partner)
            .await?
            .ok_or_else(|| StoreError::Corrupt("self-billing acceptance vanished".into())),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turned_on_it_needs_whom_the_invoices_are_addressed_to() {
        let spec = |name: Option<&str>, vat: Option<&str>| SelfBillingSpec {
            enabled: true,
            legal_name: name.map(Into::into),
            address: Some("Hauptstr. 1, 10115 Berlin".into()),
            vat_id: vat.map(Into::into),
        };
        assert_eq!(
            spec(None, None).validate().unwrap_err().field,
            "selfBilling.legalName"
        );
        assert_eq!(
            spec(Some("Acme GmbH"), Some("DE136695977"))
                .validate()
                .unwrap_err()
                .field,
            "selfBilling.vatId"
        );
        let ok = spec(Some(" Acme GmbH "), Some("DE 136 695 976"))
            .validate()
            .unwrap();
        assert_eq!(
            (ok.legal_name.as_str(), ok.vat_id.as_deref()),
            ("Acme GmbH", Some("DE136695976"))
        );
        let off = SelfBillingSpec {
            enabled: false,
            legal_name: None,
            address: None,
            vat_id: None,
        };
        assert!(!off.validate().unwrap().enabled);
    }
}
