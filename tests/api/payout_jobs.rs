//! Issue 43: a payout run or mark-paid larger than its request's budget answers `202` with
//! what is done so far and a `retry-after`, and the sweeper finishes it whether or not the
//! client asks again; the same request repeated answers `202` meanwhile and the final answer
//! once done. A job advanced twice at once, cut mid-way or delivered again after it finished
//! pays no line twice and leaves the ledger check clean.

use std::time::Duration;

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::payouts::Payer;
use tenx_shared::payouts::budget::Budget;
use tenx_shared::payouts::jobs::{self, Job, Work};
use tenx_shared::platform::config::Config;
use tenx_shared::runtime::local::Workers;

use crate::commissions::no_drift;
use crate::endpoints::As;
use crate::helpers::*;
use crate::scenario::{partner, seed_lines, seed_lines_in};

/// Over two requests' budgets (500 lines): the run's two passes read 2 × 1,234 lines.
const LINES: usize = 1_234;

/// A request's budget small enough for `LINES` to go to the background, and a sweep a second.
fn config() -> Config {
    let mut c = test_config();
    c.payout_sync_lines = 500;
    c.outbox_sweep_interval = Duration::from_secs(1);
    c
}

fn period() -> Value {
    json!({"partnerId": "big", "periodEnd": tenx_shared::platform::time::now_rfc3339()})
}

/// Repeats `request` while it answers `202` (each with a `retry-after` and `status: running`),
/// for at most two minutes (a large job's steps on the emulator take longer than [`WAIT`]);
/// answers the final status and body.
async fn until_done<F, Fut>(request: F) -> (u16, Value)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    eventually_within("the job to finish", Duration::from_secs(120), || async {
        let resp = request().await;
        let status = resp.status().as_u16();
        let retry = resp.headers().get("retry-after").cloned();
        let body: Value = resp.json().await.unwrap();
        if status != 202 {
            return Ok((status, body));
        }
        assert_eq!(body["status"], "running", "{body}");
        assert!(retry.is_some(), "a 202 says when to ask again");
        Err(format!("never finished: {body}"))
    })
    .await
}

async fn balance(op: &As<'_>) -> (String, String) {
    let got = json_of(op.balances("partnerId=big").await, 200).await;
    let b = &got["items"][0];
    (
        b["approved"].as_str().unwrap().into(),
        b["paid"].as_str().unwrap().into(),
    )
}

#[tokio::test]
async fn a_run_and_a_mark_paid_over_the_budget_answer_202_and_the_sweeper_finishes_them() {
    let app = spawn_with(config(), None).await;
    partner(&app, "big").await;
    seed_lines(&app, "big", LINES, 101).await;
    let op = app.as_role("acme", Role::Operator);
    let period = period();

    let first = op.run_payouts("async-run", &period).await;
    assert_eq!(first.status(), 202);
    assert!(first.headers().contains_key("retry-after"));
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["status"], "running", "{body}");
    assert!(body["payouts"].is_array());

    let (status, run) = until_done(|| op.run_payouts("async-run", &period)).await;
    assert_eq!(status, 201, "{run}");
    let payouts = run["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{run}");
    assert_eq!(
        payouts[0]["amount"], "1246.34",
        "1,234 × 1.01, each line once"
    );
    assert_eq!(payouts[0]["commissionCount"], LINES);
    // Once done, the same request answers the same, at once.
    assert_eq!(
        json_of(op.run_payouts("async-run", &period).await, 201).await,
        run
    );
    no_drift(&app).await;
    let pid = payouts[0]["payoutId"].as_str().unwrap().to_owned();
    let statement = json_of(op.statement(&pid, "json").await, 200).await;
    let keys = app.client.get(app.url("/v2/public/keys")).send().await;
    let jwks = serde_json::from_value(json_of(keys.unwrap(), 200).await).unwrap();
    tenx_shared::payouts::verify::statement(&statement, &jwks).expect("sealed by the sweeper");

    // Mark-paid: the status at once, the first page of lines, the rest in the background.
    let paid = json!({"reference": "SEPA-BIG"});
    let first = op.settle_payout(&pid, "mark-paid", &paid).await;
    assert_eq!(first.status(), 202);
    let body: Value = first.json().await.unwrap();
    assert_eq!(
        (
            &body["status"],
            &body["payout"]["status"],
            &body["linesSettled"]
        ),
        (&json!("running"), &json!("paid"), &json!(1000)),
        "{body}"
    );
    let (status, done) = until_done(|| op.settle_payout(&pid, "mark-paid", &paid)).await;
    assert_eq!((status, &done["status"]), (200, &json!("paid")), "{done}");
    assert_eq!(balance(&op).await, ("0.00".into(), "1246.34".into()));
    no_drift(&app).await;
    assert_eq!(
        json_of(op.settle_payout(&pid, "mark-paid", &paid).await, 200).await,
        done
    );
}

