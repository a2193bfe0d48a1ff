//! Mail (issue 59): the one way any service sends a message. A service calls [`enqueue`] (or puts
//! [`enqueue_ops`] into its own transaction, so "the write and its mail" commit together); the
//! record is durable once that commits, and the mail queue's worker ([`worker::MailWorker`])
//! renders, sends through the engine (`platform::mail`) and records the outcome.
//!
//! Once per event: the mail id (and so the Message-ID) derives from (handle, kind, key), so a
//! repeat of the same event finds its record instead of making another; a send recorded as done
//! is never repeated; a send whose answer was lost is tried once more with the same Message-ID
//! (the Maildir replaces its file; a remote server may see two copies), never a third time.
//!
//! What it owns (`platform/store/keys.rs`): the records and their log (`keys::mail`,
//! `mail_log_sk`), the pending entries the sweeper reads (`MAIL_PENDING_PK`), suppressions,
//! preferences, hourly counters and the handle's branding.
//!
//! Round trips: an enqueue is ONE transaction (record, log entry, pending entry), ONE send, ONE
//! write (the pending entry confirmed); a send is ONE read and TWO writes (the claim, the outcome)
//! plus the suppression and preference reads and the limits' counter writes.

pub mod address_change;
pub mod attach;
pub mod branding;
pub mod census;
pub mod digest;
pub mod dispute;
pub mod feedback;
pub mod limits;
pub mod locale;
pub mod model;
pub mod preferences;
pub mod preview;
pub mod render;

pub mod sink;
pub mod suppressions;
pub mod sweep;
pub mod unsubscribe;
pub mod worker;

use sha2::Digest;

use crate::domain::Handle;
use crate::domain::email::Email;
use crate::kernel::io::Io;
use crate::platform::queue::{OutMessage, QueueName};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

pub use model::{MailKind, MailMessage, MailRecord, MailStatus, MailView};

/// A message's id: `ml_` and 32 hex digits of SHA-256 over (handle, kind, key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MailId(String);

