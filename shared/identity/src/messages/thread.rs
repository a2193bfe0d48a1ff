//! Reading threads: a partner's messages (which marks them read for the side reading), the
//! merchant's inbox of threads, and a side's unread count.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::model::{Message, Side, ThreadView};
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// Threads one inbox answer holds at most.
pub const MAX_THREADS: usize = 1_000;

/// A page of `partner`'s thread, newest first, read by `reader`: the messages to it are then
/// read. Round trips: ONE query, ONE read of the counters, and ONE write when something was
/// unread.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    reader: Side,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Message>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::messages_pk(handle, partner), "", limit);
    q.after = after;
    q.descending = true;
    let (messages, next) = store.query(q).await?.parsed::<Message>()?;
    mark_read(store, handle, partner, reader).await?;
    Ok((messages, next))
}

/// How many messages to `side` it has not read. Round trips: TWO reads, side by side.
pub async fn unread(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    side: Side,
) -> Result<u64, StoreError> {
    let pk = keys::threads_pk(handle);
    let (counts_sk, read_sk) = (
        keys::thread_counts_sk(partner),
        keys::thread_read_sk(partner, side.as_str()),
    );
    let (counts, marker) =
        futures::try_join!(store.get(&pk, &counts_sk), store.get(&pk, &read_sk))?;
    let sent = counts.map_or(0, |c| c.counter(side.as_str()));
    Ok(unread_of(sent, marker.as_ref()))
}

#[derive(Deserialize)]
struct Marker {
    seen: i64,
}

fn unread_of(sent: i64, marker: Option<&Item>) -> u64 {
    let seen = marker
        .and_then(|m| m.parse::<Marker>().ok())
        .map_or(0, |m| m.seen);
    u64::try_from(sent.saturating_sub(seen)).unwrap_or(0)
}

/// Moves `side`'s read marker up to the messages sent to it so far. A marker moved meanwhile by
/// another read wins (its count is as new or newer): the put is version-checked, never lowered.
async fn mark_read(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    side: Side,
) -> Result<(), StoreError> {
    let pk = keys::threads_pk(handle);
    let sk = keys::thread_read_sk(partner, side.as_str());
    let counts_sk = keys::thread_counts_sk(partner);
    let (counts, marker) = futures::try_join!(store.get(&pk, &counts_sk), store.get(&pk, &sk))?;
    let sent = counts.map_or(0, |c| c.counter(side.as_str()));
    if unread_of(sent, marker.as_ref()) == 0 {
        return Ok(());
    }
    let (cond, version) = match &marker {
        Some(m) => (Cond::Version(m.version), m.version + 1),
        None => (Cond::Absent, 1),
    };
    let item = Item::new(pk, sk, json!({ "seen": sent })).with_version(version);
    match store.transact(vec![WriteOp::Put { item, cond }]).await {
        Ok(()) | Err(StoreError::TxConflict { .. } | StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Last {
    partner_id: PartnerId,
    last_at: Timestamp,
    last_from: Side,
    preview: String,
}

/// The handle's threads, the latest first, each with what the merchant has not read. Round
/// trips: ONE query of the inbox partition (pages of 1,000 items, up to [`MAX_THREADS`]).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn inbox(store: &dyn Store, handle: &Handle) -> Result<Vec<ThreadView>, StoreError> {
    let mut lasts = Vec::new();
    let mut sent: BTreeMap<String, i64> = BTreeMap::new();
    let mut markers: BTreeMap<String, Item> = BTreeMap::new();
    let mut q = Query::all(keys::threads_pk(handle));
    q.limit = 1_000;
    for _ in 0..(3 * MAX_THREADS).div_ceil(1_000) {
        let page = store.query(q.clone()).await?;
        for item in page.items {
            if item.sk.starts_with("L#") {
                lasts.push(item.parse::<Last>()?);
            } else if let Some(p) = item.sk.strip_prefix("U#") {
                sent.insert(p.to_owned(), item.counter(Side::Merchant.as_str()));
            } else if let Some(partner) = item
                .sk
                .strip_prefix("R#")
                .and_then(|p| p.strip_suffix(&format!("#{}", Side::Merchant.as_str())))
            {
                markers.insert(partner.to_owned(), item.clone());
            }
        }
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    let mut threads: Vec<ThreadView> = lasts
        .into_iter()
        .map(|l| {
            let key = l.partner_id.to_string();
            let unread = unread_of(*sent.get(&key).unwrap_or(&0), markers.get(&key));
            ThreadView {
                partner_id: l.partner_id,
                last_at: l.last_at,
                last_from: l.last_from,
                preview: l.preview,
                unread,
            }
        })
        .collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.last_at.millis()));
    threads.truncate(MAX_THREADS);
    Ok(threads)
}
