//! Shopify orders (issue 45). `orders/paid` is a sale of the order's customer
//! (`current_total_price` in `currency`, key `shopify:{order id}`; a `test` order makes a test
//! conversion), attributed by the note attribute `tenx_ref` / `tenx_ctx`, else a `ctx` (or
//! `tenx_ref`) in `landing_site`, else a discount code that is one of the handle's coupon
//! codes, else the customer's earlier binding. `refunds/create` reverses that much more of
//! the sale (its successful refund transactions); `orders/cancelled` reverses what is left.
//! A refund or cancellation before its order's sale is parked and applied when it comes.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{SHOPIFY, ShopifyError};
use crate::connectors::Deps;
use crate::connectors::log::{self, Claimed, Outcome, Status};
use crate::connectors::sales::{self, Sale};
use crate::connectors::{Integration, payments, refs};
use crate::conversions::reverse::{self, ReverseError, ValidReverse};
use crate::customers::{Customer, CustomerError, bind, repo};
use crate::domain::{BoundBy, CouponCode, CtxClaims, CustomerId, Handle};

/// One delivery being applied.
pub struct Delivery<'a> {
    pub deps: Deps<'a>,
    pub handle: &'a Handle,
    pub integration: &'a Integration,
    pub object: &'a Value,
    pub id: &'a str,
    pub topic: &'a str,
    pub body: &'a [u8],
}

impl Delivery<'_> {
    fn str(&self, field: &str) -> Option<&str> {
        self.object
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A Shopify id (64-bit, past 2^53: read as an integer, never a float).
    fn id_of(&self, value: &Value) -> Option<String> {
        value
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| value.as_str().map(str::to_owned))
    }
}

/// Applies `orders/paid`.
pub async fn paid(d: &Delivery<'_>) -> Result<Outcome, ShopifyError> {
    let (Some(order), Some(total), Some(currency)) = (
        d.id_of(&d.object["id"]),
        d.str("current_total_price")
            .or_else(|| d.str("total_price")),
        d.str("currency"),
    ) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the order has no id, total or currency",
        ));
    };
    let Ok(value) = total.parse::<Decimal>() else {
        return Ok(Outcome::with(
            Status::Failed,
            format!("the order's total {total} is not a decimal"),
        ));
    };
    let Some(customer_id) = customer_of(d) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the order names no customer and no email",
        ));
    };
    let customer = match attributed(d, &customer_id).await? {
        Ok(Some(customer)) => customer,
        Ok(None) => {
            return Ok(Outcome::with(
                Status::Ignored,
                "no referral: no ref, ctx or coupon code, and the customer is bound to no partner",
            ));
        }
        Err(why) => return Ok(Outcome::with(Status::Failed, why)),
    };
    let mut metadata = Map::new();
    metadata.insert("shopifyOrder".into(), order.clone().into());
    let sale = Sale {
        provider: SHOPIFY,
        customer: &customer,
        key: format!("shopify:{order}"),
        value,
        currency: currency.to_ascii_uppercase(),
        event_type: &d.integration.event_type,
        test: d.object["test"].as_bool() == Some(true),
        metadata,
        payment_ids: vec![order.clone()],
        coupon: coupon_used(d, &customer).await?,
    };
    match sales::record(d.deps, d.handle, sale).await? {
        Ok(receipt) => {
            replay(d, &order).await?;
            Ok(Outcome::processed(Some(receipt.conversion_id)))
        }
        Err(why) => Ok(Outcome::with(Status::Failed, why)),
    }
}

/// `shopify:{customer id}`, else `email:{address}`.
fn customer_of(d: &Delivery<'_>) -> Option<CustomerId> {
    if let Some(id) = d.id_of(&d.object["customer"]["id"]) {
        return CustomerId::parse(&format!("shopify:{id}")).ok();
    }
    let email = d.str("email")?.trim().to_lowercase();
    CustomerId::parse(&format!("email:{email}")).ok()
}

