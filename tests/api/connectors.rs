//! Issue 45: sales arrive by themselves. Stripe's deliveries (payloads from Stripe's published
//! API fixtures, `tests/fixtures/providers/stripe`, signed as Stripe signs them) bind customers,
//! make first and renewal sales, reverse refunded ones (a refund before its sale waits for it),
//! once per event id; bad signatures store nothing; every delivery is in the event log.

use reqwest::Response;
use serde_json::{Value, json};
use tenx_shared::connectors::stripe::signature;
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::{Program, human_ctx};

const OLD: &str = "whsec_rotated_out_0123456789abcdef";
pub(crate) const NEW: &str = "whsec_current_fedcba9876543210abcd";

/// A Stripe event from the fixtures, as a live-mode event (its conversions count).
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/providers/stripe/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["livemode"] = json!(true);
    event
}

/// Delivers `event` signed with `secret` at `t` (now when `None`).
pub(crate) async fn deliver_at(
    app: &TestApp,
    event: &Value,
    secret: &str,
    t: Option<i64>,
) -> Response {
    let body = serde_json::to_vec(event).unwrap();
    let header = signature::sign(secret, t.unwrap_or_else(now), &body);
    app.stripe_event("acme", &body, &[("stripe-signature", header.as_str())])
        .await
}

/// Delivers `event` signed with the current secret: the answer's JSON (200 expected).
pub(crate) async fn deliver(app: &TestApp, event: &Value) -> Value {
    json_of(deliver_at(app, event, NEW, None).await, 200).await
}

/// A program paying 10 % of purchases, a click's ctx, and Stripe connected.
pub(crate) async fn program(app: &TestApp) -> String {
    let plan = json!({"currency": "USD", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]});
    Program::on(app, "acme")
        .instant()
        .await
        .partner("pub-one")
        .await
        .campaign("alpha", Some("pub-one"), "alpha")
        .await
        .plan("alpha", &plan)
        .await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"signingSecrets": [OLD, NEW]});
    let saved = json_of(op.put_integration("stripe", &body).await, 200).await;
    assert_eq!(
        saved["signingSecrets"],
        json!(["…cdef", "…abcd"]),
        "{saved}"
    );
    assert!(
        !saved.to_string().contains("whsec_"),
        "a secret is never answered"
    );
    human_ctx(app, "acme", "/alpha").await
}

pub(crate) async fn a_ref(app: &TestApp, ctx: &str) -> String {
    let made = json_of(app.create_ref(&json!({"ctx": ctx})).await, 201).await;
    made["ref"].as_str().unwrap().to_owned()
}

pub(crate) async fn conversion(app: &TestApp, key: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let all = json_of(op.list_conversions("limit=100").await, 200).await;
    let found = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["idempotencyKey"] == key);
    found
        .cloned()
        .unwrap_or_else(|| panic!("no conversion {key}: {all}"))
}

pub(crate) async fn log(app: &TestApp) -> Vec<Value> {
    let op = app.as_role("acme", Role::Operator);
    let page = json_of(op.integration_events("stripe", "limit=100").await, 200).await;
    page["items"].as_array().unwrap().clone()
}

pub(crate) fn status_of<'a>(log: &'a [Value], event_id: &str) -> &'a Value {
    let entry = log.iter().find(|e| e["eventId"] == event_id);
    &entry.unwrap_or_else(|| panic!("{event_id} not in the log: {log:?}"))["status"]
}

