//! Issue 47 end to end: a rule's conditions and priority choose the rule that pays (the line
//! names it, `ruleIndex`), tiers rate each conversion by where its partner stands in the month
//! (never retroactively, and exactly once when conversions cross a threshold together), and a
//! milestone bonus is paid once per partner and month, under concurrency and redelivery.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::*;

const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

async fn program(app: &TestApp, plan: &Value) {
    one_partner(app, plan).await;
}

/// A click on `path` from `country` with `ua`: its ctx.
async fn ctx_from(app: &TestApp, path: &str, country: &str, ua: &str) -> String {
    let headers = [("user-agent", ua), ("cloudfront-viewer-country", country)];
    let resp = app.visit(Method::GET, "acme", path, &headers).await;
    assert_eq!(resp.status(), 302, "{path}");
    query_param(header_str(resp.headers(), "location"), "ctx").expect("a ctx")
}

/// A verified purchase: its conversion id.
async fn purchase(app: &TestApp, ctx: &str, key: &str, value: &str, metadata: Value) -> String {
    let mut body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": value, "currency": "EUR"});
    if !metadata.is_null() {
        body["metadata"] = metadata;
    }
    let resp = app
        .as_role("acme", Role::Creator)
        .convert_verified(&body)
        .await;
    json_of(resp, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn line_of<'a>(lines: &'a [Value], conversion: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["conversionId"] == conversion && l["kind"] == "conversion")
        .unwrap_or_else(|| panic!("no line for {conversion}: {lines:#?}"))
}

#[tokio::test]
async fn conditions_and_priority_choose_the_rule_and_the_line_names_it() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10", "priority": 9},
        {"eventType": "purchase", "percent": "20", "conditions": {"countryIn": ["DE", "AT"]}},
        {"eventType": "purchase", "percent": "30", "conditions": {"metadataEquals": {"plan": "pro"}, "valueAtLeast": "50.00"}},
        {"eventType": "purchase", "percent": "40", "conditions": {"deviceIn": ["desktop"]}},
        {"eventType": "purchase", "percent": "50", "conditions": {"sourceIn": ["news"]}}]});
    program(&app, &plan).await;
    let us = human_ctx(&app, "acme", "/deal").await;
    let plain = purchase(&app, &us, "c-1", "100", Value::Null).await;
    let de = ctx_from(&app, "/deal", "DE", IPHONE).await;
    let german = purchase(&app, &de, "c-2", "100", json!({"plan": "pro"})).await;
    let us2 = human_ctx(&app, "acme", "/deal").await;
    let pro = purchase(&app, &us2, "c-3", "100", json!({"plan": "pro"})).await;
    let us3 = human_ctx(&app, "acme", "/deal").await;
    let small_pro = purchase(&app, &us3, "c-4", "49.99", json!({"plan": "pro"})).await;
    let desk = ctx_from(&app, "/deal", "US", DESKTOP).await;
    let desktop = purchase(&app, &desk, "c-5", "100", Value::Null).await;
    let news = ctx_from(&app, "/deal?utm_source=news", "US", IPHONE).await;
    let from_news = purchase(&app, &news, "c-6", "100", Value::Null).await;
    let lines = crate::commissions::ledger(&app, 6).await;
    let got = |c: &str| {
        let l = line_of(&lines, c);
        (
            l["amount"].as_str().unwrap().to_owned(),
            l["ruleIndex"].clone(),
        )
    };
    assert_eq!(got(&plain), ("10.00".into(), json!(0)));
    // Germany is listed before the metadata rule: first match in priority order (ties: array).
    assert_eq!(got(&german), ("20.00".into(), json!(1)));
    assert_eq!(got(&pro), ("30.00".into(), json!(2)));
    assert_eq!(
        got(&small_pro),
        ("5.00".into(), json!(0)),
        "below valueAtLeast"
    );
    assert_eq!(got(&desktop), ("40.00".into(), json!(3)));
    assert_eq!(got(&from_news), ("50.00".into(), json!(4)));
    // The line's own answer names the rule too.
    let id = line_of(&lines, &german)["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = app.as_role("acme", Role::Viewer);
    let one = json_of(
        viewer.list_commissions("limit=100&kind=conversion").await,
        200,
    )
    .await;
    let found = one["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["commissionId"] == id.as_str())
        .unwrap();
    assert_eq!(found["ruleIndex"], 1);
    crate::commissions::no_drift(&app).await;
}

#[tokio::test]
async fn a_customers_first_sale_and_returning_sales_meet_their_conditions() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "lead", "flat": "1.00"},
        {"eventType": "purchase", "percent": "30", "conditions": {"customer": "new"}},
        {"eventType": "purchase", "percent": "20", "conditions": {"customer": "returning"}}]});
    program(&app, &plan).await;
    let ctx = human_ctx(&app, "acme", "/deal").await;
    json_of(
        app.lead(&json!({"ctx": ctx, "customerId": "cus_t"})).await,
        202,
    )
    .await;
    let merchant = app.as_role("acme", Role::Creator);
    let mut ids = Vec::new();
    for invoice in ["in_1", "in_2"] {
        let body = json!({"customerId": "cus_t", "idempotencyKey": invoice, "eventType": "purchase",
            "value": "100", "currency": "EUR"});
        let r = json_of(merchant.convert_verified(&body).await, 202).await;
        ids.push(r["conversionId"].as_str().unwrap().to_owned());
    }
    let lines = crate::commissions::ledger(&app, 3).await;
    assert_eq!(line_of(&lines, &ids[0])["amount"], "30.00");
    assert_eq!(line_of(&lines, &ids[0])["ruleIndex"], 1);
    assert_eq!(line_of(&lines, &ids[1])["amount"], "20.00");
    assert_eq!(line_of(&lines, &ids[1])["ruleIndex"], 2);
    crate::commissions::no_drift(&app).await;
}

