//! Issue 57, the public surfaces found by outside probes: emails are addresses (no markup) and
//! compared by one normalized form (NFC, lower case, no `+tag`) for deduplication and the
//! self-referral check; the public routes that store what a person typed take
//! `application/json` only (no simple cross-site POST), while `t.js`'s refs keep theirs; a
//! provider's delivery to a handle without the integration answers as a bad signature; short
//! signing secrets are never shown in part. Each refusal is the error envelope and stores
//! nothing.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tenx_shared::connectors::stripe::signature;
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::{Program, human_ctx};

const MARKUP: &str = "<svg/onload=alert(1)>@evil.example";

fn config() -> tenx_shared::platform::config::Config {
    let mut c = test_config();
    // Each application from its own client address (x-forwarded-for), as the programs tests.
    c.trusted_proxy = true;
    c
}

/// `acme` with an open program on the template campaign `tpl`.
async fn open_program(app: &TestApp) {
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    Program::on(app, "acme")
        .campaign("tpl", None, "join")
        .await
        .plan("tpl", &plan)
        .await;
    let body = json!({"name": "Acme partners", "applications": "open",
        "template": {"campaignId": "tpl"}});
    let admin = app.as_role("acme", Role::Admin);
    json_of(admin.put_program(&body).await, 201).await;
}

fn applicant(email: &str) -> Value {
    json!({"name": "Jane Doe", "email": email})
}

/// The handle's applications, as its operator lists them.
async fn applications(app: &TestApp) -> Vec<Value> {
    let op = app.as_role("acme", Role::Operator);
    let page = json_of(op.list_applications("limit=100").await, 200).await;
    page["items"].as_array().unwrap().clone()
}

/// An error's body without its request id (the one part two answers never share).
async fn error_body(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let mut body: Value = resp.json().await.unwrap();
    body["error"]
        .as_object_mut()
        .expect("the error envelope")
        .remove("requestId");
    (status, body)
}

#[tokio::test]
async fn an_application_whose_email_holds_markup_is_refused_naming_email() {
    let app = spawn_with(config(), None).await;
    open_program(&app).await;
    for (i, bad) in [MARKUP, "\"<b>\"@evil.example", "ann@[127.0.0.1]"]
        .into_iter()
        .enumerate()
    {
        let hop = format!("198.51.100.{i}");
        let resp = app.apply("acme", &applicant(bad), &hop).await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(message.starts_with("email"), "{bad}: {message}");
    }
    assert!(applications(&app).await.is_empty(), "nothing stored");
    // A partner's email is held to the same rule, on create and on patch.
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "pub", "name": "Pub", "email": MARKUP});
    let message = assert_error(op.create_partner(&body).await, 400, "invalid_request").await;
    assert!(message.starts_with("email"), "{message}");
    let body = json!({"partnerId": "pub", "name": "Pub", "email": "Pub@Example.com"});
    json_of(op.create_partner(&body).await, 201).await;
    let resp = op.update_partner("pub", &json!({"email": MARKUP})).await;
    assert_error(resp, 400, "invalid_request").await;
    let partner = json_of(op.get_partner("pub").await, 200).await;
    assert_eq!(partner["email"], "Pub@example.com", "unchanged: {partner}");
}

#[tokio::test]
async fn plus_tags_case_and_unicode_forms_of_one_email_apply_once() {
    let app = spawn_with(config(), None).await;
    open_program(&app).await;
    let first = json_of(
        app.apply("acme", &applicant("ann@example.com"), "198.51.100.1")
            .await,
        202,
    )
    .await;
    let again = json_of(
        app.apply("acme", &applicant("Ann+x@Example.com"), "198.51.100.2")
            .await,
        202,
    )
    .await;
    assert_eq!(again["applicationId"], first["applicationId"]);
    // José, composed (NFC) then decomposed (NFD): one person.
    let nfc = json_of(
        app.apply("acme", &applicant("jos\u{e9}@example.com"), "198.51.100.3")
            .await,
        202,
    )
    .await;
    let nfd = json_of(
        app.apply(
            "acme",
            &applicant("jose\u{301}@example.com"),
            "198.51.100.4",
        )
        .await,
        202,
    )
    .await;
    assert_eq!(nfd["applicationId"], nfc["applicationId"]);
    let stored = applications(&app).await;
    assert_eq!(stored.len(), 2, "{stored:#?}");
    let jose = find_by(
        &Value::Array(stored),
        "applicationId",
        nfc["applicationId"].as_str().unwrap(),
    )
    .clone();
    assert_eq!(jose["email"], "jos\u{e9}@example.com", "kept in NFC");
}

