//! Plan changes a program can trust (issue 47): a draft replayed on real history before it is
//! saved (the backtest), versions that take effect later, and a signed notice to the partner
//! whose earnings a saved version changes.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx, two_partners};

const PLAN: &str = r#"{"currency": "EUR", "holdDays": 0, "rules": [
    {"eventType": "purchase", "percent": "10", "appliesTo": "first"},
    {"eventType": "purchase", "percent": "5", "appliesTo": "recurring"},
    {"eventType": "lead", "flat": "1.00"}]}"#;

fn plan() -> Value {
    serde_json::from_str(PLAN).unwrap()
}

/// `pub-one` on `/deal` (campaign alpha) and `pub-two` on `/offer` (beta), both under [`PLAN`].
async fn program(app: &TestApp) {
    two_partners(app, &plan(), Some(&plan())).await;
}

fn backtest_body(plan: &Value, from: &str, to: &str) -> Value {
    json!({"plan": plan, "from": from, "to": to})
}

async fn backtest(app: &TestApp, campaign: &str, body: &Value) -> reqwest::Response {
    let op = app.as_role("acme", Role::Operator);
    let path = format!("/campaigns/{campaign}/commission-plan/backtest");
    op.send_json(Method::POST, &path, body).await
}

/// A period around everything this test did.
fn around_now() -> (String, String) {
    let now = tenx_shared::platform::time::now_millis();
    let at = tenx_shared::domain::time::unix_millis_to_rfc3339;
    (at(now - 86_400_000), at(now + 86_400_000))
}

/// One step of a random history on campaign alpha.
#[derive(Clone, Debug)]
enum Step {
    /// A sale of `euros` by customer `c` (0..3), or by no customer.
    Sale { c: Option<usize>, euros: u32 },
    /// A lead of customer `c`.
    Lead { c: usize },
    /// The `n`-th conversion reversed (when there is one).
    Refund { n: usize },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        (proptest::option::of(0..3usize), 1..400u32).prop_map(|(c, euros)| Step::Sale { c, euros }),
        (0..3usize).prop_map(|c| Step::Lead { c }),
        (0..8usize).prop_map(|n| Step::Refund { n }),
    ]
}

/// Plays `steps` on alpha; answers how many conversions were counted.
async fn play(app: &TestApp, case: usize, steps: &[Step]) -> usize {
    let merchant = app.as_role("acme", Role::Creator);
    let op = app.as_role("acme", Role::Operator);
    let mut conversions: Vec<String> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let key = format!("c{case}-{i}");
        let body = match s {
            Step::Sale { c, euros } => {
                let mut b = json!({"ctx": human_ctx(app, "acme", "/deal").await,
                    "idempotencyKey": key, "eventType": "purchase",
                    "value": format!("{euros}.00"), "currency": "EUR"});
                if let Some(c) = c {
                    b["customerId"] = json!(format!("cus-{case}-{c}"));
                }
                b
            }
            Step::Lead { c } => json!({"ctx": human_ctx(app, "acme", "/deal").await,
                "customerId": format!("cus-{case}-{c}"), "idempotencyKey": key,
                "eventType": "lead"}),
            Step::Refund { n } => {
                if let Some(id) = conversions.get(*n) {
                    let r = op.reverse(id, &json!({"reason": "refund"})).await;
                    assert!([201, 409].contains(&r.status().as_u16()), "{}", r.status());
                }
                continue;
            }
        };
        let receipt = json_of(merchant.convert_verified(&body).await, 202).await;
        conversions.push(receipt["conversionId"].as_str().unwrap().to_owned());
    }
    conversions.len()
}

/// A plan with a monthly tier (the 3rd purchase of the month on, 15 %) and a milestone bonus at
/// the 4th conversion of any type.
fn tiered_plan() -> Value {
    json!({"currency": "EUR", "holdDays": 0, "rules": [
        {"eventType": "purchase", "percent": "10", "tiers": [{"from": 3, "percent": "15"}]},
        {"eventType": "lead", "flat": "1.00"},
        {"bonus": {"conversionsInMonth": 4}, "flat": "20.00"}]})
}

