//! A self-billing credit note: what cancels a payout's invoice when its provider gives the
//! payment back after it was paid (`payouts::returned`). An invoice issued is never edited; the
//! note names the invoice it cancels and carries its amounts negated, its parties the invoice's
//! own (the same sealed copy, so the two documents always agree on who they are between).
//!
//! Numbers run in a series of their own per partner, `{partnerId}-CN-{n:05}`, from a counter of
//! their own (`H#{handle}#CRNN` / `{partnerId}`) taken in the transaction that writes the note,
//! exactly as invoices take theirs: each series is gap-free on its own, so an accountant who
//! counts a partner's invoices finds no hole where a credit note came between two of them, and
//! the `CN` tells the two documents apart at a glance (Council Directive 2006/112/EC, article
//! 226(2), allows "one or more series").
//!
//! Exactly once: the note is keyed by its payout and written only if absent, so every word of
//! the same return (a poll and a webhook, a redelivery) finds it made and writes nothing more.
//! A payout without an invoice gets no note (nothing was invoiced); one whose invoice is asked
//! for only after the return gets its note when it is first read ([`get_or_issue`]).

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, PayoutId};
use crate::kernel::state::Unconfigured;
use crate::payouts::invoice::{self, Invoice, InvoiceError, InvoiceRecord};
use crate::payouts::model::Payout;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// How often a number is taken again after another note took it first.
const NUMBER_TRIES: usize = 16;

/// A credit note as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteRecord {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub number: String,
    pub sequence: u64,
    pub issued_at: Timestamp,
    /// The number of the invoice it cancels.
    pub invoice_number: String,
    /// Why the payment came back, in the provider's words as the ledger's line keeps them.
    pub reason: String,
}

/// A credit note opened: the note and the invoice it cancels (its parties, its payout).
pub struct CreditNote {
    pub record: CreditNoteRecord,
    pub invoice: Invoice,
}

/// Issues `payout`'s credit note when its invoice exists (`None`: no invoice, so nothing to
/// cancel); the note made before when there is one. Called for each word of a return, after its
/// line is credited back. Round trips: TWO reads when made or not invoiced; else about TWO more
/// reads and ONE transaction (again for each number another note took first).
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout.payout_id))]
pub async fn issue_if_invoiced(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
    reason: &str,
) -> Result<Option<CreditNoteRecord>, InvoiceError> {
    if let Some(note) = read(store, handle, &payout.payout_id).await? {
        return Ok(Some(note));
    }
    let Some(invoice) = invoice::read(store, handle, &payout.payout_id).await? else {
        return Ok(None);
    };
    for _ in 0..NUMBER_TRIES {
        if let Some(note) = number_and_write(store, handle, &invoice, reason).await? {
            return Ok(Some(note));
        }
        // The number was taken, or the note was made meanwhile: read it first.
        if let Some(note) = read(store, handle, &payout.payout_id).await? {
            return Ok(Some(note));
        }
    }
    Err(InvoiceError::Busy)
}

/// The note cancelling `payout`'s invoice when the payout was given back whole: the one made,
/// else made now (its invoice was first asked for after the return, so none was there to
/// cancel then); `None` when it was not given back (or only in part) or was never invoiced.
/// What the invoice's readers are offered beside it. Round trips: ONE read when made; else
/// those of `given_back::given_back_whole` (the returned lines), then those of
/// [`issue_if_invoiced`].
pub async fn of_invoiced(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
) -> Result<Option<CreditNoteRecord>, InvoiceError> {
    if let Some(note) = read(store, handle, &payout.payout_id).await? {
        return Ok(Some(note));
    }
    let Some(reason) = crate::payouts::given_back::given_back_whole(store, handle, payout).await?
    else {
        return Ok(None);
    };
    issue_if_invoiced(store, handle, payout, &reason).await
}

/// The payout's credit note, opened with its invoice: made now when the payout was given back
/// and invoiced but has none yet (its invoice asked for after the return); `invalid_state` in
/// words when it was not given back or never invoiced. Round trips: about FOUR reads, and ONE
/// transaction when made now.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout_id))]
pub async fn get_or_issue(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    payout_id: &PayoutId,
) -> Result<CreditNote, InvoiceError> {
    let keys = keys?;
    let payout = crate::payouts::model::get(store, handle, payout_id)
        .await?
        .ok_or_else(|| InvoiceError::NotFound(payout_id.clone()))?;
    let record = match read(store, handle, payout_id).await? {
        Some(record) => record,
        None => issue_late(store, handle, &payout).await?,
    };
    let invoice = invoice::read(store, handle, payout_id)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!("credit note {} lost its invoice", record.number))
        })?;
    let invoice = invoice::open(keys, handle, invoice, payout)?;
    Ok(CreditNote { record, invoice })
}

/// The note of a payout given back whole whose invoice was made after the return (none was
/// there to cancel then); `invalid_state` in words when it was not given back (or only in
/// part) or has no invoice.
async fn issue_late(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
) -> Result<CreditNoteRecord, InvoiceError> {
    let Some(reason) = crate::payouts::given_back::given_back_whole(store, handle, payout).await?
    else {
        return Err(InvoiceError::InvalidState(
            "A credit note is made when a paid payout is given back whole by its provider; this \
             one was not given back, or only in part."
                .into(),
        ));
    };
    issue_if_invoiced(store, handle, payout, &reason)
        .await?
        .ok_or_else(|| {
            InvoiceError::InvalidState(
                "This payout was given back, but it had no invoice: there is nothing to cancel."
                    .into(),
            )
        })
}

/// The payout's credit note, if one was made. Round trips: ONE read.
pub async fn read(
    store: &dyn Store,
    handle: &Handle,
    payout_id: &PayoutId,
) -> Result<Option<CreditNoteRecord>, StoreError> {
    let (pk, sk) = keys::credit_note(handle, payout_id);
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Takes the partner's next credit-note number and writes the note with it, in ONE transaction;
/// `None` when another took the number or wrote this payout's note first.
async fn number_and_write(
    store: &dyn Store,
    handle: &Handle,
    invoice: &InvoiceRecord,
    reason: &str,
) -> Result<Option<CreditNoteRecord>, InvoiceError> {
    let counter = keys::credit_note_counter(handle, &invoice.partner_id);
    let crate::payouts::invoice::NextNumber { sequence, take } =
        crate::payouts::invoice::next_number(store, counter).await?;
    let record = CreditNoteRecord {
        payout_id: invoice.payout_id.clone(),
        partner_id: invoice.partner_id.clone(),
        number: format!("{}-CN-{sequence:05}", invoice.partner_id),
        sequence,
        issued_at: crate::platform::time::timestamp(),
        invoice_number: invoice.number.clone(),
        reason: reason.to_owned(),
    };
    let (npk, nsk) = keys::credit_note(handle, &invoice.payout_id);
    let ops = vec![
        take,
        WriteOp::Put {
            item: Item::new(npk, nsk, to_doc(&record)?),
            cond: Cond::Absent,
        },
        crate::kernel::audit::entry(
            handle,
            "invoice.credited",
            &format!(
                "credit note {} cancels invoice {} of payout {}",
                record.number, invoice.number, invoice.payout_id
            ),
        )?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(Some(record)),
        Err(StoreError::TxConflict { index: 0 | 1, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
