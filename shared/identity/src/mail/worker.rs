//! The mail queue's worker: one message on the queue = one try to send one record.
//!
//! A try claims the record first (ONE conditional write: attempts + 1, a send under way until
//! the lease ends), then renders, sends and records the outcome with the pending entry's removal
//! (ONE transaction conditioned on the claim). A worker that finds a claim whose lease ended
//! knows that send's answer was lost (the worker died, or its record failed, after sending): it
//! sends once more with the same Message-ID; a second loss ends the message as `failed`, so a
//! retry after a lost answer sends at most one more copy. A final record is never sent again.
//!
//! Before sending: a suppressed address or a kind its recipient turned off ends the message as
//! `suppressed`; a send over an hourly limit waits on the queue (`queued`). A temporary failure
//! goes back on the queue after `retry_base × 2^(n-1)`; the last try's failure is `failed`. A
//! permanent one suppresses the address and ends the message as `suppressed`.

use std::time::Duration;

use async_trait::async_trait;
use tracing::Instrument;

use super::branding::Branding;
use super::render::{Frame, render};
use super::suppressions::{self, Reason};
use super::{MailMessage, MailRecord, MailStatus, limits, preferences, sweep};
use crate::kernel::consume::BatchHandler;
use crate::kernel::state::AppState;
use crate::platform::mail::{Composed, MailFile, Outcome, RawMail, compose};
use crate::platform::queue::{MAX_DELAY_SECS, OutMessage, QueueName, Received};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

/// How long a claimed send may take before another worker takes its answer as lost: above the
/// SMTP engine's 20 s conversation limit and SES's retries.
pub const LEASE: Duration = Duration::from_secs(120);

/// The worker's secrets: the keyring that tags unsubscribe links, and the payout key that opens
/// (and, the first time, seals) the self-billing invoice a payout's mail carries.
pub const SECRETS: crate::platform::config::Secrets = crate::platform::config::Secrets {
    ctx_keys: true,
    payout_key: true,
    ..crate::platform::config::Secrets::NONE
};

/// The consumer of [`QueueName::Mail`].
pub struct MailWorker {
    pub state: AppState,
    /// Where a message's files come from (`mail::attach`); `None`: every message goes alone.
    pub files: Option<std::sync::Arc<dyn super::attach::Attachments>>,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Ack,
    Retry,
}

#[async_trait]
impl BatchHandler for MailWorker {
    fn queue(&self) -> QueueName {
        QueueName::Mail
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        let verdicts = futures::future::join_all(batch.iter().map(|m| self.process(m))).await;
        batch
            .into_iter()
            .zip(verdicts)
            .filter(|(_, v)| *v == Verdict::Retry)
            .map(|(m, _)| m.message_id)
            .collect()
    }
}

impl MailWorker {
    pub fn new(state: AppState) -> Self {
        Self { state, files: None }
    }

    /// The worker with the source of its messages' files.
    pub fn with_files(mut self, files: std::sync::Arc<dyn super::attach::Attachments>) -> Self {
        self.files = Some(files);
        self
    }

    /// The files `rec` carries: asked for before the send is claimed, so an error here is tried
    /// again later, never taken for a lost send.
    async fn files_of(&self, rec: &MailRecord) -> anyhow::Result<Vec<MailFile>> {
        match (&self.files, &rec.handle) {
            (Some(files), Some(handle)) => files.files(handle, &rec.data).await,
            _ => Ok(vec![]),
        }
    }

