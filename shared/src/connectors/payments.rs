//! A provider's payments and the conversions they made (issue 45): each sale is linked from
//! every id the provider may later name it by (a Stripe charge, payment intent or invoice; a
//! Shopify order), so a refund or a dispute finds its sale. An event naming a payment whose
//! sale has not arrived yet (a refund before its invoice) is parked under that payment and
//! applied when the sale is linked.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Provider;
use crate::domain::Handle;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// A sale as a provider's payment: its conversion, and what was refunded of it so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub conversion_id: String,
    /// The sale's value, in the currency's major units.
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    pub currency: crate::domain::Currency,
}

/// Links `payment` from each of `ids`. Round trips: ONE write per id.
pub async fn link(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    ids: &[String],
    payment: &Payment,
) -> Result<(), StoreError> {
    for id in ids {
        let (pk, sk) = keys::integration_payment(handle, provider.as_str(), id);
        let item = Item::new(pk, sk, crate::platform::store::to_doc(payment)?);
        crate::platform::store::put(store, item).await?;
    }
    Ok(())
}

/// The sale the first of `ids` that is linked names. Round trips: ONE read per id tried.
pub async fn find(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    ids: &[String],
) -> Result<Option<Payment>, StoreError> {
    for id in ids {
        let (pk, sk) = keys::integration_payment(handle, provider.as_str(), id);
        if let Some(item) = store.get(&pk, &sk).await? {
            return Ok(Some(item.parse()?));
        }
    }
    Ok(None)
}

/// Parks the event (its raw body) under payment `id` until that payment's sale is linked.
/// Round trips: ONE write.
pub async fn park(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    id: &str,
    event_id: &str,
    body: &str,
) -> Result<(), StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let doc = serde_json::json!({"body": body});
    let item = Item::new(pk, format!("{id}#{event_id}"), doc);
    crate::platform::store::put(store, item).await?;
    Ok(())
}

/// The events parked under any of `ids`, as `(sort key, raw body)`. Round trips: ONE query
/// per id.
pub async fn parked(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let mut out = Vec::new();
    for id in ids {
        let page = store
            .query(Query::prefix(pk.clone(), format!("{id}#"), 100))
            .await?;
        for item in page.items {
            let body = item.doc["body"].as_str().unwrap_or_default().to_owned();
            out.push((item.sk, body));
        }
    }
    Ok(out)
}

/// Removes a parked event once applied. Round trips: ONE delete.
pub async fn unpark(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    sk: &str,
) -> Result<(), StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let del = WriteOp::Delete {
        pk,
        sk: sk.to_owned(),
        cond: Cond::None,
    };
    store.write(del).await.map(|_| ())
}
