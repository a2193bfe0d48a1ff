//! The mail seam (issue 59): one RFC 5322 message handed to an engine, which answers sent,
//! refused for good (the address is suppressed) or refused for now (the worker retries).
//!
//! Three engines, chosen once by `TENX_MAIL_URL` ([`MailSettings`]): unset, a Maildir under the
//! data dir (`tenx serve` needs nothing; on Lambda, which has no data dir, `ses:`); `smtp://` /
//! `smtps://` through `lettre`; `ses:` through Amazon SES v2 (`tenx-aws`'s engine, handed in as
//! `platform::engines`). Messages are built here too
//! ([`compose`], `lettre`'s builder: addresses parsed, headers encoded, so no header injection),
//! so every engine sends the same bytes.

mod compose;
mod maildir;
mod settings;
mod smtp;

use std::sync::Arc;

use async_trait::async_trait;

pub use compose::{ComposeError, Composed, MailFile, compose};
pub use maildir::{Maildir, ReadMessage, read_message};
pub use settings::{MailSettings, MailUrl};

/// A message ready to send: its envelope and its RFC 5322 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMail {
    /// The envelope sender (a bare address).
    pub from: String,
    /// The one recipient (a bare address).
    pub to: String,
    /// Without angle brackets: `{id}@{domain}`. The Maildir engine names its file after it.
    pub message_id: String,
    pub bytes: Vec<u8>,
}

/// What an engine answers for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken by the server (its own id, when it gives one: SES's MessageId).
    Sent { provider_id: Option<String> },
    /// Refused for good (an SMTP 5xx, SES's rejection of the address): never send to it again.
    Permanent(String),
    /// Refused for now (a 4xx, a timeout, a dropped connection, throttling): try again later.
    Temporary(String),
}

/// An engine. Sends exactly once per call; retries are the mail worker's business (it knows
/// what it recorded), except SES throttling, retried with backoff inside the call.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// A word for logs and `tenx status`: `maildir`, `smtp`, `ses`.
    fn name(&self) -> &'static str;
    async fn send(&self, mail: &RawMail) -> Outcome;
}

/// SES's constructor (`tenx-aws`): the endpoint (an emulator's) and the configuration set.
pub type SesEngine = fn(Option<String>, Option<String>) -> Arc<dyn Mailer>;

/// The engine `settings` name, SES's from `ses` (`None`: this process has none, and settings
/// naming it are refused). On Lambda (no data dir) the default is SES.
pub fn engine(settings: &MailSettings, ses: Option<SesEngine>) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match settings.effective_url() {
        MailUrl::Maildir(dir) => Arc::new(Maildir::new(dir)),
        MailUrl::Smtp(url) => Arc::new(smtp::Smtp::new(&url)?),
        MailUrl::Ses { endpoint } => {
            let ses = ses.ok_or_else(|| {
                anyhow::anyhow!(
                    "TENX_MAIL_URL (`ses:`, the default without a data dir) names Amazon SES, \
                     an AWS engine this process was built without"
                )
            })?;
            ses(endpoint, settings.ses_configuration_set.clone())
        }
    })
}