/// The customer, bound by the order's ref or ctx, else its coupon code, else as bound before.
async fn attributed(
    d: &Delivery<'_>,
    id: &CustomerId,
) -> Result<Result<Option<Customer>, String>, ShopifyError> {
    let deps = d.deps;
    let bound = match referral(d).await? {
        Err(why) => return Ok(Err(why)),
        Ok(Some(claims)) => {
            bind::by_ctx_from(deps.binder(), claims, id, None, BoundBy::Shopify).await
        }
        Ok(None) => match coupon(d) {
            Some(code) if is_coupon(d, &code).await? => {
                bind::by_coupon(deps.binder(), d.handle, id, &code, None).await
            }
            _ => {
                let known = repo::get(deps.store(), d.handle, id).await?;
                return Ok(Ok(known.map(|(c, _)| c)));
            }
        },
    };
    match bound {
        Ok((customer, _)) => Ok(Ok(Some(customer))),
        Err(CustomerError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// How the order used its coupon code (with or without a click of the code's partner), and
/// where its buyer came from: the host of the order's `referring_site` (the page before the
/// shop, which a coupon site or extension is), never its path or query.
async fn coupon_used(
    d: &Delivery<'_>,
    customer: &Customer,
) -> Result<Option<crate::domain::CouponUse>, ShopifyError> {
    let Some(code) = coupon(d) else {
        return Ok(None);
    };
    // Shopify sends what the browser had; anything but an http(s) URL is no referrer.
    let referrer = crate::domain::landing_referrer(d.str("referring_site"))
        .ok()
        .flatten();
    // A binding made by a visitor's click (the order's ref or ctx, now or before) is that click;
    // one made by a coupon or by hand has none.
    let clicked = matches!(
        customer.bound_by,
        BoundBy::Ctx | BoundBy::Shopify | BoundBy::Stripe
    );
    let sale = crate::customers::coupon_use::Sale {
        ctx: clicked.then_some(&customer.claims),
        customer: Some(&customer.customer_id),
        code: Some(&code),
        landing_referrer: referrer,
    };
    Ok(crate::customers::coupon_use::of(d.deps.store(), d.handle, sale).await?)
}

/// The order's first discount code that parses as a coupon code.
fn coupon(d: &Delivery<'_>) -> Option<CouponCode> {
    let codes = d.object["discount_codes"].as_array()?;
    codes
        .iter()
        .filter_map(|c| c["code"].as_str())
        .find_map(|c| CouponCode::parse(c).ok())
}

async fn is_coupon(d: &Delivery<'_>, code: &CouponCode) -> Result<bool, ShopifyError> {
    let store = d.deps.store();
    let now = crate::platform::time::now_millis();
    Ok(crate::customers::coupons::lookup(store, d.handle, code)
        .await?
        .is_some_and(|c| c.attributes_at(now)))
}

/// The click the order names: a note attribute, else the landing page's query.
async fn referral(d: &Delivery<'_>) -> Result<Result<Option<CtxClaims>, String>, ShopifyError> {
    let note = |name: &str| {
        let notes = d.object["note_attributes"].as_array()?;
        let found = notes.iter().find(|n| n["name"] == name)?;
        found["value"].as_str().map(str::to_owned)
    };
    let landing = |name: &str| {
        let site = d.str("landing_site")?;
        let query = site.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let reference = note("tenx_ref").or_else(|| landing("tenx_ref"));
    let token = match (reference, note("tenx_ctx").or_else(|| landing("ctx"))) {
        (Some(r), _) => match refs::resolve(d.deps.store(), d.handle, &r).await? {
            Some(ctx) => ctx,
            None => return Ok(Err(format!("ref {r} is unknown or expired"))),
        },
        (None, Some(ctx)) => ctx,
        (None, None) => return Ok(Ok(None)),
    };
    let now = crate::platform::store::now_unix();
    match d.deps.ctx_keys?.verify(&token, now) {
        Ok(claims) if &claims.handle == d.handle => Ok(Ok(Some(claims))),
        Ok(_) => Ok(Err("the ctx is another handle's click".into())),
        Err(e) => Ok(Err(format!("the ctx is not valid: {e:?}"))),
    }
}

/// What a refund's successful refund transactions add up to (none: zero), or why they cannot
/// be added (a sum past what a decimal holds).
fn refunded_money(refund: &Value) -> Result<Decimal, &'static str> {
    let Some(transactions) = refund["transactions"].as_array() else {
        return Ok(Decimal::ZERO);
    };
    transactions
        .iter()
        .filter(|t| t["kind"] == "refund" && t["status"] == "success")
        .filter_map(|t| t["amount"].as_str().and_then(|a| a.parse::<Decimal>().ok()))
        .try_fold(Decimal::ZERO, Decimal::checked_add)
        .ok_or("the refund's transactions add up to more than an amount can be")
}

/// Applies `refunds/create`: the refund's successful refund transactions, recorded under the
/// refund's own id; the sale is reversed to what all its order's recorded refunds add up to.
/// A refund delivered twice (a retry, a replay under another webhook id, two at once) is one
/// record, so the total counts it once (issue 57: it was added on top of the reversal each time).
pub async fn refunded(d: &Delivery<'_>) -> Result<Outcome, ShopifyError> {
    let (Some(order), Some(refund)) = (
        d.id_of(&d.object["order_id"]),
        super::content::id_of(&d.object["id"]),
    ) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the refund names no order or no id",
        ));
    };
    let money = match refunded_money(d.object) {
        Ok(money) => money,
        Err(why) => return Ok(Outcome::with(Status::Failed, why)),
    };
    if money <= Decimal::ZERO {
        return Ok(Outcome::with(Status::Ignored, "no money was refunded"));
    }
    let store = d.deps.store();
    let Some(sale) = sale_or_park(d, &order).await? else {
        return Ok(parked());
    };
    let total = payments::record_refund(store, d.handle, SHOPIFY, (&order, &refund), money).await?;
    reverse_sale(d, sale, total, "refund").await
}