#[tokio::test]
async fn a_stripe_subscription_binds_its_customer_pays_first_and_renewal_and_reverses_a_refund() {
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let reference = a_ref(&app, &ctx).await;
    assert_eq!(
        a_ref(&app, &ctx).await,
        reference,
        "the same click, the same ref"
    );

    let mut checkout = fixture("checkout_session_completed_subscription");
    checkout["data"]["object"]["client_reference_id"] = json!(reference);
    assert_eq!(deliver(&app, &checkout).await["status"], "processed");
    let op = app.as_role("acme", Role::Operator);
    let customer = json_of(op.get_customer("cus_test1").await, 200).await;
    assert_eq!(
        (customer["partnerId"].as_str(), customer["boundBy"].as_str()),
        (Some("pub-one"), Some("stripe"))
    );

    let first = fixture("invoice_paid_subscription_create");
    let answer = deliver(&app, &first).await;
    assert_eq!(
        (answer["status"].as_str(), answer["deduped"].as_bool()),
        (Some("processed"), Some(false))
    );
    let sale = conversion(&app, "stripe:in_1TenxInvCreate0001").await;
    assert_eq!(
        (sale["value"].as_f64(), sale["currency"].as_str()),
        (Some(29.0), Some("USD")),
        "{sale}"
    );
    assert_eq!(sale["test"], false);
    // The same delivery again (Stripe retries): answered, counted once.
    assert_eq!(deliver(&app, &first).await["deduped"], true);
    deliver(&app, &fixture("invoice_paid_subscription_cycle")).await;
    let renewal = conversion(&app, "stripe:in_1TenxInvCycle00002").await;
    assert_eq!(renewal["value"], 29.0);
    let lines = crate::commissions::ledger(&app, 2).await;
    assert!(lines.iter().all(|l| l["amount"] == "2.90"), "{lines:?}");

    // A partial refund of the first invoice's charge reverses that much of its sale.
    let refunded = fixture("charge_refunded_partial");
    assert_eq!(deliver(&app, &refunded).await["status"], "processed");
    let reversed = conversion(&app, "stripe:in_1TenxInvCreate0001").await;
    assert_eq!(reversed["reversal"]["amount"], 10.0, "{reversed}");
    // The reversal is in the audit log as Stripe's (issue 60).
    let audit: serde_json::Value = app
        .client
        .get(app.url("/v2/handles/acme/audit?action=conversion.reversed"))
        .bearer_auth(app.token(&["acme"], tenx_shared::auth::Role::Operator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        audit["items"][0]["actor"],
        serde_json::json!({"type": "provider", "id": "stripe"}),
        "{audit}"
    );

    // Then the rest of it: the refunds add up; the commission moves by the difference, so the
    // adjustments sum to the whole line. A smaller refund seen later changes nothing.
    assert_eq!(
        deliver(&app, &fixture("charge_refunded_full")).await["status"],
        "processed"
    );
    let reversed = conversion(&app, "stripe:in_1TenxInvCreate0001").await;
    let r = &reversed["reversal"];
    assert_eq!(
        (r["amount"].as_f64(), r["previousAmount"].as_f64()),
        (Some(29.0), Some(10.0)),
        "{r}"
    );
    assert_eq!(
        deliver(&app, &fixture("refund_created")).await["status"],
        "processed"
    );
    let same = conversion(&app, "stripe:in_1TenxInvCreate0001").await;
    assert_eq!(same["reversal"], reversed["reversal"]);
    let lines = crate::commissions::ledger(&app, 4).await;
    let adjustments: Vec<&str> = lines
        .iter()
        .filter(|l| l["kind"] == "adjustment")
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    let mut sorted = adjustments.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["-1.00", "-1.90"], "{lines:?}");
    crate::commissions::no_drift(&app).await;

    let entries = log(&app).await;
    assert_eq!(entries.len(), 6, "one entry per event id: {entries:?}");
    assert_eq!(status_of(&entries, "evt_1TenxInvPaidCreate01"), "processed");
    assert_eq!(
        entries[0]["eventId"], "evt_1TenxRefundCreated02",
        "newest first"
    );
}

#[tokio::test]
async fn a_refund_before_its_sale_waits_for_it_and_currencies_use_stripes_exponents() {
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    for customer in ["cus_test3", "cus_test4"] {
        let body = json!({"customerId": customer, "ctx": ctx});
        assert!(op.bind_customer(&body).await.status().is_success());
    }
    // The refund of the yen invoice's charge arrives first: parked under its charge.
    let mut refund = fixture("charge_refunded_full");
    refund["id"] = json!("evt_1TenxRefundBeforeSale");
    let object = &mut refund["data"]["object"];
    object["id"] = json!("ch_inv3");
    object["payment_intent"] = json!("pi_inv3");
    object["invoice"] = json!("in_1TenxInvJpy0000003");
    object["currency"] = json!("jpy");
    (object["amount"], object["amount_refunded"]) = (json!(5000), json!(5000));
    assert_eq!(deliver(&app, &refund).await["status"], "parked");

    assert_eq!(
        deliver(&app, &fixture("invoice_paid_jpy")).await["status"],
        "processed"
    );
    let yen = conversion(&app, "stripe:in_1TenxInvJpy0000003").await;
    assert_eq!(
        (yen["value"].as_f64(), yen["currency"].as_str()),
        (Some(5000.0), Some("JPY")),
        "{yen}"
    );
    assert_eq!(
        yen["reversal"]["amount"], 5000.0,
        "the parked refund applied once its sale came"
    );
    assert_eq!(
        status_of(&log(&app).await, "evt_1TenxRefundBeforeSale"),
        "processed"
    );

    deliver(&app, &fixture("invoice_paid_kwd")).await;
    let dinar = conversion(&app, "stripe:in_1TenxInvKwd0000004").await;
    assert_eq!(
        (dinar["value"].as_f64(), dinar["currency"].as_str()),
        (Some(12.345), Some("KWD"))
    );

    // Test mode makes test conversions.
    let mut test = fixture("invoice_paid_jpy");
    test["id"] = json!("evt_1TenxTestModeInvoice");
    test["livemode"] = json!(false);
    test["data"]["object"]["id"] = json!("in_1TenxTestMode");
    deliver(&app, &test).await;
    assert_eq!(
        conversion(&app, "stripe:in_1TenxTestMode").await["test"],
        true
    );
}

