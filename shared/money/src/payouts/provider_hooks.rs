//! The payment providers' webhooks about payouts (`POST
//! /v2/public/integrations/{stripe-connect|paypal}/{handle}`): each verified as its provider
//! signs it before anything is read (Stripe: `Stripe-Signature`, HMAC-SHA256 of the raw body
//! under the program's endpoint secret, compared in constant time, within 5 minutes; PayPal:
//! its transmission headers posted to `verify-webhook-signature`, only `SUCCESS` accepted),
//! then applied through the same settlement as a poll (`payouts::send::settle_with`), so a
//! duplicate, a late or an out-of-order delivery settles nothing twice. An event about a payout
//! 10x is not sending (unknown, or settled already) is logged and ignored, as is a Stripe
//! transfer event of a connected account (`account` set) or about a transfer other than the
//! one the payout was sent as (its metadata may name any payout). Stripe's
//! `account.updated` about a partner's connected account keeps its state and makes it the
//! partner's payout method once its details are in.

use serde_json::Value;

use crate::domain::{Handle, PayoutId};
use crate::payout_providers::{self, Credentials, Provider, paypal, stripe};
use crate::payouts::model::PayoutError;
use crate::payouts::send::{self, Outcome, Sender, Step};

/// Why a delivery was not applied.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Not signed as the provider signs it (or the provider is not connected: the same answer,
    /// so a delivery cannot tell which programs use it).
    #[error("The signature does not verify.")]
    Signature,
    /// The provider could not be asked (PayPal's verification): it delivers again later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Payout(#[from] PayoutError),
}

/// What a verified delivery did, in words (logged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Settled(String),
    Waiting(String),
    Ignored(String),
}

fn credentials_err(e: payout_providers::ProviderError) -> HookError {
    match e {
        payout_providers::ProviderError::NotConnected(_) => HookError::Signature,
        other => HookError::Payout(PayoutError::Store(
            crate::platform::store::StoreError::Other(other.to_string()),
        )),
    }
}

/// A Stripe Connect event, verified at `now_s`.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn stripe_event(
    sender: Sender<'_>,
    handle: &Handle,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<Applied, HookError> {
    let store = sender.io.store.as_ref();
    let creds = payout_providers::credentials(store, sender.keys, handle, Provider::Stripe)
        .await
        .map_err(credentials_err)?;
    let Credentials::Stripe { webhook_secret, .. } = creds else {
        return Err(HookError::Signature);
    };
    if !signature.is_some_and(|h| stripe::signature_ok(&webhook_secret, h, body, now_s)) {
        return Err(HookError::Signature);
    }
    let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let kind = event["type"].as_str().unwrap_or_default();
    if kind == "account.updated" {
        return account_updated(sender, handle, &event).await;
    }
    if !kind.starts_with("transfer.") {
        return Ok(Applied::Ignored(format!(
            "a {kind} event: not about a payout"
        )));
    }
    // A connected account's own transfers are its business: their metadata may name anything,
    // so only the platform's own events (no `account`) speak of a payout.
    if let Some(account) = event["account"].as_str() {
        tracing::warn!(%account, %kind, "a connected account's transfer event: ignored");
        return Ok(Applied::Ignored(format!(
            "a {kind} event of connected account {account}: not a payout of 10x"
        )));
    }
    let transfer = &event["data"]["object"];
    let named = transfer["metadata"]["payout"]
        .as_str()
        .or_else(|| transfer["transfer_group"].as_str());
    // A reversal in part is a `transfer.reversed` too (and `reversed` stays false): only the
    // amounts tell how much came back.
    let Some(made) = stripe::Made::of(transfer) else {
        return Ok(Applied::Ignored("a transfer without an id".into()));
    };
    if let Some(id) = named.and_then(|n| PayoutId::parse(n).ok())
        && let Some(sent) = sent_as(store, handle, &id).await?
        && sent != made.id
    {
        tracing::warn!(payout = %id, transfer = %made.id, %sent, "a transfer event naming a payout 10x sent as another transfer: ignored");
        return Ok(Applied::Ignored(format!(
            "transfer {} is not the one payout {id} was sent as",
            made.id
        )));
    }
    apply(sender, handle, named, send::stripe_outcome(made)).await
}

