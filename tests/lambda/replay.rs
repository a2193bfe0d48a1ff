//! Every file in `events/` replayed through its function's handler, as Lambda invokes it, on one
//! embedded store and queue shared by all functions (as the deployed functions share the table
//! and queues). Each function holds only its group's secrets and records the AWS actions it
//! performs; at the end those must all be granted by its IAM in `template.yaml`, and every event
//! file must have been replayed, so the events never go stale.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tenx_shared::http::{Group, group_app};
use tenx_shared::kernel::state::AppState;
use tenx_shared::platform::config::Secrets;
use tenx_shared::platform::queue::embedded::EmbeddedQueue;
use tenx_shared::platform::queue::{Queue, QueueName};
use tenx_shared::platform::store::embedded::EmbeddedStore;
use tenx_shared::platform::store::{Cond, Item, Query, SkRange, Store, WriteOp, keys};
use tenx_shared::platform::stream::{ClickStream, StreamRecord};
use tenx_shared::runtime::assembly::{click_sinks, sinks};
use tenx_shared::runtime::workers::click_stream::ClickConsumer;
use tenx_shared::runtime::workers::events::EventsWorker;
use tenx_shared::runtime::workers::{lambda, sweeper};
use tenx_shared::webhooks::delivery::{DeliveryMessage, DeliveryWorker};
use tenx_shared::webhooks::signing::SigningKey;

use crate::support::{self, HttpReply, Recorder, RecordingQueue, RecordingStore, RecordingStream};
use crate::template::{self, all_groups, binary_of};

/// How each `events/{dir}` is invoked: the dir is the function's binary name.
#[derive(Clone, Copy, Debug)]
enum Handler {
    Http(Group),
    EventsWorker,
    ClicksWorker,
    DeliveriesWorker,
    MailWorker,
    MailEventsWorker,
    ImportsWorker,
    OutboxSweeper,
}

fn handler_of(binary: &str) -> Handler {
    if let Some(group) = all_groups().into_iter().find(|g| binary_of(*g) == binary) {
        return Handler::Http(group);
    }
    match binary {
        "events" => Handler::EventsWorker,
        "clicks" => Handler::ClicksWorker,
        "deliveries" => Handler::DeliveriesWorker,
        "mail" => Handler::MailWorker,
        "mail-events" => Handler::MailEventsWorker,
        "imports" => Handler::ImportsWorker,
        "outbox-sweeper" => Handler::OutboxSweeper,
        other => panic!("events/{other}/: no handler is mapped to this directory"),
    }
}

/// One deployed function: its state (only its secrets) and what it was seen doing.
struct Function {
    logical_id: String,
    handler: Handler,
    state: AppState,
    recorder: Recorder,
}

/// Requests a webhook receiver got: headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn webhook_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/tenx",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("receiver").push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/tenx", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (url, received)
}

struct Bundle {
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    /// The click stream (the embedded queue's click log) and how far the test has read it.
    clicks: Arc<dyn ClickStream>,
    clicks_read: Option<String>,
    functions: BTreeMap<String, Function>,
    replayed: BTreeSet<String>,
    /// Placeholders and the shipped files' sample ids → values of this run.
    replacements: Vec<(String, String)>,
    /// The uploads bucket, as a directory (issue 64).
    uploads: Arc<tenx_shared::platform::uploads::local::LocalUploads>,
    _uploads_dir: tempfile::TempDir,
}

impl Bundle {
    fn new(template: &[template::Function]) -> Self {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
        let embedded = Arc::new(EmbeddedQueue::in_memory());
        let queue: Arc<dyn Queue> = embedded.clone();
        let clicks: Arc<dyn ClickStream> = embedded;
        // One configuration for the whole stack: the redirect and public share the ctx keys.
        let base = support::config();
        let uploads_dir = tempfile::tempdir().expect("an uploads dir");
        let uploads = Arc::new(tenx_shared::platform::uploads::local::LocalUploads::new(
            uploads_dir.path().to_owned(),
        ));
        let mut functions = BTreeMap::new();
        for f in template {
            let handler = handler_of(&f.binary);
            let secrets = match handler {
                Handler::Http(group) => group.secrets(),
                Handler::OutboxSweeper => tenx_shared::runtime::workers::sweeper::SECRETS,
                Handler::MailWorker => tenx_shared::mail::worker::SECRETS,
                Handler::ImportsWorker => tenx_shared::imports::keyrings::SECRETS,
                _ => Secrets::NONE,
            };
            let mut config = base.clone();
            if !secrets.jwt {
                // Nothing to drop: such a function is never given a JWT secret.
                config.jwt = None;
            }
            let recorder = Recorder::default();
            // A cold start reads exactly these SSM parameters.
            if secrets.jwt {
                recorder.record("ssm:GetParameters", "JwtSecretParameter");
            }
            if secrets.ctx_keys {
                recorder.record("ssm:GetParameters", "CtxKeysParameter");
            }
            if secrets.signing {
                recorder.record("ssm:GetParameters", "SigningKeysParameter");
            }
            if secrets.payout_key {
                recorder.record("ssm:GetParameters", "PayoutKeyParameter");
            }
            // The redirect believes CloudFront's headers, as the template tells it to.
            if f.env().get("TENX_EDGE") == Some(&json!("cloudfront-oac")) {
                config.country_trust = tenx_shared::platform::config::CountryTrust::CloudFrontOac;
            }
            // Mailed links name the API's origin, as the template's `!Sub` makes it.
            if f.env().contains_key("TENX_PUBLIC_URL") {
                config.mail.public_url =
                    Some("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com".into());
            }
            let state = tenx_shared::aws::app_state(
                config,
                Arc::new(RecordingStore {
                    inner: store.clone(),
                    recorder: recorder.clone(),
                }),
                Arc::new(RecordingQueue {
                    inner: queue.clone(),
                    recorder: recorder.clone(),
                }),
                secrets,
            )
            .unwrap_or_else(|e| panic!("{}: cold start: {e:#}", f.logical_id));
            // Uploads (issue 64): the stack's bucket, played by one directory every function
            // shares (as they share the bucket), with S3's actions recorded.
            let mut state = state;
            state.uploads = Some(Arc::new(support::RecordingUploads {
                inner: uploads.clone(),
                recorder: recorder.clone(),
            }));
            // Only the functions given TENX_CLICK_STREAM record clicks on the stream.
            let state = match f.env().contains_key("TENX_CLICK_STREAM") {
                true => state.with_click_stream(Arc::new(RecordingStream {
                    inner: clicks.clone(),
                    recorder: recorder.clone(),
                })),
                false => state,
            };
            functions.insert(
                f.binary.clone(),
                Function {
                    logical_id: f.logical_id.clone(),
                    handler,
                    state,
                    recorder,
                },
            );
        }
        Self {
            store,
            queue,
            clicks,
            clicks_read: None,
            functions,
            replayed: BTreeSet::new(),
            replacements: vec![("{{JWT}}".into(), support::jwt("acme"))],
            uploads,
            _uploads_dir: uploads_dir,
        }
    }

    fn replace(&mut self, from: &str, to: &str) {
        self.replacements.push((from.to_owned(), to.to_owned()));
    }

    fn function(&self, file: &str) -> &Function {
        let dir = file.split('/').next().expect("dir");
        self.functions.get(dir).unwrap_or_else(|| {
            panic!("events/{file}: no function in template.yaml builds a `{dir}` binary")
        })
    }

    fn text(&mut self, file: &str) -> String {
        assert!(
            self.replayed.insert(file.to_owned()),
            "{file} replayed twice"
        );
        support::event_text(file, &self.replacements)
    }

    async fn http(&mut self, file: &str) -> HttpReply {
        let text = self.text(file);
        let f = self.function(file);
        let Handler::Http(group) = f.handler else {
            panic!("{file}: {} is not an HTTP function", f.logical_id)
        };
        // The file as shipped (before placeholders are filled in) is shaped like API Gateway's.
        check_route(file, &support::event_text(file, &[]), f);
        support::invoke_http(group_app(group, f.state.clone()), file, &text).await
    }

