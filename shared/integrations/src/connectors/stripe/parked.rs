//! Deliveries waiting for what they name (issue 45): a refund before its sale, under the
//! payment it names; a first invoice before the checkout session that binds its customer,
//! under the customer. Applied again, and their log entry rewritten, when it arrives.

use super::{Event, STRIPE, StripeError};
use crate::connectors::log::{self, Claimed, Status};
use crate::connectors::payments;
use crate::domain::CustomerId;

/// Where an invoice of a customer not bound yet waits for its checkout session.
pub fn customer_key(customer: &CustomerId) -> String {
    format!("customer:{customer}")
}

/// Parks the delivery under every id of `keys` (each id its sale may be linked by).
pub async fn park(ev: &Event<'_>, keys: &[String]) -> Result<(), StripeError> {
    let body = String::from_utf8_lossy(ev.body);
    let event_id = serde_json::from_slice::<serde_json::Value>(ev.body)
        .ok()
        .and_then(|e| e["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let store = ev.deps.store();
    payments::park(store, ev.handle, STRIPE, keys, &event_id, &body).await?;
    Ok(())
}

/// Applies again the deliveries parked under `keys` (their sale or binding has arrived), and
/// records their outcome in the log; one still waiting stays parked.
pub async fn replay(ev: &Event<'_>, keys: &[String]) -> Result<(), StripeError> {
    let store = ev.deps.store();
    for parked in payments::parked(store, ev.handle, STRIPE, keys).await? {
        let body = &parked.body;
        let event: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let outcome = Box::pin(super::apply(
            ev.deps,
            ev.handle,
            ev.integration,
            &event,
            body.as_bytes(),
        ))
        .await?;
        if outcome.status == Status::Parked {
            continue;
        }
        let (id, kind) = (
            event["id"].as_str().unwrap_or_default(),
            event["type"].as_str().unwrap_or_default(),
        );
        let (Claimed::Done(entry) | Claimed::Unfinished(entry) | Claimed::New(entry)) =
            log::claim(store, ev.handle, STRIPE, id, kind).await?;
        log::finish(store, ev.handle, STRIPE, entry, outcome).await?;
        payments::unpark(store, ev.handle, STRIPE, &parked).await?;
    }
    Ok(())
}
