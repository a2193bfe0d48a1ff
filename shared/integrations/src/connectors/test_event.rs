//! "Send a test event" (issue 62): a sample delivery of the provider, signed with the
//! integration's own (first) signing secret and handed to the same `receive` its public webhook
//! route runs, so the signature check, the parsing and the event log run as for a real one.
//!
//! **It never makes money.** The sample is marked test the provider's own way (Stripe
//! `livemode: false`, a Shopify order's `test: true`): a test delivery's conversion is a test
//! conversion (`conversion.tested`), which earns no commission, so it is in no payout, balance
//! or dashboard. It names no referral (no ref, ctx or coupon), and its customer is a fresh
//! address of its own (`test-{id}@example.com`, bound to nobody), so it is logged `ignored`
//! ("no referral …"): the log shows it arrived, verified and read. Each call is a new event (a
//! new id), never a duplicate of the last.

use serde_json::json;

use super::log::Entry;
use super::shopify::{self, ShopifyError};
use super::stripe::{self, StripeError};
use super::{Deps, Provider};
use crate::domain::Handle;
use crate::platform::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TestEventError {
    #[error(
        "{0} is not connected yet: connect it with its signing secret first, then send a test event."
    )]
    NotConnected(&'static str),
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error(transparent)]
    Shopify(#[from] ShopifyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A fresh id's hex, for the sample's own ids.
fn fresh() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Sends one sample event of `provider` through its webhook's code: its log entry. Round trips:
/// the integration's read, then what a real delivery costs (its claim, its outcome).
#[tracing::instrument(skip_all, fields(handle = %handle, provider = provider.as_str()))]
pub async fn send(
    deps: Deps<'_>,
    handle: &Handle,
    provider: Provider,
) -> Result<Entry, TestEventError> {
    let integration =
        super::get(deps.store(), handle, provider)
            .await?
            .ok_or(TestEventError::NotConnected(match provider {
                Provider::Stripe => "Stripe",
                Provider::Shopify => "Shopify",
            }))?;
    let secret = integration
        .signing_secrets
        .first()
        .cloned()
        .unwrap_or_default();
    let id = fresh();
    let email = format!("test-{}@example.com", &id[..16]);
    match provider {
        Provider::Stripe => {
            let now = crate::platform::store::now_unix();
            let body = json!({
                "id": format!("evt_test_{id}"),
                "object": "event",
                "type": "checkout.session.completed",
                "livemode": false,
                "created": now,
                "data": {"object": {
                    "id": format!("cs_test_{id}"),
                    "object": "checkout.session",
                    "mode": "payment",
                    "amount_total": 1000,
                    "currency": "eur",
                    "customer_details": {"email": email},
                    "metadata": {"tenx_test": "true"},
                }},
            })
            .to_string();
            let header = stripe::signature::sign(&secret, now, body.as_bytes());
            let got = stripe::receive(deps, handle, Some(&header), body.as_bytes()).await?;
            Ok(got.entry)
        }
        Provider::Shopify => {
            // An order id as Shopify writes them: a number (53 bits, so JSON keeps it exact).
            let order = u64::try_from(uuid::Uuid::now_v7().as_u128() & ((1 << 53) - 1))
                .expect("53 bits fit");
            let body = json!({
                "id": order,
                "test": true,
                "financial_status": "paid",
                "total_price": "10.00",
                "currency": "EUR",
                "email": email,
                "note_attributes": [],
            })
            .to_string();
            let hmac = shopify::sign(&secret, body.as_bytes());
            let webhook_id = format!("test-{id}");
            let delivery = shopify::Delivery {
                hmac: Some(&hmac),
                topic: Some("orders/paid"),
                webhook_id: Some(&webhook_id),
                shop_domain: integration.shop_domain.as_deref(),
                body: body.as_bytes(),
            };
            let (_, entry) = shopify::receive(deps, handle, delivery).await?;
            Ok(entry)
        }
    }
}
