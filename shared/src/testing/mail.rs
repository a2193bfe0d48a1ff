//! Mail in tests (issue 59): the messages an app sent, read back from its engine's record, and
//! its mail queue worked off by hand in an app without workers.

use std::sync::Arc;
use std::time::Duration;

use crate::kernel::consume::BatchHandler;
use crate::kernel::state::AppState;
use crate::platform::mail::{MailUrl, Maildir, read_message};

/// One message as its recipient would get it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMail {
    pub to: String,
    /// `X-Tenx-Kind`.
    pub kind: String,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    pub reply_to: Option<String>,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
    pub text: String,
    pub html: String,
    /// The files it carries, decoded.
    pub files: Vec<crate::platform::mail::MailFile>,
    pub raw: String,
}

impl SentMail {
    /// The first absolute link of the text part that starts with `prefix` (a sign-in link, the
    /// statement's), without the text around it.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .map(str::to_owned)
    }
}

/// Every message in the Maildir at `dir`, oldest first.
pub fn maildir_messages(dir: &std::path::Path) -> Vec<SentMail> {
    let files = Maildir::new(dir.to_path_buf())
        .list()
        .expect("reading the Maildir");
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).expect("reading a message");
            let m =
                read_message(&bytes).unwrap_or_else(|| panic!("{} is not a message", f.display()));
            SentMail {
                to: m.to,
                kind: m.kind,
                subject: m.subject,
                message_id: m.message_id,
                reply_to: m.reply_to,
                list_unsubscribe: m.list_unsubscribe,
                list_unsubscribe_post: m.list_unsubscribe_post,
                text: m.text,
                html: m.html,
                files: m.files,
                raw: m.raw,
            }
        })
        .collect()
}

/// What the app's engine holds: its Maildir's messages (the embedded engine, the tests'
/// default on either backend). Other engines are read by their own tests (the SMTP server's
/// log, SES's record on the emulator).
pub fn sent_mail(state: &AppState) -> Vec<SentMail> {
    match state.config.mail.effective_url() {
        MailUrl::Maildir(dir) => maildir_messages(&dir),
        other => panic!(
            "sent_mail reads a Maildir; this app sends by {}",
            other.describe()
        ),
    }
}

/// Works off the mail queue once (an app without workers): every message due now goes through
/// the worker, and a message it leaves for later comes back at once. Returns how many were
/// handled.
pub async fn deliver_mail(state: &AppState) -> usize {
    work_off(
        state,
        Arc::new(crate::runtime::assembly::mail_worker(state)),
    )
    .await
}

/// Works off the mail-events queue once (SES's events through SNS), as [`deliver_mail`].
pub async fn deliver_mail_events(state: &AppState) -> usize {
    work_off(
        state,
        Arc::new(crate::mail::feedback::FeedbackWorker::new(state.clone())),
    )
    .await
}

async fn work_off(state: &AppState, worker: Arc<dyn BatchHandler>) -> usize {
    let name = worker.queue();
    let queue = state.queue.clone();
    let mut handled = 0;
    loop {
        let batch = queue
            .receive(name, 10, Duration::ZERO)
            .await
            .expect("receiving mail messages");
        if batch.is_empty() {
            return handled;
        }
        handled += batch.len();
        let receipts: Vec<(String, String)> = batch
            .iter()
            .map(|m| (m.message_id.clone(), m.receipt.clone()))
            .collect();
        let failed = worker.handle(batch).await;
        for (id, receipt) in receipts {
            if !failed.contains(&id) {
                queue.ack(name, &receipt).await.expect("ack");
            }
        }
        if !failed.is_empty() {
            // Left for later (a retry): the caller decides when to come back.
            return handled;
        }
    }
}

/// Hands the worker the message of one mail, as the queue does once a delayed message comes
/// due (a mail held by an hourly limit waits on the queue until the next hour: a test moves the
/// service's clock instead of waiting, and the queue's own delay runs on the wall clock).
/// Returns whether the worker finished with it (acknowledged).
pub async fn deliver_due(
    state: &AppState,
    handle: Option<&crate::domain::Handle>,
    mail_id: &str,
) -> bool {
    let body = serde_json::to_string(&crate::mail::MailMessage {
        handle: handle.cloned(),
        mail_id: mail_id.to_owned(),
    })
    .expect("a mail message serializes");
    let received = crate::platform::queue::Received {
        message_id: format!("due-{mail_id}"),
        receipt: String::new(),
        body,
        receive_count: 1,
    };
    let worker = crate::runtime::assembly::mail_worker(state);
    worker.handle(vec![received]).await.is_empty()
}
