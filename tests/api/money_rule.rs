//! The one money rule for people who act for a partner, on either backend: a member of the
//! handle who is also a user of one of its partners gets `403 forbidden` on every decision that
//! creates, approves, raises, moves or pays that partner's money (docs/security.md lists the
//! routes), nothing stored changes, and another member may do each; a decision that races the
//! person becoming the partner's user is refused inside its own transaction.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use tenx_shared::ledger::model::{Kind::Manual, Status::Held};

use crate::claims::{buyer_visit, coupon_sale, decide, now_rfc3339, open_claim, program};
use crate::helpers::*;
use crate::partner_users::{Browser, invite_by_operator};
use crate::people::{member, sign_in};
use crate::scenario::{Line, as_partner, seed_ledger, seed_lines};

/// `pub-two`'s claim on order `order` (a sale 10x never saw, so its amount is the decider's),
/// opened by the partner itself: its id.
async fn claim_of_pub_two(app: &TestApp, order: &str) -> String {
    let two = as_partner(app, "acme", "pub-two").await;
    let body = json!({"orderId": order, "occurredAt": now_rfc3339()});
    let claim = json_of(open_claim(&two, "pub-two", &body).await, 201).await;
    claim["claimId"].as_str().unwrap().to_owned()
}

/// Mia: an admin of `acme` who is also a user of `pub-two`, acting as the member.
async fn mia(app: &TestApp) -> Browser<'_> {
    member(app, "mia@acme.example", Role::Admin).await;
    let link = invite_by_operator(app, "pub-two", "mia@acme.example").await;
    let (mia, _) = Browser::from_link(app, &link).await;
    assert_eq!(mia.me().await["partnerships"][0]["partnerId"], "pub-two");
    mia.acting_as("member")
}

#[tokio::test]
async fn a_member_never_decides_the_money_of_the_partner_she_acts_for() {
    let app = spawn_app().await;
    program(&app).await;
    let one_sale = coupon_sale(&app, "order-1", None).await; // pub-two's (its coupon)
    crate::commissions::ledger(&app, 1).await;
    // Mia first: as an admin she is mailed of claims, and her invitation is read as the next mail.
    let mia = mia(&app).await;
    let claim = claim_of_pub_two(&app, "order-unseen").await;
    let before = crate::commissions::ledger(&app, 1).await;

    // Her partner's claim, for any amount: refused, the claim still open.
    let approve =
        json!({"decision": "approve", "reason": "ok", "amount": "250.00", "currency": "EUR"});
    let r = mia
        .post(&format!("/v2/handles/acme/claims/{claim}/decide"), &approve)
        .await;
    let message = assert_error(r, 403, "forbidden").await;
    assert!(message.contains("partner pub-two"), "{message}");
    let op = app.as_role("acme", Role::Operator);
    let open = json_of(op.get(&format!("/claims/{claim}")).await, 200).await;
    assert_eq!(open["status"], "open", "{open}");

    // A sale moved to her partner, or away from it: refused.
    let sale = one_sale["conversionId"].as_str().unwrap();
    let reassign = format!("/v2/handles/acme/conversions/{sale}/reassign");
    let to_one = json!({"partnerId": "pub-one", "reason": "leaked"});
    assert_error(mia.post(&reassign, &to_one).await, 403, "forbidden").await;

    // Its payout method confirmed or unfrozen, its standing changed, its campaign's plan.
    for path in [
        "/v2/handles/acme/partners/pub-two/payout-method/confirm",
        "/v2/handles/acme/partners/pub-two/payout-method/unfreeze",
    ] {
        assert_error(mia.post(path, &json!({})).await, 403, "forbidden").await;
    }
    let standing = mia
        .send(
            Method::PATCH,
            "/v2/handles/acme/partners/pub-two",
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_error(standing, 403, "forbidden").await;
    let raise = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "90"}]});
    let plan = mia
        .send(
            Method::PUT,
            "/v2/handles/acme/campaigns/beta/commission-plan",
            Some(&raise),
        )
        .await;
    assert_error(plan, 403, "forbidden").await;

    // Nothing changed: the ledger, the claim, the plan.
    assert_eq!(crate::commissions::ledger(&app, 1).await, before);
    let plan = json_of(op.get_plan("beta").await, 200).await;
    assert_eq!(plan["rules"][0]["percent"], "10", "{plan}");

    // The same person on another partner's money, and another member on hers: allowed.
    let name = json!({"name": "Bo's blog, renamed"});
    let renamed = mia
        .send(
            Method::PATCH,
            "/v2/handles/acme/partners/pub-one",
            Some(&name),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let plan_one = mia
        .send(
            Method::PUT,
            "/v2/handles/acme/campaigns/alpha/commission-plan",
            Some(&raise),
        )
        .await;
    assert_eq!(plan_one.status(), StatusCode::OK);
    let decided = json_of(decide(&op, &claim, &approve).await, 200).await;
    assert_eq!(decided["status"], "approved", "{decided}");
}

