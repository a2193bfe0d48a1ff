//! Round-trip budgets of the hot paths, counted at the storage and queue seams
//! (`tenx_shared::platform::op_counts`): every store or queue call is a billed network round trip on AWS.
//! A redirect costs at most one store read (none on a cached link) and one click append; a conversion
//! costs one round of rate-limit counter writes, one conditional transaction and one enqueue.
//! Counts, not timings.

use std::sync::Arc;

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::runtime::local::{DataDir, LocalRuntime, Workers};
use tenx_shared::{
    platform::op_counts,
    platform::op_counts::{OpCounters, OpCounts, OpSnapshot},
};

use crate::helpers::*;

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// The local app as `tenx serve --count-ops` runs it: counting seams, the instrumented router,
/// background workers on (their operations are counted apart from the requests').
struct CountedApp {
    addr: std::net::SocketAddr,
    client: reqwest::Client,
    counters: Arc<OpCounters>,
    server: tokio::task::JoinHandle<()>,
    runtime: Option<LocalRuntime>,
    _dir: tempfile::TempDir,
}

impl Drop for CountedApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown();
        }
    }
}

async fn spawn_counted() -> CountedApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = test_config();
    config.redirect_domain = format!("localhost:{}", addr.port());
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::prepare(dir.path()).unwrap();
    let embedded = data.open_queue().unwrap();
    let (store, queue, counters) =
        op_counts::counting(data.open_store().unwrap(), embedded.clone());
    let clicks = Arc::new(op_counts::counted::<
        dyn tenx_shared::platform::stream::ClickStream,
    >(embedded, &counters));
    let runtime = LocalRuntime::start(config, store, queue, Some(clicks), Workers::On).unwrap();
    let app = op_counts::instrument(
        tenx_shared::http::local_app(runtime.state.clone()),
        counters.clone(),
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let client = tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    CountedApp {
        addr,
        client,
        counters,
        server,
        runtime: Some(runtime),
        _dir: dir,
    }
}

impl CountedApp {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The request-path operations `f` caused (background work excluded).
    async fn ops_of<T>(&self, f: impl Future<Output = T>) -> (T, OpCounts) {
        let before = self.counters.snapshot().requests;
        let out = f.await;
        (out, self.counters.snapshot().requests.since(&before))
    }

    async fn put_link(&self, slug: &str) {
        self.put_link_with(
            slug,
            json!({
                "destinationUrl": "https://example.com/product",
                "tracking": {"utmSource": "suite"},
                "routingRules": [{"priority": 1, "destinationUrl": "https://example.com/m",
                                  "conditions": {"deviceIn": ["mobile"]}}]
            }),
        )
        .await;
    }

    async fn put_link_with(&self, slug: &str, body: Value) {
        let resp = self
            .client
            .put(self.url(&format!("/v2/handles/acme/links/{slug}")))
            .bearer_auth(token_with_exp(&["acme"], Role::Creator, now() + 3600))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }

    async fn click(&self, method: reqwest::Method, slug: &str) -> reqwest::Response {
        self.client
            .request(method, self.url(&format!("/{slug}")))
            .header("host", format!("acme.localhost:{}", self.addr.port()))
            .header("user-agent", BROWSER)
            .send()
            .await
            .unwrap()
    }

    async fn convert(&self, ctx: &str, key: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v2/public/conversions"))
            .json(
                &json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
                          "value": 10, "currency": "USD"}),
            )
            .send()
            .await
            .unwrap()
    }
}

/// One enqueue of one event, and the write that records on its outbox entry that the queue
/// confirmed it (issue 58: the sweeper then leaves it to the queue instead of re-sending it).
fn one_enqueue() -> OpCounts {
    OpCounts {
        send_calls: 1,
        send_messages: 1,
        write: 1,
        ..OpCounts::default()
    }
}

/// A click: ONE append to the click stream (Kinesis `PutRecord`), nothing on the queue.
fn one_append() -> OpCounts {
    OpCounts {
        appends: 1,
        ..OpCounts::default()
    }
}

