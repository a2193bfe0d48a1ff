//! Issue 42: every click answered 302 counts exactly once, whatever answers are lost, late or
//! refused, across kill -9, and the numbers settle within two minutes of the restart. Issue 58:
//! with the server's own outbox settings (a sweep every 15 s of entries 15 s old: never
//! shortened here), answered clicks are also conversions (retried with their keys when the kill
//! or a 503 cut them, as a merchant's server would), and every conversion is counted once and
//! its webhook delivered once to the test's receiver, within the same two minutes; the backlog
//! the faults leave is drained, not multiplied by the sweeper. CI converts every eighth answered
//! click (about 80 conversions); `TENX_CHAOS_CONVERT_EVERY=1` converts every one (about 630:
//! the benchmark's setting), which the emulators drain at about two conversions a second, not
//! within two minutes (BENCHMARKS.md, issue 58's drain).
//!
//! Each click carries its own `sub1` (`c0` … `c639`), so `groupBy=sub1` checks every click on
//! its own: a click answered 302 counts exactly once, a click cut by the kill (or answered 503
//! inside the fault window) at most once, and no click twice. On AWS the server reaches the
//! emulator through `scripts/fault_proxy.py`, and the window aims at the click path on
//! purpose: appends applied whose answer is dropped (the producer's retry lands a second
//! copy) and appends slowed past the redirect's 500 ms budget (the click is parked in the
//! outbox while the slow put still lands), beside throttling and 5xx on DynamoDB, SQS and
//! Kinesis, with a seed per run. On the embedded backend the same load runs with the kills.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::auth::Role;

use crate::chaos::{Backend, Load, Server, first_start};
use crate::helpers::{now, token_with_exp};

/// Clicks per run (each answered one also a conversion: at least 600 at the runs' fault
/// rates), and the answered click after which the server is killed.
const CLICKS: usize = 680;
const KILL_AFTER: usize = 280;
/// Clicks in flight at once: under faults a click mostly waits on a slowed answer, not the CPU.
const CONCURRENCY: usize = 16;
/// The bound: counts settled within this long after the restart that follows the
/// fault window.
const SETTLE: Duration = Duration::from_secs(120);

/// What the run's window injects, at `rate`: `rate` of every call throttled or failed (half
/// each), and aimed at the click path: `rate` of `PutRecord`s applied with the answer dropped
/// and `rate` slowed past the redirect's budget; DynamoDB writes lose an answer or run slow at
/// a fifth of the rate.
fn faults(rate: f64, seed: u64) -> Value {
    let failing = json!({"throttle": rate / 2.0, "error": rate / 2.0});
    json!({
        "seed": seed,
        "dynamodb": {"throttle": rate / 2.0, "error": rate / 2.0, "drop": rate / 5.0,
                     "slow": rate / 5.0, "slow_ms": 300},
        "sqs": failing,
        "kinesis": failing,
        "kinesis.PutRecord": {"drop": rate, "slow": rate, "slow_ms": 800},
    })
}

/// How one click was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Redirected,
    /// Cut by the kill, or a 503 inside the fault window: counted at most once.
    NotAnswered,
}

/// Every how many answered clicks one is also a conversion (`TENX_CHAOS_CONVERT_EVERY`, 8).
fn convert_every() -> usize {
    std::env::var("TENX_CHAOS_CONVERT_EVERY")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(8)
}

/// Click `i`, then, when it was answered and is one of those converted, its conversion (key
/// `order-c{i}`): how the click was answered, its ctx when it is to convert, and whether the
/// conversion was answered (else it is retried later).
async fn click(load: &Load, i: usize) -> (Answer, Option<String>, bool) {
    let Some(ctx) = load.click_at(&format!("/launch?sub1=c{i}")).await else {
        return (Answer::NotAnswered, None, false);
    };
    if !i.is_multiple_of(convert_every()) {
        return (Answer::Redirected, None, true);
    }
    let converted = load.convert(&ctx, &format!("order-c{i}")).await;
    (Answer::Redirected, Some(ctx), converted)
}

/// What one click of the burst led to.
type Clicked = (Answer, Option<String>, bool);

