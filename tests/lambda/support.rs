//! What the Lambda tests share: the deployment's configuration, JWTs, the `events/` files, a
//! function invoked exactly as Lambda invokes it, and a recorder of the AWS actions each function
//! performs (checked against its IAM in `template.yaml`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use base64::Engine;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;
use tenx_shared::auth::jwt::{Claims, JwtVerifier};
use tenx_shared::domain::CtxKeyring;
use tenx_shared::domain::proof::jws::ProofKeyring;
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::Config;
use tenx_shared::platform::queue::{OutMessage, Queue, QueueError, QueueName, Received};
use tenx_shared::platform::store::{Item, Page, Query, Store, StoreError, WriteOp};
use tenx_shared::platform::stream::{ClickStream, StreamError, StreamRecord};
use tower::ServiceExt;

pub(crate) const JWT_SECRET: &str = "lambda-events-jwt-secret-0123456789abcdef";
/// The redirect domain of the shipped events (`acme.links.example.com`).
pub(crate) const REDIRECT_DOMAIN: &str = "links.example.com";

/// The configuration a deployed function reads (see the template's environment), with the local
/// test's secrets and a zero outbox age so the sweeper replay has something to sweep.
pub(crate) fn config() -> Config {
    Config {
        redirect_domain: REDIRECT_DOMAIN.into(),
        short_url_scheme: tenx_shared::platform::config::Scheme::Https,
        jwt: Some(tenx_shared::platform::config::JwtKey::Hs256(
            JWT_SECRET.as_bytes().to_vec(),
        )),
        ctx_keys: CtxKeyring::generate_spec(),
        signing_keys: ProofKeyring::generate_spec(),
        payout_keys: tenx_shared::domain::sealed::Keyring::generate_spec(),
        outbox_min_age: Duration::ZERO,
        // The deliveries replay posts to a receiver on loopback.
        webhooks_allow_private: true,
        ..Config::default()
    }
}

/// An admin JWT for `handle`, as `tenx token --handle acme --role admin` mints it.
pub(crate) fn jwt(handle: &str) -> String {
    let verifier =
        JwtVerifier::new(Some(JWT_SECRET.as_bytes().to_vec()), None, None, None).expect("verifier");
    verifier
        .mint(&Claims {
            sub: "lambda-events".into(),
            handles: vec![handle.into()],
            role: Role::Admin,
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
            iss: None,
            aud: None,
        })
        .expect("mint")
}

pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every event file, as `dir/name.json` relative to `events/`.
pub(crate) fn event_files() -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("events/ is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = path.strip_prefix(root).expect("under events/");
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = workspace_root().join("events");
    let mut out = BTreeSet::new();
    walk(&root, &root, &mut out);
    out
}

/// An event file's text with every `(from, to)` replacement applied.
pub(crate) fn event_text(file: &str, replacements: &[(String, String)]) -> String {
    let path = workspace_root().join("events").join(file);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    for (from, to) in replacements {
        text = text.replace(from.as_str(), to);
    }
    text
}

/// An event file as JSON, untouched.
pub(crate) fn event_json(file: &str) -> Value {
    serde_json::from_str(&event_text(file, &[])).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// What API Gateway would send back to the client.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub file: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// Set-Cookie values (payload v2 carries them in `cookies`).
    pub cookies: Vec<String>,
    /// The body as text (lossy where it is not UTF-8, a gzipped asset).
    pub body: String,
    /// The body's exact bytes.
    pub bytes: Vec<u8>,
}

impl HttpReply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {}", self.file, self.body))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub(crate) fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "{}: expected {status}, got {} {}",
            self.file, self.status, self.body
        );
        self
    }
}