#[tokio::test]
async fn a_customer_is_a_self_referral_under_its_partners_plus_tagged_email() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}, {"eventType": "lead", "flat": "1.00"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    let op = app.as_role("acme", Role::Operator);
    let email = json!({"email": "Owner+shop@Pub-One.example"});
    json_of(op.update_partner("pub-one", &email).await, 200).await;
    let ctx = human_ctx(&app, "acme", "/deal").await;
    let lead = json!({"ctx": ctx, "customerId": "cus_self", "email": "owner@pub-one.example"});
    json_of(app.lead(&lead).await, 202).await;
    let customer = json_of(op.get_customer("cus_self").await, 200).await;
    assert_eq!(customer["flags"], json!(["self_referral"]), "{customer}");
}

/// A body sent as a hostile page's form or `fetch` would: no content type, or `text/plain`.
async fn post_raw(app: &TestApp, path: &str, body: &Value, content_type: Option<&str>) -> Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("x-forwarded-for", "198.51.100.9")
        .body(body.to_string());
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_cross_site_simple_post_cannot_apply_or_leave_a_lead_but_t_js_still_gets_its_ref() {
    let app = spawn_with(config(), None).await;
    open_program(&app).await;
    let path = "/v2/public/programs/acme/applications";
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let resp = post_raw(&app, path, &applicant("ann@example.com"), ct).await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(message.contains("content-type"), "{ct:?}: {message}");
    }
    assert!(applications(&app).await.is_empty(), "nothing stored");
    let ctx = human_ctx(&app, "acme", "/join").await;
    let lead = json!({"ctx": ctx, "customerId": "cus_1", "email": "ann@example.com"});
    let resp = post_raw(&app, "/v2/public/leads", &lead, None).await;
    assert_error(resp, 400, "invalid_request").await;
    let op = app.as_role("acme", Role::Operator);
    assert_error(op.get_customer("cus_1").await, 404, "not_found").await;
    // `t.js` posts a Blob: no content type, and no preflight. Its ctx is its credential.
    let resp = post_raw(&app, "/v2/public/refs", &json!({"ctx": ctx}), None).await;
    assert_eq!(json_of(resp, 201).await["ref"].as_str().unwrap().len(), 22);
    // The form as the program page sends it still applies.
    let resp = post_raw(
        &app,
        path,
        &applicant("ann@example.com"),
        Some("application/json"),
    )
    .await;
    json_of(resp, 202).await;
}

const SECRET: &str = "whsec_current_fedcba9876543210abcd";

#[tokio::test]
async fn a_delivery_to_a_handle_without_the_integration_answers_as_a_bad_signature() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"signingSecrets": [SECRET]});
    json_of(op.put_integration("stripe", &body).await, 200).await;
    let shop = json!({"signingSecrets": [SECRET], "shopDomain": "acme.myshopify.com"});
    json_of(op.put_integration("shopify", &shop).await, 200).await;
    let event = br#"{"id":"evt_1","type":"invoice.paid","data":{"object":{}}}"#;
    let forged = signature::sign("whsec_a_guess_0000000000000000", now(), event);
    for header in [Some(forged.as_str()), None, Some("t=1,v1=00")] {
        let headers: Vec<(&str, &str)> = header
            .map(|h| ("stripe-signature", h))
            .into_iter()
            .collect();
        let with = error_body(app.stripe_event("acme", event, &headers).await).await;
        let without = error_body(app.stripe_event("ghost", event, &headers).await).await;
        assert_eq!(with.0, 400, "{with:?}");
        assert_eq!(without, with, "stripe, header {header:?}");
    }
    // Signed with a secret the handle does not have, the same: nothing tells them apart.
    let signed = signature::sign(SECRET, now(), event);
    let headers = [("stripe-signature", signed.as_str())];
    let without = error_body(app.stripe_event("ghost", event, &headers).await).await;
    assert_eq!(without.1["error"]["code"], "invalid_signature");
    let hmac = tenx_shared::connectors::shopify::sign("whsec_a_guess_0000000000000000", event);
    for headers in [vec![("x-shopify-hmac-sha256", hmac.as_str())], vec![]] {
        let with = error_body(app.shopify_event("acme", event, &headers).await).await;
        let without = error_body(app.shopify_event("ghost", event, &headers).await).await;
        assert_eq!(with.0, 400, "{with:?}");
        assert_eq!(without, with, "shopify");
    }
    let log = json_of(
        op.send_empty(Method::GET, "/integrations/stripe/events")
            .await,
        200,
    )
    .await;
    assert_eq!(log["items"], json!([]), "nothing stored");
}

#[tokio::test]
async fn a_short_signing_secret_is_shown_fully_masked() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"signingSecrets": ["whsec_ab", SECRET]});
    let saved = json_of(op.put_integration("stripe", &body).await, 200).await;
    assert_eq!(saved["signingSecrets"], json!(["…", "…abcd"]));
    let got = json_of(op.get_integration("stripe").await, 200).await;
    assert_eq!(got["signingSecrets"], json!(["…", "…abcd"]));
}
