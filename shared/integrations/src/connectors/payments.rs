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
    pub conversion_id: crate::domain::ConversionId,
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

/// Records refund `refund` of the sale of `order` (`amount`, major units) and answers what
/// every refund recorded for that order adds up to. A refund recorded twice (a redelivery, a
/// replay, two at once) is one record with its one amount: the total counts it once, and the
/// last of two different refunds to be recorded sees both. Round trips: ONE write, ONE query.
pub async fn record_refund(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    (order, refund): (&str, &str),
    amount: Decimal,
) -> Result<Decimal, StoreError> {
    let pk = keys::integration_refunds_pk(handle, provider.as_str());
    let doc = serde_json::json!({"amount": amount.to_string()});
    let item = Item::new(pk.clone(), format!("{order}#{refund}"), doc);
    crate::platform::store::put(store, item).await?;
    let mut total = Decimal::ZERO;
    let query = Query::prefix(pk, format!("{order}#"), 1000);
    crate::platform::store::for_each_item::<StoreError>(store, query, |item| {
        let amount = item.doc["amount"]
            .as_str()
            .and_then(|a| a.parse::<Decimal>().ok());
        total += amount.unwrap_or_default();
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(total)
}

/// Parks the event (its raw body) under EVERY payment id it names (a Stripe refund names its
/// charge, payment intent and invoice; issue 57: parked under the charge alone, a checkout that
/// links the payment intent and the session never found it), so the sale finds it by whichever
/// id its own event carries, whichever arrives first. Each copy lists the others, and applying
/// the event unparks them all. Round trips: ONE transaction.
pub async fn park(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    ids: &[String],
    event_id: &str,
    body: &str,
) -> Result<(), StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let mut ids: Vec<&String> = ids.iter().collect();
    ids.sort();
    ids.dedup();
    let sks: Vec<String> = ids.iter().map(|id| format!("{id}#{event_id}")).collect();
    let doc = serde_json::json!({"body": body, "eventId": event_id, "copies": sks});
    let ops = sks
        .iter()
        .map(|sk| WriteOp::Put {
            item: Item::new(pk.clone(), sk.clone(), doc.clone()),
            cond: Cond::None,
        })
        .collect();
    store.transact(ops).await
}

/// An event waiting for its sale: its raw body and the sort keys of all its copies.
#[derive(Clone, Debug, PartialEq)]
pub struct Parked {
    pub event_id: String,
    pub copies: Vec<String>,
    pub body: String,
}

/// The events parked under any of `ids`, each once however many of `ids` it was parked under.
/// Round trips: ONE query per id.
pub async fn parked(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    ids: &[String],
) -> Result<Vec<Parked>, StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let mut out: Vec<Parked> = Vec::new();
    for id in ids {
        let page = store
            .query(Query::prefix(pk.clone(), format!("{id}#"), 100))
            .await?;
        for item in page.items {
            let parked = parked_of(item);
            if !out.iter().any(|p| p.event_id == parked.event_id) {
                out.push(parked);
            }
        }
    }
    Ok(out)
}

/// A parked copy as stored (one parked before its copies were listed is its only copy).
fn parked_of(item: Item) -> Parked {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let copies: Vec<String> = item.doc["copies"]
        .as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_else(|| vec![item.sk.clone()]);
    let event_id = match item.doc["eventId"].as_str() {
        Some(id) => id.to_owned(),
        None => item
            .sk
            .split_once('#')
            .map_or(String::new(), |(_, e)| e.to_owned()),
    };
    Parked {
        event_id,
        copies,
        body: text(&item.doc["body"]),
    }
}

/// Removes every copy of a parked event once it is applied. Round trips: ONE transaction.
pub async fn unpark(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    parked: &Parked,
) -> Result<(), StoreError> {
    let pk = keys::integration_parked_pk(handle, provider.as_str());
    let ops = parked
        .copies
        .iter()
        .map(|sk| WriteOp::Delete {
            pk: pk.clone(),
            sk: sk.clone(),
            cond: Cond::None,
        })
        .collect();
    store.transact(ops).await
}
