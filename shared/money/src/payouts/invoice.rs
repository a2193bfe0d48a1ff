//! Self-billing invoices: the invoice the merchant writes in its partner's name for a paid
//! payout, when the program bills that way (`programs::self_billing`) and the partner accepted
//! it before the payout was paid (the agreement comes first). Made the first time it is asked
//! for (the console, the portal, the paid mail) and kept: its parties (the partner's tax
//! profile, the program's legal details) are sealed in it as they were then, so a later change
//! of either never edits an invoice issued.
//!
//! Numbers run per partner without gaps and in the order the payouts were paid:
//! `{partnerId}-{n:05}`, `n` taken from the partner's counter (`H#{handle}#INVN` /
//! `{partnerId}`) in the very transaction that makes the payout paid ([`number_when_paid`],
//! `payouts::settle`), the counter version-checked, and kept on the payout
//! (`invoice_sequence`). Two payouts of one partner paid at once get two numbers in the order
//! their payments committed (the loser reads the counter again); the invoice made later only
//! writes the number its payout holds, absent-checked, so one payout asked twice at once gets
//! one invoice.

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, PayoutId};
use crate::kernel::state::Unconfigured;
use crate::payouts::model::{Payout, PayoutStatus};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// How often a number is taken again after another took it first.
pub(crate) const NUMBER_TRIES: usize = 16;

/// One side of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    pub legal_name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// ISO 3166 alpha-2, when known.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
}

/// What an invoice says of whom, sealed in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parties {
    /// The supplier: the partner.
    pub supplier: Party,
    /// The customer, who issues it: the merchant.
    pub customer: Party,
    /// Both in the EU, in different member states, the customer with a VAT number.
    pub reverse_charge: bool,
}

/// An invoice as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRecord {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub number: String,
    pub sequence: u64,
    pub issued_at: Timestamp,
    /// [`Parties`], sealed under the payout keys (bound to the handle and payout).
    pub sealed: String,
}

/// An invoice opened: what the PDF is made of.
pub struct Invoice {
    pub record: InvoiceRecord,
    pub parties: Parties,
    pub payout: Payout,
}

/// Why an invoice was not made.
#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error("Payout {0} was not found.")]
    NotFound(PayoutId),
    /// The payout is not paid, self-billing is off, or the partner did not accept it.
    #[error("{0}")]
    InvalidState(String),
    #[error("Invoices are being numbered at the same time; try again.")]
    Busy,
    #[error(transparent)]
    Unconfigured(#[from] Unconfigured),
    #[error("a stored invoice does not open: {0}")]
    Sealed(#[from] crate::domain::sealed::SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn aad(handle: &Handle, payout: &PayoutId) -> String {
    format!("tenx/invoice/v1/{handle}/{payout}")
}

/// The EU's member states (ISO 3166 alpha-2), for the reverse charge.
const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A VAT number's member state (`EL` is Greece's prefix).
fn vat_state(vat: &str) -> Option<String> {
    let prefix = vat.get(..2)?;
    let state = if prefix == "EL" { "GR" } else { prefix };
    EU.contains(&state).then(|| state.to_owned())
}

/// Whether the customer owes the VAT: a supplier and a customer registered for VAT in two
/// different member states (Council Directive 2006/112/EC, articles 44 and 196).
pub fn reverse_charge(supplier: &Party, customer: &Party) -> bool {
    let s = supplier.vat_id.as_deref().and_then(vat_state);
    let c = customer.vat_id.as_deref().and_then(vat_state);
    matches!((s, c), (Some(s), Some(c)) if s != c)
}