/// For any history of sales (first and renewals), leads and refunds, the backtest of the plan
/// in force answers what the ledger accrued: a difference of zero for the partner, no
/// per-conversion difference, every conversion replayed (a property test: random histories
/// from a fixed seed, each on a fresh app), under a flat plan and under a tiered one with a
/// bonus.
#[tokio::test]
async fn the_backtest_of_the_plan_in_force_equals_the_ledger_for_any_history() {
    backtest_equals_the_ledger(plan(), cases(6)).await;
}

#[tokio::test]
async fn the_backtest_of_a_tiered_plan_in_force_equals_the_ledger_for_any_history() {
    backtest_equals_the_ledger(tiered_plan(), cases(5)).await;
}

/// Fewer histories on the emulator, where each case is a fresh table and a few dozen
/// transactions through one Python process (the same seed: its first cases).
fn cases(embedded: usize) -> usize {
    match std::env::var("TENX_TEST_BACKEND").as_deref() {
        Ok("aws") => 3,
        _ => embedded,
    }
}

async fn backtest_equals_the_ledger(plan: Value, cases: usize) {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::vec(step(), 3..12);
    for case in 0..cases {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let app = spawn_app().await;
        program(&app).await;
        let op = app.as_role("acme", Role::Operator);
        json_of(op.put_plan("alpha", &plan).await, 200).await;
        let n = play(&app, case, &steps).await;
        crate::commissions::ledger_at_least(&app, n).await;
        let (from, to) = around_now();
        let got = json_of(
            backtest(&app, "alpha", &backtest_body(&plan, &from, &to)).await,
            200,
        )
        .await;
        assert_eq!(got["conversions"], n, "case {case}: {steps:?}\n{got:#}");
        assert_eq!(got["largest"], json!([]), "case {case}: {steps:?}\n{got:#}");
        for p in got["partners"].as_array().unwrap() {
            assert_eq!(p["partnerId"], "pub-one");
            assert_eq!(p["difference"], "0.00", "case {case}: {steps:?}\n{got:#}");
            assert_eq!(p["actual"], p["draft"]);
        }
    }
}

