//! The Stripe connector (issue 45): `POST /v2/public/integrations/stripe/{handle}`. The
//! signature is checked before the body is parsed; each Stripe event id is claimed once per
//! handle ([`super::log`]); then:
//!
//! - `checkout.session.completed`: binds the session's customer to the click its ref or ctx
//!   names; a one-time payment is a sale ([`checkout`]);
//! - `invoice.paid`: a sale of the invoice's bound customer, first or renewal ([`invoice`]);
//! - `charge.refunded`, `refund.created`: the sale's reversal ([`refund`]);
//! - `charge.dispute.created` / `.closed`: its commission held, then released or reversed
//!   ([`dispute`]);
//! - anything else is answered and logged `ignored`.
//!
//! A sale's conversion key is `stripe:{invoice or payment intent id}`, so a retried or
//! duplicated event counts once whatever the log says.

pub mod checkout;
pub mod dispute;
pub mod invoice;
pub mod money;
pub mod parked;
pub mod refund;
pub mod signature;

use serde_json::Value;

use super::log::{self, Claimed, Entry, Outcome, Status};
use super::{Integration, Provider};
use crate::connectors::Deps;
use crate::domain::Handle;
use crate::platform::store::StoreError;

const STRIPE: Provider = Provider::Stripe;

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("The Stripe signature is not valid: {0}.")]
    Signature(#[from] signature::SignatureError),
    #[error(transparent)]
    Unconfigured(#[from] crate::kernel::state::Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An event received: its log entry, and whether it was a repeat.
pub struct Received {
    pub deduped: bool,
    pub entry: Entry,
}

/// Verifies, claims and applies one Stripe delivery. `Err` only for what Stripe should retry
/// (the store) or what it must not (a bad signature, and no integration, which answers as
/// one); an event that cannot be applied is logged `failed` and answered.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn receive(
    deps: Deps<'_>,
    handle: &Handle,
    header: Option<&str>,
    body: &[u8],
) -> Result<Received, StripeError> {
    let store = deps.store();
    let now = crate::platform::store::now_unix();
    let Some(integration) = super::get(store, handle, STRIPE).await? else {
        // Answered as a bad signature (issue 57): no telling which handles use Stripe.
        let checked = signature::verify(header, body, super::unknown_secrets(), now);
        return Err(checked
            .err()
            .unwrap_or(signature::SignatureError::Mismatch)
            .into());
    };
    signature::verify(header, body, &integration.signing_secrets, now)?;
    let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (id, kind) = identity(&event, body);
    let entry = match log::claim(store, handle, STRIPE, &id, &kind).await? {
        Claimed::Done(entry) => {
            return Ok(Received {
                deduped: true,
                entry,
            });
        }
        Claimed::New(entry) | Claimed::Unfinished(entry) => entry,
    };
    let outcome = apply(deps, handle, &integration, &event, body).await?;
    tracing::info!(event = %id, kind = %kind, status = ?outcome.status, reason = ?outcome.reason, "stripe event");
    let entry = log::finish(store, handle, STRIPE, entry, outcome).await?;
    Ok(Received {
        deduped: false,
        entry,
    })
}

/// The event's id and type; a body without them is logged under its digest.
fn identity(event: &Value, body: &[u8]) -> (String, String) {
    use sha2::Digest;
    let id = event["id"]
        .as_str()
        .filter(|id| valid_id(id))
        .map(str::to_owned);
    let id = id.unwrap_or_else(|| {
        format!(
            "unreadable_{}",
            hex::encode(&sha2::Sha256::digest(body)[..12])
        )
    });
    let kind = event["type"]
        .as_str()
        .unwrap_or("unknown")
        .chars()
        .take(100)
        .collect();
    (id, kind)
}

/// A Stripe id: 1 to 255 of `[A-Za-z0-9_]`.
pub fn valid_id(id: &str) -> bool {
    (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What the event does. Transient failures are `Err` (Stripe retries); the rest an outcome.
pub async fn apply(
    deps: Deps<'_>,
    handle: &Handle,
    integration: &Integration,
    event: &Value,
    body: &[u8],
) -> Result<Outcome, StripeError> {
    let object = &event["data"]["object"];
    if !object.is_object() {
        return Ok(Outcome::with(Status::Failed, "data.object is missing"));
    }
    let test = event["livemode"].as_bool() == Some(false);
    let ctx = Event {
        deps,
        handle,
        integration,
        object,
        test,
        body,
    };
    match event["type"].as_str().unwrap_or_default() {
        "checkout.session.completed" => checkout::completed(&ctx).await,
        "invoice.paid" => invoice::paid(&ctx).await,
        "invoice_payment.paid" => invoice::payment_paid(&ctx).await,
        "charge.refunded" => refund::charge_refunded(&ctx).await,
        "refund.created" => refund::created(&ctx).await,
        "charge.dispute.created" => dispute::changed(&ctx, false).await,
        "charge.dispute.closed" => dispute::changed(&ctx, true).await,
        other => Ok(Outcome::with(
            Status::Ignored,
            format!("{other} is not an event 10x acts on"),
        )),
    }
}

/// One event being applied, and what it needs.
pub struct Event<'a> {
    pub deps: Deps<'a>,
    pub handle: &'a Handle,
    pub integration: &'a Integration,
    /// `data.object`.
    pub object: &'a Value,
    /// `livemode: false`: its conversions are test ones.
    pub test: bool,
    /// The raw delivery (parked as it came).
    pub body: &'a [u8],
}

impl Event<'_> {
    /// A string field of the object (or of a nested object: `customer_details.email`).
    pub fn str(&self, path: &str) -> Option<&str> {
        path.split('.')
            .try_fold(self.object, |v, k| v.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// An integer field of the object.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.object.get(field).and_then(Value::as_i64)
    }

    /// A Stripe id field, or for an expanded object its `id`.
    pub fn id_of(&self, field: &str) -> Option<&str> {
        let v = self.object.get(field)?;
        v.as_str()
            .or_else(|| v.get("id").and_then(Value::as_str))
            .filter(|s| valid_id(s))
    }
}
