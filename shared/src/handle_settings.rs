//! Per-handle settings documents (the conversion policy, the redirect settings): one item each
//! beside the handle's links, read by the hot paths through an in-process cache.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::Handle;
use crate::store::{keys, Cond, Item, Store, StoreError, WriteOp};

/// The stored settings under `sk`, or the defaults when none were set (one consistent read).
pub async fn load<T: DeserializeOwned + Default>(
    store: &dyn Store,
    handle: &Handle,
    sk: &str,
) -> Result<T, StoreError> {
    let item = store.get(&keys::handle_pk(handle.as_str()), sk).await?;
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
        keys::handle_pk(handle.as_str()),
        sk,
        crate::store::to_doc(settings)?,
    );
    store
        .transact(vec![WriteOp::Put {
            item,
            cond: Cond::None,
        }])
        .await
}
