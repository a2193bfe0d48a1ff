//! The Shopify connector (issue 45): `POST /v2/public/integrations/shopify/{handle}`. The
//! `x-shopify-hmac-sha256` header (base64 HMAC-SHA256 of the raw body with any of the
//! integration's secrets) is checked before the body is parsed. A delivery 10x acts on is
//! claimed once by what its signed body says ([`content`]: the refund's id, the order's id and
//! state), never by the unsigned `x-shopify-webhook-id`, and its `x-shopify-topic` must agree
//! with the body (one that contradicts it is refused and logged `failed`); other topics are
//! claimed by their webhook id. Then by topic:
//!
//! - `orders/paid`: a sale of the order's customer ([`orders`]);
//! - `refunds/create`: the money refunded reverses that much more of the order's sale;
//! - `orders/cancelled`: what is left of the sale is reversed;
//! - any other topic is answered and logged `ignored`.

pub mod content;
pub mod orders;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::log::{self, Claimed, Outcome, Status};
use super::{Integration, Provider};
use crate::connectors::Deps;
use crate::domain::Handle;
use crate::platform::store::StoreError;

const SHOPIFY: Provider = Provider::Shopify;

#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    #[error("The x-shopify-hmac-sha256 signature is missing or does not match a signing secret.")]
    Signature,
    #[error(transparent)]
    Unconfigured(#[from] crate::kernel::state::Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The delivery's headers that matter.
pub struct Delivery<'a> {
    pub hmac: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub webhook_id: Option<&'a str>,
    /// `x-shopify-shop-domain`: checked against the integration's shop.
    pub shop_domain: Option<&'a str>,
    pub body: &'a [u8],
}

/// Whether `hmac` (base64) is the HMAC-SHA256 of `body` under any of `secrets`.
pub fn verify(hmac: Option<&str>, body: &[u8], secrets: &[String]) -> bool {
    let Some(given) = hmac.and_then(|h| {
        base64::engine::general_purpose::STANDARD
            .decode(h.trim())
            .ok()
    }) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    })
}

/// The header Shopify would send for `body` (tests sign with it).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Verifies, claims and applies one delivery (see the module).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn receive(
    deps: Deps<'_>,
    handle: &Handle,
    delivery: Delivery<'_>,
) -> Result<(bool, log::Entry), ShopifyError> {
    let store = deps.store();
    let Some(integration) = super::get(store, handle, SHOPIFY).await? else {
        // Answered as a bad signature (issue 57): no telling which handles use Shopify.
        let _ = verify(delivery.hmac, delivery.body, super::unknown_secrets());
        return Err(ShopifyError::Signature);
    };
    if !verify(delivery.hmac, delivery.body, &integration.signing_secrets) {
        return Err(ShopifyError::Signature);
    }
    let topic = delivery.topic.unwrap_or("unknown");
    let id = match claim_key(topic, &delivery) {
        Ok(id) => id,
        Err((id, why)) => return refuse(store, handle, (&id, topic), why).await,
    };
    let entry = match log::claim(store, handle, SHOPIFY, &id, topic).await? {
        Claimed::Done(entry) => return Ok((true, entry)),
        Claimed::New(entry) | Claimed::Unfinished(entry) => entry,
    };
    let other_shop = delivery
        .shop_domain
        .is_some_and(|d| Some(d) != integration.shop_domain.as_deref());
    let outcome = match other_shop {
        true => Outcome::with(
            Status::Failed,
            "sent by another shop than the integration's shopDomain",
        ),
        false => apply(deps, handle, &integration, topic, &id, delivery.body).await?,
    };
    let entry = log::finish(store, handle, SHOPIFY, entry, outcome).await?;
    Ok((false, entry))
}

/// The key a delivery is claimed by: for a topic 10x acts on, what its body is
/// ([`content::Content::key`]); for any other, its webhook id. `Err` (a key of the delivery's
/// own, and why) when the topic contradicts the body.
fn claim_key(topic: &str, delivery: &Delivery<'_>) -> Result<String, (String, String)> {
    if !content::ACTED_ON.contains(&topic) {
        return Ok(delivery_id(delivery.webhook_id, delivery.body));
    }
    let body: Value = serde_json::from_slice(delivery.body).unwrap_or_default();
    content::read(topic, &body).map(|c| c.key()).map_err(|why| {
        use sha2::Digest;
        let digest = Sha256::digest([topic.as_bytes(), b"\n", delivery.body].concat());
        (format!("refused_{}", hex::encode(&digest[..12])), why)
    })
}

/// Logs a delivery refused for what it says (`failed`, with why) and changes nothing else.
async fn refuse(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    (id, topic): (&str, &str),
    why: String,
) -> Result<(bool, log::Entry), ShopifyError> {
    tracing::warn!(%handle, topic, reason = %why, "a Shopify delivery was refused");
    let entry = match log::claim(store, handle, SHOPIFY, id, topic).await? {
        Claimed::Done(entry) => return Ok((true, entry)),
        Claimed::New(entry) | Claimed::Unfinished(entry) => entry,
    };
    let entry = log::finish(
        store,
        handle,
        SHOPIFY,
        entry,
        Outcome::with(Status::Failed, why),
    )
    .await?;
    Ok((false, entry))
}

/// The delivery's webhook id; one missing or odd is replaced by the body's digest.
fn delivery_id(webhook_id: Option<&str>, body: &[u8]) -> String {
    use sha2::Digest;
    let ok = |id: &&str| {
        (1..=255).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match webhook_id.filter(ok) {
        Some(id) => id.to_owned(),
        None => format!("unidentified_{}", hex::encode(&Sha256::digest(body)[..12])),
    }
}

/// What the delivery does. Transient failures are `Err` (Shopify retries); the rest an outcome.
pub async fn apply(
    deps: Deps<'_>,
    handle: &Handle,
    integration: &Integration,
    topic: &str,
    id: &str,
    body: &[u8],
) -> Result<Outcome, ShopifyError> {
    let Ok(object) = serde_json::from_slice::<Value>(body) else {
        return Ok(Outcome::with(Status::Failed, "the body is not JSON"));
    };
    if content::ACTED_ON.contains(&topic)
        && let Err(why) = content::read(topic, &object)
    {
        return Ok(Outcome::with(Status::Failed, why));
    }
    let ev = orders::Delivery {
        deps,
        handle,
        integration,
        object: &object,
        id,
        topic,
        body,
    };
    match topic {
        "orders/paid" => orders::paid(&ev).await,
        "refunds/create" => orders::refunded(&ev).await,
        "orders/cancelled" => orders::cancelled(&ev).await,
        other => Ok(Outcome::with(
            Status::Ignored,
            format!("{other} is not a topic 10x acts on"),
        )),
    }
}