#[tokio::test]
async fn a_redirect_reads_the_link_once_then_serves_it_from_the_cache_with_one_append() {
    let app = spawn_counted().await;
    app.put_link("launch").await;

    // First click after the write: the cache was invalidated, so one read, plus the click.
    let (resp, ops) = app.ops_of(app.click(reqwest::Method::GET, "launch")).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        ops,
        OpCounts {
            get: 1,
            ..one_append()
        }
    );

    // Cached: no store read at all, exactly one append, for humans and bots (HEAD) alike.
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        for _ in 0..3 {
            let (resp, ops) = app.ops_of(app.click(method.clone(), "launch")).await;
            assert_eq!(resp.status(), 302);
            assert_eq!(ops, one_append(), "{method} on a cached link");
        }
    }

    // An unknown slug, an orphan visit: the link and the handle's fallback settings are read
    // once (misses are cached too), and each visit is one counter add; no click is recorded.
    let (resp, ops) = app.ops_of(app.click(reqwest::Method::GET, "nope")).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        ops,
        OpCounts {
            get: 2,
            write: 1,
            ..OpCounts::default()
        }
    );
    let (resp, ops) = app.ops_of(app.click(reqwest::Method::GET, "nope")).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        ops,
        OpCounts {
            write: 1,
            ..OpCounts::default()
        }
    );
}

/// An A/B test's choice is a keyed digest of the visitor and the link: the same round trips as
/// any redirect, for a visitor with or without the cookie and for a bot.
#[tokio::test]
async fn a_redirect_through_an_ab_split_costs_what_any_redirect_costs() {
    let app = spawn_counted().await;
    app.put_link_with(
        "split",
        json!({
            "destinationUrl": "https://example.com/product",
            "routingRules": [{"priority": 1, "destinationUrl": "https://example.com/m",
                              "conditions": {"deviceIn": ["mobile"]}}],
            "variants": [{"destinationUrl": "https://a.example/", "weight": 50},
                         {"destinationUrl": "https://b.example/", "weight": 30},
                         {"destinationUrl": "https://c.example/", "weight": 20}]
        }),
    )
    .await;
    let (resp, ops) = app.ops_of(app.click(reqwest::Method::GET, "split")).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        ops,
        OpCounts {
            get: 1,
            ..one_append()
        }
    );
    let location = header_str(resp.headers(), "location");
    assert!(
        [
            "https://a.example/",
            "https://b.example/",
            "https://c.example/"
        ]
        .iter()
        .any(|v| location.starts_with(v)),
        "{location}"
    );
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        for _ in 0..3 {
            let (resp, ops) = app.ops_of(app.click(method.clone(), "split")).await;
            assert_eq!(resp.status(), 302);
            assert_eq!(ops, one_append(), "{method} on a cached split link");
        }
    }
}

#[tokio::test]
async fn a_conversion_is_its_rate_counters_one_conditional_transaction_and_one_enqueue() {
    let app = spawn_counted().await;
    app.put_link("launch").await;
    let resp = app.click(reqwest::Method::GET, "launch").await;
    let location = header_str(resp.headers(), "location").to_owned();
    let ctx = query_param(&location, "ctx").expect("a human click carries a ctx");

    let (resp, ops) = app.ops_of(app.convert(&ctx, "order-1")).await;
    assert_eq!(resp.status(), 202);
    // The handle's conversion policy, read once (then cached); the rate-window counters of the
    // handle, the click and the client address, three conditional writes issued together; the
    // key record, the conversion and its outbox entry: one transaction with no item another
    // conversion writes; then its enqueue, confirmed on the outbox entry.
    let first = OpCounts {
        write: 3 + 1,
        transact: 1,
        transact_items: 3,
        ..one_enqueue()
    };
    assert_eq!(ops, OpCounts { get: 1, ..first });

    // Each new key costs the same, whatever came before, without the policy read.
    let (resp, ops) = app.ops_of(app.convert(&ctx, "order-2")).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(ops, first);

    // A replay: counted, then the cancelled transaction returns the stored record (no read),
    // then the three counts are taken back; no enqueue.
    let (resp, ops) = app.ops_of(app.convert(&ctx, "order-1")).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["deduped"], true);
    assert_eq!(
        ops,
        OpCounts {
            write: 6,
            transact: 1,
            transact_items: 3,
            ..OpCounts::default()
        }
    );

    // A bad ctx is refused before any round trip.
    let (resp, ops) = app.ops_of(app.convert(&format!("{ctx}x"), "order-3")).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(ops, OpCounts::default());
}