/// Waits for the ledger to hold `n` lines, then answers them.
async fn after(app: &TestApp, n: usize) -> Vec<Value> {
    crate::commissions::ledger(app, n).await
}

#[tokio::test]
async fn a_tier_pays_from_its_threshold_on_not_retroactively_and_a_reversal_leaves_the_count() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "flat": "1.00", "tiers": [{"from": 3, "flat": "2.00"}, {"from": 5, "flat": "3.00"}]}]});
    program(&app, &plan).await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        ids.push(purchase(&app, &ctx, &format!("t-{i}"), "10", Value::Null).await);
        after(&app, i + 1).await;
    }
    // The 2nd is refunded: the month counts 1 again, so the next is the 2nd (base rate), the
    // one after the 3rd (tier 1). The lines written keep their rates (not retroactive).
    let op = app.as_role("acme", Role::Operator);
    json_of(op.reverse(&ids[1], &json!({"reason": "refund"})).await, 201).await;
    after(&app, 3).await;
    for i in 2..6 {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        ids.push(purchase(&app, &ctx, &format!("t-{i}"), "10", Value::Null).await);
        after(&app, i + 2).await;
    }
    let lines = after(&app, 7).await;
    let rated: Vec<(String, Value)> = ids
        .iter()
        .map(|c| {
            let l = line_of(&lines, c);
            (
                l["amount"].as_str().unwrap().to_owned(),
                l["tierIndex"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rated,
        [
            ("1.00".to_owned(), Value::Null),
            ("1.00".to_owned(), Value::Null),
            ("1.00".to_owned(), Value::Null),
            ("2.00".to_owned(), json!(0)),
            ("2.00".to_owned(), json!(0)),
            ("3.00".to_owned(), json!(1)),
        ]
    );
    crate::commissions::no_drift(&app).await;
}

/// The `conversion.created` events enqueued so far (the app has no workers).
async fn created(app: &TestApp) -> Vec<tenx_shared::kernel::events::ConversionData> {
    let mut out = Vec::new();
    loop {
        let events = app.drain_queue().await;
        if events.is_empty() {
            return out;
        }
        for e in events {
            if e.kind == tenx_shared::kernel::events::EventType::ConversionCreated {
                out.push(serde_json::from_value(e.data).unwrap());
            }
        }
    }
}

#[tokio::test]
async fn twenty_concurrent_conversions_across_a_threshold_get_the_serial_rates_and_one_bonus() {
    let app = spawn_app_without_workers().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "flat": "1.00", "tiers": [{"from": 11, "flat": "2.00"}]},
        {"bonus": {"conversionsInMonth": 15}, "flat": "500.00"}]});
    program(&app, &plan).await;
    for i in 0..20 {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        purchase(&app, &ctx, &format!("k-{i}"), "10", Value::Null).await;
    }
    let conversions = created(&app).await;
    assert_eq!(conversions.len(), 20);
    let state = app.state();
    let handle = acme();
    // Every conversion accrued twice at once (a redelivery racing its first delivery).
    let runs = conversions.iter().chain(conversions.iter()).map(|c| {
        tenx_shared::ledger::accrue::accrue(state.io(), &tenx_shared::risk::Holds, &handle, c)
    });
    for r in futures::future::join_all(runs).await {
        r.expect("accrued").expect("a line");
    }
    let lines = crate::commissions::ledger(&app, 21).await;
    let amounts = |kind: &str, amount: &str| {
        lines
            .iter()
            .filter(|l| l["kind"] == kind && l["amount"] == amount)
            .count()
    };
    assert_eq!(amounts("conversion", "1.00"), 10, "{lines:#?}");
    assert_eq!(amounts("conversion", "2.00"), 10, "{lines:#?}");
    assert_eq!(amounts("bonus", "500.00"), 1, "{lines:#?}");
    let bonus = lines.iter().find(|l| l["kind"] == "bonus").unwrap();
    assert_eq!(
        (&bonus["ruleIndex"], &bonus["status"]),
        (&json!(1), &json!("pending"))
    );
    // A later replay of them all changes nothing.
    for c in &conversions {
        tenx_shared::ledger::accrue::accrue(state.io(), &tenx_shared::risk::Holds, &handle, c)
            .await
            .unwrap();
    }
    crate::commissions::ledger(&app, 21).await;
    crate::commissions::no_drift(&app).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test]
