//! Every provider event received and what it did (issue 45), and the claim that processes it
//! exactly once per handle: the event's id is claimed put-if-absent in the same transaction as
//! its log entry (`received`); the entry is then rewritten with the outcome. A crash between
//! the two leaves it `received`: the provider's retry finds it unfinished and applies it again,
//! and what it applies is itself idempotent (conversion keys derived from the provider's ids,
//! one reversal per conversion), so it lands once.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::Provider;
use crate::domain::Handle;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// How long an event's entry and claim are kept (a provider retries for days, not months).
const KEEP_SECS: i64 = 90 * 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Received,
    Processed,
    Ignored,
    Parked,
    Failed,
}

/// What applying an event came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub reason: Option<String>,
    pub conversion_id: Option<crate::domain::ConversionId>,
}

impl Outcome {
    pub fn processed(conversion_id: Option<crate::domain::ConversionId>) -> Self {
        Self {
            status: Status::Processed,
            reason: None,
            conversion_id,
        }
    }

    pub fn with(status: Status, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: Some(reason.into()),
            conversion_id: None,
        }
    }
}

/// One event in the log, as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub received_at: Timestamp,
    pub status: Status,
    pub reason: Option<String>,
    pub conversion_id: Option<crate::domain::ConversionId>,
    /// The entry's sort key in the log.
    #[serde(skip)]
    pub log_sk: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimDoc {
    log_sk: String,
}

/// Where a received event stands.
pub enum Claimed {
    /// First seen now: apply it.
    New(Entry),
    /// Received before, its outcome recorded: a duplicate, nothing to do.
    Done(Entry),
    /// Received before and never finished (a crash): apply it again.
    Unfinished(Entry),
}

/// Claims event `event_id` of `provider` for `handle`. Round trips: ONE transaction (claim and
/// entry); a repeat: the transaction cancelled, then TWO reads.
pub async fn claim(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    event_id: &str,
    kind: &str,
) -> Result<Claimed, StoreError> {
    let now_ms = crate::platform::time::now_millis();
    let entry = Entry {
        event_id: event_id.to_owned(),
        kind: kind.to_owned(),
        received_at: Timestamp::from_millis(now_ms),
        status: Status::Received,
        reason: None,
        conversion_id: None,
        log_sk: format!("{now_ms:013x}#{event_id}"),
    };
    let (pk, sk) = keys::integration_event(handle, provider.as_str(), event_id);
    let doc = crate::platform::store::to_doc(&ClaimDoc {
        log_sk: entry.log_sk.clone(),
    })?;
    let expires = Some(crate::platform::store::now_unix() + KEEP_SECS);
    let claim = Item::new(pk.clone(), sk.clone(), doc).expiring_at(expires);
    let ops = vec![
        WriteOp::Put {
            item: claim,
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: entry_item(handle, provider, &entry)?,
            cond: Cond::None,
        },
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(Claimed::New(entry)),
        Err(StoreError::TxConflict { index: 0, .. }) => {
            earlier(store, handle, provider, &pk, &sk).await
        }
        Err(e) => Err(e),
    }
}

/// The earlier claim's entry: done or unfinished.
async fn earlier(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    pk: &str,
    sk: &str,
) -> Result<Claimed, StoreError> {
    let claim = store
        .get(pk, sk)
        .await?
        .ok_or_else(|| StoreError::Unavailable("an event claim vanished while read".into()))?;
    let log_sk = claim.parse::<ClaimDoc>()?.log_sk;
    let log_pk = keys::integration_log_pk(handle, provider.as_str());
    let item = store
        .get(&log_pk, &log_sk)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("event log entry {log_sk} is missing")))?;
    let mut entry: Entry = item.parse()?;
    entry.log_sk = log_sk;
    Ok(match entry.status {
        Status::Received => Claimed::Unfinished(entry),
        _ => Claimed::Done(entry),
    })
}

fn entry_item(handle: &Handle, provider: Provider, entry: &Entry) -> Result<Item, StoreError> {
    let pk = keys::integration_log_pk(handle, provider.as_str());
    let expires = Some(crate::platform::store::now_unix() + KEEP_SECS);
    Ok(Item::new(
        pk,
        entry.log_sk.clone(),
        crate::platform::store::to_doc(entry)?,
    )
    .expiring_at(expires))
}

/// Records `outcome` on the event's entry. Round trips: ONE write.
pub async fn finish(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    mut entry: Entry,
    outcome: Outcome,
) -> Result<Entry, StoreError> {
    entry.status = outcome.status;
    entry.reason = outcome.reason;
    entry.conversion_id = outcome.conversion_id;
    let item = entry_item(handle, provider, &entry)?;
    crate::platform::store::put(store, item).await?;
    Ok(entry)
}

/// One page of the log, newest first. Round trips: ONE query.
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Entry>, Option<String>), StoreError> {
    let mut q = Query::all(keys::integration_log_pk(handle, provider.as_str()));
    q.limit = limit;
    q.after = after;
    q.descending = true;
    store.query(q).await?.parsed()
}
