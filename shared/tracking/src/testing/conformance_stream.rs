//! The conformance suite of the click stream seam, and of the exactly-once aggregation on it:
//! backend-agnostic checks every [`ClickStream`] (the embedded click log, Kinesis) must pass.
//! Each check takes a fresh stream (and store) of its own and panics naming the violated rule.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;

use crate::analytics::seen::Seen;
use crate::analytics::stream as agg;
use crate::domain::{Attribution, Device, Handle};
use crate::kernel::events::{ClickData, ConversionData, Event, event_json};
use crate::platform::store::{Query, SkRange, Store, StoreError, WriteOp, keys};
use crate::platform::stream::{ClickStream, StreamRecord, sequence_after};

/// The stream checks, in order (used like `store_checks!`).
#[macro_export]
macro_rules! stream_checks {
    ($then:ident) => {
        $then!(
            stream_appends_read_back_in_order_after_a_sequence,
            stream_concurrent_appends_all_land_once,
            stream_refuses_bad_records,
        );
    };
}

/// Every record of every shard, from the oldest, with its shard.
pub async fn read_all(stream: &dyn ClickStream) -> Vec<(String, StreamRecord)> {
    let mut all = Vec::new();
    for shard in stream.shards().await.expect("listing shards") {
        let mut after: Option<String> = None;
        loop {
            let page = stream
                .read(&shard, after.as_deref(), 1000)
                .await
                .expect("reading a shard");
            let Some(last) = page.last() else { break };
            after = Some(last.sequence.clone());
            all.extend(page.into_iter().map(|r| (shard.clone(), r)));
        }
    }
    all
}

pub async fn stream_appends_read_back_in_order_after_a_sequence(stream: Arc<dyn ClickStream>) {
    let key = format!("acme/{}", uuid::Uuid::new_v4().simple());
    for i in 0..5 {
        stream
            .append(&key, &format!("record-{i}"))
            .await
            .expect("append");
    }
    let mine: Vec<(String, StreamRecord)> = read_all(stream.as_ref())
        .await
        .into_iter()
        .filter(|(_, r)| r.data.starts_with("record-"))
        .collect();
    let data: Vec<&str> = mine.iter().map(|(_, r)| r.data.as_str()).collect();
    assert_eq!(
        data,
        ["record-0", "record-1", "record-2", "record-3", "record-4"],
        "one partition key: one shard, in order"
    );
    assert!(
        mine.windows(2)
            .all(|w| w[0].0 == w[1].0 && sequence_after(&w[1].1.sequence, &w[0].1.sequence)),
        "sequences increase"
    );
    let (shard, second) = (&mine[1].0, &mine[1].1.sequence);
    let rest = stream
        .read(shard, Some(second), 10)
        .await
        .expect("read after");
    let rest: Vec<&str> = rest.iter().map(|r| r.data.as_str()).collect();
    assert_eq!(
        rest,
        ["record-2", "record-3", "record-4"],
        "a read starts after the sequence"
    );
    let page = stream.read(shard, None, 2).await.expect("a bounded read");
    assert_eq!(page.len(), 2, "a read returns at most `max` records");
}

pub async fn stream_concurrent_appends_all_land_once(stream: Arc<dyn ClickStream>) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let appends = (0..100).map(|i| {
        let (stream, data) = (stream.clone(), format!("{tag}-{i}"));
        async move { stream.append(&format!("h/link-{}", i % 7), &data).await }
    });
    for result in join_all(appends).await {
        result.expect("every concurrent append succeeds");
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (_, r) in read_all(stream.as_ref()).await {
        if r.data.starts_with(&tag) {
            *seen.entry(r.data).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 100, "every append is readable");
    assert!(seen.values().all(|n| *n == 1), "each exactly once");
}

pub async fn stream_refuses_bad_records(stream: Arc<dyn ClickStream>) {
    assert!(
        stream.append("", "data").await.is_err(),
        "an empty partition key"
    );
    assert!(stream.append("k", "").await.is_err(), "an empty record");
    let big = "x".repeat(crate::platform::stream::MAX_RECORD_BYTES + 1);
    assert!(
        stream.append("k", &big).await.is_err(),
        "a record over 1 MiB"
    );
}

/// A human's attribution on a phone, from `country`, by a newsletter link.
fn human_mobile(country: &str) -> Attribution {
    Attribution {
        country: country.into(),
        device: Device::Mobile,
        source: "newsletter".into(),
        referrer: "direct".into(),
        segment: "new-mobile".into(),
        variant: None,
    }
}

/// A human click on `handle/launch` from `country`, as the redirect records it.
pub fn click_event(handle: &str, country: &str) -> String {
    let click_id = crate::domain::ClickId::new();
    let data = ClickData {
        click_id: click_id.clone(),
        slug: "launch".into(),
        campaign_id: None,
        attribution: human_mobile(country),
        bot: false,
        bot_reason: None,
        expired: false,
        sub_ids: Default::default(),
        test: false,
        ad_click: None,
        user_agent: None,
        region: None,
        city: None,
        destination_url: "https://example.com/".into(),
        at: crate::platform::time::now_rfc3339(),
    };
    event_json(click_id.event_id().as_str(), handle, &data)
}

/// A verified conversion on `handle/launch` from `country`, as the events worker relays it.
pub fn conversion_event(handle: &str, country: &str) -> String {
    let data = ConversionData {
        idempotency_key: crate::domain::IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string())
            .expect("a UUID is a token"),
        slug: "launch".into(),
        event_type: "purchase".into(),
        value: Some(rust_decimal::Decimal::new(1250, 2)),
        currency: "USD".parse().ok(),
        attribution: human_mobile(country),
        received_at: crate::platform::time::timestamp(),
        verified: true,
        ..crate::testing::conversion(None)
    };
    let id = crate::domain::EventId::new();
    event_json(id.as_str(), handle, &data)
}