/// A decision and the person joining the partner, interleaved as the race would: the member is
/// judged while she acts for no partner, she then joins the claim's partner, and the decision's
/// transaction (which carries her partnership's absence as a condition) is refused, nothing
/// written; judged afresh it is the rule's `403` in words.
#[tokio::test]
async fn a_decision_that_races_the_person_joining_the_partner_is_refused() {
    use tenx_shared::claims::decide::{Deciding, decide as decide_claim};
    use tenx_shared::claims::{ClaimError, Verdict};
    use tenx_shared::domain::{ClaimId, Handle};
    use tenx_shared::people::acting::Decider;

    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    crate::commissions::ledger(&app, 1).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let body =
        json!({"orderId": "order-1", "occurredAt": now_rfc3339(), "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let id = ClaimId::parse(claim["claimId"].as_str().unwrap()).unwrap();
    let mia = member(&app, "mia@acme.example", Role::Operator).await;

    // Judged now: no partner of her own.
    let judged = Decider {
        user: Some(mia.user_id.clone()),
        own_partner: None,
    };
    // Meanwhile she becomes a user of the claim's partner.
    let link = invite_by_operator(&app, "pub-one", "mia@acme.example").await;
    let (joined, _) = Browser::from_link(&app, &link).await;
    assert_eq!(joined.me().await["partnerships"][0]["partnerId"], "pub-one");

    let state = app.state();
    let keys = state.signing().unwrap();
    let deciding = Deciding {
        decision: Verdict::Approve,
        reason: "looks right".into(),
        amount: None,
        by: mia.user_id.to_string(),
        overdue: false,
        base: app.origin(),
        campaign: None,
        move_binding: None,
        decider: judged,
    };
    let acme = Handle::parse("acme").unwrap();
    let outcome = decide_claim((state.io(), keys), &acme, &id, deciding).await;
    match outcome {
        Err(ClaimError::OwnPartner(own)) => {
            assert!(own.to_string().contains("partner pub-one"), "{own}");
        }
        other => panic!("expected the money rule's refusal, got {other:?}"),
    }
    let op = app.as_role("acme", Role::Operator);
    let still: Value = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(still["status"], "open", "{still}");
    assert_eq!(crate::commissions::ledger(&app, 1).await.len(), 1);

    // A member with no partner decides it, through the same use case.
    let other = member(&app, "oli@acme.example", Role::Operator).await;
    let free = Deciding {
        decision: Verdict::Approve,
        reason: "looks right".into(),
        amount: None,
        by: other.user_id.to_string(),
        overdue: false,
        base: app.origin(),
        campaign: None,
        move_binding: None,
        decider: Decider {
            user: Some(other.user_id.clone()),
            own_partner: None,
        },
    };
    let decided = decide_claim((state.io(), keys), &acme, &id, free).await;
    assert!(decided.is_ok(), "{:?}", decided.err());
}

/// A personal access token minted from `who`'s session, with the scopes that move money.
pub(crate) async fn money_token(who: &Browser<'_>) -> String {
    let scopes = ["commissions.read", "commissions.write", "payouts.write"];
    let body = json!({"name": "books script", "scopes": scopes});
    let minted = json_of(who.post("/v2/handles/acme/tokens", &body).await, 201).await;
    minted["token"].as_str().unwrap().to_owned()
}

/// `token`'s request on acme's `path` (after `/v2/handles/acme`), with `key` as its
/// `idempotency-key` when given.
pub(crate) async fn by_token(
    app: &TestApp,
    token: &str,
    (method, path, body, key): &Case,
) -> reqwest::Response {
    let url = app.url(&format!("/v2/handles/acme{path}"));
    let mut request = app
        .client
        .request(method.clone(), url)
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", *key);
    }
    request.send().await.unwrap()
}

/// A money route as a script calls it: method, path, body, idempotency key.
pub(crate) type Case = (Method, String, Value, Option<&'static str>);

/// `pub-two`'s money a script could move: its open claim, its sale, a line waiting for review,
/// a pending payout; and a payout batch (of `pub-one`'s payout: a batch covers every partner).
struct Books {
    claim: String,
    sale: String,
    line: String,
    payout: String,
    batch: String,
}

async fn books(app: &TestApp, sale: &Value) -> Books {
    let op = app.as_role("acme", Role::Operator);
    let claim = claim_of_pub_two(app, "order-unseen").await;
    let waiting = Line::of("pub-two", Manual, 700).status(Held);
    let line = seed_ledger(app, [waiting]).await[0].to_string();
    let mut payouts = Vec::new();
    for partner in ["pub-two", "pub-one"] {
        seed_lines(app, partner, 1, 500).await;
        let run = json!({"periodEnd": now_rfc3339(), "partnerId": partner});
        let made = json_of(op.run_payouts(partner, &run).await, 201).await;
        payouts.push(made["payouts"][0]["payoutId"].as_str().unwrap().to_owned());
    }
    let paypal = json!({"type": "paypal", "email": "bo@example.com"});
    json_of(op.put_payout_method("pub-one", &paypal).await, 201).await;
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "paypal"})).await,
        201,
    )
    .await;
    Books {
        claim,
        sale: sale["conversionId"].as_str().unwrap().to_owned(),
        line,
        payout: payouts.swap_remove(0),
        batch: batch["batchId"].as_str().unwrap().to_owned(),
    }
}

