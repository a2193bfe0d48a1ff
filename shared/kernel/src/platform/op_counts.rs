//! Operation counters on the storage and queue seams: how many round trips each request costs.
//!
//! On AWS every store and queue operation is a billed network round trip, so the budgets (a
//! redirect on a cached link: 0 reads and 1 enqueue; a conversion: 1 transaction and 1 enqueue)
//! are correctness properties, checked by tests and reported by the load benchmark. The
//! decorators [`CountingStore`] and [`CountingQueue`] wrap any backend and count each call by
//! kind. Calls made while an HTTP request is being served (inside [`in_request`], which
//! [`instrument`] wraps around every request) are counted apart from background work (the queue
//! consumers, the outbox sweeper), so the per-request budget can be read while workers run.
//!
//! `tenx serve` enables this with `TENX_COUNT_OPS=1` (then `GET /internal/ops` returns the
//! counts); it is off by default and costs nothing then.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use serde::{Deserialize, Serialize};

use crate::platform::decorate::{Answer, Call, Decorated, Hook};
use crate::platform::metrics::{in_request, serving_a_request};
use crate::platform::queue::Queue;
use crate::platform::store::Store;
use crate::platform::stream::ClickStream;

/// The path of the counts, served only by [`instrument`]ed apps.
pub const OPS_PATH: &str = "/internal/ops";

/// Operation counts by kind (a snapshot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OpCounts {
    /// `Store::get` calls (DynamoDB `GetItem`).
    pub get: u64,
    /// `Store::query` calls (one per page: DynamoDB `Query`).
    pub query: u64,
    /// `Store::write` calls (`PutItem` / `DeleteItem` / `UpdateItem`).
    pub write: u64,
    /// `Store::transact` calls (`TransactWriteItems`).
    pub transact: u64,
    /// Operations inside those transactions (DynamoDB bills each item, twice).
    pub transact_items: u64,
    /// `Queue::send` calls.
    pub send_calls: u64,
    /// Messages in those calls.
    pub send_messages: u64,
    /// `Queue::receive` calls.
    pub receive: u64,
    /// `Queue::ack` calls.
    pub ack: u64,
    /// `ClickStream::append` calls (Kinesis `PutRecord`).
    pub appends: u64,
    /// `ClickStream::read` calls (Kinesis `GetShardIterator` + `GetRecords`).
    pub stream_reads: u64,
    /// Records those reads returned: once they reach the appends, the consumer has seen every
    /// record (the benchmark's drain test, whatever kinds of events the records carry).
    pub stream_records: u64,
}

impl OpCounts {
    /// Store reads of any kind.
    pub fn reads(&self) -> u64 {
        self.get + self.query
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &OpCounts) -> OpCounts {
        OpCounts {
            get: self.get.saturating_sub(earlier.get),
            query: self.query.saturating_sub(earlier.query),
            write: self.write.saturating_sub(earlier.write),
            transact: self.transact.saturating_sub(earlier.transact),
            transact_items: self.transact_items.saturating_sub(earlier.transact_items),
            send_calls: self.send_calls.saturating_sub(earlier.send_calls),
            send_messages: self.send_messages.saturating_sub(earlier.send_messages),
            receive: self.receive.saturating_sub(earlier.receive),
            ack: self.ack.saturating_sub(earlier.ack),
            appends: self.appends.saturating_sub(earlier.appends),
            stream_reads: self.stream_reads.saturating_sub(earlier.stream_reads),
            stream_records: self.stream_records.saturating_sub(earlier.stream_records),
        }
    }
}

