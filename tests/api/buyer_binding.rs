//! Issue 57: a buyer is bound only by a verified event or the buyer's own click. A partner
//! clicked its own link, then posted `POST /v2/public/leads {ctx, customerId:
//! "email:victim@example.com"}`, and the victim's later guest checkout through another
//! partner's ref paid the first partner. Ids anyone can derive from a buyer (`email:…`,
//! `shopify:…`, any id holding an address) are now refused on the public lead route; the
//! connectors bind them from verified purchases, and the first binding among those wins.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::connectors::{a_ref, conversion, deliver, fixture};
use crate::helpers::*;
use crate::scenario::{Program, human_ctx};

/// Two partners, each with a campaign paying 10 % of purchases, Stripe connected: a click's
/// ctx on each partner's link.
async fn two_partners_and_stripe(app: &TestApp) -> (String, String) {
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]});
    Program::on(app, "acme")
        .instant()
        .await
        .partner("pub-a")
        .await
        .partner("pub-b")
        .await
        .campaign("alpha", Some("pub-a"), "alpha")
        .await
        .campaign("beta", Some("pub-b"), "beta")
        .await
        .plan("alpha", &plan)
        .await
        .plan("beta", &plan)
        .await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"signingSecrets": [crate::connectors::NEW]});
    json_of(op.put_integration("stripe", &body).await, 200).await;
    (
        human_ctx(app, "acme", "/alpha").await,
        human_ctx(app, "acme", "/beta").await,
    )
}

/// A guest's Stripe checkout (no Stripe customer, only an email) of `cents` through `reference`.
fn guest_checkout(event_id: &str, email: &str, reference: &str, cents: i64) -> Value {
    let mut event = fixture("checkout_session_completed_payment");
    event["id"] = json!(event_id);
    let object = &mut event["data"]["object"];
    object["id"] = json!(format!("cs_{event_id}"));
    object["payment_intent"] = json!(format!("pi_{event_id}"));
    object["customer"] = Value::Null;
    object["customer_details"]["email"] = json!(email);
    object["metadata"]["tenx_ref"] = json!(reference);
    object["amount_total"] = json!(cents);
    event
}

/// The partner a sale's commission line went to.
async fn partner_paid_for(app: &TestApp, key: &str) -> String {
    let id = conversion(app, key).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = app.as_role("acme", Role::Viewer);
    // The events worker writes the line: wait for it.
    eventually_or(&format!("a commission line for {key}"), || async {
        let page = json_of(viewer.list_commissions("limit=100").await, 200).await;
        let items = page["items"].as_array().unwrap();
        let line = items
            .iter()
            .find(|l| l["conversionId"] == id.as_str() && l["kind"] == "conversion");
        match line {
            Some(line) => Ok(line["partnerId"].as_str().unwrap().to_owned()),
            None => Err(format!("{} other lines", items.len())),
        }
    })
    .await
}

#[tokio::test]
async fn a_partner_cannot_pre_claim_another_partners_buyer_by_a_public_lead() {
    let app = spawn_app().await;
    let (ctx_a, ctx_b) = two_partners_and_stripe(&app).await;
    let op = app.as_role("acme", Role::Operator);
    for id in [
        "email:victim@example.com",
        "EMAIL:victim@example.com",
        "shopify:115310627314723954",
        "victim@example.com",
        "import:rewardful:42",
    ] {
        let body = json!({"ctx": ctx_a, "customerId": id});
        let resp = app.lead(&body).await;
        let error = json_of(resp, 400).await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("customerId:"), "{id}: {error}");
        assert_eq!(
            op.get_customer(id).await.status(),
            404,
            "{id}: nothing bound"
        );
    }
    // An id the merchant's checkout made stays open to the buyer's own lead.
    let own = json!({"ctx": ctx_a, "customerId": "cus_NffrFeUfNV2Hib"});
    let bound = json_of(app.lead(&own).await, 202).await;
    assert_eq!(
        (bound["bound"].as_bool(), bound["partnerId"].as_str()),
        (Some(true), Some("pub-a"))
    );

    // The victim checks out as a guest through pub-b's ref: pub-b's sale and commission.
    let ref_b = a_ref(&app, &ctx_b).await;
    let first = guest_checkout("evt_guest_b", "victim@example.com", &ref_b, 10_000);
    assert_eq!(deliver(&app, &first).await["status"], "processed");
    let customer = json_of(op.get_customer("email:victim@example.com").await, 200).await;
    assert_eq!(
        (customer["partnerId"].as_str(), customer["boundBy"].as_str()),
        (Some("pub-b"), Some("stripe"))
    );
    assert_eq!(
        partner_paid_for(&app, "stripe:pi_evt_guest_b").await,
        "pub-b"
    );
}

/// The precedence among allowed writers (docs/connectors.md): the first verified binding
/// wins, so a buyer's later purchase through another partner's ref stays with the partner of
/// the buyer's first purchase (a lifetime customer), and a public lead never binds an email.
#[tokio::test]
async fn a_buyer_first_bound_by_a_verified_purchase_stays_with_its_partner() {
    let app = spawn_app().await;
    let (ctx_a, ctx_b) = two_partners_and_stripe(&app).await;
    let (ref_a, ref_b) = (a_ref(&app, &ctx_a).await, a_ref(&app, &ctx_b).await);
    let cheap = guest_checkout("evt_cheap_a", "buyer@example.com", &ref_a, 100);
    assert_eq!(deliver(&app, &cheap).await["status"], "processed");
    let later = guest_checkout("evt_later_b", "buyer@example.com", &ref_b, 20_000);
    assert_eq!(deliver(&app, &later).await["status"], "processed");
    assert_eq!(
        partner_paid_for(&app, "stripe:pi_evt_later_b").await,
        "pub-a"
    );
    let op = app.as_role("acme", Role::Operator);
    let customer = json_of(op.get_customer("email:buyer@example.com").await, 200).await;
    assert_eq!(
        (customer["partnerId"].as_str(), customer["boundBy"].as_str()),
        (Some("pub-a"), Some("stripe"))
    );
}

/// Customers a public lead bound before the rule are listed for a person to look at (the CLI's
/// `tenx ledger check` prints them); those bound by a verified purchase are not.
#[tokio::test]
async fn customers_bound_by_a_click_alone_under_a_derivable_id_are_listed() {
    use tenx_shared::customers::{Binding, repo};
    let app = spawn_app().await;
    let (ctx_a, ctx_b) = two_partners_and_stripe(&app).await;
    // As a public lead wrote it before issue 57 (the route now refuses it).
    let keys = app.state().ctx_keys.clone().unwrap();
    let claims = keys.verify(&ctx_a, now()).unwrap();
    let binding = Binding {
        claims,
        partner_id: Some(tenx_shared::domain::PartnerId::parse("pub-a").unwrap()),
        by: tenx_shared::domain::BoundBy::Ctx,
        email: None,
        flags: Vec::new(),
    };
    let id = tenx_shared::domain::CustomerId::parse("email:old@example.com").unwrap();
    let state = app.state();
    repo::bind(state.io(), &acme(), &id, binding).await.unwrap();
    let ref_b = a_ref(&app, &ctx_b).await;
    let verified = guest_checkout("evt_verified", "fine@example.com", &ref_b, 500);
    deliver(&app, &verified).await;
    let own = json!({"ctx": ctx_a, "customerId": "cus_own"});
    json_of(app.lead(&own).await, 202).await;

    let listed = repo::derivable_bound_by_ctx(app.store.as_ref(), &acme())
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(ids, ["email:old@example.com"]);
}
