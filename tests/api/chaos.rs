//! kill -9 under load, on both backends: a `tenx serve` child process is SIGKILLed in the middle
//! of a burst of clicks and conversions, restarted on the same data (its data dir, or the same
//! DynamoDB table, SQS queues and Kinesis stream), and the load goes on. On AWS the child reaches
//! the emulator through `scripts/fault_proxy.py`, and the burst runs inside a window of faults
//! (throttling, 5xx, slow answers and writes applied whose answer is dropped, on DynamoDB, SQS
//! and Kinesis): 503s are allowed inside the window only, and every redirect answers within
//! [`REDIRECT_BUDGET`]. Then:
//!
//! - every click recorded in the durable click log is counted exactly once (no loss, and no
//!   double count from a consumer batch cut short by the kill), and every click answered `302`
//!   is among them (a click in flight at the kill may or may not have been recorded);
//! - every conversion is counted exactly once: the ones whose answer the kill swallowed are
//!   retried with their idempotency key after the restart, as a merchant's server would;
//! - every conversion earns exactly one commission line (the ledger's ids derive from the
//!   conversions, so a redelivery or a sweep after the kill finds its line already there).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::helpers::aws_endpoint;
use crate::scenario::IPHONE;
use futures::future::join_all;
use serde_json::{Value, json};
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::auth::Role;
use tenx_shared::platform::stream::ClickStream;

use crate::helpers::{
    JWT_SECRET, eventually_or, eventually_within, now, query_param, token_with_exp,
};

const CONVERSIONS: usize = 40;

/// Where the child keeps its data: its data dir, or a provisioned AWS environment that the child
/// reaches through the fault proxy (`scripts/fault_proxy.py`).
#[derive(Clone)]
pub(crate) enum Backend {
    Embedded,
    Aws {
        prefix: String,
        proxy: Arc<FaultProxy>,
    },
}

/// `scripts/fault_proxy.py` in front of the emulator: faults are drawn per request while a
/// window is open (throttling, 5xx, slow answers, and writes applied whose answer is dropped).
pub(crate) struct FaultProxy {
    child: std::sync::Mutex<std::process::Child>,
    url: String,
}

impl FaultProxy {
    /// In front of `upstream`, with DynamoDB's calls sent to `dynamodb` when given.
    fn start(upstream: &str, dynamodb: Option<&str>) -> FaultProxy {
        use std::io::BufRead;
        let root = env!("CARGO_MANIFEST_DIR");
        let venv = format!("{root}/.venv/bin/python");
        let python = if Path::new(&venv).exists() {
            venv.as_str()
        } else {
            "python3"
        };
        let mut child = std::process::Command::new(python)
            .arg(format!("{root}/scripts/fault_proxy.py"))
            .arg(upstream)
            .args(dynamodb.map(|d| ["--dynamodb", d]).into_iter().flatten())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting scripts/fault_proxy.py");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("FAULT_PROXY_URL=")
            .expect("its address")
            .to_owned();
        FaultProxy {
            child: std::sync::Mutex::new(child),
            url,
        }
    }

    /// Opens the fault window: `rate` of each fault kind on DynamoDB, SQS and Kinesis.
    async fn open(&self, client: &reqwest::Client, rate: f64) {
        let each =
            json!({"throttle": rate, "error": rate, "slow": rate, "drop": rate, "slow_ms": 200});
        let faults = json!({"dynamodb": each, "sqs": each, "kinesis": each});
        self.open_with(client, &faults).await;
    }

    /// Opens a window of exactly these faults (`scripts/fault_proxy.py`'s settings).
    pub(crate) async fn open_with(&self, client: &reqwest::Client, faults: &Value) {
        let resp = client
            .post(format!("{}/__faults", self.url))
            .json(faults)
            .send();
        assert_eq!(resp.await.expect("the fault proxy").status(), 200);
    }

