//! The files a message carries, made when it is sent. A record names what it carries in its
//! data (`attachInvoiceOf`: a payout whose self-billing invoice goes with the payout's mail);
//! the worker asks its [`Attachments`] for the files before it claims the send, so a failure to
//! make them (a store error, invoices numbered at the same moment) is tried again later and
//! never counted as a lost send. The source lives with what it attaches (the invoice's is in
//! `payouts`, above this room); a worker without one sends the message alone.

use async_trait::async_trait;

use crate::domain::Handle;
use crate::platform::mail::MailFile;

/// The data field naming the payout whose invoice the message carries.
pub const INVOICE_OF: &str = "attachInvoiceOf";

/// Where a message's files come from.
#[async_trait]
pub trait Attachments: Send + Sync {
    /// The files `data` asks for, of a message of `handle` (none when it asks for none, or
    /// when there is nothing to attach: an invoice self-billing does not make); an error is
    /// tried again later.
    async fn files(
        &self,
        handle: &Handle,
        data: &serde_json::Value,
    ) -> anyhow::Result<Vec<MailFile>>;
}