/// Every route on which a member's session is refused her partner's money (docs/security.md)
/// that a token's scopes reach, each with a body that would otherwise be carried out.
fn money_routes(b: &Books) -> Vec<Case> {
    let post = |path: String, body: Value| (Method::POST, path, body, None);
    let keyed = |path: &str, body: Value, key| (Method::POST, path.to_owned(), body, Some(key));
    let approve =
        json!({"decision": "approve", "reason": "ok", "amount": "250.00", "currency": "EUR"});
    let raise = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "90"}]});
    let manual = json!({"partnerId": "pub-two", "amount": "5.00", "currency": "EUR",
        "reason": "bonus"});
    let run = |partner: Option<&str>| match partner {
        Some(p) => json!({"periodEnd": now_rfc3339(), "partnerId": p}),
        None => json!({"periodEnd": now_rfc3339()}),
    };
    let why = json!({"reason": "checked"});
    let paid = json!({"reference": "bank 42"});
    let partner = "/partners/pub-two";
    vec![
        post(format!("/claims/{}/decide", b.claim), approve),
        post(
            format!("/conversions/{}/reassign", b.sale),
            json!({"partnerId": "pub-one", "reason": "leaked"}),
        ),
        post(format!("{partner}/payout-method/confirm"), json!({})),
        (
            Method::PATCH,
            partner.into(),
            json!({"status": "active"}),
            None,
        ),
        (
            Method::PUT,
            "/campaigns/beta/commission-plan".into(),
            raise,
            None,
        ),
        post("/commissions".into(), manual),
        post(format!("/commissions/{}/approve", b.line), why.clone()),
        post(format!("/commissions/{}/reject", b.line), why.clone()),
        keyed("/payouts", run(Some("pub-two")), "run-own"),
        keyed("/payouts", run(None), "run-all"),
        keyed("/payout-batches", json!({"method": "paypal"}), "batch-own"),
        post(
            format!("/payout-batches/{}/mark-paid", b.batch),
            paid.clone(),
        ),
        post(format!("/payout-batches/{}/cancel", b.batch), why.clone()),
        post(format!("/payouts/{}/mark-paid", b.payout), paid),
        post(format!("/payouts/{}/mark-failed", b.payout), why.clone()),
        post(format!("/payouts/{}/cancel", b.payout), why.clone()),
        post(format!("{partner}/risk/signals/click_spike/dismiss"), why),
        post(format!("{partner}/tax-profile/accept"), json!({})),
    ]
}

