//! The seam conformance suite against the embedded store and queue (each test on its own
//! tempfile-backed database), plus embedded-only checks: durability across reopen and
//! dead-lettering. Run with `cargo nextest run -p tenx-shared --test integration
//! -E 'test(/conformance_embedded/)'`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;
use tenx_shared::platform::queue::embedded::EmbeddedQueue;
use tenx_shared::platform::queue::{OutMessage, Queue, QueueName};
use tenx_shared::platform::store::embedded::EmbeddedStore;
use tenx_shared::platform::store::{
    Cond, Item, Query, SkRange, Store, StoreError, WriteOp, now_unix,
};
use tenx_shared::testing::conformance;

fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("creating a temp dir")
}

fn file_store(dir: &TempDir) -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::open(&dir.path().join("store.redb")).expect("opening the store"))
}

fn file_queue(dir: &TempDir) -> Arc<dyn Queue> {
    Arc::new(EmbeddedQueue::open(&dir.path().join("queue.redb")).expect("opening the queue"))
}

macro_rules! store_conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $check() {
            let dir = temp_dir();
            conformance::$check(file_store(&dir)).await;
        }
    )*};
}

macro_rules! queue_conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $check() {
            let dir = temp_dir();
            conformance::$check(file_queue(&dir), QueueName::Events).await;
        }
    )*};
}

macro_rules! stream_conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $check() {
            let dir = temp_dir();
            tenx_shared::testing::conformance_stream::$check(click_log(&dir)).await;
        }
    )*};
}

tenx_shared::store_checks!(store_conformance);
tenx_shared::queue_checks!(queue_conformance);
tenx_shared::stream_checks!(stream_conformance);

fn click_log(dir: &TempDir) -> Arc<EmbeddedQueue> {
    Arc::new(EmbeddedQueue::open(&dir.path().join("queue.redb")).expect("opening the queue"))
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_each_click_once() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_each_click_once(
        click_log(&dir),
        file_store(&dir),
    )
    .await;
}