#[tokio::test]
async fn bad_signatures_store_nothing_and_odd_events_are_logged_not_retried() {
    let app = spawn_app().await;
    program(&app).await;
    let event = fixture("invoice_paid_subscription_create");
    let refused =
        |resp: Response| async move { assert_error(resp, 400, "invalid_signature").await };
    refused(deliver_at(&app, &event, "whsec_someone_elses_secret", None).await).await;
    refused(deliver_at(&app, &event, NEW, Some(now() - 301)).await).await;
    let body = serde_json::to_vec(&event).unwrap();
    let header = signature::sign(NEW, now(), &body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    refused(
        app.stripe_event("acme", &tampered, &[("stripe-signature", header.as_str())])
            .await,
    )
    .await;
    refused(app.stripe_event("acme", &body, &[]).await).await;
    assert!(
        log(&app).await.is_empty(),
        "nothing stored for a bad signature"
    );

    // The rotated-out secret still verifies; an unknown type is answered and ignored.
    let unknown = fixture("customer_created_unhandled");
    assert_eq!(
        json_of(deliver_at(&app, &unknown, OLD, None).await, 200).await["status"],
        "ignored"
    );
    // Signed but not an event: logged failed, answered 200 (Stripe would retry a 5xx forever).
    let junk = b"not json at all";
    let header = signature::sign(NEW, now(), junk);
    let answer = json_of(
        app.stripe_event("acme", junk, &[("stripe-signature", header.as_str())])
            .await,
        200,
    )
    .await;
    assert_eq!(answer["status"], "failed");
    // Too large: 413, and a handle without the integration: as a bad signature (issue 57).
    let big = vec![b' '; 600 * 1024];
    let header = signature::sign(NEW, now(), &big);
    assert_error(
        app.stripe_event("acme", &big, &[("stripe-signature", header.as_str())])
            .await,
        413,
        "payload_too_large",
    )
    .await;
    let op = app.as_role("acme", Role::Operator);
    assert_eq!(op.delete_integration("stripe").await.status(), 204);
    refused(deliver_at(&app, &event, NEW, None).await).await;
    assert_error(op.get_integration("stripe").await, 404, "not_found").await;
    // Settings are checked: no secret, a short one, a shop domain on Stripe.
    for body in [
        json!({"signingSecrets": []}),
        json!({"signingSecrets": ["short"]}),
        json!({"signingSecrets": [NEW], "eventType": "a purchase"}),
        json!({"signingSecrets": [NEW], "shopDomain": "not a shop"}),
    ] {
        assert_error(
            op.put_integration("stripe", &body).await,
            400,
            "invalid_request",
        )
        .await;
    }
    assert_error(
        app.create_ref(&json!({"ctx": "not-a-ctx"})).await,
        400,
        "invalid_ctx",
    )
    .await;
}

/// The status and reasons of the commission of the conversion with `key`.
async fn commission_of(app: &TestApp, key: &str) -> (String, Vec<String>) {
    let id = conversion(app, key).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines = crate::commissions::ledger(app, 1).await;
    let line = lines
        .iter()
        .find(|l| l["conversionId"] == id.as_str() && l["kind"] == "conversion");
    let line = line.unwrap_or_else(|| panic!("no line for {id}: {lines:?}"));
    let reasons = line["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned());
    (
        line["status"].as_str().unwrap().to_owned(),
        reasons.collect(),
    )
}

#[tokio::test]
async fn a_dispute_holds_the_commission_a_won_one_releases_it_and_a_lost_one_reverses_the_sale() {
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"customerId": "cus_test1", "ctx": ctx});
    assert!(op.bind_customer(&body).await.status().is_success());
    deliver(&app, &fixture("invoice_paid_subscription_create")).await;
    let key = "stripe:in_1TenxInvCreate0001";
    let (before, _) = commission_of(&app, key).await;

    assert_eq!(
        deliver(&app, &fixture("charge_dispute_created")).await["status"],
        "processed"
    );
    let (status, reasons) = commission_of(&app, key).await;
    assert_eq!(
        (status.as_str(), reasons.contains(&"dispute".to_owned())),
        ("held", true)
    );
    let op_balances = json_of(op.balances("partnerId=pub-one").await, 200).await;
    assert_eq!(op_balances["items"][0]["held"], "2.90", "{op_balances}");
    deliver(&app, &fixture("charge_dispute_closed_won")).await;
    let (status, reasons) = commission_of(&app, key).await;
    assert_eq!(status, before, "back where it was");
    assert!(!reasons.contains(&"dispute".to_owned()));

    // Disputed again and lost: the whole sale is reversed, its commission with it.
    let mut again = fixture("charge_dispute_created");
    again["id"] = json!("evt_1TenxDisputeAgain");
    deliver(&app, &again).await;
    assert_eq!(
        deliver(&app, &fixture("charge_dispute_closed_lost")).await["status"],
        "processed"
    );
    let reversed = conversion(&app, key).await;
    assert_eq!(reversed["reversal"]["amount"], 29.0, "{reversed}");
    assert_eq!(reversed["reversal"]["reason"], "dispute_lost");
    let lines = crate::commissions::ledger(&app, 2).await;
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "adjustment" && l["amount"] == "-2.90"),
        "{lines:?}"
    );
    crate::commissions::no_drift(&app).await;
}