/// Mia signs in as a member of no partner and mints a token for her script; she then becomes
/// a user of `pub-two`. From then on the token (judged by her partnership as it is at each
/// request) is refused every decision about `pub-two`'s money that her session is refused, in
/// the rule's words, nothing changing; a JWT naming her is refused too, and another operator's
/// token does each.
#[tokio::test]
async fn a_token_a_member_minted_never_decides_the_money_of_the_partner_she_acts_for() {
    let app = spawn_app().await;
    program(&app).await;
    let sale = coupon_sale(&app, "order-1", None).await;
    crate::commissions::ledger(&app, 1).await;
    let mia = member(&app, "mia@acme.example", Role::Admin).await;
    let (cookie, csrf) = sign_in(&app, "mia@acme.example").await;
    let session = Browser {
        app: &app,
        cookie,
        csrf,
        act_as: None,
    };
    let token = money_token(&session).await;
    // While she acts for no partner, her token pays anyone.
    let bonus = json!({"partnerId": "pub-two", "amount": "1.00", "currency": "EUR",
        "reason": "welcome"});
    let case = (Method::POST, "/commissions".to_owned(), bonus, None);
    assert_eq!(by_token(&app, &token, &case).await.status(), 201);
    let link = invite_by_operator(&app, "pub-two", "mia@acme.example").await;
    let (joined, _) = Browser::from_link(&app, &link).await;
    assert_eq!(joined.me().await["partnerships"][0]["partnerId"], "pub-two");
    let b = books(&app, &sale).await;
    let op = app.as_role("acme", Role::Operator);
    let payout_before = json_of(op.get(&format!("/payouts/{}", b.payout)).await, 200).await;

    for case in money_routes(&b) {
        let refused = by_token(&app, &token, &case).await;
        let message = assert_error(refused, 403, "forbidden").await;
        assert!(
            message.contains("partner pub-two"),
            "{} {}: {message}",
            case.0,
            case.1
        );
    }
    let bulk = json!({"commissionIds": [b.line], "reason": "checked"});
    let bulk = (Method::POST, "/commissions/approve".to_owned(), bulk, None);
    let results = json_of(by_token(&app, &token, &bulk).await, 200).await;
    assert_eq!(
        results["results"][0]["error"]["code"], "forbidden",
        "{results}"
    );

    // Nothing changed: the claim, the line, the payout, the plan.
    let claim = json_of(op.get(&format!("/claims/{}", b.claim)).await, 200).await;
    assert_eq!(claim["status"], "open", "{claim}");
    let line = json_of(op.get(&format!("/commissions/{}", b.line)).await, 200).await;
    assert_eq!(line["status"], "held", "{line}");
    let payout = json_of(op.get(&format!("/payouts/{}", b.payout)).await, 200).await;
    assert_eq!(payout, payout_before);
    let plan = json_of(op.get_plan("beta").await, 200).await;
    assert_eq!(plan["rules"][0]["percent"], "10", "{plan}");

    // A JWT whose subject is her is her too.
    let hers = token_of_subject(mia.user_id.as_str(), &["acme"], Role::Admin, now() + 600);
    let manual = &money_routes(&b)[5];
    assert_error(by_token(&app, &hers, manual).await, 403, "forbidden").await;

    // Another operator's token (minted by no partner's person) does each of these.
    let scopes = ["commissions.write", "payouts.write"];
    let other = crate::tokens::create_pat(&app, "acme", &scopes).await;
    let routes = money_routes(&b);
    for (case, status) in [(&routes[0], 200), (&routes[5], 201), (&routes[6], 200)] {
        let done = by_token(&app, &other, case).await;
        assert_eq!(done.status(), status, "{} {}", case.0, case.1);
    }
    let paid = by_token(&app, &other, &routes[12]).await;
    assert!(paid.status().is_success(), "{}", paid.status());
}

/// The partner a campaign names, as an operator reads it.
async fn partner_of(app: &TestApp, campaign: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let read = json_of(op.get(&format!("/campaigns/{campaign}")).await, 200).await;
    read["partnerId"].clone()
}