/// The click log is durable: records appended before a restart are read after it, and new
/// ones get later sequence numbers.
#[tokio::test(flavor = "multi_thread")]
async fn the_click_log_survives_a_reopen() {
    use tenx_shared::platform::stream::{ClickStream, sequence_after};
    let dir = temp_dir();
    let first = {
        let log = click_log(&dir);
        log.append("acme/launch", "before").await.unwrap();
        log.read("shard-0", None, 10).await.unwrap()[0]
            .sequence
            .clone()
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = click_log(&dir);
    log.append("acme/launch", "after").await.unwrap();
    let all = log.read("shard-0", None, 10).await.unwrap();
    let data: Vec<&str> = all.iter().map(|r| r.data.as_str()).collect();
    assert_eq!(data, ["before", "after"]);
    assert_eq!(all[0].sequence, first);
    assert!(sequence_after(&all[1].sequence, &first));
    assert!(
        log.read("shard-9", None, 10).await.is_err(),
        "an unknown shard is refused"
    );
}

/// The full suites also run back to back on one shared database (as they will on one DynamoDB
/// table / SQS queue).
#[tokio::test(flavor = "multi_thread")]
async fn full_suites_share_one_database() {
    let dir = temp_dir();
    let store = file_store(&dir);
    conformance::run_store_suite(store.clone()).await;
    conformance::run_store_suite(store).await;
    conformance::run_queue_suite(file_queue(&dir), QueueName::Deliveries).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn store_survives_reopen() {
    let dir = temp_dir();
    let path = dir.path().join("store.redb");
    let mut item =
        Item::new("link#1", "meta", json!({"url": "https://example.com"})).with_version(2);
    item.counters.insert("clicks".into(), 1);
    {
        let store = EmbeddedStore::open(&path).expect("open");
        store
            .write(WriteOp::Put {
                item: item.clone(),
                cond: Cond::Absent,
            })
            .await
            .expect("put");
        let add = WriteOp::Add {
            pk: "link#1".into(),
            sk: "meta".into(),
            deltas: vec![("clicks".into(), 41)],
            cap: None,
            expires_at: None,
        };
        store.write(add).await.expect("add");
        let gone = Item::new("link#1", "old", json!({})).expiring_at(Some(now_unix() - 1));
        store
            .write(WriteOp::Put {
                item: gone,
                cond: Cond::None,
            })
            .await
            .expect("put expired");

        // The file is locked while open.
        assert!(matches!(
            EmbeddedStore::open(&path),
            Err(StoreError::Unavailable(_))
        ));
    }

    let store = EmbeddedStore::open(&path).expect("reopen");
    item.counters.insert("clicks".into(), 42);
    assert_eq!(store.get("link#1", "meta").await.expect("get"), Some(item));
    let query = Query {
        pk: "link#1".into(),
        range: SkRange::All,
        limit: 10,
        after: None,
        descending: false,
    };
    let page = store.query(query).await.expect("query");
    assert_eq!(
        page.items.len(),
        1,
        "the expired item stays invisible after reopen"
    );
    assert_eq!(store.purge_expired().await.expect("purge"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_survives_reopen() {
    let dir = temp_dir();
    let path = dir.path().join("queue.redb");
    let in_flight_id;
    {
        let queue = EmbeddedQueue::open(&path).expect("open");
        let messages = vec![
            OutMessage::now("a"),
            OutMessage::now("b"),
            OutMessage::delayed("c", Duration::from_secs(1)),
        ];
        queue.send(QueueName::Events, messages).await.expect("send");
        let got = queue
            .receive(QueueName::Events, 1, Duration::from_secs(1))
            .await
            .expect("receive");
        assert_eq!(got.len(), 1);
        in_flight_id = got[0].message_id.clone();
    }

    let queue = EmbeddedQueue::open(&path).expect("reopen");
    assert_eq!(queue.depth(QueueName::Events).await.expect("depth"), 3);
    queue
        .send(QueueName::Events, vec![OutMessage::now("d")])
        .await
        .expect("send after reopen");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let got = queue
        .receive(QueueName::Events, 10, Duration::from_secs(30))
        .await
        .expect("receive");
    let mut bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
    bodies.sort_unstable();
    assert_eq!(
        bodies,
        ["a", "b", "c", "d"],
        "every message survives the reopen"
    );
    let redelivered = got
        .iter()
        .find(|m| m.message_id == in_flight_id)
        .expect("in-flight message");
    assert_eq!(
        redelivered.receive_count, 2,
        "the receive before the reopen was durable"
    );
    for message in &got {
        queue
            .ack(QueueName::Events, &message.receipt)
            .await
            .expect("ack");
    }
    assert_eq!(queue.depth(QueueName::Events).await.expect("depth"), 0);
    // Acks commit without an fsync (a crash may only bring a message back); a clean shutdown
    // still makes them durable.
    drop(queue);
    let queue = EmbeddedQueue::open(&path).expect("reopen after acks");
    assert_eq!(
        queue.depth(QueueName::Events).await.expect("depth"),
        0,
        "acks survive a clean shutdown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_dead_letters_after_max_receives() {
    let dir = temp_dir();
    let queue = EmbeddedQueue::open(&dir.path().join("queue.redb"))
        .expect("open")
        .with_max_receives(2);
    let name = QueueName::Deliveries;
    queue
        .send(
            name,
            vec![OutMessage::now("poison"), OutMessage::now("fine")],
        )
        .await
        .expect("send");

    for expected_count in [1, 2] {
        // Visibility zero: an unacked message is due again at once.
        let got = queue
            .receive(name, 10, Duration::ZERO)
            .await
            .expect("receive");
        let poison = got
            .iter()
            .find(|m| m.body == "poison")
            .expect("poison is delivered");
        assert_eq!(poison.receive_count, expected_count);
        if let Some(fine) = got.iter().find(|m| m.body == "fine") {
            queue.ack(name, &fine.receipt).await.expect("ack");
        }
    }
    let got = queue
        .receive(name, 10, Duration::ZERO)
        .await
        .expect("receive");
    assert!(
        got.is_empty(),
        "a message received max_receives times is not delivered again: {got:?}"
    );
    assert_eq!(
        queue.dead_letters(name).await.expect("dead letters"),
        ["poison"]
    );
    assert_eq!(queue.depth(name).await.expect("depth"), 0);
    assert!(
        queue
            .dead_letters(QueueName::Events)
            .await
            .expect("dead letters")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_stale_receipt_keeps_redelivered_message() {
    let dir = temp_dir();
    let queue = EmbeddedQueue::open(&dir.path().join("queue.redb")).expect("open");
    let name = QueueName::Events;
    queue
        .send(name, vec![OutMessage::now("m")])
        .await
        .expect("send");
    let first = queue
        .receive(name, 1, Duration::ZERO)
        .await
        .expect("receive");
    let second = queue
        .receive(name, 1, Duration::from_secs(30))
        .await
        .expect("receive");
    assert_eq!((first.len(), second.len()), (1, 1));
    queue
        .ack(name, &first[0].receipt)
        .await
        .expect("a stale ack is Ok");
    assert_eq!(
        queue.depth(name).await.expect("depth"),
        1,
        "a stale ack must not delete"
    );
    queue.ack(name, &second[0].receipt).await.expect("ack");
    assert_eq!(queue.depth(name).await.expect("depth"), 0);
}

/// Group commit: many concurrent writers share fsyncs, so 2000 durable writes on a real file
/// finish quickly (one fsync each would take seconds on most disks).
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writes_share_commits() {
    let dir = temp_dir();
    let store = file_store(&dir);
    let queue = file_queue(&dir);
    let start = std::time::Instant::now();
    let tasks = (0..2000).map(|i| {
        let (store, queue) = (store.clone(), queue.clone());
        tokio::spawn(async move {
            let add = WriteOp::Add {
                pk: "hot".into(),
                sk: format!("k{}", i % 10),
                deltas: vec![("n".into(), 1)],
                cap: None,
                expires_at: None,
            };
            store.write(add).await.expect("add");
            queue
                .send(
                    QueueName::Events,
                    vec![OutMessage::now(format!("click {i}"))],
                )
                .await
                .expect("send");
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.expect("writer task");
    }
    let elapsed = start.elapsed();
    eprintln!("2000 adds + 2000 sends in {elapsed:?}");
    let mut total = 0;
    for k in 0..10 {
        total += store
            .get("hot", &format!("k{k}"))
            .await
            .expect("get")
            .expect("item")
            .counter("n");
    }
    assert_eq!(total, 2000);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// A conversion relayed twice (in two batches) is counted once.
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_relayed_conversion_once() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_relayed_conversion_once(
        click_log(&dir),
        file_store(&dir),
    )
    .await;
}

/// A retried append landing twice, in two batches, counts once (issue 28, 2a).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_retried_append_once_across_batches() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_retried_append_once_across_batches(click_log(&dir), file_store(&dir)).await;
}

/// A parked click whose append had landed counts once (issue 28, 2b).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_counts_a_parked_click_once() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_aggregation_counts_a_parked_click_once(
        click_log(&dir),
        file_store(&dir),
    )
    .await;
}

/// Late copies of clicks count once, by a restarted consumer and by a warm one whose memory
/// another consumer made stale (issue 42).
#[tokio::test(flavor = "multi_thread")]
async fn stream_aggregation_dedupes_copies_across_consumers() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_aggregation_dedupes_copies_across_consumers(
        click_log(&dir),
        file_store(&dir),
    )
    .await;
}

/// Poison records mid-batch go to the dead letters; the rest count once.
#[tokio::test(flavor = "multi_thread")]
async fn stream_sets_poison_records_aside() {
    let dir = temp_dir();
    tenx_shared::testing::conformance_stream::stream_sets_poison_records_aside(
        click_log(&dir),
        file_store(&dir),
    )
    .await;
}
