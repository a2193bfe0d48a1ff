//! Broadcasts: one message (and its mail) to every active partner of the handle or of a group.
//!
//! Exactly once per recipient, across crashes: the broadcast is recorded with its recipients
//! and a pending entry first; each recipient's message has an id derived from the broadcast
//! and the partner, written put-if-absent in one transaction with its mail, so carrying the
//! broadcast on again (the sweeper, after a crash mid-way) writes only what is missing. The
//! request sends what fits [`REQUEST_BUDGET`]; the sweeper the rest.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{self, Message, Side};
use super::post::{self, Links};
use super::{MessageError, groups};
use crate::domain::error::DomainError;
use crate::domain::time::Timestamp;
use crate::domain::{BroadcastId, GroupId, Handle, MessageId, PartnerId};
use crate::kernel::io::Io;
use crate::partners::PartnerStatus;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// How long a request sends a broadcast's messages before leaving the rest to the sweeper.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(5);
/// A pending broadcast the sweeper carries on: older than this (its request is over).
const SWEEP_MIN_AGE_MS: i64 = 30_000;
/// Recipients sent to side by side.
const SENDS_AT_ONCE: usize = 8;
/// Partners read per page when a broadcast goes to all of them.
const PARTNER_PAGE: usize = 1_000;
/// Recipients one broadcast has at most (its record is one item).
pub const MAX_RECIPIENTS: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BroadcastStatus {
    Sending,
    Sent,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    pub broadcast_id: BroadcastId,
    pub subject: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// The partners it goes to, fixed when it was made.
    pub recipients: Vec<PartnerId>,
    pub created_at: Timestamp,
    pub status: BroadcastStatus,
}

/// Records a broadcast of `subject` and `body` to `group`'s active partners (every active
/// partner without one) and sends what fits the request's budget. Round trips: the group or
/// the partners' pages, ONE transaction, then per recipient those of [`post::write`].
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    io: Io<'_>,
    links: &Links,
    handle: &Handle,
    subject: &str,
    body: &str,
    group: Option<GroupId>,
) -> Result<Broadcast, MessageError> {
    let subject = model::validate_subject(subject)?;
    let body = model::validate_body(body)?;
    let store = io.store.as_ref();
    let recipients = recipients(store, handle, group.as_ref()).await?;
    let broadcast = Broadcast {
        broadcast_id: BroadcastId::new(),
        subject,
        body,
        group_id: group,
        recipients,
        created_at: Timestamp::from_millis(crate::platform::time::now_millis()),
        status: BroadcastStatus::Sending,
    };
    let id = broadcast.broadcast_id.to_string();
    store
        .transact(vec![
            WriteOp::Put {
                item: Item::new(keys::broadcasts_pk(handle), &id, to_doc(&broadcast)?),
                cond: Cond::Absent,
            },
            WriteOp::Put {
                item: Item::new(
                    keys::BROADCASTS_PENDING_PK,
                    format!("{handle}#{id}"),
                    json!({}),
                ),
                cond: Cond::None,
            },
            crate::kernel::audit::entry(handle, "broadcast.created", &id)?,
        ])
        .await?;
    let deadline = Instant::now() + REQUEST_BUDGET;
    carry_on(io, links, handle, broadcast, Some(deadline)).await
}

/// The active partners of `group` (of the handle without one).
async fn recipients(
    store: &dyn Store,
    handle: &Handle,
    group: Option<&GroupId>,
) -> Result<Vec<PartnerId>, MessageError> {
    let wanted = match group {
        Some(id) => Some(
            groups::get(store, handle, id)
                .await?
                .ok_or_else(|| DomainError::new("groupId", format!("group {id} was not found")))?
                .partner_ids,
        ),
        None => None,
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = crate::partners::list(store, handle, PARTNER_PAGE, after).await?;
        out.extend(
            page.into_iter()
                .filter(|p| p.status == PartnerStatus::Active)
                .filter(|p| wanted.as_ref().is_none_or(|w| w.contains(&p.partner_id)))
                .map(|p| p.partner_id),
        );
        match next {
            Some(n) if out.len() < MAX_RECIPIENTS => after = Some(n),
            _ => break,
        }
    }
    out.truncate(MAX_RECIPIENTS);
    Ok(out)
}

