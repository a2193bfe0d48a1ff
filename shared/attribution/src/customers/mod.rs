//! Customers (issue 44): a merchant's customer bound once per handle to the click, campaign and
//! partner that brought it, so every later sale of that customer (renewals, repeat orders) is
//! attributed without a ctx.
//!
//! Exactly once: the binding is ONE transaction whose first operation puts the customer's
//! record only if absent (its index entries ride along), so however many leads of one customer
//! race, from however many partners' clicks, one binding wins and every other request reads it
//! (`bound: false`). A binding is never changed by a later request.
//!
//! A conversion of a bound customer is submitted with the binding's click claims (`claims`):
//! the same path, idempotency and ledger as a conversion that carried its ctx. A binding made
//! by hand (`manual`: partner and campaign, no click) gets a click id derived from the handle
//! and the customer, so its conversions name the binding they came by.

pub mod bind;
pub mod coupon_use;
pub mod coupons;
pub mod moved;
pub mod repo;

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{BoundBy, CampaignId, ClickId, CtxClaims, CustomerId, PartnerId};

/// A customer's binding, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub customer_id: CustomerId,
    pub click_id: ClickId,
    pub campaign_id: Option<CampaignId>,
    pub partner_id: Option<PartnerId>,
    pub bound_at: Timestamp,
    pub bound_by: BoundBy,
    #[serde(default)]
    pub email_masked: Option<String>,
    /// The email's keyed digest (`CtxKeyring::email_digest`): never the address itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_hash: Option<String>,
    /// `self_referral`: the customer's email is its partner's (its commissions are held).
    #[serde(default)]
    pub flags: Vec<String>,
    /// The click's claims conversions of this customer are submitted with.
    pub claims: CtxClaims,
    /// The binding this one replaced, and the decision that moved it ([`moved`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<moved::Moved>,
}

/// A customer as the API answers it: the binding, and what its conversions added up to.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    pub customer_id: CustomerId,
    pub click_id: ClickId,
    pub campaign_id: Option<CampaignId>,
    pub partner_id: Option<PartnerId>,
    pub bound_at: Timestamp,
    pub bound_by: BoundBy,
    pub email_masked: Option<String>,
    pub flags: Vec<String>,
    /// Who the customer was bound to before a decision moved it, by what and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<moved::Moved>,
    pub conversion_count: i64,
    /// Currency → decimal amount, of the customer's conversions (test ones left out).
    pub revenue: std::collections::BTreeMap<String, String>,
    /// Currency → decimal amount of the commissions they earned (net of reversals; rejected and
    /// capped lines out), kept on the record by the ledger.
    pub commissions: std::collections::BTreeMap<String, String>,
}

/// `customer.bound` carries the new binding as the API answers it.
impl crate::kernel::events::EventPayload for CustomerView {
    const TYPES: &'static [crate::kernel::events::EventType] =
        &[crate::kernel::events::EventType::CustomerBound];
    fn event_type(&self) -> crate::kernel::events::EventType {
        crate::kernel::events::EventType::CustomerBound
    }
}

/// Why a customer request failed.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("Customer {0} was not found.")]
    NotFound(CustomerId),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::platform::store::StoreError),
}

/// How a new binding attributes the customer.
pub struct Binding {
    pub claims: CtxClaims,
    pub partner_id: Option<PartnerId>,
    pub by: BoundBy,
    pub email: Option<Email>,
    pub flags: Vec<String>,
}

/// A customer's email as it may be kept: masked for people, a keyed digest for comparing.
#[derive(Clone, Debug)]
pub struct Email {
    pub masked: String,
    pub digest: String,
}

pub use crate::domain::customer::SELF_REFERRAL;

impl Email {
    /// Masks and digests `raw` (an email address, else `400` naming `email`); the address
    /// itself is dropped here.
    pub fn protect(
        keys: &crate::domain::CtxKeyring,
        raw: &str,
    ) -> Result<Self, crate::domain::DomainError> {
        Ok(Email {
            masked: crate::domain::customer::mask_email(raw)?,
            digest: keys.email_digest(raw.trim()),
        })
    }
}
