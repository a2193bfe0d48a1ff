//! AT-08: per-handle write limits by plan, answered `429 rate_limited` with `retry-after` and the
//! `x-ratelimit-*` headers, lifted when the window resets, and held across app instances that
//! share one store.
//!
//! Windows are aligned to the wall clock, so a burst may straddle a boundary; the helpers detect
//! that from the `x-ratelimit-reset` headers and repeat the burst in a fresh window instead of
//! asserting on timing.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::Config;

use crate::helpers::*;

/// What one write returned.
#[derive(Debug)]
struct Hit {
    status: u16,
    limit: Option<u32>,
    remaining: Option<i64>,
    /// Epoch seconds.
    reset: Option<i64>,
    retry_after: Option<i64>,
    /// The server's clock when it answered (its `date` header), epoch seconds.
    date: Option<i64>,
    body: Value,
    request_id: String,
}

async fn hit(resp: reqwest::Response) -> Hit {
    let h = resp.headers();
    let num = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok()?.parse::<i64>().ok())
    };
    let hit = Hit {
        status: resp.status().as_u16(),
        limit: num("x-ratelimit-limit").map(|n| n as u32),
        remaining: num("x-ratelimit-remaining"),
        reset: num("x-ratelimit-reset"),
        retry_after: num("retry-after"),
        date: h
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()
            })
            .map(time::OffsetDateTime::unix_timestamp),
        request_id: header_str(h, "x-request-id").to_owned(),
        body: Value::Null,
    };
    let body = resp.json().await.unwrap_or(Value::Null);
    Hit { body, ..hit }
}

fn link_body() -> Value {
    json!({"destinationUrl": "https://example.com/product"})
}

/// One write: upserts `{slug}` for `handle` on the app.
async fn write_to(app: &TestApp, handle: &str, slug: &str, token: &str) -> Hit {
    hit(app
        .with_token(handle, token)
        .put_link(slug, &link_body())
        .await)
    .await
}

/// One write on `base`, any instance's address (the app's, a sibling's or another process's):
/// upserts `{slug}` for `handle`.
async fn write(
    client: &reqwest::Client,
    base: SocketAddr,
    handle: &str,
    slug: &str,
    token: &str,
) -> Hit {
    hit(client
        .put(format!("http://{base}/v2/handles/{handle}/links/{slug}"))
        .bearer_auth(token)
        .json(&link_body())
        .send()
        .await
        .unwrap())
    .await
}

/// Windows are 10 s or more: a burst of writes through a loaded emulator (CI builds the Lambda
/// functions beside these tests) must fit in one window.
fn config(free: u32, window_secs: u32) -> Config {
    let mut c = test_config();
    c.rate_limits.free = free;
    c.rate_limits.window_secs = window_secs;
    c
}

/// Sleeps until the wall clock passes `epoch_secs` (a window's reset).
async fn sleep_until_epoch(epoch_secs: i64) {
    let target_ms = epoch_secs * 1000 + 50;
    let now_ms = tenx_shared::platform::time::now_millis();
    if target_ms > now_ms {
        tokio::time::sleep(std::time::Duration::from_millis(
            (target_ms - now_ms) as u64,
        ))
        .await;
    }
}

/// Runs `burst` until all its hits fall into one window; each retry starts in a fresh window.
async fn in_one_window<F, Fut>(mut burst: F) -> Vec<Hit>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Vec<Hit>>,
{
    for _ in 0..5 {
        let hits = burst().await;
        let resets: BTreeSet<i64> = hits
            .iter()
            .map(|h| h.reset.expect("every write carries x-ratelimit-reset"))
            .collect();
        if resets.len() == 1 {
            return hits;
        }
        sleep_until_epoch(*resets.last().unwrap()).await;
    }
    panic!("five bursts in a row straddled a window boundary");
}

/// Asserts a complete 429: envelope, retry-after and the rate-limit headers.
fn assert_limited(h: &Hit, limit: u32) {
    assert_eq!(h.status, 429, "{h:?}");
    assert_eq!(h.body["error"]["code"], "rate_limited", "{h:?}");
    assert_eq!(h.body["error"]["requestId"], h.request_id.as_str());
    assert!(
        h.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry")
    );
    assert_eq!(h.limit, Some(limit));
    assert_eq!(h.remaining, Some(0));
    let reset = h.reset.expect("x-ratelimit-reset");
    let retry_after = h.retry_after.expect("retry-after");
    assert!(retry_after >= 1, "{h:?}");
    // retry-after points at the reset (epoch seconds) from when the server answered, give or
    // take that second (the `date` header's clock, so a slow test machine cannot skew it).
    let answered = h.date.expect("date");
    assert!(
        (reset - answered - retry_after).abs() <= 1,
        "retry-after {retry_after} vs reset {reset}"
    );
}