    async fn sqs(&mut self, file: &str) -> Value {
        let text = self.text(file);
        let f = self.function(file);
        let event = support::sqs_event(file, &text);
        assert!(!event.records.is_empty(), "{file}: no records");
        for r in &event.records {
            assert_eq!(r.event_source.as_deref(), Some("aws:sqs"), "{file}");
            assert!(r.message_id.is_some() && r.body.is_some(), "{file}");
        }
        let response = match f.handler {
            Handler::EventsWorker => {
                let worker = EventsWorker {
                    state: f.state.clone(),
                    sinks: sinks(),
                };
                lambda::handle_event(&worker, event).await
            }
            Handler::DeliveriesWorker => {
                let worker = DeliveryWorker::new(f.state.clone());
                lambda::handle_event(&worker, event).await
            }
            Handler::MailWorker => {
                let worker = tenx_shared::runtime::assembly::mail_worker(&f.state);
                lambda::handle_event(&worker, event).await
            }
            Handler::MailEventsWorker => {
                let worker = tenx_shared::mail::feedback::FeedbackWorker::new(f.state.clone());
                lambda::handle_event(&worker, event).await
            }
            Handler::ImportsWorker => {
                let worker = tenx_shared::imports::worker::ImportWorker::new(f.state.clone());
                lambda::handle_event(&worker, event).await
            }
            other => panic!("{file}: {other:?} does not take SQS events"),
        };
        serde_json::to_value(response).expect("batch response")
    }

    async fn scheduled(&mut self, file: &str) -> Value {
        let text = self.text(file);
        let f = self.function(file);
        assert!(matches!(f.handler, Handler::OutboxSweeper), "{file}");
        let event: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(event["detail-type"], "Scheduled Event", "{file}");
        assert_eq!(event["source"], "aws.events", "{file}");
        let report = sweeper::handle(&f.state, &event)
            .await
            .unwrap_or_else(|e| panic!("{file}: sweep failed: {e}"));
        serde_json::to_value(report).expect("report")
    }

    /// Messages waiting on `queue`, taken off it (so later steps start clean).
    /// The click stream's records appended since the last call.
    async fn drain_clicks(&mut self) -> Vec<String> {
        let records = self.drain_clicks_records().await;
        records.into_iter().map(|r| r.data).collect()
    }

    /// The records appended to the click log since the last drain.
    async fn drain_clicks_records(&mut self) -> Vec<StreamRecord> {
        let records = self
            .clicks
            .read(
                tenx_shared::platform::queue::click_log::SHARD,
                self.clicks_read.as_deref(),
                1000,
            )
            .await
            .expect("reading the click log");
        if let Some(last) = records.last() {
            self.clicks_read = Some(last.sequence.clone());
        }
        records
    }

    /// Records of the click log through the clicks worker (as the mapping hands a shard's batch
    /// over), `deliveries` times.
    async fn clicks_worker(&mut self, records: Vec<StreamRecord>, deliveries: usize) {
        let f = self.functions.get("clicks").expect("the clicks function");
        let consumer = ClickConsumer::new(f.state.clone(), click_sinks());
        for _ in 0..deliveries {
            consumer
                .apply(
                    tenx_shared::platform::queue::click_log::SHARD,
                    records.clone(),
                )
                .await
                .expect("the clicks worker applies the batch");
        }
    }

    /// A Kinesis batch through the clicks worker, as its event source mapping invokes it; the
    /// same batch is handed over `deliveries` times (a retried invocation).
    async fn kinesis(&mut self, file: &str, deliveries: usize) {
        let text = self.text(file);
        let f = self.function(file);
        assert!(matches!(f.handler, Handler::ClicksWorker), "{file}");
        let event: KinesisEvent = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{file}: not a Kinesis event: {e}"));
        assert!(!event.records.is_empty(), "{file}: no records");
        let consumer = ClickConsumer::new(f.state.clone(), click_sinks());
        for _ in 0..deliveries {
            for (shard, records) in lambda::shard_batches(event.clone()) {
                assert!(
                    shard.starts_with("shardId-"),
                    "{file}: eventID names the shard"
                );
                consumer
                    .apply(&shard, records)
                    .await
                    .unwrap_or_else(|e| panic!("{file}: {e:#}"));
            }
        }
    }

    async fn drain(&self, queue: QueueName) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let batch = self
                .queue
                .receive(queue, 10, Duration::from_secs(60))
                .await
                .expect("receive");
            if batch.is_empty() {
                return out;
            }
            for m in batch {
                self.queue.ack(queue, &m.receipt).await.expect("ack");
                out.push(m.body);
            }
        }
    }

    /// Rewrites one outbox entry as never confirmed by the queue (its enqueue lost).
    async fn forget_one_enqueue(&self) {
        for shard in 0..keys::OUTBOX_SHARDS {
            let (pk, _) = keys::outbox(shard, 0, "");
            let page = self.store.query(Query::all(pk)).await.expect("query");
            if let Some(item) = page.items.into_iter().next() {
                let mut doc = item.doc.clone();
                doc["outbox"] = json!({"pk": item.pk, "sk": item.sk});
                let item = Item::new(item.pk, item.sk, doc);
                let op = WriteOp::Put {
                    item,
                    cond: Cond::Exists,
                };
                self.store.write(op).await.expect("rewrite");
                return;
            }
        }
        panic!("no outbox entry to forget");
    }

    async fn outbox_entries(&self) -> usize {
        let mut n = 0;
        for shard in 0..keys::OUTBOX_SHARDS {
            let (pk, _) = keys::outbox(shard, 0, "");
            let page = self
                .store
                .query(Query {
                    pk,
                    range: SkRange::All,
                    limit: 1000,
                    after: None,
                    descending: false,
                })
                .await
                .expect("query");
            n += page.items.len();
        }
        n
    }
}

