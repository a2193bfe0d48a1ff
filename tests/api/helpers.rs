use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::Value;
use tenx_shared::auth::jwt::{Claims, JwtVerifier};
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::Config;
use tenx_shared::platform::queue::Queue;
use tenx_shared::platform::store::Store;
use tenx_shared::platform::stream::ClickStream;
use tenx_shared::runtime::local::{DataDir, LocalRuntime, Workers};

/// The suites' one poller, shared with the seams' conformance checks.
pub(crate) use tenx_shared::testing::{eventually, eventually_or, eventually_within};

pub(crate) const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub(crate) struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    #[allow(dead_code)] // read by the conversion and analytics tests
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Where the redirect appends clicks.
    pub clicks: Arc<dyn ClickStream>,
    /// How far [`TestApp::drain_events`] has read each shard of `clicks`.
    click_cursor: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
    runtime: Option<LocalRuntime>,
}

pub(crate) fn test_config() -> Config {
    let mut c = Config::from_env().expect("config");
    // The tests play CloudFront: they send the country header and are believed.
    c.country_trust = tenx_shared::platform::config::CountryTrust::Always;
    c.jwt = Some(tenx_shared::platform::config::JwtKey::Hs256(
        JWT_SECRET.as_bytes().to_vec(),
    ));
    c.ctx_keys = CtxKeyring::generate_spec();
    c.signing_keys = tenx_shared::domain::proof::jws::ProofKeyring::generate_spec();
    c.payout_keys = tenx_shared::domain::sealed::Keyring::generate_spec();
    c.short_url_scheme = tenx_shared::platform::config::Scheme::Http;
    // A payout request's budget in lines, not in time: on a slow emulator a run must not go
    // to the background just because the machine is busy (`payout_jobs` sets the lines).
    c.payout_sync_time = std::time::Duration::from_secs(600);
    c
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's origin, which every link it mails or hands out is absolute to: a loopback
    /// listener's `http://localhost:{port}` (never the `Host` a request named).
    pub(crate) fn origin(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    /// The `Host` a short link is served on.
    pub(crate) fn short_host(&self, handle: &str) -> String {
        format!("{handle}.localhost:{}", self.addr.port())
    }

    pub(crate) fn token(&self, handles: &[&str], role: Role) -> String {
        token_with_exp(handles, role, now() + 3600)
    }

    /// The app's state, as its handlers and workers have it.
    pub(crate) fn state(&self) -> tenx_shared::kernel::state::AppState {
        self.runtime.as_ref().expect("running").state.clone()
    }

    /// Stops the server and its workers (the data dir stays, for restart tests).
    pub(crate) async fn stop(mut self) -> (Option<tempfile::TempDir>, PathBuf, Config) {
        self.server.abort();
        let _ = (&mut self.server).await;
        if let Some(rt) = self.runtime.take() {
            rt.shutdown();
        }
        (self._tmp.take(), self.data_dir.clone(), self.config.clone())
    }

    pub(crate) async fn put_link(
        &self,
        handle: &str,
        slug: &str,
        body: Value,
    ) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/v2/handles/{handle}/links/{slug}")))
            .bearer_auth(self.token(&[handle], Role::Creator))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Follows nothing: returns the redirect response itself.
    pub(crate) async fn click(
        &self,
        handle: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .get(self.url(path))
            .header("host", self.short_host(handle));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}

/// The handle most tests run on, typed (for store keys).
pub(crate) fn acme() -> tenx_shared::domain::Handle {
    tenx_shared::domain::Handle::parse("acme").unwrap()
}

/// The service's clock (a test that moves it mints tokens valid in the moved time).
pub(crate) fn now() -> i64 {
    tenx_shared::platform::time::now().unix_timestamp()
}

pub(crate) fn token_with_exp(handles: &[&str], role: Role, exp: i64) -> String {
    token_of_subject("tester", handles, role, exp)
}

/// A JWT whose subject is `sub` (another machine, or a person's `usr_…`).
pub(crate) fn token_of_subject(sub: &str, handles: &[&str], role: Role, exp: i64) -> String {
    let v = JwtVerifier::new(Some(JWT_SECRET.as_bytes().to_vec()), None, None, None).unwrap();
    let claims = Claims {
        sub: sub.into(),
        handles: handles
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        role,
        exp,
        iss: None,
        aud: None,
    };
    v.mint(&claims).unwrap()
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_with(test_config(), None).await
}

/// The app without its queue consumers, so a test can read what was enqueued.
pub(crate) async fn spawn_app_without_workers() -> TestApp {
    spawn_full(test_config(), None, Workers::Off).await
}

/// Spawns the app with `config` on `data_dir` (a fresh temp dir when None).
pub(crate) async fn spawn_with(config: Config, data_dir: Option<PathBuf>) -> TestApp {
    spawn_full(config, data_dir, Workers::On).await
}

pub(crate) async fn spawn_full(
    config: Config,
    data_dir: Option<PathBuf>,
    workers: Workers,
) -> TestApp {
    spawn_wrapping(config, data_dir, workers, |backends| backends).await
}

/// An app without workers whose queue, click stream and store writes fail on demand: the switch
/// makes the next sends fail, as when the process dies between a commit and its enqueue.
pub(crate) async fn spawn_with_failing_queue() -> (TestApp, tenx_shared::testing::FailSwitch) {
    spawn_with_failing_queue_config(test_config()).await
}

/// [`spawn_with_failing_queue`] with `config`.
pub(crate) async fn spawn_with_failing_queue_config(
    config: Config,
) -> (TestApp, tenx_shared::testing::FailSwitch) {
    let mut switch = None;
    let app = spawn_wrapping(config, None, Workers::Off, |(store, queue, clicks)| {
        let q = tenx_shared::testing::failing_queue(queue);
        let hook = q.hook().clone();
        let s = tenx_shared::testing::failing_stream(clicks, hook.clone());
        let st = tenx_shared::testing::failing_store(store, hook.clone());
        switch = Some(hook);
        (
            Arc::new(st) as Arc<dyn Store>,
            Arc::new(q) as Arc<dyn Queue>,
            Arc::new(s) as Arc<dyn ClickStream>,
        )
    })
    .await;
    (app, switch.expect("the queue was wrapped"))
}

impl TestApp {
    /// The mail the app sent so far (its Maildir), oldest first.
    #[allow(dead_code)]
    pub(crate) fn sent_mail(&self) -> Vec<tenx_shared::testing::mail::SentMail> {
        tenx_shared::testing::mail::sent_mail(&self.state())
    }

    /// Waits until the app sent at least `n` mails; returns them all.
    #[allow(dead_code)]
    pub(crate) async fn wait_for_mail(
        &self,
        n: usize,
    ) -> Vec<tenx_shared::testing::mail::SentMail> {
        eventually_or(&format!("{n} mails sent"), || async {
            let sent = self.sent_mail();
            match sent.len() {
                len if len >= n => Ok(sent),
                len => Err(format!("{len} mails sent")),
            }
        })
        .await
    }

    /// Works the mail queue off once by hand (an app without workers); returns how many
    /// messages the worker handled.
    #[allow(dead_code)]
    pub(crate) async fn deliver_mail(&self) -> usize {
        tenx_shared::testing::mail::deliver_mail(&self.state()).await
    }

    /// Every event on the events queue and the click stream right now, queue first (received
    /// and acknowledged, or read past, so they are gone; only for apps without workers).
    pub(crate) async fn drain_events(&self) -> Vec<tenx_shared::kernel::events::Event> {
        let mut events = self.drain_queue().await;
        events.extend(self.drain_clicks().await);
        events
    }

    /// The click stream's records not drained yet, as events.
    pub(crate) async fn drain_clicks(&self) -> Vec<tenx_shared::kernel::events::Event> {
        let mut events = Vec::new();
        for shard in self.clicks.shards().await.unwrap() {
            let after = self.click_cursor.lock().unwrap().get(&shard).cloned();
            let records = self
                .clicks
                .read(&shard, after.as_deref(), 10_000)
                .await
                .unwrap();
            if let Some(last) = records.last() {
                let mut cursor = self.click_cursor.lock().unwrap();
                cursor.insert(shard.clone(), last.sequence.clone());
            }
            events.extend(
                records
                    .iter()
                    .map(|r| serde_json::from_str(&r.data).expect("an event")),
            );
        }
        events
    }

    /// Every event on the events queue right now (received and acknowledged).
    pub(crate) async fn drain_queue(&self) -> Vec<tenx_shared::kernel::events::Event> {
        let msgs = self
            .queue
            .receive(
                tenx_shared::platform::queue::QueueName::Events,
                100,
                std::time::Duration::from_secs(30),
            )
            .await
            .unwrap();
        for m in &msgs {
            let _ = self
                .queue
                .ack(tenx_shared::platform::queue::QueueName::Events, &m.receipt)
                .await;
        }
        msgs.iter()
            .map(|m| serde_json::from_str(&m.body).expect("an event"))
            .collect()
    }
}

/// Like [`spawn_full`], with the app's queue wrapped by `wrap` (failure injection, e.g.
/// `tenx_shared::testing::FailingQueue`). `TestApp::queue` is the wrapped queue.
pub(crate) async fn spawn_wrapping(
    mut config: Config,
    data_dir: Option<PathBuf>,
    workers: Workers,
    wrap: impl FnOnce(Backends) -> Backends,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.redirect_domain = format!("localhost:{}", addr.port());
    config.listening_on(addr);
    let (tmp, dir) = match data_dir {
        Some(d) => (None, d),
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    // Mail goes to the data dir's Maildir unless the test named an engine.
    config.mail.data_dir = Some(dir.clone());
    let data = DataDir::prepare(&dir).unwrap();
    let (store, queue, clicks) = wrap(open_backends(&data).await);
    let runtime = LocalRuntime::start(
        config.clone(),
        store.clone(),
        queue.clone(),
        Some(clicks.clone()),
        workers,
    )
    .unwrap();
    let app = tenx_shared::http::local_app(runtime.state.clone());
    let server = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    let client = tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        config,
        store,
        queue,
        clicks,
        click_cursor: Default::default(),
        data_dir: dir,
        _tmp: tmp,
        server,
        runtime: Some(runtime),
    }
}

/// Whether the tests run on the AWS backend (`TENX_TEST_BACKEND=aws`: DynamoDB, SQS and
/// Kinesis on moto).
pub(crate) fn on_aws() -> bool {
    std::env::var("TENX_TEST_BACKEND").as_deref() == Ok("aws")
}

/// The store and queue of a test app: the embedded files in `data` (the default), or with
/// `TENX_TEST_BACKEND=aws` a DynamoDB table and SQS queues of the app's own.
async fn open_backends(data: &DataDir) -> Backends {
    match std::env::var("TENX_TEST_BACKEND").as_deref() {
        Err(_) | Ok("" | "embedded") => open_embedded(data).await,
        Ok("aws") => open_aws(data).await,
        Ok(other) => panic!("TENX_TEST_BACKEND={other}: expected embedded or aws"),
    }
}

pub(crate) type Backends = (Arc<dyn Store>, Arc<dyn Queue>, Arc<dyn ClickStream>);

async fn open_embedded(data: &DataDir) -> Backends {
    // A stopped instance releases its files asynchronously; give it a moment on restart.
    eventually_or("the data dir to open", || async {
        match (data.open_store(), data.open_queue()) {
            (Ok(s), Ok(q)) => Ok((s, q.clone() as Arc<dyn Queue>, q as Arc<dyn ClickStream>)),
            (s, q) => Err(format!("{:?} {:?}", s.err(), q.err())),
        }
    })
    .await
}

/// The emulator this test talks to. `scripts/moto.sh` may start several
/// (`TENX_TEST_AWS_ENDPOINTS`, space-separated), since one answers a request at a time: a test
/// takes the one of its nextest slot (its test group's slot, if it is in one), so the tests
/// running at any moment are spread over them, two heavy tests of one group never share one,
/// and a test (and every process it starts) keeps one emulator. Else `AWS_ENDPOINT_URL`.
pub(crate) fn aws_endpoint() -> String {
    let listed = std::env::var("TENX_TEST_AWS_ENDPOINTS").unwrap_or_default();
    let endpoints: Vec<&str> = listed.split_whitespace().collect();
    let grouped = std::env::var("NEXTEST_TEST_GROUP").is_ok_and(|g| g != "@global");
    let slot_var = if grouped {
        "NEXTEST_TEST_GROUP_SLOT"
    } else {
        "NEXTEST_TEST_GLOBAL_SLOT"
    };
    let slot = std::env::var(slot_var)
        .ok()
        .and_then(|s| s.parse::<usize>().ok());
    match slot {
        Some(slot) if !endpoints.is_empty() => endpoints[slot % endpoints.len()].to_owned(),
        _ => std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .expect("TENX_TEST_BACKEND=aws needs AWS_ENDPOINT_URL: run scripts/test.sh, which starts moto"),
    }
}

/// A fresh table and queues (unique names, provisioned here) for a new data dir; the same ones
/// again when an app restarts on its data dir, which records their names.
async fn open_aws(data: &DataDir) -> Backends {
    use tenx_shared::{
        runtime::aws,
        runtime::aws::{AwsClients, AwsSettings},
    };
    let marker = data.0.join("aws-environment");
    let prefix = match std::fs::read_to_string(&marker) {
        Ok(prefix) => prefix,
        Err(_) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let prefix = format!("api-{}", &id[..16]);
            std::fs::write(&marker, &prefix).expect("recording the AWS environment");
            prefix
        }
    };
    let settings = AwsSettings::named(prefix.clone(), format!("{prefix}-"));
    let clients = AwsClients::at_endpoint(&aws_endpoint())
        .await
        .expect("AWS clients");
    aws::provision(&clients, &settings)
        .await
        .expect("provisioning the test's table and queues");
    let (store, queue) = aws::connect_with(&clients, &settings)
        .await
        .expect("connecting to DynamoDB and SQS");
    (store, queue, aws::click_stream(&clients, &settings))
}

/// The element of the JSON array `list` whose `field` is `value` (a report's row by key, a
/// risk signal by code); panics naming what is missing and what there is.
pub(crate) fn find_by<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no {field} {value} in {list:#}"))
}

/// Each `(body, needle)` POSTed to `path` by `handle`'s operator is a 400 `invalid_request`
/// whose message names `needle` (the field at fault).
pub(crate) async fn assert_each_refused(
    app: &TestApp,
    handle: &str,
    path: &str,
    cases: impl IntoIterator<Item = (Value, &str)>,
) {
    for (body, needle) in cases {
        let sent = app
            .client
            .post(app.url(path))
            .bearer_auth(app.token(&[handle], Role::Operator))
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(sent, 400, "invalid_request").await;
        assert!(message.contains(needle), "{body}: {message}");
    }
}

/// Asserts an error envelope with the given status and code; returns the message.
pub(crate) async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    assert!(
        resp.headers().contains_key("x-request-id"),
        "x-request-id missing"
    );
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert_eq!(
        body["error"]["requestId"],
        request_id.as_str(),
        "requestId must echo the header"
    );
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(!message.is_empty());
    message
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[allow(dead_code)]
pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A second instance of the app on the same store and queue (another Lambda instance), on its
/// own loopback port; its address reaches the socket like the app's.
pub(crate) struct Sibling {
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    runtime: LocalRuntime,
}

impl Sibling {
    pub(crate) async fn of(app: &TestApp) -> Sibling {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let runtime = LocalRuntime::start(
            app.config.clone(),
            app.store.clone(),
            app.queue.clone(),
            Some(app.clicks.clone()),
            Workers::Off,
        )
        .unwrap();
        let router = tenx_shared::http::local_app(runtime.state.clone());
        let server = tokio::spawn(async move {
            let router = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, router).await.unwrap();
        });
        Sibling {
            addr,
            server,
            runtime,
        }
    }

    /// `http://{addr}`
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn stop(self) {
        self.server.abort();
        self.runtime.shutdown();
    }
}

/// The response's JSON body, after asserting its status (the body is in the failure message).
#[allow(dead_code)] // not every test binary module uses it
pub(crate) async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// Sends a request again while the service answers 503, waiting what its `retry-after` says
/// (at most 2 s), as a well-behaved client does; at most five more times. A burst of requests
/// on one item can outlast the store's own retries of contended writes on a loaded emulator,
/// and its 503 means "nothing was written, try again" (shared/aws/src/dynamo/retry.rs): the
/// tests of such bursts then check what every request, retried as a client would, leaves.
pub(crate) async fn retrying_overload<F, Fut>(mut request: F) -> reqwest::Response
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let mut resp = request().await;
    for _ in 0..5 {
        if resp.status() != 503 {
            break;
        }
        let wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1)
            .min(2);
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        resp = request().await;
    }
    resp
}
