//! Webhook delivery hardening, end to end: concurrent delivery within the overall and
//! per-endpoint bounds, recovery of failed deliveries (`POST …/recover`), and the auto-disabling
//! of an endpoint that keeps failing. The receivers and helpers are those of `webhooks.rs`.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenx_shared::kernel::events::{Event, EventType};
use tenx_shared::platform::queue::{OutMessage, QueueName};
use tenx_shared::webhooks::delivery::DeliveryMessage;

use crate::helpers::*;
use crate::webhooks::{
    Captured, HANDLE, OTHER, Receiver, attempts, dispatch_test, get_json, operator, post,
    spec_verify, subscribe, wait_for_attempt, webhook_config,
};

// ------------------------------------------------------------------ a slow receiver

/// How many requests were being answered at once, overall and per path.
#[derive(Default)]
struct Flight {
    now: usize,
    max: usize,
    now_at: HashMap<String, usize>,
    max_at: HashMap<String, usize>,
    captured: Vec<Captured>,
}

/// Answers every POST with 204 after `hold`, counting the requests in flight.
struct SlowReceiver {
    addr: SocketAddr,
    flight: Arc<Mutex<Flight>>,
}

async fn hold_then_answer(
    axum::extract::State((flight, hold)): axum::extract::State<(Arc<Mutex<Flight>>, Duration)>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let path = uri.path().to_owned();
    {
        let mut f = flight.lock().unwrap();
        f.now += 1;
        f.max = f.max.max(f.now);
        let at = f.now_at.entry(path.clone()).or_default();
        *at += 1;
        let at = *at;
        let max = f.max_at.entry(path.clone()).or_default();
        *max = (*max).max(at);
        f.captured.push(Captured {
            method: "POST".into(),
            path: path.clone(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: body.to_vec(),
            at: Instant::now(),
        });
    }
    tokio::time::sleep(hold).await;
    let mut f = flight.lock().unwrap();
    f.now -= 1;
    *f.now_at.get_mut(&path).unwrap() -= 1;
    axum::http::StatusCode::NO_CONTENT
}

impl SlowReceiver {
    async fn start(hold: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let flight = Arc::new(Mutex::new(Flight::default()));
        let app = axum::Router::new()
            .fallback(axum::routing::post(hold_then_answer))
            .with_state((flight.clone(), hold));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, flight }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn max(&self) -> usize {
        self.flight.lock().unwrap().max
    }

    fn max_at(&self, path: &str) -> usize {
        self.flight.lock().unwrap().max_at[path]
    }

    async fn wait_for(&self, n: usize) -> Vec<Captured> {
        eventually(&format!("{n} deliveries"), || async {
            let f = self.flight.lock().unwrap();
            (f.captured.len() >= n && f.now == 0).then(|| f.captured.clone())
        })
        .await
    }
}

/// A first-attempt delivery of a new event to `subscription_id`, as the fan-out enqueues it.
fn delivery(subscription_id: &str) -> (String, OutMessage) {
    let event = Event::untyped(
        EventType::LinkClicked,
        &tenx_shared::domain::Handle::parse(HANDLE).unwrap(),
        json!({"slug": "launch"}),
    );
    let subscription_id = tenx_shared::domain::SubscriptionId::parse(subscription_id).unwrap();
    let message = DeliveryMessage::first(&event, &subscription_id);
    (event.id.to_string(), message.to_message(Duration::ZERO))
}

/// Every capture verifies with its path's secret, and no webhook-id arrived twice.
fn assert_signed_once(got: &[Captured], secrets: &HashMap<String, String>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for c in got {
        assert!(
            spec_verify(
                &secrets[&c.path],
                c.header("webhook-id"),
                c.header("webhook-timestamp"),
                &c.body,
                c.header("webhook-signature"),
            ),
            "unsigned delivery at {}",
            c.path
        );
        assert!(
            ids.insert(c.header("webhook-id").to_owned()),
            "{} delivered twice",
            c.header("webhook-id")
        );
    }
    ids
}

// ------------------------------------------------------------------ concurrency

#[tokio::test]
async fn deliveries_run_concurrently_within_the_overall_and_per_endpoint_bounds() {
    let mut config = webhook_config(100);
    config.delivery_concurrency = 12;
    config.delivery_concurrency_per_endpoint = 3;
    let app = spawn_with(config, None).await;
    // Each delivery is held long enough for the worker's second receive (the queue hands over
    // at most ten at a time) to start its two while the first ten are still in flight: on moto
    // under CI's load one receive once took longer than a second, and the test saw ten at once.
    let hold = Duration::from_millis(if on_aws() { 3000 } else { 1000 });
    let receiver = SlowReceiver::start(hold).await;
    let mut secrets = HashMap::new();
    let mut expected = BTreeSet::new();
    let mut messages = Vec::new();
    // Four endpoints, three deliveries each: exactly the overall bound, all sendable at once
    // (more than the ten of one received batch).
    for i in 0..4 {
        let path = format!("/e{i}");
        let (id, secret) = subscribe(&app, &receiver.url(&path), &["link.clicked"]).await;
        secrets.insert(path, secret);
        for _ in 0..3 {
            let (event_id, message) = delivery(&id);
            expected.insert(event_id);
            messages.push(message);
        }
    }
    app.queue
        .send(QueueName::Deliveries, messages)
        .await
        .unwrap();
    let got = receiver.wait_for(12).await;
    assert_eq!(assert_signed_once(&got, &secrets), expected);
    assert_eq!(receiver.max(), 12, "twelve at once, the overall bound");
    for i in 0..4 {
        assert_eq!(receiver.max_at(&format!("/e{i}")), 3);
    }

    // Nine deliveries to one endpoint: three at a time, never more, so three rounds.
    let (busy, secret) = subscribe(&app, &receiver.url("/busy"), &["link.clicked"]).await;
    secrets.insert("/busy".into(), secret);
    let messages: Vec<_> = (0..9)
        .map(|_| {
            let (event_id, message) = delivery(&busy);
            expected.insert(event_id);
            message
        })
        .collect();
    let started = Instant::now();
    app.queue
        .send(QueueName::Deliveries, messages)
        .await
        .unwrap();
    let got = receiver.wait_for(21).await;
    assert!(started.elapsed() >= hold * 3 - Duration::from_millis(100));
    assert_eq!(receiver.max_at("/busy"), 3, "the per-endpoint bound");
    assert_eq!(assert_signed_once(&got, &secrets), expected);
    let log = eventually("nine recorded successes", || async {
        let log = attempts(&app, &busy).await;
        log.iter()
            .all(|a| a["status"] == "succeeded")
            .then_some(log)
    })
    .await;
    assert_eq!(log.len(), 9, "one attempt each: {log:?}");
}

// ------------------------------------------------------------------ recovery

fn recover_path(id: &str) -> String {
    format!("/v2/handles/{HANDLE}/webhooks/{id}/recover")
}

/// Dispatches a test event and waits until its sixth (last) attempt failed.
async fn failed_dispatch(app: &TestApp, id: &str) -> String {
    let event_id = dispatch_test(app, id).await;
    let log = wait_for_attempt(app, id, &event_id, 6).await;
    assert_eq!(log[0]["status"], "failed");
    event_id
}

#[tokio::test]
async fn recover_resends_each_delivery_failed_since_once_with_its_webhook_id() {
    let app = spawn_with(webhook_config(10), None).await;
    let receiver = Receiver::start().await;
    receiver.script("/r", &[], 500);
    let (id, secret) = subscribe(&app, &receiver.url("/r"), &["link.clicked"]).await;
    let start = tenx_shared::platform::time::now_rfc3339();
    let earlier = failed_dispatch(&app, &id).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = tenx_shared::platform::time::now_rfc3339();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let failed = BTreeSet::from([
        failed_dispatch(&app, &id).await,
        failed_dispatch(&app, &id).await,
    ]);
    receiver.script("/r", &[], 204);
    let delivered = dispatch_test(&app, &id).await;
    wait_for_attempt(&app, &id, &delivered, 1).await;
    let sent = receiver.captured("/r").len();
    assert_eq!(sent, 19);

    let resp = post(&app, HANDLE, &recover_path(&id), json!({"since": since})).await;
    assert_eq!(resp.status(), 202);
    let first: Value = resp.json().await.unwrap();
    assert_eq!(first["queued"], 2, "{first}");
    assert_eq!(first["status"], "queued");
    assert_eq!(first["deduped"], false);
    assert_eq!(first["subscriptionId"], id.as_str());
    assert!(first["recoverId"].as_str().unwrap().starts_with("rcv_"));
    let got = receiver.wait_for("/r", sent + 2).await;
    let resent = &got[sent..];
    let ids: BTreeSet<String> = resent
        .iter()
        .map(|c| c.header("webhook-id").to_owned())
        .collect();
    assert_eq!(ids, failed, "only what failed since, each once");
    for c in resent {
        c.assert_signed_with(&secret);
        let original = got
            .iter()
            .find(|o| o.header("webhook-id") == c.header("webhook-id"))
            .unwrap();
        assert_eq!(c.body, original.body, "the same message");
    }
    for event_id in &failed {
        let log = wait_for_attempt(&app, &id, event_id, 7).await;
        let seventh = log
            .iter()
            .find(|a| a["eventId"] == event_id.as_str() && a["attempt"] == 7)
            .unwrap();
        assert_eq!(seventh["manual"], true);
        assert_eq!(seventh["status"], "succeeded");
    }

    // The same `since` again: the same recovery, and nothing is sent twice.
    let resp = post(&app, HANDLE, &recover_path(&id), json!({"since": since})).await;
    assert_eq!(resp.status(), 200);
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["deduped"], true);
    assert_eq!(again["recoverId"], first["recoverId"]);
    assert_eq!(
        (&again["queued"], &again["until"]),
        (&json!(2), &first["until"])
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.captured("/r").len(), sent + 2);
    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    let still: Vec<&Value> = notes["failedDeliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["eventId"])
        .collect();
    assert_eq!(still, [&json!(earlier)]);

    // An earlier `since` covers the first failure too; what was recovered is delivered now.
    let resp = post(&app, HANDLE, &recover_path(&id), json!({"since": start})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["queued"], 1);
    let got = receiver.wait_for("/r", sent + 3).await;
    assert_eq!(got[sent + 2].header("webhook-id"), earlier);
    got[sent + 2].assert_signed_with(&secret);
}

#[tokio::test]
async fn recover_refuses_bad_input_in_the_api_envelope() {
    let app = spawn_with(webhook_config(100), None).await;
    let (id, _) = subscribe(&app, "https://hooks.example.com/x", &["link.clicked"]).await;
    let path = recover_path(&id);
    let cases = [
        (json!({}), "since"),
        (json!({"since": 12}), "since"),
        (json!({"since": "yesterday"}), "since"),
        (json!({"since": "2026-03-01"}), "since"),
        (json!({"since": "2999-01-01T00:00:00Z"}), "future"),
        (json!({"since": "1969-12-31T00:00:00Z"}), "1970"),
        (
            json!({"since": "2026-01-01T00:00:00Z", "until": "now"}),
            "until",
        ),
    ];
    crate::helpers::assert_each_refused(&app, HANDLE, &path, cases).await;
    let not_json = app
        .client
        .post(app.url(&path))
        .bearer_auth(operator(&app, HANDLE))
        .header("content-type", "application/json")
        .body("since=yesterday")
        .send()
        .await
        .unwrap();
    assert_error(not_json, 400, "invalid_request").await;

    let since = json!({"since": "2026-01-01T00:00:00Z"});
    let unknown = recover_path("wh_0123456789abcdef0123456789abcdef");
    assert_error(
        post(&app, HANDLE, &unknown, since.clone()).await,
        404,
        "not_found",
    )
    .await;
    let malformed = recover_path("wh_a%23b");
    assert_error(
        post(&app, HANDLE, &malformed, since.clone()).await,
        404,
        "not_found",
    )
    .await;
    let foreign = format!("/v2/handles/{OTHER}/webhooks/{id}/recover");
    assert_error(
        post(&app, OTHER, &foreign, since.clone()).await,
        404,
        "not_found",
    )
    .await;
    let viewer = app
        .client
        .post(app.url(&path))
        .bearer_auth(app.token(&[HANDLE], tenx_shared::http::auth::Role::Viewer))
        .json(&since)
        .send()
        .await
        .unwrap();
    assert_error(viewer, 403, "insufficient_role").await;

    let patch = app
        .client
        .patch(app.url(&format!("/v2/handles/{HANDLE}/webhooks/{id}")))
        .bearer_auth(operator(&app, HANDLE))
        .json(&json!({"status": "disabled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);
    let message = assert_error(post(&app, HANDLE, &path, since).await, 409, "conflict").await;
    assert!(message.contains("PATCH"), "{message}");
}

// ------------------------------------------------------------------ auto-disable

async fn patch_status(app: &TestApp, id: &str, status: &str) -> Value {
    let resp = app
        .client
        .patch(app.url(&format!("/v2/handles/{HANDLE}/webhooks/{id}")))
        .bearer_auth(operator(app, HANDLE))
        .json(&json!({"status": status}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_period_is_disabled_then_resumed_by_patch() {
    let mut config = webhook_config(100);
    config.webhook_auto_disable_after = Duration::from_millis(500);
    let app = spawn_with(config, None).await;
    let receiver = Receiver::start().await;
    receiver.script("/down", &[], 503);
    let (id, secret) = subscribe(&app, &receiver.url("/down"), &["link.clicked"]).await;
    let event_id = dispatch_test(&app, &id).await;
    let sub_path = format!("/v2/handles/{HANDLE}/webhooks/{id}");
    let sub = eventually("the subscription to be disabled", || async {
        let s = get_json(&app, HANDLE, &sub_path).await;
        (s["status"] == "disabled").then_some(s)
    })
    .await;
    let reason = sub["disabledReason"].as_str().unwrap();
    assert!(reason.contains("every attempt failed since"), "{reason}");
    assert!(reason.contains("500 ms"), "{reason}");

    // The attempt that found out is final and says why; nothing is attempted after it.
    let log = eventually("the last attempt recorded", || async {
        let log = attempts(&app, &id).await;
        log.iter().all(|a| a["status"] != "sending").then_some(log)
    })
    .await;
    let n = log.len();
    assert!(
        (2..=4).contains(&n),
        "disabled before the retries ran out: {log:?}"
    );
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["statusCode"], 503);
    assert!(log[0]["nextAttemptAt"].is_null(), "{log:?}");
    assert!(log[0]["error"].as_str().unwrap().contains("disabled"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got = receiver.captured("/down");
    assert_eq!(got.len(), n);
    for c in &got {
        c.assert_signed_with(&secret);
        assert_eq!(c.header("webhook-id"), event_id);
    }
    // The notifications show the failed delivery and why the subscription stopped.
    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    assert_eq!(notes["failedDeliveries"][0]["eventId"], event_id.as_str());
    assert_eq!(notes["failedDeliveries"][0]["attempts"], n);
    assert_eq!(notes["subscriptions"][0]["status"], "disabled");
    assert_eq!(notes["subscriptions"][0]["disabledReason"], reason);
    let test = post(&app, HANDLE, &format!("{sub_path}/test"), json!({})).await;
    assert_error(test, 409, "conflict").await;

    // Resumed, the endpoint gets a whole period again: one failure does not disable it.
    assert_eq!(patch_status(&app, &id, "active").await["status"], "active");
    receiver.script("/down", &[503], 204);
    let second = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &second, 2).await;
    let first_try = log
        .iter()
        .find(|a| a["eventId"] == second.as_str() && a["attempt"] == 1)
        .unwrap();
    assert!(!first_try["nextAttemptAt"].is_null(), "{first_try}");
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(get_json(&app, HANDLE, &sub_path).await["status"], "active");
}

#[tokio::test]
async fn a_success_starts_the_failure_period_over() {
    // Retries are whole-second SQS delays on the aws backend: the period leaves room for one.
    let period = Duration::from_secs(4);
    let mut config = webhook_config(100);
    config.webhook_auto_disable_after = period;
    let app = spawn_with(config, None).await;
    let receiver = Receiver::start().await;
    receiver.script("/flaky", &[500], 204);
    let (id, _) = subscribe(&app, &receiver.url("/flaky"), &["link.clicked"]).await;
    let first = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &first, 2).await;
    assert_eq!(log[0]["status"], "succeeded");
    // A failure longer than the period after the first one, but after a success: a new run,
    // so not disabled, and its retry goes out.
    tokio::time::sleep(period + Duration::from_millis(500)).await;
    receiver.script("/flaky", &[500], 204);
    let second = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &second, 2).await;
    assert_eq!(log[0]["status"], "succeeded", "{log:?}");
    let sub = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/webhooks/{id}")).await;
    assert_eq!(sub["status"], "active");
}

#[tokio::test]
async fn a_retry_due_while_disabled_fails_unsent_and_is_recovered_after_resuming() {
    let app = spawn_with(webhook_config(1500), None).await;
    let receiver = Receiver::start().await;
    receiver.script("/paused", &[], 500);
    let (id, secret) = subscribe(&app, &receiver.url("/paused"), &["link.clicked"]).await;
    let since = tenx_shared::platform::time::now_rfc3339();
    let event_id = dispatch_test(&app, &id).await;
    let log = wait_for_attempt(&app, &id, &event_id, 1).await;
    assert!(!log[0]["nextAttemptAt"].is_null(), "a retry is scheduled");
    patch_status(&app, &id, "disabled").await;

    let log = wait_for_attempt(&app, &id, &event_id, 2).await;
    assert_eq!(log[0]["status"], "failed");
    assert!(log[0]["statusCode"].is_null());
    assert!(
        log[0]["error"].as_str().unwrap().contains("not sent"),
        "{log:?}"
    );
    assert!(log[0]["nextAttemptAt"].is_null());
    assert_eq!(
        receiver.captured("/paused").len(),
        1,
        "nothing sent while disabled"
    );
    let notes = get_json(&app, HANDLE, &format!("/v2/handles/{HANDLE}/notifications")).await;
    assert_eq!(notes["failedDeliveries"][0]["eventId"], event_id.as_str());

    patch_status(&app, &id, "active").await;
    receiver.script("/paused", &[], 204);
    let resp = post(&app, HANDLE, &recover_path(&id), json!({"since": since})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["queued"], 1);
    let got = receiver.wait_for("/paused", 2).await;
    assert_eq!(got[1].header("webhook-id"), event_id);
    got[1].assert_signed_with(&secret);
    let log = wait_for_attempt(&app, &id, &event_id, 3).await;
    assert_eq!(log[0]["status"], "succeeded");
}
