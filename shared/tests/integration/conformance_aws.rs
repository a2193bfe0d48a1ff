//! The seam conformance suite against DynamoDB and SQS — in tests, moto's server, reached
//! through `AWS_ENDPOINT_URL` exactly as production reaches AWS — each test on a fresh table and
//! fresh queues of its own, plus AWS-only checks: the documented attribute layout, provisioning
//! (TTL, redrive to the dead-letter queue), and unreachable backends reported as `Unavailable`.
//! Run by `scripts/test.sh`, which starts moto; without `AWS_ENDPOINT_URL` every test fails.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;
use tenx_shared::aws::dynamo::DynamoStore;
use tenx_shared::aws::sqs::{QueueAddress, SqsQueue};
use tenx_shared::platform::queue::{OutMessage, Queue, QueueError, QueueName};
use tenx_shared::platform::store::{Cond, Item, Store, StoreError, WriteOp, now_unix};
use tenx_shared::testing::conformance;
use tenx_shared::{
    runtime::aws,
    runtime::aws::{AwsClients, AwsSettings},
};

/// The clients, and a freshly provisioned table and queues with unique names.
async fn environment() -> (AwsClients, AwsSettings) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "AWS_ENDPOINT_URL is not set: the AWS-backend tests need DynamoDB and SQS. Run \
         scripts/test.sh, which starts moto (or `eval \"$(scripts/moto.sh)\"` first)."
    );
    let clients = AwsClients::from_env().await.expect("AWS clients");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let settings = AwsSettings::named(
        format!("conf-{}", &id[..16]),
        format!("conf-{}-", &id[..16]),
    );
    aws::provision(&clients, &settings)
        .await
        .expect("provisioning a fresh table and queues");
    (clients, settings)
}

async fn store() -> Arc<dyn Store> {
    let (clients, settings) = environment().await;
    Arc::new(DynamoStore::new(clients.dynamodb, settings.table))
}

async fn queue() -> Arc<dyn Queue> {
    let (clients, settings) = environment().await;
    aws::connect_with(&clients, &settings)
        .await
        .expect("connecting to the fresh queues")
        .1
}

macro_rules! store_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $check() {
                conformance::$check(store().await).await;
            }
        )*
        const STORE_CHECKS: &[&str] = &[$(stringify!($check)),*];
    };
}

macro_rules! queue_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $check() {
                conformance::$check(queue().await, QueueName::Events).await;
            }
        )*
        const QUEUE_CHECKS: &[&str] = &[$(stringify!($check)),*];
    };
}

macro_rules! stream_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $check() {
                let (clients, settings) = environment().await;
                tenx_shared::testing::conformance_stream::$check(aws::click_stream(&clients, &settings)).await;
            }
        )*
    };
}

tenx_shared::store_checks!(store_conformance);
tenx_shared::queue_checks!(queue_conformance);
tenx_shared::stream_checks!(stream_conformance);

/// The click stream on Kinesis and the store on DynamoDB, as the clicks worker has them.
async fn stream_and_store() -> (
    Arc<dyn tenx_shared::platform::stream::ClickStream>,
    Arc<dyn Store>,
) {
    let (clients, settings) = environment().await;
    let store = DynamoStore::new(clients.dynamodb.clone(), settings.table.clone());
    (aws::click_stream(&clients, &settings), Arc::new(store))
}

/// Exactly-once aggregation on Kinesis and DynamoDB (under the emulator's conflict model).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_each_click_once() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_each_click_once(
        stream, store,
    )
    .await;
}

/// Every check of the conformance module runs here: a check added there without a line above
/// fails this test instead of silently not running on DynamoDB/SQS.
#[test]
fn every_conformance_check_is_listed() {
    let source = include_str!("../../kernel/src/testing/conformance.rs");
    let defined: BTreeSet<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| !name.starts_with("run_"))
        .collect();
    let listed: BTreeSet<&str> = STORE_CHECKS.iter().chain(QUEUE_CHECKS).copied().collect();
    assert!(!defined.is_empty(), "no checks found in conformance.rs");
    assert_eq!(
        listed, defined,
        "tests/conformance_aws.rs must list every conformance check"
    );
}