/// The reference the payout was sent as, to compare a Stripe event's transfer with:
/// `Some("")` when it names none yet (its answer not recorded: the resend records it, and the
/// poll settles it), `None` when there is no such payout (the event is ignored as any other
/// about no payout of 10x). Round trips: ONE read.
async fn sent_as(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    id: &PayoutId,
) -> Result<Option<String>, HookError> {
    let p = crate::payouts::get(store, handle, id)
        .await
        .map_err(PayoutError::from)?;
    Ok(p.map(|p| {
        let recorded = p.provider.and_then(|r| r.reference).or(p.reference);
        recorded.unwrap_or_default()
    }))
}

/// A partner's connected account changed at Stripe (onboarding finished, verified,
/// restricted): its state kept and, once its details are in, the account made the partner's
/// payout method (`payout_methods::stripe_connect::updated`). An account 10x did not make for
/// the partner it names is ignored.
async fn account_updated(
    sender: Sender<'_>,
    handle: &Handle,
    event: &Value,
) -> Result<Applied, HookError> {
    let object = &event["data"]["object"];
    let account_id = object["id"].as_str().unwrap_or_default();
    let named = object["metadata"]["partner"].as_str();
    let Some(partner) = named.and_then(|p| crate::domain::PartnerId::parse(p).ok()) else {
        tracing::info!(account = %account_id, "an account.updated about no partner of 10x: ignored");
        return Ok(Applied::Ignored("an account of no partner".into()));
    };
    let c = crate::payout_methods::stripe_connect::Connect {
        io: sender.io,
        keys: sender.keys,
        stripe_base: sender.stripe_base,
        origin: sender.origin,
    };
    let account = stripe::Account::of(object);
    let at_s = event["created"].as_i64().unwrap_or_default();
    let updated = crate::payout_methods::stripe_connect::updated;
    match updated(c, handle, &partner, (account_id, &account), at_s).await {
        Ok(Some(status)) => Ok(Applied::Settled(format!(
            "{partner}'s Stripe account is {}",
            status.state
        ))),
        Ok(None) => Ok(Applied::Ignored(format!(
            "an account.updated not about {partner}'s account, or older than the one kept"
        ))),
        // Stripe delivers it again later.
        Err(crate::payout_methods::stripe_connect::ConnectError::Store(e)) => {
            Err(HookError::Unavailable(e.to_string()))
        }
        // A partner gone, or a method the rules refuse: delivering again changes nothing.
        Err(e) => {
            tracing::warn!(%partner, error = %e, "an account.updated not applied");
            Ok(Applied::Ignored(e.to_string()))
        }
    }
}

/// The headers of a PayPal delivery.
pub struct PaypalDelivery<'a> {
    pub transmission: paypal::Transmission<'a>,
    pub body: &'a [u8],
}

