//! Claims (issue 63): a partner's "my sale was not tracked", proposed from the evidence 10x
//! holds, decided once with a signed decision, one `claim` line however often it is approved.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::endpoints::As;
use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx};

/// `pub-one`'s name, as the claims' words say it.
pub(crate) const ONE_NAME: &str = "Bo's blog";
/// `pub-two`'s name.
pub(crate) const TWO_NAME: &str = "Ana's shop";

/// `pub-one` ([`ONE_NAME`]) on `/deal` (`alpha`), `pub-two` ([`TWO_NAME`]) on `/offer`
/// (`beta`), both paying 10% of a purchase; `pub-two` hands out coupon `SAVE20` (a coupon
/// site's favourite).
pub(crate) async fn program(app: &TestApp) {
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}]});
    crate::scenario::Program::on(app, "acme")
        .instant()
        .await
        .named_partner("pub-one", ONE_NAME)
        .await
        .campaign("alpha", Some("pub-one"), "deal")
        .await
        .named_partner("pub-two", TWO_NAME)
        .await
        .campaign("beta", Some("pub-two"), "offer")
        .await
        .plan("alpha", &plan)
        .await
        .plan("beta", &plan)
        .await;
    let op = app.as_role("acme", Role::Operator);
    let code = json!({"code": "SAVE20", "campaignId": "beta"});
    json_of(op.create_coupon("pub-two", &code).await, 201).await;
}

/// A purchase of 100.00 EUR by coupon `SAVE20` (so `pub-two`'s), as order `order`, whose
/// checkout carried `reference` when given.
pub(crate) async fn coupon_sale(app: &TestApp, order: &str, reference: Option<&str>) -> Value {
    let mut sale = json!({"couponCode": "SAVE20", "idempotencyKey": order,
        "eventType": "purchase", "value": "100.00", "currency": "EUR"});
    if let Some(r) = reference {
        sale["metadata"] = json!({"ref": r});
    }
    let op = app.as_role("acme", Role::Operator);
    let receipt = json_of(op.convert_verified(&sale).await, 202).await;
    assert_eq!(receipt["campaignId"], "beta", "{receipt}");
    receipt
}

/// The buyer's own visit through `pub-one`'s link: its ctx (as `t.js` keeps it) and the
/// checkout ref made from it.
pub(crate) async fn buyer_visit(app: &TestApp) -> (String, String) {
    let ctx = human_ctx(app, "acme", "/deal").await;
    let made = json_of(app.create_ref(&json!({"ctx": ctx})).await, 201).await;
    let reference = made["ref"].as_str().expect("a ref").to_owned();
    (ctx, reference)
}

pub(crate) fn now_rfc3339() -> String {
    tenx_shared::domain::time::unix_to_rfc3339(now())
}

pub(crate) async fn open_claim(who: &As<'_>, partner: &str, body: &Value) -> reqwest::Response {
    who.send_json(Method::POST, &format!("/partners/{partner}/claims"), body)
        .await
}

pub(crate) async fn decide(who: &As<'_>, claim: &str, body: &Value) -> reqwest::Response {
    who.send_json(Method::POST, &format!("/claims/{claim}/decide"), body)
        .await
}

pub(crate) fn reasons(claim: &Value) -> String {
    claim["proposal"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" | ")
}

pub(crate) async fn claim_count(app: &TestApp) -> usize {
    let op = app.as_role("acme", Role::Operator);
    let listed = json_of(op.get("/claims").await, 200).await;
    listed["items"].as_array().unwrap().len()
}