/// The handle's clicks by country, summed over every shard's part (what a report reads).
pub async fn clicks_by_country(store: &dyn Store, handle: &Handle) -> BTreeMap<String, i64> {
    counts_by_country(store, handle, "clicks").await
}

/// The handle's `counter` by country, summed over every shard's part.
pub async fn counts_by_country(
    store: &dyn Store,
    handle: &Handle,
    counter: &str,
) -> BTreeMap<String, i64> {
    let pk = keys::analytics_pk(handle, "_none", "country");
    let page = store
        .query(Query {
            pk,
            range: SkRange::All,
            limit: 1000,
            after: None,
            descending: false,
        })
        .await
        .expect("query");
    let mut counts = BTreeMap::new();
    for item in page.items {
        let (_, value) = keys::analytics_sk_parts(&item.sk).expect("a counter key");
        *counts.entry(value.to_owned()).or_default() += item.counter(counter);
    }
    counts
}

/// Applies every shard's records (parsed as events) once, like one pass of a consumer that
/// just started (it remembers no click: what was counted is read from the store).
pub async fn consume_once(stream: &dyn ClickStream, store: &dyn Store) {
    consume_with(stream, store, &Seen::default()).await;
}

/// [`consume_once`] by a consumer that keeps its memory of counted clicks (`seen`).
pub async fn consume_with(stream: &dyn ClickStream, store: &dyn Store, seen: &Seen) {
    for shard in stream.shards().await.expect("shards") {
        let records = stream.read(&shard, None, 10_000).await.expect("read");
        let parsed: Vec<agg::Parsed> = records.into_iter().map(agg::Parsed::new).collect();
        agg::apply(store, seen, &shard, &parsed)
            .await
            .expect("apply");
    }
}

/// Issue 42: copies of a click count once however far apart they land and whoever consumes
/// them: a consumer that restarted (it remembers nothing), and a warm consumer whose memory is
/// stale because another consumer counted clicks in between (the checkpoint moved: it reads
/// the store's record again instead of trusting its own).
pub async fn stream_aggregation_dedupes_copies_across_consumers(
    stream: Arc<dyn ClickStream>,
    store: Arc<dyn Store>,
) {
    let handle = fresh_handle();
    let key = format!("{handle}/launch");
    let (a, b) = (Seen::default(), Seen::default());
    let first = click_event(&handle, "US");
    stream.append(&key, &first).await.expect("append");
    consume_with(stream.as_ref(), store.as_ref(), &a).await;
    // B (another container) counts a second click while A stays warm.
    let second = click_event(&handle, "US");
    stream.append(&key, &second).await.expect("append");
    consume_with(stream.as_ref(), store.as_ref(), &b).await;
    // Late copies of both (a lost answer's retry, a parked click relayed), then A consumes:
    // its memory is one checkpoint behind, so it reads the minute again and skips both.
    for copy in [&second, &first, &second] {
        stream.append(&key, copy).await.expect("append");
    }
    stream
        .append(&key, &click_event(&handle, "US"))
        .await
        .expect("append");
    consume_with(stream.as_ref(), store.as_ref(), &a).await;
    // And a consumer that just started, after yet another copy.
    stream.append(&key, &first).await.expect("append");
    consume_once(stream.as_ref(), store.as_ref()).await;
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        clicks.get("US"),
        Some(&3),
        "three clicks, each once: {clicks:?}"
    );
}