/// The payout's invoice: the one made before, else a new one with the partner's next number.
/// `invalid_state` in words while the payout is not paid, self-billing is off or the partner has
/// not accepted it. Round trips: ONE read when it exists; else about SIX reads and ONE
/// transaction (again for each number another invoice took first).
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout_id))]
pub async fn get_or_issue(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    payout_id: &PayoutId,
) -> Result<Invoice, InvoiceError> {
    let keys = keys?;
    let payout = crate::payouts::model::get(store, handle, payout_id)
        .await?
        .ok_or_else(|| InvoiceError::NotFound(payout_id.clone()))?;
    if payout.status != PayoutStatus::Paid {
        return Err(InvoiceError::InvalidState(format!(
            "An invoice is made once the payout is paid; this one is {}.",
            status_words(payout.status)
        )));
    }
    if let Some(record) = read(store, handle, payout_id).await? {
        return open(keys, handle, record, payout);
    }
    let numbered = payout.invoice_sequence.is_some();
    let parties = parties(store, keys, handle, (&payout.partner_id, numbered)).await?;
    let Some(sequence) = payout.invoice_sequence else {
        return Err(InvoiceError::InvalidState(
            "This payout was paid before the partner accepted self-billing (or before the program turned it on): a self-billing invoice follows the agreement, so this payout has none. The payouts paid since have theirs."
                .into(),
        ));
    };
    let plain = serde_json::to_vec(&parties).unwrap_or_default();
    let sealed = keys.seal(&aad(handle, payout_id), &plain);
    match write(store, handle, &payout, sequence, &sealed).await? {
        Some(record) => Ok(Invoice {
            record,
            parties,
            payout,
        }),
        // Made meanwhile by another ask of the same payout: that one.
        None => match read(store, handle, payout_id).await? {
            Some(record) => open(keys, handle, record, payout),
            None => Err(InvoiceError::Busy),
        },
    }
}

/// The partner's next invoice number and the write that takes it, for a payout being made
/// paid: `None` when the program does not bill itself for the partner now (self-billing off,
/// or not accepted by the partner). The caller puts `take` into the transaction that makes the
/// payout paid and keeps the number on the payout; a conflict on `take` means another payment
/// took the number first: read it again. Round trips: TWO reads, and ONE more when it numbers.
pub(crate) async fn number_when_paid(
    store: &dyn Store,
    handle: &Handle,
    partner_id: &PartnerId,
) -> Result<Option<NextNumber>, StoreError> {
    let billing = crate::programs::settings::get(store, handle)
        .await?
        .and_then(|p| p.self_billing)
        .filter(|b| b.enabled);
    if billing.is_none()
        || crate::programs::self_billing::acceptance(store, handle, partner_id)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    match next_number(store, keys::invoice_counter(handle, partner_id)).await {
        Ok(n) => Ok(Some(n)),
        Err(InvoiceError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Other(e.to_string())),
    }
}

fn status_words(s: PayoutStatus) -> &'static str {
    match s {
        PayoutStatus::Pending => "not paid yet",
        PayoutStatus::Sending => "being sent",
        PayoutStatus::Paid => "paid",
        PayoutStatus::Returned => "returned",
        PayoutStatus::Failed => "failed",
        PayoutStatus::Canceled => "canceled",
    }
}

/// The payout's invoice, if one was made. Round trips: ONE read.
pub async fn read(
    store: &dyn Store,
    handle: &Handle,
    payout_id: &PayoutId,
) -> Result<Option<InvoiceRecord>, StoreError> {
    let (pk, sk) = keys::invoice(handle, payout_id);
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Opens a stored invoice's sealed parties.
pub fn open(
    keys: &Keyring,
    handle: &Handle,
    record: InvoiceRecord,
    payout: Payout,
) -> Result<Invoice, InvoiceError> {
    let plain = keys.open(&aad(handle, &record.payout_id), &record.sealed)?;
    let parties =
        serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("invoice: {e}")))?;
    Ok(Invoice {
        record,
        parties,
        payout,
    })
}

