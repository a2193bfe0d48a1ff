//! Issue 62: the program's money dashboard, `GET …/dashboard`. Its figures reconcile with the
//! partners' summaries and the balances (the same sums across the three), one picture per
//! currency (never summed), payouts made and paid counted on their day, and bad windows refused
//! in the envelope.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::ledger::model::Kind::{Adjustment, Conversion, Manual};
use tenx_shared::ledger::model::Status::{Pending, Rejected};

use crate::helpers::*;
use crate::scenario::{Line, seed_ledger};

/// A decimal string as minor units (two decimals).
fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("an amount: {v}"));
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let sign = if int.starts_with('-') { -1 } else { 1 };
    sign * (int.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + frac.parse::<i64>().unwrap())
}

/// Σ of `field` over the days of `series`.
fn total(series: &Value, field: &str) -> i64 {
    series
        .as_array()
        .unwrap()
        .iter()
        .map(|d| cents(&d[field]))
        .sum()
}

#[tokio::test]
async fn the_dashboard_adds_up_with_the_summaries_and_the_balances_per_currency() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    seed_ledger(
        &app,
        [
            Line::of("pub-one", Conversion, 1990).sale("199.00", "EUR"),
            Line::of("pub-one", Conversion, 700)
                .status(Pending)
                .sale("70.00", "EUR"),
            Line::of("pub-one", Adjustment, -500),
            Line::of("pub-one", Conversion, 999)
                .status(Rejected)
                .sale("99.90", "EUR"),
            Line::of("pub-two", Manual, 300),
            Line::of("pub-two", Conversion, 1234)
                .currency("USD")
                .sale("123.40", "USD"),
        ],
    )
    .await;
    let op = app.as_role("acme", Role::Operator);
    // pub-two's EUR line paid: a payout made, then marked paid.
    let run =
        json!({"partnerId": "pub-two", "periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let made = json_of(op.run_payouts("dash-run", &run).await, 201).await;
    let eur_payout = made["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["currency"] == "EUR")
        .unwrap_or_else(|| panic!("a EUR payout: {made}"))
        .clone();
    assert_eq!(eur_payout["amount"], "3.00");
    let pid = eur_payout["payoutId"].as_str().unwrap();
    let reference = json!({"reference": "SEPA-1"});
    let paid = op.settle_payout(pid, "mark-paid", &reference).await;
    json_of(paid, 200).await;
    // After the run, one more EUR line of pub-two (so its summary, too, is in euros).
    seed_ledger(&app, [Line::of("pub-two", Manual, 200)]).await;

    let got = json_of(op.get("/dashboard").await, 200).await;
    // EUR first (most lines), USD apart: never summed.
    assert_eq!(got["currency"], "EUR");
    let others = got["otherCurrencies"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{got}");
    assert_eq!(others[0]["currency"], "USD");
    let series = &got["series"];
    assert_eq!(series.as_array().unwrap().len(), 30);
    let today = series.as_array().unwrap().last().unwrap();
    assert_eq!(
        today,
        &json!({"day": today["day"], "revenue": "269.00", "commissionsPending": "7.00",
            "commissionsApproved": "16.90", "commissionsPaid": "3.00", "payouts": "3.00"}),
        "revenue of the sales paid on (not the rejected one); approved net of the refund"
    );
    assert_eq!(
        got["topPartners"],
        json!([
            {"partnerId": "pub-one", "name": "pub-one", "earned": "21.90"},
            {"partnerId": "pub-two", "name": "pub-two", "earned": "5.00"},
        ])
    );
    let usd = &others[0];
    assert_eq!(total(&usd["series"], "revenue"), 12340);
    assert_eq!(total(&usd["series"], "commissionsApproved"), 1234);
    assert_eq!(usd["topPartners"][0]["earned"], "12.34");

    // The same sums as the partners' summaries, day by day.
    for partner in ["pub-one", "pub-two"] {
        let s = json_of(op.get(&format!("/partners/{partner}/summary")).await, 200).await;
        assert_eq!(s["currency"], "EUR");
        let top = got["topPartners"].as_array().unwrap();
        let earned = top.iter().find(|t| t["partnerId"] == partner).unwrap();
        let summed: i64 = ["pending", "approved", "paid"]
            .iter()
            .map(|f| total(&s["earnings"], f))
            .sum();
        assert_eq!(summed, cents(&earned["earned"]), "{partner}");
    }
    let mut by_day = [0i64; 3];
    for partner in ["pub-one", "pub-two"] {
        let s = json_of(op.get(&format!("/partners/{partner}/summary")).await, 200).await;
        for (i, f) in ["pending", "approved", "paid"].iter().enumerate() {
            by_day[i] += total(&s["earnings"], f);
        }
    }
    let dash = [
        total(series, "commissionsPending"),
        total(series, "commissionsApproved"),
        total(series, "commissionsPaid"),
    ];
    assert_eq!(dash, by_day, "the dashboard is the summaries summed");
    // And the balances: pending + held, approved + owed back, paid, over every partner.
    let balances = json_of(op.balances("").await, 200).await;
    let mut from_balances = [0i64; 3];
    for b in balances["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["currency"] == "EUR")
    {
        from_balances[0] += cents(&b["pending"]) + cents(&b["held"]);
        from_balances[1] += cents(&b["approved"]) + cents(&b["openNegative"]);
        from_balances[2] += cents(&b["paid"]);
    }
    assert_eq!(dash, from_balances, "the dashboard is the balances summed");
    assert_eq!(total(series, "payouts"), cents(&eur_payout["amount"]));
}

#[tokio::test]
async fn a_window_over_a_year_or_backwards_is_refused_and_partners_are_kept_out() {
    let app = spawn_app().await;
    crate::scenario::partner(&app, "pub-one").await;
    let op = app.as_role("acme", Role::Viewer);
    // No line yet: the program's currency (euros by default), every day at zero.
    let empty = json_of(
        op.get("/dashboard?from=2026-01-01&to=2026-01-07").await,
        200,
    )
    .await;
    assert_eq!(empty["currency"], "EUR");
    assert_eq!(empty["series"].as_array().unwrap().len(), 7);
    assert_eq!(empty["series"][0]["day"], "2026-01-01");
    assert_eq!(empty["series"][6]["payouts"], "0.00");
    assert_eq!(empty["topPartners"], json!([]));
    assert_eq!(empty["otherCurrencies"], json!([]));
    for bad in [
        "from=2025-01-01&to=2026-01-02",
        "from=2026-02-01&to=2026-01-01",
        "from=yesterday",
        "currency=EUR",
    ] {
        let r = op.get(&format!("/dashboard?{bad}")).await;
        assert_error(r, 400, "invalid_request").await;
    }
    // 366 days is a year and a day, the longest window.
    let year = json_of(
        op.get("/dashboard?from=2025-01-01&to=2026-01-01").await,
        200,
    )
    .await;
    assert_eq!(year["series"].as_array().unwrap().len(), 366);
    let partner = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    assert_eq!(partner.get("/dashboard").await.status(), 403);
}
