//! The conversion write path under concurrency (issue 21): many conversions of one handle at
//! once. On the AWS backend the emulator models DynamoDB's transaction conflicts
//! (`scripts/moto_server.py`): a transaction that meets another one in flight on any of its items
//! is cancelled, so an item every conversion transaction wrote (the handle's rate-limit counter
//! used to be one) would turn such a burst into cancellations and 503s. The rate limits are
//! counted on items of their own instead, and must still hold: exactly, across instances, with
//! replays counted nowhere.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::join_all;
use futures::stream::{self, StreamExt};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::ratelimit::{Window, shards_for};
use tenx_shared::platform::store::{Query, SkRange, keys, now_unix};
use tenx_shared::runtime::local::Workers;

use crate::helpers::*;
use crate::scenario::IPHONE;
use tenx_shared::domain::Handle;

/// Conversions in flight at once: all of them on the embedded backend. The DynamoDB emulator is
/// one Python process that runs DynamoDB requests one at a time (a few hundred per second on the
/// 2-vCPU test machine), so hundreds of requests sent at once queue there for longer than the
/// SDK's 10 s attempt timeout, which no DynamoDB endpoint would make them wait: on the AWS
/// backend 100 at a time, still far more than enough to collide on any item they share.
fn in_flight(n: usize) -> usize {
    match std::env::var("TENX_TEST_BACKEND").as_deref() {
        Ok("aws") => n.min(100),
        _ => n,
    }
}

/// A day-long window, so a test straddles a boundary only around midnight UTC (and the counter
/// checks then add up both windows).
const DAY: u32 = 86_400;

/// Creates `handle/launch` and clicks it like a phone: returns the ctx.
async fn ctx_of(app: &TestApp, handle: &str) -> String {
    let body = json!({"destinationUrl": "https://example.com/product"});
    let status = app.put_link(handle, "launch", body).await.status();
    assert!(status == 201 || status == 200, "{status}");
    let resp = app
        .click(handle, "/launch", &[("user-agent", IPHONE)])
        .await;
    assert_eq!(resp.status(), 302);
    query_param(header_str(resp.headers(), "location"), "ctx").expect("a ctx for a human")
}

/// One public conversion on the app at `base`: its status and body.
async fn convert(client: &reqwest::Client, base: &str, ctx: &str, key: String) -> (u16, Value) {
    let resp = client
        .post(format!("{base}/v2/public/conversions"))
        .json(
            &json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
                      "value": 10, "currency": "USD"}),
        )
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// What the handle's conversion counter holds over the windows `from..=to` (every shard).
async fn counted(app: &TestApp, handle: &str, limit: u32, from: Window, to: Window) -> i64 {
    let mut windows = vec![from.start];
    if to.start != from.start {
        windows.push(to.start);
    }
    let mut total = 0;
    for start in windows {
        for shard in 0..shards_for(limit, DAY) {
            let (pk, sk) = keys::rate_shard(&Handle::parse(handle).unwrap(), "c", start, shard);
            if let Some(item) = app.store.get(&pk, &sk).await.unwrap() {
                total += item.counter("n");
            }
        }
    }
    total
}

