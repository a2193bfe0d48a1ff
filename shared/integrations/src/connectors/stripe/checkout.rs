//! `checkout.session.completed`: the session's customer (its Stripe id, else its email) bound
//! to the click its ref (`client_reference_id` or `metadata.tenx_ref`) or ctx
//! (`metadata.tenx_ctx`) names; a one-time payment (`mode: payment`, `amount_total` > 0) is a
//! sale. An invoice of that customer parked while it was unbound is applied now.

use serde_json::Map;

use super::{Event, StripeError, money};
use crate::connectors::log::{Outcome, Status};
use crate::connectors::sales::{self, Sale};
use crate::connectors::{Provider, refs};
use crate::customers::{Customer, Email, bind, repo};
use crate::domain::{BoundBy, CtxClaims, CustomerId};

/// Applies the session.
pub async fn completed(ev: &Event<'_>) -> Result<Outcome, StripeError> {
    let Some(customer_id) = customer_of(ev) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the session names no customer and no email",
        ));
    };
    let claims = match referral(ev).await? {
        Ok(claims) => claims,
        Err(why) => return Ok(Outcome::with(Status::Failed, why)),
    };
    let customer = match bound(ev, &customer_id, claims).await? {
        Ok(customer) => customer,
        Err(why) => return Ok(Outcome::with(Status::Failed, why)),
    };
    let Some(customer) = customer else {
        return Ok(Outcome::with(
            Status::Ignored,
            "no referral: no ref or ctx, and the customer is bound to no partner",
        ));
    };
    super::parked::replay(ev, &[super::parked::customer_key(&customer_id)]).await?;
    let amount = ev.int("amount_total").unwrap_or(0);
    if ev.str("mode") != Some("payment") || amount <= 0 {
        return Ok(Outcome::processed(None));
    }
    let Some(currency) = ev.str("currency") else {
        return Ok(Outcome::with(Status::Failed, "the session has no currency"));
    };
    let session = ev.str("id").unwrap_or_default();
    let payment = ev.id_of("payment_intent").unwrap_or(session);
    let (value, currency) = money::major(amount, currency);
    let mut metadata = Map::new();
    metadata.insert("stripeCheckoutSession".into(), session.into());
    let sale = Sale {
        provider: Provider::Stripe,
        customer: &customer,
        key: format!("stripe:{payment}"),
        value,
        currency,
        event_type: &ev.integration.event_type,
        test: ev.test,
        metadata,
        payment_ids: vec![payment.to_owned(), session.to_owned()],
        coupon: None,
    };
    let ids = sale.payment_ids.clone();
    match sales::record(ev.deps, ev.handle, sale).await? {
        Ok(receipt) => {
            super::parked::replay(ev, &ids).await?;
            Ok(Outcome::processed(Some(receipt.conversion_id)))
        }
        Err(why) => Ok(Outcome::with(Status::Failed, why)),
    }
}

/// The session's customer: its Stripe customer id, else `email:{address}` (lower case).
fn customer_of(ev: &Event<'_>) -> Option<CustomerId> {
    if let Some(id) = ev.id_of("customer") {
        return CustomerId::parse(id).ok();
    }
    let email = ev.str("customer_details.email")?.trim().to_lowercase();
    CustomerId::parse(&format!("email:{email}")).ok()
}

/// The click the session names: `Ok(None)` when it names none, `Err(why)` when what it names
/// is not a live click of this handle.
async fn referral(ev: &Event<'_>) -> Result<Result<Option<CtxClaims>, String>, StripeError> {
    let reference = ev
        .str("client_reference_id")
        .or_else(|| ev.str("metadata.tenx_ref"));
    let token = match (reference, ev.str("metadata.tenx_ctx")) {
        (Some(r), _) => match refs::resolve(ev.deps.store(), ev.handle, r).await? {
            Some(ctx) => ctx,
            None => return Ok(Err(format!("ref {r} is unknown or expired"))),
        },
        (None, Some(ctx)) => ctx.to_owned(),
        (None, None) => return Ok(Ok(None)),
    };
    let now = crate::platform::store::now_unix();
    match ev.deps.ctx_keys?.verify(&token, now) {
        Ok(claims) if &claims.handle == ev.handle => Ok(Ok(Some(claims))),
        Ok(_) => Ok(Err("the ctx is another handle's click".into())),
        Err(e) => Ok(Err(format!("the ctx is not valid: {e:?}"))),
    }
}

/// The customer bound to the session's click (first binding wins), or as bound before;
/// `Ok(Err(why))` when the binding is refused.
async fn bound(
    ev: &Event<'_>,
    id: &CustomerId,
    claims: Option<CtxClaims>,
) -> Result<Result<Option<Customer>, String>, StripeError> {
    let deps = ev.deps;
    let Some(claims) = claims else {
        let known = repo::get(deps.store(), ev.handle, id).await?;
        return Ok(Ok(known.map(|(c, _)| c)));
    };
    let email = ev.str("customer_details.email").and_then(|raw| {
        let keys = deps.ctx_keys.ok()?;
        Email::protect(keys, raw).ok()
    });
    match bind::by_ctx_from(deps.binder(), claims, id, email, BoundBy::Stripe).await {
        Ok((customer, _)) => Ok(Ok(Some(customer))),
        Err(crate::customers::CustomerError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}