/// Items are stored in the layout docs/storage.md documents.
#[tokio::test(flavor = "multi_thread")]
async fn items_use_the_documented_attribute_layout() {
    let (clients, settings) = environment().await;
    let store = DynamoStore::new(clients.dynamodb.clone(), settings.table.clone());
    let expires = now_unix() + 3600;
    let mut item = Item::new("H#acme", "L#launch", json!({"url": "https://example.com"}))
        .with_version(2)
        .expiring_at(Some(expires));
    item.counters.insert("clicks".into(), 7);
    store
        .write(WriteOp::Put {
            item,
            cond: Cond::Absent,
        })
        .await
        .expect("put");
    let raw = clients
        .dynamodb
        .get_item()
        .table_name(&settings.table)
        .key("pk", AttributeValue::S("H#acme".into()))
        .key("sk", AttributeValue::S("L#launch".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("raw get")
        .item
        .expect("the item");
    let names: BTreeSet<&str> = raw.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["pk", "sk", "doc", "v", "ttl", "c_clicks"])
    );
    assert_eq!(
        raw["doc"],
        AttributeValue::S(r#"{"url":"https://example.com"}"#.into())
    );
    assert_eq!(raw["v"], AttributeValue::N("2".into()));
    assert_eq!(raw["ttl"], AttributeValue::N(expires.to_string()));
    assert_eq!(raw["c_clicks"], AttributeValue::N("7".into()));
}

/// `provision` is idempotent, enables TTL on `ttl`, and gives each queue a dead-letter queue.
#[tokio::test(flavor = "multi_thread")]
async fn provision_is_idempotent_and_complete() {
    let (clients, settings) = environment().await;
    aws::provision(&clients, &settings)
        .await
        .expect("provisioning again keeps what exists");
    let ttl = clients
        .dynamodb
        .describe_time_to_live()
        .table_name(&settings.table)
        .send()
        .await
        .expect("describe TTL");
    let ttl = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(ttl.attribute_name(), Some("ttl"));
    assert!(matches!(
        ttl.time_to_live_status(),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
    for queue in QueueName::ALL {
        let url = clients
            .sqs
            .get_queue_url()
            .queue_name(settings.queue_name(queue))
            .send()
            .await
            .expect("queue exists")
            .queue_url
            .expect("url");
        let attrs = clients
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let policy: serde_json::Value = serde_json::from_str(
            attrs
                .get(&QueueAttributeName::RedrivePolicy)
                .expect("a redrive policy"),
        )
        .expect("redrive policy JSON");
        assert!(
            policy["deadLetterTargetArn"]
                .as_str()
                .expect("target")
                .ends_with(&settings.dead_letter_queue_name(queue))
        );
        assert_eq!(
            policy["maxReceiveCount"].to_string().trim_matches('"'),
            "10"
        );
    }
}

/// A message received 10 times without an ack moves to the dead-letter queue.
#[tokio::test(flavor = "multi_thread")]
async fn poison_messages_move_to_the_dead_letter_queue() {
    let (clients, settings) = environment().await;
    let (_, queue) = aws::connect_with(&clients, &settings)
        .await
        .expect("connect");
    let name = QueueName::Deliveries;
    queue
        .send(name, vec![OutMessage::now("poison")])
        .await
        .expect("send");
    let mut receives = 0;
    for _ in 0..30 {
        let got = queue
            .receive(name, 10, Duration::ZERO)
            .await
            .expect("receive");
        if got.is_empty() && receives >= 10 {
            break;
        }
        receives += got.len();
    }
    assert_eq!(receives, 10, "delivered exactly maxReceiveCount times");
    let dlq = clients
        .sqs
        .get_queue_url()
        .queue_name(settings.dead_letter_queue_name(name))
        .send()
        .await
        .expect("dlq")
        .queue_url
        .expect("dlq url");
    let dlq = QueueAddress::Url(dlq);
    let dead = SqsQueue::new(clients.sqs.clone(), dlq.clone(), dlq);
    let got = dead
        .receive(QueueName::Events, 10, Duration::from_secs(30))
        .await
        .expect("receive from the dead-letter queue");
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["poison"]);
}

/// Clients whose endpoint refuses connections, with fast retries.
async fn unreachable_clients() -> (aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
    use aws_config::retry::RetryConfig;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let retry = RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(10));
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(&dead)
        .retry_config(retry.clone())
        .build();
    let sqs = aws_sdk_sqs::config::Builder::from(&sdk)
        .endpoint_url(&dead)
        .retry_config(retry)
        .build();
    (
        aws_sdk_dynamodb::Client::from_conf(dynamodb),
        aws_sdk_sqs::Client::from_conf(sqs),
    )
}

/// A backend that cannot be reached is `Unavailable` (→ 503), never a success or a hang.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_backends_are_unavailable() {
    let (dynamodb, sqs) = unreachable_clients().await;
    let store = DynamoStore::new(dynamodb, "tenx");
    let put = WriteOp::Put {
        item: Item::new("p", "s", json!({})),
        cond: Cond::Absent,
    };
    let result = store.write(put).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let result = store.get("p", "s").await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let url = QueueAddress::Url("http://x/q".into());
    let queue = SqsQueue::new(sqs.clone(), url.clone(), url);
    let result = queue
        .send(QueueName::Events, vec![OutMessage::now("m")])
        .await;
    assert!(
        matches!(result, Err(QueueError::Unavailable(_))),
        "{result:?}"
    );
    // A queue known by name only is looked up on first use: unreachable, that is `Unavailable`
    // too (building the queue asked nothing: no network call at a function's cold start).
    let named = QueueAddress::Named("tenx-events".into());
    let queue = SqsQueue::new(sqs, named.clone(), named);
    let result = queue
        .receive(QueueName::Events, 1, Duration::from_secs(1))
        .await;
    assert!(
        matches!(result, Err(QueueError::Unavailable(_))),
        "{result:?}"
    );
}

