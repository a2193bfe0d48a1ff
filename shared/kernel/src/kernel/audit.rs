//! The audit log (issue 60): who did what, written in the same store transaction as the write
//! it records, so a write cut before its commit leaves no entry and no entry exists without its
//! write. The one seam every write path uses: [`entry`] (an op to put into the write's own
//! transaction) or [`write`] (a single write made a transaction of two).
//!
//! Who: the actor of the current request, in a task-local set by the authorization layer
//! ([`scope`]); outside any request the actor is the system. Entries live in the handle's
//! `H#{handle}#AUD` partition, sk `{atMs:013}#{nonce}` (time-ordered), kept two years (TTL).

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::time::Timestamp;
use crate::platform::store::{Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// How long an entry is kept.
pub const RETENTION_SECS: i64 = 2 * 366 * 86_400;

/// What kind of actor made a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    Pat,
    PartnerUser,
    PartnerToken,
    Provider,
    System,
    Jwt,
}

impl ActorType {
    pub const ALL: [ActorType; 7] = [
        ActorType::User,
        ActorType::Pat,
        ActorType::PartnerUser,
        ActorType::PartnerToken,
        ActorType::Provider,
        ActorType::System,
        ActorType::Jwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::Pat => "pat",
            ActorType::PartnerUser => "partner_user",
            ActorType::PartnerToken => "partner_token",
            ActorType::Provider => "provider",
            ActorType::System => "system",
            ActorType::Jwt => "jwt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Who made a write: its kind and id (a user id, a token id, a JWT's subject, a provider).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            kind: ActorType::System,
            id: "system".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Context {
    actor: Actor,
    request_id: String,
}

tokio::task_local! {
    static CURRENT: Context;
}

/// Runs `work` as `actor`'s, in the request `request_id`.
pub async fn scope<F: Future>(actor: Actor, request_id: String, work: F) -> F::Output {
    CURRENT.scope(Context { actor, request_id }, work).await
}

/// The current actor (the system outside a request).
pub fn actor() -> Actor {
    CURRENT
        .try_with(|c| c.actor.clone())
        .unwrap_or_else(|_| Actor::system())
}

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: Timestamp,
    pub actor: Actor,
    /// `{noun}.{verb}` (`member.role_changed`, `payout.marked_paid`).
    pub action: String,
    /// What was written: an id, or a description of a bulk action's items.
    pub target: String,
    #[serde(default)]
    pub request_id: String,
}

fn partition(handle: &Handle) -> String {
    keys::audit_pk(handle)
}

/// The op that records `action` on `target` by the current actor, to put into the write's own
/// transaction.
pub fn entry(handle: &Handle, action: &str, target: &str) -> Result<WriteOp, StoreError> {
    let (actor, request_id) = CURRENT
        .try_with(|c| (c.actor.clone(), c.request_id.clone()))
        .unwrap_or_else(|_| (Actor::system(), String::new()));
    entry_by(handle, actor, request_id, action, target)
}

/// The current request's id (empty outside one).
pub fn request_id() -> String {
    CURRENT
        .try_with(|c| c.request_id.clone())
        .unwrap_or_default()
}

/// [`entry`] by a named actor (a person signing in, before any request knows them).
pub fn entry_by(
    handle: &Handle,
    actor: Actor,
    request_id: String,
    action: &str,
    target: &str,
) -> Result<WriteOp, StoreError> {
    let at_ms = crate::platform::time::now_millis();
    let mut nonce = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let e = Entry {
        at: Timestamp::from_millis(at_ms),
        actor,
        action: action.to_owned(),
        target: target.to_owned(),
        request_id,
    };
    let item = Item::new(
        partition(handle),
        format!("{at_ms:013}#{}", hex::encode(nonce)),
        to_doc(&e)?,
    )
    .expiring_at(Some(at_ms / 1000 + RETENTION_SECS));
    Ok(WriteOp::Put {
        item,
        cond: crate::platform::store::Cond::Absent,
    })
}

/// `op` and its entry in ONE transaction. A failed condition of `op` is answered as the single
/// write's would be (`ConditionFailed`), so callers keep their handling.
pub async fn write(
    store: &dyn Store,
    op: WriteOp,
    handle: &Handle,
    action: &str,
    target: &str,
) -> Result<(), StoreError> {
    let entry = entry(handle, action, target)?;
    match store.transact(vec![op, entry]).await {
        Err(StoreError::TxConflict { index: 0, current }) => {
            Err(StoreError::ConditionFailed { current })
        }
        other => other,
    }
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor_type: Option<ActorType>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        self.actor_type.is_none_or(|t| t == e.actor.kind)
            && self.actor_id.as_ref().is_none_or(|id| *id == e.actor.id)
            && self.action.as_ref().is_none_or(|a| *a == e.action)
    }
}

/// The most entries one export holds.
pub const EXPORT_MAX: usize = 10_000;

/// The audit log's export as CSV (RFC 4180, CRLF), newest first, at most [`EXPORT_MAX`] entries
/// of `filter`: the documented columns, then who in words (`GET /v2/reasons`' dictionary).
/// Round trips: ONE query per 1,000 entries (more where the filter skips many).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn export_csv(
    store: &dyn Store,
    handle: &Handle,
    filter: &Filter,
) -> Result<Vec<u8>, ExportError> {
    use crate::domain::spreadsheet::cell;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header = [
        "at",
        "actorType",
        "actorId",
        "action",
        "target",
        "requestId",
        "actorTypeWords",
        "actionWords",
    ];
    w.write_record(header)?;
    let mut after = None;
    let mut written = 0;
    loop {
        let (items, next) = list(store, handle, filter, 1000, after).await?;
        for e in &items {
            w.write_record([
                e.at.as_str().to_owned(),
                e.actor.kind.as_str().to_owned(),
                cell(&e.actor.id),
                cell(&e.action),
                cell(&e.target),
                e.request_id.clone(),
                crate::domain::words::or_code(e.actor.kind.as_str()).to_owned(),
                // `payout.marked_paid` → "payout marked paid", as the console's log reads it.
                cell(&e.action.replace(['.', '_'], " ")),
            ])?;
        }
        written += items.len();
        match next {
            Some(n) if written < EXPORT_MAX => after = Some(n),
            _ => break,
        }
    }
    w.into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the audit CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most store pages one listing reads while filtering (so a rare filter answers a short
/// page with a cursor rather than reading the whole log).
const MAX_PAGES: usize = 10;

/// One page of a handle's entries, newest first, and the cursor (a sort key) to go on from.
/// Round trips: ONE query per store page read, at most [`MAX_PAGES`].
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    filter: &Filter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Entry>, Option<String>), StoreError> {
    // Times before 1970 (a year such as 0396 parses) or a `to` before `from` select nothing: an
    // inverted key range is refused by the stores, and would answer 500 for a caller's typo.
    let from_ms = filter.from_ms.unwrap_or(0).max(0);
    let to_ms = filter
        .to_ms
        .unwrap_or(9_999_999_999_999)
        .min(9_999_999_999_999);
    if to_ms < from_ms {
        return Ok((Vec::new(), None));
    }
    let from = format!("{from_ms:013}");
    let to = format!("{to_ms:013}$");
    let mut query = Query::between(partition(handle), from, to);
    query.descending = true;
    query.limit = limit.clamp(1, 1000);
    query.after = after;
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            let e: Entry = item.parse()?;
            if filter.keeps(&e) {
                out.push(e);
                if out.len() == limit {
                    return Ok((out, Some(item.sk.clone())));
                }
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok((out, None)),
        }
    }
    Ok((out, query.after))
}