/// A PayPal Payouts event, verified by PayPal.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn paypal_event(
    sender: Sender<'_>,
    handle: &Handle,
    delivery: PaypalDelivery<'_>,
) -> Result<Applied, HookError> {
    let store = sender.io.store.as_ref();
    let creds = payout_providers::credentials(store, sender.keys, handle, Provider::Paypal)
        .await
        .map_err(credentials_err)?;
    let Credentials::Paypal {
        client_id,
        client_secret,
        webhook_id,
    } = creds
    else {
        return Err(HookError::Signature);
    };
    let base = sender.paypal_base;
    let t = &delivery.transmission;
    if !t.looks_sent_by_paypal(base) {
        return Err(HookError::Signature);
    }
    let event: Value = serde_json::from_slice(delivery.body).map_err(|_| HookError::Signature)?;
    let unavailable = |e: payout_providers::CallError| HookError::Unavailable(e.to_string());
    let token = paypal::cached_token(base, &client_id, &client_secret)
        .await
        .map_err(unavailable)?;
    let verified = match paypal::verify(base, &token, &webhook_id, t, delivery.body).await {
        Ok(verified) => verified,
        Err(e) => {
            if matches!(e, payout_providers::CallError::Denied(_)) {
                paypal::forget_token(base, &client_id, &client_secret);
            }
            return Err(unavailable(e));
        }
    };
    if !verified {
        return Err(HookError::Signature);
    }
    let kind = event["event_type"].as_str().unwrap_or_default();
    if !kind.starts_with("PAYMENT.PAYOUTS-ITEM.") {
        return Ok(Applied::Ignored(format!(
            "a {kind} event: the items say each payout's end"
        )));
    }
    let item = &event["resource"];
    let state = paypal::ItemState {
        status: item["transaction_status"]
            .as_str()
            .unwrap_or("PENDING")
            .to_owned(),
        item_id: item["payout_item_id"].as_str().map(str::to_owned),
        error: item["errors"]["name"].as_str().map(str::to_owned),
    };
    let batch = item["payout_batch_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let named = item["sender_batch_id"].as_str();
    let outcome = match paypal::meaning(&state) {
        paypal::Meaning::Paid => Outcome::Paid(batch),
        paypal::Meaning::Failed(w) => Outcome::Failed(w),
        paypal::Meaning::Returned(w) => Outcome::Returned(w),
        paypal::Meaning::Waiting(w) => return Ok(Applied::Waiting(w)),
    };
    apply(sender, handle, named, outcome).await
}

/// Settles the payout an event names, if it is being sent; else the event is ignored.
async fn apply(
    sender: Sender<'_>,
    handle: &Handle,
    named: Option<&str>,
    outcome: Outcome,
) -> Result<Applied, HookError> {
    let Some(id) = named.and_then(|n| PayoutId::parse(n).ok()) else {
        tracing::info!(?named, "a provider's event about no payout of 10x: ignored");
        return Ok(Applied::Ignored("not a payout of 10x".into()));
    };
    let store = sender.io.store.as_ref();
    let Some(d) = send::find(store, handle, &id)
        .await
        .map_err(PayoutError::from)?
    else {
        // A payment given back after the payout was paid: what came back on the balance.
        let back = match &outcome {
            Outcome::Returned(reason) => Some((reason, None)),
            Outcome::PartlyReturned {
                returned_minor,
                reason,
                ..
            } => Some((reason, Some(*returned_minor))),
            _ => None,
        };
        if let Some((reason, part)) = back
            && let Some(p) = crate::payouts::get(store, handle, &id)
                .await
                .map_err(PayoutError::from)?
            && p.status == crate::payouts::PayoutStatus::Paid
            && p.provider.is_some()
        {
            let io = (sender.io, sender.origin);
            let upto = part.unwrap_or(p.amount_minor);
            crate::payouts::returned::credit_back_to(io, handle, &p, (reason, upto)).await?;
            let what = match part {
                Some(m) => format!("{} of it", p.currency.format(i128::from(m))),
                None => "it".into(),
            };
            return Ok(Applied::Settled(format!(
                "payout {id} was given back after it was paid ({what} in all): back on the balance"
            )));
        }
        tracing::info!(payout = %id, "a provider's event about a payout not being sent: ignored");
        return Ok(Applied::Ignored(format!("payout {id} is not being sent")));
    };
    match send::settle_with(sender, &d, outcome).await? {
        Step::Settled(status) => Ok(Applied::Settled(format!("payout {id} is {status:?}"))),
        other => Ok(Applied::Ignored(format!("payout {id}: {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payouts::fixtures::{Books, FakeStripe};
    use crate::payouts::model::{Payout, PayoutStatus};
    use hmac::Mac;
    use serde_json::json;

    /// The signing secret of `Books::connect_stripe`.
    const SECRET: &str = "whsec_0123456789abcdef0123";

    fn sender<'a>(books: &'a Books, stripe: &'a FakeStripe) -> Sender<'a> {
        Sender {
            io: books.io(),
            keys: Ok(&books.keys),
            stripe_base: &stripe.base,
            paypal_base: "http://127.0.0.1:9",
            origin: "https://10x.example",
        }
    }

    /// A payout of 12.00 EUR sent through Stripe as transfer `tr_1` (its answer recorded), and
    /// the Stripe that made it.
    async fn sent(books: &Books) -> (Payout, FakeStripe) {
        books.paid_through_stripe().await;
        let p = books.payout(&[1200]).await;
        let p = send::start(books.io(), &books.handle, p).await.unwrap();
        let stripe = FakeStripe::start(|asked, _| match asked.method.as_str() {
            "POST" => crate::payouts::fixtures::Answer::Json(200, json!({ "id": "tr_1" })),
            _ => crate::payouts::fixtures::Answer::Json(200, json!({ "data": [] })),
        })
        .await;
        let now = crate::platform::time::now_millis();
        let step = send::advance(sender(books, &stripe), &books.handle, &p.payout_id, now);
        assert_eq!(step.await.unwrap(), Step::Sent("tr_1".into()));
        (p, stripe)
    }

    /// Stripe's `kind` event about `transfer` (of 12.00, `reversed` of it reversed so far)
    /// naming payout `p`, as the platform's own event.
    fn event(p: &Payout, (kind, transfer, reversed): (&str, &str, i64)) -> serde_json::Value {
        json!({"id": "evt_1", "object": "event", "type": kind,
            "data": {"object": {"id": transfer, "object": "transfer", "amount": 1200,
                "amount_reversed": reversed, "reversed": reversed == 1200,
                "transfer_group": p.payout_id, "metadata": {"payout": p.payout_id}}}})
    }

    /// `event` signed as Stripe signs it, posted now.
    async fn post(books: &Books, stripe: &FakeStripe, event: serde_json::Value) -> Applied {
        let body = event.to_string();
        let t = crate::platform::time::now_millis() / 1000;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let sender = sender(books, stripe);
        stripe_event(sender, &books.handle, Some(&signature), body.as_bytes(), t)
            .await
            .unwrap()
    }

    /// [`event`] posted.
    async fn told(
        books: &Books,
        stripe: &FakeStripe,
        p: &Payout,
        about: (&str, &str, i64),
    ) -> Applied {
        post(books, stripe, event(p, about)).await
    }

    /// The amounts credited back to `p`'s partner so far, in all.
    async fn credited(books: &Books, p: &Payout) -> i64 {
        let p = books.reread(p).await;
        let back = crate::payouts::given_back::credited(books.store(), &books.handle, &p);
        back.await.unwrap().0
    }

    #[tokio::test]
    async fn a_transfer_reversed_in_part_credits_back_that_part_once_in_any_order() {
        let books = Books::new();
        let (p, stripe) = sent(&books).await;
        told(&books, &stripe, &p, ("transfer.created", "tr_1", 0)).await;
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Paid);
        for _ in 0..2 {
            told(&books, &stripe, &p, ("transfer.reversed", "tr_1", 400)).await;
            assert_eq!(credited(&books, &p).await, 400, "4.00 back, once");
        }
        told(&books, &stripe, &p, ("transfer.reversed", "tr_1", 1200)).await;
        told(&books, &stripe, &p, ("transfer.reversed", "tr_1", 400)).await;
        assert_eq!(credited(&books, &p).await, 1200, "12.00 back in all");
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Paid);
    }

    #[tokio::test]
    async fn a_payout_being_sent_when_part_of_its_transfer_is_reversed_is_paid_first() {
        let books = Books::new();
        let (p, stripe) = sent(&books).await;
        told(&books, &stripe, &p, ("transfer.reversed", "tr_1", 400)).await;
        let paid = books.reread(&p).await;
        assert_eq!(paid.status, PayoutStatus::Paid, "not returned whole");
        assert_eq!(credited(&books, &p).await, 400);
    }

    #[tokio::test]
    async fn a_transfer_event_of_a_connected_account_or_of_another_transfer_changes_nothing() {
        let books = Books::new();
        let (p, stripe) = sent(&books).await;
        let ignored = |a: &Applied| matches!(a, Applied::Ignored(_));
        // Another transfer naming the payout, made by the platform (another tool, a hand).
        let other = told(&books, &stripe, &p, ("transfer.created", "tr_2", 0)).await;
        assert!(ignored(&other), "{other:?}");
        let sending = books.reread(&p).await;
        assert_eq!(sending.status, PayoutStatus::Sending, "not paid by it");
        // A connected account's own transfer, signed by Stripe for the platform's endpoint.
        let mut theirs = event(&p, ("transfer.created", "tr_1", 0));
        theirs["account"] = json!("acct_1Someone");
        let theirs = post(&books, &stripe, theirs).await;
        assert!(ignored(&theirs), "{theirs:?}");
        assert_eq!(books.reread(&p).await, sending);

        told(&books, &stripe, &p, ("transfer.created", "tr_1", 0)).await;
        let paid = books.reread(&p).await;
        assert_eq!(paid.status, PayoutStatus::Paid, "by its own transfer");
        let mut theirs = event(&p, ("transfer.reversed", "tr_1", 1200));
        theirs["account"] = json!("acct_1Someone");
        assert!(ignored(&post(&books, &stripe, theirs).await));
        let other = told(&books, &stripe, &p, ("transfer.reversed", "tr_2", 1200)).await;
        assert!(ignored(&other), "{other:?}");
        assert_eq!(credited(&books, &p).await, 0, "nothing credited back");
        assert_eq!(books.reread(&p).await, paid);
        told(&books, &stripe, &p, ("transfer.reversed", "tr_1", 1200)).await;
        assert_eq!(credited(&books, &p).await, 1200, "its own reversal");
    }
}