#[tokio::test]
async fn a_draft_answers_what_it_would_have_paid_per_partner_and_its_largest_differences() {
    let app = spawn_app().await;
    program(&app).await;
    let merchant = app.as_role("acme", Role::Creator);
    for (i, euros) in [100, 300, 200].into_iter().enumerate() {
        let body = json!({"ctx": human_ctx(&app, "acme", "/deal").await,
            "idempotencyKey": format!("s-{i}"), "eventType": "purchase",
            "value": format!("{euros}.00"), "currency": "EUR"});
        json_of(merchant.convert_verified(&body).await, 202).await;
    }
    // The other campaign's sale is not in alpha's replay.
    let other = json!({"ctx": human_ctx(&app, "acme", "/offer").await, "idempotencyKey": "o-1",
        "eventType": "purchase", "value": "999.00", "currency": "EUR"});
    json_of(merchant.convert_verified(&other).await, 202).await;
    crate::commissions::ledger_at_least(&app, 4).await;
    let mut draft = plan();
    draft["rules"][0]["percent"] = json!("12");
    let (from, to) = around_now();
    let got = json_of(
        backtest(&app, "alpha", &backtest_body(&draft, &from, &to)).await,
        200,
    )
    .await;
    assert_eq!(got["conversions"], 3, "{got:#}");
    assert_eq!(
        got["partners"],
        json!([{"partnerId": "pub-one", "currency": "EUR", "conversions": 3,
            "actual": "60.00", "draft": "72.00", "difference": "12.00"}])
    );
    let largest: Vec<&str> = got["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["difference"].as_str().unwrap())
        .collect();
    assert_eq!(largest, ["6.00", "4.00", "2.00"], "largest first");
    // Nothing was written: the plan in force is still version 1.
    let op = app.as_role("acme", Role::Operator);
    let current = json_of(op.get("/campaigns/alpha/commission-plan").await, 200).await;
    assert_eq!(current["version"], 1);
}

#[tokio::test]
async fn a_backtest_refuses_bad_periods_and_drafts_naming_the_field() {
    let app = spawn_app().await;
    program(&app).await;
    let cases = [
        (
            backtest_body(&plan(), "2025-01-01T00:00:00Z", "2026-01-03T00:00:00Z"),
            "to",
        ),
        (
            backtest_body(&plan(), "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            "to",
        ),
        (
            backtest_body(&plan(), "last week", "2026-01-01T00:00:00Z"),
            "from",
        ),
        (
            backtest_body(
                &json!({"currency": "EUR", "rules": [{"eventType": "purchase"}]}),
                "2026-01-01T00:00:00Z",
                "2026-02-01T00:00:00Z",
            ),
            "plan.rules[0]",
        ),
    ];
    for (body, field) in cases {
        let message =
            assert_error(backtest(&app, "alpha", &body).await, 400, "invalid_request").await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let ok = backtest_body(&plan(), "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
    assert_error(backtest(&app, "nope", &ok).await, 404, "not_found").await;
    let viewer = app.as_role("acme", Role::Viewer);
    let path = "/campaigns/alpha/commission-plan/backtest";
    assert_eq!(
        viewer.send_json(Method::POST, path, &ok).await.status(),
        403
    );
}

/// The partner's notices (as its own token reads them) once `n` are there.
async fn notices(app: &TestApp, partner: &str, n: usize) -> Vec<Value> {
    let op = app.as_role("acme", Role::Viewer);
    let items = eventually_or(&format!("{n} notices to {partner}"), || async {
        let page = json_of(op.get(&format!("/partners/{partner}/notices")).await, 200).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= n {
            Ok(items)
        } else {
            Err(format!("{items:#?}"))
        }
    })
    .await;
    assert_eq!(items.len(), n, "{items:#?}");
    items
}

async fn jwks(app: &TestApp) -> tenx_shared::domain::proof::jws::Jwks {
    let resp = app
        .client
        .get(app.url("/v2/public/keys"))
        .send()
        .await
        .unwrap();
    serde_json::from_value(json_of(resp, 200).await).unwrap()
}

#[tokio::test]
async fn a_plan_change_sends_the_partner_a_signed_notice_with_its_30_day_difference() {
    use crate::webhooks::{Receiver, subscribe, webhook_config};
    let app = spawn_with(webhook_config(100), None).await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&app, &receiver.url("/plans"), &["plan.changed"]).await;
    program(&app).await;
    let merchant = app.as_role("acme", Role::Creator);
    let sale = json!({"ctx": human_ctx(&app, "acme", "/deal").await, "idempotencyKey": "s-1",
        "eventType": "purchase", "value": "200.00", "currency": "EUR"});
    json_of(merchant.convert_verified(&sale).await, 202).await;
    crate::commissions::ledger_at_least(&app, 1).await;
    let op = app.as_role("acme", Role::Operator);
    // The same terms again change nothing a partner earns: no notice.
    json_of(op.put_plan("alpha", &plan()).await, 200).await;
    let mut raised = plan();
    raised["rules"][0]["percent"] = json!("15");
    let saved = json_of(op.put_plan("alpha", &raised).await, 200).await;
    assert_eq!(saved["version"], 3);
    let all = notices(&app, "pub-one", 2).await;
    let n = &all[0];
    assert_eq!(
        (&n["planVersion"], &n["previousVersion"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(n["effectiveAt"], saved["updatedAt"]);
    let summary = n["summary"].as_str().unwrap();
    assert!(
        summary.contains("Was: purchase (a customer's first): 10 % of the value"),
        "{summary}"
    );
    assert!(
        summary.contains("Now: purchase (a customer's first): 15 % of the value"),
        "{summary}"
    );
    let d = &n["difference30d"];
    assert_eq!(
        (
            &d["conversions"],
            &d["actual"],
            &d["draft"],
            &d["difference"]
        ),
        (&json!(1), &json!("20.00"), &json!("30.00"), &json!("10.00"))
    );
    // Signed: it verifies offline, and a changed word does not.
    let keys = jwks(&app).await;
    assert_eq!(
        tenx_shared::payouts::verify::any(n, &keys),
        Ok("plan change notice")
    );
    let mut forged = n.clone();
    forged["difference30d"]["difference"] = json!("99.00");
    assert!(tenx_shared::payouts::verify::any(&forged, &keys).is_err());
    // The first plan's notice (version 1) and this one, each sent once as plan.changed.
    assert_eq!(all[1]["planVersion"], 1);
    let got = receiver.wait_for("/plans", 3).await;
    got[0].assert_signed_with(&secret);
    let mut versions: Vec<(String, i64)> = got
        .iter()
        .map(|c| {
            let e = c.json();
            (
                e["data"]["partnerId"].as_str().unwrap().to_owned(),
                e["data"]["planVersion"].as_i64().unwrap(),
            )
        })
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        [
            ("pub-one".into(), 1),
            ("pub-one".into(), 3),
            ("pub-two".into(), 1)
        ]
    );
}

#[tokio::test]
async fn a_version_saved_for_later_pays_from_its_effective_time_and_notices_say_so() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let mut past = plan();
    past["effectiveAt"] = json!("2020-01-01T00:00:00Z");
    let message = assert_error(op.put_plan("alpha", &past).await, 400, "invalid_request").await;
    assert!(message.starts_with("effectiveAt"), "{message}");
    let later = tenx_shared::domain::time::unix_millis_to_rfc3339(
        tenx_shared::platform::time::now_millis() + 3_600_000,
    );
    let mut raised = plan();
    raised["rules"][0]["percent"] = json!("20");
    raised["effectiveAt"] = json!(later);
    let saved = json_of(op.put_plan("alpha", &raised).await, 200).await;
    assert_eq!(
        (&saved["version"], &saved["effectiveAt"]),
        (&json!(2), &json!(later))
    );
    // A sale now is paid under version 1, in force until then.
    let merchant = app.as_role("acme", Role::Creator);
    let sale = json!({"ctx": human_ctx(&app, "acme", "/deal").await, "idempotencyKey": "s-1",
        "eventType": "purchase", "value": "100.00", "currency": "EUR"});
    json_of(merchant.convert_verified(&sale).await, 202).await;
    let lines = crate::commissions::ledger_at_least(&app, 1).await;
    assert_eq!(
        (&lines[0]["amount"], &lines[0]["planVersion"]),
        (&json!("10.00"), &json!(1))
    );
    let all = notices(&app, "pub-one", 2).await;
    assert_eq!(
        (&all[0]["planVersion"], &all[0]["effectiveAt"]),
        (&json!(2), &json!(later))
    );
}

#[tokio::test]
async fn a_partner_reads_its_own_notices_only() {
    let app = spawn_app().await;
    program(&app).await;
    notices(&app, "pub-one", 1).await;
    let op = app.as_role("acme", Role::Operator);
    let partner = as_partner(&app, "acme", "pub-one").await;
    let own = json_of(partner.get("/partners/pub-one/notices").await, 200).await;
    assert_eq!(own["items"][0]["partnerId"], "pub-one");
    assert_eq!(partner.get("/partners/pub-two/notices").await.status(), 404);
    assert_error(op.get("/partners/nobody/notices").await, 404, "not_found").await;
}

/// `plan.changed` is a postback event too: a partner that asked for it gets a GET with its
/// campaign filled in when a saved version changes what it earns.
#[tokio::test]
async fn a_partner_that_asked_for_plan_changes_gets_a_postback() {
    let app = spawn_with(crate::webhooks::webhook_config(50), None).await;
    program(&app).await;
    let receiver = crate::webhooks::Receiver::start().await;
    let op = app.as_role("acme", Role::Operator);
    let set = json!({"postbackUrl": receiver.url("/pb?campaign={campaign_id}"),
        "postbackEvents": ["plan.changed"]});
    json_of(op.update_partner("pub-one", &set).await, 200).await;
    let mut raised = plan();
    raised["rules"][0]["percent"] = json!("11");
    json_of(op.put_plan("alpha", &raised).await, 200).await;
    let got = receiver.wait_for("/pb", 1).await;
    assert_eq!(got[0].method, "GET");
    assert_eq!(got[0].query, "campaign=alpha");
    // pub-two's campaign changed nothing of pub-one's: only alpha's notices reach it (the
    // first plan's may too, when its event was fanned out after the postback was set).
    raised["rules"][0]["percent"] = json!("12");
    json_of(op.put_plan("beta", &raised).await, 200).await;
    notices(&app, "pub-two", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.captured("/pb");
    assert!(
        all.iter().all(|c| c.query == "campaign=alpha"),
        "{:?}",
        all.iter().map(|c| &c.query).collect::<Vec<_>>()
    );
    assert!(all.len() <= 2);
}