/// Applies `orders/cancelled`: what is left of the sale is reversed.
pub async fn cancelled(d: &Delivery<'_>) -> Result<Outcome, ShopifyError> {
    let Some(order) = d.id_of(&d.object["id"]) else {
        return Ok(Outcome::with(Status::Failed, "the order has no id"));
    };
    let Some(sale) = sale_or_park(d, &order).await? else {
        return Ok(parked());
    };
    reverse_sale(d, sale, Decimal::MAX, "order_cancelled").await
}

/// The sale of `order`, or `None` with the delivery parked until the sale arrives.
async fn sale_or_park(
    d: &Delivery<'_>,
    order: &str,
) -> Result<Option<payments::Payment>, ShopifyError> {
    let store = d.deps.store();
    let sale = payments::find(store, d.handle, SHOPIFY, &[order.to_owned()]).await?;
    if sale.is_none() {
        park(d, order).await?;
    }
    Ok(sale)
}

fn parked() -> Outcome {
    Outcome::with(
        Status::Parked,
        "its order's sale has not arrived yet: applied when it does",
    )
}

/// Reverses `sale` to `total` in all (at most its value; a smaller total than its reversal
/// holds changes nothing: `reverse::reverse_to`).
async fn reverse_sale(
    d: &Delivery<'_>,
    sale: payments::Payment,
    total: Decimal,
    reason: &str,
) -> Result<Outcome, ShopifyError> {
    let id = sale.conversion_id.clone();
    let amount = total.min(sale.value);
    let request = ValidReverse {
        reason: reason.to_owned(),
        amount: Some(amount),
    };
    match reverse::reverse_to(d.deps.io(), d.handle, &id, &request, "shopify").await {
        Ok(_) => Ok(Outcome::processed(Some(sale.conversion_id))),
        Err(ReverseError::Store(e)) => Err(e.into()),
        Err(ReverseError::Busy) => {
            Err(crate::platform::store::StoreError::Unavailable("busy".into()).into())
        }
        Err(e) => Ok(Outcome::with(Status::Failed, e.to_string())),
    }
}

/// Parks the delivery (its topic, id and body) under its order.
async fn park(d: &Delivery<'_>, order: &str) -> Result<(), ShopifyError> {
    let parked =
        serde_json::json!({"topic": d.topic, "id": d.id, "body": String::from_utf8_lossy(d.body)});
    let store = d.deps.store();
    let orders = [order.to_owned()];
    payments::park(store, d.handle, SHOPIFY, &orders, d.id, &parked.to_string()).await?;
    Ok(())
}

/// Applies the deliveries parked under `order` now that its sale is here.
async fn replay(d: &Delivery<'_>, order: &str) -> Result<(), ShopifyError> {
    let store = d.deps.store();
    for waiting in payments::parked(store, d.handle, SHOPIFY, &[order.to_owned()]).await? {
        let parked: Value = serde_json::from_str(&waiting.body).unwrap_or_default();
        let (topic, id) = (
            parked["topic"].as_str().unwrap_or_default(),
            parked["id"].as_str().unwrap_or_default(),
        );
        let body = parked["body"].as_str().unwrap_or_default().as_bytes();
        let outcome = Box::pin(super::apply(
            d.deps,
            d.handle,
            d.integration,
            topic,
            id,
            body,
        ))
        .await?;
        if outcome.status == Status::Parked {
            continue;
        }
        let (Claimed::Done(entry) | Claimed::Unfinished(entry) | Claimed::New(entry)) =
            log::claim(store, d.handle, SHOPIFY, id, topic).await?;
        log::finish(store, d.handle, SHOPIFY, entry, outcome).await?;
        payments::unpark(store, d.handle, SHOPIFY, &waiting).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund(amounts: &[&str]) -> Value {
        let transactions: Vec<Value> = amounts
            .iter()
            .map(|a| serde_json::json!({"kind": "refund", "status": "success", "amount": a}))
            .collect();
        serde_json::json!({"id": 1, "order_id": 2, "transactions": transactions})
    }

    #[test]
    fn a_refunds_transactions_are_added_and_a_sum_too_large_is_refused_in_words() {
        assert_eq!(
            refunded_money(&refund(&["10.50", "4.25"])),
            Ok(Decimal::new(1475, 2))
        );
        let mut mixed = refund(&["3.00"]);
        mixed["transactions"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"kind": "sale", "status": "success", "amount": "99.00"}));
        assert_eq!(refunded_money(&mixed), Ok(Decimal::new(300, 2)));
        assert_eq!(refunded_money(&serde_json::json!({})), Ok(Decimal::ZERO));
        let max = Decimal::MAX.to_string();
        assert_eq!(
            refunded_money(&refund(&[&max, &max])),
            Err("the refund's transactions add up to more than an amount can be")
        );
    }
}
