//! Partner risk (issue 46): `GET …/partners/{partnerId}/risk` judges a partner on what it
//! brought (its recent conversion lines, its daily clicks), and a plan's `holdAboveRisk` holds
//! its new commissions while the score is above it, naming the signals.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx, two_partners};

/// Two partners paid 5.00 a purchase, held no day: `pub-one` on `/deal`, `pub-two` on `/offer`.
pub(crate) async fn program(app: &TestApp) {
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "flat": "5.00"}]});
    two_partners(app, &plan, Some(&plan)).await;
}

/// A click on `slug` converted at once by the merchant: a conversion id.
async fn sale(app: &TestApp, slug: &str, key: &str) -> String {
    let ctx = human_ctx(app, "acme", &format!("/{slug}")).await;
    let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let op = app.as_role("acme", Role::Operator);
    json_of(op.convert_verified(&body).await, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn signal<'a>(risk: &'a Value, code: &str) -> &'a Value {
    crate::helpers::find_by(&risk["signals"], "code", code)
}

/// The partner's risk once its lines (and their reversals) are in the ledger.
async fn risk_when(app: &TestApp, partner: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or(&format!("{partner}'s risk to get there"), || async {
        let risk = json_of(viewer.partner_risk(partner).await, 200).await;
        if ready(&risk) {
            Ok(risk)
        } else {
            Err(risk.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn a_partners_fast_conversions_from_one_address_are_signalled_and_a_clean_one_scores_zero() {
    let app = spawn_app().await;
    program(&app).await;
    let mut conversions = Vec::new();
    for i in 0..5 {
        conversions.push(sale(&app, "deal", &format!("o-{i}")).await);
    }
    let risk = risk_when(&app, "pub-one", |r| r["conversionsConsidered"] == 5).await;
    // Every click came from this test's one address and converted within a second.
    let fast = signal(&risk, "fast_conversions");
    assert_eq!((&fast["count"], &fast["fired"]), (&json!(5), &json!(true)));
    assert!(conversions.contains(&fast["examples"][0].as_str().unwrap().to_owned()));
    let reuse = signal(&risk, "conversion_ip_reuse");
    assert_eq!(
        (&reuse["count"], &reuse["fired"]),
        (&json!(5), &json!(true))
    );
    let example = reuse["examples"][0].as_str().unwrap();
    assert!(
        example.ends_with(": 5 conversions from 5 clicks"),
        "{example}"
    );
    assert!(
        !example.contains("127.0.0.1"),
        "an address is never answered"
    );
    for quiet in ["self_referral", "click_spike", "high_reversal_rate"] {
        assert_eq!(signal(&risk, quiet)["fired"], false, "{quiet}: {risk:#}");
    }
    assert_eq!(risk["score"], 60, "fast 30 + address reuse 30");
    // The partner beside it brought nothing: every signal answered, none fired.
    let clean = json_of(
        app.as_role("acme", Role::Viewer)
            .partner_risk("pub-two")
            .await,
        200,
    )
    .await;
    assert_eq!(
        (&clean["score"], &clean["conversionsConsidered"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(clean["signals"].as_array().unwrap().len(), 11);
    // A reversal of one in five is the threshold's 20 %.
    let op = app.as_role("acme", Role::Operator);
    let reason = json!({"reason": "refund"});
    json_of(op.reverse(&conversions[2], &reason).await, 201).await;
    let risk = risk_when(&app, "pub-one", |r| {
        signal(r, "high_reversal_rate")["count"] == 1
    })
    .await;
    let reversals = signal(&risk, "high_reversal_rate");
    assert_eq!(reversals["fired"], true, "{risk:#}");
    assert_eq!(reversals["examples"], json!([conversions[2]]));
    assert_eq!(risk["score"], 90);
}

#[tokio::test]
async fn a_day_of_clicks_far_above_the_partners_own_is_a_spike() {
    let app = spawn_app().await;
    program(&app).await;
    let headers = [("user-agent", crate::scenario::IPHONE)];
    for _ in 0..50 {
        let resp = app.visit(Method::GET, "acme", "/offer", &headers).await;
        assert_eq!(resp.status(), 302);
    }
    let risk = risk_when(&app, "pub-two", |r| signal(r, "click_spike")["count"] == 1).await;
    let spike = signal(&risk, "click_spike");
    assert_eq!(spike["fired"], true);
    let today = tenx_shared::platform::time::now_rfc3339()[..10].to_owned();
    assert_eq!(spike["examples"], json!([format!("{today}: 50 clicks")]));
    assert_eq!(risk["score"], 25);
    // The other partner's clicks are its own.
    let other = json_of(
        app.as_role("acme", Role::Viewer)
            .partner_risk("pub-one")
            .await,
        200,
    )
    .await;
    assert_eq!(signal(&other, "click_spike")["count"], 0);
}

#[tokio::test]
async fn a_plan_holds_new_commissions_above_a_risk_score_naming_the_signals() {
    let app = spawn_app().await;
    program(&app).await;
    for i in 0..2 {
        sale(&app, "deal", &format!("o-{i}")).await;
    }
    let risk = risk_when(&app, "pub-one", |r| r["conversionsConsidered"] == 2).await;
    assert_eq!(risk["score"], 60);
    let op = app.as_role("acme", Role::Operator);
    let mut plan = json!({"currency": "EUR", "holdDays": 0, "holdAboveRisk": 59, "rules": [
        {"eventType": "purchase", "flat": "5.00"}]});
    let saved = json_of(op.put_plan("alpha", &plan).await, 200).await;
    assert_eq!(saved["holdAboveRisk"], 59);
    let held = sale(&app, "deal", "o-held").await;
    // A threshold the score does not pass holds nothing.
    plan["holdAboveRisk"] = json!(60);
    json_of(op.put_plan("alpha", &plan).await, 200).await;
    let kept = sale(&app, "deal", "o-kept").await;
    let lines = crate::commissions::ledger(&app, 4).await;
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l["conversionId"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {lines:#?}"))
            .clone()
    };
    let held = line(&held);
    assert_eq!(held["status"], "held", "{held:#}");
    let reasons = held["reasons"].as_array().unwrap();
    for r in [
        "partner_risk_fast_conversions",
        "partner_risk_conversion_ip_reuse",
    ] {
        assert!(reasons.contains(&json!(r)), "{r}: {held:#}");
    }
    let kept = line(&kept);
    assert!(
        !kept["reasons"].to_string().contains("partner_risk"),
        "{kept:#}"
    );
    crate::commissions::no_drift(&app).await;
}

#[tokio::test]
async fn risk_is_a_managers_read_of_its_own_handles_partners() {
    let app = spawn_app().await;
    program(&app).await;
    let viewer = app.as_role("acme", Role::Viewer);
    assert_error(viewer.partner_risk("nobody").await, 404, "not_found").await;
    assert_error(
        viewer.partner_risk("Not A Partner!").await,
        400,
        "invalid_request",
    )
    .await;
    // Another handle's caller never reaches acme's partners.
    let other = app.as_role("globex", Role::Viewer);
    assert_eq!(other.partner_risk("pub-one").await.status(), 404);
    // A partner token reads its own data, never its risk.
    let op = app.as_role("acme", Role::Operator);
    let partner = as_partner(&app, "acme", "pub-one").await;
    assert_eq!(partner.partner_risk("pub-one").await.status(), 403);
    // A threshold that is not a score is refused, naming it.
    let plan = json!({"currency": "EUR", "holdAboveRisk": 100, "rules": [
        {"eventType": "purchase", "flat": "5.00"}]});
    let message = assert_error(op.put_plan("alpha", &plan).await, 400, "invalid_request").await;
    assert!(message.contains("holdAboveRisk"), "{message}");
}

#[tokio::test]
async fn a_customer_with_the_partners_own_email_is_a_self_referral() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let email = json!({"email": "owner@pub-one.example"});
    json_of(
        op.send_json(Method::PATCH, "/partners/pub-one", &email)
            .await,
        200,
    )
    .await;
    let ctx = human_ctx(&app, "acme", "/deal").await;
    let lead = json!({"ctx": ctx, "customerId": "cus_self", "email": "Owner@Pub-One.example"});
    json_of(app.lead(&lead).await, 202).await;
    let sale = json!({"customerId": "cus_self", "idempotencyKey": "s-1", "eventType": "purchase",
        "value": "100.00", "currency": "EUR"});
    json_of(op.convert_verified(&sale).await, 202).await;
    let risk = risk_when(&app, "pub-one", |r| {
        signal(r, "self_referral")["fired"] == true
    })
    .await;
    let own = signal(&risk, "self_referral");
    assert_eq!((&own["count"], &own["fired"]), (&json!(1), &json!(true)));
    assert_eq!(own["examples"], json!(["cus_self"]));
}
