//! `GET …/payout-batches/{batchId}/file`: the file the batch's rail takes, with the details
//! opened from the batch's sealed snapshot (the only place they are ever opened).

use crate::domain::sealed::Keyring;
use crate::domain::{Currency, Handle};
use crate::kernel::state::Unconfigured;
use crate::payout_batches::model::{Batch, BatchItem, BatchStatus};
use crate::payout_batches::{BatchError, csv, sepa};
use crate::payout_methods::{self, Details, MethodType};
use crate::platform::store::Store;

/// A rendered file.
pub struct File {
    pub content_type: &'static str,
    pub filename: String,
    pub body: String,
}

/// The batch's file; `currency` picks one currency of a PayPal batch (PayPal takes one
/// currency per file). A canceled batch has none. Round trips: none (ONE read of the debtor
/// for SEPA).
#[tracing::instrument(skip_all, fields(handle = %handle, batch = %batch.batch_id))]
pub async fn render(
    (store, payout_key): (&dyn Store, Result<&Keyring, Unconfigured>),
    handle: &Handle,
    batch: &Batch,
    currency: Option<Currency>,
) -> Result<File, BatchError> {
    if batch.status == BatchStatus::Canceled {
        return Err(BatchError::InvalidState(format!(
            "Batch {} is canceled: it has no file.",
            batch.batch_id
        )));
    }
    let opened = batch
        .items
        .iter()
        .map(|i| {
            let d = payout_methods::open(payout_key, handle, &i.partner_id, i.sealed.as_deref())?;
            Ok((i, d))
        })
        .collect::<Result<Vec<_>, BatchError>>()?;
    let id = &batch.batch_id;
    match batch.method {
        MethodType::Sepa => Ok(File {
            content_type: "application/xml; charset=utf-8",
            filename: format!("{id}.pain.001.001.03.xml"),
            body: sepa_file((store, payout_key), handle, batch, &opened).await?,
        }),
        MethodType::Paypal => {
            let currency = paypal_currency(batch, currency)?;
            Ok(File {
                content_type: "text/csv; charset=utf-8",
                filename: format!("{id}-paypal-{currency}.csv"),
                body: csv::paypal(&paypal_rows(&opened, currency)),
            })
        }
        MethodType::Wise | MethodType::Manual | MethodType::StripeConnect => Ok(File {
            content_type: "text/csv; charset=utf-8",
            filename: format!("{id}-wise.csv"),
            body: csv::wise(&wise_rows(&opened)),
        }),
    }
}

fn remittance(i: &BatchItem) -> String {
    format!("Payout {} statement {}", i.payout_id, i.sequence)
}

async fn sepa_file(
    (store, payout_key): (&dyn Store, Result<&Keyring, Unconfigured>),
    handle: &Handle,
    batch: &Batch,
    opened: &[(&BatchItem, Details)],
) -> Result<String, BatchError> {
    let debtor = payout_methods::settings::debtor(store, payout_key, handle)
        .await?
        .ok_or_else(|| {
            BatchError::InvalidState("payout-settings: set the debtor before a SEPA file.".into())
        })?;
    if let Some(e) = debtor.fault() {
        return Err(BatchError::InvalidState(format!(
            "payout-settings: {e} Set the payout settings again before this file."
        )));
    }
    opened
        .iter()
        .try_for_each(|(i, d)| sepa_details_pass(i, d))?;
    let transfers: Vec<sepa::Transfer> = opened
        .iter()
        .filter_map(|(i, d)| match d {
            Details::Sepa {
                account_name,
                iban,
                bic,
            } => Some(sepa::Transfer {
                end_to_end_id: i.payout_id.hex().to_owned(),
                amount_minor: i.amount_minor,
                name: account_name.clone(),
                iban: iban.clone(),
                bic: bic.clone(),
                remittance: remittance(i),
            }),
            _ => None,
        })
        .collect();
    let created = crate::platform::time::now_rfc3339();
    let header = sepa::Header {
        message_id: batch.batch_id.hex(),
        created: &created[..19],
        execution_date: &batch.execution_date,
        debtor: &debtor,
    };
    Ok(sepa::document(&header, &transfers))
}

/// A batch's details checked in full against today's rules (its selection saw only their masked
/// form: a BBAN out of structure shows only here). A file is never written with an IBAN a bank
/// refuses: the batch is to be canceled and made again once the partner has set its details.
fn sepa_details_pass(i: &BatchItem, d: &Details) -> Result<(), BatchError> {
    let Details::Sepa {
        account_name, iban, ..
    } = d
    else {
        return Ok(());
    };
    crate::domain::bank::sepa_iban("iban", iban)
        .and_then(|_| crate::domain::bank::sepa_name("accountName", account_name))
        .map(drop)
        .map_err(|e| {
            BatchError::InvalidState(format!(
                "payout {} of partner {}: {e} Cancel this batch; the partner sets its payout method again.",
                i.payout_id, i.partner_id
            ))
        })
}

/// The currency of a PayPal file: the one asked for, or the batch's only one.
fn paypal_currency(batch: &Batch, asked: Option<Currency>) -> Result<Currency, BatchError> {
    let held: Vec<Currency> = batch.totals().into_keys().collect();
    match asked {
        Some(c) if held.contains(&c) => Ok(c),
        None if held.len() == 1 => Ok(held[0]),
        _ => {
            let list: Vec<&str> = held.iter().map(Currency::as_str).collect();
            Err(BatchError::Invalid(format!(
                "currency: this batch pays {}; PayPal takes one currency per file: ask for one (?currency=…).",
                list.join(", ")
            )))
        }
    }
}

fn paypal_rows(opened: &[(&BatchItem, Details)], currency: Currency) -> Vec<csv::PaypalRow> {
    opened
        .iter()
        .filter(|(i, _)| i.currency == currency)
        .filter_map(|(i, d)| {
            d.paypal_receiver().map(|(_, receiver)| csv::PaypalRow {
                receiver: receiver.to_owned(),
                amount_minor: i.amount_minor,
                currency: i.currency,
                customer_id: i.partner_id.to_string(),
                note: remittance(i),
            })
        })
        .collect()
}

fn wise_rows(opened: &[(&BatchItem, Details)]) -> Vec<csv::WiseRow> {
    opened
        .iter()
        .filter_map(|(i, d)| match d {
            Details::Wise {
                email,
                account_name,
            } => Some(csv::WiseRow {
                name: account_name.clone(),
                email: email.clone(),
                reference: i.payout_id.to_string(),
                amount_minor: i.amount_minor,
                currency: i.currency,
            }),
            _ => None,
        })
        .collect()
}