async fn bad_refinements_are_refused_naming_the_field_and_a_stale_if_match_is_412() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    program(&app, &plan).await;
    let op = app.as_role("acme", Role::Operator);
    let cases = [
        (
            json!([{"eventType": "purchase", "percent": "10"},
                   {"eventType": "signup", "flat": "1", "tiers": [{"from": 5, "flat": "2"}, {"from": 10, "flat": "3"}, {"from": 10, "flat": "4"}]}]),
            "rules[1].tiers[2].from",
        ),
        (
            json!([{"eventType": "purchase", "percent": "10", "tiers": [{"from": 5}]}]),
            "rules[0].tiers[0]",
        ),
        (
            json!([{"eventType": "purchase", "percent": "10", "conditions": {"colour": "red"}}]),
            "rules[0].conditions",
        ),
        (
            json!([{"eventType": "purchase", "percent": "10"}, {"eventType": "purchase", "percent": "20"}]),
            "rules[1]",
        ),
        (
            json!([{"bonus": {"conversionsInMonth": 100}, "flat": "500.00", "percent": "5"}]),
            "rules[0].percent",
        ),
    ];
    for (rules, field) in cases {
        let body = json!({"currency": "EUR", "rules": rules});
        let message = assert_error(op.put_plan("alpha", &body).await, 400, "invalid_request").await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let good = json!({"currency": "EUR", "rules": [
        {"eventType": "purchase", "percent": "20", "conditions": {"countryIn": ["DE"]}},
        {"eventType": "purchase", "percent": "10", "tiers": [{"from": 50, "percent": "25"}]},
        {"bonus": {"conversionsInMonth": 100}, "flat": "500.00"}]});
    let saved = json_of(op.put_plan_if_match("alpha", "\"1\"", &good).await, 200).await;
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["rules"][2]["bonus"]["conversionsInMonth"], 100);
    assert_error(
        op.put_plan_if_match("alpha", "\"1\"", &good).await,
        412,
        "precondition_failed",
    )
    .await;
}

#[tokio::test]
async fn a_preview_names_the_rule_and_tier_a_sample_would_get() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [
        {"eventType": "purchase", "percent": "20", "conditions": {"countryIn": ["DE"], "deviceIn": ["desktop"]}},
        {"eventType": "purchase", "percent": "10", "tiers": [{"from": 50, "percent": "15"}],
         "conditions": {"metadataEquals": {"plan": "pro"}}}]});
    program(&app, &plan).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let german = json!({"eventType": "purchase", "value": "100",
        "click": {"country": "de", "device": "desktop"}});
    let got = json_of(viewer.preview_plan("alpha", &german).await, 200).await;
    assert_eq!(
        (&got["amount"], &got["ruleIndex"]),
        (&json!("20.00"), &json!(0))
    );
    let pro_50th = json!({"eventType": "purchase", "value": "100", "metadata": {"plan": "pro"},
        "month": {"conversions": 49}});
    let got = json_of(viewer.preview_plan("alpha", &pro_50th).await, 200).await;
    assert_eq!(
        (&got["amount"], &got["ruleIndex"], &got["tierIndex"]),
        (&json!("15.00"), &json!(1), &json!(0))
    );
    let other = json!({"eventType": "purchase", "value": "100"});
    let got = json_of(viewer.preview_plan("alpha", &other).await, 200).await;
    assert_eq!(
        (&got["amount"], &got["reasons"]),
        (&json!("0.00"), &json!(["no_rule"]))
    );
    assert_eq!(got.get("ruleIndex"), None);
}