#[derive(Default)]
struct Counters {
    get: AtomicU64,
    query: AtomicU64,
    write: AtomicU64,
    transact: AtomicU64,
    transact_items: AtomicU64,
    send_calls: AtomicU64,
    send_messages: AtomicU64,
    receive: AtomicU64,
    ack: AtomicU64,
    appends: AtomicU64,
    stream_reads: AtomicU64,
    stream_records: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> OpCounts {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        OpCounts {
            get: n(&self.get),
            query: n(&self.query),
            write: n(&self.write),
            transact: n(&self.transact),
            transact_items: n(&self.transact_items),
            send_calls: n(&self.send_calls),
            send_messages: n(&self.send_messages),
            receive: n(&self.receive),
            ack: n(&self.ack),
            appends: n(&self.appends),
            stream_reads: n(&self.stream_reads),
            stream_records: n(&self.stream_records),
        }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Counts of everything since start, split by who asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpSnapshot {
    /// HTTP requests served by an [`instrument`]ed app (the ops route itself excluded).
    pub http_requests: u64,
    /// Operations issued while serving those requests.
    pub requests: OpCounts,
    /// Operations issued by everything else (queue consumers, the outbox sweeper).
    pub background: OpCounts,
}

/// The shared counters of one process.
#[derive(Default)]
pub struct OpCounters {
    http_requests: AtomicU64,
    requests: Counters,
    background: Counters,
}

impl OpCounters {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn snapshot(&self) -> OpSnapshot {
        OpSnapshot {
            http_requests: self.http_requests.load(Ordering::Relaxed),
            requests: self.requests.snapshot(),
            background: self.background.snapshot(),
        }
    }

    fn current(&self) -> &Counters {
        if serving_a_request() {
            &self.requests
        } else {
            &self.background
        }
    }
}

/// The counting [`Hook`]: each call by kind (and the messages sent, the transaction items, the
/// records read) as request or background work, then passed on unchanged.
pub struct Counting(pub Arc<OpCounters>);

#[async_trait]
impl Hook for Counting {
    async fn before(&self, call: Call) -> Result<(), String> {
        let c = self.0.current();
        match call {
            Call::Get => bump(&c.get, 1),
            Call::Write => bump(&c.write, 1),
            Call::Transact { items } => {
                bump(&c.transact, 1);
                bump(&c.transact_items, items as u64);
            }
            Call::Query => bump(&c.query, 1),
            Call::Send { messages } => {
                bump(&c.send_calls, 1);
                bump(&c.send_messages, messages as u64);
            }
            Call::Receive => bump(&c.receive, 1),
            Call::Ack => bump(&c.ack, 1),
            Call::Append => bump(&c.appends, 1),
            Call::Read => bump(&c.stream_reads, 1),
            Call::Shards => {}
        }
        Ok(())
    }

    fn after(&self, call: Call, returned: usize) -> Answer {
        if call == Call::Read {
            bump(&self.0.current().stream_records, returned as u64);
        }
        Answer::Pass
    }
}

/// A [`Store`] that counts every call, then passes it on.
pub type CountingStore = Decorated<dyn Store, Counting>;
/// A [`Queue`] that counts every call (and every message sent), then passes it on.
pub type CountingQueue = Decorated<dyn Queue, Counting>;
/// A [`ClickStream`] that counts appends and reads (and the records read), then passes them on.
pub type CountingStream = Decorated<dyn ClickStream, Counting>;

/// `inner` counted into `counters`.
pub fn counted<S: ?Sized>(inner: Arc<S>, counters: &Arc<OpCounters>) -> Decorated<S, Counting> {
    Decorated::new(inner, Counting(counters.clone()))
}

/// Wraps both seams with counters sharing one [`OpCounters`].
pub fn counting(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
) -> (Arc<dyn Store>, Arc<dyn Queue>, Arc<OpCounters>) {
    let counters = OpCounters::new();
    (
        Arc::new(counted(store, &counters)),
        Arc::new(counted(queue, &counters)),
        counters,
    )
}

/// `app` with every request's operations counted as request work, and `GET /internal/ops`
/// answering the [`OpSnapshot`] (unauthenticated: only for local benchmarking, never deployed).
pub fn instrument(app: Router, counters: Arc<OpCounters>) -> Router {
    let scoped = counters.clone();
    let app = app.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let counters = scoped.clone();
            async move {
                bump(&counters.http_requests, 1);
                in_request(next.run(req)).await
            }
        },
    ));
    // Added after the layer, so reading the counts is not itself counted.
    app.route(
        OPS_PATH,
        axum::routing::get(move || {
            let snapshot = counters.snapshot();
            async move { axum::Json(snapshot) }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::queue::embedded::EmbeddedQueue;
    use crate::platform::queue::{OutMessage, QueueName};
    use crate::platform::store::embedded::EmbeddedStore;
    use crate::platform::store::{Cond, Item, Query, StoreError, WriteOp};
    use axum::body::Body;
    use std::time::Duration;
    use tower::ServiceExt;

    fn backends() -> (Arc<dyn Store>, Arc<dyn Queue>, Arc<OpCounters>) {
        counting(
            Arc::new(EmbeddedStore::in_memory()),
            Arc::new(EmbeddedQueue::in_memory()),
        )
    }

    fn put(sk: &str) -> WriteOp {
        WriteOp::Put {
            item: Item::new("p", sk, serde_json::json!({})),
            cond: Cond::Absent,
        }
    }

    #[tokio::test]
    async fn counts_each_call_by_kind_and_passes_it_through() {
        let (store, queue, counters) = backends();
        store.write(put("a")).await.unwrap();
        store.transact(vec![put("b"), put("c")]).await.unwrap();
        // A failed call is still a round trip, and its result is passed back unchanged.
        assert!(matches!(
            store.transact(vec![put("d"), put("a")]).await,
            Err(StoreError::TxConflict { index: 1, .. })
        ));
        assert!(store.get("p", "b").await.unwrap().is_some());
        assert!(store.get("p", "d").await.unwrap().is_none());
        let page = store.query(Query::prefix("p", "", 10)).await.unwrap();
        assert_eq!(page.items.len(), 3);
        queue
            .send(
                QueueName::Events,
                vec![OutMessage::now("1"), OutMessage::now("2")],
            )
            .await
            .unwrap();
        let got = queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        queue.ack(QueueName::Events, &got[0].receipt).await.unwrap();

        let snap = counters.snapshot();
        assert_eq!(
            snap.requests,
            OpCounts::default(),
            "nothing ran in a request"
        );
        assert_eq!(
            snap.background,
            OpCounts {
                get: 2,
                query: 1,
                write: 1,
                transact: 2,
                transact_items: 4,
                send_calls: 1,
                send_messages: 2,
                receive: 1,
                ack: 1,
                ..OpCounts::default()
            }
        );
        assert_eq!(snap.background.reads(), 3);
    }

    #[tokio::test]
    async fn operations_inside_a_request_are_counted_apart() {
        let (store, queue, counters) = backends();
        in_request(async {
            store.get("p", "x").await.unwrap();
            queue
                .send(QueueName::Events, vec![OutMessage::now("m")])
                .await
                .unwrap();
        })
        .await;
        store.get("p", "y").await.unwrap();
        let snap = counters.snapshot();
        assert_eq!((snap.requests.get, snap.requests.send_calls), (1, 1));
        assert_eq!((snap.background.get, snap.background.send_calls), (1, 0));
        let later = OpCounts {
            get: 5,
            ..snap.requests
        };
        assert_eq!(
            later.since(&snap.requests),
            OpCounts {
                get: 4,
                ..OpCounts::default()
            }
        );
    }

    #[tokio::test]
    async fn the_instrumented_app_counts_requests_and_serves_the_counts() {
        let (store, _queue, counters) = backends();
        let app = Router::new().route(
            "/read",
            axum::routing::get(move || {
                let store = store.clone();
                async move {
                    store.get("p", "x").await.unwrap();
                    "ok"
                }
            }),
        );
        let app = instrument(app, counters.clone());
        let get = |uri: &str| {
            axum::http::Request::builder()
                .uri(uri)
                .body(Body::empty())
                .unwrap()
        };
        let resp = app.clone().oneshot(get("/read")).await.unwrap();
        assert_eq!(resp.status(), 200);
        let resp = app.oneshot(get(OPS_PATH)).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let snap: OpSnapshot = serde_json::from_slice(&body).unwrap();
        assert_eq!(snap.http_requests, 1, "the ops route is not counted");
        assert_eq!(snap.requests.get, 1);
        assert_eq!(snap.background, OpCounts::default());
        assert_eq!(snap, counters.snapshot());
    }
}