    async fn process(&self, received: &Received) -> Verdict {
        let Ok(message) = serde_json::from_str::<MailMessage>(&received.body) else {
            // Left to fail until the queue dead-letters it, where it stays visible.
            tracing::error!(message_id = %received.message_id, "unreadable mail message");
            return Verdict::Retry;
        };
        let span = tracing::info_span!("mail", mail_id = %message.mail_id);
        match self.deliver(&message).instrument(span).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(mail_id = %message.mail_id, error = %e, "mail not finished; it will be tried again");
                Verdict::Retry
            }
        }
    }

    async fn deliver(&self, m: &MailMessage) -> anyhow::Result<Verdict> {
        let store = self.state.store.as_ref();
        let Some((rec, version)) = super::get(store, m.handle.as_ref(), &m.mail_id).await? else {
            tracing::warn!(mail_id = %m.mail_id, "a mail message of no record; dropped");
            return Ok(Verdict::Ack);
        };
        if rec.status.is_final() {
            store
                .write(sweep::clear(rec.created_ms, &rec.mail_id))
                .await?;
            return Ok(Verdict::Ack);
        }
        let now = crate::platform::time::now_millis();
        if rec.sending_until > now {
            return Ok(Verdict::Retry);
        }
        let lost = rec.sending_until != 0;
        if lost && rec.unanswered >= 1 {
            let why = "the mail server's answer was lost twice; the message may have arrived";
            return self
                .finish(rec, version, MailStatus::Failed, Some(why.into()), vec![])
                .await;
        }
        if let Some(why) = self.not_to_send(&rec).await? {
            return self
                .finish(rec, version, MailStatus::Suppressed, Some(why), vec![])
                .await;
        }
        let settings = &self.state.config.mail;
        if let Err(until) =
            limits::admit(store, settings, rec.handle.as_ref(), &rec.to, now).await?
        {
            return self
                .wait(rec, version, until - now, "waits for the hourly mail limit")
                .await;
        }
        let files = self.files_of(&rec).await?;
        let mut claimed = rec.clone();
        claimed.attempts += 1;
        claimed.unanswered += u32::from(lost);
        claimed.sending_until = now + crate::domain::time::millis(LEASE);
        match self.put(&claimed, version).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => return Ok(Verdict::Retry),
            Err(e) => return Err(e.into()),
        }
        self.send(claimed, version + 1, files).await
    }

    /// Why the record must not be sent (a suppressed address, a kind turned off), if so.
    async fn not_to_send(&self, rec: &MailRecord) -> anyhow::Result<Option<String>> {
        let store = self.state.store.as_ref();
        if let Some(s) = suppressions::of(store, rec.handle.as_ref(), &rec.to).await? {
            let reason = match s.reason {
                Reason::Bounced => "bounced",
                Reason::Complained => "complained",
                Reason::Refused => "refused by the receiving server",
            };
            return Ok(Some(format!("the address is suppressed ({reason})")));
        }
        let (prefs, _) = preferences::get(store, rec.handle.as_ref(), &rec.to).await?;
        if !prefs.allows(rec.kind) {
            return Ok(Some("the recipient turned these mails off".into()));
        }
        Ok(None)
    }

    /// Renders and sends the claimed record (`version`: the claim's), then records the outcome.
    async fn send(
        &self,
        mut rec: MailRecord,
        version: u64,
        files: Vec<MailFile>,
    ) -> anyhow::Result<Verdict> {
        let raw = match self.build(&mut rec, files).await? {
            Ok(raw) => raw,
            Err(why) => {
                return self
                    .finish(rec, version, MailStatus::Failed, Some(why), vec![])
                    .await;
            }
        };
        let attempts = self.state.config.mail.attempts;
        match self.state.mailer.send(&raw).await {
            Outcome::Sent { provider_id } => {
                rec.sent_at = Some(crate::platform::time::timestamp());
                rec.provider_id = provider_id;
                self.finish(rec, version, MailStatus::Sent, None, vec![])
                    .await
            }
            Outcome::Permanent(why) => {
                let ops = vec![suppressions::suppress_op(
                    rec.handle.as_ref(),
                    &rec.to,
                    Reason::Refused,
                    Some(why.clone()),
                )?];
                self.finish(rec, version, MailStatus::Suppressed, Some(why), ops)
                    .await
            }
            Outcome::Temporary(why) if rec.attempts >= attempts => {
                self.finish(rec, version, MailStatus::Failed, Some(why), vec![])
                    .await
            }
            Outcome::Temporary(why) => {
                let exp = rec.attempts.saturating_sub(1).min(16);
                let delay = self.state.config.mail.retry_base.saturating_mul(1 << exp);
                let delay_ms = crate::domain::time::millis(delay);
                self.wait(rec, version, delay_ms, &why).await
            }
        }
    }

    /// The message of `rec` (its subject and Message-ID noted on it), or why it cannot be
    /// written, in words (a template that fails on its data, an address lettre refuses).
    async fn build(
        &self,
        rec: &mut MailRecord,
        files: Vec<MailFile>,
    ) -> anyhow::Result<Result<RawMail, String>> {
        let config = &self.state.config;
        let from = config.mail.from_address(&config.redirect_domain);
        let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        // The handle rides in the Message-ID: SES's bounce events name the message by it
        // (`mail::feedback`), and the record's key needs the handle.
        let message_id = match &rec.handle {
            Some(h) => format!("{}.{h}@{domain}", rec.mail_id),
            None => format!("{}@{domain}", rec.mail_id),
        };
        let branding = match &rec.handle {
            Some(h) => super::branding::get(self.state.store.as_ref(), h).await?,
            None => None,
        }
        .unwrap_or_else(|| Branding::default_for(rec.handle.as_ref()));
        let unsubscribe = super::unsubscribe::url_for(&self.state, rec);
        let frame = Frame {
            branding: &branding,
            locale: branding.locale(),
            unsubscribe_url: unsubscribe.as_deref(),
        };
        let mut data = with_links(&self.state, rec);
        if let (false, Some(obj)) = (files.is_empty(), data.as_object_mut()) {
            // The words name what the message carries, and say "attached" only when it is.
            let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
            obj.insert("attached".into(), names.into());
        }
        let rendered = match render(rec.kind, &data, &frame) {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("the message could not be written: {e}"))),
        };
        rec.subject = Some(rendered.subject.clone());
        rec.message_id = Some(message_id.clone());
        let raw = compose(Composed {
            from_name: &branding.name,
            from: &from,
            reply_to: branding.reply_to.as_deref(),
            to: &rec.to,
            subject: &rendered.subject,
            message_id: &message_id,
            kind: rec.kind.as_str(),
            unsubscribe: unsubscribe.as_deref(),
            text: rendered.text,
            html: rendered.html,
            files,
        });
        Ok(raw.map_err(|e| format!("the message could not be built: {e}")))
    }

    /// Leaves the record `queued` with `why` and puts its message back on the queue for
    /// `delay_ms` (at most the queue's 15 minutes: an early return is simply checked again).
    async fn wait(
        &self,
        mut rec: MailRecord,
        version: u64,
        delay_ms: i64,
        why: &str,
    ) -> anyhow::Result<Verdict> {
        rec.sending_until = 0;
        rec.error = Some(why.to_owned());
        match self.put(&rec, version).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => return Ok(Verdict::Retry),
            Err(e) => return Err(e.into()),
        }
        let delay = Duration::from_millis(delay_ms.max(0).unsigned_abs())
            .min(Duration::from_secs(u64::from(MAX_DELAY_SECS)));
        let body = serde_json::to_string(&MailMessage {
            handle: rec.handle.clone(),
            mail_id: rec.mail_id.clone(),
        })?;
        self.state
            .queue
            .send(QueueName::Mail, vec![OutMessage::delayed(body, delay)])
            .await?;
        Ok(Verdict::Ack)
    }

    /// Records `status` (final) with the pending entry's removal and `more` writes, in ONE
    /// transaction conditioned on `version`.
    async fn finish(
        &self,
        mut rec: MailRecord,
        version: u64,
        status: MailStatus,
        why: Option<String>,
        more: Vec<WriteOp>,
    ) -> anyhow::Result<Verdict> {
        rec.status = status;
        rec.sending_until = 0;
        rec.error = why;
        let mut ops = vec![
            self.record_op(&rec, version)?,
            sweep::clear(rec.created_ms, &rec.mail_id),
        ];
        ops.extend(more);
        if status == MailStatus::Failed {
            ops.push(super::census::failed_op(rec.handle.as_ref(), &rec.mail_id));
        }
        match self.state.store.transact(ops).await {
            Ok(()) => {
                tracing::info!(mail_id = %rec.mail_id, status = ?status, kind = rec.kind.as_str(), "mail finished");
                Ok(Verdict::Ack)
            }
            // Someone else moved the record on meanwhile: read it again.
            Err(StoreError::TxConflict { index: 0, .. }) => Ok(Verdict::Retry),
            Err(e) => Err(e.into()),
        }
    }

    fn record_op(&self, rec: &MailRecord, version: u64) -> Result<WriteOp, StoreError> {
        let (pk, sk) = keys::mail(rec.handle.as_ref(), &rec.mail_id);
        let doc = crate::platform::store::to_doc(rec)?;
        Ok(WriteOp::Put {
            item: Item::new(pk, sk, doc).with_version(version + 1),
            cond: Cond::Version(version),
        })
    }

    async fn put(&self, rec: &MailRecord, version: u64) -> Result<(), StoreError> {
        self.state
            .store
            .write(self.record_op(rec, version)?)
            .await
            .map(drop)
    }
}

/// The record's data with the links written at send time: the "this was not me" link of a
/// payout change (signed with the keyring the sending process holds, never stored).
fn with_links(state: &crate::kernel::state::AppState, rec: &MailRecord) -> serde_json::Value {
    let mut data = rec.data.clone();
    if rec.kind == super::MailKind::PayoutMethodChanged
        && let (Some(handle), Some(obj)) = (&rec.handle, data.as_object_mut())
    {
        let partner = obj
            .get("partnerId")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if let Some(url) = super::dispute::url_for(state, handle, partner) {
            obj.insert("disputeUrl".into(), url.into());
        }
    }
    data
}