#[tokio::test]
async fn at08_writes_beyond_the_limit_get_429_and_succeed_after_the_window() {
    let app = spawn_with(config(3, 10), None).await;
    let token = app.token(&["acme"], Role::Creator);
    let mut round = 0;
    let hits = in_one_window(|| {
        round += 1;
        let (app, token) = (&app, &token);
        async move {
            let mut hits = Vec::new();
            for i in 0..4 {
                let slug = format!("r{round}-s{i}");
                hits.push(write_to(app, "acme", &slug, token).await);
            }
            hits
        }
    })
    .await;
    for (i, h) in hits[..3].iter().enumerate() {
        assert_eq!(h.status, 201, "{h:?}");
        assert_eq!(h.limit, Some(3));
        assert_eq!(h.remaining, Some(2 - i as i64));
        assert_eq!(h.retry_after, None);
    }
    assert_limited(&hits[3], 3);
    let reset = hits[3].reset.unwrap();
    assert!(reset > now() - 1 && reset <= now() + 10, "epoch seconds");

    // The refused write did not happen.
    let refused_slug = format!("r{round}-s3");
    let acme = app.with_token("acme", &token);
    let read = acme.get_link(&refused_slug).await;
    assert_error(read, 404, "not_found").await;

    // Reads are not limited and carry no write-limit headers.
    for _ in 0..5 {
        let read = acme.list_links("").await;
        assert_eq!(read.status(), 200);
        assert!(read.headers().get("x-ratelimit-remaining").is_none());
    }

    // After the window: writes succeed again, counted afresh.
    sleep_until_epoch(reset).await;
    let again = write_to(&app, "acme", "after-reset", &token).await;
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(again.limit, Some(3));
    assert!(again.reset.unwrap() > reset);
    assert_eq!(again.remaining, Some(2), "a fresh window");
}

#[tokio::test]
async fn the_limit_is_per_handle_not_per_credential_and_refusals_cost_nothing() {
    let app = spawn_with(config(3, 10), None).await;
    let jwt = app.token(&["acme"], Role::Creator);
    // Minting is itself a write of acme: note its window.
    let minted = crate::tokens::post_token(
        &app,
        "acme",
        json!({"name": "writer", "scopes": ["links.write"]}),
    )
    .await;
    assert_eq!(minted.status(), 201);
    let mint_window = header_str(minted.headers(), "x-ratelimit-reset").to_owned();
    let pat = minted.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = app.token(&["other-co"], Role::Admin);
    let mut round = 0;
    let hits = in_one_window(|| {
        round += 1;
        let (app, jwt, pat, foreign) = (&app, &jwt, &pat, &foreign);
        async move {
            // Requests refused before the limiter (wrong handle, no scope) do not spend it.
            for i in 0..5 {
                let resp = app
                    .with_token("acme", foreign)
                    .put_link(&format!("x{round}-{i}"), &link_body())
                    .await;
                assert_eq!(resp.status(), 403);
            }
            let mut hits = Vec::new();
            // JWT and PAT writes of one handle share its budget.
            for (i, token) in [jwt, pat, jwt, pat].into_iter().enumerate() {
                let slug = format!("m{round}-{i}");
                hits.push(write_to(app, "acme", &slug, token).await);
            }
            // Another handle has its own budget.
            let theirs = app.token(&["other-co"], Role::Creator);
            hits.push(write_to(app, "other-co", &format!("o{round}"), &theirs).await);
            hits
        }
    })
    .await;
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses[4], 201, "other-co is not limited by acme");
    assert_eq!(hits[4].remaining, Some(2));
    // Exactly the budget, less the mint when it fell into the same window.
    let mint_counted = round == 1 && hits[0].reset.unwrap().to_string() == mint_window;
    let expected: &[u16] = if mint_counted {
        &[201, 201, 429, 429]
    } else {
        &[201, 201, 201, 429]
    };
    assert_eq!(&statuses[..4], expected);
    assert_limited(&hits[3], 3);
}

/// Five writes of acme alternating over `instances` (slugs `{prefix}{round}-{i}`), in one
/// window: one budget of 3 (the app's config), counted down across both.
async fn assert_one_budget_across(app: &TestApp, instances: [SocketAddr; 2], prefix: &str) {
    let token = app.token(&["acme"], Role::Creator);
    let mut round = 0;
    let hits = in_one_window(|| {
        round += 1;
        let token = &token;
        async move {
            let mut hits = Vec::new();
            for i in 0..5 {
                let slug = format!("{prefix}{round}-{i}");
                hits.push(write(&app.client, instances[i % 2], "acme", &slug, token).await);
            }
            hits
        }
    })
    .await;
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    let remaining: Vec<i64> = hits[..3].iter().map(|h| h.remaining.unwrap()).collect();
    assert_eq!(remaining, [2, 1, 0]);
    assert_limited(&hits[3], 3);
    assert_limited(&hits[4], 3);
}

