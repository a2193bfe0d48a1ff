//! Claims (issue 63), the proposal's reasons complete: the coupon the sale used, the sale's risk
//! and the claiming partner's own, each in words; a risky partner's claim is a person's to judge.
//! The reasons about risk are the program's people's (`proposal.forManagers`): the partner who
//! opened the claim never reads them.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::claims::{buyer_visit, coupon_sale, now_rfc3339, open_claim, program, reasons};
use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx};

/// A click on pub-one's `/deal` converted at once by the merchant (fast, from the test's one
/// address: partner risk signals).
async fn own_sale(app: &TestApp, key: &str) {
    let ctx = human_ctx(app, "acme", "/deal").await;
    let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let op = app.as_role("acme", Role::Operator);
    json_of(op.convert_verified(&body).await, 202).await;
}

/// pub-one's risk once `n` of its conversion lines count (the read keeps the snapshot claims use).
async fn risk_of_one(app: &TestApp, n: u64) -> Value {
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or(&format!("pub-one's risk to count {n} lines"), || async {
        let risk = json_of(viewer.partner_risk("pub-one").await, 200).await;
        if risk["conversionsConsidered"] == json!(n) {
            Ok(risk)
        } else {
            Err(risk.to_string())
        }
    })
    .await
}

/// The same evidence that approves for a clean partner (the buyer's own visit, carried by the
/// checkout's ref) is `unsure` once the partner's own risk is high, and the reasons say why in
/// words: the coupon the sale used and whose it was, the sale's risk, the partner's signals.
#[tokio::test]
async fn a_proposal_weighs_the_coupon_the_sales_risk_and_the_partners() {
    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    let (late_ctx, late_ref) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    crate::commissions::ledger(&app, 1).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let at = now_rfc3339();

    // Clean partner: approve, with every part of the answer in words.
    assert_eq!(risk_of_one(&app, 0).await["score"], 0);
    let body = json!({"orderId": "order-1", "occurredAt": at, "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "approve", "{claim}");
    let words = reasons(&claim);
    for part in [
        "A signed click on your link deal",
        "before the sale",
        "The click is tied to this buyer",
        "credited to Ana's shop",
        "The sale used coupon code SAVE20 (a code of Ana's shop), with no click of that partner.",
    ] {
        assert!(words.contains(part), "{part}: {words}");
    }
    assert!(claim["proposal"].get("forManagers").is_none(), "{claim}");
    let managers = for_managers(&app, &claim).await;
    for part in [
        "The sale carries no risk signal.",
        "The partner's risk shows no signal (score 0).",
    ] {
        assert!(managers.contains(part), "{part}: {managers}");
    }

    // pub-one's own sales, each seconds after its click, all from one address: score 60.
    own_sale(&app, "own-1").await;
    own_sale(&app, "own-2").await;
    coupon_sale(&app, "order-2", Some(&late_ref)).await;
    crate::commissions::ledger(&app, 4).await;
    let risk = risk_of_one(&app, 2).await;
    assert_eq!(risk["score"], 60, "{risk}");
    let body = json!({"orderId": "order-2", "occurredAt": at, "evidence": {"ctx": late_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "unsure", "{claim}");
    let words = reasons(&claim);
    assert!(
        words.contains("The click is tied to this buyer"),
        "the evidence is as good: {words}"
    );
    assert!(
        !words.to_lowercase().contains("risk"),
        "never to the partner: {words}"
    );
    let again = json_of(
        one.get(&format!("/claims/{}", claim["claimId"].as_str().unwrap()))
            .await,
        200,
    );
    assert!(again.await["proposal"].get("forManagers").is_none());
    let managers = for_managers(&app, &claim).await;
    assert!(
        managers.contains("The partner's risk score is 60 (")
            && managers.contains("many sales came seconds after their clicks")
            && managers.contains("several sales came from one address"),
        "{managers}"
    );
    assert!(
        !managers.contains("fast_conversions"),
        "words, not codes: {managers}"
    );
}

/// The claim's reasons about risk, as the program's operator reads them.
async fn for_managers(app: &TestApp, claim: &Value) -> String {
    let op = app.as_role("acme", Role::Operator);
    let path = format!("/claims/{}", claim["claimId"].as_str().unwrap());
    let read = json_of(op.get(&path).await, 200).await;
    read["proposal"]["forManagers"]
        .as_array()
        .unwrap_or_else(|| panic!("no forManagers: {read}"))
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The conversion whose idempotency key is `key`: its id, and the partner its line credits.
async fn credited(app: &TestApp, key: &str) -> (String, Option<String>) {
    let viewer = app.as_role("acme", Role::Viewer);
    let page = json_of(viewer.list_conversions("limit=100").await, 200).await;
    let id = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["idempotencyKey"] == key)
        .map(|c| c["conversionId"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no conversion {key}"));
    let lines = json_of(viewer.get("/commissions?limit=100").await, 200).await;
    let partner = lines["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["conversionId"] == json!(id) && l["kind"] == "conversion")
        .map(|l| l["partnerId"].as_str().unwrap().to_owned());
    (id, partner)
}

/// A purchase of 100.00 EUR by bound customer `buyer`, as order `order` (its checkout carrying
/// `reference` when given).
async fn customer_sale(app: &TestApp, order: &str, reference: Option<&str>) -> reqwest::Response {
    let mut sale = json!({"customerId": "buyer-7", "idempotencyKey": order,
        "eventType": "purchase", "value": "100.00", "currency": "EUR"});
    if let Some(r) = reference {
        sale["metadata"] = json!({"ref": r});
    }
    app.as_role("acme", Role::Operator)
        .convert_verified(&sale)
        .await
}

/// An approval that says `binding: "move"` binds the buyer (bound to pub-two by its coupon) to
/// pub-one from then on: who it was bound to, by what and when, kept on the customer, audited,
/// signed in the decision. A sale racing the decision is credited to one partner or the other,
/// never both and never lost from the buyer's counts; every sale after it is pub-one's. Bad
/// `binding` values name the field and write nothing.
#[tokio::test]
async fn an_approval_can_move_the_buyers_binding_raced_by_a_sale() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let bind = json!({"customerId": "buyer-7", "couponCode": "SAVE20"});
    let bound = json_of(op.bind_customer(&bind).await, 201).await;
    assert_eq!(
        (&bound["partnerId"], &bound["boundBy"]),
        (&json!("pub-two"), &json!("coupon"))
    );
    let before = json_of(op.get("/customers?partnerId=pub-two").await, 200).await;
    assert_eq!(before["items"][0]["customerId"], "buyer-7", "{before}");
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    json_of(customer_sale(&app, "order-1", Some(&reference)).await, 202).await;
    crate::commissions::ledger(&app, 1).await;
    assert_eq!(
        credited(&app, "order-1").await.1.as_deref(),
        Some("pub-two")
    );
    let one = as_partner(&app, "acme", "pub-one").await;
    let body = json!({"orderId": "order-1", "occurredAt": now_rfc3339(),
        "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "approve", "{claim}");
    let words = reasons(&claim);
    assert!(
        words.contains("The buyer was bound to Ana's shop by a coupon code on"),
        "{words}"
    );
    let id = claim["claimId"].as_str().unwrap().to_owned();

    // Bad input: named, nothing decided.
    for (body, field) in [
        (
            json!({"decision": "approve", "reason": "r", "binding": "sideways"}),
            "binding",
        ),
        (
            json!({"decision": "deny", "reason": "r", "binding": "move"}),
            "binding",
        ),
    ] {
        let message = assert_error(
            crate::claims::decide(&op, &id, &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.starts_with(field), "{message}");
    }
    let still = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(still["status"], "open");

    // The decision and a sale of the same buyer, at once.
    let approve = json!({"decision": "approve", "reason": "The reader's own visit.",
        "binding": "move"});
    let (decided, racing) = tokio::join!(
        crate::claims::decide(&op, &id, &approve),
        customer_sale(&app, "order-2", None)
    );
    let decided = json_of(decided, 200).await;
    json_of(racing, 202).await;
    let moved_words = decided["decision"]["binding"].as_str().unwrap_or_default();
    assert!(
        moved_words.starts_with("Customer buyer-7 moved from Ana's shop to Bo's blog on"),
        "{decided}"
    );
    crate::commissions::ledger(&app, 4).await;
    let (_, raced_to) = credited(&app, "order-2").await;
    assert!(
        matches!(raced_to.as_deref(), Some("pub-one" | "pub-two")),
        "the racing sale is credited to one partner: {raced_to:?}"
    );

    let customer = json_of(op.get("/customers/buyer-7").await, 200).await;
    assert_eq!(
        (
            &customer["partnerId"],
            &customer["campaignId"],
            &customer["boundBy"]
        ),
        (&json!("pub-one"), &json!("alpha"), &json!("claim")),
        "{customer}"
    );
    let moved = &customer["moved"];
    assert_eq!(
        (
            &moved["fromPartnerId"],
            &moved["fromCampaignId"],
            &moved["fromBoundBy"]
        ),
        (&json!("pub-two"), &json!("beta"), &json!("coupon")),
        "{customer}"
    );
    assert_eq!(moved["fromBoundAt"], bound["boundAt"]);
    assert_eq!(moved["claimId"], json!(id));
    assert!(moved["movedBy"].is_string(), "{customer}");
    assert_eq!(
        customer["conversionCount"], 2,
        "no sale's count is lost: {customer}"
    );

    // Every sale after the move is pub-one's; the move is audited.
    json_of(customer_sale(&app, "order-3", None).await, 202).await;
    crate::commissions::ledger(&app, 5).await;
    assert_eq!(
        credited(&app, "order-3").await.1.as_deref(),
        Some("pub-one")
    );
    let audit = json_of(op.get("/audit?action=customer.moved").await, 200).await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(
        entries[0]["target"]
            .as_str()
            .unwrap()
            .contains("from partner pub-two to partner pub-one"),
        "{audit}"
    );
    let listed = json_of(op.get("/customers?partnerId=pub-one").await, 200).await;
    assert_eq!(listed["items"][0]["customerId"], "buyer-7", "{listed}");
    let left = json_of(op.get("/customers?partnerId=pub-two").await, 200).await;
    assert_eq!(left["items"], json!([]), "{left}");
}

/// An approved claim's line is in the partner's statement with its claim and signed decision;
/// the statement verifies (`tenx verify`'s checks), a line whose claim was changed or whose
/// decision was taken away does not, and the lines without a claim (as every statement before
/// them) verify as before.
#[tokio::test]
async fn an_approved_claims_line_is_in_the_statement_and_verifies() {
    use tenx_shared::payouts::verify;
    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    own_sale(&app, "own-1").await;
    crate::commissions::ledger(&app, 2).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let body = json!({"orderId": "order-1", "occurredAt": now_rfc3339(),
        "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let id = claim["claimId"].as_str().unwrap().to_owned();
    let op = app.as_role("acme", Role::Operator);
    let approve = json!({"decision": "approve", "reason": "The reader's own visit."});
    let decided = json_of(crate::claims::decide(&op, &id, &approve).await, 200).await;
    crate::commissions::ledger(&app, 4).await;

    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("claims-1", &period).await, 201).await;
    let payout = run["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partnerId"] == "pub-one")
        .unwrap_or_else(|| panic!("{run}"));
    let pid = payout["payoutId"].as_str().unwrap();
    let statement = json_of(op.statement(pid, "json").await, 200).await;
    let lines = statement["lines"].as_array().unwrap();
    let at = lines
        .iter()
        .position(|l| l["kind"] == "claim")
        .unwrap_or_else(|| panic!("{statement}"));
    let line = &lines[at];
    assert_eq!(line["claimId"], json!(id), "{line}");
    assert_eq!(line["claimDecision"], decided["decision"]["jws"], "{line}");
    assert_eq!(line["commissionId"], decided["decision"]["commissionId"]);
    let plain = lines.iter().find(|l| l["kind"] == "conversion").unwrap();
    assert_eq!(plain.get("claimId"), None, "{plain}");

    let keys = json_of(
        app.client
            .get(app.url("/v2/public/keys"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let jwks: tenx_shared::domain::proof::jws::Jwks = serde_json::from_value(keys).unwrap();
    verify::statement(&statement, &jwks).expect("the statement verifies");
    let fails = |doc: &Value| verify::statement(doc, &jwks).unwrap_err().0;
    let mut other_claim = statement.clone();
    other_claim["lines"][at]["claimId"] = json!("clm_0123456789abcdef0123456789abcdef");
    assert!(
        fails(&other_claim).starts_with(&format!("line {at}: claim decision")),
        "{}",
        fails(&other_claim)
    );
    let mut stripped = statement.clone();
    stripped["lines"][at]
        .as_object_mut()
        .unwrap()
        .remove("claimDecision");
    assert!(
        fails(&stripped).contains("needs both"),
        "{}",
        fails(&stripped)
    );
    // As a statement made before claims were on them: no claim fields, still verifies.
    let mut older = statement.clone();
    let line = older["lines"][at].as_object_mut().unwrap();
    line.remove("claimId");
    line.remove("claimDecision");
    verify::statement(&older, &jwks).expect("an older statement verifies");
}