pub(crate) const SHOP_SECRET: &str = "shpss_0123456789abcdef0123456789ab";

/// A Shopify fixture (the webhook body is the order or refund itself).
pub(crate) fn shop_fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/providers/shopify/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Delivers `body` as Shopify does for `topic`, with webhook id `id`: the answer's JSON.
pub(crate) async fn shop_deliver(app: &TestApp, topic: &str, id: &str, body: &Value) -> Value {
    let raw = serde_json::to_vec(body).unwrap();
    let hmac = tenx_shared::connectors::shopify::sign(SHOP_SECRET, &raw);
    let headers = [
        ("x-shopify-hmac-sha256", hmac.as_str()),
        ("x-shopify-topic", topic),
        ("x-shopify-webhook-id", id),
        ("x-shopify-shop-domain", "acme-shop.myshopify.com"),
    ];
    json_of(app.shopify_event("acme", &raw, &headers).await, 200).await
}

#[tokio::test]
async fn a_shopify_order_is_a_sale_its_refund_and_cancellation_reverse_it_and_a_coupon_attributes()
{
    let app = spawn_app().await;
    let ctx = program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"shopDomain": "acme-shop.myshopify.com", "signingSecrets": [SHOP_SECRET]});
    json_of(op.put_integration("shopify", &body).await, 200).await;
    let reference = a_ref(&app, &ctx).await;
    let mut order = shop_fixture("orders_paid");
    order["note_attributes"][0]["value"] = json!(reference);
    order["landing_site"] = json!("/products/aviator-sunglasses");
    assert_eq!(
        shop_deliver(&app, "orders/paid", "wh-order-1", &order).await["status"],
        "processed"
    );
    assert_eq!(
        shop_deliver(&app, "orders/paid", "wh-order-1", &order).await["deduped"],
        true
    );
    let sale = conversion(&app, "shopify:820982911946154508").await;
    assert_eq!(
        (sale["value"].as_f64(), sale["currency"].as_str()),
        (Some(404.95), Some("USD"))
    );
    let customer = json_of(op.get_customer("shopify:115310627314723954").await, 200).await;
    assert_eq!(
        (customer["boundBy"].as_str(), customer["partnerId"].as_str()),
        (Some("shopify"), Some("pub-one"))
    );

    let refund = shop_fixture("refunds_create");
    assert_eq!(
        shop_deliver(&app, "refunds/create", "wh-refund-1", &refund).await["status"],
        "processed"
    );
    assert_eq!(
        conversion(&app, "shopify:820982911946154508").await["reversal"]["amount"],
        69.99
    );
    shop_deliver(
        &app,
        "orders/cancelled",
        "wh-cancel-1",
        &shop_fixture("orders_cancelled"),
    )
    .await;
    let cancelled = conversion(&app, "shopify:820982911946154508").await;
    let r = &cancelled["reversal"];
    assert_eq!(
        (r["amount"].as_f64(), r["previousAmount"].as_f64()),
        (Some(404.95), Some(69.99)),
        "{r}"
    );

    // A second order, by coupon code alone; its refund arrives first and waits for it.
    let coupon = json!({"code": "TENX10", "campaignId": "alpha"});
    json_of(op.create_coupon("pub-one", &coupon).await, 201).await;
    let mut second = shop_fixture("orders_paid");
    second["id"] = json!(820982911946154999u64);
    second["customer"]["id"] = json!(7u64);
    second["note_attributes"] = json!([]);
    second["landing_site"] = Value::Null;
    // Where the buyer came from (a coupon site): its host alone feeds the leak report.
    second["referring_site"] = json!("https://www.retailmenot.com/view/acme-shop.com?utm=x");
    let mut early = shop_fixture("refunds_create");
    early["order_id"] = json!(820982911946154999u64);
    assert_eq!(
        shop_deliver(&app, "refunds/create", "wh-refund-2", &early).await["status"],
        "parked"
    );
    assert_eq!(
        shop_deliver(&app, "orders/paid", "wh-order-2", &second).await["status"],
        "processed"
    );
    let by_coupon = json_of(op.get_customer("shopify:7").await, 200).await;
    assert_eq!(by_coupon["boundBy"], "coupon");
    let second_sale = conversion(&app, "shopify:820982911946154999").await;
    assert_eq!(
        second_sale["coupon"],
        json!({"code": "TENX10", "partnerId": "pub-one", "withClick": false,
            "landingReferrer": "retailmenot.com"}),
        "{second_sale}"
    );
    assert_eq!(
        second_sale["reversal"]["amount"], 69.99,
        "the parked refund applied"
    );

    // A bad signature stores nothing; an unknown topic is ignored.
    let raw = serde_json::to_vec(&order).unwrap();
    let bad = [
        ("x-shopify-hmac-sha256", "AAAA"),
        ("x-shopify-topic", "orders/paid"),
        ("x-shopify-webhook-id", "wh-bad"),
    ];
    assert_error(
        app.shopify_event("acme", &raw, &bad).await,
        400,
        "invalid_signature",
    )
    .await;
    assert_eq!(
        shop_deliver(&app, "products/update", "wh-product", &json!({"id": 1})).await["status"],
        "ignored"
    );
    // Signed with the secret but sent for another shop: logged failed, nothing applied.
    let raw = serde_json::to_vec(&json!({"id": 2})).unwrap();
    let hmac = tenx_shared::connectors::shopify::sign(SHOP_SECRET, &raw);
    let other = [
        ("x-shopify-hmac-sha256", hmac.as_str()),
        ("x-shopify-topic", "orders/paid"),
        ("x-shopify-webhook-id", "wh-other-shop"),
        ("x-shopify-shop-domain", "evil.myshopify.com"),
    ];
    let answer = json_of(app.shopify_event("acme", &raw, &other).await, 200).await;
    assert_eq!(answer["status"], "failed");
    let page = json_of(op.integration_events("shopify", "limit=100").await, 200).await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"wh-bad") && ids.len() == 7, "{ids:?}");
    // Two sales' lines and three reversals' adjustments, written by the events worker.
    crate::commissions::ledger(&app, 5).await;
    crate::commissions::no_drift(&app).await;
}