/// The proposals: the buyer's own visit through the partner's link, carried by the checkout's
/// ref, approves a sale a coupon took; the partner's own click alone never does; a foreign or
/// forged ctx denies; bad input names its field and writes nothing; a partner opens and reads
/// only its own claims.
#[tokio::test]
async fn claims_are_proposed_from_the_evidence_10x_holds() {
    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    // pub-one clicking its own link, and a visitor of pub-two's, before the sales.
    let own_click = human_ctx(&app, "acme", "/deal").await;
    let foreign = human_ctx(&app, "acme", "/offer").await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    coupon_sale(&app, "order-2", None).await;
    coupon_sale(&app, "order-3", None).await;
    coupon_sale(&app, "order-4", None).await;
    crate::commissions::ledger(&app, 4).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let at = now_rfc3339();

    // The buyer's own visit carried pub-one's ctx, and the checkout its ref: approve.
    let body = json!({"orderId": "order-1", "occurredAt": at,
        "evidence": {"ctx": buyer_ctx, "note": "My reader bought it with a coupon."}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert!(
        claim["claimId"].as_str().unwrap().starts_with("clm_"),
        "{claim}"
    );
    assert_eq!(claim["status"], "open");
    assert!(claim["deadlineAt"].is_string());
    assert_eq!(claim["proposal"]["verdict"], "approve", "{claim}");
    let words = reasons(&claim);
    assert!(words.contains("checkout carried its ref"), "{words}");
    assert!(words.contains("credited to Ana's shop"), "{words}");
    assert!(words.contains("coupon code"), "{words}");

    // pub-one's own click on its own link, nothing tying it to the buyer: never approve.
    let body = json!({"orderId": "order-2", "occurredAt": at, "evidence": {"ctx": own_click}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "unsure", "{claim}");
    assert!(reasons(&claim).contains("Only your own click"), "{claim}");

    // A click on pub-two's link, and a forged ctx: deny.
    let body = json!({"orderId": "order-3", "occurredAt": at, "evidence": {"ctx": foreign}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "deny", "{claim}");
    assert!(
        reasons(&claim).contains("on a link of Ana's shop, not yours"),
        "{claim}"
    );
    let mut forged = buyer_ctx.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let body = json!({"orderId": "order-4", "occurredAt": at, "evidence": {"ctx": forged}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "deny", "{claim}");
    assert!(reasons(&claim).contains("does not verify"), "{claim}");

    // An order 10x never saw: accepted, unsure, the amount the merchant's to set.
    let body = json!({"orderId": "order-unseen", "occurredAt": at});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "unsure", "{claim}");
    assert!(
        reasons(&claim).contains("has not seen this order"),
        "{claim}"
    );
    assert_eq!(claim_count(&app).await, 5);

    // Bad input: named, nothing written.
    let future = tenx_shared::domain::time::unix_to_rfc3339(now() + 86_400);
    let cases = [
        (
            json!({"orderId": "order-9", "occurredAt": future}),
            "occurredAt",
        ),
        (json!({"orderId": "order-1", "occurredAt": at}), "orderId"),
        (json!({"orderId": "order-9"}), "occurredAt"),
        (
            json!({"orderId": "a", "customerId": "b", "occurredAt": at}),
            "orderId",
        ),
        (
            json!({"conversionId": "nope", "occurredAt": at}),
            "conversionId",
        ),
        (
            json!({"orderId": "order-9", "occurredAt": at, "evidence": {"clickId": "x"}}),
            "evidence.clickId",
        ),
    ];
    for (body, field) in cases {
        let message = assert_error(
            open_claim(&one, "pub-one", &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    // The same sale by its conversion id is the same open claim.
    let order_1 = json_of(
        app.as_role("acme", Role::Viewer)
            .list_conversions("limit=100")
            .await,
        200,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["idempotencyKey"] == "order-1")
        .map(|c| c["conversionId"].clone())
        .expect("order-1's conversion");
    let again = json!({"conversionId": order_1, "occurredAt": at});
    let message = assert_error(
        open_claim(&one, "pub-one", &again).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("conversionId"), "{message}");
    // A ctx of another handle.
    let creator = app.as_role("globex", Role::Creator);
    let link = json!({"destinationUrl": "https://globex.example.com/"});
    assert_eq!(creator.put_link("x", &link).await.status().as_u16(), 201);
    let elsewhere = human_ctx(&app, "globex", "/x").await;
    let body = json!({"orderId": "order-9", "occurredAt": at, "evidence": {"ctx": elsewhere}});
    let message = assert_error(
        open_claim(&one, "pub-one", &body).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("evidence.ctx"), "{message}");
    assert_eq!(claim_count(&app).await, 5, "nothing written");

    // A partner claims and reads only for itself.
    let body = json!({"orderId": "order-2", "occurredAt": at});
    assert_eq!(open_claim(&one, "pub-two", &body).await.status(), 404);
    let two = as_partner(&app, "acme", "pub-two").await;
    let theirs = json_of(
        open_claim(
            &two,
            "pub-two",
            &json!({"orderId": "order-1", "occurredAt": at}),
        )
        .await,
        201,
    )
    .await;
    let id = theirs["claimId"].as_str().unwrap();
    assert_eq!(one.get(&format!("/claims/{id}")).await.status(), 404);
    assert_eq!(
        one.get(&format!("/partners/pub-two/claims/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(one.get("/partners/pub-two/claims").await.status(), 404);
    let mine = json_of(one.get("/claims").await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5, "{mine}");
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["partnerId"] == "pub-one")
    );
    assert_eq!(one.get("/claims?partnerId=pub-two").await.status(), 404);
    let op = app.as_role("acme", Role::Viewer);
    let open_two = json_of(op.get("/claims?status=open&partnerId=pub-two").await, 200).await;
    assert_eq!(open_two["items"].as_array().unwrap().len(), 1, "{open_two}");
    // The ctx itself is not answered back.
    assert_eq!(theirs["evidence"].get("ctx"), None);
    let first = &mine["items"].as_array().unwrap()[4];
    assert_eq!(first["evidence"]["ctx"], "(kept)", "{first}");
    assert_error(
        app.as_role("acme", Role::Viewer)
            .get("/claims?status=maybe")
            .await,
        400,
        "invalid_request",
    )
    .await;
}

/// A partner opens at most `MAX_PER_DAY` claims a day.
#[tokio::test]
async fn claims_are_limited_per_partner_per_day() {
    let app = spawn_app().await;
    program(&app).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let at = now_rfc3339();
    for i in 0..tenx_shared::claims::MAX_PER_DAY {
        let body = json!({"orderId": format!("o-{i}"), "occurredAt": at});
        json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    }
    let body = json!({"orderId": "o-last", "occurredAt": at});
    let message = assert_error(
        open_claim(&one, "pub-one", &body).await,
        429,
        "rate_limited",
    )
    .await;
    assert_eq!(
        message,
        format!(
            "{ONE_NAME} opened as many claims today as a partner may ({}); try tomorrow.",
            tenx_shared::claims::MAX_PER_DAY
        )
    );
    let op = app.as_role("acme", Role::Operator);
    let listed = json_of(op.get("/claims?limit=100").await, 200).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len() as i64,
        tenx_shared::claims::MAX_PER_DAY
    );
}

/// Approving the buyer's claim writes ONE `claim` line by the plan at the sale, even when two
/// approvals race, and takes pub-two's line back; a second decision is `409 invalid_state`;
/// the decision is signed and a changed one does not verify; a denial writes no line.
#[tokio::test]
async fn an_approval_writes_one_claim_line_and_reassigns_the_sale() {
    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    coupon_sale(&app, "order-2", None).await;
    crate::commissions::ledger(&app, 2).await;
    let op = app.as_role("acme", Role::Operator);
    let email = json!({"email": "one@partner.example"});
    json_of(op.update_partner("pub-one", &email).await, 200).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let at = now_rfc3339();
    let body = json!({"orderId": "order-1", "occurredAt": at, "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let id = claim["claimId"].as_str().unwrap().to_owned();

    let approve =
        json!({"decision": "approve", "reason": "The checkout carried the partner's ref."});
    let (a, b) = tokio::join!(decide(&op, &id, &approve), decide(&op, &id, &approve));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let decided = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(decided["status"], "approved", "{decided}");
    assert_eq!(decided["decision"]["decision"], "approve");
    assert_eq!(decided["decision"]["amount"], "10.00");
    assert_error(decide(&op, &id, &approve).await, 409, "invalid_state").await;

    let lines = crate::commissions::ledger(&app, 4).await;
    let claims: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "claim").collect();
    assert_eq!(claims.len(), 1, "{lines:#?}");
    assert_eq!(
        (&claims[0]["partnerId"], &claims[0]["amount"]),
        (&json!("pub-one"), &json!("10.00"))
    );
    let back: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "adjustment").collect();
    assert_eq!(back.len(), 1, "{lines:#?}");
    assert_eq!(
        (&back[0]["partnerId"], &back[0]["amount"]),
        (&json!("pub-two"), &json!("-10.00"))
    );

    // The decision verifies offline; a changed one does not.
    let jwks = app.state().signing().unwrap().jwks();
    let what = tenx_shared::payouts::verify::any(&decided, &jwks).expect("verifies");
    assert_eq!(what, "claim decision");
    let mut changed = decided["decision"].clone();
    changed["amount"] = json!("100.00");
    assert!(tenx_shared::payouts::verify::any(&changed, &jwks).is_err());

    // A denial: no line; the partner reads its decided claim.
    let body = json!({"orderId": "order-2", "occurredAt": at});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let denied_id = claim["claimId"].as_str().unwrap();
    let deny =
        json!({"decision": "deny", "reason": "No click of the partner's reached this buyer."});
    let denied = json_of(decide(&op, denied_id, &deny).await, 200).await;
    assert_eq!(denied["status"], "denied");
    let seen = json_of(
        one.get(&format!("/partners/pub-one/claims/{denied_id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(seen["decision"]["decision"], "deny", "{seen}");
    assert_eq!(crate::commissions::ledger(&app, 4).await.len(), 4);
    // The partner is mailed each decision, once.
    let sent = app.wait_for_mail(2).await;
    let mut decided: Vec<(&str, &str)> = sent
        .iter()
        .filter(|m| m.kind == "claim_decided")
        .map(|m| (m.to.as_str(), m.subject.as_str()))
        .collect();
    decided.sort_unstable();
    assert_eq!(
        decided,
        [
            ("one@partner.example", "Your commission claim was approved"),
            ("one@partner.example", "Your commission claim was declined"),
        ]
    );
    // A partner does not decide.
    assert_eq!(decide(&one, &id, &approve).await.status().as_u16(), 403);
    // Opened and decided claims are in the audit log.
    let audit = json_of(op.get("/audit?action=claim.approved").await, 200).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// A decision whose transaction fails is not half made: the claim stays open with no line, and
/// the retry decides it, once.
#[tokio::test]
async fn a_decision_cut_by_a_failure_is_finished_by_its_retry() {
    let (app, switch) = spawn_with_failing_queue().await;
    crate::scenario::partner(&app, "pub-one").await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"orderId": "order-x", "occurredAt": now_rfc3339()});
    let claim = json_of(open_claim(&op, "pub-one", &body).await, 201).await;
    let id = claim["claimId"].as_str().unwrap().to_owned();
    let approve = json!({"decision": "approve", "reason": "Shown the order.", "amount": "7.50",
        "currency": "EUR"});
    switch.fail_transacts_after(0, 1);
    assert_eq!(decide(&op, &id, &approve).await.status().as_u16(), 503);
    let still = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(still["status"], "open", "{still}");
    let line_id = tenx_shared::domain::CommissionId::of_claim(
        &tenx_shared::domain::ClaimId::parse(&id).unwrap(),
    );
    let store = app.state().store.clone();
    assert!(
        tenx_shared::ledger::get(store.as_ref(), &acme(), &line_id)
            .await
            .unwrap()
            .is_none()
    );
    let decided = json_of(decide(&op, &id, &approve).await, 200).await;
    assert_eq!(decided["decision"]["amount"], "7.50");
    assert_error(decide(&op, &id, &approve).await, 409, "invalid_state").await;
    let line = tenx_shared::ledger::get(store.as_ref(), &acme(), &line_id)
        .await
        .unwrap()
        .expect("the line");
    assert_eq!(
        (line.amount_minor, line.kind.as_str()),
        (Some(750), "claim")
    );
}

/// Past the deadline the program's rule decides: `approve` only what was proposed `approve`,
/// the rest denied; each decision says it was overdue.
#[tokio::test]
async fn overdue_claims_are_decided_by_the_programs_rule() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let settings =
        json!({"name": "Acme partners", "claims": {"deadlineDays": 1, "onOverdue": "approve"}});
    let admin = app.as_role("acme", Role::Admin);
    json_of(admin.put_program(&settings).await, 201).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    crate::commissions::ledger(&app, 1).await;
    let at = now_rfc3339();
    let tied = json!({"orderId": "order-1", "occurredAt": at, "evidence": {"ctx": buyer_ctx}});
    let approved = json_of(open_claim(&op, "pub-one", &tied).await, 201).await;
    assert_eq!(approved["proposal"]["verdict"], "approve", "{approved}");
    let unseen = json!({"orderId": "order-unseen", "occurredAt": at});
    let unsure = json_of(open_claim(&op, "pub-one", &unseen).await, 201).await;

    let state = app.state();
    let keys = state.signing().unwrap();
    let now_ms = tenx_shared::platform::time::now_millis();
    let early = tenx_shared::claims::overdue::sweep((state.io(), keys), "http://localhost", now_ms)
        .await
        .unwrap();
    assert_eq!(early, 0, "nothing is overdue yet");
    let later = now_ms + 2 * 86_400_000;
    let decided =
        tenx_shared::claims::overdue::sweep((state.io(), keys), "http://localhost", later)
            .await
            .unwrap();
    assert_eq!(
        decided, 1,
        "the approvable one; the unsure one waits for a person"
    );
    let path = |id: &Value| format!("/claims/{}", id.as_str().unwrap());
    let a = json_of(op.get(&path(&approved["claimId"])).await, 200).await;
    assert_eq!(
        (&a["status"], &a["decision"]["overdue"]),
        (&json!("approved"), &json!(true)),
        "{a}"
    );
    let u = json_of(op.get(&path(&unsure["claimId"])).await, 200).await;
    assert_eq!(u["status"], "open", "{u}");
    // A program whose rule is to deny: the overdue one is denied by it, in its words.
    let deny = json!({"name": "Acme partners", "claims": {"deadlineDays": 1, "onOverdue": "deny"}});
    json_of(admin.put_program(&deny).await, 200).await;
    let fresh = json!({"orderId": "order-unseen-2", "occurredAt": now_rfc3339()});
    let unsure_2 = json_of(open_claim(&op, "pub-one", &fresh).await, 201).await;
    let denied = tenx_shared::claims::overdue::sweep((state.io(), keys), "http://localhost", later)
        .await
        .unwrap();
    assert_eq!(denied, 1);
    let u = json_of(op.get(&path(&unsure_2["claimId"])).await, 200).await;
    assert_eq!(
        (&u["status"], &u["decision"]["overdue"]),
        (&json!("denied"), &json!(true)),
        "{u}"
    );
    assert!(
        u["decision"]["reason"]
            .as_str()
            .unwrap()
            .contains("program's rule"),
        "{u}"
    );
    let again = tenx_shared::claims::overdue::sweep((state.io(), keys), "http://localhost", later)
        .await
        .unwrap();
    assert_eq!(again, 0);
    // The rule's decisions are the system's, and the audit log says so (issue 60: every actor
    // type named in its entry), once per claim.
    let audit = json_of(op.get("/audit?actorType=system").await, 200).await;
    let actions: Vec<(&Value, &Value)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (&e["action"], &e["actor"]))
        .collect();
    let system = json!({"type": "system", "id": "system"});
    assert_eq!(
        actions,
        [
            (&json!("claim.denied"), &system),
            (&json!("claim.approved"), &system)
        ],
        "{audit}"
    );
}

/// A merchant's reassignment moves a conversion's commission: the old line taken back, one
/// `claim` line by the new partner's plan, as a signed, decided claim; a second is refused.
#[tokio::test]
async fn a_reassignment_moves_a_conversions_commission() {
    let app = spawn_app().await;
    program(&app).await;
    let receipt = coupon_sale(&app, "order-1", None).await;
    crate::commissions::ledger(&app, 1).await;
    let op = app.as_role("acme", Role::Operator);
    let path = format!(
        "/conversions/{}/reassign",
        receipt["conversionId"].as_str().unwrap()
    );
    let body =
        json!({"partnerId": "pub-one", "reason": "The coupon leaked from pub-one's newsletter."});
    let moved = json_of(op.send_json(Method::POST, &path, &body).await, 200).await;
    assert_eq!(
        (&moved["status"], &moved["decision"]["amount"]),
        (&json!("approved"), &json!("10.00")),
        "{moved}"
    );
    let jwks = app.state().signing().unwrap().jwks();
    assert!(tenx_shared::payouts::verify::any(&moved, &jwks).is_ok());
    let lines = crate::commissions::ledger(&app, 3).await;
    assert_eq!(
        kinds_of(&lines),
        [
            "adjustment pub-two -10.00",
            "claim pub-one 10.00",
            "conversion pub-two 10.00"
        ]
    );
    // Moving it to the partner that has it now is refused; a bad body names its field.
    let again = json!({"partnerId": "pub-one", "reason": "Again."});
    assert_error(
        op.send_json(Method::POST, &path, &again).await,
        409,
        "invalid_state",
    )
    .await;
    let back = json!({"partnerId": "pub-two", "campaignId": "alpha", "reason": "x"});
    let message = assert_error(
        op.send_json(Method::POST, &path, &back).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("campaignId"), "{message}");
}

/// Each line as "kind partner amount", sorted.
fn kinds_of(lines: &[Value]) -> Vec<String> {
    let mut kinds: Vec<String> = lines
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap().to_owned();
            format!("{} {} {}", text("kind"), text("partnerId"), text("amount"))
        })
        .collect();
    kinds.sort();
    kinds
}

/// A sale refunded in part, then reassigned: the old partner gives back what the refund left it
/// (never more, never the sale a second time), and the new one is paid on what the refund left
/// of the sale.
#[tokio::test]
async fn a_reassignment_after_a_partial_refund_moves_what_the_refund_left() {
    let app = spawn_app().await;
    program(&app).await;
    let receipt = coupon_sale(&app, "order-1", None).await;
    let conversion = receipt["conversionId"].as_str().unwrap().to_owned();
    crate::commissions::ledger(&app, 1).await;
    let op = app.as_role("acme", Role::Operator);
    let refund = json!({"reason": "refund", "amount": "30"});
    json_of(op.reverse(&conversion, &refund).await, 201).await;
    crate::commissions::ledger(&app, 2).await;
    let path = format!("/conversions/{conversion}/reassign");
    // To the partner that keeps 7.00 of it: refused, as before the refund.
    let same = json!({"partnerId": "pub-two", "campaignId": "beta", "reason": "Again."});
    assert_error(
        op.send_json(Method::POST, &path, &same).await,
        409,
        "invalid_state",
    )
    .await;
    let body =
        json!({"partnerId": "pub-one", "reason": "The coupon leaked from pub-one's newsletter."});
    let moved = json_of(op.send_json(Method::POST, &path, &body).await, 200).await;
    assert_eq!(moved["decision"]["amount"], "7.00", "{moved}");
    let lines = crate::commissions::ledger(&app, 4).await;
    assert_eq!(
        kinds_of(&lines),
        [
            "adjustment pub-two -3.00",
            "adjustment pub-two -7.00",
            "claim pub-one 7.00",
            "conversion pub-two 10.00"
        ]
    );
    crate::commissions::no_drift(&app).await;
}

/// A visitor address shared by the partner's click and the buyer's sale is one signal among
/// others: an office or a mobile carrier puts many people behind one address. Alone it never
/// proposes approve, in words, and the program's "approve when overdue" rule leaves such a claim
/// to a person instead of paying it.
#[tokio::test]
async fn a_shared_visitor_address_alone_never_proposes_approve_or_pays_when_overdue() {
    let app = spawn_app().await;
    program(&app).await;
    let admin = app.as_role("acme", Role::Admin);
    let settings =
        json!({"name": "Acme partners", "claims": {"deadlineDays": 1, "onOverdue": "approve"}});
    json_of(admin.put_program(&settings).await, 201).await;
    // pub-one clicked its own link; then the buyer came through pub-two's link, from the same
    // address (every visit of the tests comes from loopback), and bought on that click. The
    // click comes first so that "the click came after the sale" never joins the reasons.
    let own_click = human_ctx(&app, "acme", "/deal").await;
    let buyer = human_ctx(&app, "acme", "/offer").await;
    let sale = json!({"ctx": buyer, "idempotencyKey": "order-nat", "eventType": "purchase",
        "value": "100.00", "currency": "EUR"});
    assert_eq!(app.convert(&sale).await.status(), 202);
    crate::commissions::ledger(&app, 1).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let body = json!({"orderId": "order-nat", "occurredAt": now_rfc3339(),
        "evidence": {"ctx": own_click}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    assert_eq!(claim["proposal"]["verdict"], "unsure", "{claim}");
    let words = reasons(&claim);
    assert!(
        words.contains("same address as your click")
            && words.contains("many people behind one address"),
        "{words}"
    );

    let state = app.state();
    let keys = state.signing().unwrap();
    let later = tenx_shared::platform::time::now_millis() + 2 * 86_400_000;
    let decided = tenx_shared::claims::overdue::sweep((state.io(), keys), &app.origin(), later)
        .await
        .unwrap();
    assert_eq!(
        decided, 0,
        "the rule pays only what the evidence alone proves"
    );
    let op = app.as_role("acme", Role::Operator);
    let id = claim["claimId"].as_str().unwrap();
    let still = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(still["status"], "open", "{still}");
    assert_eq!(crate::commissions::ledger(&app, 1).await.len(), 1);
}

/// A 2×2 PNG (red), as a phone's screenshot is one, only smaller.
pub(crate) const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x44, 0x0c, 0x10, 0x0a, 0x00, 0x1f, 0xee, 0x03, 0xfd, 0x8b, 0x5f, 0x14, 0xd4, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// `POST …/claims/{claimId}/attachments` with `bytes` said to be `content_type`.
pub(crate) async fn attach(
    who: &As<'_>,
    partner: &str,
    claim: &str,
    content_type: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let rest = format!("/partners/{partner}/claims/{claim}/attachments");
    who.send_bytes(Method::POST, &rest, content_type, bytes)
        .await
}

#[tokio::test]
async fn a_claim_carries_the_sales_amount_and_a_screenshot_only_its_readers_download() {
    let app = spawn_app().await;
    program(&app).await;
    // The program pays in EUR: its template campaign's plan.
    let admin = app.as_role("acme", Role::Admin);
    let program = json!({"name": "Acme partners", "applications": "open",
        "template": {"campaignId": "alpha"}});
    let put = admin.send_json(Method::PUT, "/program", &program).await;
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    let bo = as_partner(&app, "acme", "pub-one").await;
    let ana = as_partner(&app, "acme", "pub-two").await;
    // Bo says the sale was 80.00 EUR, the program's currency.
    let body = json!({"orderId": "order-88", "occurredAt": now_rfc3339(),
        "amount": "80.00", "currency": "eur"});
    let claim = json_of(open_claim(&bo, "pub-one", &body).await, 201).await;
    assert_eq!(
        (&claim["amount"], &claim["currency"]),
        (&json!("80.00"), &json!("EUR"))
    );
    let id = claim["claimId"].as_str().unwrap().to_owned();
    // Bad amounts and currencies, refused in words, nothing opened.
    for (amount, currency, field, words) in [
        (
            json!("80.00"),
            json!("USD"),
            "currency",
            "the program pays in EUR",
        ),
        (json!("-5"), json!("EUR"), "amount", "more than 0"),
        (json!("80.001"), json!("EUR"), "amount", "decimal places"),
        (json!("80.00"), Value::Null, "currency", "which currency"),
        (json!("80.00"), json!("EURO"), "currency", ""),
    ] {
        let mut bad = json!({"orderId": "order-89", "occurredAt": now_rfc3339(), "amount": amount});
        if !currency.is_null() {
            bad["currency"] = currency;
        }
        let said = assert_error(
            open_claim(&bo, "pub-one", &bad).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(said.starts_with(field) && said.contains(words), "{said}");
    }
    // The screenshot, then what is not one: each refused in words.
    let added = json_of(attach(&bo, "pub-one", &id, "image/png", PNG).await, 201).await;
    assert_eq!(
        (&added["contentType"], &added["width"]),
        (&json!("image/png"), &json!(2))
    );
    let image = added["attachmentId"].as_str().unwrap().to_owned();
    let page = b"<html><script>alert(document.cookie)</script></html>";
    for (content_type, bytes, words) in [
        ("image/png", &page[..], "not a PNG or JPEG image"),
        (
            "image/jpeg",
            PNG,
            "says it is a JPEG image but its content is a PNG image",
        ),
        ("image/svg+xml", PNG, "image/svg+xml is not taken"),
        ("image/png", &PNG[..40], "a PNG image that does not open"),
    ] {
        let said = assert_error(
            attach(&bo, "pub-one", &id, content_type, bytes).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(said.contains(words), "{content_type}: {said}");
    }
    let big = vec![0u8; 5 * 1024 * 1024 + 1];
    let said = assert_error(
        attach(&bo, "pub-one", &id, "image/png", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    assert!(said.contains("larger than 5 MB"), "{said}");
    // Another partner reaches neither the claim nor its image.
    let rest = format!("/partners/pub-one/claims/{id}/attachments/{image}");
    assert_eq!(ana.get(&rest).await.status(), 404);
    assert_eq!(
        attach(&ana, "pub-one", &id, "image/png", PNG)
            .await
            .status(),
        404
    );
    // Bo and the program's people download it: the image, never a page.
    let op = app.as_role("acme", Role::Viewer);
    for who in [&bo, &op] {
        let got = who.get(&rest).await;
        assert_eq!(got.status(), 200);
        let h = got.headers().clone();
        assert_eq!(header_str(&h, "content-type"), "image/png");
        assert_eq!(header_str(&h, "x-content-type-options"), "nosniff");
        assert!(header_str(&h, "content-security-policy").contains("sandbox"));
        assert!(header_str(&h, "content-disposition").starts_with("attachment;"));
        assert_eq!(&got.bytes().await.unwrap()[..], PNG);
    }
    // The manager's claim names it beside the amount Bo said.
    let seen = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(seen["attachments"][0]["attachmentId"], image.as_str());
    assert_eq!(seen["amount"], "80.00");
    // Five images at most: the sixth is refused as the claim's state, in words.
    for _ in 1..5 {
        json_of(attach(&bo, "pub-one", &id, "image/png", PNG).await, 201).await;
    }
    let said = assert_error(
        attach(&bo, "pub-one", &id, "image/png", PNG).await,
        409,
        "invalid_state",
    )
    .await;
    assert!(said.contains("already holds 5 images"), "{said}");
    // A decided claim takes no more.
    let no = json!({"decision": "deny", "reason": "No such order in the shop."});
    json_of(
        decide(&app.as_role("acme", Role::Operator), &id, &no).await,
        200,
    )
    .await;
    assert_error(
        attach(&bo, "pub-one", &id, "image/png", PNG).await,
        409,
        "invalid_state",
    )
    .await;
}

/// A PNG of `width`×`height` 16-bit RGBA pixels (eight bytes each), all zeros: a few hundred
/// KB on disk however many it has.
fn png_of_zeros(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, width, height);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Sixteen);
        e.set_filter(png::Filter::NoFilter);
        e.set_deflate_compression(png::DeflateCompression::Level(9));
        let mut w = e.write_header().unwrap();
        let mut rows = w.stream_writer().unwrap();
        let row = vec![0u8; width as usize * 8];
        for _ in 0..height {
            rows.write_all(&row).unwrap();
        }
        rows.finish().unwrap();
    }
    out
}

#[tokio::test]
async fn a_small_png_that_would_take_hundreds_of_mb_decoded_is_refused_in_words() {
    let app = spawn_app().await;
    program(&app).await;
    let bo = as_partner(&app, "acme", "pub-one").await;
    let body = json!({"orderId": "order-77", "occurredAt": now_rfc3339(),
        "evidence": {"note": "The order's confirmation, attached."}});
    let claim = json_of(open_claim(&bo, "pub-one", &body).await, 201).await;
    let id = claim["claimId"].as_str().unwrap();
    // 6,600×6,000 pixels (under the 40 million a claim's image may have) of 16-bit RGBA:
    // ~317 MB decoded, well under 5 MB as a file.
    let png = png_of_zeros(6_600, 6_000);
    assert!(png.len() < 5 * 1024 * 1024, "{} bytes", png.len());
    let said = assert_error(
        attach(&bo, "pub-one", id, "image/png", &png).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        said.contains(
            "6600×6000 pixels take 303 MB decoded; an image of an order may take at most 64 MB"
        ),
        "{said}"
    );
    let seen = json_of(bo.get(&format!("/partners/pub-one/claims/{id}")).await, 200).await;
    assert!(seen.get("attachments").is_none(), "nothing kept: {seen}");
}