/// Conversion events committed and not yet consumed (their outbox entries).
async fn pending_conversions(app: &TestApp) -> usize {
    let mut pending = 0;
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let mut after = None;
        loop {
            let page = app
                .store
                .query(Query {
                    pk: pk.clone(),
                    range: SkRange::All,
                    limit: 1000,
                    after,
                    descending: false,
                })
                .await
                .unwrap();
            pending += page
                .items
                .iter()
                .filter(|i| {
                    i.doc["type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("conversion."))
                })
                .count();
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    pending
}

/// The funnel's conversion total once every committed conversion event was consumed (the
/// aggregator is asynchronous; polled for at most 2 minutes: hundreds of conversions through
/// the emulator take longer than [`WAIT`]).
async fn settled_conversions(app: &TestApp, handle: &str, expected: i64) -> i64 {
    // Conversions are counted on the click stream once the events worker relayed them: wait
    // until the queue is empty and the count reached what is expected, then read once more,
    // so that a double count arriving late shows too.
    let what = format!("{expected} conversions consumed and counted");
    eventually_within(&what, Duration::from_secs(120), || async {
        let pending = pending_conversions(app).await;
        if pending != 0 {
            return Err(format!("{pending} conversion events pending"));
        }
        match funnel_conversions(app, handle).await {
            counted if counted >= expected => Ok(()),
            counted => Err(format!("none pending, {counted} counted")),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    funnel_conversions(app, handle).await
}

async fn funnel_conversions(app: &TestApp, handle: &str) -> i64 {
    let resp = app
        .as_role(handle, Role::Viewer)
        .analytics("funnel=true")
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["totals"]["conversions"].as_i64().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_concurrent_conversions_of_one_handle_land_once_each() {
    const N: usize = 500;
    let mut config = test_config();
    // Raised so that none is refused. The handle's limit is high enough to be spread over
    // several counter items; one ctx from one address makes the click's and the address's
    // counters as hot as the handle's.
    let limit = 100_000_000;
    config.rate_limits.conversions = limit;
    config.rate_limits.conversions_per_click = limit;
    config.rate_limits.conversions_per_address = limit;
    config.rate_limits.window_secs = DAY;
    assert!(shards_for(limit, DAY) > 1);
    let app = spawn_with(config, None).await;
    let ctx = ctx_of(&app, "acme").await;
    let base = app.url("");
    let from = Window::at(now_unix(), DAY);

    let sends = (0..N).map(|i| convert(&app.client, &base, &ctx, format!("order-{i}")));
    let answers: Vec<(u16, Value)> = stream::iter(sends).buffered(in_flight(N)).collect().await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(
        accepted, N,
        "every one accepted, none 5xx or 429: {statuses:?}"
    );
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|(_, body)| body["conversionId"].as_str().expect("a conversion id"))
        .collect();
    assert_eq!(ids.len(), N, "one conversion per key");

    // Replays are answered from the stored records and counted nowhere.
    let replays = (0..N)
        .step_by(25)
        .map(|i| convert(&app.client, &base, &ctx, format!("order-{i}")));
    for (status, body) in join_all(replays).await {
        assert_eq!(
            (status, body["deduped"].as_bool()),
            (200, Some(true)),
            "{body}"
        );
    }
    let to = Window::at(now_unix(), DAY);
    assert_eq!(
        counted(&app, "acme", limit, from, to).await,
        N as i64,
        "the handle's counter holds each accepted conversion once, no replay"
    );

    // Every 202 reaches analytics exactly once.
    assert_eq!(settled_conversions(&app, "acme", N as i64).await, N as i64);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_conversions_limit_holds_exactly_across_instances_and_replays_spend_nothing() {
    const LIMIT: u32 = 40;
    let mut config = test_config();
    config.rate_limits.conversions = LIMIT;
    config.rate_limits.conversions_per_click = 1_000;
    config.rate_limits.conversions_per_address = 1_000;
    config.rate_limits.window_secs = DAY;
    let app = spawn_full(config, None, Workers::Off).await;
    let sibling = Sibling::of(&app).await;
    let ctx = ctx_of(&app, "acme").await;
    let bases = [app.url(""), sibling.base()];
    let from = Window::at(now_unix(), DAY);

    // 120 distinct keys at once, alternating instances: exactly the limit is accepted.
    let sends = (0..120).map(|i| convert(&app.client, &bases[i % 2], &ctx, format!("k-{i}")));
    let answers: Vec<(u16, Value)> = stream::iter(sends).buffered(in_flight(120)).collect().await;
    let accepted: Vec<usize> = (0..120).filter(|i| answers[*i].0 == 202).collect();
    let limited = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(
        (accepted.len(), limited),
        (LIMIT as usize, 120 - LIMIT as usize),
        "{:?}",
        answers.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );

    // Over the limit, an accepted key is still a replay (on either instance), a new key is not.
    for (n, i) in accepted.iter().take(6).enumerate() {
        let (status, body) = convert(&app.client, &bases[n % 2], &ctx, format!("k-{i}")).await;
        assert_eq!(
            (status, body["deduped"].as_bool()),
            (200, Some(true)),
            "{body}"
        );
    }
    let refused = (0..120).find(|i| answers[*i].0 == 429).unwrap();
    assert_eq!(
        convert(&app.client, &bases[1], &ctx, format!("k-{refused}"))
            .await
            .0,
        429
    );
    let to = Window::at(now_unix(), DAY);
    assert_eq!(
        counted(&app, "acme", LIMIT, from, to).await,
        i64::from(LIMIT),
        "refusals and replays are counted nowhere"
    );
    sibling.stop();
}