/// The event is shaped as API Gateway sends it for this function's route in the template.
fn check_route(file: &str, text: &str, f: &Function) {
    let event: Value = serde_json::from_str(text).expect("JSON");
    let route_key = event["routeKey"].as_str().expect("routeKey");
    assert_eq!(event["requestContext"]["routeKey"], route_key, "{file}");
    assert_eq!(event["version"], "2.0", "{file}");
    assert_eq!(event["requestContext"]["stage"], "$default", "{file}");
    let raw_path = event["rawPath"].as_str().expect("rawPath");
    assert_eq!(event["requestContext"]["http"]["path"], raw_path, "{file}");
    let host = event["headers"]["host"].as_str().expect("host header");
    assert_eq!(event["requestContext"]["domainName"], host, "{file}");
    assert_eq!(
        event["headers"]["user-agent"], event["requestContext"]["http"]["userAgent"],
        "{file}"
    );
    let method = event["requestContext"]["http"]["method"]
        .as_str()
        .expect("method");
    // `$default` (a catch-all) matches any method and path.
    let (route_method, route_path) = route_key
        .split_once(' ')
        .unwrap_or(("$default", "$default"));
    assert!(
        ["ANY", "$default", method].contains(&route_method),
        "{file}: {route_key} vs {method}"
    );
    // The route exists in the template, on this function.
    let doc = template::template();
    let functions = template::functions(&doc);
    let tf = functions
        .iter()
        .find(|t| t.logical_id == f.logical_id)
        .expect("function");
    if tf.props.get("FunctionUrlConfig").is_some() {
        // A function URL's event, as CloudFront's signed call makes it: every path, no route,
        // the viewer's host in the header the distribution sets.
        assert_eq!(route_key, "$default", "{file}");
        assert!(event.get("pathParameters").is_none(), "{file}");
        assert!(host.ends_with(".on.aws"), "{file}: the URL's own host");
        let viewer = &event["headers"][tenx_shared::platform::config::VIEWER_HOST_HEADER];
        assert!(viewer.is_string(), "{file}: no viewer host");
        return;
    }
    assert!(
        tf.http_routes()
            .iter()
            .any(|(_, m, p)| m == route_method && p == route_path),
        "{file}: {route_key} is not a route of {} in template.yaml",
        f.logical_id
    );
    // Path parameters are the path's segments at the route's {params} (none on `$default`).
    let route_path = if route_path == "$default" {
        raw_path
    } else {
        route_path
    };
    let mut expected = serde_json::Map::new();
    for (pattern, actual) in route_path.split('/').zip(raw_path.split('/')) {
        if let Some(name) = pattern.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            expected.insert(name.to_owned(), Value::String(actual.to_owned()));
        } else {
            assert_eq!(
                pattern, actual,
                "{file}: {raw_path} does not match {route_path}"
            );
        }
    }
    assert_eq!(
        route_path.split('/').count(),
        raw_path.split('/').count(),
        "{file}"
    );
    let params = event.get("pathParameters").cloned().unwrap_or(json!({}));
    assert_eq!(params, Value::Object(expected), "{file}: pathParameters");
    if let Some(body) = event.get("body").and_then(Value::as_str) {
        assert_eq!(
            event["headers"]["content-type"], "application/json",
            "{file}"
        );
        assert_eq!(
            event["headers"]["content-length"],
            body.len().to_string(),
            "{file}: content-length"
        );
    }
    let authenticated = route_path.starts_with("/v2/handles/");
    assert_eq!(
        event["headers"].get("authorization").is_some(),
        authenticated,
        "{file}: an authorization header exactly on authenticated routes"
    );
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).expect("URL");
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_file_replays_through_its_function() {
    let doc = template::template();
    let template_functions = template::functions(&doc);
    let mut b = Bundle::new(&template_functions);
    let (receiver_url, received) = webhook_receiver().await;

    // ---------------------------------------------------------------- links
    let r = b.http("links/put.json").await;
    r.expect_status(201);
    let link = r.json();
    assert_eq!(link["slug"], "launch");
    assert_eq!(link["shortUrl"], "https://acme.links.example.com/launch");
    assert!(
        r.header("x-ratelimit-limit").is_some(),
        "a write carries its rate limit"
    );
    let r = b.http("links/get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["destinationUrl"], "https://example.com/product");
    let r = b.http("links/list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["slug"], "launch");
    let r = b.http("links/route-preview.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["decision"], "rule");
    assert_eq!(
        r.json()["destinationUrl"],
        "https://example.com/product/mobile"
    );
    // Where visitors who reach no link go: nowhere until set; then the bare domain has a page.
    let r = b.http("links/redirect-settings-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json(), json!({"notFoundUrl": null, "baseUrl": null}));
    let r = b.http("links/redirect-settings-put.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json(),
        json!({"notFoundUrl": null, "baseUrl": "https://example.com/"})
    );

    // A custom domain claimed (issue 64): pending until its TXT record is verified.
    let r = b.http("links/domain-put.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(r.json()["verification"]["name"], "_tenx.go.example.com");
    let r = b.http("links/domains-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["domain"], "go.example.com");

    // An import (issue 64): started by the links function, written by the imports worker
    // (its message as the queue hands it over), then its report.
    let r = b.http("links/import-start.json").await;
    r.expect_status(202);
    let import_id = r.json()["importId"].as_str().expect("importId").to_owned();
    b.replace("imp_0190f3a2b4c57d8e9f0a1b2c3d4e5f60", &import_id);
    let r = b.sqs("imports/import.json").await;
    assert_eq!(r, json!({"batchItemFailures": []}));
    let r = b.http("links/import-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "done");
    assert_eq!(r.json()["counts"]["created"], 2);

    // An import of an uploaded file (issue 64): the upload's URL from the links function, the
    // file put under it (as S3 takes the PUT), the import started from it, and the imports
    // worker reading the file as a stream.
    let r = b.http("links/import-upload.json").await;
    r.expect_status(201);
    let upload_id = r.json()["uploadId"].as_str().expect("uploadId").to_owned();
    let key = format!("imports/acme/{upload_id}");
    let (mut file, tmp) = b.uploads.create(&key).await.expect("the upload's file");
    tokio::io::AsyncWriteExt::write_all(
        &mut file,
        b"slug,destination_url\nUploaded_1,https://example.com/uploaded\n",
    )
    .await
    .expect("writing the upload");
    drop(file);
    b.uploads
        .commit(&tmp, &key)
        .await
        .expect("the upload in place");
    b.replace("upl_0190f3a2b4c57d8e9f0a1b2c3d4e5f60", &upload_id);
    let r = b.http("links/import-from-upload.json").await;
    r.expect_status(202);
    let import_id = r.json()["importId"].as_str().expect("importId").to_owned();
    b.replace("imp_0290f3a2b4c57d8e9f0a1b2c3d4e5f61", &import_id);
    let r = b.sqs("imports/import-upload.json").await;
    assert_eq!(r, json!({"batchItemFailures": []}));

    // ---------------------------------------------------------------- redirect
    let r = b.http("redirect/get.json").await;
    r.expect_status(302);
    let location = r.header("location").expect("location").to_owned();
    assert!(
        location.starts_with("https://example.com/product/mobile?"),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "utm_source").as_deref(),
        Some("suite")
    );
    let ctx = query_param(&location, "ctx").expect("a human visitor gets a ctx");
    assert_eq!(
        query_param(&location, "sub1").as_deref(),
        Some("banner-top"),
        "the short URL's query is forwarded"
    );
    assert!(
        r.header("cache-control")
            .is_some_and(|c| c.contains("no-store"))
    );
    assert!(
        r.cookies.iter().any(|c| c.starts_with("tenx_vid=")),
        "the visitor cookie, in the v2 response's cookies: {:?}",
        r.cookies
    );
    let r = b.http("redirect/head.json").await;
    r.expect_status(302);
    let location = r.header("location").expect("location");
    assert!(
        !location.contains("ctx="),
        "a HEAD request is a bot: no ctx ({location})"
    );
    let events = b.drain_clicks().await;
    let clicks = events
        .iter()
        .filter(|e| e.contains("\"type\":\"link.clicked\""))
        .count();
    assert_eq!(clicks, 2, "each redirect appended its click: {events:?}");
    // An unknown slug: counted as an orphan visit; a browser gets the HTML page (no
    // `notFoundUrl` is set).
    let r = b.http("redirect/orphan.json").await;
    r.expect_status(404);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    // The bare domain: counted, sent to `baseUrl`.
    let r = b.http("redirect/bare-domain.json").await;
    r.expect_status(302);
    assert_eq!(r.header("location"), Some("https://example.com/"));

    // ---------------------------------------------------------------- console
    let r = b.http("console/page.json").await;
    r.expect_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert_eq!(
        r.header("content-security-policy"),
        Some(tenx_shared::http::console::CONTENT_SECURITY_POLICY)
    );
    let bundle = tenx_shared::http::console::Bundle::embedded();
    let main = bundle
        .assets
        .iter()
        .find(|a| a.name == "main.js")
        .expect("main.js");
    assert!(
        r.body.contains(&main.hashed),
        "the page loads main.js by its hashed name"
    );
    b.replace("{{CONSOLE_ASSET}}", &main.hashed);
    let r = b.http("console/asset.json").await;
    r.expect_status(200);
    assert_eq!(
        r.header("cache-control"),
        Some(tenx_shared::http::console::IMMUTABLE)
    );
    // The browser's accept-encoding: gzip, returned base64 so API Gateway passes the bytes.
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&r.bytes[..]),
        &mut unzipped,
    )
    .expect("a gzip body");
    assert_eq!(unzipped, main.body, "main.js, byte for byte");
    // Never on Lambda: the function's JWT secret is not one the server generated.
    b.http("console/sign-in.json").await.expect_status(404);
    let r = b.http("console/try.json").await;
    r.expect_status(200);
    let tried = r.json();
    assert_eq!(tried["status"], 302, "{tried}");
    assert!(
        tried["ctx"].as_str().is_some_and(|c| !c.is_empty()),
        "{tried}"
    );
    let events = b.drain_clicks().await;
    assert_eq!(events.len(), 1, "the try recorded one click: {events:?}");
    assert!(events[0].contains("\"type\":\"link.clicked\""));
    // People (issue 60): the team, an invitation (mailed to the API's origin), a link asked
    // for (the same answer for any address).
    let r = b.http("console/members.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], json!([]), "{}", r.body);
    let r = b.http("console/invitation-create.json").await;
    r.expect_status(201);
    assert!(
        r.json()["invitationId"]
            .as_str()
            .is_some_and(|i| i.starts_with("inv_")),
        "{}",
        r.body
    );
    let r = b.http("console/email-link.json").await;
    r.expect_status(202);
    assert_eq!(r.json(), json!({"sent": true}));
    // The sign-in page's providers (none configured in this replay's environment).
    let r = b.http("console/oidc-providers.json").await;
    r.expect_status(200);
    assert!(r.json()["items"].is_array(), "{}", r.body);
    // Passkeys (issue 60): a sign-in's options for the stack's own origin (its RP id is
    // TENX_PUBLIC_URL's host), and the handle's sign-in policy (none required by default).
    let r = b.http("console/passkey-sign-in-begin.json").await;
    r.expect_status(200);
    let options = r.json();
    assert_eq!(
        options["publicKey"]["rpId"], "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "{}",
        r.body
    );
    let r = b.http("console/sign-in-policy.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json(),
        json!({"requirePasskeyForAdmins": false}),
        "{}",
        r.body
    );
    // The console's search (issue 62) finds the link by part of its slug.
    let r = b.http("console/search.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["links"][0]["slug"], "launch", "{}", r.body);
    // The invitation is in the audit log, by the JWT's subject.
    let r = b.http("console/audit.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json()["items"][0]["action"],
        "invitation.created",
        "{}",
        r.body
    );

    // The handle's backlog (issue 58): whatever this replay left waiting is named in words.
    let r = b.http("console/backlog.json").await;
    r.expect_status(200);
    let words = r.json()["words"].clone();
    assert!(
        words[0].as_str().is_some_and(|w| w.contains("counted")),
        "{}",
        r.body
    );

    // ---------------------------------------------------------------- public
    // The words for every code (issue 62), cacheable.
    let r = b.http("public/reasons.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json()["no_payout_method"]
            .as_str()
            .map(|w| w.contains("payout method")),
        Some(true),
        "{}",
        r.body
    );
    b.replace("{{CTX}}", &ctx);
    let r = b.http("public/context.json").await;
    r.expect_status(200);
    let context = r.json();
    assert_eq!(
        (
            &context["handle"],
            &context["slug"],
            &context["country"],
            &context["device"],
            &context["source"]
        ),
        (
            &json!("acme"),
            &json!("launch"),
            &json!("US"),
            &json!("mobile"),
            &json!("newsletter")
        )
    );
    assert_eq!(
        context["subIds"],
        json!({"sub1": "banner-top", "sub2": "spring-issue"})
    );
    let r = b.http("public/conversion.json").await;
    r.expect_status(202);
    let conversion = r.json();
    assert_eq!(conversion["deduped"], false);
    assert_eq!(conversion["clickId"], context["clickId"]);
    assert!(
        conversion["conversionId"]
            .as_str()
            .is_some_and(|c| c.starts_with("cnv_"))
    );
    assert_eq!(conversion["verified"], false);

    // ---------------------------------------------------------------- conversions
    let r = b.http("conversions/policy-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["publicConversions"], "flag");
    let r = b.http("conversions/create.json").await;
    r.expect_status(202);
    let verified = r.json();
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["clickId"], context["clickId"]);
    let sample_conversion = "cnv_0195570a1b2c7d3e8f4a5b6c7d8e9f0a";
    let conversion_id = verified["conversionId"].as_str().unwrap().to_owned();
    b.replace(sample_conversion, &conversion_id);
    let r = b.http("conversions/get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["idempotencyKey"], "order-20260302-0001");
    let r = b.http("conversions/list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["conversionId"], conversion_id.as_str());
    let r = b.http("conversions/reverse.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["reversal"]["amount"], 10);
    let r = b.http("conversions/policy-put.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["publicConversions"], "flag");
    // Customers (issue 44): bound to the click by its ctx, read back, listed; a later lead of
    // the same customer on the public function finds the binding.
    let r = b.http("conversions/customer-bind.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["bound"], true);
    assert_eq!(r.json()["emailMasked"], "j***@example.com");
    let r = b.http("conversions/customer-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["clickId"], context["clickId"]);
    let r = b.http("conversions/customers-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["customerId"], "cus_NffrFeUfNV2Hib");
    // "Send a test event" (issue 62) before Stripe is connected: a clear error, nothing sent.
    let r = b.http("conversions/integration-test.json").await;
    r.expect_status(409);
    assert_eq!(r.json()["error"]["code"], "invalid_state");
    let r = b.http("public/lead.json").await;
    r.expect_status(202);
    assert_eq!(r.json()["bound"], false);

    // ---------------------------------------------------------------- campaigns
    let r = b.http("campaigns/create.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["trackingPreset"], "custom_webhook");
    assert_eq!(
        r.json()["primaryLink"]["shortUrl"],
        "https://acme.links.example.com/deal-alpha"
    );
    let r = b.http("campaigns/list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["campaignId"], "partner-alpha");
    let r = b.http("campaigns/get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "ACTIVE");
    let r = b.http("campaigns/update-status.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["status"], &r.json()["version"]),
        (&json!("PAUSED"), &json!(2))
    );

    // ---------------------------------------------------------------- commissions
    // A partner first: a campaign is assigned to it, then the campaign's plan can be set.
    let r = b.http("commissions/partner-create.json").await;
    r.expect_status(201);
    assert_eq!(
        (&r.json()["partnerId"], &r.json()["status"]),
        (&json!("alpha-media"), &json!("active"))
    );
    assert!(
        r.header("x-ratelimit-limit").is_some(),
        "a rate-limited write"
    );
    let r = b.http("commissions/partner-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["partnerId"], "alpha-media");
    let r = b.http("commissions/partner-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["email"], "payouts@alpha-media.example");
    let r = b.http("commissions/partner-update.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["name"], &r.json()["version"]),
        (&json!("Alpha Media Ltd"), &json!(2))
    );
    let r = b.http("campaigns/assign-partner.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["partnerId"], &r.json()["status"]),
        (&json!("alpha-media"), &json!("PAUSED"))
    );
    let r = b.http("commissions/plan-put.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["currency"], &r.json()["version"]),
        (&json!("USD"), &json!(1))
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    let r = b.http("commissions/plan-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["rules"][0]["percent"], "10");
    // What a 249.00 USD purchase would earn under it: 10 %, by the ledger's arithmetic.
    let r = b.http("commissions/plan-preview.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["amount"], &r.json()["planVersion"]),
        (&json!("24.90"), &json!(1))
    );
    // The partner program (issue 46): its template is partner-alpha; two applications, one
    // approved (partner, campaign, plan, link and token in one transaction), one rejected.
    programs(&mut b).await;
    // No postback URL: an empty postback log.
    let r = b.http("commissions/partner-postbacks.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], json!([]));
    // Claims (issue 63): a partner's open ones and the handle's, none yet.
    let r = b.http("commissions/partner-claims-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], json!([]));
    let r = b.http("commissions/claims-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], json!([]));
    // Coupon leaks (issue 63): a code the handle does not have is named in the envelope.
    let r = b.http("commissions/coupon-leak.json").await;
    r.expect_status(404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    // The handle's codes ranked by leak score: none has sold yet.
    let r = b.http("commissions/coupon-leaks.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], json!([]));
    // The first plan of a campaign with a partner: one signed notice to it.
    let r = b.http("commissions/partner-notices.json").await;
    r.expect_status(200);
    let notice = &r.json()["items"][0];
    assert_eq!(
        (
            &notice["partnerId"],
            &notice["planVersion"],
            &notice["before"]
        ),
        (&json!("alpha-media"), &json!(1), &json!([]))
    );
    assert!(
        notice["jws"]
            .as_str()
            .is_some_and(|j| j.split('.').count() == 3)
    );
    // No conversion yet: a replay of nothing.
    let r = b.http("commissions/plan-backtest.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["conversions"], &r.json()["partners"]),
        (&json!(0), &json!([]))
    );
    // Nothing brought yet: every signal answered, none fired.
    let r = b.http("commissions/partner-risk.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["score"], 0);
    assert_eq!(r.json()["signals"].as_array().map(Vec::len), Some(11));
    let r = b.http("commissions/fx-rates-post.json").await;
    r.expect_status(201);
    let r = b.http("commissions/fx-rates-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["rates"]["EUR"], "0.9215");
    // Two manual lines (approved at once): the bonus is paid, the correction rejected first.
    let sample_commission =
        support::event_json("commissions/get.json")["pathParameters"]["commissionId"]
            .as_str()
            .expect("commissionId")
            .to_owned();
    let sample_correction =
        support::event_json("commissions/reject.json")["pathParameters"]["commissionId"]
            .as_str()
            .expect("commissionId")
            .to_owned();
    let r = b.http("commissions/manual.json").await;
    r.expect_status(201);
    assert_eq!(
        (&r.json()["kind"], &r.json()["status"], &r.json()["amount"]),
        (&json!("manual"), &json!("approved"), &json!("25.00"))
    );
    let commission = r.json()["commissionId"].as_str().expect("id").to_owned();
    b.replace(&sample_commission, &commission);
    let r = b.http("commissions/manual-correction.json").await;
    r.expect_status(201);
    let correction = r.json()["commissionId"].as_str().expect("id").to_owned();
    b.replace(&sample_correction, &correction);
    let r = b.http("commissions/list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(2));
    let r = b.http("commissions/get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["commissionId"], commission.as_str());
    // Why it is what it is, in words (issue 61).
    let r = b.http("commissions/explanation.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["sentences"][0], "Added by the program by hand.");
    let r = b.http("commissions/approve.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "approved");
    let r = b.http("commissions/approve-bulk.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["results"][0]["commission"]["status"], "approved");
    let r = b.http("commissions/reject.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "rejected");
    let r = b.http("commissions/reject-bulk.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["results"][0]["commission"]["status"], "rejected");
    let r = b.http("commissions/balances.json").await;
    r.expect_status(200);
    assert_eq!(
        (
            &r.json()["items"][0]["approved"],
            &r.json()["items"][0]["paid"]
        ),
        (&json!("25.00"), &json!("0.00")),
        "{}",
        r.body
    );
    // The run pays what is approved by its period end: now (the file's sample is in the past).
    let now = time::OffsetDateTime::now_utc();
    let period_end = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    b.replace("2026-03-02T10:30:00.000Z", &period_end);
    let sample_payout =
        support::event_json("commissions/payout-get.json")["pathParameters"]["payoutId"]
            .as_str()
            .expect("payoutId")
            .to_owned();
    let r = b.http("commissions/payouts-run.json").await;
    r.expect_status(201);
    let run = r.json();
    let payout = &run["payouts"][0];
    assert_eq!(
        (
            &payout["amount"],
            &payout["commissionCount"],
            &payout["status"]
        ),
        (&json!("25.00"), &json!(1), &json!("pending")),
        "{}",
        r.body
    );
    let payout_id = payout["payoutId"].as_str().expect("payoutId").to_owned();
    b.replace(&sample_payout, &payout_id);
    let r = b.http("commissions/payouts-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["payoutId"], payout_id.as_str());
    let r = b.http("commissions/payout-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["sequence"], 1);
    let r = b.http("commissions/statement.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["lines"][0]["commissionId"], commission.as_str());
    let r = b.http("commissions/statement-csv.json").await;
    r.expect_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    assert!(r.body.starts_with("commissionId,kind,"), "{}", r.body);
    // Paying it (issue 46): the debtor, the partner's payout method, a PayPal batch of the
    // payout (USD), its file; canceled, so the payout is marked paid on its own below.
    let r = b.http("commissions/payout-settings-put.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["debtorIban"], "DE89 **** **** 3000");
    let r = b.http("commissions/payout-settings-get.json").await;
    r.expect_status(200);
    let r = b.http("commissions/payout-method-put.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["email"], "p***@alpha-media.example");
    let r = b.http("commissions/payout-method-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["pendingConfirmation"], false);
    let sample_batch =
        support::event_json("commissions/payout-batch-get.json")["pathParameters"]["batchId"]
            .as_str()
            .expect("batchId")
            .to_owned();
    let r = b.http("commissions/payout-batch-create.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["payoutIds"], json!([payout_id]), "{}", r.body);
    let batch_id = r.json()["batchId"].as_str().expect("batchId").to_owned();
    b.replace(&sample_batch, &batch_id);
    let r = b.http("commissions/payout-batches-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["batchId"], batch_id.as_str());
    let r = b.http("commissions/payout-batch-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["totals"], json!({"USD": "25.00"}));
    let r = b.http("commissions/payout-batch-file.json").await;
    r.expect_status(200);
    assert!(
        r.body
            .starts_with("payouts@alpha-media.example,25.00,USD,alpha-media,"),
        "{}",
        r.body
    );
    let r = b.http("commissions/payout-batch-cancel.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "canceled");
    let r = b.http("commissions/mark-paid.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["status"], &r.json()["reference"]),
        (&json!("paid"), &json!("WIRE-2026-03-0042"))
    );
    // The statement verifies offline against the published keys, and so does its proof.
    let r = b.http("commissions/public-keys.json").await;
    r.expect_status(200);
    let jwks: tenx_shared::domain::proof::jws::Jwks =
        serde_json::from_value(r.json()).expect("a JWKS");
    let r = b.http("commissions/proof.json").await;
    r.expect_status(200);
    tenx_shared::payouts::verify::proof(&r.json(), &jwks).expect("the proof verifies");
    // A partner token: minted once, listed without its secret, revoked.
    let sample_partner_token =
        support::event_json("commissions/partner-token-revoke.json")["pathParameters"]["tokenId"]
            .as_str()
            .expect("tokenId")
            .to_owned();
    let r = b.http("commissions/partner-token-mint.json").await;
    r.expect_status(201);
    assert!(
        r.json()["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("tenx_ptk_"))
    );
    let token_id = r.json()["tokenId"].as_str().expect("tokenId").to_owned();
    b.replace(&sample_partner_token, &token_id);
    let r = b.http("commissions/partner-token-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["tokenId"], token_id.as_str());
    let r = b.http("commissions/partner-token-revoke.json").await;
    r.expect_status(204);
    // The partner portal (issue 61): a user of the partner invited, mailed a sign-in link.
    let r = b.http("commissions/partner-invitation-create.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["partnerId"], "alpha-media");
    // Its first user: the owner of a partner that had none (made before partner users).
    assert_eq!(r.json()["role"], "owner");
    let r = b.http("commissions/partner-summary.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["earnings"].as_array().map(Vec::len), Some(30));
    // The program's money dashboard (issue 62): every day of the window, in one currency.
    let r = b.http("commissions/dashboard.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["series"].as_array().map(Vec::len), Some(30));
    // Its plan's terms in words.
    let r = b.http("commissions/partner-terms.json").await;
    r.expect_status(200);
    assert!(r.json()["items"].is_array(), "{}", r.body);
    // Its users listed (none has signed in yet); removing a user it does not have is 404.
    let r = b.http("commissions/partner-members-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"], serde_json::json!([]));
    let r = b.http("commissions/partner-member-remove.json").await;
    r.expect_status(404);
    // Its tax profile: set (sealed), read masked, listed, and exported opened by an admin.
    let r = b.http("commissions/tax-profile-put.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["vatId"], "DE•••••5976");
    let r = b.http("commissions/tax-profile-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["form"], "eu_vat");
    let r = b.http("commissions/tax-profiles-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["partnerId"], "alpha-media");
    let r = b.http("commissions/tax-profiles-export.json").await;
    r.expect_status(200);

    // ---------------------------------------------------------------- tokens
    let sample_token_id = support::event_json("tokens/revoke.json")["pathParameters"]["tokenId"]
        .as_str()
        .expect("tokenId")
        .to_owned();
    let r = b.http("tokens/create.json").await;
    r.expect_status(201);
    let token_id = r.json()["tokenId"].as_str().expect("tokenId").to_owned();
    assert!(
        r.json()["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("tenx_pat_"))
    );
    b.replace(&sample_token_id, &token_id);
    let r = b.http("tokens/list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"][0]["tokenId"], token_id.as_str());
    assert!(
        !r.body.contains("tenx_pat_"),
        "a listing never shows a token"
    );
    b.http("tokens/revoke.json").await.expect_status(204);

    // ---------------------------------------------------------------- chain
    let r = b.http("chain/signals.json").await;
    r.expect_status(202);
    assert_eq!(r.json()["totalSignals"], 2);
    let r = b.http("chain/resolve.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["decision"]["action"], "send_message", "{}", r.body);
    assert_eq!(r.json()["signalsConsidered"], 2);
    let r = b.http("chain/prefetch.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["decisions"].as_array().map(Vec::len), Some(3));
    let r = b.http("chain/get-rules.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["source"], "default");
    let r = b.http("chain/put-rules.json").await;
    r.expect_status(200);
    assert_eq!(
        (&r.json()["source"], &r.json()["version"]),
        (&json!("custom"), &json!(1))
    );

    // ---------------------------------------------------------------- webhooks
    let sample_subscription =
        support::event_json("webhooks/get.json")["pathParameters"]["subscriptionId"]
            .as_str()
            .expect("subscriptionId")
            .to_owned();
    b.replace("https://hooks.example.com/tenx", &receiver_url);
    let r = b.http("webhooks/create.json").await;
    r.expect_status(201);
    let subscription = r.json()["subscriptionId"].as_str().expect("id").to_owned();
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    b.replace(&sample_subscription, &subscription);
    let r = b.http("webhooks/list.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json()["items"][0]["subscriptionId"],
        subscription.as_str()
    );
    let r = b.http("webhooks/get.json").await;
    r.expect_status(200);
    assert!(r.json().get("secret").is_none(), "the secret is shown once");

    // ---------------------------------------------------------------- events worker
    let r = b.sqs("events/click-and-conversion.json").await;
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    let fanned: Vec<DeliveryMessage> = b
        .drain(QueueName::Deliveries)
        .await
        .iter()
        .map(|m| serde_json::from_str(m).expect("delivery message"))
        .collect();
    let types: BTreeSet<&str> = fanned.iter().map(|m| m.event_type.as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from(["conversion.created", "link.clicked"])
    );
    assert!(
        fanned
            .iter()
            .all(|m| m.subscription_id.as_str() == subscription)
    );

    // The events worker relayed the conversion to the click stream, to be counted there.
    let relayed = b.drain_clicks_records().await;
    assert!(
        relayed
            .iter()
            .any(|r| r.data.contains("\"type\":\"conversion.created\"")),
        "the conversion is relayed to the stream: {relayed:?}"
    );
    b.clicks_worker(relayed.clone(), 1).await;
    // The events batch delivered again relays it again: still counted once (its marker).
    b.replayed.remove("events/click-and-conversion.json");
    let r = b.sqs("events/click-and-conversion.json").await;
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    b.drain(QueueName::Deliveries).await;
    let again = b.drain_clicks_records().await;
    assert_eq!(again.len(), relayed.len(), "relayed again: {again:?}");
    b.clicks_worker(again, 1).await;

    // ---------------------------------------------------------------- clicks worker
    // A batch from the stream, handed over twice (the mapping retrying it): counted once.
    b.kinesis("clicks/batch.json", 2).await;
    let fanned = b.drain(QueueName::Deliveries).await;
    assert!(
        !fanned.is_empty() && fanned.iter().all(|m| m.contains("link.clicked")),
        "the stream's click is fanned out to the subscription: {fanned:?}"
    );

    // ---------------------------------------------------------------- analytics
    let r = b.http("analytics/funnel.json").await;
    r.expect_status(200);
    let funnel = r.json();
    let alpha = funnel["campaigns"]
        .as_array()
        .and_then(|rows| rows.iter().find(|c| c["campaignId"] == "partner-alpha"))
        .unwrap_or_else(|| panic!("partner-alpha in {funnel}"));
    // The queued click (a click parked while the stream was down) and the stream's, once each.
    assert_eq!(
        (&alpha["clicks"], &alpha["conversions"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(alpha["revenue"], json!({"USD": "24.99"}));
    let r = b.http("analytics/group-by.json").await;
    r.expect_status(200);
    let rows: BTreeMap<String, i64> = r.json()["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["key"].as_str().unwrap_or("").to_owned(),
                row["clicks"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        rows,
        BTreeMap::from([("DE".to_owned(), 1), ("US".to_owned(), 1)])
    );
    let r = b.http("analytics/export.json").await;
    r.expect_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    assert!(r.body.starts_with("campaignId,"), "{}", r.body);
    assert!(r.body.contains("partner-alpha"), "{}", r.body);
    let r = b.http("analytics/orphans.json").await;
    r.expect_status(200);
    let orphans = r.json();
    let kinds: Vec<(&str, i64)> = orphans["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["kind"].as_str().unwrap_or(""),
                row["visits"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(kinds, [("base", 1), ("not_found", 1)], "{orphans}");

    // ---------------------------------------------------------------- webhook test, deliveries
    let r = b.http("webhooks/test.json").await;
    r.expect_status(202);
    assert_eq!(r.json()["status"], "queued");
    let dispatched = b.drain(QueueName::Events).await;
    assert!(
        dispatched
            .iter()
            .any(|m| m.contains("\"type\":\"webhook.test\"")),
        "the test event goes through the events queue"
    );
    let delivery_file = support::event_json("deliveries/delivery.json");
    let delivery: DeliveryMessage =
        serde_json::from_str(delivery_file["Records"][0]["body"].as_str().expect("body"))
            .expect("a delivery message");
    let r = b.sqs("deliveries/delivery.json").await;
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    // A mail message of no record (issue 59): read, found missing, acknowledged.
    let r = b.sqs("mail/send.json").await;
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    // SES's bounce through SNS: the address suppressed (its mail is unknown here: nothing more).
    let r = b.sqs("mail-events/bounce.json").await;
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    {
        let got = received.lock().expect("receiver");
        assert_eq!(got.len(), 1, "one signed POST");
        let (headers, body) = &got[0];
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(header("webhook-id"), delivery.event_id.as_str());
        let timestamp: i64 = header("webhook-timestamp").parse().expect("timestamp");
        let key = SigningKey::parse(&secret).expect("secret");
        assert_eq!(
            header("webhook-signature"),
            key.sign(delivery.event_id.as_str(), timestamp, body.as_bytes()),
            "signed with the subscription's secret"
        );
        assert_eq!(body, &delivery.body);
    }
    let r = b.http("webhooks/deliveries.json").await;
    r.expect_status(200);
    let attempt = &r.json()["items"][0];
    assert_eq!(attempt["eventId"], delivery.event_id.as_str());
    assert_eq!(attempt["status"], "succeeded");
    let r = b.http("webhooks/resend.json").await;
    r.expect_status(202);
    assert_eq!(
        (&r.json()["eventId"], &r.json()["attempt"]),
        (&json!(delivery.event_id), &json!(2))
    );
    // Nothing of this subscription failed since the fixture's `since`: a recovery of nothing.
    let r = b.http("webhooks/recover.json").await;
    r.expect_status(202);
    assert_eq!(
        (&r.json()["status"], &r.json()["queued"]),
        (&json!("queued"), &json!(0)),
        "{}",
        r.body
    );
    let r = b.http("webhooks/notifications.json").await;
    r.expect_status(200);
    assert_eq!(
        r.json()["subscriptions"][0]["successCount"],
        1,
        "{}",
        r.body
    );

    // ---------------------------------------------------------------- outbox sweeper
    let pending = b.outbox_entries().await;
    assert!(
        pending >= 3,
        "link, campaign link and conversion events wait in the outbox"
    );
    // Every one of them was enqueued and the queue confirmed it, so the sweep leaves them to
    // the queue (issue 58: it re-sent the whole backlog), but for one whose confirmation is
    // lost, as when a function dies between its commit and its send.
    b.forget_one_enqueue().await;
    let r = b.scheduled("outbox-sweeper/scheduled.json").await;
    // The sweep also approves commissions whose hold ended: none yet (the holds run 30 days).
    assert_eq!(
        r,
        json!({"resent": 1, "approved": 0, "accrued": 0, "payoutJobs": 0, "payoutSends": 0, "mail": 0, "digests": 0, "broadcasts": 0, "claims": 0, "domains": 0, "weekly": 0, "edge": {"advanced": 0, "removed": 0}})
    );
    assert_eq!(
        b.drain(QueueName::Events).await.len(),
        1,
        "the unconfirmed one was enqueued again"
    );

    // ---------------------------------------------------------------- deletions, last
    b.http("webhooks/delete.json").await.expect_status(204);
    b.http("links/delete.json").await.expect_status(204);

    // Every file was replayed ...
    assert_eq!(
        b.replayed,
        support::event_files(),
        "replayed (left) differs from the files in events/ (right): map every new file here"
    );
    // ... and every function did only what its IAM allows.
    for f in &template_functions {
        let function = &b.functions[&f.binary];
        let granted = f.grants();
        let missing: Vec<_> = function
            .recorder
            .actions()
            .into_iter()
            .filter(|a| !granted.contains(a))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: performed {missing:?}, which template.yaml does not grant",
            f.logical_id
        );
    }
    // ... on the partition keys its `dynamodb:LeadingKeys` condition allows.
    for f in &template_functions {
        let allowed = f.leading_keys();
        for family in b.functions[&f.binary].recorder.key_families() {
            assert!(
                allowed.iter().any(|pattern| like(pattern, &family)),
                "{}: touched partition keys `{family}…`, outside its LeadingKeys {allowed:?}",
                f.logical_id
            );
        }
    }
    // ... and nothing more: every grant was used, or is on a path this replay does not take.
    let mut unused = BTreeSet::new();
    for f in &template_functions {
        let seen = b.functions[&f.binary].recorder.actions();
        for (action, resource) in f.grants() {
            if !seen.contains(&(action.clone(), resource.clone())) {
                unused.insert((f.logical_id.clone(), action, resource));
            }
        }
    }
    let expected: BTreeSet<(String, String, String)> = UNEXERCISED
        .iter()
        .map(|(f, a, r, _why)| (f.to_string(), a.to_string(), r.to_string()))
        .collect();
    assert_eq!(
        unused, expected,
        "grants the replay did not use (left) differ from the justified list (right)"
    );
}

/// The program's files, in order: the program, its public page, two applications (their
/// sample ids replaced by the real ones), the queue, an approval and a rejection; the page.
async fn programs(b: &mut Bundle) {
    let r = b.http("commissions/program-put.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["template"]["campaignId"], "partner-alpha");
    let r = b.http("commissions/program-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["name"], "Acme partners");
    // A partner's own link under the program's allowedDestinations (issue 61).
    let r = b.http("commissions/partner-own-link.json").await;
    r.expect_status(201);
    assert_eq!(r.json()["slug"], "alpha-media-spring");
    let r = b.http("commissions/public-program.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["commission"]["rules"][0]["percent"], "10");
    for (file, sample) in [
        (
            "commissions/application-create.json",
            "commissions/application-get.json",
        ),
        (
            "commissions/application-create-second.json",
            "commissions/application-reject.json",
        ),
    ] {
        let r = b.http(file).await;
        r.expect_status(202);
        let id = r.json()["applicationId"].as_str().expect("id").to_owned();
        let event = support::event_json(sample);
        let old = event["pathParameters"]["applicationId"]
            .as_str()
            .expect("sample id");
        b.replace(old, &id);
    }
    let r = b.http("commissions/applications-list.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(2));
    let r = b.http("commissions/application-get.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["email"], "jane@shoes.example");
    let r = b.http("commissions/application-approve.json").await;
    r.expect_status(200);
    let token = r.json()["partnerToken"]["token"]
        .as_str()
        .map(str::to_owned);
    assert!(
        token.is_some_and(|t| t.starts_with("tenx_ptk_")),
        "{}",
        r.body
    );
    let r = b.http("commissions/application-reject.json").await;
    r.expect_status(200);
    assert_eq!(r.json()["status"], "rejected");
    let r = b.http("console/program-page.json").await;
    r.expect_status(200);
    assert!(
        r.body.contains("/console/program_page-program."),
        "the page loads program_page/program.js by its hash"
    );
    // The partner portal (issue 61): its page, served by the console function.
    let r = b.http("console/portal-page.json").await;
    r.expect_status(200);
    assert!(
        r.body.contains("/console/portal-main."),
        "portal/main.js by its hash"
    );
}

/// IAM's `StringLike` on a key family (`H#`): a pattern `P#*` allows the family `P#`.
fn like(pattern: &str, family: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => family.starts_with(prefix) || prefix.starts_with(family),
        None => pattern == family,
    }
}

/// Grants the replay does not exercise, each with the code path that needs it.
const UNEXERCISED: &[(&str, &str, &str, &str)] = &[
    // The mail worker (issue 59): its replay is a message of no record, acknowledged; what it
    // does to a record (claim, outcome, pending entry, limits' counters, the send) is tested
    // through tests/api/mail.rs on both backends.
    (
        "MailWorkerFunction",
        "dynamodb:DeleteItem",
        "Table",
        "a final record's pending entry",
    ),
    (
        "MailWorkerFunction",
        "dynamodb:Query",
        "Table",
        "a payout's self-billing invoice made for its mail: the statement's lines \
         (tests/api/tax_forms.rs)",
    ),
    (
        "MailWorkerFunction",
        "dynamodb:PutItem",
        "Table",
        "a send's claim and outcome",
    ),
    (
        "MailWorkerFunction",
        "dynamodb:UpdateItem",
        "Table",
        "the hourly limits' counters",
    ),
    (
        "MailWorkerFunction",
        "ses:SendEmail",
        "MailConfigurationSet",
        "the send, through SES",
    ),
    (
        "MailWorkerFunction",
        "ses:SendEmail",
        "MailDomain",
        "the send, through SES",
    ),
    (
        "MailWorkerFunction",
        "sqs:DeleteMessage",
        "MailQueue",
        "the poller (event source mapping)",
    ),
    (
        "MailWorkerFunction",
        "sqs:GetQueueAttributes",
        "MailQueue",
        "the poller (event source mapping)",
    ),
    (
        "MailWorkerFunction",
        "sqs:ReceiveMessage",
        "MailQueue",
        "the poller (event source mapping)",
    ),
    (
        "MailWorkerFunction",
        "sqs:SendMessage",
        "MailQueue",
        "a retry or a wait for the hourly limit",
    ),
    (
        "OutboxSweeperFunction",
        "sqs:SendMessage",
        "MailQueue",
        "mail the queue never took",
    ),
    // The events worker's mail sink queues a partner's or payout's mail (its replayed events
    // mail nobody: tests/api/programs.rs and tests/api/mail.rs send them).
    (
        "EventsWorkerFunction",
        "sqs:SendMessage",
        "MailQueue",
        "the mail sink's enqueue",
    ),
    // The feedback worker's replay suppresses an address; a bounce of a mail it knows (marked
    // `bounced`, its pending entry removed) is tested in tests/api/mail.rs.
    (
        "MailEventsWorkerFunction",
        "dynamodb:DeleteItem",
        "Table",
        "a bounced mail's pending entry",
    ),
    (
        "MailEventsWorkerFunction",
        "sqs:DeleteMessage",
        "MailEventsQueue",
        "the poller (event source mapping)",
    ),
    (
        "MailEventsWorkerFunction",
        "sqs:GetQueueAttributes",
        "MailEventsQueue",
        "the poller (event source mapping)",
    ),
    (
        "MailEventsWorkerFunction",
        "sqs:ReceiveMessage",
        "MailEventsQueue",
        "the poller (event source mapping)",
    ),
    (
        "RedirectFunction",
        "dynamodb:PutItem",
        "Table",
        "a click whose enqueue keeps failing is parked in the outbox",
    ),
    // The imports worker's replay writes a two-row import in one message; an import of more
    // chunks than one message writes (over 2,000 rows) is queued again by `imports::worker`.
    (
        "ImportsWorkerFunction",
        "sqs:SendMessage",
        "ImportsQueue",
        "an import with chunks left, queued again",
    ),
    // A program's import (tests/api/imports.rs) moves the imported lines' running balances.
    (
        "ImportsWorkerFunction",
        "dynamodb:UpdateItem",
        "Table",
        "a program import's ledger balances",
    ),
    (
        "ImportsWorkerFunction",
        "sqs:DeleteMessage",
        "ImportsQueue",
        "the poller (event source mapping)",
    ),
    (
        "ImportsWorkerFunction",
        "sqs:GetQueueAttributes",
        "ImportsQueue",
        "the poller (event source mapping)",
    ),
    (
        "ImportsWorkerFunction",
        "sqs:ReceiveMessage",
        "ImportsQueue",
        "the poller (event source mapping)",
    ),
    (
        "PublicFunction",
        "dynamodb:Query",
        "Table",
        "the embedded referral dashboard reads one partner's campaigns, links, balances and \
         payouts (issue 61: its GET needs an embed token minted by the handle's keys, which no \
         event file can hold; tests/api/messages.rs reads it on both backends)",
    ),
    (
        "EventsWorkerFunction",
        "dynamodb:UpdateItem",
        "Table",
        "the stream is down: relayed conversions are counted here under their markers",
    ),
    (
        "ClicksWorkerFunction",
        "sqs:SendMessage",
        "ClicksFailedBatchesQueue",
        "the Kinesis mapping sends a batch it gave up on to its on-failure queue",
    ),
    (
        "OutboxSweeperFunction",
        "dynamodb:DeleteItem",
        "Table",
        "an entry swept too often moves to the dead letters",
    ),
    (
        "OutboxSweeperFunction",
        "dynamodb:GetItem",
        "Table",
        "a commission whose hold ended is read and approved (no line is due in this replay)",
    ),
    (
        "OutboxSweeperFunction",
        "dynamodb:UpdateItem",
        "Table",
        "an approved line moves its amount on the running balances (no line is due in this replay)",
    ),
    (
        "OutboxSweeperFunction",
        "dynamodb:ConditionCheckItem",
        "Table",
        "a payout the provider settled checks no batch claims it (no program here sends through \
         a provider: tests/api/provider_payouts.rs does)",
    ),
    (
        "OutboxSweeperFunction",
        "acm:RequestCertificate",
        "*",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "acm:DescribeCertificate",
        "AccountCertificates",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "acm:DeleteCertificate",
        "AccountCertificates",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:ListDistributions",
        "*",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:GetDistributionConfig",
        "RedirectDistribution",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:CreateDistribution",
        "AccountDistributions",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:GetDistribution",
        "AccountDistributions",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:UpdateDistribution",
        "AccountDistributions",
        EDGE_UNUSED,
    ),
    (
        "OutboxSweeperFunction",
        "cloudfront:DeleteDistribution",
        "AccountDistributions",
        EDGE_UNUSED,
    ),
    (
        "CommissionsFunction",
        "s3:GetObject",
        "UploadsBucket",
        "a claim's image downloaded (its body is binary: the event files carry JSON bodies; \
         tests/api/claims.rs downloads one)",
    ),
    (
        "CommissionsFunction",
        "sqs:SendMessage",
        "ImportsQueue",
        "a pull by API key queued once the tool has taken the key: the replay reaches no tool's \
         API (tests/api/imports_pull.rs serves each from a local server)",
    ),
    (
        "CommissionsFunction",
        "s3:PutObject",
        "UploadsBucket",
        "a claim's image added (a binary body no event file carries; tests/api/claims.rs adds \
         one)",
    ),
    (
        "ConsoleFunction",
        "dynamodb:DeleteItem",
        "Table",
        "a sign-in link spent, a session ended, an invitation withdrawn or a member removed \
         (issue 60: the sign-in's post needs the mailed token, which no event file can hold)",
    ),
    (
        "DeliveriesWorkerFunction",
        "dynamodb:DeleteItem",
        "Table",
        "a failed attempt replaces its delivery's older notification",
    ),
    (
        "DeliveriesWorkerFunction",
        "sqs:SendMessage",
        "DeliveriesQueue",
        "a failed attempt enqueues its retry with a delay",
    ),
    (
        "EventsWorkerFunction",
        "sqs:ReceiveMessage",
        "EventsQueue",
        POLLER,
    ),
    (
        "ClicksWorkerFunction",
        "kinesis:DescribeStream",
        "ClickStream",
        STREAM_POLLER,
    ),
    (
        "ClicksWorkerFunction",
        "kinesis:DescribeStreamSummary",
        "ClickStream",
        STREAM_POLLER,
    ),
    (
        "ClicksWorkerFunction",
        "kinesis:GetRecords",
        "ClickStream",
        STREAM_POLLER,
    ),
    (
        "ClicksWorkerFunction",
        "kinesis:GetShardIterator",
        "ClickStream",
        STREAM_POLLER,
    ),
    (
        "ClicksWorkerFunction",
        "kinesis:ListShards",
        "ClickStream",
        STREAM_POLLER,
    ),
    (
        "EventsWorkerFunction",
        "sqs:DeleteMessage",
        "EventsQueue",
        POLLER,
    ),
    (
        "EventsWorkerFunction",
        "sqs:GetQueueAttributes",
        "EventsQueue",
        POLLER,
    ),
    (
        "DeliveriesWorkerFunction",
        "sqs:ReceiveMessage",
        "DeliveriesQueue",
        POLLER,
    ),
    (
        "DeliveriesWorkerFunction",
        "sqs:DeleteMessage",
        "DeliveriesQueue",
        POLLER,
    ),
    (
        "DeliveriesWorkerFunction",
        "sqs:GetQueueAttributes",
        "DeliveriesQueue",
        POLLER,
    ),
];

/// Lambda's Kinesis event source mapping reads the stream with the function's role.
const STREAM_POLLER: &str = "the event source mapping reads the stream on the function's behalf";

/// The custom domains' TLS edge (issue 64): the replay's stack has no `RedirectDomain`, so no
/// edge; `tests/api/domains_aws.rs` drives it on moto's ACM and CloudFront.
const EDGE_UNUSED: &str =
    "the custom domains' certificates and distributions (no edge in the replay; moto's tests)";

const POLLER: &str = "the event source mapping polls with the function's role";