#[tokio::test]
async fn at08_two_instances_sharing_one_store_enforce_one_limit() {
    let app = spawn_with(config(3, 10), None).await;
    let sibling = Sibling::of(&app).await;
    let instances = [app.addr, sibling.addr];

    // Alternating instances: one budget, counted down across both.
    assert_one_budget_across(&app, instances, "alt").await;

    // A concurrent burst over both instances admits exactly the limit.
    let mut round = 0;
    let hits = in_one_window(|| {
        round += 1;
        // A fresh handle per attempt, so an attempt never inherits another's count.
        let handle = format!("burst{round}");
        let token = app.token(&[handle.as_str()], Role::Creator);
        let app = &app;
        async move {
            let writes =
                (0..12).map(|i| {
                    let (client, handle, token) =
                        (app.client.clone(), handle.clone(), token.clone());
                    async move {
                        write(&client, instances[i % 2], &handle, &format!("c{i}"), &token).await
                    }
                });
            futures::future::join_all(writes).await
        }
    })
    .await;
    let admitted = hits.iter().filter(|h| h.status == 201).count();
    let limited = hits.iter().filter(|h| h.status == 429).count();
    assert_eq!((admitted, limited), (3, 9), "{hits:?}");
    sibling.stop();
}

#[tokio::test]
async fn a_plan_override_raises_the_limit_for_that_handle_only() {
    let mut c = config(2, 15);
    c.rate_limits.pro = 4;
    c.rate_limits
        .tiers
        .insert("bigco".to_owned(), tenx_shared::platform::config::Tier::Pro);
    let app = spawn_with(c, None).await;
    let big = app.token(&["bigco"], Role::Creator);
    let small = app.token(&["acme"], Role::Creator);
    let mut round = 0;
    let hits = in_one_window(|| {
        round += 1;
        let (app, big, small) = (&app, &big, &small);
        async move {
            let mut hits = Vec::new();
            for i in 0..5 {
                hits.push(write_to(app, "bigco", &format!("b{round}-{i}"), big).await);
            }
            for i in 0..3 {
                hits.push(write_to(app, "acme", &format!("a{round}-{i}"), small).await);
            }
            hits
        }
    })
    .await;
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [201, 201, 201, 201, 429, 201, 201, 429]);
    assert!(hits[..5].iter().all(|h| h.limit == Some(4)));
    assert!(hits[5..].iter().all(|h| h.limit == Some(2)));
    assert_limited(&hits[4], 4);
    assert_limited(&hits[7], 2);
}

/// A `tenx serve` child process on the test app's DynamoDB table; killed when dropped.
struct ChildServer(std::process::Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn at08_two_processes_sharing_one_dynamodb_table_enforce_one_limit() {
    if std::env::var("TENX_TEST_BACKEND").as_deref() != Ok("aws") {
        // The embedded store is one process's file (redb locks it), so two processes cannot
        // share it; scripts/test.sh runs this test on DynamoDB (moto).
        eprintln!("needs TENX_TEST_BACKEND=aws; the in-process two-instance test covers embedded");
        return;
    }
    let app = spawn_with(config(3, 10), None).await;
    let prefix = std::fs::read_to_string(app.data_dir.join("aws-environment"))
        .expect("the aws test app records its table prefix");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child_dir = tempfile::tempdir().unwrap();
    let _child = ChildServer(
        std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .args(["serve", "--backend", "aws", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(child_dir.path())
            .env("AWS_ENDPOINT_URL", crate::helpers::aws_endpoint())
            .env("TENX_TABLE", &prefix)
            .env("TENX_QUEUE_PREFIX", format!("{prefix}-"))
            .env("TENX_JWT_SECRET", JWT_SECRET)
            .env("TENX_CTX_KEYS", &app.config.ctx_keys)
            .env("TENX_RATE_LIMIT_FREE", "3")
            .env("TENX_RATE_LIMIT_WINDOW_SECS", "10")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting tenx serve"),
    );
    let child_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    eventually_or(
        &format!("tenx serve to come up on {child_addr}"),
        || async {
            let health = app
                .client
                .get(format!("http://{child_addr}/healthz"))
                .send()
                .await;
            match health {
                Ok(r) if r.status() == 200 => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await;

    assert_one_budget_across(&app, [app.addr, child_addr], "proc").await;
}
