//! What the receiving side said after a send (issue 59): Amazon SES publishes its configuration
//! set's events (bounce, complaint, delivery) to SNS, which delivers them to the mail-events
//! queue (`template.yaml`); this worker reads each SNS envelope and its SES event and records:
//!
//! - a permanent bounce: each bounced address is suppressed (reason `bounced`, the server's
//!   diagnostic as detail) and the message becomes `bounced`;
//! - a complaint: each complaining address is suppressed (reason `complained`);
//! - a delivery, a transient bounce, anything else: nothing (a transient bounce is SES's own
//!   retry business).
//!
//! The message is found by its Message-ID (`{mailId}.{handle}@{domain}`, `mail::worker`), which
//! SES repeats in `mail.commonHeaders.messageId`. Recording twice changes nothing more, so an
//! SNS or SQS redelivery is harmless.

use async_trait::async_trait;
use serde_json::Value;

use super::suppressions::{self, Reason};
use super::{MailStatus, sweep};
use crate::domain::Handle;
use crate::kernel::consume::BatchHandler;
use crate::kernel::state::AppState;
use crate::platform::queue::{QueueName, Received};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

/// The consumer of [`QueueName::MailEvents`].
pub struct FeedbackWorker {
    pub state: AppState,
}

#[async_trait]
impl BatchHandler for FeedbackWorker {
    fn queue(&self) -> QueueName {
        QueueName::MailEvents
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        let mut retry = Vec::new();
        for m in batch {
            if let Err(e) = self.record(&m.body).await {
                tracing::warn!(message_id = %m.message_id, error = %e, "a mail event was not recorded; it will come again");
                retry.push(m.message_id);
            }
        }
        retry
    }
}

/// What one SES event asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct Feedback {
    pub mail_id: Option<String>,
    pub handle: Option<Handle>,
    /// `(address, reason, detail)` to suppress.
    pub suppress: Vec<(String, Reason, Option<String>)>,
    /// Whether the message bounced for good.
    pub bounced: bool,
}

/// Reads an SQS body: the SNS envelope (`{"Type": "Notification", "Message": "…"}`) or, with raw
/// delivery, the SES event itself. `None` when it is neither (logged, dropped).
pub fn parse(body: &str) -> Option<Feedback> {
    let outer: Value = serde_json::from_str(body).ok()?;
    let event: Value = match outer.get("Message").and_then(Value::as_str) {
        Some(inner) => serde_json::from_str(inner).ok()?,
        None => outer,
    };
    let kind = event
        .get("eventType")
        .or_else(|| event.get("notificationType"))
        .and_then(Value::as_str)?;
    let message_id = event
        .pointer("/mail/commonHeaders/messageId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (mail_id, handle) = ours(message_id);
    let mut feedback = Feedback {
        mail_id,
        handle,
        suppress: Vec::new(),
        bounced: false,
    };
    match kind {
        "Bounce"
            if event.pointer("/bounce/bounceType").and_then(Value::as_str) == Some("Permanent") =>
        {
            feedback.bounced = true;
            for r in list(&event, "/bounce/bouncedRecipients") {
                let detail = r
                    .get("diagnosticCode")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(a) = r.get("emailAddress").and_then(Value::as_str) {
                    feedback
                        .suppress
                        .push((a.to_owned(), Reason::Bounced, detail));
                }
            }
        }
        "Complaint" => {
            for r in list(&event, "/complaint/complainedRecipients") {
                if let Some(a) = r.get("emailAddress").and_then(Value::as_str) {
                    feedback
                        .suppress
                        .push((a.to_owned(), Reason::Complained, None));
                }
            }
        }
        _ => {}
    }
    Some(feedback)
}

fn list<'a>(event: &'a Value, pointer: &str) -> &'a [Value] {
    event
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `<ml_….acme@domain>` → (`ml_…`, `acme`); a Message-ID not of ours → nothing.
fn ours(message_id: &str) -> (Option<String>, Option<Handle>) {
    let local = message_id
        .trim_matches(['<', '>'])
        .split('@')
        .next()
        .unwrap_or_default();
    if !local.starts_with("ml_") {
        return (None, None);
    }
    match local.split_once('.') {
        Some((id, handle)) => (Some(id.to_owned()), Handle::parse(handle).ok()),
        None => (Some(local.to_owned()), None),
    }
}

impl FeedbackWorker {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn record(&self, body: &str) -> anyhow::Result<()> {
        let Some(f) = parse(body) else {
            tracing::error!("a mail event that is not an SES event; dropped");
            return Ok(());
        };
        let store = self.state.store.as_ref();
        for (address, reason, detail) in &f.suppress {
            let op =
                suppressions::suppress_op(f.handle.as_ref(), address, *reason, detail.clone())?;
            store.write(op).await?;
            tracing::info!(reason = ?reason, "an address was suppressed after SES's event");
        }
        let (true, Some(mail_id)) = (f.bounced, f.mail_id.as_deref()) else {
            return Ok(());
        };
        for _ in 0..3 {
            let Some((mut rec, version)) = super::get(store, f.handle.as_ref(), mail_id).await?
            else {
                return Ok(());
            };
            if rec.status != MailStatus::Sent {
                return Ok(());
            }
            rec.status = MailStatus::Bounced;
            rec.error = f
                .suppress
                .first()
                .and_then(|(_, _, d)| d.clone())
                .or(Some("bounced".into()));
            let (pk, sk) = keys::mail(rec.handle.as_ref(), &rec.mail_id);
            let item =
                Item::new(pk, sk, crate::platform::store::to_doc(&rec)?).with_version(version + 1);
            let ops = vec![
                WriteOp::Put {
                    item,
                    cond: Cond::Version(version),
                },
                sweep::clear(rec.created_ms, &rec.mail_id),
            ];
            match store.transact(ops).await {
                Ok(()) => return Ok(()),
                Err(StoreError::TxConflict { index: 0, .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::bail!("the mail kept changing")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sns_envelope_of_a_permanent_bounce_names_the_mail_and_the_address() {
        let ses = serde_json::json!({"eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
                {"emailAddress": "ann@example.org", "diagnosticCode": "smtp; 550 5.1.1 no such user"}]},
            "mail": {"commonHeaders": {"messageId": "<ml_0123.acme@mail.example.com>"}}});
        let body =
            serde_json::json!({"Type": "Notification", "Message": ses.to_string()}).to_string();
        let f = parse(&body).unwrap();
        assert_eq!(f.mail_id.as_deref(), Some("ml_0123"));
        assert_eq!(f.handle, Some(Handle::parse("acme").unwrap()));
        assert!(f.bounced);
        assert_eq!(f.suppress[0].0, "ann@example.org");
        assert_eq!(f.suppress[0].1, Reason::Bounced);
        let transient = body.replace("Permanent", "Transient");
        assert!(!parse(&transient).unwrap().bounced);
        assert!(parse("not json").is_none());
    }
}