/// A delivery whose apply fails after its claim (the store failing: as a crash between
/// receiving and applying): answered 503 so Stripe retries, logged `received`; the retry
/// applies it, once.
#[tokio::test]
async fn a_delivery_cut_after_its_claim_is_applied_once_on_the_providers_retry() {
    let (app, switch) = spawn_with_failing_queue().await;
    let ctx = program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"customerId": "cus_test1", "ctx": ctx});
    assert!(op.bind_customer(&body).await.status().is_success());
    let invoice = fixture("invoice_paid_subscription_create");
    // The claim's transaction goes through; the next ones (the sale's) fail.
    switch.fail_transacts_after(1, 8);
    let cut = deliver_at(&app, &invoice, NEW, None).await;
    assert_eq!(cut.status(), 503, "{}", cut.text().await.unwrap());
    switch.fail_transacts_after(0, 0);
    assert_eq!(
        status_of(&log(&app).await, "evt_1TenxInvPaidCreate01"),
        "received"
    );

    let retried = deliver(&app, &invoice).await;
    assert_eq!(
        (retried["status"].as_str(), retried["deduped"].as_bool()),
        (Some("processed"), Some(false))
    );
    assert_eq!(deliver(&app, &invoice).await["deduped"], true);
    let all = json_of(op.list_conversions("limit=100").await, 200).await;
    let sales: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["idempotencyKey"] == "stripe:in_1TenxInvCreate0001")
        .collect();
    assert_eq!(sales.len(), 1, "one sale: {all}");
    assert_eq!(log(&app).await.len(), 1);
}
