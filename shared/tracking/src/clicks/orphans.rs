//! Orphan visits: requests on a handle's short-link host that reach no link (an unknown slug,
//! the bare domain), counted per handle, day and kind, bots apart, like Shlink's. Also the
//! handle's fallback settings, read through the redirect's cache.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use serde::Serialize;

use crate::analytics::days::{DayRange, day_of_unix};
use crate::domain::Handle;
use crate::domain::fallback::{OrphanKind, RedirectSettings};
use crate::kernel::state::RedirectSettingsCache;
use crate::platform::store::{Query, Store, StoreError, WriteOp, for_each_item, keys, now_unix};

/// Counter items per handle, day and kind.
const SHARDS: u32 = 8;

/// The handle's fallback settings: none when cached, else ONE read (a miss is cached too).
pub async fn settings_cached(
    store: &dyn Store,
    cache: &RedirectSettingsCache,
    handle: &Handle,
) -> Result<Arc<RedirectSettings>, StoreError> {
    if let Some(hit) = cache.get(handle.as_str()) {
        return Ok(hit);
    }
    let stored: RedirectSettings =
        crate::kernel::handle_settings::load(store, handle, keys::REDIRECT_SETTINGS_SK).await?;
    let settings = Arc::new(stored);
    cache.insert(handle.as_str().to_owned(), settings.clone());
    Ok(settings)
}

/// Counts one orphan visit (ONE atomic add on a random shard).
pub async fn record(
    store: &dyn Store,
    handle: &Handle,
    kind: OrphanKind,
    bot: bool,
) -> Result<(), StoreError> {
    let shard = rand::random::<u32>() % SHARDS;
    let mut deltas = vec![("visits".to_owned(), 1)];
    if bot {
        deltas.push(("bots".to_owned(), 1));
    }
    let op = WriteOp::Add {
        pk: keys::orphans_pk(handle),
        sk: format!("{}#{}#{shard}", day_of_unix(now_unix()), kind.as_str()),
        deltas,
        cap: None,
        expires_at: None,
    };
    store.write(op).await.map(|_| ())
}

/// One day and kind of orphan visits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanRow {
    pub day: String,
    pub kind: String,
    pub visits: i64,
    pub bot_visits: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanReport {
    pub handle: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<OrphanRow>,
    pub total_visits: i64,
    pub total_bot_visits: i64,
}

/// The orphan visits of `range`, by day then kind (one paginated query).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn report(
    store: &dyn Store,
    handle: &Handle,
    range: &DayRange,
) -> Result<OrphanReport, StoreError> {
    let (lo, hi) = keys::day_range(&range.from_day(), &range.to_day());
    let mut rows: BTreeMap<(String, String), OrphanRow> = BTreeMap::new();
    let query = Query::between(keys::orphans_pk(handle), lo, hi);
    for_each_item(store, query, |item| {
        let mut parts = item.sk.split('#');
        if let (Some(day), Some(kind)) = (parts.next(), parts.next()) {
            let row = rows.entry((day.to_owned(), kind.to_owned())).or_default();
            row.day = day.to_owned();
            row.kind = kind.to_owned();
            row.visits += item.counter("visits");
            row.bot_visits += item.counter("bots");
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let rows: Vec<OrphanRow> = rows.into_values().collect();
    Ok(OrphanReport {
        handle: handle.as_str().to_owned(),
        from: range.from_day(),
        to: range.to_day(),
        total_visits: rows.iter().map(|r| r.visits).sum(),
        total_bot_visits: rows.iter().map(|r| r.bot_visits).sum(),
        rows,
    })
}

/// The handle's redirect settings as stored (ONE read), for the settings routes.
pub async fn settings(store: &dyn Store, handle: &Handle) -> Result<RedirectSettings, StoreError> {
    crate::kernel::handle_settings::load(store, handle, keys::REDIRECT_SETTINGS_SK).await
}

/// Replaces the handle's redirect settings (ONE write), this process's cache at once (others
/// within the cache's TTL).
pub async fn save_settings(
    store: &dyn Store,
    cache: &RedirectSettingsCache,
    handle: &Handle,
    settings: &RedirectSettings,
) -> Result<(), StoreError> {
    let sk = keys::REDIRECT_SETTINGS_SK;
    crate::kernel::handle_settings::save(store, handle, sk, settings).await?;
    cache.insert(handle.as_str().to_owned(), Arc::new(settings.clone()));
    Ok(())
}
