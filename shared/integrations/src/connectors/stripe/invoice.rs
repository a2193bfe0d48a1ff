//! `invoice.paid` with `amount_paid` > 0: a sale of the invoice's customer, its first
//! (`billing_reason: subscription_create`) or a renewal (`subscription_cycle`), when the
//! customer is bound; the first invoice of a customer not bound yet waits for the checkout
//! session that binds it (parked); a customer bound to no one is not a referral (ignored).
//! `invoice_payment.paid` (API versions from 2025-03-31, whose invoices no longer name their
//! charge or payment intent) links the payment intent to the invoice's sale.

use serde_json::Map;

use super::{Event, STRIPE, StripeError, money};
use crate::connectors::log::{Outcome, Status};
use crate::connectors::payments;
use crate::connectors::sales::{self, Sale};
use crate::customers::repo;
use crate::domain::CustomerId;

/// Applies `invoice.paid`.
pub async fn paid(ev: &Event<'_>) -> Result<Outcome, StripeError> {
    let amount = ev.int("amount_paid").unwrap_or(0);
    if amount <= 0 {
        return Ok(Outcome::with(
            Status::Ignored,
            "nothing was paid (amount_paid is 0)",
        ));
    }
    let (Some(invoice), Some(currency)) = (ev.str("id"), ev.str("currency")) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the invoice has no id or currency",
        ));
    };
    let Some(customer_id) = ev.id_of("customer").and_then(|c| CustomerId::parse(c).ok()) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the invoice names no customer",
        ));
    };
    let store = ev.deps.store();
    let Some((customer, _)) = repo::get(store, ev.handle, &customer_id).await? else {
        return unbound(ev, &customer_id).await;
    };
    let reason = ev.str("billing_reason").unwrap_or("manual");
    let mut metadata = Map::new();
    metadata.insert("stripeInvoice".into(), invoice.into());
    metadata.insert("billingReason".into(), reason.into());
    let mut payment_ids = vec![invoice.to_owned()];
    payment_ids.extend(
        ["charge", "payment_intent"]
            .iter()
            .filter_map(|f| ev.id_of(f))
            .map(str::to_owned),
    );
    let (value, currency) = money::major(amount, currency);
    let sale = Sale {
        provider: STRIPE,
        customer: &customer,
        key: format!("stripe:{invoice}"),
        value,
        currency,
        event_type: &ev.integration.event_type,
        test: ev.test,
        metadata,
        payment_ids: payment_ids.clone(),
        coupon: None,
    };
    match sales::record(ev.deps, ev.handle, sale).await? {
        Ok(receipt) => {
            super::parked::replay(ev, &payment_ids).await?;
            Ok(Outcome::processed(Some(receipt.conversion_id)))
        }
        Err(why) => Ok(Outcome::with(Status::Failed, why)),
    }
}

/// An invoice of a customer no one bound: the first one waits for its checkout session.
async fn unbound(ev: &Event<'_>, customer: &CustomerId) -> Result<Outcome, StripeError> {
    if ev.str("billing_reason") != Some("subscription_create") {
        return Ok(Outcome::with(
            Status::Ignored,
            "the customer is bound to no partner",
        ));
    }
    let key = super::parked::customer_key(customer);
    super::parked::park(ev, std::slice::from_ref(&key)).await?;
    Ok(Outcome::with(
        Status::Parked,
        "the customer is not bound yet: applied when its checkout session binds it",
    ))
}

/// Applies `invoice_payment.paid`: the payment intent (or charge) of an invoice's payment
/// linked to the invoice's sale.
pub async fn payment_paid(ev: &Event<'_>) -> Result<Outcome, StripeError> {
    let Some(invoice) = ev.id_of("invoice") else {
        return Ok(Outcome::with(
            Status::Failed,
            "the invoice payment names no invoice",
        ));
    };
    let payment = ev.object.get("payment").cloned().unwrap_or_default();
    let ids: Vec<String> = ["payment_intent", "charge"]
        .iter()
        .filter_map(|f| payment.get(*f).and_then(|v| v.as_str()))
        .filter(|id| super::valid_id(id))
        .map(str::to_owned)
        .collect();
    let store = ev.deps.store();
    let Some(sale) = payments::find(store, ev.handle, STRIPE, &[invoice.to_owned()]).await? else {
        // Its invoice.paid may come later (or never: an invoice of a customer no one referred).
        super::parked::park(ev, &[invoice.to_owned()]).await?;
        return Ok(Outcome::with(
            Status::Parked,
            "its invoice's sale has not arrived yet: applied when it does",
        ));
    };
    payments::link(store, ev.handle, STRIPE, &ids, &sale).await?;
    super::parked::replay(ev, &ids).await?;
    Ok(Outcome::processed(Some(sale.conversion_id)))
}