    /// Closes it; answers what was injected, per service and kind.
    pub(crate) async fn close(&self, client: &reqwest::Client) -> Value {
        let resp = client.delete(format!("{}/__faults", self.url)).send();
        let body: Value = resp.await.expect("the fault proxy").json().await.unwrap();
        body["injected"].clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Backend {
    /// The backend `TENX_TEST_BACKEND` asks for; an AWS one is provisioned here.
    pub(crate) async fn from_env() -> Backend {
        if std::env::var("TENX_TEST_BACKEND").as_deref() != Ok("aws") {
            return Backend::Embedded;
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("chaos-{}", &id[..12]);
        let (upstream, dynamodb) = chaos_upstreams();
        let proxy = Arc::new(FaultProxy::start(&upstream, dynamodb.as_deref()));
        // Through the proxy (no window open yet), which sends each service to its emulator.
        let (clients, settings) = aws_env(&prefix, &proxy.url).await;
        tenx_shared::runtime::aws::provision(&clients, &settings)
            .await
            .expect("provisioning the child's table, queues and stream");
        Backend::Aws { prefix, proxy }
    }
}

/// Where the chaos runs' calls go: DynamoDB Local when `AWS_ENDPOINT_URL_DYNAMODB` names it;
/// else, when the runner started two emulators (`TENX_TEST_AWS_ENDPOINTS`, as CI's chaos stage
/// has them idle beside it), DynamoDB on the first and SQS and Kinesis on the second. One
/// emulator answers one request at a time on one core: DynamoDB, SQS and Kinesis are separate
/// services on AWS, and one Python process serving all three was the drain's bottleneck.
/// Answers (the upstream for SQS and Kinesis, DynamoDB's own when apart).
fn chaos_upstreams() -> (String, Option<String>) {
    let local = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .ok()
        .filter(|v| !v.is_empty());
    if local.is_some() {
        return (aws_endpoint(), local);
    }
    let listed = std::env::var("TENX_TEST_AWS_ENDPOINTS").unwrap_or_default();
    match listed.split_whitespace().collect::<Vec<_>>()[..] {
        [dynamodb, others, ..] => (others.to_owned(), Some(dynamodb.to_owned())),
        _ => (aws_endpoint(), None),
    }
}

async fn aws_env(
    prefix: &str,
    endpoint: &str,
) -> (
    tenx_shared::runtime::aws::AwsClients,
    tenx_shared::runtime::aws::AwsSettings,
) {
    let clients = tenx_shared::runtime::aws::AwsClients::at_endpoint(endpoint)
        .await
        .expect("AWS clients");
    let settings = tenx_shared::runtime::aws::AwsSettings::named(prefix, format!("{prefix}-"));
    (clients, settings)
}

/// Where a child's log goes: `TENX_CHAOS_LOG` (a file, appended to), else nowhere.
fn server_log() -> std::process::Stdio {
    let file = std::env::var_os("TENX_CHAOS_LOG").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    file.map_or_else(std::process::Stdio::null, std::process::Stdio::from)
}

/// A `tenx serve` child process; SIGKILLed when dropped.
pub(crate) struct Server(std::process::Child);

impl Server {
    fn start(backend: &Backend, dir: &Path, addr: SocketAddr, ctx_keys: &str) -> Server {
        Self::start_with(backend, dir, addr, ctx_keys, true)
    }

    /// `fast_sweeps`: the outbox swept every second (entries a second old); otherwise the
    /// server's own defaults, to time how long the numbers take to settle in earnest.
    pub(crate) fn start_with(
        backend: &Backend,
        dir: &Path,
        addr: SocketAddr,
        ctx_keys: &str,
        fast_sweeps: bool,
    ) -> Server {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"));
        cmd.args(["serve", "--addr", &addr.to_string(), "--data-dir"])
            .arg(dir)
            .env("TENX_JWT_SECRET", JWT_SECRET)
            .env("TENX_CTX_KEYS", ctx_keys)
            .env("TENX_RATE_LIMIT_FREE", "100000")
            .env("TENX_RATE_LIMIT_CONVERSIONS", "100000")
            .env("TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS", "100000")
            // The test's webhook receiver listens on loopback.
            .env("TENX_WEBHOOKS_ALLOW_PRIVATE", "true")
            .stdout(server_log())
            .stderr(server_log());
        if fast_sweeps {
            // A conversion committed but not enqueued at the kill is swept a second later.
            cmd.env("TENX_OUTBOX_SWEEP_SECS", "1")
                .env("TENX_OUTBOX_MIN_AGE_SECS", "1");
        }
        if let Backend::Aws { prefix, proxy } = backend {
            cmd.args(["--backend", "aws"])
                .env("AWS_ENDPOINT_URL", &proxy.url)
                .env("AWS_ENDPOINT_URL_DYNAMODB", &proxy.url)
                .env("TENX_TABLE", prefix)
                .env("TENX_QUEUE_PREFIX", format!("{prefix}-"));
        }
        Server(cmd.spawn().expect("starting tenx serve"))
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
    pub(crate) fn kill_9(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) struct Load {
    pub(crate) client: reqwest::Client,
    pub(crate) addr: SocketAddr,
    /// While the fault window is open a 503 (with `retry-after`) is an allowed answer; outside
    /// it, any 5xx fails the test.
    pub(crate) faults: std::sync::atomic::AtomicBool,
}

/// The stated budget of a redirect's answer: the link read's and the click append's budgets
/// (500 ms) plus the outbox write's retries (about 4 s, only when the stream and the store both
/// fail), with room for a loaded 2-core CI machine; the defect it guards against waited out the
/// SDK's 10 s attempt timeout. Checked on every answered click, faults or not.
const REDIRECT_BUDGET: Duration = Duration::from_secs(9);
/// Each fault kind's share of the emulator calls inside the window (four kinds: 10 % of calls).
const FAULT_RATE: f64 = 0.025;

/// A port free now (bound, then let go) on loopback.
fn free_addr() -> SocketAddr {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}").parse().unwrap()
}

/// The test's load and its server's first start. A port found free may be taken by another
/// test's server before this one binds it (this one then exits, and the port answers for the
/// other): so the server answering is checked to be this test's own (a ctx signed with its
/// keys verifies there), and started again on another port if not.
pub(crate) async fn first_start(
    backend: &Backend,
    dir: &Path,
    ctx_keys: &str,
    fast_sweeps: bool,
) -> (Server, Load) {
    for _ in 0..5 {
        let load = Load {
            client: tenx_shared::platform::http_client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            addr: free_addr(),
            faults: std::sync::atomic::AtomicBool::new(false),
        };
        let server = Server::start_with(backend, dir, load.addr, ctx_keys, fast_sweeps);
        load.wait_up().await;
        if load.answers_for(ctx_keys).await {
            return (server, load);
        }
        eprintln!(
            "{} answered for another test's server: another port",
            load.addr
        );
        server.kill_9();
    }
    panic!("no port of this test's own in five tries");
}

impl Load {
    /// Whether the server on the port is the one holding `ctx_keys`: a ctx signed with them
    /// verifies there (`GET /v2/public/context`, no store read).
    pub(crate) async fn answers_for(&self, ctx_keys: &str) -> bool {
        let claims = tenx_shared::testing::launch_claims(now() - 1, now() + 600);
        let ctx = CtxKeyring::parse(ctx_keys).unwrap().sign(&claims);
        let url = self.url(&format!("/v2/public/context?ctx={ctx}"));
        let resp = self.client.get(url).send().await;
        resp.is_ok_and(|r| r.status() == 200)
    }

    /// Waits for the server restarted on the port, and checks it is this test's own.
    pub(crate) async fn wait_up_as(&self, ctx_keys: &str) {
        self.wait_up().await;
        assert!(
            self.answers_for(ctx_keys).await,
            "{} answers for another test's server",
            self.addr
        );
    }

    pub(crate) async fn wait_up(&self) {
        let what = format!("tenx serve to come up on {}", self.addr);
        eventually_or(&what, || async {
            match self.client.get(self.url("/healthz")).send().await {
                Ok(r) if r.status() == 200 => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn in_fault_window(&self) -> bool {
        self.faults.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// One click: `Some(ctx)` when answered 302, `None` when the kill cut it (or, inside the
    /// fault window, it was answered 503).
    async fn click(&self) -> Option<String> {
        self.click_at("/launch").await
    }

    /// [`Self::click`] on `path` (the slug and its query).
    pub(crate) async fn click_at(&self, path: &str) -> Option<String> {
        let started = std::time::Instant::now();
        let resp = self
            .client
            .get(self.url(path))
            .header("host", format!("acme.localhost:{}", self.addr.port()))
            .header("user-agent", IPHONE)
            .send()
            .await
            .ok()?;
        let took = started.elapsed();
        assert!(
            took <= REDIRECT_BUDGET,
            "a redirect answered after {took:?}"
        );
        if resp.status() == 503 && self.in_fault_window() {
            assert!(
                resp.headers().contains_key("retry-after"),
                "a 503 says when to retry"
            );
            return None;
        }
        assert_eq!(resp.status(), 302, "a click is answered 302 or not at all");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        Some(query_param(&location, "ctx").expect("a human click carries a ctx"))
    }

    /// One conversion: `true` once answered 202 or 200 (a replay), `false` when the kill cut it.
    pub(crate) async fn convert(&self, ctx: &str, key: &str) -> bool {
        let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": 10, "currency": "USD"});
        match self
            .client
            .post(self.url("/v2/public/conversions"))
            .json(&body)
            .send()
            .await
        {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if status == 503 && self.in_fault_window() {
                    return false; // retried after the window, as a merchant's server would
                }
                assert!(status == 202 || status == 200, "conversion {key}: {status}");
                true
            }
            Err(_) => false,
        }
    }

    async fn totals(&self) -> (i64, i64) {
        let token = token_with_exp(&["acme"], Role::Viewer, now() + 3600);
        let resp = self
            .client
            .get(self.url("/v2/handles/acme/analytics?funnel=true"))
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics");
        let body: Value = resp.json().await.expect("funnel");
        let n = |k: &str| body["totals"][k].as_i64().unwrap_or(-1);
        (n("clicks"), n("conversions"))
    }
}

/// The distinct clicks held durably: in the click log, or parked in the outbox (an append that
/// failed or went unanswered under faults; the sweeper relays it through the log later). Read
/// with the server stopped, for the embedded files are locked by their process.
async fn recorded_clicks(backend: &Backend, dir: &Path) -> usize {
    let (stream, store): (
        Arc<dyn ClickStream>,
        Arc<dyn tenx_shared::platform::store::Store>,
    ) = match backend {
        Backend::Embedded => (
            Arc::new(
                tenx_shared::platform::queue::embedded::EmbeddedQueue::open(
                    &dir.join("queue.redb"),
                )
                .expect("opening the click log"),
            ),
            Arc::new(
                tenx_shared::platform::store::embedded::EmbeddedStore::open(
                    &dir.join("store.redb"),
                )
                .expect("opening the store"),
            ),
        ),
        Backend::Aws { prefix, proxy } => {
            let (clients, settings) = aws_env(prefix, &proxy.url).await;
            let (store, _) = tenx_shared::runtime::aws::connect_with(&clients, &settings)
                .await
                .expect("the table");
            (
                tenx_shared::runtime::aws::click_stream(&clients, &settings),
                store,
            )
        }
    };
    let records = tenx_shared::testing::conformance_stream::read_all(stream.as_ref()).await;
    // The log also holds the conversions the events worker relayed there to be counted.
    let mut events: Vec<Value> = records
        .iter()
        .map(|(_, r)| serde_json::from_str::<Value>(&r.data).expect("an event"))
        .collect();
    events.extend(parked(store.as_ref()).await);
    let ids: BTreeSet<String> = events
        .iter()
        .filter(|event| event["type"] == "link.clicked")
        .map(|event| event["id"].to_string())
        .collect();
    ids.len()
}

/// Every event waiting in the outbox.
async fn parked(store: &dyn tenx_shared::platform::store::Store) -> Vec<Value> {
    use tenx_shared::platform::store::{Query, SkRange, keys};
    let mut out = Vec::new();
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let mut after = None;
        loop {
            let range = SkRange::Between("0".into(), "~".into());
            let q = Query {
                pk: pk.clone(),
                range,
                limit: 100,
                after,
                descending: false,
            };
            let page = store.query(q).await.expect("the outbox");
            out.extend(page.items.into_iter().map(|i| i.doc));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_9_under_load_loses_and_doubles_no_click_and_no_conversion() {
    let backend = Backend::from_env().await;
    let dir = tempfile::tempdir().unwrap();
    let ctx_keys = CtxKeyring::generate_spec();
    let (server, load) = first_start(&backend, dir.path(), &ctx_keys, true).await;
    let addr = load.addr;
    load.partner_campaign_and_plan().await;
    let receiver = crate::webhooks::Receiver::start().await;
    load.subscribe(&receiver.url("/hook")).await;

    // A ctx per conversion (each on its own click), all answered before the chaos.
    let mut ctxs = Vec::new();
    for _ in 0..CONVERSIONS {
        ctxs.push(load.click().await.expect("no kill yet"));
    }
    let mut accepted = CONVERSIONS;

    // The burst, and the kill in its middle; on AWS inside a window of emulator faults.
    if let Backend::Aws { proxy, .. } = &backend {
        proxy.open(&load.client, FAULT_RATE).await;
        load.faults.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    let clicks = join_all((0..600).map(|_| load.click()));
    let conversions = join_all(ctxs.iter().enumerate().map(|(i, ctx)| {
        let load = &load;
        async move { load.convert(ctx, &format!("order-{i}")).await }
    }));
    // On AWS the burst runs under faults for a while before the kill (the emulator answers
    // in milliseconds, not microseconds: 100 ms would cut nearly all of it).
    let before_kill = match backend {
        Backend::Embedded => Duration::from_millis(100),
        Backend::Aws { .. } => Duration::from_secs(2),
    };
    let kill = async move {
        tokio::time::sleep(before_kill).await;
        server.kill_9();
    };
    let (clicked, converted, ()) = tokio::join!(clicks, conversions, kill);
    accepted += clicked.iter().filter(|c| c.is_some()).count();
    let cut = clicked.iter().filter(|c| c.is_none()).count();
    if let Backend::Aws { proxy, .. } = &backend {
        let injected = proxy.close(&load.client).await;
        load.faults
            .store(false, std::sync::atomic::Ordering::SeqCst);
        eprintln!("faults injected in the window: {injected}");
        let total: u64 = injected
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum();
        assert!(total > 0, "the window injected faults: {injected}");
    }

    // Restarted on the same data: the cut conversions are retried with their keys, and more
    // clicks come in.
    let server = Server::start(&backend, dir.path(), addr, &ctx_keys);
    load.wait_up_as(&ctx_keys).await;
    for (i, done) in converted.iter().enumerate() {
        if !done {
            assert!(
                load.convert(&ctxs[i], &format!("order-{i}")).await,
                "retry of order-{i}"
            );
        }
    }
    for _ in 0..100 {
        assert!(load.click().await.is_some());
    }
    accepted += 100;

    // What the durable log holds (the server stopped: its file is its own), then the counts.
    server.kill_9();
    let recorded = recorded_clicks(&backend, dir.path()).await;
    let retried = converted.iter().filter(|done| !**done).count();
    eprintln!(
        "{accepted} clicks answered, {cut} cut by the kill, {recorded} recorded; {retried} conversions retried"
    );
    assert!(
        (accepted..=accepted + cut).contains(&recorded),
        "every answered click was recorded: {accepted} answered, {cut} cut, {recorded} recorded"
    );
    let _server = Server::start(&backend, dir.path(), addr, &ctx_keys);
    let restarted = std::time::Instant::now();
    load.wait_up_as(&ctx_keys).await;
    let expected = (recorded as i64, CONVERSIONS as i64);
    eventually_or("(clicks, conversions) counted as recorded", || async {
        match load.totals().await {
            totals if totals == expected => Ok(()),
            totals => Err(format!("{totals:?} counted, {expected:?} recorded")),
        }
    })
    .await;
    // The ledger: one commission line per conversion, whatever the kill cut.
    let lines = eventually_or("one commission line per conversion", || async {
        let lines = load.commission_lines().await;
        if lines.len() >= CONVERSIONS {
            Ok(lines)
        } else {
            Err(format!("{} of {CONVERSIONS} lines", lines.len()))
        }
    })
    .await;
    // And nothing more arrives later (a double count or a second line would).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(load.totals().await, expected, "nothing is counted twice");
    let lines_after = load.commission_lines().await;
    assert_eq!(lines_after.len(), lines.len(), "no line is written twice");
    let conversions: BTreeSet<&str> = lines
        .iter()
        .map(|l| l["conversionId"].as_str().unwrap())
        .collect();
    assert_eq!(
        (lines.len(), conversions.len()),
        (CONVERSIONS, CONVERSIONS),
        "one commission line per conversion"
    );
    assert!(lines.iter().all(|l| l["amount"] == "1.00"), "{lines:?}");
    deliveries_settle(&receiver, restarted).await;
    // The running balances and indexes match the lines after the kills and faults (issue 43):
    // `tenx ledger check`, with the server stopped (its embedded files are its own).
    drop(_server);
    ledger_check(&backend, dir.path());
}

/// Issue 42: every conversion's webhook arrives (at least once, one webhook id per conversion)
/// within two minutes of the restart, whatever the kill cut: a delivery claimed in flight
/// waits out its lease, a message received in flight its visibility timeout.
async fn deliveries_settle(receiver: &crate::webhooks::Receiver, restarted: std::time::Instant) {
    let bound = Duration::from_secs(120);
    let delivered = || {
        let captured = receiver.captured("/hook");
        let ids: BTreeSet<String> = captured
            .iter()
            .map(|c| c.header("webhook-id").to_owned())
            .collect();
        let conversions: BTreeSet<String> = captured
            .iter()
            .filter_map(|c| c.json()["data"]["conversionId"].as_str().map(str::to_owned))
            .collect();
        (ids.len(), conversions.len())
    };
    // The bound is the claim, counted from the restart, not a hang guard.
    let what =
        format!("one webhook id per conversion, each delivered, within {bound:?} of the restart");
    let left = bound.saturating_sub(restarted.elapsed());
    eventually_within(&what, left, || async {
        match delivered() {
            settled if settled == (CONVERSIONS, CONVERSIONS) => Ok(()),
            (ids, conversions) => Err(format!("{ids} webhook ids, {conversions} conversions")),
        }
    })
    .await;
    eprintln!(
        "deliveries settled {:?} after the restart",
        restarted.elapsed()
    );
}

/// Runs `tenx ledger check --handle acme` on the backend's data; fails the test on any drift.
pub(crate) fn ledger_check(backend: &Backend, dir: &Path) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"));
    cmd.args(["ledger", "check", "--handle", "acme", "--data-dir"])
        .arg(dir);
    if let Backend::Aws { prefix, proxy } = backend {
        // Through the proxy, which knows each service's emulator: the fault window is closed.
        cmd.args(["--backend", "aws"])
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &proxy.url)
            .env("TENX_TABLE", prefix)
            .env("TENX_QUEUE_PREFIX", format!("{prefix}-"));
    }
    let out = cmd.output().expect("running tenx ledger check");
    assert!(
        out.status.success(),
        "tenx ledger check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Load {
    pub(crate) fn as_operator(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.bearer_auth(token_with_exp(&["acme"], Role::Operator, now() + 3600))
    }

    /// A partner, its campaign (whose primary link is `launch`) and a plan paying 1.00 EUR per
    /// purchase: every conversion of the test earns one commission line.
    pub(crate) async fn partner_campaign_and_plan(&self) {
        let steps = [
            (
                "/v2/handles/acme/partners",
                json!({"partnerId": "pub-one", "name": "Publisher One"}),
            ),
            (
                "/v2/handles/acme/campaigns",
                json!({"campaignId": "chaos", "goalType": "PURCHASE", "partnerId": "pub-one",
                "primaryLink": {"slug": "launch", "destinationUrl": "https://shop.example.com/p"}}),
            ),
        ];
        for (path, body) in steps {
            let resp = self.as_operator(self.client.post(self.url(path)).json(&body));
            assert_eq!(resp.send().await.unwrap().status(), 201, "{path}");
        }
        let plan = json!({"currency": "EUR", "holdDays": 0,
            "rules": [{"eventType": "purchase", "flat": "1.00"}]});
        let put = self
            .client
            .put(self.url("/v2/handles/acme/campaigns/chaos/commission-plan"));
        let resp = self.as_operator(put.json(&plan)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "the plan");
    }

    /// A webhook subscription to every `conversion.created`, at `url`.
    pub(crate) async fn subscribe(&self, url: &str) {
        let body = json!({"endpointUrl": url, "eventTypes": ["conversion.created"]});
        let post = self.client.post(self.url("/v2/handles/acme/webhooks"));
        let resp = self.as_operator(post.json(&body)).send().await.unwrap();
        assert_eq!(resp.status(), 201, "the subscription");
    }

    /// Every conversion line of the ledger.
    async fn commission_lines(&self) -> Vec<Value> {
        let path = "/v2/handles/acme/commissions?kind=conversion&limit=100";
        let resp = self.as_operator(self.client.get(self.url(path)));
        let body: Value = resp.send().await.unwrap().json().await.unwrap();
        assert!(body["nextCursor"].is_null(), "one page holds them: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }
}
