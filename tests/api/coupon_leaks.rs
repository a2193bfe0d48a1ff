//! Coupon leaks (issue 63): how a sale used a partner's code (with or without a click of that
//! partner), the program's `couponWithoutClick` policy on the lines and in the backtest, the leak
//! report and its alert, and rotation.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, eventually_or, json_of, spawn_app};
use crate::scenario::human_ctx;

async fn two_partners(app: &TestApp) {
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(app, &plan, Some(&plan)).await;
}

async fn ctx_of(app: &TestApp, slug: &str) -> String {
    human_ctx(app, "acme", &format!("/{slug}")).await
}

async fn program(app: &TestApp, policy: Value) {
    let op = app.as_role("acme", Role::Admin);
    let mut body = json!({"name": "Acme partners"});
    body.as_object_mut()
        .unwrap()
        .extend(policy.as_object().unwrap().clone());
    let resp = op.put_program(&body).await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

async fn code(app: &TestApp, partner: &str, code: &str, campaign: &str) {
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"code": code, "campaignId": campaign});
    json_of(op.create_coupon(partner, &body).await, 201).await;
}

/// A sale of 100.00 EUR with `key`, the code, and the ctx / landing referrer given.
async fn sale(app: &TestApp, key: &str, code: &str, ctx: Option<&str>, from: Option<&str>) {
    let op = app.as_role("acme", Role::Operator);
    let mut body = json!({"couponCode": code, "idempotencyKey": key, "eventType": "purchase",
        "value": "100.00", "currency": "EUR"});
    if let Some(ctx) = ctx {
        body["ctx"] = json!(ctx);
    }
    if let Some(from) = from {
        body["landingReferrer"] = json!(from);
    }
    json_of(op.convert_verified(&body).await, 202).await;
}

/// The line of the conversion whose idempotency key is `key`.
fn line<'a>(lines: &'a [Value], conversions: &[(String, String)], key: &str) -> &'a Value {
    let id = &conversions.iter().find(|(k, _)| k == key).unwrap().1;
    lines
        .iter()
        .find(|l| l["conversionId"] == json!(id))
        .unwrap_or_else(|| panic!("no line for {key}: {lines:#?}"))
}