/// The invoice's parties now: the program's self-billing details, its tax profile's legal
/// name, address and VAT number (else its name). A payout `numbered` when it was paid (self-billing
/// on and accepted then) gets its invoice even if self-billing was turned off since, so no number
/// of the series is left without its invoice; else self-billing must be on and accepted.
async fn parties(
    store: &dyn Store,
    keys: &Keyring,
    handle: &Handle,
    (partner_id, numbered): (&PartnerId, bool),
) -> Result<Parties, InvoiceError> {
    let billing = crate::programs::settings::get(store, handle)
        .await?
        .and_then(|p| p.self_billing)
        .filter(|b| b.enabled || numbered)
        .ok_or_else(|| {
            InvoiceError::InvalidState(
                "The program does not bill itself for its partners: turn self-billing on in the \
                 program's settings first."
                    .into(),
            )
        })?;
    if !numbered
        && crate::programs::self_billing::acceptance(store, handle, partner_id)
            .await?
            .is_none()
    {
        return Err(InvoiceError::InvalidState(
            "The partner has not accepted self-billing yet: it does so once, in its portal.".into(),
        ));
    }
    let partner = crate::partners::get(store, handle, partner_id).await?;
    let profile = match crate::payout_methods::tax::get(store, handle, partner_id).await? {
        Some(r) => Some(
            crate::payout_methods::tax::open(keys, handle, &r)
                .map_err(|e| StoreError::Corrupt(format!("tax profile: {e}")))?
                .profile,
        ),
        None => None,
    };
    let supplier = Party {
        legal_name: profile.as_ref().map_or_else(
            || partner.map_or_else(|| partner_id.to_string(), |p| p.name),
            |p| p.legal_name.clone(),
        ),
        address: profile.as_ref().and_then(|p| p.address.clone()),
        country: profile.as_ref().map(|p| p.country.clone()),
        vat_id: profile.as_ref().and_then(|p| p.vat_id.clone()),
    };
    let customer = Party {
        legal_name: billing.legal_name,
        address: Some(billing.address),
        country: billing.vat_id.as_deref().and_then(vat_state),
        vat_id: billing.vat_id,
    };
    Ok(Parties {
        reverse_charge: reverse_charge(&supplier, &customer),
        supplier,
        customer,
    })
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counter {
    last: u64,
}

/// A gap-free series' next number, and the write that takes it: the counter at `(pk, sk)` put
/// one higher on the condition that nobody moved it since it was read. It goes first in the
/// transaction that writes what the number names, so a conflict at index 0 is a number taken by
/// another (invoices and credit notes each keep a series of their own).
pub(crate) struct NextNumber {
    pub sequence: u64,
    pub take: WriteOp,
}

pub(crate) async fn next_number(
    store: &dyn Store,
    (pk, sk): (String, String),
) -> Result<NextNumber, InvoiceError> {
    let counter = store.get(&pk, &sk).await?;
    let (last, cond, version) = match &counter {
        Some(item) => (
            item.parse::<Counter>()?.last,
            Cond::Version(item.version),
            item.version + 1,
        ),
        None => (0, Cond::Absent, 1),
    };
    let sequence = last + 1;
    let item = Item::new(pk, sk, to_doc(&Counter { last: sequence })?).with_version(version);
    Ok(NextNumber {
        sequence,
        take: WriteOp::Put { item, cond },
    })
}

/// Writes the invoice with the number its payout took when it was paid, in ONE transaction;
/// `None` when another ask wrote this payout's invoice first.
async fn write(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
    sequence: u64,
    sealed: &str,
) -> Result<Option<InvoiceRecord>, InvoiceError> {
    let record = InvoiceRecord {
        payout_id: payout.payout_id.clone(),
        partner_id: payout.partner_id.clone(),
        number: format!("{}-{sequence:05}", payout.partner_id),
        sequence,
        issued_at: crate::platform::time::timestamp(),
        sealed: sealed.to_owned(),
    };
    let (ipk, isk) = keys::invoice(handle, &payout.payout_id);
    let ops = vec![
        WriteOp::Put {
            item: Item::new(ipk, isk, to_doc(&record)?),
            cond: Cond::Absent,
        },
        crate::kernel::audit::entry(
            handle,
            "invoice.issued",
            &format!("invoice {} for payout {}", record.number, payout.payout_id),
        )?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(Some(record)),
        Err(StoreError::TxConflict { index: 0, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(vat: Option<&str>) -> Party {
        Party {
            legal_name: "X".into(),
            address: None,
            country: None,
            vat_id: vat.map(Into::into),
        }
    }

    #[test]
    fn the_reverse_charge_needs_two_member_states() {
        let de = party(Some("DE136695976"));
        let fr = party(Some("FR40303265045"));
        let el = party(Some("EL094259216"));
        assert!(reverse_charge(&fr, &de));
        assert!(reverse_charge(&el, &de));
        assert!(!reverse_charge(&de, &de.clone()));
        assert!(!reverse_charge(&party(None), &de));
        assert!(!reverse_charge(&fr, &party(Some("GB123456789"))));
    }
}
