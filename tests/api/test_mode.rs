//! Test mode: a manager's test sale walks the program in test money (plan, review, payout,
//! balances) apart from every real figure, and clearing it leaves the books as they were.

use std::time::Duration;

use serde_json::{Value, json};
use tenx_shared::domain::Handle;
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::one_partner;

fn plan() -> Value {
    json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "sale", "percent": "10"}]})
}

fn sale(amount: &str) -> Value {
    json!({"partnerId": "pub-one", "amount": amount, "currency": "EUR"})
}

/// The test lines once there are `n`.
async fn test_lines(app: &TestApp, n: usize) -> Vec<Value> {
    let viewer = app.as_role("acme", Role::Viewer);
    let items = eventually_or(&format!("the test ledger to reach {n} lines"), || async {
        let page = json_of(viewer.list_commissions("test=true").await, 200).await;
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

async fn balance(app: &TestApp) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let got = json_of(op.balances("partnerId=pub-one").await, 200).await;
    got["items"][0].clone()
}

async fn books_clean(app: &TestApp) {
    let handle = Handle::parse("acme").unwrap();
    let report = tenx_shared::ledger::check::check(app.store.as_ref(), &handle)
        .await
        .unwrap();
    assert!(report.clean(), "{report:?}");
}

#[tokio::test]
async fn a_test_sale_walks_the_program_in_test_money_and_clearing_leaves_the_books_clean() {
    let app = spawn_app().await;
    one_partner(&app, &plan()).await;
    let (admin, op) = (
        app.as_role("acme", Role::Admin),
        app.as_role("acme", Role::Operator),
    );
    let off = op.test_sale(&sale("49.90")).await;
    let message = assert_error(off, 409, "invalid_state").await;
    assert!(message.contains("switch it on from Home"), "{message}");
    assert_eq!(
        op.put_test_mode(true).await.status(),
        403,
        "an admin's switch"
    );
    let on = json_of(admin.put_test_mode(true).await, 200).await;
    assert_eq!(on["enabled"], true);
    assert!(on["since"].is_string(), "{on}");
    let audit = json_of(op.get("/audit?action=test_mode.on").await, 200).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    let again = json_of(admin.put_test_mode(true).await, 200).await;
    assert_eq!(again["since"], on["since"], "already on: unchanged");

    for (body, field) in [
        (sale("abc"), "amount"),
        (sale("0"), "amount"),
        (sale("1.999"), "amount"),
        (
            json!({"partnerId": "nobody", "amount": "5", "currency": "EUR"}),
            "partnerId",
        ),
        (
            json!({"partnerId": "pub-one", "amount": "5", "currency": "XX"}),
            "currency",
        ),
    ] {
        let message = assert_error(op.test_sale(&body).await, 400, "invalid_request").await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let made = json_of(op.test_sale(&sale("49.90")).await, 201).await;
    assert_eq!(made["test"], true);
    assert!(
        made["conversionId"].as_str().unwrap().starts_with("cnv_"),
        "{made}"
    );

    // The line: 10 % of 49.90 under the real plan, test money only.
    let lines = test_lines(&app, 1).await;
    assert_eq!(lines[0]["amount"], "4.99");
    assert_eq!(lines[0]["test"], true);
    assert_eq!(lines[0]["conversionId"], made["conversionId"]);
    assert_eq!(
        lines[0]["reasons"],
        json!([]),
        "a test click's sale is never too fast"
    );
    let real = json_of(op.list_commissions("").await, 200).await;
    assert_eq!(real["items"], json!([]), "no real line");
    let b = balance(&app).await;
    assert_eq!(
        (b["pending"].as_str(), b["test"]["pending"].as_str()),
        (Some("0.00"), Some("4.99"))
    );

    // Review, then a test payout: its own run, marked test, never in a file.
    let id = lines[0]["commissionId"].as_str().unwrap();
    json_of(op.review_commission(id, "approve", &json!({})).await, 200).await;
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let none = json_of(op.run_payouts("real-run", &period).await, 201).await;
    assert_eq!(none["payouts"], json!([]), "a real run pays no test money");
    let test_period =
        json!({"periodEnd": tenx_shared::platform::time::now_rfc3339(), "test": true});
    let run = json_of(op.run_payouts("test-run", &test_period).await, 201).await;
    let payout = &run["payouts"][0];
    assert_eq!(
        (payout["amount"].as_str(), payout["test"].as_bool()),
        (Some("4.99"), Some(true))
    );
    let pid = payout["payoutId"].as_str().unwrap();
    let refused = admin.put_test_mode(false).await;
    let message = assert_error(refused, 409, "invalid_state").await;
    assert!(message.contains("a payout is waiting"), "{message}");
    let batch = op
        .create_batch("b-1", &json!({"method": "paypal", "payoutIds": [pid]}))
        .await;
    let message = assert_error(batch, 400, "invalid_request").await;
    assert!(
        message.contains("test money is never paid by file"),
        "{message}"
    );
    json_of(
        op.settle_payout(pid, "mark-paid", &json!({"reference": "T-1"}))
            .await,
        200,
    )
    .await;
    let b = balance(&app).await;
    assert_eq!(
        (b["paid"].as_str(), b["test"]["paid"].as_str()),
        (Some("0.00"), Some("4.99"))
    );
    books_clean(&app).await;

    // Cleared twice at once: each line, conversion and payout goes once; the books stay clean.
    let (one, two) = tokio::join!(admin.clear_test_data(), admin.clear_test_data());
    let (one, two) = (json_of(one, 202).await, json_of(two, 202).await);
    let sum = |k: &str| one[k].as_u64().unwrap() + two[k].as_u64().unwrap();
    assert_eq!(
        (sum("lines"), sum("conversions"), sum("payouts")),
        (1, 1, 1),
        "{one} {two}"
    );
    test_lines(&app, 0).await;
    assert_eq!(
        json_of(op.list_payouts("").await, 200).await["items"],
        json!([])
    );
    let conversion = made["conversionId"].as_str().unwrap();
    assert_eq!(op.get_conversion(conversion).await.status(), 404);
    assert!(balance(&app).await["test"].is_null(), "no test money left");
    books_clean(&app).await;
    let off = json_of(admin.put_test_mode(false).await, 200).await;
    assert_eq!(off["enabled"], false);
    assert_eq!(op.test_sale(&sale("5")).await.status(), 409);
}

#[tokio::test]
async fn a_test_sale_is_of_the_event_its_partners_plan_pays_unless_named() {
    let app = spawn_app().await;
    let purchase = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    one_partner(&app, &purchase).await;
    let (admin, op) = (
        app.as_role("acme", Role::Admin),
        app.as_role("acme", Role::Operator),
    );
    json_of(admin.put_test_mode(true).await, 200).await;
    json_of(op.test_sale(&sale("20.00")).await, 201).await;
    let mut named = sale("30.00");
    named["eventType"] = json!("signup");
    json_of(op.test_sale(&named).await, 201).await;
    let lines = test_lines(&app, 2).await;
    let of = |event: &str| lines.iter().find(|l| l["eventType"] == event).cloned();
    assert_eq!(of("purchase").unwrap()["amount"], "2.00", "{lines:#?}");
    let signup = of("signup").unwrap();
    assert_eq!(
        signup["amount"], "0.00",
        "a named event the plan does not pay"
    );
}

#[tokio::test]
async fn a_test_conversion_earns_nothing_while_test_mode_is_off_and_a_line_while_it_is_on() {
    let app = spawn_app().await;
    one_partner(&app, &plan()).await;
    let op = app.as_role("acme", Role::Operator);
    let ctx = crate::scenario::human_ctx(&app, "acme", "/deal").await;
    let body = |key: &str| {
        json!({"ctx": ctx, "idempotencyKey": key, "eventType": "sale",
        "value": "20.00", "currency": "EUR", "test": true})
    };
    assert_eq!(op.convert_verified(&body("off")).await.status(), 202);
    let admin = app.as_role("acme", Role::Admin);
    json_of(admin.put_test_mode(true).await, 200).await;
    assert_eq!(op.convert_verified(&body("on")).await.status(), 202);
    let lines = test_lines(&app, 1).await;
    assert_eq!(lines[0]["amount"], "2.00");
    // The one made while off never turns up later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    test_lines(&app, 1).await;
    let real = json_of(op.list_commissions("").await, 200).await;
    assert_eq!(real["items"], json!([]));
    let mode = json_of(op.get("/test-mode").await, 200).await;
    assert_eq!(mode["enabled"], true, "{mode}");
}