/// What a job advances with: the app's store, queue and signing keys.
fn payer(state: &tenx_shared::kernel::state::AppState) -> Payer<'_> {
    Payer::new(state.io(), state.signing())
}

/// The only job left, of the kind `kind`.
async fn only_job(app: &TestApp, kind: &str) -> Job {
    let left = jobs::pending(app.store.as_ref()).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    let job = left.into_iter().next().unwrap();
    match (&job.work, kind) {
        (Work::Run { .. }, "run") | (Work::Settle { .. }, "settle") => job,
        _ => panic!("expected a {kind} job: {job:?}"),
    }
}

/// A job delivered again from its start (a run without its place, a settlement from its first
/// page, which the request already settled) and cut by its budget, then advanced twice at once,
/// then delivered again once finished.
async fn cut_twice_and_again(app: &TestApp, job: &Job) {
    let state = app.state();
    let mut from_start = job.clone();
    match &mut from_start.work {
        Work::Settle { next_page, .. } => *next_page = 0,
        // From the start again, its place lost: the pages it staged are staged again.
        Work::Run { place, .. } => *place = Default::default(),
    }
    let cut = Budget::lines_within(500, Duration::from_secs(60));
    let done = jobs::advance(payer(&state), &from_start, &cut)
        .await
        .unwrap();
    assert!(!done, "cut short");
    no_drift(app).await;
    let job = jobs::pending(app.store.as_ref()).await.unwrap().remove(0);
    let (one, other) = (Budget::unbounded(), Budget::unbounded());
    let (a, b) = tokio::join!(
        jobs::advance(payer(&state), &job, &one),
        jobs::advance(payer(&state), &job, &other)
    );
    assert!(a.unwrap() || b.unwrap(), "one of them finished it");
    assert!(jobs::pending(app.store.as_ref()).await.unwrap().is_empty());
    assert!(
        jobs::advance(payer(&state), &job, &Budget::unbounded())
            .await
            .unwrap()
    );
    assert!(jobs::pending(app.store.as_ref()).await.unwrap().is_empty());
    no_drift(app).await;
}

#[tokio::test]
async fn a_job_cut_run_twice_at_once_or_delivered_again_pays_no_line_twice() {
    let app = spawn_full(config(), None, Workers::Off).await;
    partner(&app, "big").await;
    seed_lines(&app, "big", LINES, 101).await;
    let op = app.as_role("acme", Role::Operator);
    let period = period();
    assert_eq!(op.run_payouts("twice", &period).await.status(), 202);
    let job = only_job(&app, "run").await;
    // No sweeper here: the request alone never finishes it.
    assert_eq!(op.run_payouts("twice", &period).await.status(), 202);
    cut_twice_and_again(&app, &job).await;
    let run = json_of(op.run_payouts("twice", &period).await, 201).await;
    let payouts = run["payouts"].as_array().unwrap();
    assert_eq!(
        payouts.len(),
        1,
        "one payout, however often its job ran: {run}"
    );
    assert_eq!(
        (&payouts[0]["amount"], &payouts[0]["commissionCount"]),
        (&json!("1246.34"), &json!(LINES))
    );
    let pid = payouts[0]["payoutId"].as_str().unwrap().to_owned();

    let paid = json!({"reference": "SEPA-TWICE"});
    assert_eq!(
        op.settle_payout(&pid, "mark-paid", &paid).await.status(),
        202
    );
    let job = only_job(&app, "settle").await;
    cut_twice_and_again(&app, &job).await;
    assert_eq!(
        op.settle_payout(&pid, "mark-paid", &paid).await.status(),
        200
    );
    assert_eq!(balance(&op).await, ("0.00".into(), "1246.34".into()));
    no_drift(&app).await;
}

/// The payout of a run answer for `partner` in `currency`: its amount and line count.
fn paid_to(run: &Value, partner: &str, currency: &str) -> (Value, Value) {
    let p = run["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partnerId"] == partner && p["currency"] == currency)
        .unwrap_or_else(|| panic!("no {partner} {currency} payout: {run}"));
    (p["amount"].clone(), p["commissionCount"].clone())
}

