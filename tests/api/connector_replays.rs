//! Issue 57: an outside event is applied once by its signed content. A Stripe refund that
//! arrived before its checkout was parked under its charge while the checkout looked under its
//! payment intent: it was never applied. Shopify signs the body only: a `refunds/create` body
//! resent under a new webhook id doubled its reversal, and an `orders/paid` body resent as
//! `orders/cancelled` reversed the whole sale.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::connectors::{
    SHOP_SECRET, a_ref, conversion, deliver, fixture, log, program, shop_deliver, shop_fixture,
    status_of,
};
use crate::helpers::*;

#[tokio::test]
async fn a_stripe_refund_before_its_checkout_is_applied_when_the_checkout_arrives() {
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let reference = a_ref(&app, &ctx).await;
    // The refund names its charge and payment intent; the checkout only the payment intent.
    let mut refund = fixture("charge_refunded_full");
    refund["id"] = json!("evt_refund_first");
    let object = &mut refund["data"]["object"];
    (object["id"], object["payment_intent"]) = (json!("ch_probe"), json!("pi_probe"));
    object["invoice"] = Value::Null;
    (object["amount"], object["amount_refunded"]) = (json!(4999), json!(1500));
    object["currency"] = json!("eur");
    assert_eq!(deliver(&app, &refund).await["status"], "parked");

    let mut checkout = fixture("checkout_session_completed_payment");
    checkout["data"]["object"]["metadata"]["tenx_ref"] = json!(reference);
    checkout["data"]["object"]["payment_intent"] = json!("pi_probe");
    assert_eq!(deliver(&app, &checkout).await["status"], "processed");
    let sale = conversion(&app, "stripe:pi_probe").await;
    assert_eq!(
        sale["reversal"]["amount"], 15.0,
        "the parked refund applied: {sale}"
    );
    assert_eq!(status_of(&log(&app).await, "evt_refund_first"), "processed");

    // Applied once: its redelivery is deduped and a later event of the sale replays nothing.
    assert_eq!(deliver(&app, &refund).await["deduped"], true);
    let op = app.as_role("acme", Role::Operator);
    let parked = tenx_shared::connectors::payments::parked(
        app.store.as_ref(),
        &acme(),
        tenx_shared::connectors::Provider::Stripe,
        &["ch_probe".to_owned(), "pi_probe".to_owned()],
    )
    .await
    .unwrap();
    assert!(parked.is_empty(), "every parked copy is gone: {parked:?}");
    let again = conversion(&app, "stripe:pi_probe").await;
    assert_eq!(again["reversal"]["amount"], 15.0);
    assert!(op.get_customer("cus_test2").await.status().is_success());
}

/// Delivers `body` signed as Shopify signs it, under any topic and webhook id: the answer.
async fn replayed(app: &TestApp, topic: &str, webhook_id: &str, body: &Value) -> Value {
    shop_deliver(app, topic, webhook_id, body).await
}

async fn reversed(app: &TestApp) -> f64 {
    let sale = conversion(app, "shopify:820982911946154508").await;
    sale["reversal"]["amount"].as_f64().unwrap_or(0.0)
}

/// A refund of the fixture's order: its own id and the money it refunded.
fn refund(id: u64, amounts: &[&str]) -> Value {
    let mut body = shop_fixture("refunds_create");
    body["id"] = json!(id);
    let template = body["transactions"][0].clone();
    body["transactions"] = amounts
        .iter()
        .map(|a| {
            let mut t = template.clone();
            t["amount"] = json!(a);
            t
        })
        .collect();
    body
}

#[tokio::test]
async fn a_shopify_delivery_is_applied_by_its_signed_body_never_by_its_headers() {
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"shopDomain": "acme-shop.myshopify.com", "signingSecrets": [SHOP_SECRET]});
    json_of(op.put_integration("shopify", &body).await, 200).await;
    let mut order = shop_fixture("orders_paid");
    order["note_attributes"][0]["value"] = json!(a_ref(&app, &ctx).await);
    assert_eq!(
        replayed(&app, "orders/paid", "wh-1", &order).await["status"],
        "processed"
    );
    // The same order under another webhook id is the same delivery.
    assert_eq!(
        replayed(&app, "orders/paid", "wh-1-again", &order).await["deduped"],
        true
    );

    let first = refund(7001, &["10.00"]);
    assert_eq!(
        replayed(&app, "refunds/create", "wh-r1", &first).await["status"],
        "processed"
    );
    let replay = replayed(&app, "refunds/create", "wh-r1-forged", &first).await;
    assert_eq!(replay["deduped"], true, "{replay}");
    assert!(
        (reversed(&app).await - 10.0).abs() < 1e-9,
        "the refund counts once"
    );

    // A paid order resent as a cancellation, and a refund resent as a sale: refused, logged.
    let forged = replayed(&app, "orders/cancelled", "wh-forged-cancel", &order).await;
    assert_eq!(forged["status"], "failed", "{forged}");
    let as_sale = replayed(&app, "orders/paid", "wh-forged-sale", &first).await;
    assert_eq!(as_sale["status"], "failed", "{as_sale}");
    assert!(
        (reversed(&app).await - 10.0).abs() < 1e-9,
        "nothing more reversed"
    );
    let events = json_of(op.integration_events("shopify", "limit=100").await, 200).await;
    let refused: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "failed")
        .collect();
    assert_eq!(refused.len(), 2, "{events}");
    assert!(
        refused.iter().all(|e| e["reason"]
            .as_str()
            .unwrap()
            .contains("contradicts its body")),
        "{refused:?}"
    );

    // Another refund adds to the first; the same one sent twice at once counts once.
    let second = refund(7002, &["5.00", "2.50"]);
    let (a, b) = tokio::join!(
        replayed(&app, "refunds/create", "wh-r2-a", &second),
        replayed(&app, "refunds/create", "wh-r2-b", &second),
    );
    assert!(
        a["status"] == "processed" || b["status"] == "processed",
        "{a} {b}"
    );
    assert!(
        (reversed(&app).await - 17.5).abs() < 1e-9,
        "10.00 + 7.50, once each"
    );
    // The events worker writes the sale's line and each refund's adjustment after their
    // deliveries are answered: the drift check reads the ledger once all three are there.
    eventually_or(
        "the sale's line and the two refunds' adjustments",
        || async {
            let lines = json_of(op.list_commissions("").await, 200).await;
            match lines["items"].as_array().map_or(0, Vec::len) {
                3 => Ok(()),
                n => Err(format!("{n} lines: {lines}")),
            }
        },
    )
    .await;
    crate::commissions::no_drift(&app).await;
}