/// A campaign's partner decides whose commissions its sales earn: naming it, on a new campaign
/// or an existing one, takes an operator (a token: `commissions.write`); a creator still
/// makes campaigns of no partner and pauses any.
#[tokio::test]
async fn only_an_operator_names_the_partner_of_a_campaign() {
    let app = spawn_app().await;
    program(&app).await;
    let creator = app.as_role("acme", Role::Creator);
    let to_one = json!({"partnerId": "pub-one"});
    assert_error(
        creator.patch_campaign("beta", &to_one).await,
        403,
        "insufficient_role",
    )
    .await;
    let both = json!({"status": "PAUSED", "partnerId": "pub-one"});
    assert_error(
        creator.patch_campaign("beta", &both).await,
        403,
        "insufficient_role",
    )
    .await;
    let pat = crate::tokens::create_pat(&app, "acme", &["campaigns.write"]).await;
    let script = app.with_token("acme", &pat);
    assert_error(
        script.patch_campaign("beta", &to_one).await,
        403,
        "insufficient_scope",
    )
    .await;
    assert_eq!(partner_of(&app, "beta").await, "pub-two");
    let campaign = |partner: Option<&str>| {
        let mut body = json!({"campaignId": "gamma", "goalType": "PURCHASE",
            "primaryLink": {"slug": "gamma", "destinationUrl": "https://shop.example.com/g"}});
        if let Some(p) = partner {
            body["partnerId"] = json!(p);
        }
        body
    };
    let named = creator.create_campaign(&campaign(Some("pub-one"))).await;
    assert_error(named, 403, "insufficient_role").await;

    // What a creator did before: a campaign of no partner, a status.
    json_of(creator.create_campaign(&campaign(None)).await, 201).await;
    let paused = json!({"status": "PAUSED"});
    json_of(creator.patch_campaign("beta", &paused).await, 200).await;
    let op = app.as_role("acme", Role::Operator);
    let moved = json_of(op.patch_campaign("gamma", &to_one).await, 200).await;
    assert_eq!(moved["partnerId"], "pub-one", "{moved}");
}

/// The member who acts for `pub-two` never moves a campaign to or from it, makes a campaign of
/// it, binds a buyer to it by hand or makes or rotates its coupon codes: the rule's `403`,
/// nothing changed; she still moves campaigns between other partners, and another operator
/// moves hers.
#[tokio::test]
async fn a_member_never_points_a_campaign_code_or_buyer_at_the_partner_she_acts_for() {
    let app = spawn_app().await;
    program(&app).await;
    let mia = mia(&app).await;
    let patch = |campaign: &str, partner: &str| {
        let path = format!("/v2/handles/acme/campaigns/{campaign}");
        (path, json!({"partnerId": partner}))
    };
    for (path, body) in [patch("alpha", "pub-two"), patch("beta", "pub-one")] {
        let refused = mia.send(Method::PATCH, &path, Some(&body)).await;
        let message = assert_error(refused, 403, "forbidden").await;
        assert!(message.contains("partner pub-two"), "{path}: {message}");
    }
    assert_eq!(partner_of(&app, "alpha").await, "pub-one");
    assert_eq!(partner_of(&app, "beta").await, "pub-two");
    let gamma = json!({"campaignId": "gamma", "goalType": "PURCHASE", "partnerId": "pub-two",
        "primaryLink": {"slug": "gamma", "destinationUrl": "https://shop.example.com/g"}});
    let code = json!({"code": "MIA10", "campaignId": "beta"});
    let rotate = json!({"newCode": "SAVE30"});
    let bind = json!({"customerId": "c9", "partnerId": "pub-two", "campaignId": "beta"});
    for (path, body) in [
        ("/v2/handles/acme/campaigns", &gamma),
        ("/v2/handles/acme/partners/pub-two/coupon-codes", &code),
        (
            "/v2/handles/acme/partners/pub-two/coupon-codes/SAVE20/rotate",
            &rotate,
        ),
        ("/v2/handles/acme/customers", &bind),
    ] {
        let message = assert_error(mia.post(path, body).await, 403, "forbidden").await;
        assert!(message.contains("partner pub-two"), "{path}: {message}");
    }
    let op = app.as_role("acme", Role::Operator);
    assert_eq!(
        op.get("/campaigns/gamma").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        op.get("/customers/c9").await.status(),
        StatusCode::NOT_FOUND
    );
    let codes = json_of(op.get("/partners/pub-two/coupon-codes").await, 200).await;
    let codes: Vec<&Value> = codes["items"].as_array().unwrap().iter().collect();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["code"], "SAVE20");

    // Between other partners she moves campaigns; another operator moves hers.
    json_of(
        op.create_partner(&json!({"partnerId": "pub-three", "name": "Three"}))
            .await,
        201,
    )
    .await;
    let (path, body) = patch("alpha", "pub-three");
    json_of(mia.send(Method::PATCH, &path, Some(&body)).await, 200).await;
    json_of(
        op.patch_campaign("beta", &json!({"partnerId": "pub-one"}))
            .await,
        200,
    )
    .await;
    assert_eq!(partner_of(&app, "beta").await, "pub-one");
}