/// Invokes an HTTP function the way `lambda_http::run` does: the payload is deserialized into
/// lambda_http's request type, converted by its adapter, served by `app`, and the response is
/// turned into the API Gateway response document, read back here.
pub(crate) async fn invoke_http(app: axum::Router, file: &str, text: &str) -> HttpReply {
    let request: LambdaRequest =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: not a Lambda request: {e}"));
    assert!(
        matches!(request, LambdaRequest::ApiGatewayV2(_)),
        "{file}: not read as an API Gateway HTTP API (payload v2) event"
    );
    let adapter: Adapter<'_, _, _> = Adapter::from(app);
    let response = adapter
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap_or_else(|e| match e {});
    let doc = serde_json::to_value(&response).expect("the response serializes");
    let status = doc["statusCode"].as_u64().expect("statusCode") as u16;
    let mut headers = BTreeMap::new();
    if let Some(map) = doc["headers"].as_object() {
        for (k, v) in map {
            headers.insert(k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_owned());
        }
    }
    let cookies = doc["cookies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let raw = doc["body"].as_str().unwrap_or("").to_owned();
    let bytes = if doc["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .expect("base64 body")
    } else {
        raw.into_bytes()
    };
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let reply = HttpReply {
        file: file.to_owned(),
        status,
        headers,
        cookies,
        body,
        bytes,
    };
    assert!(
        reply.header("x-request-id").is_some(),
        "{file}: every response carries x-request-id"
    );
    reply
}

/// An SQS event file, deserialized as Lambda's SQS event.
pub(crate) fn sqs_event(file: &str, text: &str) -> SqsEvent {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: not an SQS event: {e}"))
}

/// The AWS actions a function performed, as `(IAM action, template logical id)`: the table, a
/// queue, or an SSM parameter; and the partition-key families (`H#`, `P#`, `OUTBOX#` …: the key
/// up to its first `#`) it read or wrote, which its `dynamodb:LeadingKeys` condition must allow.
#[derive(Clone, Default)]
pub(crate) struct Recorder(
    Arc<Mutex<BTreeSet<(String, String)>>>,
    Arc<Mutex<BTreeSet<String>>>,
);

impl Recorder {
    pub(crate) fn record(&self, action: &str, resource: &str) {
        self.0
            .lock()
            .expect("recorder")
            .insert((action.to_owned(), resource.to_owned()));
    }

    pub(crate) fn actions(&self) -> BTreeSet<(String, String)> {
        self.0.lock().expect("recorder").clone()
    }

    pub(crate) fn record_key(&self, pk: &str) {
        let family = pk.find('#').map_or(pk, |i| &pk[..=i]);
        self.1.lock().expect("recorder").insert(family.to_owned());
    }

    pub(crate) fn key_families(&self) -> BTreeSet<String> {
        self.1.lock().expect("recorder").clone()
    }
}

pub(crate) const TABLE: &str = "Table";

pub(crate) fn queue_resource(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Events => "EventsQueue",
        QueueName::Deliveries => "DeliveriesQueue",
        QueueName::Mail => "MailQueue",
        QueueName::MailEvents => "MailEventsQueue",
        QueueName::Imports => "ImportsQueue",
    }
}

/// The click stream's logical id in the template.
pub(crate) const CLICK_STREAM: &str = "ClickStream";

/// A click stream that records the Kinesis action each call needs.
pub(crate) struct RecordingStream {
    pub inner: Arc<dyn ClickStream>,
    pub recorder: Recorder,
}

#[async_trait]
impl ClickStream for RecordingStream {
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError> {
        self.recorder.record("kinesis:PutRecord", CLICK_STREAM);
        self.inner.append(partition_key, data).await
    }

    async fn shards(&self) -> Result<Vec<String>, StreamError> {
        self.recorder.record("kinesis:ListShards", CLICK_STREAM);
        self.inner.shards().await
    }

    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError> {
        self.recorder
            .record("kinesis:GetShardIterator", CLICK_STREAM);
        self.recorder.record("kinesis:GetRecords", CLICK_STREAM);
        self.inner.read(shard, after, max).await
    }
}

