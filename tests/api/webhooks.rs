//! Webhooks end to end (LM-04 … LM-06, real events, retries, the log, notifications, re-send,
//! 410, SSRF, isolation, and the published verification snippet), against a real HTTP receiver on
//! loopback that checks every signature with its own implementation of Standard Webhooks.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tenx_shared::domain::{EventId, Handle, SubscriptionId};
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::events::EventType;
use tenx_shared::platform::config::Config;
use tenx_shared::platform::queue::{QueueName, Received};
use tenx_shared::runtime::local::Workers;
use tenx_shared::runtime::workers::BatchHandler;
use tenx_shared::webhooks::delivery::{DeliveryMessage, DeliveryWorker};

use crate::helpers::*;

pub(crate) const HANDLE: &str = "acme";
pub(crate) const OTHER: &str = "other-co";
const BROWSER: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

// ------------------------------------------------------------------ the independent verifier

/// Standard Webhooks verification written from the spec, sharing no code with the service:
/// HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed by the base64-decoded secret after `whsec_`,
/// compared (in constant time, by `verify_slice`) with every `v1,` entry of the header.
pub(crate) fn spec_verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let Some(encoded) = secret.strip_prefix("whsec_") else {
        return false;
    };
    let Ok(key) = B64.decode(encoded) else {
        return false;
    };
    header.split(' ').any(|entry| {
        let Some(sig) = entry.strip_prefix("v1,").and_then(|s| B64.decode(s).ok()) else {
            return false;
        };
        let mut mac = <Hmac<Sha256>>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&sig).is_ok()
    })
}

#[test]
fn the_independent_verifier_accepts_the_spec_vector_and_nothing_else() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (id, ts, body) = (
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        r#"{"test": 2432232314}"#,
    );
    let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert!(spec_verify(secret, id, ts, body.as_bytes(), sig));
    assert!(spec_verify(
        secret,
        id,
        ts,
        body.as_bytes(),
        &format!("v1,bm9wZQ== {sig}")
    ));
    assert!(!spec_verify(
        secret,
        id,
        ts,
        br#"{"test": 2432232315}"#,
        sig
    ));
    assert!(!spec_verify(secret, "msg_other", ts, body.as_bytes(), sig));
    assert!(!spec_verify(secret, id, "1614265331", body.as_bytes(), sig));
    assert!(!spec_verify(
        "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=",
        id,
        ts,
        body.as_bytes(),
        sig
    ));
    assert!(!spec_verify(
        secret,
        id,
        ts,
        body.as_bytes(),
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    ));
}

// ------------------------------------------------------------------ the receiver