/// A queue named but never created is a configuration error found on first use, saying how to
/// fix it; the other queue still works.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_queue_is_named_on_first_use() {
    let (clients, settings) = environment().await;
    let missing = QueueAddress::Named("no-such-queue-anywhere".into());
    let present = QueueAddress::Named(settings.queue_name(QueueName::Deliveries));
    let queue = SqsQueue::new(clients.sqs, missing, present);
    let result = queue
        .send(QueueName::Events, vec![OutMessage::now("m")])
        .await;
    assert!(
        matches!(&result, Err(QueueError::Other(m)) if m.contains("tenx setup")),
        "{result:?}"
    );
    queue
        .send(QueueName::Deliveries, vec![OutMessage::now("m")])
        .await
        .expect("the queue that exists is found by name");
    let got = queue
        .receive(QueueName::Deliveries, 10, Duration::from_secs(30))
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
}

/// A missing table is a configuration error, not an overload: `Other`, not `Unavailable`.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_table_is_not_unavailable() {
    let (clients, _) = environment().await;
    let store = DynamoStore::new(clients.dynamodb, "no-such-table-anywhere");
    let result = store.get("p", "s").await;
    assert!(matches!(result, Err(StoreError::Other(_))), "{result:?}");
}

/// A conversion relayed twice (in two batches) is counted once.
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_relayed_conversion_once() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_relayed_conversion_once(
        stream, store,
    )
    .await;
}

/// A retried append landing twice, in two batches, counts once (issue 28, 2a).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_retried_append_once_across_batches() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_retried_append_once_across_batches(stream, store).await;
}

/// A parked click whose append had landed counts once (issue 28, 2b).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_parked_click_once() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_parked_click_once(
        stream, store,
    )
    .await;
}

/// Late copies of clicks count once, by a restarted consumer and by a warm one whose memory
/// another consumer made stale (issue 42).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_dedupes_copies_across_consumers() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_aggregation_dedupes_copies_across_consumers(
        stream, store,
    )
    .await;
}

/// Poison records mid-batch go to the dead letters; the rest count once.
#[tokio::test(flavor = "multi_thread")]
async fn stream_sets_poison_records_aside() {
    let (stream, store) = stream_and_store().await;
    tenx_shared::testing::conformance_stream::stream_sets_poison_records_aside(stream, store).await;
}
