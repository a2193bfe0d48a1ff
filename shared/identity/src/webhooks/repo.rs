//! Reading and writing subscriptions in the store (`H#{handle}` / `W#{subscriptionId}`).

use crate::domain::{Handle, SubscriptionId};
use crate::platform::store::{Item, Query, Store, StoreError, keys};

use super::subscription::Subscription;

/// A subscription with the item version it was read at (for conditional updates).
pub struct Loaded {
    pub subscription: Subscription,
    pub version: u64,
}

#[tracing::instrument(skip_all, fields(handle = %handle, subscription = %subscription_id))]
pub async fn load(
    store: &dyn Store,
    handle: &Handle,
    subscription_id: &SubscriptionId,
) -> Result<Option<Loaded>, StoreError> {
    let sk = keys::webhook_sk(subscription_id);
    let item = store.get(&keys::handle_pk(handle), &sk).await?;
    item.map(|i| {
        Ok(Loaded {
            subscription: i.parse()?,
            version: i.version,
        })
    })
    .transpose()
}

/// The delete of a subscription read at `version` (a partner's postback turned off).
pub fn delete_op(
    handle: &Handle,
    subscription_id: &SubscriptionId,
    version: u64,
) -> crate::platform::store::WriteOp {
    crate::platform::store::WriteOp::Delete {
        pk: keys::handle_pk(handle),
        sk: keys::webhook_sk(subscription_id),
        cond: crate::platform::store::Cond::Version(version),
    }
}

pub fn item(subscription: &Subscription, version: u64) -> Result<Item, StoreError> {
    let doc = serde_json::to_value(subscription)
        .map_err(|e| StoreError::Invalid(format!("subscription: {e}")))?;
    Ok(Item::new(
        keys::handle_pk(&subscription.handle),
        keys::webhook_sk(&subscription.subscription_id),
        doc,
    )
    .with_version(version))
}

/// Every subscription of a handle. An unreadable item is skipped (and logged) rather than
/// failing the caller, so one corrupt record cannot stop every other delivery of the handle.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list_all(store: &dyn Store, handle: &Handle) -> Result<Vec<Subscription>, StoreError> {
    let mut out = Vec::new();
    let mut query = Query::prefix(keys::handle_pk(handle), keys::WEBHOOK_SK_PREFIX, 1000);
    loop {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            match item.parse::<Subscription>() {
                Ok(s) => out.push(s),
                Err(e) => tracing::error!(error = %e, "unreadable webhook subscription"),
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// Where a handle's subscriptions are listed from.
pub fn listing(handle: &Handle) -> crate::platform::store::Listing {
    crate::platform::store::Listing {
        pk: keys::handle_pk(handle),
        prefix: keys::WEBHOOK_SK_PREFIX,
        descending: false,
    }
}