#[derive(Clone, Debug)]
pub(crate) struct Captured {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The query string (a postback's values), empty when none.
    pub(crate) query: String,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
    pub(crate) at: Instant,
}

impl Captured {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub(crate) fn assert_signed_with(&self, secret: &str) {
        assert!(
            spec_verify(
                secret,
                self.header("webhook-id"),
                self.header("webhook-timestamp"),
                &self.body,
                self.header("webhook-signature"),
            ),
            "signature does not verify: {:?}",
            self.headers
        );
    }
}

/// Per path: scripted statuses first, then the default.
#[derive(Default)]
struct Script {
    queue: VecDeque<u16>,
    default: u16,
}

#[derive(Clone, Default)]
struct ReceiverState {
    captured: Arc<Mutex<Vec<Captured>>>,
    scripts: Arc<Mutex<HashMap<String, Script>>>,
    /// Per path: how long each answer is held (a request in flight that long).
    delays: Arc<Mutex<HashMap<String, Duration>>>,
}

pub(crate) struct Receiver {
    addr: SocketAddr,
    state: ReceiverState,
}

async fn receive(
    axum::extract::State(state): axum::extract::State<ReceiverState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let path = uri.path().to_owned();
    state.captured.lock().unwrap().push(Captured {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().unwrap_or("").to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        at: Instant::now(),
    });
    let status = match state.scripts.lock().unwrap().get_mut(&path) {
        Some(script) => script.queue.pop_front().unwrap_or(script.default),
        None => 200,
    };
    let delay = state.delays.lock().unwrap().get(&path).copied();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    axum::http::StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = ReceiverState::default();
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `path` answers `first` in order, then `default` forever.
    pub(crate) fn script(&self, path: &str, first: &[u16], default: u16) {
        self.state.scripts.lock().unwrap().insert(
            path.to_owned(),
            Script {
                queue: first.iter().copied().collect(),
                default,
            },
        );
    }

    /// `path` holds each request `delay` before it answers.
    pub(crate) fn delay(&self, path: &str, delay: Duration) {
        self.state
            .delays
            .lock()
            .unwrap()
            .insert(path.to_owned(), delay);
    }

    /// How many distinct `webhook-id`s reached `path` (a retried delivery counts once).
    pub(crate) fn distinct_ids(&self, path: &str) -> usize {
        let ids: std::collections::BTreeSet<String> = self
            .captured(path)
            .iter()
            .map(|c| c.header("webhook-id").to_owned())
            .collect();
        ids.len()
    }

    pub(crate) fn captured(&self, path: &str) -> Vec<Captured> {
        self.state
            .captured
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// Waits (bounded) until `path` has received at least `n` requests.
    pub(crate) async fn wait_for(&self, path: &str, n: usize) -> Vec<Captured> {
        eventually(&format!("{n} requests at {path}"), || async {
            let got = self.captured(path);
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

// ------------------------------------------------------------------ app helpers

pub(crate) fn webhook_config(retry_base_ms: u64) -> Config {
    let mut c = test_config();
    c.webhooks_allow_private = true;
    c.webhook_retry_base = Duration::from_millis(retry_base_ms);
    c
}

async fn spawn_webhooks(retry_base_ms: u64) -> TestApp {
    spawn_with(webhook_config(retry_base_ms), None).await
}

pub(crate) fn operator(app: &TestApp, handle: &str) -> String {
    app.token(&[handle], Role::Operator)
}

pub(crate) async fn post(
    app: &TestApp,
    handle: &str,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(operator(app, handle))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, handle: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(operator(app, handle))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn get_json(app: &TestApp, handle: &str, path: &str) -> Value {
    let resp = get(app, handle, path).await;
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

/// Creates a subscription; returns (subscriptionId, secret).
pub(crate) async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let resp = post(
        app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks"),
        json!({"endpointUrl": url, "eventTypes": types}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    (
        body["subscriptionId"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// POSTs the test route; returns the dispatch id.
pub(crate) async fn dispatch_test(app: &TestApp, id: &str) -> String {
    let resp = post(
        app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/test"),
        json!({}),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    body["dispatchId"].as_str().unwrap().to_owned()
}

pub(crate) async fn attempts(app: &TestApp, id: &str) -> Vec<Value> {
    get_json(
        app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/deliveries?limit=100"),
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until the log holds a finished attempt `n` of `event_id`; returns the whole log.
pub(crate) async fn wait_for_attempt(
    app: &TestApp,
    id: &str,
    event_id: &str,
    n: u64,
) -> Vec<Value> {
    eventually(&format!("attempt {n} of {event_id} in the log"), || async {
        let log = attempts(app, id).await;
        log.iter()
            .any(|a| a["eventId"] == event_id && a["attempt"] == n && a["status"] != "sending")
            .then_some(log)
    })
    .await
}

fn millis(rfc3339: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(
        rfc3339.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The delay an attempt scheduled: from its end to its next attempt.
fn scheduled_delay_ms(attempt: &Value) -> i64 {
    millis(&attempt["nextAttemptAt"])
        - millis(&attempt["attemptedAt"])
        - attempt["durationMs"].as_i64().unwrap()
}

// ------------------------------------------------------------------ LM-04 … LM-06

#[tokio::test]
async fn lm04_only_operators_manage_webhooks() {
    let app = spawn_webhooks(100).await;
    let create = |role: Role| {
        app.client
            .post(app.url(&format!("/v2/handles/{HANDLE}/webhooks")))
            .bearer_auth(app.token(&[HANDLE], role))
            .json(&json!({"endpointUrl": "https://hooks.example.com/test", "eventTypes": ["link.clicked"]}))
            .send()
    };
    assert_error(
        create(Role::Creator).await.unwrap(),
        403,
        "insufficient_role",
    )
    .await;
    assert_error(
        create(Role::Viewer).await.unwrap(),
        403,
        "insufficient_role",
    )
    .await;
    let list = app
        .client
        .get(app.url(&format!("/v2/handles/{HANDLE}/webhooks")))
        .bearer_auth(app.token(&[HANDLE], Role::Creator))
        .send()
        .await
        .unwrap();
    assert_error(list, 403, "insufficient_role").await;
    // An operator of another handle is not an operator here.
    let foreign = app
        .client
        .post(app.url(&format!("/v2/handles/{HANDLE}/webhooks")))
        .bearer_auth(app.token(&[OTHER], Role::Operator))
        .json(&json!({"endpointUrl": "https://hooks.example.com/test", "eventTypes": ["link.clicked"]}))
        .send()
        .await
        .unwrap();
    assert_error(foreign, 403, "forbidden").await;
    let listed = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks")).await;
    assert_eq!(listed["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn lm05_create_returns_the_secret_once_and_reads_never_show_it() {
    let app = spawn_webhooks(100).await;
    // The seed's request, verbatim.
    let resp = post(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks"),
        json!({"endpointUrl": "https://hooks.example.com/test", "eventTypes": ["link.clicked"]}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = resp.json().await.unwrap();
    let id = created["subscriptionId"].as_str().unwrap();
    assert!(id.starts_with("wh_"), "{id}");
    assert_eq!(location, format!("/v2/handles/{HANDLE}/webhooks/{id}"));
    assert_eq!(created["endpointUrl"], "https://hooks.example.com/test");
    assert_eq!(created["eventTypes"], json!(["link.clicked"]));
    assert_eq!(created["status"], "active");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    let secret = created["secret"].as_str().unwrap();
    let key = B64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    assert_eq!(key.len(), 32);

    let described = post(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks"),
        json!({"endpointUrl": "http://hooks.example.com/b", "eventTypes": ["conversion.created", "conversion.tested"], "description": "commission engine"}),
    )
    .await;
    assert_eq!(described.status(), 201);
    let described: Value = described.json().await.unwrap();
    assert_ne!(
        described["secret"], created["secret"],
        "every subscription has its own secret"
    );
    assert_eq!(described["description"], "commission engine");

    for path in [
        format!("/v2/handles/{HANDLE}/webhooks/{id}"),
        format!("/v2/handles/{HANDLE}/webhooks"),
    ] {
        let text = get(&app, HANDLE, &path).await.text().await.unwrap();
        assert!(!text.contains(secret), "{path} leaks the secret");
        assert!(!text.contains("whsec_"), "{path} leaks a secret");
        assert!(!text.contains("\"secret\""), "{path} has a secret field");
    }
    let one = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks/{id}")).await;
    assert_eq!(one["subscriptionId"], id);
    assert_eq!(one["eventTypes"], json!(["link.clicked"]));
    let all = get_json(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks?limit=1"),
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let cursor = all["nextCursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let rest = get_json(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_ne!(
        rest["items"][0]["subscriptionId"],
        all["items"][0]["subscriptionId"]
    );
}

#[tokio::test]
async fn lm06_a_test_dispatch_arrives_signed() {
    let app = spawn_webhooks(100).await;
    let receiver = Receiver::start().await;
    // Subscribed to clicks only: a test reaches the tested subscription whatever its types.
    let (id, secret) = subscribe(&app, &receiver.url("/ok"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;

    let got = receiver.wait_for("/ok", 1).await;
    let delivery = &got[0];
    delivery.assert_signed_with(&secret);
    assert_eq!(delivery.header("webhook-id"), dispatch_id);
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("user-agent"), "tenx-webhooks/1");
    let ts: i64 = delivery
        .header("webhook-timestamp")
        .parse()
        .expect("unix seconds");
    assert!(
        (ts - now()).abs() < 300,
        "webhook-timestamp is the attempt's time"
    );
    let body = delivery.json();
    assert_eq!(body["id"], dispatch_id.as_str());
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["handle"], HANDLE);
    assert_eq!(body["data"]["subscriptionId"], id.as_str());
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["createdAt", "data", "handle", "id", "type"],
        "the documented envelope, nothing internal"
    );

    let log = wait_for_attempt(&app, &id, &dispatch_id, 1).await;
    assert_eq!(log.len(), 1);
    let a = &log[0];
    assert_eq!(a["status"], "succeeded");
    assert_eq!(a["statusCode"], 200);
    assert_eq!(a["eventType"], "webhook.test");
    assert_eq!(a["manual"], false);
    assert_eq!(a["deliveryId"], format!("{dispatch_id}:{id}"));
    assert!(a["durationMs"].is_u64());
    assert!(a["error"].is_null() && a["nextAttemptAt"].is_null());
    assert_eq!(receiver.captured("/ok").len(), 1);
}

#[tokio::test]
async fn a_test_dispatch_travels_as_an_event_on_the_events_queue() {
    let app = spawn_full(webhook_config(100), None, Workers::Off).await;
    let receiver = Receiver::start().await;
    let (id, _) = subscribe(&app, &receiver.url("/ok"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;
    // SQS may answer a receive with a subset of the messages: poll until it shows up.
    let event: Value = eventually("the test event on the events queue", || async {
        let events = app
            .queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        events
            .iter()
            .map(|m| serde_json::from_str::<Value>(&m.body).unwrap())
            .find(|e| e["id"] == dispatch_id.as_str())
    })
    .await;
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(event["targetSubscription"], id.as_str());
    let deliveries = app
        .queue
        .receive(QueueName::Deliveries, 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        deliveries.is_empty(),
        "fan-out, not the route, makes deliveries"
    );
}

// ------------------------------------------------------------------ real events

#[tokio::test]
async fn link_changes_and_clicks_reach_the_subscriptions_that_want_them() {
    let app = spawn_webhooks(100).await;
    let receiver = Receiver::start().await;
    let (a, secret_a) =
        subscribe(&app, &receiver.url("/a"), &["link.created", "link.clicked"]).await;
    let (_b, secret_b) = subscribe(&app, &receiver.url("/b"), &["link.updated"]).await;
    let link = json!({"destinationUrl": "https://example.com/product", "routingRules": []});

    assert_eq!(
        app.put_link(HANDLE, "launch", link.clone()).await.status(),
        201
    );
    let got = receiver.wait_for("/a", 1).await;
    got[0].assert_signed_with(&secret_a);
    let created = got[0].json();
    assert_eq!(created["type"], "link.created");
    assert_eq!(created["data"]["slug"], "launch");
    assert_eq!(created["handle"], HANDLE);

    assert_eq!(app.put_link(HANDLE, "launch", link).await.status(), 200);
    let got = receiver.wait_for("/b", 1).await;
    got[0].assert_signed_with(&secret_b);
    assert_eq!(got[0].json()["type"], "link.updated");

    let resp = app
        .click(HANDLE, "/launch", &[("user-agent", BROWSER)])
        .await;
    assert_eq!(resp.status(), 302);
    let got = receiver.wait_for("/a", 2).await;
    let clicked = got[1].json();
    got[1].assert_signed_with(&secret_a);
    assert_eq!(clicked["type"], "link.clicked");
    assert_eq!(clicked["data"]["slug"], "launch");
    assert!(clicked["data"]["clickId"].as_str().is_some());
    assert_eq!(got[1].header("webhook-id"), clicked["id"].as_str().unwrap());

    // Each subscription got only its own types (the update came before the click).
    let types = |path: &str| -> Vec<String> {
        receiver
            .captured(path)
            .iter()
            .map(|c| c.json()["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types("/a"), ["link.created", "link.clicked"]);
    assert_eq!(types("/b"), ["link.updated"]);
    let log = attempts(&app, &a).await;
    assert!(log.iter().all(|x| x["eventType"] != "link.updated"));
}

/// The click's sub-ids, cleaned as kept; conversion payloads carry them too
/// (`conversion_webhooks_carry_risk_verification_sub_ids_and_the_reversed_original`).
#[tokio::test]
async fn sub_ids_on_the_short_url_arrive_cleaned_in_the_link_clicked_payload() {
    let app = spawn_webhooks(100).await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&app, &receiver.url("/partner"), &["link.clicked"]).await;
    let link = json!({"destinationUrl": "https://example.com/product"});
    assert_eq!(app.put_link(HANDLE, "deal", link).await.status(), 201);
    let resp = app
        .click(
            HANDLE,
            "/deal?sub1=banner-top&sub3=%20spring%0A&sub1=second&sub2=&sub9=ignored",
            &[("user-agent", BROWSER)],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let got = receiver.wait_for("/partner", 1).await;
    got[0].assert_signed_with(&secret);
    let body = got[0].json();
    assert_eq!(body["type"], "link.clicked");
    assert_eq!(
        body["data"]["subIds"],
        json!({"sub1": "banner-top", "sub3": "spring"}),
        "{body}"
    );
    // What the OS and browser are read from; no region or city without an edge naming them.
    assert_eq!(body["data"]["userAgent"], BROWSER, "{body}");
    assert!(body["data"].get("city").is_none(), "{body}");
}

// ------------------------------------------------------------------ retries

#[tokio::test]
async fn a_flaky_endpoint_gets_three_attempts_with_one_webhook_id() {
    let base = 100;
    let app = spawn_webhooks(base).await;
    let receiver = Receiver::start().await;
    receiver.script("/flaky", &[500, 503], 200);
    let (id, secret) = subscribe(&app, &receiver.url("/flaky"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;

    let log = wait_for_attempt(&app, &id, &dispatch_id, 3).await;
    let got = receiver.captured("/flaky");
    assert_eq!(got.len(), 3, "two failures, then the success ends it");
    for c in &got {
        c.assert_signed_with(&secret);
        assert_eq!(
            c.header("webhook-id"),
            dispatch_id,
            "webhook-id is stable across retries"
        );
        assert_eq!(c.body, got[0].body, "every attempt sends the same bytes");
    }
    // Newest first.
    let numbers: Vec<_> = log.iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1]);
    let codes: Vec<_> = log
        .iter()
        .map(|a| a["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [200, 503, 500]);
    assert_eq!(log[0]["status"], "succeeded");
    assert!(log[0]["nextAttemptAt"].is_null());
    // The schedule: base, then 2 × base (recorded exactly) …
    assert_eq!(scheduled_delay_ms(&log[2]), base as i64);
    assert_eq!(scheduled_delay_ms(&log[1]), 2 * base as i64);
    // … and honoured: no retry arrived before its time. The embedded queue keeps a delay to the
    // millisecond. SQS takes whole seconds, and the worker takes a message up to a second early
    // rather than re-enqueue it (`EARLY_TOLERANCE_MS`); moto once handed one over 137 ms after
    // its predecessor. So on the AWS backend the schedule above is what is checked.
    let gap1 = got[1].at - got[0].at;
    let gap2 = got[2].at - got[1].at;
    if !on_aws() {
        assert!(gap1 >= Duration::from_millis(base * 9 / 10), "{gap1:?}");
        assert!(gap2 >= Duration::from_millis(2 * base * 9 / 10), "{gap2:?}");
    }

    // The log paginates, newest first.
    let page = get_json(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/deliveries?limit=2"),
    )
    .await;
    let firsts: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"].clone())
        .collect();
    assert_eq!(firsts, [json!(3), json!(2)]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let page = get_json(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/deliveries?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(page["items"][0]["attempt"], 1);
    assert!(page["nextCursor"].is_null());

    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    assert_eq!(
        notes["failedDeliveries"],
        json!([]),
        "a delivery that succeeded is no failure"
    );
    assert_eq!(notes["subscriptions"][0]["successCount"], 1);
    assert_eq!(notes["subscriptions"][0]["failureCount"], 0);
    assert_eq!(notes["subscriptions"][0]["failedAttempts"], 2);
}

#[tokio::test]
async fn an_endpoint_that_always_fails_gets_six_attempts_then_the_delivery_fails() {
    let base = 100;
    let app = spawn_webhooks(base).await;
    let receiver = Receiver::start().await;
    receiver.script("/down", &[], 500);
    let (id, secret) = subscribe(&app, &receiver.url("/down"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;

    let log = wait_for_attempt(&app, &id, &dispatch_id, 6).await;
    let got = receiver.captured("/down");
    assert_eq!(got.len(), 6, "1 attempt + 5 retries");
    for c in &got {
        c.assert_signed_with(&secret);
        assert_eq!(c.header("webhook-id"), dispatch_id);
    }
    let numbers: Vec<_> = log.iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [6, 5, 4, 3, 2, 1]);
    assert!(
        log.iter()
            .all(|a| a["status"] == "failed" && a["statusCode"] == 500)
    );
    assert!(
        log[0]["nextAttemptAt"].is_null(),
        "the sixth failure is final"
    );
    let delays: Vec<_> = log[1..].iter().rev().map(scheduled_delay_ms).collect();
    let b = base as i64;
    assert_eq!(delays, [b, 2 * b, 4 * b, 8 * b, 16 * b]);

    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    let failed = notes["failedDeliveries"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["eventId"], dispatch_id.as_str());
    assert_eq!(failed[0]["subscriptionId"], id.as_str());
    assert_eq!(failed[0]["eventType"], "webhook.test");
    assert_eq!(failed[0]["attempts"], 6);
    assert_eq!(failed[0]["lastStatusCode"], 500);
    assert_eq!(failed[0]["endpointUrl"], receiver.url("/down"));
    let sub = &notes["subscriptions"][0];
    assert_eq!(sub["subscriptionId"], id.as_str());
    assert_eq!(
        (
            sub["successCount"].as_i64(),
            sub["failureCount"].as_i64(),
            sub["failedAttempts"].as_i64()
        ),
        (Some(0), Some(1), Some(6))
    );
    assert_eq!(
        receiver.captured("/down").len(),
        6,
        "nothing after the final failure"
    );
}

#[tokio::test]
async fn a_failed_delivery_can_be_resent_by_hand() {
    let app = spawn_webhooks(20).await;
    let receiver = Receiver::start().await;
    receiver.script("/later", &[500, 500, 500, 500, 500, 500], 200);
    let (id, secret) = subscribe(&app, &receiver.url("/later"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;
    wait_for_attempt(&app, &id, &dispatch_id, 6).await;

    let resend = |event: String| {
        let path = format!("/v2/handles/{HANDLE}/webhooks/{id}/deliveries/{event}/resend");
        let app = &app;
        async move { post(app, HANDLE, &path, json!({})).await }
    };
    let resp = resend(dispatch_id.clone()).await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["attempt"], 7);
    assert_eq!(body["deliveryId"], format!("{dispatch_id}:{id}"));

    let got = receiver.wait_for("/later", 7).await;
    got[6].assert_signed_with(&secret);
    assert_eq!(
        got[6].header("webhook-id"),
        dispatch_id,
        "a re-send is the same message"
    );
    assert_eq!(got[6].body, got[0].body);
    let log = wait_for_attempt(&app, &id, &dispatch_id, 7).await;
    assert_eq!(log[0]["attempt"], 7);
    assert_eq!(log[0]["manual"], true);
    assert_eq!(log[0]["status"], "succeeded");

    let notes = eventually("the failure to leave notifications", || async {
        let n = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
        (n["failedDeliveries"] == json!([])).then_some(n)
    })
    .await;
    assert_eq!(notes["subscriptions"][0]["successCount"], 1);
    assert_eq!(notes["subscriptions"][0]["failureCount"], 1);

    assert_error(resend("evt_unknown".into()).await, 404, "not_found").await;
    assert_error(resend("evt%23x".into()).await, 404, "not_found").await;
    let foreign = app
        .client
        .post(app.url(&format!(
            "/v2/handles/{OTHER}/webhooks/{id}/deliveries/{dispatch_id}/resend"
        )))
        .bearer_auth(operator(&app, OTHER))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(foreign, 404, "not_found").await;
}

#[tokio::test]
async fn a_delivery_with_retries_pending_cannot_be_resent() {
    // A long base keeps the delivery pending for the whole test.
    let app = spawn_webhooks(60_000).await;
    let receiver = Receiver::start().await;
    receiver.script("/down", &[], 500);
    let (id, _) = subscribe(&app, &receiver.url("/down"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &dispatch_id, 1).await;
    assert_eq!(scheduled_delay_ms(&log[0]), 60_000);
    let resp = post(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/deliveries/{dispatch_id}/resend"),
        json!({}),
    )
    .await;
    assert_error(resp, 409, "conflict").await;
}

#[tokio::test]
async fn gone_disables_the_subscription_and_stops_retrying() {
    let app = spawn_webhooks(20).await;
    let receiver = Receiver::start().await;
    receiver.script("/gone", &[], 410);
    let (id, secret) = subscribe(&app, &receiver.url("/gone"), &["link.clicked"]).await;
    let dispatch_id = dispatch_test(&app, &id).await;

    let log = wait_for_attempt(&app, &id, &dispatch_id, 1).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["statusCode"], 410);
    assert_eq!(log[0]["status"], "failed");
    assert!(log[0]["nextAttemptAt"].is_null());
    assert!(log[0]["error"].as_str().unwrap().contains("410"));
    receiver.captured("/gone")[0].assert_signed_with(&secret);

    let sub = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks/{id}")).await;
    assert_eq!(sub["status"], "disabled");
    assert!(sub["disabledReason"].as_str().unwrap().contains("410"));
    let again = post(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks/{id}/test"),
        json!({}),
    )
    .await;
    assert_error(again, 409, "conflict").await;
    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    assert_eq!(
        notes["failedDeliveries"][0]["eventId"],
        dispatch_id.as_str()
    );
    assert_eq!(notes["subscriptions"][0]["status"], "disabled");
    assert_eq!(notes["subscriptions"][0]["failureCount"], 1);
    assert_eq!(receiver.captured("/gone").len(), 1);
}

#[tokio::test]
async fn an_operator_resumes_a_subscription_disabled_by_gone() {
    let app = spawn_webhooks(20).await;
    let receiver = Receiver::start().await;
    receiver.script("/back", &[410], 200);
    let (id, secret) = subscribe(&app, &receiver.url("/back"), &["link.clicked"]).await;
    let first = dispatch_test(&app, &id).await;
    wait_for_attempt(&app, &id, &first, 1).await;
    let path = format!("/v2/handles/{HANDLE}/webhooks/{id}");
    assert_eq!(get_json(&app, HANDLE, &path).await["status"], "disabled");

    let patch = |body: Value| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(operator(&app, HANDLE))
            .json(&body)
            .send()
    };
    assert_error(
        patch(json!({"status": "paused"})).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        patch(json!({"enabled": true})).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    let resumed = patch(json!({"status": "active"})).await.unwrap();
    assert_eq!(resumed.status(), 200);
    let view: Value = resumed.json().await.unwrap();
    assert_eq!(view["status"], "active");
    assert!(view["disabledReason"].is_null(), "{view}");

    // Deliveries flow again, signed with the same secret.
    let second = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &second, 1).await;
    assert_eq!(log[0]["status"], "succeeded", "{log:?}");
    receiver.captured("/back")[1].assert_signed_with(&secret);
    let other = app
        .client
        .patch(app.url(&format!("/v2/handles/other/webhooks/{id}")))
        .bearer_auth(operator(&app, "other"))
        .json(&json!({"status": "active"}))
        .send()
        .await
        .unwrap();
    assert_error(other, 404, "not_found").await;
}

// ------------------------------------------------------------------ idempotency

fn received(id: &str, message: &DeliveryMessage) -> Received {
    Received {
        message_id: id.to_owned(),
        receipt: id.to_owned(),
        body: serde_json::to_string(message).unwrap(),
        receive_count: 1,
    }
}

#[tokio::test]
async fn duplicate_messages_send_each_attempt_once() {
    let app = spawn_full(webhook_config(100), None, Workers::Off).await;
    let receiver = Receiver::start().await;
    receiver.script("/dup", &[500], 200);
    let (id, secret) = subscribe(&app, &receiver.url("/dup"), &["link.clicked"]).await;
    let state = app.state();
    let worker = DeliveryWorker::new(state);
    let first = DeliveryMessage {
        handle: Handle::parse(HANDLE).unwrap(),
        subscription_id: SubscriptionId::parse(&id).unwrap(),
        event_id: EventId::parse("evt_00000000000000000000000000000d01").unwrap(),
        event_type: EventType::WebhookTest,
        body: r#"{"id":"evt_00000000000000000000000000000d01","type":"webhook.test"}"#.into(),
        attempt: 1,
        manual: false,
        due_at_ms: None,
    };

    // Two copies in one batch: one sends (its request held in flight, so the claim is still
    // live whatever the machine's load), the other finds the live claim and is retried later.
    receiver.delay("/dup", Duration::from_millis(800));
    let failed = worker
        .handle(vec![received("m1", &first), received("m2", &first)])
        .await;
    receiver.delay("/dup", Duration::ZERO);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(receiver.captured("/dup").len(), 1);
    receiver.captured("/dup")[0].assert_signed_with(&secret);

    // The retry of attempt 1 was enqueued once.
    let retry = eventually("the retry message", || async {
        let got = app
            .queue
            .receive(QueueName::Deliveries, 10, Duration::from_secs(30))
            .await
            .unwrap();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(retry.len(), 1);
    let second: DeliveryMessage = serde_json::from_str(&retry[0].body).unwrap();
    assert_eq!(second.attempt, 2);

    // A late copy of attempt 1 finds it finished: nothing is sent and no retry is added.
    let failed = worker.handle(vec![received("m3", &first)]).await;
    assert!(failed.is_empty());
    assert_eq!(receiver.captured("/dup").len(), 1);

    // Attempt 2, delivered twice: sent once, and it succeeds.
    assert!(
        worker
            .handle(vec![received("m4", &second)])
            .await
            .is_empty()
    );
    assert!(
        worker
            .handle(vec![received("m5", &second)])
            .await
            .is_empty()
    );
    assert_eq!(receiver.captured("/dup").len(), 2);
    let log = attempts(&app, &id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], "succeeded");
    let leftover = app
        .queue
        .receive(QueueName::Deliveries, 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        leftover.is_empty(),
        "no third attempt was scheduled: {leftover:?}"
    );
}

// ------------------------------------------------------------------ SSRF

#[tokio::test]
async fn endpoints_on_non_public_addresses_are_refused_at_creation() {
    let mut config = test_config();
    config.webhooks_allow_private = false;
    let app = spawn_with(config, None).await;
    let receiver = Receiver::start().await;
    let blocked = [
        "http://127.0.0.1/hook".to_owned(),
        "http://127.1.2.3:8080/hook".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://172.16.0.1/".to_owned(),
        "http://172.31.255.254/".to_owned(),
        "http://192.168.1.10/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://100.64.0.1/".to_owned(),
        "http://0.0.0.0/".to_owned(),
        "http://224.0.0.1/".to_owned(),
        "http://255.255.255.255/".to_owned(),
        "http://192.0.2.1/".to_owned(),
        "http://2130706433/".to_owned(),
        "http://[::1]/".to_owned(),
        "http://[fc00::1]/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "http://[::ffff:10.0.0.1]/".to_owned(),
        "http://[::ffff:169.254.169.254]/".to_owned(),
        "http://[::]/".to_owned(),
        receiver.url("/hook"),
    ];
    for url in &blocked {
        let resp = post(
            &app,
            HANDLE,
            &format!("/v2/handles/{HANDLE}/webhooks"),
            json!({"endpointUrl": url, "eventTypes": ["link.clicked"]}),
        )
        .await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(message.starts_with("endpointUrl: "), "{url}: {message}");
        assert!(message.contains("publicly routable"), "{url}: {message}");
    }
    // A name that resolves to loopback, judged by what it resolves to.
    let localhost = format!("http://localhost:{}/hook", receiver.addr.port());
    let resp = post(
        &app,
        HANDLE,
        &format!("/v2/handles/{HANDLE}/webhooks"),
        json!({"endpointUrl": localhost, "eventTypes": ["link.clicked"]}),
    )
    .await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(
        message.starts_with("endpointUrl: localhost resolves to "),
        "{message}"
    );

    // Just outside the blocked ranges is fine (IP literals: no DNS needed).
    for url in [
        "https://93.184.215.14/hook",
        "http://172.32.0.1/",
        "http://100.128.0.1/",
        "https://[2606:4700:4700::1111]/",
    ] {
        let resp = post(
            &app,
            HANDLE,
            &format!("/v2/handles/{HANDLE}/webhooks"),
            json!({"endpointUrl": url, "eventTypes": ["link.clicked"]}),
        )
        .await;
        assert_eq!(resp.status(), 201, "{url}");
    }
    let listed = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks")).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        4,
        "refused endpoints were not stored"
    );
}

#[tokio::test]
async fn the_guard_runs_again_at_delivery_time() {
    let mut config = test_config();
    config.webhooks_allow_private = false;
    config.webhook_retry_base = Duration::from_millis(20);
    let app = spawn_with(config, None).await;
    let receiver = Receiver::start().await;
    // A subscription stored while private endpoints were allowed (or whose DNS changed since).
    let spec = tenx_shared::webhooks::subscription::SubscriptionSpec {
        endpoint_url: receiver.url("/inside"),
        event_types: vec!["link.clicked".into()],
        description: None,
    }
    .validate()
    .unwrap();
    let sub = tenx_shared::webhooks::subscription::Subscription::new(
        &tenx_shared::domain::Handle::parse(HANDLE).unwrap(),
        spec,
        tenx_shared::webhooks::signing::generate_secret(),
        tenx_shared::platform::time::timestamp(),
    );
    app.store
        .write(tenx_shared::platform::store::WriteOp::Put {
            item: tenx_shared::webhooks::repo::item(&sub, 1).unwrap(),
            cond: tenx_shared::platform::store::Cond::Absent,
        })
        .await
        .unwrap();
    let id = sub.subscription_id.clone();
    let dispatch_id = dispatch_test(&app, id.as_str()).await;
    let log = wait_for_attempt(&app, id.as_str(), &dispatch_id, 6).await;
    for a in &log {
        assert!(a["statusCode"].is_null(), "no connection was made: {a}");
        let error = a["error"].as_str().unwrap();
        assert!(
            error.starts_with("endpoint refused: 127.0.0.1 is a loopback address"),
            "{error}"
        );
    }
    assert!(receiver.captured("/inside").is_empty());
}

// ------------------------------------------------------------------ isolation and input

#[tokio::test]
async fn another_handle_can_neither_see_nor_touch_a_subscription() {
    let app = spawn_webhooks(100).await;
    let (id, _) = subscribe(&app, "https://hooks.example.com/a", &["link.clicked"]).await;
    let other = |path: String| format!("/v2/handles/{OTHER}/webhooks{path}");
    assert_error(
        get(&app, OTHER, &other(format!("/{id}"))).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(&app, OTHER, &other(format!("/{id}/deliveries"))).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        post(&app, OTHER, &other(format!("/{id}/test")), json!({})).await,
        404,
        "not_found",
    )
    .await;
    let delete = app
        .client
        .delete(app.url(&other(format!("/{id}"))))
        .bearer_auth(operator(&app, OTHER))
        .send()
        .await
        .unwrap();
    assert_error(delete, 404, "not_found").await;
    assert_eq!(
        get_json(&app, OTHER, &other(String::new())).await["items"],
        json!([])
    );
    let notes = get_json(&app, OTHER, &format!("/v2/handles/{OTHER}/notifications")).await;
    assert_eq!(notes["subscriptions"], json!([]));
    // Another handle's token on this handle's path: forbidden.
    let cross = app
        .client
        .get(app.url(&format!("/v2/handles/{HANDLE}/webhooks/{id}")))
        .bearer_auth(operator(&app, OTHER))
        .send()
        .await
        .unwrap();
    assert_error(cross, 403, "forbidden").await;

    // Still there for its owner; then deleted, once.
    assert_eq!(
        get(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks/{id}"))
            .await
            .status(),
        200
    );
    let delete = || {
        app.client
            .delete(app.url(&format!("/v2/handles/{HANDLE}/webhooks/{id}")))
            .bearer_auth(operator(&app, HANDLE))
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 204);
    assert_error(delete().await.unwrap(), 404, "not_found").await;
    assert_error(
        get(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks/{id}")).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_subscription_requests_are_refused_naming_the_field() {
    let app = spawn_webhooks(100).await;
    let path = format!("/v2/handles/{HANDLE}/webhooks");
    let cases = [
        (
            json!({"endpointUrl": "https://h.example/", "eventTypes": ["link.clicked", "link.deleted"]}),
            "eventTypes[1]",
        ),
        (
            json!({"endpointUrl": "https://h.example/", "eventTypes": []}),
            "eventTypes",
        ),
        (json!({"endpointUrl": "https://h.example/"}), "eventTypes"),
        (json!({"eventTypes": ["link.clicked"]}), "endpointUrl"),
        (
            json!({"endpointUrl": "ftp://h.example/", "eventTypes": ["link.clicked"]}),
            "endpointUrl",
        ),
        (
            json!({"endpointUrl": "https://user:pw@h.example/", "eventTypes": ["link.clicked"]}),
            "endpointUrl",
        ),
        (
            json!({"endpointUrl": format!("https://h.example/{}", "a".repeat(2048)), "eventTypes": ["link.clicked"]}),
            "endpointUrl",
        ),
        (
            json!({"endpointUrl": "https://h.example/", "eventTypes": ["link.clicked"], "description": "x".repeat(201)}),
            "description",
        ),
        (
            json!({"endpointUrl": "https://h.example/", "eventTypes": ["link.clicked"], "secret": "whsec_mine"}),
            "secret",
        ),
        (
            json!({"endpointUrl": "https://h.example/", "eventTypes": "link.clicked"}),
            "eventTypes",
        ),
    ];
    crate::helpers::assert_each_refused(&app, HANDLE, &path, cases).await;
    let message = assert_error(
        post(
            &app,
            HANDLE,
            &path,
            json!({"endpointUrl": "https://h.example/", "eventTypes": ["link.deleted"]}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("link.deleted"),
        "the unknown type is named: {message}"
    );
    assert_eq!(
        get_json(&app, HANDLE, &path).await["items"],
        json!([]),
        "nothing stored"
    );

    assert_error(
        get(&app, HANDLE, &format!("{path}/wh_missing")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(&app, HANDLE, &format!("{path}/not-an-id")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        post(&app, HANDLE, &format!("{path}/wh_missing/test"), json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(&app, HANDLE, &format!("{path}?limit=0")).await,
        400,
        "invalid_request",
    )
    .await;
    let (id, _) = subscribe(&app, "https://hooks.example.com/a", &["link.clicked"]).await;
    assert_error(
        get(
            &app,
            HANDLE,
            &format!("{path}/{id}/deliveries?cursor=%25%25"),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        post(
            &app,
            HANDLE,
            &format!("{path}/{id}/test"),
            json!({"extra": 1}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
}

// ------------------------------------------------------- the snippet in docs/walkthroughs.md

/// The Python block between the `verify-snippet` markers of docs/walkthroughs.md ("Verifying our
/// webhooks"), exactly as published.
fn published_snippet() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/walkthroughs.md"))
        .expect("docs/walkthroughs.md");
    let start = doc
        .find("<!-- verify-snippet:start -->")
        .expect("start marker in docs/walkthroughs.md");
    let end = doc
        .find("<!-- verify-snippet:end -->")
        .expect("end marker in docs/walkthroughs.md");
    let block = &doc[start..end];
    let code_start = block.find("```python\n").expect("a python block") + "```python\n".len();
    let code_end = block[code_start..].find("```").expect("the block closes") + code_start;
    block[code_start..code_end].to_owned()
}

fn run_snippet(
    dir: &std::path::Path,
    secret: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
) -> String {
    let script = format!(
        "{}\n\nimport json, sys\nheaders = json.load(open(sys.argv[2]))\nbody = open(sys.argv[3], 'rb').read()\nprint('valid' if verify_webhook(sys.argv[1], headers, body) else 'invalid')\n",
        published_snippet()
    );
    let script_path = dir.join("verify.py");
    let headers_path = dir.join("headers.json");
    let body_path = dir.join("body.bin");
    std::fs::write(&script_path, script).unwrap();
    std::fs::write(&headers_path, serde_json::to_vec(headers).unwrap()).unwrap();
    std::fs::write(&body_path, body).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&script_path)
        .arg(secret)
        .arg(&headers_path)
        .arg(&body_path)
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is required to test the published verification snippet: {e}")
        });
    assert!(
        out.status.success(),
        "the snippet crashed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_published_snippet_verifies_a_real_delivery() {
    let app = spawn_webhooks(100).await;
    let receiver = Receiver::start().await;
    let (id, secret) = subscribe(&app, &receiver.url("/py"), &["link.clicked"]).await;
    dispatch_test(&app, &id).await;
    let delivery = receiver.wait_for("/py", 1).await.remove(0);
    delivery.assert_signed_with(&secret);
    let dir = tempfile::tempdir().unwrap();

    assert_eq!(
        run_snippet(dir.path(), &secret, &delivery.headers, &delivery.body),
        "valid"
    );
    let mut tampered = delivery.body.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert_eq!(
        run_snippet(dir.path(), &secret, &delivery.headers, &tampered),
        "invalid"
    );
    let (_, other_secret) = subscribe(&app, &receiver.url("/other"), &["link.clicked"]).await;
    assert_eq!(
        run_snippet(dir.path(), &other_secret, &delivery.headers, &delivery.body),
        "invalid"
    );
    let mut stale = delivery.headers.clone();
    stale.insert("webhook-timestamp".into(), (now() - 3600).to_string());
    assert_eq!(
        run_snippet(dir.path(), &secret, &stale, &delivery.body),
        "invalid"
    );
}

#[tokio::test]
async fn a_stale_claim_is_taken_over_and_a_live_one_is_left_alone() {
    use tenx_shared::platform::store::{Cond, Item, WriteOp, keys};
    use tenx_shared::webhooks::log::{AttemptRecord, AttemptStatus};

    let app = spawn_full(webhook_config(100), None, Workers::Off).await;
    let receiver = Receiver::start().await;
    let (id, secret) = subscribe(&app, &receiver.url("/lease"), &["link.clicked"]).await;
    let state = app.state();
    let worker = DeliveryWorker::new(state);
    let message = |event_id: &str| DeliveryMessage {
        handle: Handle::parse(HANDLE).unwrap(),
        subscription_id: SubscriptionId::parse(&id).unwrap(),
        event_id: EventId::parse(event_id).unwrap(),
        event_type: EventType::WebhookTest,
        body: format!(r#"{{"id":"{event_id}","type":"webhook.test"}}"#),
        attempt: 1,
        manual: false,
        due_at_ms: None,
    };
    // A claim left by a worker that is (or was) sending: lease until `lease_until_ms`.
    let plant = |event_id: &str, lease_until_ms: i64| {
        let record = AttemptRecord {
            event_id: EventId::parse(event_id).unwrap(),
            event_type: EventType::WebhookTest,
            attempt: 1,
            manual: false,
            status: AttemptStatus::Sending,
            attempted_at: tenx_shared::platform::time::timestamp(),
            attempted_at_ms: tenx_shared::platform::time::now_millis(),
            lease_until_ms: Some(lease_until_ms),
            status_code: None,
            duration_ms: None,
            error: None,
            next_attempt_ms: None,
            next_enqueued: false,
        };
        WriteOp::Put {
            item: Item::new(
                keys::webhook_log_pk(&acme(), &id.parse().unwrap()),
                keys::webhook_attempt_sk(event_id, 1),
                serde_json::to_value(&record).unwrap(),
            )
            .with_version(1),
            cond: Cond::Absent,
        }
    };
    let now_ms = tenx_shared::platform::time::now_millis();
    app.store
        .write(plant(
            "evt_0000000000000000000000000000a11e",
            now_ms + 60_000,
        ))
        .await
        .unwrap();
    app.store
        .write(plant("evt_0000000000000000000000000000dead", now_ms - 1))
        .await
        .unwrap();

    // A live lease: someone else is sending; the message is left for later, nothing is sent.
    let failed = worker
        .handle(vec![received(
            "live",
            &message("evt_0000000000000000000000000000a11e"),
        )])
        .await;
    assert_eq!(failed, ["live"]);
    assert!(receiver.captured("/lease").is_empty());

    // An expired lease: the sender died; this message takes the attempt over and finishes it.
    let failed = worker
        .handle(vec![received(
            "dead",
            &message("evt_0000000000000000000000000000dead"),
        )])
        .await;
    assert!(failed.is_empty(), "{failed:?}");
    let got = receiver.captured("/lease");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("webhook-id"),
        "evt_0000000000000000000000000000dead"
    );
    got[0].assert_signed_with(&secret);
    let log = attempts(&app, &id).await;
    let taken = log
        .iter()
        .find(|a| a["eventId"] == "evt_0000000000000000000000000000dead")
        .unwrap();
    assert_eq!(taken["status"], "succeeded");
    let live = log
        .iter()
        .find(|a| a["eventId"] == "evt_0000000000000000000000000000a11e")
        .unwrap();
    assert_eq!(live["status"], "sending");
}

// ------------------------------------------------------------------ conversions

#[tokio::test]
async fn conversion_webhooks_carry_risk_verification_sub_ids_and_the_reversed_original() {
    let app = spawn_webhooks(100).await;
    let receiver = Receiver::start().await;
    let types = ["conversion.created", "conversion.reversed"];
    let (_, secret) = subscribe(&app, &receiver.url("/conversions"), &types).await;
    let link = json!({"destinationUrl": "https://shop.example.com/deal"});
    assert_eq!(app.put_link(HANDLE, "deal", link).await.status(), 201);
    let operator = app.as_role(HANDLE, Role::Operator);
    let policy = json!({"publicConversions": "flag", "minSecondsAfterClick": 0,
        "maxValue": {"USD": 100}});
    assert_eq!(operator.put_conversion_policy(&policy).await.status(), 200);
    let resp = app
        .click(
            HANDLE,
            "/deal?sub1=banner&sub2=news-07&sub3=c&sub4=d&sub5=e",
            &[("user-agent", BROWSER)],
        )
        .await;
    let ctx = query_param(header_str(resp.headers(), "location"), "ctx").expect("a ctx");
    let purchase = |key: &str, value: f64| {
        json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": value,
            "currency": "USD"})
    };
    // Public and above the policy's maximum: flagged twice. From the merchant's server: clean.
    let resp = app.convert(&purchase("hook-public", 150.0)).await;
    assert_eq!(resp.status(), 202);
    let public: Value = resp.json().await.unwrap();
    let merchant = app.as_role(HANDLE, Role::Creator);
    let resp = merchant
        .convert_verified(&purchase("hook-verified", 20.0))
        .await;
    assert_eq!(resp.status(), 202);
    let verified: Value = resp.json().await.unwrap();

    let got = receiver.wait_for("/conversions", 2).await;
    let delivered = |id: &Value| -> Value {
        let hit = got
            .iter()
            .find(|c| c.json()["data"]["conversionId"] == *id)
            .unwrap_or_else(|| panic!("no delivery of {id}"));
        hit.assert_signed_with(&secret);
        let body = hit.json();
        assert_eq!(hit.header("webhook-id"), body["id"].as_str().unwrap());
        assert_eq!(body["type"], "conversion.created");
        body["data"].clone()
    };
    let subs = json!({"sub1": "banner", "sub2": "news-07", "sub3": "c", "sub4": "d",
        "sub5": "e"});
    let data = delivered(&public["conversionId"]);
    assert_eq!(data["verified"], false);
    assert_eq!(
        data["risk"],
        json!({"score": 70, "reasons": ["unverified", "value_above_limit"]})
    );
    assert_eq!(data["subIds"], subs);
    assert_eq!(data["clickId"], public["clickId"]);
    let data = delivered(&verified["conversionId"]);
    assert_eq!(data["verified"], true);
    assert_eq!(data["risk"], json!({"score": 0, "reasons": []}));
    assert_eq!(data["subIds"], subs);

    // A partial reversal of the public one: its own event, with the original conversion.
    let id = public["conversionId"].as_str().unwrap();
    let resp = operator
        .reverse(id, &json!({"reason": "chargeback", "amount": "30.5"}))
        .await;
    assert_eq!(resp.status(), 201);
    let reversed: Value = resp.json().await.unwrap();
    let got = receiver.wait_for("/conversions", 3).await;
    let hit = got
        .iter()
        .find(|c| c.json()["type"] == "conversion.reversed")
        .expect("a conversion.reversed delivery");
    hit.assert_signed_with(&secret);
    let body = hit.json();
    assert_eq!(hit.header("webhook-id"), body["id"].as_str().unwrap());
    assert_eq!(body["handle"], HANDLE);
    let data = &body["data"];
    assert_eq!(data["amount"], 30.5);
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["reason"], "chargeback");
    assert_eq!(data["reversalId"], reversed["reversal"]["reversalId"]);
    let original = &data["conversion"];
    for field in ["conversionId", "clickId", "campaignId"] {
        assert_eq!(original[field], public[field], "{field}");
    }
    assert_eq!(original["idempotencyKey"], "hook-public");
    assert_eq!(original["value"].as_f64(), Some(150.0), "{original}");
    assert_eq!(original["verified"], false);
    assert_eq!(original["risk"]["score"], 70);
    assert_eq!(original["subIds"], subs);
    assert_eq!(got.len(), 3, "one delivery per event");
}