/// Sends `broadcast`'s messages not written yet, [`SENDS_AT_ONCE`] at a time, until `deadline`;
/// marks it sent when every recipient has its message.
async fn carry_on(
    io: Io<'_>,
    links: &Links,
    handle: &Handle,
    mut broadcast: Broadcast,
    deadline: Option<Instant>,
) -> Result<Broadcast, MessageError> {
    let store = io.store.as_ref();
    let branding = crate::mail::branding::get(store, handle).await?;
    for chunk in broadcast.recipients.chunks(SENDS_AT_ONCE) {
        if deadline.is_some_and(|d| Instant::now() > d) {
            return Ok(broadcast);
        }
        let sends = chunk
            .iter()
            .map(|p| send_one(io, links, handle, &broadcast, branding.as_ref(), p));
        for sent in futures::future::join_all(sends).await {
            sent?;
        }
    }
    broadcast.status = BroadcastStatus::Sent;
    let id = broadcast.broadcast_id.to_string();
    store
        .transact(vec![
            WriteOp::Put {
                item: Item::new(keys::broadcasts_pk(handle), &id, to_doc(&broadcast)?),
                cond: Cond::None,
            },
            WriteOp::Delete {
                pk: keys::BROADCASTS_PENDING_PK.to_owned(),
                sk: format!("{handle}#{id}"),
                cond: Cond::None,
            },
        ])
        .await?;
    Ok(broadcast)
}

/// One recipient's message (its id derived, so a second send writes nothing). Round trips: ONE
/// read of the partner and those of [`post::write`].
async fn send_one(
    io: Io<'_>,
    links: &Links,
    handle: &Handle,
    broadcast: &Broadcast,
    branding: Option<&crate::mail::branding::Branding>,
    partner_id: &PartnerId,
) -> Result<(), MessageError> {
    let Some(partner) = crate::partners::get(io.store.as_ref(), handle, partner_id).await? else {
        return Ok(());
    };
    let message = Message {
        message_id: MessageId::of_broadcast(&broadcast.broadcast_id, partner_id.as_str()),
        partner_id: partner_id.clone(),
        from: Side::Merchant,
        at: broadcast.created_at.clone(),
        body: broadcast.body.clone(),
        subject: Some(broadcast.subject.clone()),
        broadcast_id: Some(broadcast.broadcast_id.clone()),
    };
    post::write(io, links, handle, &partner, branding, message).await?;
    Ok(())
}

/// One broadcast. Round trips: ONE read.
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &BroadcastId,
) -> Result<Option<Broadcast>, StoreError> {
    let item = store.get(&keys::broadcasts_pk(handle), id.as_str()).await?;
    item.map(|i| i.parse()).transpose()
}

/// The handle's broadcasts, newest first. Round trips: ONE query.
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
) -> Result<Vec<Broadcast>, StoreError> {
    let mut q = Query::prefix(keys::broadcasts_pk(handle), BroadcastId::PREFIX, limit);
    q.descending = true;
    Ok(store.query(q).await?.parsed()?.0)
}

/// Carries on every broadcast whose request ended before it was sent (a crash, or more
/// recipients than its budget) at least 30 s before `now_ms`. Answers how many it finished.
/// Round trips: ONE query, then per broadcast ONE read and its sends.
#[tracing::instrument(skip_all)]
pub async fn sweep(io: Io<'_>, links: &Links, now_ms: i64) -> Result<usize, MessageError> {
    let store = io.store.as_ref();
    let page = store
        .query(Query::prefix(keys::BROADCASTS_PENDING_PK, "", 100))
        .await?;
    let mut finished = 0;
    for entry in page.items {
        let Some((handle, id)) = entry.sk.split_once('#') else {
            continue;
        };
        let (Ok(handle), Ok(id)) = (Handle::parse(handle), BroadcastId::parse(id)) else {
            continue;
        };
        if now_ms - id.unix_millis() < SWEEP_MIN_AGE_MS {
            continue;
        }
        let Some(b) = get(store, &handle, &id).await? else {
            continue;
        };
        // One broadcast that fails (a store error) waits for the next sweep; the others go on.
        match carry_on(io, links, &handle, b, None).await {
            Ok(_) => finished += 1,
            Err(e) => {
                tracing::warn!(error = %e, broadcast = %id, "a broadcast waits for the next sweep");
            }
        }
    }
    Ok(finished)
}
