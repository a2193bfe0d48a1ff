//! Issue 43: a payout run at scale. Its lines are read a page at a time and claimed, paid or
//! freed in batched transactions. Its ids are kept in pages beside the payout, since 10^5 ids
//! would not fit one item. A run cut by a failed write leaves the running balances exact, and
//! its retry with the same key pays every line once.

use serde_json::{Value, json};
use tenx_shared::domain::proof::jws::Jwks;
use tenx_shared::http::auth::Role;
use tenx_shared::payouts::verify;

use crate::commissions::no_drift;
use crate::helpers::*;
use crate::scenario::{partner, seed_lines};

/// More lines than a page of the live index (500) and than a page of payout ids (1,000).
const LINES: usize = 1_234;

fn period() -> Value {
    json!({"partnerId": "big", "periodEnd": tenx_shared::platform::time::now_rfc3339()})
}

async fn balance(app: &TestApp, partner: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let got = json_of(op.balances(&format!("partnerId={partner}")).await, 200).await;
    got["items"][0].clone()
}

#[tokio::test]
async fn a_payout_of_1234_lines_is_paged_sealed_and_settled_in_batches() {
    let (app, _switch) = spawn_with_failing_queue().await;
    partner(&app, "big").await;
    partner(&app, "small").await;
    let ids = seed_lines(&app, "big", LINES, 101).await;
    seed_lines(&app, "small", 3, 500).await;
    let op = app.as_role("acme", Role::Operator);

    let run = json_of(op.run_payouts("big-run", &period()).await, 201).await;
    let payouts = run["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "the named partner only: {run}");
    let payout = &payouts[0];
    assert_eq!(payout["amount"], "1246.34", "1,234 × 1.01");
    assert_eq!(payout["commissionCount"], LINES);
    let pid = payout["payoutId"].as_str().unwrap().to_owned();
    assert_eq!(balance(&app, "small").await["approved"], "15.00");

    // The statement lists every line once, in id order, under the signed root.
    let statement = json_of(op.statement(&pid, "json").await, 200).await;
    let listed: Vec<&str> = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["commissionId"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(statement["header"]["treeSize"], LINES);
    let jwks: Jwks = serde_json::from_value(
        json_of(
            app.client
                .get(app.url("/v2/public/keys"))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await,
    )
    .unwrap();
    verify::statement(&statement, &jwks).expect("the statement verifies");
    let last = listed[LINES - 1];
    let proof = json_of(
        op.get(&format!("/payouts/{pid}/proof?commissionId={last}"))
            .await,
        200,
    )
    .await;
    assert_eq!(proof["leafIndex"], LINES - 1);
    verify::proof(&proof, &jwks).expect("the last line's proof verifies");

    // Paid: every line moves from approved to paid, the balances with them.
    let paid = json!({"reference": "SEPA-2026-11"});
    assert_eq!(
        op.settle_payout(&pid, "mark-paid", &paid).await.status(),
        200
    );
    let big = balance(&app, "big").await;
    assert_eq!(
        (big["approved"].as_str(), big["paid"].as_str()),
        (Some("0.00"), Some("1246.34"))
    );
    let listed = json_of(
        op.list_commissions("partnerId=big&status=paid&limit=1")
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["payoutId"], pid.as_str());
    no_drift(&app).await;
    // Nothing is left to pay.
    let again = json_of(op.run_payouts("big-run-2", &period()).await, 201).await;
    assert_eq!(again["payouts"], json!([]));
}

/// A run cut at several points by a failed transaction: the run answers 503, the balances
/// equal the lines, and the retry with the same key makes one payout of every line.
#[tokio::test]
async fn a_payout_run_cut_by_a_failed_write_leaves_balances_exact_and_its_retry_pays_once() {
    let (app, switch) = spawn_with_failing_queue().await;
    partner(&app, "big").await;
    seed_lines(&app, "big", 300, 100).await;
    let op = app.as_role("acme", Role::Operator);
    // One request, retried as it is (another periodEnd would be another run: 409).
    let period = period();
    // 300 lines are claimed in transactions of 100; each retry claims only what is left. Cut
    // at once, after 1 batch (100 lines), after 1 more (200), then after the last: at the
    // payout's own write.
    for pass in [0, 1, 1, 1] {
        switch.fail_transacts_after(pass, 1);
        let cut = op.run_payouts("cut-run", &period).await;
        let status = cut.status();
        assert_eq!(
            status,
            503,
            "cut after {pass}: {}",
            cut.text().await.unwrap()
        );
        assert_eq!(switch.remaining_transact_failures(), 0);
        no_drift(&app).await;
        let big = balance(&app, "big").await;
        assert_eq!(big["approved"], "300.00", "claimed lines stay approved");
    }
    let run = json_of(op.run_payouts("cut-run", &period).await, 201).await;
    let payout = &run["payouts"][0];
    assert_eq!(
        (
            payout["amount"].as_str(),
            payout["commissionCount"].as_u64()
        ),
        (Some("300.00"), Some(300))
    );
    let pid = payout["payoutId"].as_str().unwrap();
    let again = json_of(op.run_payouts("cut-run", &period).await, 201).await;
    assert_eq!(
        again["payouts"][0]["payoutId"], pid,
        "the retry answers the same payout"
    );
    let statement = json_of(op.statement(pid, "json").await, 200).await;
    assert_eq!(statement["lines"].as_array().unwrap().len(), 300);

    // Marking it paid, cut halfway: the repeat finishes the lines, nothing moves twice.
    switch.fail_transacts_after(2, 1);
    let body = json!({"reference": "WIRE-1"});
    let cut = op.settle_payout(pid, "mark-paid", &body).await;
    assert_eq!(cut.status(), 503);
    no_drift(&app).await;
    assert_eq!(
        op.settle_payout(pid, "mark-paid", &body).await.status(),
        200
    );
    let big = balance(&app, "big").await;
    assert_eq!(
        (big["approved"].as_str(), big["paid"].as_str()),
        (Some("0.00"), Some("300.00"))
    );
    no_drift(&app).await;
}