/// The exchange rates price every partner's commissions in another currency, hers among them:
/// the member who acts for `pub-two` never sets them (the rule's `403`, the rates unchanged),
/// through her session or a token she minted; another operator does.
#[tokio::test]
async fn a_member_who_acts_for_a_partner_never_sets_the_exchange_rates() {
    let app = spawn_app().await;
    program(&app).await;
    let mia = mia(&app).await;
    let token = money_token(&mia).await;
    let as_of = tenx_shared::domain::time::unix_to_rfc3339(now() - 3600);
    let rates = json!({"base": "EUR", "rates": {"USD": "9.99"}, "asOf": as_of});
    let refused = mia.post("/v2/handles/acme/fx-rates", &rates).await;
    let message = assert_error(refused, 403, "forbidden").await;
    assert!(message.contains("partner pub-two"), "{message}");
    let case = (Method::POST, "/fx-rates".to_owned(), rates.clone(), None);
    assert_error(by_token(&app, &token, &case).await, 403, "forbidden").await;
    let op = app.as_role("acme", Role::Operator);
    let none = op.get("/fx-rates").await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND, "no rates were set");

    let set = json_of(op.post_fx_rates(&rates).await, 201).await;
    assert_eq!(set["rates"]["USD"], "9.99", "{set}");
}

/// The statuses of `partner`'s lines, sorted.
async fn lines_of(app: &TestApp, partner: &str) -> Vec<String> {
    let op = app.as_role("acme", Role::Operator);
    let path = format!("/commissions?partnerId={partner}");
    let lines = json_of(op.get(&path).await, 200).await;
    let mut got: Vec<String> = (lines["items"].as_array().unwrap().iter())
        .map(|l| l["status"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    got
}

/// A program import writes approved lines for the partners it names: an admin who acts for
/// one of them (`jane`, made before the import) imports the program, and each commission row
/// of hers fails in the rule's words, reported at its row as any bad row is, while the rest
/// comes in; the same file imported by another admin brings her lines in.
#[tokio::test]
async fn a_program_import_never_writes_the_lines_of_the_importers_own_partner() {
    use crate::imports::{finished, fixture};
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let jane = json!({"partnerId": "jane", "name": "Jane Doe"});
    json_of(op.create_partner(&jane).await, 201).await;
    member(&app, "mia@acme.example", Role::Admin).await;
    let link = invite_by_operator(&app, "jane", "mia@acme.example").await;
    let (mia, _) = Browser::from_link(&app, &link).await;
    let mia = mia.acting_as("member");

    let file: Value = serde_json::from_slice(&fixture("rewardful.json")).unwrap();
    let path = "/v2/handles/acme/imports?source=rewardful";
    let started = json_of(mia.post(path, &file).await, 202).await;
    let report = finished(&app, started["importId"].as_str().unwrap()).await;
    assert_eq!(report["status"], "done", "{report}");
    let own: Vec<&Value> = (report["errors"].as_array().unwrap().iter())
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("You are also partner jane")
        })
        .collect();
    assert_eq!(own.len(), 2, "jane's two commission rows: {report}");
    for e in &own {
        assert_eq!(e["field"], "affiliate.id", "{e}");
        assert!(
            e["message"].as_str().unwrap().contains("another member"),
            "{e}"
        );
    }
    assert!(lines_of(&app, "jane").await.is_empty());

    // Another admin (no partner of her own) imports the same file: jane's lines come in.
    let again = crate::imports::post_import(
        &app,
        "acme",
        "source=rewardful",
        "application/json",
        fixture("rewardful.json"),
        Role::Admin,
    )
    .await;
    let again = json_of(again, 202).await;
    let report = finished(&app, again["importId"].as_str().unwrap()).await;
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(lines_of(&app, "jane").await, ["approved", "paid"]);
}
