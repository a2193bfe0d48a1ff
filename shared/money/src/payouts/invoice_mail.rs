//! A paid payout's self-billing invoice, carried by the payout's mail to its partner
//! (`mail::attach`): the invoice made the first time (numbered then, exactly as when the console
//! or the portal first asks for it) or read, as PDF. No invoice when the program does not bill
//! itself or the partner has not accepted it: the mail goes alone.

use async_trait::async_trait;

use crate::domain::{Handle, PayoutId};
use crate::kernel::state::AppState;
use crate::mail::attach::{Attachments, INVOICE_OF};
use crate::payouts::invoice::{self, InvoiceError};
use crate::platform::mail::MailFile;

/// The invoice source of the mail worker.
pub struct InvoiceFiles {
    pub state: AppState,
}

#[async_trait]
impl Attachments for InvoiceFiles {
    /// Round trips: those of `invoice::get_or_issue`, then the statement's lines a thousand at
    /// a time.
    async fn files(
        &self,
        handle: &Handle,
        data: &serde_json::Value,
    ) -> anyhow::Result<Vec<MailFile>> {
        let id = data.get(INVOICE_OF).and_then(serde_json::Value::as_str);
        let Some(id) = id.and_then(|i| PayoutId::parse(i).ok()) else {
            return Ok(vec![]);
        };
        let store = self.state.store.as_ref();
        let made = match invoice::get_or_issue(store, self.state.payout_key(), handle, &id).await {
            Ok(made) => made,
            // Self-billing off or not accepted: nothing to carry.
            Err(InvoiceError::InvalidState(_) | InvoiceError::NotFound(_)) => return Ok(vec![]),
            Err(InvoiceError::Unconfigured(e)) => {
                tracing::warn!(payout = %id, error = %e, "no invoice on the payout's mail: this process holds no payout key");
                return Ok(vec![]);
            }
            Err(e) => return Err(e.into()),
        };
        let pdf = crate::payouts::invoice_pdf::render(store, handle, &made).await?;
        Ok(vec![MailFile {
            name: format!("invoice-{}.pdf", made.record.number),
            content_type: "application/pdf".into(),
            bytes: pdf,
        }])
    }
}