/// Clicks `range` with [`CONCURRENCY`] in flight; when `kill` is given, the server is killed
/// (SIGKILL) once [`KILL_AFTER`] of them were answered, cutting those in flight.
async fn burst(load: &Load, range: std::ops::Range<usize>, kill: Option<Server>) -> Vec<Clicked> {
    let answered = Arc::new(AtomicUsize::new(0));
    let clicks = futures::stream::iter(range)
        .map(|i| {
            let answered = answered.clone();
            async move {
                let a = click(load, i).await;
                answered.fetch_add(1, Ordering::SeqCst);
                (i, a)
            }
        })
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>();
    let killer = async {
        let Some(server) = kill else { return };
        while answered.load(Ordering::SeqCst) < KILL_AFTER {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill_9();
    };
    let (answers, ()) = tokio::join!(clicks, killer);
    answers.into_iter().map(|(_, a)| a).collect()
}

/// The conversions the kill or a 503 cut, retried with their keys (the window closed, the
/// server up): every answered click ends converted once. Their count.
async fn convert_the_rest(load: &Load, clicked: &[Clicked]) -> usize {
    let mut converted = 0;
    for (i, (_, ctx, done)) in clicked.iter().enumerate() {
        let Some(ctx) = ctx else { continue };
        if !done {
            assert!(
                load.convert(ctx, &format!("order-c{i}")).await,
                "retry of order-c{i}"
            );
        }
        converted += 1;
    }
    converted
}

/// Distinct webhook ids and distinct conversions the receiver got.
fn delivered(receiver: &crate::webhooks::Receiver) -> (usize, usize) {
    let captured = receiver.captured("/hook");
    let ids: std::collections::BTreeSet<String> = captured
        .iter()
        .map(|c| c.header("webhook-id").to_owned())
        .collect();
    let conversions: std::collections::BTreeSet<String> = captured
        .iter()
        .filter_map(|c| c.json()["data"]["conversionId"].as_str().map(str::to_owned))
        .collect();
    (ids.len(), conversions.len())
}

/// Clicks per `sub1` value, the funnel's click total, its freshness and its conversion total.
/// The counts the run watches: per click (`groupBy=sub1`, only when `rows`: it reads one
/// counter item per click, which an emulator answers by reading them all, so the watch asks for
/// it only once the funnel's totals say it may have settled and does not slow the drain it
/// measures), the funnel's click total, its freshness and its conversions.
async fn counted(load: &Load, rows: bool) -> (BTreeMap<String, i64>, i64, Value, i64) {
    let token = token_with_exp(&["acme"], Role::Viewer, now() + 3600);
    let get = |q: &str| {
        load.client
            .get(load.url(&format!("/v2/handles/acme/analytics?{q}")))
            .bearer_auth(&token)
            .send()
    };
    let groups: Value = if rows {
        get("groupBy=sub1").await.unwrap().json().await.unwrap()
    } else {
        Value::Null
    };
    let rows = groups["rows"].as_array().cloned().unwrap_or_default();
    let by_sub1 = rows
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["clicks"].as_i64().unwrap(),
            )
        })
        .collect();
    let funnel: Value = get("funnel=true").await.unwrap().json().await.unwrap();
    let total = funnel["totals"]["clicks"].as_i64().unwrap_or(-1);
    let conversions = funnel["totals"]["conversions"].as_i64().unwrap_or(-1);
    (by_sub1, total, funnel["freshness"].clone(), conversions)
}

/// Whether the counts are final for `answers`: each redirected click once, none twice, and the
/// funnel's total the sum of the rows. `Err` names a click counted twice (never acceptable).
fn settled(
    answers: &[Answer],
    by_sub1: &BTreeMap<String, i64>,
    total: i64,
) -> Result<bool, String> {
    if let Some((key, n)) = by_sub1.iter().find(|(_, n)| **n > 1) {
        return Err(format!("click {key} counted {n} times"));
    }
    let all_there = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| **a == Answer::Redirected)
        .all(|(i, _)| by_sub1.get(&format!("c{i}")) == Some(&1));
    Ok(all_there && by_sub1.values().sum::<i64>() == total)
}

/// What a run waits for: the clicks (each answered one once, none twice), the conversions and
/// their webhooks (each once), and the service saying nothing is pending.
struct Settle<'a> {
    answers: &'a [Answer],
    conversions: usize,
    receiver: &'a crate::webhooks::Receiver,
}