#[tokio::test]
async fn revenue_tiers_sum_the_months_value_and_a_rejected_conversion_leaves_it() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10", "tierBasis": "revenue",
         "tiers": [{"from": "250.00", "percent": "20"}]}]});
    program(&app, &plan).await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        ids.push(purchase(&app, &ctx, &format!("r-{i}"), "100", Value::Null).await);
        after(&app, i + 1).await;
    }
    // The 2nd is rejected: the month's value is 100 again.
    let lines = after(&app, 2).await;
    let second = line_of(&lines, &ids[1])["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let op = app.as_role("acme", Role::Operator);
    json_of(
        op.review_commission(&second, "reject", &json!({"reason": "test order"}))
            .await,
        200,
    )
    .await;
    for i in 2..4 {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        ids.push(purchase(&app, &ctx, &format!("r-{i}"), "100", Value::Null).await);
        after(&app, i + 1).await;
    }
    let lines = after(&app, 4).await;
    let amounts: Vec<&str> = ids
        .iter()
        .map(|c| line_of(&lines, c)["amount"].as_str().unwrap())
        .collect();
    // 100 → 10 %, 200 → 10 % (rejected), then 200 → 10 %, 300 (≥ 250) → 20 %.
    assert_eq!(amounts, ["10.00", "10.00", "10.00", "20.00"]);
    assert_eq!(line_of(&lines, &ids[3])["tierIndex"], 0);
    crate::commissions::no_drift(&app).await;
}

/// Issue 62: a ladder as managers write it ("0 to 9 sales: 5 %, from the 10th: 8 %") starts at
/// 0, and the rule then needs no rate of its own; the preview, the line and the partner's
/// notice follow it.
#[tokio::test]
async fn a_tier_ladder_may_start_at_0_and_the_rule_then_needs_no_rate_of_its_own() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10"}]});
    program(&app, &plan).await;
    let op = app.as_role("acme", Role::Operator);
    // Refused: a ladder that does not start at 0 without the rule's own rate, and a second
    // tier at 0.
    let cases = [
        (
            json!([{"eventType": "purchase", "tiers": [{"from": 5, "percent": "8"}]}]),
            "rules[0]: needs flat, percent or both (or tiers whose first starts at 0)",
        ),
        (
            json!([{"eventType": "purchase", "tiers": [{"from": 0, "percent": "5"}, {"from": 0, "percent": "8"}]}]),
            "rules[0].tiers[1].from",
        ),
    ];
    for (rules, start) in cases {
        let body = json!({"currency": "EUR", "holdDays": 0, "rules": rules});
        let message = assert_error(op.put_plan("alpha", &body).await, 400, "invalid_request").await;
        assert!(message.starts_with(start), "{start}: {message}");
    }
    let ladder = json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "tiers": [{"from": 0, "percent": "5"}, {"from": 10, "percent": "8"}]}]});
    json_of(op.put_plan("alpha", &ladder).await, 200).await;

    let viewer = app.as_role("acme", Role::Viewer);
    let first = json!({"eventType": "purchase", "value": "100", "currency": "EUR"});
    let got = json_of(viewer.preview_plan("alpha", &first).await, 200).await;
    assert_eq!(
        (&got["amount"], &got["tierIndex"]),
        (&json!("5.00"), &json!(0)),
        "{got}"
    );
    let tenth = json!({"eventType": "purchase", "value": "100", "currency": "EUR", "month": {"conversions": 9}});
    let got = json_of(viewer.preview_plan("alpha", &tenth).await, 200).await;
    assert_eq!(
        (&got["amount"], &got["tierIndex"]),
        (&json!("8.00"), &json!(1)),
        "{got}"
    );

    // A real sale is paid at the first tier.
    let ctx = ctx_from(&app, "/deal", "DE", DESKTOP).await;
    let id = purchase(&app, &ctx, "ladder-1", "40", Value::Null).await;
    let lines = after(&app, 1).await;
    let line = line_of(&lines, &id);
    assert_eq!(
        (&line["amount"], &line["tierIndex"]),
        (&json!("2.00"), &json!(0)),
        "{line}"
    );

    // The partner's notice says the ladder in words, not "nothing".
    let notices = json_of(op.get("/partners/pub-one/notices").await, 200).await;
    let latest = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["planVersion"] == 2)
        .expect("the ladder's notice");
    let after_terms = latest["after"][0].as_str().unwrap();
    assert_eq!(
        after_terms,
        "purchase: from the month's conversion 0, 5 % of the value; from the month's conversion 10, 8 % of the value",
        "{latest}"
    );
}
