//! Per-handle settings documents (the conversion policy, the redirect settings): one item each
//! beside the handle's links, read by the hot paths through an in-process cache.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::Handle;
use crate::kernel::state::SeenHandles;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// The stored settings under `sk`, or the defaults when none were set (one consistent read).
pub async fn load<T: DeserializeOwned + Default>(
    store: &dyn Store,
    handle: &Handle,
    sk: &str,
) -> Result<T, StoreError> {
    let item = store.get(&keys::handle_pk(handle), sk).await?;
    Ok(item
        .map(|i| i.parse::<T>())
        .transpose()?
        .unwrap_or_default())
}

/// Replaces the settings under `sk` (one write).
pub async fn save<T: Serialize>(
    store: &dyn Store,
    handle: &Handle,
    sk: &str,
    settings: &T,
) -> Result<(), StoreError> {
    let item = Item::new(
        keys::handle_pk(handle),
        sk,
        crate::platform::store::to_doc(settings)?,
    );
    store
        .transact(vec![WriteOp::Put {
            item,
            cond: Cond::None,
        }])
        .await
}

/// Records that `handle` exists: its owner used it through an authenticated write. Round trips:
/// none when this process already knows, else ONE unconditional (idempotent) put.
pub async fn mark_seen(
    store: &dyn Store,
    seen: &SeenHandles,
    handle: &Handle,
) -> Result<(), StoreError> {
    if seen.get(handle.as_str()) == Some(true) {
        return Ok(());
    }
    let doc = serde_json::json!({ "seenAt": crate::platform::time::now_rfc3339() });
    let item = Item::new(keys::handle_pk(handle), keys::HANDLE_SEEN_SK, doc);
    crate::platform::store::put(store, item).await?;
    seen.insert(handle.as_str().to_owned(), true);
    Ok(())
}

/// Whether `handle` exists ([`mark_seen`]). Round trips: none when cached (either answer, for
/// the link cache's TTL), else ONE consistent read.
pub async fn exists(
    store: &dyn Store,
    seen_handles: &SeenHandles,
    handle: &Handle,
) -> Result<bool, StoreError> {
    if let Some(known) = seen_handles.get(handle.as_str()) {
        return Ok(known);
    }
    let pk = keys::handle_pk(handle);
    let seen = store.get(&pk, keys::HANDLE_SEEN_SK).await?.is_some();
    seen_handles.insert(handle.as_str().to_owned(), seen);
    Ok(seen)
}