/// Clicks appended to the stream are counted exactly once however often the consumer sees
/// them: a redelivered batch, a replay from the oldest record, a longer batch overlapping an
/// applied one, and two consumers racing on the same records.
pub async fn stream_aggregation_counts_each_click_once(
    stream: Arc<dyn ClickStream>,
    store: Arc<dyn Store>,
) {
    let handle = format!("h{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let _ = Handle::parse(&handle).expect("a valid handle");
    let countries = ["US", "DE", "US", "FR", "US"];
    for (i, country) in countries.iter().enumerate() {
        let key = format!("{handle}/link-{i}");
        stream
            .append(&key, &click_event(&handle, country))
            .await
            .expect("append");
    }
    consume_once(stream.as_ref(), store.as_ref()).await;
    let expected = BTreeMap::from([
        ("DE".to_owned(), 1),
        ("FR".to_owned(), 1),
        ("US".to_owned(), 3),
    ]);
    assert_eq!(
        clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await,
        expected
    );

    // Redelivery and replay: the same records again change nothing.
    consume_once(stream.as_ref(), store.as_ref()).await;
    assert_eq!(
        clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await,
        expected,
        "a replay counts nothing twice"
    );

    // More clicks, then two consumers racing over everything: only the new ones count, once.
    for i in 0..4 {
        let key = format!("{handle}/more-{i}");
        stream
            .append(&key, &click_event(&handle, "US"))
            .await
            .expect("append");
    }
    let (a, b) = (stream.clone(), store.clone());
    let (c, d) = (stream.clone(), store.clone());
    tokio::join!(
        async move { consume_once(a.as_ref(), b.as_ref()).await },
        async move { consume_once(c.as_ref(), d.as_ref()).await },
    );
    let after = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        after.get("US"),
        Some(&7),
        "racing consumers count each new click once: {after:?}"
    );
}

/// A conversion relayed to the stream (at least once: the events worker's `AnalyticsSink`
/// appends again when its batch is redelivered) is counted once, though its two copies land in
/// two batches; the clicks around it count as usual.
pub async fn stream_aggregation_counts_a_relayed_conversion_once(
    stream: Arc<dyn ClickStream>,
    store: Arc<dyn Store>,
) {
    let handle = format!("h{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let key = format!("{handle}/launch");
    let conversion = conversion_event(&handle, "DE");
    for record in [&conversion, &click_event(&handle, "DE")] {
        stream.append(&key, record).await.expect("append");
    }
    consume_once(stream.as_ref(), store.as_ref()).await;
    for record in [&conversion, &click_event(&handle, "DE")] {
        stream.append(&key, record).await.expect("append");
    }
    consume_once(stream.as_ref(), store.as_ref()).await;
    let conversions = counts_by_country(
        store.as_ref(),
        &Handle::parse(&handle).unwrap(),
        "conversions",
    )
    .await;
    assert_eq!(conversions.get("DE"), Some(&1), "{conversions:?}");
    let revenue =
        counts_by_country(store.as_ref(), &Handle::parse(&handle).unwrap(), "rev_usd").await;
    assert_eq!(revenue.get("DE"), Some(&12_500_000), "{revenue:?}");
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(clicks.get("DE"), Some(&2), "{clicks:?}");
}

/// A fresh handle of the test's own.
fn fresh_handle() -> String {
    format!("h{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Issue 28 (2a): a producer's `PutRecord` that landed though its answer was lost, retried, so
/// its two copies fall in different batches with other clicks between: counted once.
pub async fn stream_aggregation_counts_a_retried_append_once_across_batches(
    stream: Arc<dyn ClickStream>,
    store: Arc<dyn Store>,
) {
    let handle = fresh_handle();
    let key = format!("{handle}/launch");
    let click = click_event(&handle, "US");
    stream.append(&key, &click).await.expect("append");
    consume_once(stream.as_ref(), store.as_ref()).await;
    for record in [
        click_event(&handle, "US"),
        click.clone(),
        click_event(&handle, "US"),
    ] {
        stream.append(&key, &record).await.expect("append");
    }
    consume_once(stream.as_ref(), store.as_ref()).await;
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        clicks.get("US"),
        Some(&3),
        "the retried copy counts once: {clicks:?}"
    );
}

/// Issue 28 (2b): the redirect parked a click whose append had landed after all: the events
/// worker relays the parked copy (redelivered: twice) through the stream instead of counting it
/// beside the stream's consumer, and the click counts once.
pub async fn stream_aggregation_counts_a_parked_click_once(
    stream: Arc<dyn ClickStream>,
    store: Arc<dyn Store>,
) {
    use crate::kernel::consume::EventSink;
    let handle = fresh_handle();
    let click = click_event(&handle, "DE");
    stream
        .append(&format!("{handle}/launch"), &click)
        .await
        .expect("the landed append");
    consume_once(stream.as_ref(), store.as_ref()).await;
    let mut parked: Event = serde_json::from_str(&click).expect("an event");
    store
        .write(crate::kernel::outbox::record(&mut parked))
        .await
        .expect("parked");
    let mut config = crate::platform::config::Config::from_env().expect("config");
    // No mail is sent: an engine the kernel builds (SES, the default without a data dir, is
    // tenx-aws's).
    config.mail.url = Some(crate::platform::mail::MailUrl::Maildir(std::env::temp_dir()));
    let queue = Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory());
    let state = crate::kernel::state::AppState::with_secrets(
        config,
        store.clone(),
        queue,
        crate::platform::config::Secrets::NONE,
    )
    .expect("state")
    .with_click_stream(stream.clone());
    for _ in 0..2 {
        crate::analytics::aggregate::AnalyticsSink
            .apply(&state, std::slice::from_ref(&parked))
            .await
            .expect("relayed");
        consume_once(stream.as_ref(), store.as_ref()).await;
    }
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        clicks.get("DE"),
        Some(&1),
        "a parked click counts once: {clicks:?}"
    );
}

