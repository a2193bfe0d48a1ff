//! A handle's conversion policy: stored beside its links, cached in-process like links so the
//! conversion path adds no store read when warm.

use std::sync::Arc;

use crate::domain::Handle;
use crate::domain::risk::ConversionPolicy;
use crate::kernel::handle_settings;
use crate::kernel::state::PolicyCache;
use crate::platform::store::{StoreError, keys};

/// The policy of `handle` (the default when none was set). Round trips: none when cached, else
/// ONE consistent read (a miss is cached too).
pub async fn load_cached(
    store: &dyn crate::platform::store::Store,
    cache: &PolicyCache,
    handle: &Handle,
) -> Result<Arc<ConversionPolicy>, StoreError> {
    if let Some(hit) = cache.get(handle.as_str()) {
        return Ok(hit);
    }
    let policy = Arc::new(load(store, handle).await?);
    cache.insert(handle.as_str().to_owned(), policy.clone());
    Ok(policy)
}

/// The stored policy, uncached (`GET …/conversion-policy` shows what is stored right now).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn load(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
) -> Result<ConversionPolicy, StoreError> {
    handle_settings::load(store, handle, keys::CONVERSION_POLICY_SK).await
}

/// Replaces the policy (one write). This process sees it at once; other instances within the
/// link cache TTL (`TENX_LINK_CACHE_TTL_SECS`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn save(
    store: &dyn crate::platform::store::Store,
    cache: &PolicyCache,
    handle: &Handle,
    policy: ConversionPolicy,
) -> Result<ConversionPolicy, StoreError> {
    handle_settings::save(store, handle, keys::CONVERSION_POLICY_SK, &policy).await?;
    cache.insert(handle.as_str().to_owned(), Arc::new(policy.clone()));
    Ok(policy)
}