/// A store that records the DynamoDB action each call needs (as `tenx_aws::dynamo` issues them).
pub(crate) struct RecordingStore {
    pub inner: Arc<dyn Store>,
    pub recorder: Recorder,
}

impl RecordingStore {
    fn op(&self, op: &WriteOp) {
        let action = match op {
            WriteOp::Put { .. } => "dynamodb:PutItem",
            WriteOp::Delete { .. } => "dynamodb:DeleteItem",
            WriteOp::Add { .. } | WriteOp::SetDoc { .. } => "dynamodb:UpdateItem",
            WriteOp::Check { .. } => "dynamodb:ConditionCheckItem",
        };
        self.recorder.record(action, TABLE);
        self.recorder.record_key(op.key().0);
    }

    /// A failed condition may be answered by a consistent read of the current item.
    fn failed<T>(&self, result: &Result<T, StoreError>) {
        if matches!(
            result,
            Err(StoreError::ConditionFailed { .. } | StoreError::TxConflict { .. })
        ) {
            self.recorder.record("dynamodb:GetItem", TABLE);
        }
    }
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.recorder.record("dynamodb:GetItem", TABLE);
        self.recorder.record_key(pk);
        self.inner.get(pk, sk).await
    }

    async fn write(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        self.op(&op);
        let result = self.inner.write(op).await;
        self.failed(&result);
        result
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        ops.iter().for_each(|op| self.op(op));
        let result = self.inner.transact(ops).await;
        self.failed(&result);
        result
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.recorder.record("dynamodb:Query", TABLE);
        self.recorder.record_key(&query.pk);
        self.inner.query(query).await
    }
}

/// A queue that records the SQS action each call needs.
pub(crate) struct RecordingQueue {
    pub inner: Arc<dyn Queue>,
    pub recorder: Recorder,
}

#[async_trait]
impl Queue for RecordingQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        self.recorder
            .record("sqs:SendMessage", queue_resource(queue));
        self.inner.send(queue, messages).await
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        self.recorder
            .record("sqs:ReceiveMessage", queue_resource(queue));
        self.inner.receive(queue, max, visibility).await
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.recorder
            .record("sqs:DeleteMessage", queue_resource(queue));
        self.inner.ack(queue, receipt).await
    }
}

/// The uploads engine (issue 64) recording S3's actions as a deployed function performs them:
/// a presigned PUT is signed with the function's role (`s3:PutObject`), `HeadObject` and
/// `GetObject` need `s3:GetObject`.
pub(crate) struct RecordingUploads {
    pub inner: Arc<dyn tenx_shared::platform::uploads::Uploads>,
    pub recorder: Recorder,
}

#[async_trait]
impl tenx_shared::platform::uploads::Uploads for RecordingUploads {
    async fn presign_put(
        &self,
        key: &str,
        origin: &str,
    ) -> Result<
        tenx_shared::platform::uploads::PresignedPut,
        tenx_shared::platform::uploads::UploadError,
    > {
        self.recorder.record("s3:PutObject", "UploadsBucket");
        self.inner.presign_put(key, origin).await
    }

    async fn exists(&self, key: &str) -> Result<bool, tenx_shared::platform::uploads::UploadError> {
        self.recorder.record("s3:GetObject", "UploadsBucket");
        self.inner.exists(key).await
    }

    async fn open(
        &self,
        key: &str,
    ) -> Result<
        Option<tenx_shared::platform::uploads::Reader>,
        tenx_shared::platform::uploads::UploadError,
    > {
        self.recorder.record("s3:GetObject", "UploadsBucket");
        self.inner.open(key).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), tenx_shared::platform::uploads::UploadError> {
        self.recorder.record("s3:PutObject", "UploadsBucket");
        self.inner.put(key, bytes).await
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn local(&self) -> Option<&tenx_shared::platform::uploads::local::LocalUploads> {
        self.inner.local()
    }
}
