//! The audit log covers each room's writes (issue 60): links, campaigns, webhooks, partners,
//! commissions (manual, approve/reject), the payout run, payout batches, branding and sign-ins.
//! Each entry is written in its write's transaction (`kernel::audit`); these tests ask the log
//! for it through the API, with the actor that made the write.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, json_of, spawn_app};

/// The acme log's entries of `action`, newest first.
async fn entries(app: &TestApp, action: &str) -> Vec<Value> {
    let body = json_of(
        app.as_role("acme", Role::Operator)
            .get(&format!("/audit?action={action}"))
            .await,
        200,
    )
    .await;
    body["items"].as_array().unwrap().clone()
}

/// The one entry of `action`, by the tests' JWT, naming `target_has`.
async fn one(app: &TestApp, action: &str, target_has: &str) -> Value {
    let items = entries(app, action).await;
    assert_eq!(items.len(), 1, "{action}: {items:?}");
    let e = items[0].clone();
    assert_eq!(e["actor"], json!({"type": "jwt", "id": "tester"}), "{e}");
    let target = e["target"].as_str().unwrap();
    assert!(target.contains(target_has), "{action}: {target}");
    assert!(!e["requestId"].as_str().unwrap().is_empty(), "{e}");
    e
}

#[tokio::test]
async fn audit_covers_links_and_campaigns() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    let link = json!({"destinationUrl": "https://example.com/a"});
    json_of(creator.put_link("spring", &link).await, 201).await;
    let moved = json!({"destinationUrl": "https://example.com/b"});
    json_of(creator.put_link("spring", &moved).await, 200).await;
    assert_eq!(creator.delete_link("spring").await.status(), 204);
    one(&app, "link.created", "spring").await;
    one(&app, "link.updated", "spring").await;
    one(&app, "link.deleted", "spring").await;

    let campaign = crate::campaigns::partner("alpha", "deal-alpha");
    json_of(creator.create_campaign(&campaign).await, 201).await;
    one(&app, "campaign.created", "alpha").await;
    // The campaign's primary link is a link written too (newest first).
    assert_eq!(
        entries(&app, "link.created").await[0]["target"],
        "deal-alpha"
    );
    let patch = json!({"status": "PAUSED"});
    json_of(creator.patch_campaign("alpha", &patch).await, 200).await;
    one(&app, "campaign.updated", "alpha").await;
}

#[tokio::test]
async fn audit_covers_webhooks() {
    let app = spawn_app().await;
    let admin = app.as_role("acme", Role::Admin);
    let body = json!({"endpointUrl": "https://hooks.example.com/in?secret=s3cr3t", "eventTypes": ["link.clicked"]});
    let sub = json_of(admin.create_webhook(&body).await, 201).await;
    let id = sub["subscriptionId"].as_str().unwrap();
    let created = one(&app, "webhook.created", id).await;
    // The endpoint is named by its host: its path and query may hold the receiver's secret.
    let target = created["target"].as_str().unwrap();
    assert!(
        target.contains("hooks.example.com") && !target.contains("s3cr3t"),
        "{target}"
    );
    assert_eq!(admin.delete_webhook(id).await.status(), 204);
    one(&app, "webhook.deleted", id).await;
}

#[tokio::test]
async fn audit_covers_partners_commissions_payout_runs_and_batches() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let partner = json!({"partnerId": "pay-a", "name": "Ana's Deals"});
    json_of(op.create_partner(&partner).await, 201).await;
    one(&app, "partner.created", "Ana's Deals").await;
    json_of(
        op.update_partner("pay-a", &json!({"name": "Ana Deals"}))
            .await,
        200,
    )
    .await;
    one(&app, "partner.updated", "Ana Deals").await;

    let bonus =
        json!({"partnerId": "pay-a", "amount": "5.00", "currency": "EUR", "reason": "bonus"});
    let line = json_of(op.create_manual_commission(&bonus).await, 201).await;
    let id = line["commissionId"].as_str().unwrap();
    one(&app, "commission.manual_created", id).await;
    let reject = json!({"reason": "duplicate"});
    json_of(op.review_commission(id, "reject", &reject).await, 200).await;
    one(&app, "commission.rejected", id).await;

    // A run and a batch: one entry each, however many payouts they hold.
    let method = json!({"type": "paypal", "email": "a@example.com"});
    json_of(op.put_payout_method("pay-a", &method).await, 201).await;
    crate::scenario::seed_amounts(&app, "pay-a", "EUR", &[1050, 200]).await;
    let paid = crate::payout_batches::run(&app, "run-1").await;
    assert_eq!(paid.len(), 1);
    one(&app, "payout_run.started", "every partner").await;
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "paypal"})).await,
        201,
    )
    .await;
    one(
        &app,
        "payout_batch.created",
        batch["batchId"].as_str().unwrap(),
    )
    .await;
}

#[tokio::test]
async fn audit_covers_branding() {
    let app = spawn_app().await;
    let body = json!({"name": "Acme Shoes"});
    let r = app
        .as_role("acme", Role::Admin)
        .send_json(reqwest::Method::PUT, "/branding", &body)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    one(&app, "branding.updated", "Acme Shoes").await;
}