/// A store that refuses (as invalid) every transaction adding to a counter of `poison`: a
/// record the backend cannot apply, whatever the reason.
struct Refusing {
    inner: Arc<dyn Store>,
    poison: String,
}

#[async_trait::async_trait]
impl Store for Refusing {
    async fn get(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<crate::platform::store::Item>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn write(&self, op: WriteOp) -> Result<Option<crate::platform::store::Item>, StoreError> {
        self.inner.write(op).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let poisoned = ops
            .iter()
            .any(|op| matches!(op, WriteOp::Add { sk, .. } if sk.contains(&self.poison)));
        if poisoned {
            return Err(StoreError::Invalid(format!("{} refused", self.poison)));
        }
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> Result<crate::platform::store::Page, StoreError> {
        self.inner.query(query).await
    }
}

/// Poison records are set aside, never block: in one batch, an unreadable record and a click
/// the store refuses sit between good clicks; every good click counts once (a replay too), the
/// two poisoned ones are in the dead letters with their reasons, and the shard moves on.
pub async fn stream_sets_poison_records_aside(stream: Arc<dyn ClickStream>, store: Arc<dyn Store>) {
    let handle = fresh_handle();
    let key = format!("{handle}/launch");
    let store: Arc<dyn Store> = Arc::new(Refusing {
        inner: store,
        poison: "#ZZ".into(),
    });
    let bad_click = click_event(&handle, "ZZ");
    let records = [
        click_event(&handle, "US"),
        format!("not json {}", uuid::Uuid::new_v4()),
        click_event(&handle, "US"),
        bad_click.clone(),
        click_event(&handle, "US"),
    ];
    for record in &records {
        stream.append(&key, record).await.expect("append");
    }
    consume_once(stream.as_ref(), store.as_ref()).await;
    consume_once(stream.as_ref(), store.as_ref()).await;
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        clicks.get("US"),
        Some(&3),
        "every good click once: {clicks:?}"
    );
    assert_eq!(clicks.get("ZZ"), None, "{clicks:?}");
    let dead = crate::analytics::poison::list(store.as_ref())
        .await
        .expect("list");
    let mine: Vec<_> = dead
        .iter()
        .filter(|d| d.data == records[1] || d.data == bad_click)
        .collect();
    assert_eq!(mine.len(), 2, "both poisoned records set aside: {dead:?}");
    assert!(mine[0].reason.contains("not a readable event"), "{mine:?}");
    assert!(mine[1].reason.contains("#ZZ refused"), "{mine:?}");
    stream
        .append(&key, &click_event(&handle, "US"))
        .await
        .expect("append");
    consume_once(stream.as_ref(), store.as_ref()).await;
    let clicks = clicks_by_country(store.as_ref(), &Handle::parse(&handle).unwrap()).await;
    assert_eq!(
        clicks.get("US"),
        Some(&4),
        "the shard carries on: {clicks:?}"
    );
}