async fn conversions(app: &TestApp) -> Vec<(String, String)> {
    let viewer = app.as_role("acme", Role::Viewer);
    let page = json_of(viewer.get("/conversions?limit=100").await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = c["idempotencyKey"].as_str().unwrap_or_default().to_owned();
            (key, c["conversionId"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Each policy on a sale that used pub-one's code with no click of pub-one; a sale that came
/// with pub-one's click, and one whose ctx is pub-two's, are left alone; the backtest replays
/// another policy beside the plan and says what it changes.
#[tokio::test]
async fn a_code_used_without_its_partners_click_earns_what_the_program_says() {
    let app = spawn_app().await;
    two_partners(&app).await;
    code(&app, "pub-one", "SPRING", "alpha").await;
    program(
        &app,
        json!({"couponWithoutClick": "reduce", "couponReducePercent": 35}),
    )
    .await;
    sale(&app, "reduced", "SPRING", None, None).await;
    sale(
        &app,
        "clicked",
        "spring",
        Some(&ctx_of(&app, "deal").await),
        None,
    )
    .await;
    sale(
        &app,
        "other",
        "SPRING",
        Some(&ctx_of(&app, "offer").await),
        None,
    )
    .await;
    program(&app, json!({"couponWithoutClick": "hold"})).await;
    sale(&app, "held", "SPRING", None, None).await;
    program(&app, json!({"couponWithoutClick": "none"})).await;
    sale(&app, "nothing", "SPRING", None, None).await;

    let lines = crate::commissions::ledger(&app, 5).await;
    let ids = conversions(&app).await;
    let of = |key| line(&lines, &ids, key);
    let why = "coupon_without_click";
    assert_eq!(of("reduced")["amount"], "6.50", "10.00 less 35 %");
    assert!(of("reduced")["reasons"].to_string().contains(why));
    for key in ["clicked", "other"] {
        assert_eq!(of(key)["amount"], "10.00", "{key}");
        assert!(!of(key)["reasons"].to_string().contains(why), "{key}");
    }
    assert_eq!(
        of("other")["partnerId"],
        "pub-two",
        "the ctx comes before the code"
    );
    assert_eq!(
        (&of("held")["status"], &of("held")["amount"]),
        (&json!("held"), &json!("10.00"))
    );
    assert!(of("held")["reasons"].to_string().contains(why));
    assert_eq!(
        (&of("nothing")["status"], &of("nothing")["amount"]),
        (&json!("rejected"), &json!("0.00"))
    );

    // The backtest replays the plan with "pay": the three governed sales change back.
    let now = tenx_shared::platform::time::now_millis();
    let at = tenx_shared::domain::time::unix_millis_to_rfc3339;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}]});
    let body = |policy: Value| {
        let mut b = json!({"plan": plan, "from": at(now - 86_400_000), "to": at(now + 86_400_000)});
        b.as_object_mut()
            .unwrap()
            .extend(policy.as_object().unwrap().clone());
        b
    };
    let op = app.as_role("acme", Role::Operator);
    let path = "/campaigns/alpha/commission-plan/backtest";
    let pay = json_of(
        op.send_json(
            Method::POST,
            path,
            &body(json!({"couponWithoutClick": "pay"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        pay["couponWithoutClick"],
        json!({"policy": "pay", "conversions": 3, "changed": 0}),
        "{pay}"
    );
    let mine = &pay["partners"][0];
    assert_eq!(
        (&mine["partnerId"], &mine["actual"], &mine["draft"]),
        (&json!("pub-one"), &json!("26.50"), &json!("40.00")),
        "{pay}"
    );
    // Without a policy, the program's own ("none") is replayed.
    let own = json_of(
        op.send_json(Method::POST, path, &body(json!({}))).await,
        200,
    )
    .await;
    assert_eq!(own["couponWithoutClick"]["changed"], 3, "{own}");
    let bad = body(json!({"couponWithoutClick": "reduce"}));
    let message = assert_error(
        op.send_json(Method::POST, path, &bad).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("couponReducePercent"), "{message}");
}

/// A program's coupon fields are checked together, each error naming its field.
#[tokio::test]
async fn coupon_policies_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Admin);
    for (body, field) in [
        (
            json!({"couponWithoutClick": "reduce"}),
            "couponReducePercent",
        ),
        (
            json!({"couponWithoutClick": "reduce", "couponReducePercent": 100}),
            "couponReducePercent",
        ),
        (
            json!({"couponWithoutClick": "hold", "couponReducePercent": 10}),
            "couponReducePercent",
        ),
        (json!({"couponLeakThreshold": 0}), "couponLeakThreshold"),
        (json!({"couponLeakThreshold": 101}), "couponLeakThreshold"),
    ] {
        let mut full = json!({"name": "Acme"});
        full.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let message = assert_error(op.put_program(&full).await, 400, "invalid_request").await;
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let bad = json!({"name": "Acme", "couponWithoutClick": "maybe"});
    assert_eq!(op.put_program(&bad).await.status(), 400);
}

/// A code used from coupon sites with no click of its partner scores above the partner's own
/// code, names where its sales came from, raises one alert however many sales follow, and leads
/// the handle's ranking by score.
#[tokio::test]
async fn the_leak_report_ranks_a_leaked_code_first_and_alerts_once() {
    let app = spawn_app().await;
    two_partners(&app).await;
    code(&app, "pub-one", "LEAKY", "alpha").await;
    code(&app, "pub-two", "OWN", "beta").await;
    let (one, two) = (ctx_of(&app, "deal").await, ctx_of(&app, "offer").await);
    let site = "https://www.retailmenot.com/view/acme.example";
    for i in 0..8 {
        sale(&app, &format!("l{i}"), "LEAKY", None, Some(site)).await;
        sale(&app, &format!("o{i}"), "OWN", Some(&two), None).await;
    }
    for i in 8..10 {
        sale(&app, &format!("l{i}"), "LEAKY", Some(&one), None).await;
        sale(&app, &format!("o{i}"), "OWN", None, None).await;
    }
    crate::commissions::ledger(&app, 20).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let leaky = settled(&viewer, "LEAKY", 10).await;
    let own = settled(&viewer, "OWN", 10).await;
    assert_eq!(
        (&leaky["withoutClick"], &leaky["share"], &leaky["partnerId"]),
        (&json!(8), &json!(0.8), &json!("pub-one")),
        "{leaky}"
    );
    assert_eq!(
        leaky["sources"][0],
        json!({"referrerDomain": "retailmenot.com", "count": 8})
    );
    assert!(
        leaky["reasons"]
            .to_string()
            .contains("coupon_site_referrer"),
        "{leaky}"
    );
    assert!(
        leaky["score"].as_u64().unwrap() > own["score"].as_u64().unwrap() + 50,
        "{leaky} {own}"
    );
    assert_eq!(own["sources"][0]["referrerDomain"], "direct");

    // One alert for the leaked code (its marker commits with the event), none for the other,
    // and more sales of the leaked code raise no second one.
    for i in 10..13 {
        sale(&app, &format!("l{i}"), "LEAKY", None, Some(site)).await;
    }
    crate::commissions::ledger(&app, 23).await;
    settled(&viewer, "LEAKY", 13).await;
    let alerts = alerts(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].starts_with("leaky#"), "{alerts:?}");

    assert_error(
        viewer.get("/coupon-codes/NOPE/leak").await,
        404,
        "not_found",
    )
    .await;

    // The ranking: the leaked code first, each as its own report answers it.
    let ranked = ranked_when(&viewer, &[("leaky", 13), ("own", 10)]).await;
    let leaky = json_of(viewer.get("/coupon-codes/LEAKY/leak").await, 200).await;
    let own = json_of(viewer.get("/coupon-codes/OWN/leak").await, 200).await;
    let mut first = ranked[0].clone();
    assert!(first["ratedAt"].as_str().is_some(), "{first}");
    first.as_object_mut().unwrap().remove("ratedAt");
    assert_eq!(first, leaky);
    assert_eq!(ranked[1]["code"], own["code"]);
    assert_eq!(ranked[1]["score"], own["score"]);
    let one = json_of(viewer.get("/coupon-codes/leaks?limit=1").await, 200).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["code"], "LEAKY");
    for bad in ["0", "101", "ten"] {
        let resp = viewer
            .get(&format!("/coupon-codes/leaks?limit={bad}"))
            .await;
        let body = assert_error(resp, 400, "invalid_request").await;
        assert!(body.contains("limit"), "{body}");
    }
    let partner = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    assert!(
        partner
            .get("/coupon-codes/LEAKY/leak")
            .await
            .status()
            .is_client_error()
    );
    assert!(
        partner
            .get("/coupon-codes/leaks")
            .await
            .status()
            .is_client_error()
    );
}

/// A code's leak share changes on the day its sales leave the 90-day window, with no sale after
/// them: the ranking (the kept report, re-scored as of the day read) and the one-code report
/// agree that day.
#[tokio::test]
async fn a_codes_leak_share_ages_out_of_the_window_without_a_new_sale() {
    let day = std::time::Duration::from_secs(86_400);
    let app = spawn_app().await;
    two_partners(&app).await;
    code(&app, "pub-one", "LEAKY", "alpha").await;
    let site = "https://www.retailmenot.com/view/acme.example";
    for i in 0..6 {
        sale(&app, &format!("l{i}"), "LEAKY", None, Some(site)).await;
    }
    crate::commissions::ledger(&app, 6).await;
    let viewer = app.as_role("acme", Role::Viewer);
    settled(&viewer, "LEAKY", 6).await;
    let ranked = ranked_when(&viewer, &[("leaky", 6)]).await;
    assert_eq!(ranked[0]["share"], json!(1.0), "{ranked:?}");

    // Sixty days on, six sales with the partner's click: half the code's sales leaked.
    tenx_shared::platform::time::advance(day * 60);
    let one = ctx_of(&app, "deal").await;
    for i in 6..12 {
        sale(&app, &format!("l{i}"), "LEAKY", Some(&one), None).await;
    }
    crate::commissions::ledger(&app, 12).await;
    settled(&viewer, "LEAKY", 12).await;
    let ranked = ranked_when(&viewer, &[("leaky", 12)]).await;
    assert_eq!(
        (&ranked[0]["withoutClick"], &ranked[0]["share"]),
        (&json!(6), &json!(0.5)),
        "{ranked:?}"
    );
    let before = ranked[0]["score"].as_u64().unwrap();

    // Thirty-one days later, no sale since: the leaked sales are 91 days old, out of the
    // window, and both answers say so that day.
    tenx_shared::platform::time::advance(day * 31);
    let leak = json_of(viewer.get("/coupon-codes/LEAKY/leak").await, 200).await;
    assert_eq!(
        (&leak["conversions"], &leak["withoutClick"], &leak["share"]),
        (&json!(6), &json!(0), &json!(0.0)),
        "{leak}"
    );
    let page = json_of(viewer.get("/coupon-codes/leaks").await, 200).await;
    let mut first = page["items"][0].clone();
    assert!(first["score"].as_u64().unwrap() < before, "{first}");
    first.as_object_mut().unwrap().remove("ratedAt");
    assert_eq!(first, leak);

    // A report kept before reports held their days (stale figures, no days) is rated from its
    // sales by the ranking that reads it, and kept again with its days.
    let store = app.store.clone();
    let kept = store
        .get("H#acme#CPNS", "leaky")
        .await
        .unwrap()
        .expect("kept");
    let mut older = kept.doc.clone();
    older.as_object_mut().unwrap().remove("days");
    older["conversions"] = json!(99);
    let item = tenx_shared::platform::store::Item::new("H#acme#CPNS", "leaky", older);
    tenx_shared::platform::store::put(store.as_ref(), item)
        .await
        .unwrap();
    let page = json_of(viewer.get("/coupon-codes/leaks").await, 200).await;
    let mut first = page["items"][0].clone();
    first.as_object_mut().unwrap().remove("ratedAt");
    assert_eq!(first, leak);
    let again = store.get("H#acme#CPNS", "leaky").await.unwrap().unwrap();
    assert!(again.doc["days"].is_array(), "{}", again.doc);
}

/// The ranking once the events worker has rated each `(code, sales)`: its items.
async fn ranked_when(viewer: &crate::endpoints::As<'_>, want: &[(&str, u64)]) -> Vec<Value> {
    eventually_or(&format!("the ranking to show {want:?}"), || async {
        let page = json_of(viewer.get("/coupon-codes/leaks").await, 200).await;
        let items = page["items"].as_array().unwrap().clone();
        let rated = |code: &str, n: u64| {
            items.iter().any(|i| {
                i["code"].as_str().unwrap().eq_ignore_ascii_case(code)
                    && i["conversions"] == json!(n)
            })
        };
        if items.len() == want.len() && want.iter().all(|(c, n)| rated(c, *n)) {
            Ok(items)
        } else {
            Err(page.to_string())
        }
    })
    .await
}

/// The report once the events worker has recorded `n` sales of `code`.
async fn settled(viewer: &crate::endpoints::As<'_>, code: &str, n: u64) -> Value {
    eventually_or(&format!("{code} to reach {n} sales"), || async {
        let leak = json_of(viewer.get(&format!("/coupon-codes/{code}/leak")).await, 200).await;
        if leak["conversions"] == json!(n) {
            Ok(leak)
        } else {
            Err(leak.to_string())
        }
    })
    .await
}

async fn alerts(app: &TestApp) -> Vec<String> {
    let state = app.state();
    let q = tenx_shared::platform::store::Query::all("H#acme#CPNL");
    let page = state.store.query(q).await.unwrap();
    page.items.into_iter().map(|i| i.sk).collect()
}

/// A rotated code: the new one attributes at once, the old one through its grace period only,
/// a code rotates once (two rotations at once make one new code), and bad input names its field.
#[tokio::test]
async fn a_rotated_code_attributes_for_its_grace_period_then_stops() {
    let app = spawn_app().await;
    two_partners(&app).await;
    code(&app, "pub-one", "OLD", "alpha").await;
    let op = app.as_role("acme", Role::Operator);
    let path = |c: &str| format!("/partners/pub-one/coupon-codes/{c}/rotate");
    let races = (0..4).map(|i| {
        let (op, path) = (&op, path("OLD"));
        async move {
            let body = json!({"newCode": format!("NEW{i}"), "graceDays": 0});
            op.send_json(Method::POST, &path, &body)
                .await
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(races).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409]);
    let listed = json_of(op.list_coupons("pub-one").await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    let old = items.iter().find(|c| c["code"] == "OLD").unwrap();
    let new = old["replacedBy"].as_str().unwrap().to_owned();
    // Grace 0: the old code no longer attributes; the new one does, on the same campaign.
    let body = json!({"couponCode": "old", "idempotencyKey": "after", "eventType": "purchase"});
    let message = assert_error(op.convert_verified(&body).await, 400, "invalid_request").await;
    assert!(message.contains(&new), "{message}");
    let body = json!({"couponCode": new, "idempotencyKey": "new", "eventType": "purchase"});
    assert_eq!(
        json_of(op.convert_verified(&body).await, 202).await["campaignId"],
        "alpha"
    );

    // A grace period keeps the old code attributing.
    code(&app, "pub-one", "KEEP", "alpha").await;
    let body = json!({"newCode": "KEEP2", "graceDays": 30});
    let rotated = json_of(op.send_json(Method::POST, &path("KEEP"), &body).await, 201).await;
    assert_eq!(rotated["replaced"]["replacedBy"], "KEEP2", "{rotated}");
    let sale = json!({"couponCode": "KEEP", "idempotencyKey": "grace", "eventType": "purchase"});
    json_of(op.convert_verified(&sale).await, 202).await;

    for (body, status, field) in [
        (json!({"graceDays": 1}), 400, "newCode"),
        (json!({"newCode": "a b"}), 400, "newCode"),
        (
            json!({"newCode": "keep2x", "graceDays": 366}),
            400,
            "graceDays",
        ),
        (json!({"newCode": "Beta-1"}), 404, "Coupon code NOPE"),
    ] {
        let c = if status == 404 { "NOPE" } else { "KEEP2" };
        let resp = op.send_json(Method::POST, &path(c), &body).await;
        let code = if status == 404 {
            "not_found"
        } else {
            "invalid_request"
        };
        let message = assert_error(resp, status, code).await;
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let taken = json!({"newCode": "spring", "graceDays": 1});
    code(&app, "pub-two", "SPRING", "beta").await;
    assert_error(
        op.send_json(Method::POST, &path("KEEP2"), &taken).await,
        409,
        "conflict",
    )
    .await;
    let other = json!({"newCode": "MINE", "graceDays": 1});
    let foreign = op
        .send_json(
            Method::POST,
            "/partners/pub-two/coupon-codes/KEEP2/rotate",
            &other,
        )
        .await;
    assert_error(foreign, 404, "not_found").await;
}