impl MailId {
    pub fn derive(handle: Option<&Handle>, kind: MailKind, key: &str) -> Self {
        let mut h = sha2::Sha256::new();
        h.update(handle.map_or("", Handle::as_str));
        h.update([0]);
        h.update(kind.as_str());
        h.update([0]);
        h.update(key);
        Self(format!("ml_{}", &hex::encode(h.finalize())[..32]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message to send: the one entry point every service uses.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// `None`: mail of no handle (a sign-in link without one).
    pub handle: Option<Handle>,
    pub to: Email,
    pub kind: MailKind,
    /// Unique per event: the Message-ID derives from (handle, kind, key). A resend a person
    /// asks for (an invitation sent again) is a new event with a new key.
    pub key: String,
    /// The template's fields (links absolute).
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Longest event key taken (it is hashed, never stored in a key).
const MAX_KEY: usize = 512;

/// A message staged into a caller's transaction ([`enqueue_ops`]): put `ops` into it, then call
/// [`publish`] after it commits (or leave that to the sweeper).
#[derive(Clone, Debug)]
pub struct Staged {
    pub id: MailId,
    pub ops: Vec<WriteOp>,
    message: MailMessage,
    pending: (String, String),
}

/// The writes that record `mail` as queued: the record (absent before: a second staging of the
/// same event fails the caller's transaction at the record's index, which means it was already
/// queued), its log entry and its pending entry.
pub fn enqueue_ops(mail: &Outgoing) -> Result<Staged, MailError> {
    if mail.key.is_empty() || mail.key.len() > MAX_KEY {
        return Err(MailError::Invalid(format!(
            "a mail's key must be 1..={MAX_KEY} bytes"
        )));
    }
    let id = MailId::derive(mail.handle.as_ref(), mail.kind, &mail.key);
    let created_ms = crate::platform::time::now_millis();
    let record = MailRecord {
        mail_id: id.0.clone(),
        handle: mail.handle.clone(),
        to: mail.to.as_str().to_owned(),
        kind: mail.kind,
        key: mail.key.clone(),
        data: mail.data.clone(),
        status: MailStatus::Queued,
        created_at: crate::domain::time::Timestamp::from_millis(created_ms),
        attempts: 0,
        unanswered: 0,
        sending_until: 0,
        subject: None,
        message_id: None,
        provider_id: None,
        sent_at: None,
        error: None,
        created_ms,
    };
    let (pk, sk) = keys::mail(mail.handle.as_ref(), id.as_str());
    let doc = crate::platform::store::to_doc(&record)?;
    let mut ops = vec![WriteOp::Put {
        item: Item::new(pk.clone(), sk.clone(), doc).with_version(1),
        cond: Cond::Absent,
    }];
    if let Some(handle) = &mail.handle {
        let log = serde_json::json!({ "pk": pk, "sk": sk });
        ops.push(WriteOp::Put {
            item: Item::new(
                keys::mail_pk(handle),
                keys::mail_log_sk(created_ms, id.as_str()),
                log,
            ),
            cond: Cond::None,
        });
    }
    let pending = (
        keys::MAIL_PENDING_PK.to_owned(),
        keys::mail_pending_sk(created_ms, id.as_str()),
    );
    let message = MailMessage {
        handle: mail.handle.clone(),
        mail_id: id.0.clone(),
    };
    let doc = serde_json::json!({ "message": message, "confirmed": 0 });
    ops.push(WriteOp::Put {
        item: Item::new(pending.0.clone(), pending.1.clone(), doc),
        cond: Cond::None,
    });
    Ok(Staged {
        id,
        ops,
        message,
        pending,
    })
}

/// Queues `mail` for sending: durable once `Ok`. The same event again (same handle, kind and
/// key) answers the same id and queues nothing more.
#[tracing::instrument(skip_all, fields(kind = mail.kind.as_str(), handle = ?mail.handle))]
pub async fn enqueue(io: Io<'_>, mail: Outgoing) -> Result<MailId, MailError> {
    let staged = enqueue_ops(&mail)?;
    match io.store.transact(staged.ops.clone()).await {
        Ok(()) => {}
        // The record exists: this event's mail was queued before.
        Err(StoreError::TxConflict { index: 0, .. }) => return Ok(staged.id),
        Err(e) => return Err(e.into()),
    }
    publish(io, &staged).await;
    Ok(staged.id)
}

/// After the transaction holding `staged.ops` committed: hands the message to the mail queue
/// and notes on its pending entry that the queue took it. A failure is logged, not returned:
/// the record is durable and the sweeper sends what the queue never took.
pub async fn publish(io: Io<'_>, staged: &Staged) {
    let body = serde_json::to_string(&staged.message).expect("a mail message serializes");
    if let Err(e) = io
        .queue
        .send(QueueName::Mail, vec![OutMessage::now(body)])
        .await
    {
        tracing::warn!(error = %e, mail_id = %staged.id, "enqueueing a mail failed; the sweeper will");
        return;
    }
    sweep::confirm(io.store.as_ref(), &staged.pending, &staged.message).await;
}

/// One message's record, `None` when unknown.
pub async fn get(
    store: &dyn Store,
    handle: Option<&Handle>,
    mail_id: &str,
) -> Result<Option<(MailRecord, u64)>, StoreError> {
    let (pk, sk) = keys::mail(handle, mail_id);
    match store.get(&pk, &sk).await? {
        Some(item) => Ok(Some((item.parse()?, item.version))),
        None => Ok(None),
    }
}

/// The handle's mail, newest first (up to `limit`). Round trips: ONE query of the log, then
/// the records, concurrently.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
) -> Result<Vec<MailView>, StoreError> {
    let mut query = Query::prefix(keys::mail_pk(handle), keys::MAIL_LOG_PREFIX, limit);
    query.descending = true;
    let page = store.query(query).await?;
    let reads = page.items.iter().filter_map(|entry| {
        let pk = entry.doc.get("pk")?.as_str()?.to_owned();
        let sk = entry.doc.get("sk")?.as_str()?.to_owned();
        Some(async move { store.get(&pk, &sk).await })
    });
    let mut views = Vec::new();
    for read in futures::future::join_all(reads).await {
        if let Some(item) = read? {
            views.push(view(item.parse::<MailRecord>()?));
        }
    }
    Ok(views)
}

pub fn view(r: MailRecord) -> MailView {
    MailView {
        message_id: r.message_id.unwrap_or_default(),
        mail_id: r.mail_id,
        to: r.to,
        kind: r.kind,
        subject: r.subject,
        created_at: r.created_at,
        sent_at: r.sent_at,
        status: r.status,
        attempts: r.attempts,
        error: r.error,
    }
}
