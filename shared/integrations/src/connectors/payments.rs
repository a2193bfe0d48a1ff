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
    let (field, kept) = match body.len() >= DEFLATE_FROM {
        true => (DEFLATED_BODY, deflated(body)),
        false => (BODY, body.to_owned()),
    };
    let mut doc = serde_json::json!({"eventId": event_id, "copies": sks});
    doc[field] = serde_json::Value::String(kept);
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
    let body = match item.doc[DEFLATED_BODY].as_str() {
        Some(packed) => inflated(packed).unwrap_or_else(|why| {
            tracing::error!(sk = %item.sk, %why, "a parked event's body does not inflate");
            String::new()
        }),
        None => text(&item.doc[BODY]),
    };
    Parked {
        event_id,
        copies,
        body,
    }
}

/// Where a parked copy keeps its body: as it came, or deflated (base64) from [`DEFLATE_FROM`]
/// bytes on. A signed event may be up to 512 KiB (an invoice of many lines), over the store's
/// 400 KB item, and Shopify's parked delivery escapes its body once more; JSON deflates to a
/// small fraction of itself.
const BODY: &str = "body";
const DEFLATED_BODY: &str = "bodyDeflated";
const DEFLATE_FROM: usize = 32 * 1024;

fn deflated(body: &str) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body.as_bytes());
    let bytes = encoder.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn inflated(packed: &str) -> Result<String, String> {
    use base64::Engine as _;
    use std::io::Read as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(packed)
        .map_err(|e| e.to_string())?;
    let mut body = String::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(4 << 20)
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    Ok(body)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::store::embedded::EmbeddedStore;

    /// A refund's event as large as a signed event may be (an invoice of many lines), parked
    /// under its three payment ids: stored within the store's item size, read back whole.
    #[tokio::test]
    async fn a_large_event_is_parked_and_read_back_whole() {
        let store = EmbeddedStore::in_memory();
        let handle = Handle::parse("acme").unwrap();
        let lines: Vec<String> = (0..7_000)
            .map(|i| format!(r#"{{"id":"il_{i:06}","amount":{i},"description":"Line \"{i}\""}}"#))
            .collect();
        let big = format!(r#"{{"id":"evt_1","lines":[{}]}}"#, lines.join(","));
        assert!(big.len() > 400 * 1024, "{}", big.len());
        let small = r#"{"id":"evt_2"}"#;
        let ids = ["ch_1".to_owned(), "pi_1".to_owned(), "in_1".to_owned()];
        park(&store, &handle, Provider::Stripe, &ids, "evt_1", &big)
            .await
            .unwrap();
        park(&store, &handle, Provider::Stripe, &ids[..1], "evt_2", small)
            .await
            .unwrap();
        let got = parked(&store, &handle, Provider::Stripe, &ids[1..2])
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].event_id.as_str(), got[0].copies.len()),
            ("evt_1", 3)
        );
        assert!(got[0].body == big, "the body reads back as it came");
        let got = parked(&store, &handle, Provider::Stripe, &ids[..1])
            .await
            .unwrap();
        let bodies: Vec<&str> = got.iter().map(|p| p.body.as_str()).collect();
        assert_eq!(bodies.len(), 2);
        assert!(bodies.contains(&small) && bodies.contains(&big.as_str()));
    }
}