impl Settle<'_> {
    /// `Ok(true)` once every count is final; `Err` names a click counted twice.
    /// Whether the funnel's totals (read without the per-click rows) allow a settle: every
    /// answered click counted at least (a click whose answer was lost may count too), every
    /// conversion and its webhook, nothing pending.
    fn may_have_settled(
        &self,
        (_, total, freshness, conversions): &(BTreeMap<String, i64>, i64, Value, i64),
        redirected: usize,
    ) -> bool {
        let n = self.conversions;
        *total >= redirected as i64
            && *conversions == n as i64
            && delivered(self.receiver) == (n, n)
            && freshness["pendingSince"].is_null()
    }

    fn reached(&self, counts: &(BTreeMap<String, i64>, i64, Value, i64)) -> Result<bool, String> {
        let (by_sub1, total, freshness, conversions) = counts;
        let n = self.conversions;
        Ok(settled(self.answers, by_sub1, *total)?
            && *conversions == n as i64
            && delivered(self.receiver) == (n, n)
            && freshness["pendingSince"].is_null())
    }
}

/// One run with the server's own outbox settings: the burst (clicks and their conversions)
/// under faults at `rate` (none at 0) with a kill -9 in its middle, a restart, the rest of the
/// burst, the window closed, a second kill -9 and restart, the cut conversions retried; then the
/// time until every click, conversion and webhook counts as it should (at most [`SETTLE`] after
/// that restart, the end of the fault window), and nothing more arriving after.
async fn run(rate: f64, seed: u64) {
    let backend = Backend::from_env().await;
    // Faults reach the AWS backend only (through the fault proxy): on the embedded backend a
    // faulty run is the no-fault run again, already run by its own test. Not run twice.
    if matches!(backend, Backend::Embedded) && rate > 0.0 {
        eprintln!(
            "seed {seed}, rate {rate}: faults need the AWS backend; the kills-only run covers this one here"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ctx_keys = CtxKeyring::generate_spec();
    let (server, load) = first_start(&backend, dir.path(), &ctx_keys, false).await;
    let addr = load.addr;
    let start = || Server::start_with(&backend, dir.path(), addr, &ctx_keys, false);
    load.partner_campaign_and_plan().await;
    let receiver = crate::webhooks::Receiver::start().await;
    load.subscribe(&receiver.url("/hook")).await;

    let window = rate > 0.0;
    if let (Backend::Aws { proxy, .. }, true) = (&backend, window) {
        proxy.open_with(&load.client, &faults(rate, seed)).await;
        load.faults.store(true, Ordering::SeqCst);
    }
    let half = CLICKS / 2;
    let mut clicked = burst(&load, 0..half, Some(server)).await;
    let server = start();
    load.wait_up_as(&ctx_keys).await;
    clicked.extend(burst(&load, half..CLICKS, None).await);
    if let (Backend::Aws { proxy, .. }, true) = (&backend, window) {
        let injected = proxy.close(&load.client).await;
        load.faults.store(false, Ordering::SeqCst);
        eprintln!("seed {seed}, rate {rate}: faults injected {injected}");
        let aimed = |k: &str| injected[k].as_u64().unwrap_or(0);
        assert!(
            aimed("kinesis.PutRecord.drop") > 0 && aimed("kinesis.PutRecord.slow") > 0,
            "the window reached the click path: {injected}"
        );
    }
    // A crash right after the window: whatever was in flight is cut again.
    server.kill_9();
    let server = start();
    let restarted = Instant::now();
    load.wait_up_as(&ctx_keys).await;
    let conversions = convert_the_rest(&load, &clicked).await;
    let answers: Vec<Answer> = clicked.iter().map(|(a, _, _)| *a).collect();
    let goal = Settle {
        answers: &answers,
        conversions,
        receiver: &receiver,
    };

    let redirected = answers.iter().filter(|a| **a == Answer::Redirected).count();
    let mut last = (BTreeMap::new(), -1, Value::Null, -1);
    let mut behind_seen = false;
    let trace = std::env::var_os("TENX_CHAOS_TRACE").is_some();
    let mut traced = Duration::ZERO;
    while restarted.elapsed() < SETTLE {
        last = counted(&load, false).await;
        if goal.may_have_settled(&last, redirected) {
            last = counted(&load, true).await;
        }
        behind_seen |= last.2["behindSeconds"].as_i64().unwrap_or(0) > 0;
        if trace && restarted.elapsed() >= traced {
            // The drain's shape (TENX_CHAOS_TRACE): where a slow settle spends its time.
            eprintln!(
                "seed {seed}, {:>5.1} s: clicks {} of {redirected}, conversions {} of {conversions}, webhooks {:?}, freshness {}",
                restarted.elapsed().as_secs_f64(),
                last.1,
                last.3,
                delivered(&receiver),
                last.2
            );
            traced += Duration::from_secs(5);
        }
        match goal.reached(&last) {
            Ok(true) => break,
            Ok(false) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(double) => panic!("seed {seed}, rate {rate}: {double}"),
        }
    }
    let took = restarted.elapsed();
    if last.0.is_empty() {
        // Not settled by the funnel's totals: the rows, for the report of what is missing (the
        // totals stay those read within the bound).
        last.0 = counted(&load, true).await.0;
    }
    let (by_sub1, total, freshness, counted_conversions) = &last;
    eprintln!(
        "seed {seed}, rate {rate}: {redirected} of {CLICKS} clicks answered 302, {total} counted; \
         {conversions} conversions, {counted_conversions} counted, webhooks {:?}; \
         settled {took:?} after the restart ending the window (freshness then {freshness}; behind seen: {behind_seen})",
        delivered(&receiver)
    );
    let missing: Vec<String> = answers
        .iter()
        .enumerate()
        .filter(|(i, a)| **a == Answer::Redirected && by_sub1.get(&format!("c{i}")) != Some(&1))
        .map(|(i, _)| format!("c{i}"))
        .collect();
    eprintln!("seed {seed}: answered but not counted {missing:?}");
    // The run is not vacuous: most of the clicks chosen to convert (every `convert_every`-th by
    // index) were answered and converted. Which of them were answered depends on the faults, so
    // the bound is on the share (at 20 % faults about nine in ten clicks are answered), not an
    // estimate from the answered total (answered / 8 failed a run: 76 chosen among 621).
    let chosen = CLICKS.div_ceil(convert_every());
    assert!(
        conversions * 10 >= chosen * 8,
        "at least 80 % of the {chosen} clicks chosen to convert converted: {conversions}"
    );
    assert_eq!(
        goal.reached(&last),
        Ok(true),
        "seed {seed}, rate {rate}: every click answered 302, every conversion and its webhook \
         counted once within {SETTLE:?} of the end of the window: {redirected} answered, {total} \
         counted; {conversions} conversions, {counted_conversions} counted, webhooks {:?}",
        delivered(&receiver)
    );
    // Nothing more arrives later (a late copy would count twice).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = counted(&load, true).await;
    assert_eq!(
        (&again.0, again.1, again.3),
        (by_sub1, *total, *counted_conversions),
        "nothing counted late"
    );
    assert_eq!(
        delivered(&receiver),
        (conversions, conversions),
        "no webhook late"
    );
    // The running balances and indexes match the lines (issue 43), the server stopped.
    drop(server);
    crate::chaos::ledger_check(&backend, dir.path());
}

// One run per test, so the runner takes them side by side (most of a run is waiting on
// slowed answers, not CPU). Each seed draws its own mix of faults. CI runs one seed of each
// rate; the second seed of each is the benchmark's (`scripts/bench.sh settle`, which runs them
// with `--run-ignored`, on moto and on DynamoDB Local): six runs take some 12 minutes.

/// No faults: only the kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_click_and_conversion_settles_after_kills_seed_4205() {
    run(0.0, 4205).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the benchmark's second seed: scripts/bench.sh settle"]
async fn every_click_and_conversion_settles_after_kills_seed_4206() {
    run(0.0, 4206).await;
}

/// 5 % of calls failing, aimed at the click path.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_click_and_conversion_settles_at_5_percent_faults_seed_4201() {
    run(0.05, 4201).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the benchmark's second seed: scripts/bench.sh settle"]
async fn every_click_and_conversion_settles_at_5_percent_faults_seed_4202() {
    run(0.05, 4202).await;
}

/// 20 % of calls failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_click_and_conversion_settles_at_20_percent_faults_seed_4203() {
    run(0.20, 4203).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the benchmark's second seed: scripts/bench.sh settle"]
async fn every_click_and_conversion_settles_at_20_percent_faults_seed_4204() {
    run(0.20, 4204).await;
}
