//! Customers (issue 44): a lead binds the buyer to the partner whose click brought them (first
//! binding wins, under concurrency), and the customer's later sales are attributed to that
//! partner without a ctx, each counted once; bad input is named.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::*;

/// Two partners, each with its campaign and link (`pub-one`: `alpha` / `deal`, `pub-two`:
/// `beta` / `offer`), a plan paying 10 % of purchases and 1.00 per lead on `alpha`.
async fn two_partners(app: &TestApp) {
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}, {"eventType": "lead", "flat": "1.00"}]});
    crate::scenario::two_partners(app, &plan, None).await;
}

async fn ctx_of(app: &TestApp, slug: &str) -> String {
    human_ctx(app, "acme", &format!("/{slug}")).await
}

#[tokio::test]
async fn fifty_concurrent_leads_of_one_customer_from_two_partners_bind_once() {
    // Each retried 503 takes a slot of its click's limit (a conversion that may have committed
    // stays counted): room for the retries a loaded machine causes, the binding under test.
    let mut config = test_config();
    config.rate_limits.conversions_per_click = 1_000;
    let app = spawn_with(config, None).await;
    two_partners(&app).await;
    let (one, two) = (ctx_of(&app, "deal").await, ctx_of(&app, "offer").await);
    let leads = (0..50).map(|i| {
        let ctx = if i % 2 == 0 { &one } else { &two };
        let body =
            json!({"ctx": ctx, "customerId": "cus_NffrFeUfNV2Hib", "email": "Jane@Example.com"});
        let app = &app;
        async move {
            // Retried on a 503 as a client would: a 503 bound nothing.
            let resp = crate::helpers::retrying_overload(|| app.lead(&body)).await;
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    });
    let answers = futures::future::join_all(leads).await;
    let bound: Vec<&Value> = answers
        .iter()
        .filter(|(_, a)| a["bound"] == true)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(bound.len(), 1, "one binding wins: {answers:?}");
    let winner = bound[0]["partnerId"].clone();
    for (status, a) in &answers {
        assert!(*status == 202 || *status == 200, "{status} {a}");
        assert_eq!(
            a["partnerId"], winner,
            "every answer names the binding: {a}"
        );
        assert_eq!(
            a["conversionId"], bound[0]["conversionId"],
            "one lead conversion"
        );
    }
    assert_eq!(
        answers.iter().filter(|(s, _)| *s == 202).count(),
        1,
        "{answers:?}"
    );
    let viewer = app.as_role("acme", Role::Viewer);
    let customer = json_of(viewer.get_customer("cus_NffrFeUfNV2Hib").await, 200).await;
    assert_eq!(
        (
            &customer["partnerId"],
            &customer["conversionCount"],
            &customer["emailMasked"]
        ),
        (&winner, &json!(1), &json!("J***@example.com")),
        "{customer}"
    );
    assert_eq!(customer["boundBy"], "ctx");
}

#[tokio::test]
async fn a_bound_customers_renewals_are_attributed_and_paid_without_a_ctx() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let lead = json!({"ctx": ctx_of(&app, "deal").await, "customerId": "cus_1"});
    let answer = json_of(app.lead(&lead).await, 202).await;
    assert_eq!(
        (answer["bound"].clone(), answer["partnerId"].clone()),
        (json!(true), json!("pub-one"))
    );
    // A later lead through the other partner's click changes nothing.
    let other = json!({"ctx": ctx_of(&app, "offer").await, "customerId": "cus_1", "idempotencyKey": "lead-2"});
    let again = json_of(app.lead(&other).await, 202).await;
    assert_eq!(
        (again["bound"].clone(), again["partnerId"].clone()),
        (json!(false), json!("pub-one"))
    );

    let merchant = app.as_role("acme", Role::Creator);
    for invoice in ["in_1", "in_2"] {
        let body = json!({"customerId": "cus_1", "idempotencyKey": invoice, "eventType": "purchase",
            "value": "100", "currency": "EUR"});
        let receipt = json_of(merchant.convert_verified(&body).await, 202).await;
        assert_eq!(receipt["campaignId"], "alpha", "{receipt}");
        assert_eq!(receipt["clickId"], answer["clickId"], "the binding's click");
    }
    // A replay of a renewal: the same receipt, nothing counted twice.
    let replay = json!({"customerId": "cus_1", "idempotencyKey": "in_1", "eventType": "purchase",
        "value": "100", "currency": "EUR"});
    assert_eq!(
        json_of(merchant.convert_verified(&replay).await, 200).await["deduped"],
        true
    );
    // Two leads (1.00 each: the second lead is a lead of the same bound customer) and two
    // renewals (10.00 each), all pub-one's.
    let ledger = crate::commissions::ledger(&app, 4).await;
    assert!(
        ledger.iter().all(|l| l["partnerId"] == "pub-one"),
        "{ledger:#?}"
    );
    let viewer = app.as_role("acme", Role::Viewer);
    let customer = json_of(viewer.get_customer("cus_1").await, 200).await;
    assert_eq!(
        (&customer["conversionCount"], &customer["revenue"]),
        (&json!(4), &json!({"EUR": "200"})),
        "{customer}"
    );
    let mine = json_of(viewer.list_customers("partnerId=pub-one").await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = json_of(viewer.list_customers("partnerId=pub-two").await, 200).await;
    assert_eq!(theirs["items"], json!([]));
    let by_campaign = json_of(viewer.list_customers("campaignId=alpha").await, 200).await;
    assert_eq!(by_campaign["items"][0]["customerId"], "cus_1");
    crate::commissions::no_drift(&app).await;
}

#[tokio::test]
async fn bad_customer_input_is_refused_naming_the_field() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let ctx = ctx_of(&app, "deal").await;
    for (body, field) in [
        (json!({"ctx": ctx, "customerId": "a b"}), "customerId"),
        (
            json!({"ctx": ctx, "customerId": "x".repeat(256)}),
            "customerId",
        ),
        (json!({"ctx": ctx}), "customerId"),
        (
            json!({"ctx": ctx, "customerId": "c1", "email": "not-an-email"}),
            "email",
        ),
    ] {
        let message = assert_error(app.lead(&body).await, 400, "invalid_request").await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    assert_error(
        app.lead(&json!({"customerId": "c1"})).await,
        400,
        "invalid_ctx",
    )
    .await;
    let op = app.as_role("acme", Role::Operator);
    assert_error(op.get_customer("nobody").await, 404, "not_found").await;
    assert_error(op.get_customer("a%20b").await, 400, "invalid_request").await;
    let coupon = json!({"customerId": "c2", "couponCode": "SPRING"});
    let message = assert_error(op.bind_customer(&coupon).await, 400, "invalid_request").await;
    assert!(message.starts_with("couponCode"), "{message}");
    let sale = json!({"couponCode": "SPRING", "idempotencyKey": "k2", "eventType": "purchase"});
    let message = assert_error(op.convert_verified(&sale).await, 400, "invalid_request").await;
    assert!(message.starts_with("couponCode"), "{message}");
    let foreign = json!({"customerId": "c4", "partnerId": "pub-two", "campaignId": "alpha"});
    let message = assert_error(op.bind_customer(&foreign).await, 400, "invalid_request").await;
    assert!(message.starts_with("partnerId"), "{message}");
    // By hand: bound once, then answered as bound before.
    let manual = json!({"customerId": "c5", "partnerId": "pub-two", "campaignId": "beta"});
    let first = json_of(op.bind_customer(&manual).await, 201).await;
    assert_eq!(
        (first["bound"].clone(), first["boundBy"].clone()),
        (json!(true), json!("manual"))
    );
    let second = json_of(
        op.bind_customer(&json!({"customerId": "c5", "ctx": ctx}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (second["bound"].clone(), second["partnerId"].clone()),
        (json!(false), json!("pub-two"))
    );
    // Nothing was bound by the refused requests.
    let all = json_of(op.list_customers("").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
}

/// "30 % of the first payment, 20 % of the renewals": the customer's first purchase and its
/// renewals earn their own rates, each once however often they are replayed, and the plan
/// answers its customer rules as written.
#[tokio::test]
async fn a_customers_first_sale_and_its_renewals_earn_their_own_rates() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let plan = json!({"currency": "EUR", "holdDays": 0, "customerDuration": {"months": 12},
        "rules": [{"eventType": "purchase", "percent": "30", "appliesTo": "first"},
                  {"eventType": "purchase", "percent": "20", "appliesTo": "recurring"}]});
    let saved = json_of(op.put_plan("alpha", &plan).await, 200).await;
    assert_eq!(saved["customerDuration"], json!({"months": 12}), "{saved}");
    assert_eq!(saved["rules"][1]["appliesTo"], "recurring");
    let bad = json!({"currency": "EUR", "customerDuration": {"months": 0},
        "rules": [{"eventType": "purchase", "percent": "20"}]});
    let message = assert_error(op.put_plan("alpha", &bad).await, 400, "invalid_request").await;
    assert!(message.starts_with("customerDuration"), "{message}");
    // The preview says what a first sale, a renewal and a renewal past the 12 months earn.
    for (customer, amount, reasons) in [
        (json!({"first": true}), "30.00", json!([])),
        (
            json!({"first": false, "boundDaysAgo": 30}),
            "20.00",
            json!([]),
        ),
        (
            json!({"first": false, "boundDaysAgo": 400}),
            "0.00",
            json!(["outside_customer_duration"]),
        ),
    ] {
        let sample = json!({"eventType": "purchase", "value": "100", "customer": customer});
        let got = json_of(op.preview_plan("alpha", &sample).await, 200).await;
        assert_eq!(
            (&got["amount"], &got["reasons"]),
            (&json!(amount), &reasons),
            "{sample}"
        );
    }
    let past =
        json!({"eventType": "purchase", "customer": {"first": false, "boundDaysAgo": 36501}});
    let message = assert_error(
        op.preview_plan("alpha", &past).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("customer.boundDaysAgo"), "{message}");

    let bind = json!({"customerId": "cus_9", "ctx": ctx_of(&app, "deal").await});
    json_of(op.bind_customer(&bind).await, 201).await;
    let merchant = app.as_role("acme", Role::Creator);
    for invoice in ["in_1", "in_2", "in_3", "in_1"] {
        let body = json!({"customerId": "cus_9", "idempotencyKey": invoice, "eventType": "purchase",
            "value": "100", "currency": "EUR"});
        let resp = merchant.convert_verified(&body).await;
        assert!(matches!(resp.status().as_u16(), 200 | 202), "{invoice}");
    }
    let ledger = crate::commissions::ledger(&app, 3).await;
    let mut amounts: Vec<&str> = ledger
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, ["20.00", "20.00", "30.00"], "{ledger:#?}");
    crate::commissions::no_drift(&app).await;
    // The funnel: three purchases of 100, two of them renewals.
    let viewer = app.as_role("acme", Role::Viewer);
    let row = eventually_or("the funnel to count the three purchases", || async {
        let funnel = json_of(viewer.analytics("campaignId=alpha").await, 200).await;
        let row = funnel["campaigns"][0].clone();
        if row["conversions"] == 3 {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    })
    .await;
    assert_eq!(row["revenue"], json!({"EUR": "300.00"}), "{row}");
    assert_eq!(row["recurringRevenue"], json!({"EUR": "200.00"}), "{row}");
}

/// Leads count in the funnel's `leads`, and the ones that bound their customer in `customers`.
#[tokio::test]
async fn the_funnel_counts_leads_and_the_customers_they_bound() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let ctx = ctx_of(&app, "deal").await;
    for (customer, key) in [("c1", None), ("c2", None), ("c1", Some("again"))] {
        let mut body = json!({"ctx": ctx, "customerId": customer});
        if let Some(k) = key {
            body["idempotencyKey"] = json!(k);
        }
        json_of(app.lead(&body).await, 202).await;
    }
    let viewer = app.as_role("acme", Role::Viewer);
    let row = eventually_or("the funnel to count the three leads", || async {
        let funnel = json_of(viewer.analytics("campaignId=alpha").await, 200).await;
        let row = funnel["campaigns"][0].clone();
        if row["leads"] == 3 {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    })
    .await;
    assert_eq!(row["customers"], 2, "{row}");
    // By partner: pub-one's campaigns only, each row naming its partner, the totals its own.
    let mine = json_of(viewer.analytics("partnerId=pub-one").await, 200).await;
    let rows = mine["campaigns"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{mine}");
    assert_eq!(
        (&rows[0]["campaignId"], &rows[0]["partnerId"]),
        (&json!("alpha"), &json!("pub-one"))
    );
    assert_eq!(
        (&mine["totals"]["leads"], &mine["totals"]["customers"]),
        (&json!(3), &json!(2))
    );
    let theirs = json_of(viewer.analytics("partnerId=pub-two").await, 200).await;
    assert_eq!(theirs["totals"]["leads"], 0, "{theirs}");
    assert_error(
        viewer.analytics("partnerId=a%20b").await,
        400,
        "invalid_request",
    )
    .await;
    // A partner token names only itself.
    let partner = as_partner(&app, "acme", "pub-two").await;
    assert_error(
        partner.analytics("partnerId=pub-one").await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(partner.analytics("partnerId=pub-two").await.status(), 200);
}

/// A refund of one renewal claws back that renewal's commission only: the first sale's and the
/// other renewal's lines stand, and the balances match the lines.
#[tokio::test]
async fn refunding_a_renewal_reverses_only_that_renewals_commission() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let lead = json!({"ctx": ctx_of(&app, "deal").await, "customerId": "cus_r"});
    json_of(app.lead(&lead).await, 202).await;
    let merchant = app.as_role("acme", Role::Creator);
    let mut ids = Vec::new();
    for invoice in ["in_1", "in_2", "in_3"] {
        let body = json!({"customerId": "cus_r", "idempotencyKey": invoice, "eventType": "purchase",
            "value": "100", "currency": "EUR"});
        let receipt = json_of(merchant.convert_verified(&body).await, 202).await;
        ids.push(receipt["conversionId"].as_str().unwrap().to_owned());
    }
    crate::commissions::ledger(&app, 4).await; // the lead's and three purchases'
    let op = app.as_role("acme", Role::Operator);
    json_of(op.reverse(&ids[1], &json!({"reason": "refund"})).await, 201).await;
    let ledger = crate::commissions::ledger(&app, 5).await;
    let adjustment = ledger
        .iter()
        .find(|l| l["kind"] == "adjustment")
        .expect("one adjustment");
    let renewal = ledger
        .iter()
        .find(|l| l["conversionId"] == ids[1].as_str() && l["kind"] == "conversion")
        .expect("the refunded renewal's line");
    assert_eq!(adjustment["adjustsCommissionId"], renewal["commissionId"]);
    assert_eq!(adjustment["amount"], "-10.00", "{adjustment}");
    let adjusted: Vec<&Value> = ledger
        .iter()
        .filter(|l| l["kind"] == "adjustment")
        .collect();
    assert_eq!(adjusted.len(), 1, "the others stand: {ledger:#?}");
    // The customer's commissions: the lead's 1.00 and three renewals' 10.00, net of the refund.
    let customer = json_of(op.get_customer("cus_r").await, 200).await;
    assert_eq!(
        customer["commissions"],
        json!({"EUR": "21.00"}),
        "{customer}"
    );
    crate::commissions::no_drift(&app).await;
    // The drift check recomputes it from the lines: a record moved by hand is named.
    let nudge = |d: i128| tenx_shared::platform::store::WriteOp::Add {
        pk: tenx_shared::platform::store::keys::customers_pk(&acme()),
        sk: "cus_r".into(),
        deltas: vec![("com_eur".into(), d)],
        cap: None,
        expires_at: None,
    };
    let state = app.state();
    state.store.write(nudge(1)).await.unwrap();
    let report = tenx_shared::ledger::check::check(state.store.as_ref(), &acme())
        .await
        .unwrap();
    assert_eq!(
        report.drifts,
        ["customer cus_r: commissions EUR 21.01 in its record, 21.00 in its lines"]
    );
    state.store.write(nudge(-1)).await.unwrap();
    crate::commissions::no_drift(&app).await;
}

/// Coupon codes: unique per handle whatever their case, the campaign must be the partner's; a
/// sale with a code and nothing else is the partner's (and binds its customer, whose renewals
/// then need nothing); a ctx or an earlier binding comes first; a deleted code attributes no
/// more, and what it attributed stays.
#[tokio::test]
async fn coupon_codes_attribute_sales_and_bind_their_customers() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let code = json!({"code": "Spring-10", "campaignId": "alpha"});
    let created = json_of(op.create_coupon("pub-one", &code).await, 201).await;
    assert_eq!(
        (&created["code"], &created["partnerId"]),
        (&json!("Spring-10"), &json!("pub-one"))
    );
    let taken = json!({"code": "SPRING-10", "campaignId": "beta"});
    assert_error(op.create_coupon("pub-two", &taken).await, 409, "conflict").await;
    let foreign = json!({"code": "other", "campaignId": "beta"});
    let message = assert_error(
        op.create_coupon("pub-one", &foreign).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("campaignId"), "{message}");
    let bad = json!({"code": "a b", "campaignId": "alpha"});
    let message = assert_error(
        op.create_coupon("pub-one", &bad).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("code"), "{message}");
    assert_error(
        op.create_coupon("nobody", &json!({"code": "x1", "campaignId": "alpha"}))
            .await,
        404,
        "not_found",
    )
    .await;

    // A one-off sale by code (any case), then a customer bound by it whose renewal needs nothing.
    let sale = json!({"couponCode": "spring-10", "idempotencyKey": "o-1", "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let receipt = json_of(op.convert_verified(&sale).await, 202).await;
    assert_eq!(receipt["campaignId"], "alpha", "{receipt}");
    // Its replay (no ctx: the click is the first try's) is the same conversion, once.
    let replayed = json_of(op.convert_verified(&sale).await, 200).await;
    assert_eq!(
        (
            &replayed["deduped"],
            &replayed["conversionId"],
            &replayed["clickId"]
        ),
        (&json!(true), &receipt["conversionId"], &receipt["clickId"])
    );
    let first = json!({"customerId": "cus_c", "couponCode": "SPRING-10", "idempotencyKey": "o-2",
        "eventType": "purchase", "value": "100.00", "currency": "EUR"});
    json_of(op.convert_verified(&first).await, 202).await;
    let renewal = json!({"customerId": "cus_c", "idempotencyKey": "o-3", "eventType": "purchase",
        "value": "100.00", "currency": "EUR"});
    json_of(op.convert_verified(&renewal).await, 202).await;
    let customer = json_of(op.get_customer("cus_c").await, 200).await;
    assert_eq!(
        (
            &customer["boundBy"],
            &customer["partnerId"],
            &customer["conversionCount"]
        ),
        (&json!("coupon"), &json!("pub-one"), &json!(2)),
        "{customer}"
    );
    let mut amounts: Vec<String> = crate::commissions::ledger(&app, 3)
        .await
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["partnerId"].as_str().unwrap(),
                l["amount"].as_str().unwrap()
            )
        })
        .collect();
    amounts.sort();
    assert_eq!(amounts, ["pub-one 10.00", "pub-one 10.00", "pub-one 5.00"]);

    // A ctx comes before the code; a bound customer keeps its binding whatever code it brings.
    let by_ctx = json!({"ctx": ctx_of(&app, "offer").await, "couponCode": "SPRING-10",
        "idempotencyKey": "o-4", "eventType": "purchase"});
    assert_eq!(
        json_of(op.convert_verified(&by_ctx).await, 202).await["campaignId"],
        "beta"
    );
    let manual = json!({"customerId": "cus_m", "partnerId": "pub-two", "campaignId": "beta"});
    json_of(op.bind_customer(&manual).await, 201).await;
    let kept = json!({"customerId": "cus_m", "couponCode": "SPRING-10", "idempotencyKey": "o-5",
        "eventType": "purchase"});
    assert_eq!(
        json_of(op.convert_verified(&kept).await, 202).await["campaignId"],
        "beta"
    );

    // A partner token sees its own codes and customers only; a deleted code attributes no more.
    let partner = as_partner(&app, "acme", "pub-one").await;
    let listed = json_of(partner.list_coupons("pub-one").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(partner.list_coupons("pub-two").await.status(), 404);
    let mine = json_of(partner.list_customers("").await, 200).await;
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cus_c"], "{mine}");
    assert_eq!(partner.get_customer("cus_m").await.status(), 404);
    assert_eq!(
        partner.delete_coupon("pub-one", "SPRING-10").await.status(),
        403
    );
    assert_eq!(op.delete_coupon("pub-two", "spring-10").await.status(), 404);
    assert_eq!(op.delete_coupon("pub-one", "SPRING-10").await.status(), 204);
    assert_eq!(op.delete_coupon("pub-one", "SPRING-10").await.status(), 404);
    let after =
        json!({"couponCode": "Spring-10", "idempotencyKey": "o-6", "eventType": "purchase"});
    assert_error(op.convert_verified(&after).await, 400, "invalid_request").await;
    assert_eq!(
        json_of(op.get_customer("cus_c").await, 200).await["boundBy"],
        "coupon"
    );
    crate::commissions::no_drift(&app).await;
}

/// Self-referral: a customer whose email is its partner's own (whatever the case) is flagged,
/// and its commissions are held with that reason for review; another customer's are not.
#[tokio::test]
async fn a_partners_own_email_as_its_customer_is_flagged_and_held() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let email = json!({"email": "Owner@Pub-One.example"});
    json_of(
        op.send_json(Method::PATCH, "/partners/pub-one", &email)
            .await,
        200,
    )
    .await;
    for (customer, email, key) in [
        ("cus_self", "owner@pub-one.EXAMPLE", "s-1"),
        ("cus_other", "someone@else.example", "s-2"),
    ] {
        let lead =
            json!({"ctx": ctx_of(&app, "deal").await, "customerId": customer, "email": email});
        json_of(app.lead(&lead).await, 202).await;
        let sale = json!({"customerId": customer, "idempotencyKey": key, "eventType": "purchase",
            "value": "100.00", "currency": "EUR"});
        json_of(op.convert_verified(&sale).await, 202).await;
    }
    let flagged = json_of(op.get_customer("cus_self").await, 200).await;
    assert_eq!(
        (&flagged["flags"], &flagged["emailMasked"]),
        (&json!(["self_referral"]), &json!("o***@pub-one.example"))
    );
    let clean = json_of(op.get_customer("cus_other").await, 200).await;
    assert_eq!(clean["flags"], json!([]), "{clean}");
    // The self-referral's lead and sale are held for it; the other customer's are not (a line
    // may still be held for another reason, such as the campaign's confidence while its clicks
    // are being counted).
    let all = crate::commissions::ledger(&app, 4).await;
    let self_referred: Vec<&Value> = all
        .iter()
        .filter(|l| {
            l["reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("self_referral"))
        })
        .collect();
    assert_eq!(
        self_referred.len(),
        2,
        "the self-referral's lead and sale: {all:#?}"
    );
    assert!(
        self_referred.iter().all(|l| l["status"] == "held"),
        "{all:#?}"
    );
    crate::commissions::no_drift(&app).await;
}

#[tokio::test]
async fn an_unbound_customers_sale_without_ctx_is_recorded_unattributed_and_earns_nothing() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let merchant = app.as_role("acme", Role::Creator);
    let sale = json!({"customerId": "cus_walk_in", "idempotencyKey": "inv-1",
        "eventType": "purchase", "value": "80.00", "currency": "EUR"});
    let receipt = json_of(merchant.convert_verified(&sale).await, 202).await;
    assert_eq!(receipt["campaignId"], Value::Null, "{receipt}");
    // A replay is the same conversion; the same key with another value is refused.
    let replay = json_of(merchant.convert_verified(&sale).await, 200).await;
    assert_eq!(
        (&replay["deduped"], &replay["conversionId"]),
        (&json!(true), &receipt["conversionId"])
    );
    let mut changed = sale.clone();
    changed["value"] = json!("81.00");
    assert_error(
        merchant.convert_verified(&changed).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    // Recorded with no link and no campaign, and no customer record is made for it.
    let viewer = app.as_role("acme", Role::Viewer);
    let listed = json_of(viewer.list_conversions("limit=10").await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(
        (
            &items[0]["slug"],
            &items[0]["campaignId"],
            &items[0]["customerId"]
        ),
        (&json!(""), &Value::Null, &json!("cus_walk_in"))
    );
    assert_error(viewer.get_customer("cus_walk_in").await, 404, "not_found").await;
    // Bound later through a partner's click, the customer's next sale is that partner's: a
    // renewal (the first sale was the unattributed one), 10 % under alpha's plan.
    let lead = json!({"ctx": ctx_of(&app, "deal").await, "customerId": "cus_walk_in"});
    json_of(app.lead(&lead).await, 202).await;
    let next = json!({"customerId": "cus_walk_in", "idempotencyKey": "inv-2",
        "eventType": "purchase", "value": "50.00", "currency": "EUR"});
    let attributed = json_of(merchant.convert_verified(&next).await, 202).await;
    assert_eq!(attributed["campaignId"], "alpha");
    let ledger = crate::commissions::ledger(&app, 2).await;
    let mut amounts: Vec<&str> = ledger
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    amounts.sort_unstable();
    assert_eq!(
        amounts,
        ["1.00", "5.00"],
        "the lead and the attributed sale only"
    );
    crate::commissions::no_drift(&app).await;
}

/// One step of a customer's story, as a merchant's systems would send it.
#[derive(Clone, Debug)]
enum Step {
    /// A lead of customer `c` through `pub-one`'s link (`deal`, earning) or `pub-two`'s
    /// (`offer`, no plan): the first binds.
    Lead { c: usize, earning: bool },
    /// A sale of customer `c` (value in whole euros), its first or a renewal; unattributed while
    /// `c` is bound to no one.
    Sale { c: usize, euros: u32 },
    /// A full refund of the `n`-th sale so far (modulo), once.
    Refund { n: usize },
    /// The `n`-th sale's request sent again.
    Replay { n: usize },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        (0..3usize, any::<bool>()).prop_map(|(c, earning)| Step::Lead { c, earning }),
        (0..3usize, 1..500u32).prop_map(|(c, euros)| Step::Sale { c, euros }),
        (0..8usize).prop_map(|n| Step::Refund { n }),
        (0..8usize).prop_map(|n| Step::Replay { n }),
    ]
}

/// What the model says the ledger holds after `steps`: the lines `pub-one` earns (1.00 a
/// lead of a customer bound to it, 10 % of its customers' sales, each refund one negative
/// line) and their sum in cents.
struct Model {
    bound: [Option<bool>; 3],
    sales: Vec<(Value, Option<String>, i64)>,
    refunded: Vec<bool>,
    lines: usize,
    cents: i64,
}

/// For any sequence of leads, sales, renewals, replays and refunds, the partner's balance is
/// the sum of its lines, that sum is what the plan says, and nothing drifts (a property test:
/// random sequences from a fixed seed, each on a fresh app).
#[tokio::test]
async fn any_sequence_of_leads_sales_and_refunds_keeps_the_balance_the_sum_of_its_lines() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::vec(step(), 4..14);
    let mut earned = 0;
    for case in 0..8 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let app = spawn_app().await;
        two_partners(&app).await;
        let model = play(&app, case, &steps).await;
        let lines = crate::commissions::ledger(&app, model.lines).await;
        let sum: i64 = lines
            .iter()
            .map(|l| cents_of(l["amount"].as_str().unwrap()))
            .sum();
        assert_eq!(sum, model.cents, "case {case}: {steps:?}\n{lines:#?}");
        if model.lines > 0 {
            let op = app.as_role("acme", Role::Operator);
            let balances = json_of(op.balances("partnerId=pub-one").await, 200).await;
            let eur = &balances["items"][0];
            let slots = ["pending", "held", "approved", "paid", "openNegative"];
            let in_balance: i64 = slots
                .iter()
                .map(|s| cents_of(eur[s].as_str().unwrap()))
                .sum();
            assert_eq!(in_balance, sum, "case {case}: {steps:?}\n{balances}");
            crate::commissions::no_drift(&app).await;
            earned += 1;
        }
    }
    assert!(
        earned >= 3,
        "the seed's sequences earn in {earned} cases only"
    );
}

async fn play(app: &TestApp, case: usize, steps: &[Step]) -> Model {
    let merchant = app.as_role("acme", Role::Creator);
    let op = app.as_role("acme", Role::Operator);
    let mut m = Model {
        bound: [None; 3],
        sales: Vec::new(),
        refunded: Vec::new(),
        lines: 0,
        cents: 0,
    };
    for (i, s) in steps.iter().enumerate() {
        match *s {
            Step::Lead { c, earning } => {
                let slug = if earning { "deal" } else { "offer" };
                let lead = json!({"ctx": ctx_of(app, slug).await, "customerId": format!("cus_{c}"),
                    "idempotencyKey": format!("lead-{case}-{i}")});
                json_of(app.lead(&lead).await, 202).await;
                let bound = *m.bound[c].get_or_insert(earning);
                if bound {
                    (m.lines, m.cents) = (m.lines + 1, m.cents + 100);
                }
            }
            Step::Sale { c, euros } => {
                let body = json!({"customerId": format!("cus_{c}"), "idempotencyKey": format!("sale-{case}-{i}"),
                    "eventType": "purchase", "value": euros.to_string(), "currency": "EUR"});
                let receipt = json_of(merchant.convert_verified(&body).await, 202).await;
                let earns = m.bound[c] == Some(true);
                let id = receipt["conversionId"].as_str().map(str::to_owned);
                let cents = if earns { i64::from(euros) * 10 } else { 0 };
                if earns {
                    (m.lines, m.cents) = (m.lines + 1, m.cents + cents);
                }
                m.sales.push((body, id, cents));
                m.refunded.push(false);
            }
            Step::Refund { n } if !m.sales.is_empty() => {
                let n = n % m.sales.len();
                let (_, id, cents) = &m.sales[n];
                let status = if m.refunded[n] { 200 } else { 201 };
                let reason = json!({"reason": "refund"});
                json_of(op.reverse(id.as_deref().unwrap(), &reason).await, status).await;
                if !m.refunded[n] && *cents > 0 {
                    (m.lines, m.cents) = (m.lines + 1, m.cents - cents);
                }
                m.refunded[n] = true;
            }
            Step::Replay { n } if !m.sales.is_empty() => {
                let (body, id, _) = &m.sales[n % m.sales.len()];
                let again = json_of(merchant.convert_verified(body).await, 200).await;
                assert_eq!(again["conversionId"].as_str(), id.as_deref(), "a replay");
            }
            Step::Refund { .. } | Step::Replay { .. } => {}
        }
    }
    m
}

/// `"-12.50"` → -1250.
fn cents_of(amount: &str) -> i64 {
    let negative = amount.starts_with('-');
    let (int, frac) = amount.trim_start_matches('-').split_once('.').unwrap();
    let cents = int.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if negative { -cents } else { cents }
}

/// The plan's 12 months, end to end on the service's clock: a renewal on day 364 after the
/// binding earns the recurring rate, one on day 366 earns nothing, and its line says why.
#[tokio::test]
async fn a_renewal_on_day_364_earns_and_on_day_366_does_not() {
    let app = spawn_app().await;
    two_partners(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let plan = json!({"currency": "EUR", "holdDays": 0, "customerDuration": {"months": 12},
        "rules": [{"eventType": "purchase", "percent": "20", "appliesTo": "recurring"}]});
    json_of(op.put_plan("alpha", &plan).await, 200).await;
    let bind = json!({"customerId": "cus_year", "ctx": ctx_of(&app, "deal").await});
    json_of(op.bind_customer(&bind).await, 201).await;
    let day = Duration::from_secs(86_400);
    let mut renewals = Vec::new();
    for (invoice, days) in [("in_first", 0), ("in_364", 364), ("in_366", 2)] {
        tenx_shared::platform::time::advance(day * days);
        // Tokens are minted on the moved clock, as the server reads it.
        let merchant = app.as_role("acme", Role::Creator);
        let body = json!({"customerId": "cus_year", "idempotencyKey": invoice,
            "eventType": "purchase", "value": "100", "currency": "EUR"});
        let receipt = json_of(merchant.convert_verified(&body).await, 202).await;
        renewals.push(receipt["conversionId"].as_str().unwrap().to_owned());
    }
    let lines = crate::commissions::ledger(&app, 3).await;
    let of = |id: &str| {
        lines
            .iter()
            .find(|l| l["conversionId"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {lines:#?}"))
    };
    // The first sale matches no rule (recurring only); day 364 earns 20 %; day 366 is past.
    assert_eq!(
        of(&renewals[0])["reasons"],
        json!(["no_rule"]),
        "{lines:#?}"
    );
    assert_eq!(of(&renewals[1])["amount"], "20.00", "{lines:#?}");
    let late = of(&renewals[2]);
    assert_eq!(
        (&late["amount"], &late["reasons"]),
        (&json!("0.00"), &json!(["outside_customer_duration"])),
        "{late}"
    );
    crate::commissions::no_drift(&app).await;
}

/// `customer.bound`: one signed event per customer, when its binding is made (a later lead of
/// the same customer binds nothing and sends nothing).
#[tokio::test]
async fn a_binding_sends_one_customer_bound_event() {
    use crate::webhooks::{Receiver, subscribe, webhook_config};
    let app = spawn_with(webhook_config(100), None).await;
    two_partners(&app).await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&app, &receiver.url("/bound"), &["customer.bound"]).await;
    for (customer, slug) in [("cus_1", "deal"), ("cus_1", "offer"), ("cus_2", "offer")] {
        let lead = json!({"ctx": ctx_of(&app, slug).await, "customerId": customer,
            "email": "buyer@example.com", "idempotencyKey": format!("{customer}-{slug}")});
        json_of(app.lead(&lead).await, 202).await;
    }
    let got = receiver.wait_for("/bound", 2).await;
    got[0].assert_signed_with(&secret);
    let mut bound: Vec<(String, String)> = got
        .iter()
        .map(|c| {
            let event = c.json();
            assert_eq!(event["type"], "customer.bound");
            assert_eq!(event["data"]["emailMasked"], "b***@example.com");
            let field = |k: &str| event["data"][k].as_str().unwrap().to_owned();
            (field("customerId"), field("partnerId"))
        })
        .collect();
    bound.sort();
    assert_eq!(
        bound,
        [
            ("cus_1".to_owned(), "pub-one".to_owned()),
            ("cus_2".to_owned(), "pub-two".to_owned())
        ]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.captured("/bound").len(),
        2,
        "cus_1's second lead sent nothing"
    );
}