#[tokio::test]
async fn the_ops_route_reports_request_and_background_work_separately() {
    let app = spawn_counted().await;
    app.put_link("launch").await;
    for _ in 0..3 {
        assert_eq!(
            app.click(reqwest::Method::GET, "launch").await.status(),
            302
        );
    }
    // The consumers pick link.created (queue) and the three clicks (stream) up in the
    // background.
    let snap = eventually_or("link.created and the clicks consumed", || async {
        let snap: OpSnapshot = app
            .client
            .get(app.url(op_counts::OPS_PATH))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if snap.background.ack >= 1 && snap.background.stream_records >= 3 {
            Ok(snap)
        } else {
            Err(format!("{snap:?}"))
        }
    })
    .await;
    assert_eq!(snap.http_requests, 4, "one PUT and three clicks");
    // link.created was enqueued and three clicks appended by requests, consumed in the background.
    assert_eq!(snap.requests.send_messages, 1);
    assert_eq!(snap.requests.appends, 3);
    assert_eq!(
        snap.requests.receive + snap.requests.ack + snap.requests.stream_reads,
        0
    );
    assert!(snap.background.receive >= 1 && snap.background.stream_reads >= 1);
    assert_eq!(snap.background.ack, 1);
    assert_eq!(snap.background.appends, 0);
}

#[tokio::test]
async fn the_ops_route_is_not_served_unless_counting_is_enabled() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url(op_counts::OPS_PATH))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
}

impl CountedApp {
    /// `POST /v2/handles/acme/{rest}` as an admin (every role's routes).
    async fn post(&self, rest: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v2/handles/acme/{rest}")))
            .bearer_auth(token_with_exp(&["acme"], Role::Admin, now() + 3600))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Campaign `cmp` with its primary link `deal`.
    async fn campaign(&self) {
        let body = json!({"campaignId": "cmp", "goalType": "PURCHASE",
            "primaryLink": {"slug": "deal", "destinationUrl": "https://example.com/deal"}});
        assert_eq!(self.post("campaigns", &body).await.status(), 201);
    }

    async fn backtest(&self, from: &str, to: &str) -> reqwest::Response {
        let plan =
            json!({"currency": "USD", "rules": [{"eventType": "purchase", "percent": "10"}]});
        let body = json!({"plan": plan, "from": from, "to": to});
        self.post("campaigns/cmp/commission-plan/backtest", &body)
            .await
    }
}

/// Issue 57: a campaign's conversion puts its entry in the campaign's conversion index inside
/// its one transaction (one more item, no more round trips).
#[tokio::test]
async fn a_campaigns_conversion_puts_its_index_entry_in_its_one_transaction() {
    let app = spawn_counted().await;
    app.campaign().await;
    let resp = app.click(reqwest::Method::GET, "deal").await;
    let location = header_str(resp.headers(), "location").to_owned();
    let ctx = query_param(&location, "ctx").expect("a human click carries a ctx");
    app.convert(&ctx, "order-0").await;
    let (resp, ops) = app.ops_of(app.convert(&ctx, "order-1")).await;
    assert_eq!(resp.status(), 202);
    let one = OpCounts {
        write: 3 + 1,
        transact: 1,
        transact_items: 4,
        ..one_enqueue()
    };
    assert_eq!(ops, one);
}

/// Issue 57: a backtest reads the campaign's conversions through its index, so a 366-day period
/// of a campaign without conversions costs what a 1-day one does: a few queries (the ledger's
/// range, the bonus index, the conversion index), not one per day (367 before).
#[tokio::test]
async fn a_366_day_backtest_of_a_campaign_without_conversions_makes_a_few_queries() {
    let app = spawn_counted().await;
    app.campaign().await;
    // Caches warmed (a first write reads what later ones find cached).
    let warm = app.backtest("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z");
    assert_eq!(warm.await.status(), 200);
    let (resp, day) = app
        .ops_of(app.backtest("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"))
        .await;
    assert_eq!(resp.status(), 200);
    let (resp, year) = app
        .ops_of(app.backtest("2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z"))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["conversions"], 0, "{body}");
    assert!(year.query <= 3, "{year:?}");
    assert_eq!(
        year.query, day.query,
        "reads follow the data, not the calendar"
    );
    assert_eq!(year.get, day.get, "{year:?} / {day:?}");
}
