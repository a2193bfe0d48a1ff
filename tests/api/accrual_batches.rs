//! Issue 58: the events consumer accrues a batch's conversions together
//! (`ledger::accrue_many`: one transaction for the batch's lines, their balance moves summed).
//! Whatever the batch meets, each conversion still gets exactly one line: lines already there
//! from an earlier delivery, the same batch applied twice at once (a redelivery racing the
//! first), a daily cap met inside the batch, and a plan whose tiers rate each line by the one
//! before it. The balances stay the sum of their lines (`ledger::check`).

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::consume::EventSink;
use tenx_shared::kernel::events::{ConversionData, EventType};
use tenx_shared::ledger::sink::CommissionsSink;

use crate::helpers::*;
use crate::scenario::{human_ctx, one_partner};

/// `n` conversions of 10.00 USD and more on `pub-one`'s link, and their `conversion.created`
/// events (taken off the queue: no consumer runs).
async fn conversions(app: &TestApp, n: usize) -> Vec<tenx_shared::kernel::events::Event> {
    let ctx = human_ctx(app, "acme", "/deal").await;
    for i in 0..n {
        let body = json!({"ctx": ctx, "idempotencyKey": format!("order-{i}"), "eventType": "purchase", "value": 10 + i, "currency": "USD"});
        assert_eq!(app.convert(&body).await.status(), 202);
    }
    let mut events = Vec::new();
    loop {
        let more = app.drain_queue().await;
        if more.is_empty() {
            break;
        }
        events.extend(
            more.into_iter()
                .filter(|e| e.kind == EventType::ConversionCreated),
        );
    }
    assert_eq!(events.len(), n, "one event per conversion");
    events
}

async fn lines(app: &TestApp) -> Vec<Value> {
    let op = app.as_role("acme", Role::Operator);
    let page = json_of(op.list_commissions("limit=100").await, 200).await;
    page["items"].as_array().expect("items").clone()
}

/// `"12.3"` or `"12.30"` as 1230 (`null`: 0).
fn minor(amount: &Value) -> i64 {
    let text = amount.as_str().unwrap_or("0");
    let (units, cents) = text.split_once('.').unwrap_or((text, ""));
    let cents = format!("{cents:0<2}");
    units.parse::<i64>().expect("units") * 100 + cents[..2].parse::<i64>().expect("cents")
}

fn sink() -> CommissionsSink {
    CommissionsSink {
        risk: &tenx_shared::risk::Holds,
        confidence: Default::default(),
    }
}

#[tokio::test]
async fn a_batch_over_lines_already_there_and_applied_twice_at_once_counts_each_line_once() {
    // One transaction for the batch's lines: refused over the three there, then line by line.
    let plan = json!({"currency": "USD", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    twice_at_once(&plan, 0).await;
}

#[tokio::test]
async fn a_daily_cap_met_inside_a_batch_caps_the_lines_over_it_once() {
    // Lines on one cap counter are written one transaction each, the cap decided line by line.
    let plan = json!({"currency": "USD", "holdDays": 0, "caps": {"conversionsPerDay": 9},
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    twice_at_once(&plan, 3).await;
}

/// Twelve conversions under `plan`, three accrued alone first, then the batch applied twice at
/// once and once more later: one line each, `capped` of them capped, no drift.
async fn twice_at_once(plan: &Value, capped: usize) {
    let app = spawn_app_without_workers().await;
    one_partner(&app, plan).await;
    let events = conversions(&app, 12).await;
    let state = app.state();
    // An earlier delivery accrued three of them, one by one.
    for event in &events[..3] {
        let data: ConversionData = event.payload().unwrap();
        let handle = &event.handle;
        tenx_shared::ledger::accrue::accrue(state.io(), &tenx_shared::risk::Holds, handle, &data)
            .await
            .expect("accrued alone");
    }
    // The whole batch, twice at once (a redelivery racing the first).
    let (first, second) = (sink(), sink());
    let (one, two) = tokio::join!(first.apply(&state, &events), second.apply(&state, &events));
    one.expect("first delivery");
    two.expect("second delivery");
    let lines = lines(&app).await;
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|l| l["conversionId"].as_str().expect("a conversion's line"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 12, "one line per conversion: {lines:#?}");
    assert_eq!(lines.len(), 12, "no line twice");
    let over = lines.iter().filter(|l| l["status"] == "capped").count();
    assert_eq!(over, capped, "the lines over the daily cap");
    for line in &lines {
        let owed = match line["status"].as_str() {
            Some("capped") => 0,
            _ => minor(&line["value"]) / 10,
        };
        assert_eq!(minor(&line["amount"]), owed, "10 % of its value: {line:#}");
    }
    crate::commissions::no_drift(&app).await;
    // A third delivery later changes nothing.
    sink().apply(&state, &events).await.expect("third delivery");
    assert_eq!(self::lines(&app).await, lines);
}

#[tokio::test]
async fn a_batch_under_tiers_rates_each_line_by_the_ones_before_it() {
    let app = spawn_app_without_workers().await;
    let plan = json!({"currency": "USD", "holdDays": 0, "rules": [{"eventType": "purchase",
        "percent": "10", "tiers": [{"from": 5, "percent": "20"}]}]});
    one_partner(&app, &plan).await;
    let events = conversions(&app, 8).await;
    let state = app.state();
    sink().apply(&state, &events).await.expect("applied");
    let mut lines = lines(&app).await;
    lines.sort_by_key(|l| l["conversionId"].as_str().unwrap().to_owned());
    let amounts: Vec<i64> = lines.iter().map(|l| minor(&l["amount"])).collect();
    // Four at 10 %, then 20 % from the fifth of the month on (values 10.00 … 17.00).
    let expected: Vec<i64> = (0..8)
        .map(|i| (10 + i) * if i < 4 { 10 } else { 20 })
        .collect();
    assert_eq!(amounts, expected);
    crate::commissions::no_drift(&app).await;
}