/// A run job keeps its place: each step here may read one page of 500 lines, fewer than one
/// pass over the big partner's live lines, so a run that began its passes again at each step
/// (as it once did: a 10^5-line run on DynamoDB Local never finished) would never end. Across
/// two partners and two currencies, every step goes on where the last stopped, and the run
/// pays each line once.
#[tokio::test]
async fn a_run_job_goes_on_from_where_each_step_stopped() {
    let app = spawn_full(config(), None, Workers::Off).await;
    partner(&app, "big").await;
    partner(&app, "two").await;
    seed_lines(&app, "big", 600, 101).await;
    seed_lines_in(&app, "big", (300, 200), "USD").await;
    seed_lines_in(&app, "two", (400, 300), "EUR").await;
    let op = app.as_role("acme", Role::Operator);
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    assert_eq!(op.run_payouts("steps", &period).await.status(), 202);
    let state = app.state();
    // Pages in all: big's 900 live lines read 3 times (the sums, then each currency's claims),
    // two's 400 twice; a step reads at least one. One pass over big's lines takes two pages,
    // more than a step's budget.
    let pages = 3 * 900_usize.div_ceil(500) + 2 * 400_usize.div_ceil(500);
    let mut steps = 0;
    loop {
        let job = only_job(&app, "run").await;
        steps += 1;
        let one_page = Budget::lines_within(500, Duration::from_secs(60));
        if jobs::advance(payer(&state), &job, &one_page).await.unwrap() {
            break;
        }
        assert!(steps < pages, "{steps} steps and not done: {job:?}");
    }
    assert!(jobs::pending(app.store.as_ref()).await.unwrap().is_empty());
    let run = json_of(op.run_payouts("steps", &period).await, 201).await;
    assert_eq!(run["payouts"].as_array().unwrap().len(), 3, "{run}");
    assert_eq!(paid_to(&run, "big", "EUR"), (json!("606.00"), json!(600)));
    assert_eq!(paid_to(&run, "big", "USD"), (json!("600.00"), json!(300)));
    assert_eq!(paid_to(&run, "two", "EUR"), (json!("1200.00"), json!(400)));
    no_drift(&app).await;
    let keys = app.client.get(app.url("/v2/public/keys")).send().await;
    let jwks = serde_json::from_value(json_of(keys.unwrap(), 200).await).unwrap();
    for p in run["payouts"].as_array().unwrap() {
        let pid = p["payoutId"].as_str().unwrap();
        let statement = json_of(op.statement(pid, "json").await, 200).await;
        tenx_shared::payouts::verify::statement(&statement, &jwks).expect("each line once");
    }
}

/// One call of a run works at a time: while a call works on a run (its lease taken, as a call
/// takes it), the same run asked again (the same click after a lost answer) answers running and
/// claims nothing beside it; once the call gives it up, the run is made, once.
#[tokio::test]
async fn a_run_asked_again_while_a_call_works_on_it_answers_running_and_claims_nothing() {
    let app = spawn_full(test_config(), None, Workers::Off).await;
    partner(&app, "big").await;
    seed_lines(&app, "big", 3, 101).await;
    let op = app.as_role("acme", Role::Operator);
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let key = tenx_shared::domain::PayoutRunKey::parse("busy").unwrap();
    let key_hash = tenx_shared::payouts::key_hash(&key);
    let lease = tenx_shared::payouts::background::run_lease::take;
    assert!(lease(app.store.as_ref(), &handle, &key_hash).await.unwrap());
    let before = json_of(op.balances("partnerId=big").await, 200).await;
    let period = period();
    let busy = op.run_payouts("busy", &period).await;
    assert_eq!(busy.status(), 202);
    let body: Value = busy.json().await.unwrap();
    assert_eq!(
        (&body["status"], &body["payouts"]),
        (&json!("running"), &json!([])),
        "{body}"
    );
    let open = json_of(op.balances("partnerId=big").await, 200).await;
    assert_eq!(open, before, "nothing claimed");
    let approved = open["items"][0]["approved"].as_str();
    assert!(approved.is_some_and(|a| a != "0.00"), "{open}");
    tenx_shared::payouts::background::run_lease::release(app.store.as_ref(), &handle, &key_hash)
        .await;
    let run = json_of(op.run_payouts("busy", &period).await, 201).await;
    assert_eq!(run["payouts"].as_array().unwrap().len(), 1, "{run}");
    let again = json_of(op.run_payouts("busy", &period).await, 201).await;
    assert_eq!(again["payouts"], run["payouts"]);
    no_drift(&app).await;
}
