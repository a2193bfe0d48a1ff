//! Issue 62: "Send a test event", `POST …/integrations/{provider}/test`. A sample delivery signed
//! with the connector's own secret goes through the provider's webhook code (signature, parsing,
//! the event log) and never makes money: no conversion that earns, no commission line, nothing
//! in the balances or the dashboard. Without the integration it answers a clear error.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::connectors::{SHOP_SECRET, program};
use crate::helpers::*;

async fn send_test(app: &TestApp, role: Role, provider: &str) -> reqwest::Response {
    let who = app.as_role("acme", role);
    who.send_json(
        reqwest::Method::POST,
        &format!("/integrations/{provider}/test"),
        &json!({}),
    )
    .await
}

/// Nothing earned, owed or paid: no line, no balance, a dashboard of zeros.
async fn no_money(app: &TestApp) {
    let op = app.as_role("acme", Role::Operator);
    let lines = json_of(op.get("/commissions?limit=100").await, 200).await;
    assert_eq!(lines["items"], json!([]), "a test event earns nothing");
    let balances = json_of(op.balances("").await, 200).await;
    assert_eq!(balances["items"], json!([]));
    let dash = json_of(op.get("/dashboard").await, 200).await;
    let days = dash["series"].as_array().unwrap();
    assert!(
        days.iter()
            .all(|d| d["revenue"] == "0.00" && d["commissionsPending"] == "0.00"),
        "{dash}"
    );
    assert_eq!(dash["topPartners"], json!([]));
}

#[tokio::test]
async fn a_stripe_test_event_is_signed_verified_logged_and_earns_nothing() {
    let app = spawn_app().await;
    // Before Stripe is connected: a clear error, in words.
    let r = send_test(&app, Role::Operator, "stripe").await;
    let err = assert_error(r, 409, "invalid_state").await;
    assert!(err.contains("Stripe is not connected"), "{err}");

    program(&app).await;
    let sent = json_of(send_test(&app, Role::Operator, "stripe").await, 202).await;
    assert_eq!(
        (&sent["provider"], &sent["test"]),
        (&json!("stripe"), &json!(true))
    );
    assert_eq!(sent["type"], "checkout.session.completed");
    let id = sent["eventId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("evt_test_"), "{sent}");
    // Verified and read (a bad signature would be 400; a body it could not read, `failed`):
    // it names no referral, so it changes nothing.
    assert_eq!(sent["status"], "ignored", "{sent}");
    assert!(
        sent["reason"].as_str().unwrap().starts_with("no referral"),
        "{sent}"
    );
    // In the event log, as a real delivery is; a second test is a new event, not a duplicate.
    let log = crate::connectors::log(&app).await;
    assert_eq!(crate::connectors::status_of(&log, &id), "ignored");
    let again = json_of(send_test(&app, Role::Operator, "stripe").await, 202).await;
    assert_ne!(again["eventId"], sent["eventId"]);
    no_money(&app).await;
    // Operators and admins send it; a viewer may not.
    let r = send_test(&app, Role::Viewer, "stripe").await;
    assert_error(r, 403, "insufficient_role").await;
}

#[tokio::test]
async fn a_shopify_test_event_goes_through_its_hmac_and_topic_checks() {
    let app = spawn_app().await;
    let r = send_test(&app, Role::Operator, "shopify").await;
    let err = assert_error(r, 409, "invalid_state").await;
    assert!(err.contains("Shopify is not connected"), "{err}");
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"shopDomain": "acme-shop.myshopify.com", "signingSecrets": [SHOP_SECRET]});
    json_of(op.put_integration("shopify", &body).await, 200).await;
    let sent: Value = json_of(send_test(&app, Role::Operator, "shopify").await, 202).await;
    assert_eq!(
        (&sent["provider"], &sent["type"]),
        (&json!("shopify"), &json!("orders/paid"))
    );
    // Its body agreed with its topic (else `failed`, "contradicts its body") and its shop with
    // the integration's: only the referral is missing.
    assert_eq!(sent["status"], "ignored", "{sent}");
    assert!(
        sent["reason"].as_str().unwrap().starts_with("no referral"),
        "{sent}"
    );
    no_money(&app).await;
    // A provider the API does not know is refused, never sent.
    let r = send_test(&app, Role::Operator, "paypal").await;
    assert!(r.status().is_client_error(), "{}", r.status());
}
