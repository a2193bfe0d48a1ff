//! The conformance suite of the storage and queue seams: backend-agnostic checks that every
//! [`Store`] and [`Queue`] implementation must pass (embedded, DynamoDB/SQS, moto), so the same
//! code behaves the same on all of them.
//!
//! Every check is its own `pub async fn` (test files list them one test each) and panics with a
//! message naming the violated rule. Store checks use fresh random partition keys, so any number
//! of suites can share one table. Queue checks tag their bodies with a random marker and assume
//! no other consumer uses the queue while they run; messages of other runs they happen to
//! receive (leftovers of an aborted run) are acked and ignored.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use super::eventually_within;
use crate::platform::queue::{OutMessage, Queue, QueueName, Received};
use crate::platform::store::{
    Cond, CounterCap, Item, MAX_TRANSACT_OPS, Query, SkRange, Store, StoreError, WriteOp, now_unix,
};

/// The store checks, in order: the one list that [`run_store_suite`] and every backend's test
/// runner use (`store_checks!(my_macro)` calls `my_macro!(check, check, …)`).
#[macro_export]
macro_rules! store_checks {
    ($then:ident) => {
        $then!(
            store_put_get_round_trip,
            store_create_if_absent_race,
            store_version_checked_update,
            store_cond_exists,
            store_delete,
            store_expired_items_are_absent,
            store_add_counters_concurrently,
            store_add_existing_item,
            store_add_sums_past_i64,
            store_add_counter_cap,
            store_transact_all_or_nothing,
            store_transact_rejects_invalid,
            store_transact_check,
            store_set_doc_keeps_counters,
            store_contended_writes_all_land,
            store_query_ranges_and_pagination,
            store_query_rejects_bad_limits,
        );
    };
}

/// The queue checks, in order (used like [`store_checks!`]).
#[macro_export]
macro_rules! queue_checks {
    ($then:ident) => {
        $then!(
            queue_send_receive_ack,
            queue_delayed_message,
            queue_visibility_redelivery,
            queue_stale_receipt_ack,
            queue_batch_send,
            queue_concurrent_senders,
        );
    };
}

/// Runs every store check, one after another.
pub async fn run_store_suite(store: Arc<dyn Store>) {
    macro_rules! run {
        ($($check:ident),* $(,)?) => {$( $check(store.clone()).await; )*};
    }
    store_checks!(run);
}

/// Runs every queue check against `name`, one after another.
pub async fn run_queue_suite(queue: Arc<dyn Queue>, name: QueueName) {
    macro_rules! run {
        ($($check:ident),* $(,)?) => {$( $check(queue.clone(), name).await; )*};
    }
    queue_checks!(run);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A partition key (or marker) no other run uses.
fn unique(what: &str) -> String {
    format!("conf#{what}#{}", uuid::Uuid::new_v4().simple())
}

fn put(item: Item, cond: Cond) -> WriteOp {
    WriteOp::Put { item, cond }
}

fn delete(pk: &str, sk: &str, cond: Cond) -> WriteOp {
    WriteOp::Delete {
        pk: pk.into(),
        sk: sk.into(),
        cond,
    }
}

fn add(pk: &str, sk: &str, deltas: &[(&str, crate::platform::store::Count)]) -> WriteOp {
    WriteOp::Add {
        pk: pk.into(),
        sk: sk.into(),
        deltas: deltas.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect(),
        cap: None,
        expires_at: None,
    }
}

fn capped(op: WriteOp, counter: &str, max: i64) -> WriteOp {
    match op {
        WriteOp::Add {
            pk,
            sk,
            deltas,
            expires_at,
            ..
        } => WriteOp::Add {
            pk,
            sk,
            deltas,
            cap: Some(CounterCap {
                counter: counter.into(),
                max,
            }),
            expires_at,
        },
        other => other,
    }
}

/// The live item carried by a `ConditionFailed`, panicking on any other outcome.
fn condition_failed<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
) -> Option<Box<Item>> {
    match result {
        Err(StoreError::ConditionFailed { current }) => current,
        other => panic!("{what}: expected ConditionFailed, got {other:?}"),
    }
}

async fn get(store: &Arc<dyn Store>, pk: &str, sk: &str) -> Option<Item> {
    store
        .get(pk, sk)
        .await
        .unwrap_or_else(|e| panic!("get {pk}/{sk} failed: {e:?}"))
}

async fn write(store: &Arc<dyn Store>, what: &str, op: WriteOp) -> Option<Item> {
    store
        .write(op)
        .await
        .unwrap_or_else(|e| panic!("{what}: write failed: {e:?}"))
}

/// Every sort key a query yields, following `next` page by page.
async fn query_all(store: &Arc<dyn Store>, what: &str, mut query: Query) -> Vec<String> {
    let mut sks = Vec::new();
    for _ in 0..100 {
        let page = store
            .query(query.clone())
            .await
            .unwrap_or_else(|e| panic!("{what}: query: {e:?}"));
        assert!(
            page.items.len() <= query.limit,
            "{what}: page of {} items exceeds limit {}",
            page.items.len(),
            query.limit
        );
        for item in &page.items {
            assert_eq!(item.pk, query.pk, "{what}: item from another partition");
        }
        sks.extend(page.items.into_iter().map(|item| item.sk));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return sks,
        }
    }
    panic!("{what}: pagination did not terminate")
}

fn expect_invalid<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::Invalid(_))),
        "{what}: expected Invalid, got {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Store checks

/// Put then get returns the same item (doc, counters, version, expiry); a put replaces the
/// whole item; other keys are untouched.
pub async fn store_put_get_round_trip(store: Arc<dyn Store>) {
    let pk = unique("roundtrip");
    assert_eq!(
        get(&store, &pk, "a").await,
        None,
        "a fresh key must be absent"
    );

    let doc = json!({"name": "x", "list": [1, 2.5, "three", null, {"deep": true}], "u": "é✓"});
    let mut item = Item::new(&pk, "a", doc)
        .with_version(3)
        .expiring_at(Some(now_unix() + 3600));
    item.counters.insert("clicks".into(), 5);
    item.counters.insert("refunds".into(), -2);
    let written = write(&store, "put", put(item.clone(), Cond::None)).await;
    assert_eq!(
        written.as_ref(),
        Some(&item),
        "put must return the item as written"
    );
    assert_eq!(
        get(&store, &pk, "a").await,
        Some(item.clone()),
        "get must return the put item"
    );

    let replacement = Item::new(&pk, "a", json!({"name": "y"}));
    write(&store, "replace", put(replacement.clone(), Cond::None)).await;
    assert_eq!(
        get(&store, &pk, "a").await,
        Some(replacement),
        "a put replaces the whole item (counters, version and expiry included)"
    );

    for sk in ["b", "a#", "A"] {
        assert_eq!(
            get(&store, &pk, sk).await,
            None,
            "{pk}/{sk} was never written"
        );
    }
    assert_eq!(
        get(&store, &format!("{pk}x"), "a").await,
        None,
        "another partition"
    );
}

/// 50 concurrent create-if-absent puts of one key: exactly one wins; every loser fails with
/// the winner's item.
pub async fn store_create_if_absent_race(store: Arc<dyn Store>) {
    let pk = unique("race");
    let tasks = (0..50).map(|i| {
        let (store, pk) = (store.clone(), pk.clone());
        tokio::spawn(async move {
            let item = Item::new(&pk, "only", json!({"writer": i}));
            (i, store.write(put(item, Cond::Absent)).await)
        })
    });
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for joined in join_all(tasks).await {
        let (i, result) = joined.expect("creator task panicked");
        match result {
            Ok(_) => winners.push(i),
            Err(StoreError::ConditionFailed { current }) => losers.push(current),
            Err(e) => panic!("create-if-absent: unexpected error {e:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one creator must win, winners: {winners:?}"
    );
    let winner_doc = json!({"writer": winners[0]});
    for current in losers {
        let current = current.expect("a losing creator must get the winner's item");
        assert_eq!(current.doc, winner_doc, "losers must see the winner's item");
    }
    let stored = get(&store, &pk, "only")
        .await
        .expect("the winner's item must exist");
    assert_eq!(stored.doc, winner_doc);
}

/// `Cond::Version` accepts the current version only and reports the current item otherwise.
pub async fn store_version_checked_update(store: Arc<dyn Store>) {
    let pk = unique("version");
    let v1 = Item::new(&pk, "doc", json!({"v": 1})).with_version(1);
    write(&store, "create v1", put(v1, Cond::Absent)).await;

    let v2 = Item::new(&pk, "doc", json!({"v": 2})).with_version(2);
    let written = write(&store, "update v1 -> v2", put(v2.clone(), Cond::Version(1))).await;
    assert_eq!(written, Some(v2.clone()));

    let stale = Item::new(&pk, "doc", json!({"v": "stale"})).with_version(2);
    let current = condition_failed(
        "stale version",
        store.write(put(stale, Cond::Version(1))).await,
    );
    assert_eq!(
        current.as_deref(),
        Some(&v2),
        "a stale update must fail with the current item"
    );
    assert_eq!(
        get(&store, &pk, "doc").await,
        Some(v2),
        "a failed update must not write"
    );

    let missing = Item::new(&pk, "missing", json!({})).with_version(1);
    let current = condition_failed(
        "version of missing",
        store.write(put(missing, Cond::Version(0))).await,
    );
    assert_eq!(
        current, None,
        "Cond::Version on a missing item fails with no current item"
    );
    assert_eq!(get(&store, &pk, "missing").await, None);
}

/// `Cond::Exists` requires a live item; `Cond::Absent` refuses one.
pub async fn store_cond_exists(store: Arc<dyn Store>) {
    let pk = unique("exists");
    let item = Item::new(&pk, "x", json!({"n": 1}));
    let current = condition_failed(
        "exists on missing",
        store.write(put(item.clone(), Cond::Exists)).await,
    );
    assert_eq!(current, None);
    assert_eq!(
        get(&store, &pk, "x").await,
        None,
        "a failed Exists put must not create"
    );

    write(&store, "create", put(item.clone(), Cond::Absent)).await;
    let updated = Item::new(&pk, "x", json!({"n": 2}));
    write(
        &store,
        "exists on present",
        put(updated.clone(), Cond::Exists),
    )
    .await;
    assert_eq!(get(&store, &pk, "x").await, Some(updated.clone()));

    let current = condition_failed(
        "absent on present",
        store.write(put(item, Cond::Absent)).await,
    );
    assert_eq!(current.as_deref(), Some(&updated));
}

/// Deletes: unconditional deletes of missing items succeed; conditions are checked; a delete
/// returns `None`.
pub async fn store_delete(store: Arc<dyn Store>) {
    let pk = unique("delete");
    assert_eq!(
        write(&store, "delete missing", delete(&pk, "x", Cond::None)).await,
        None
    );
    let current = condition_failed(
        "delete missing with Exists",
        store.write(delete(&pk, "x", Cond::Exists)).await,
    );
    assert_eq!(current, None);

    let item = Item::new(&pk, "x", json!({"a": 1})).with_version(5);
    write(&store, "create", put(item.clone(), Cond::None)).await;
    let current = condition_failed(
        "delete stale version",
        store.write(delete(&pk, "x", Cond::Version(4))).await,
    );
    assert_eq!(current.as_deref(), Some(&item));
    assert_eq!(
        get(&store, &pk, "x").await,
        Some(item.clone()),
        "a failed delete must not delete"
    );

    assert_eq!(
        write(&store, "delete v5", delete(&pk, "x", Cond::Version(5))).await,
        None
    );
    assert_eq!(get(&store, &pk, "x").await, None);

    write(&store, "recreate", put(item.clone(), Cond::Absent)).await;
    write(&store, "delete exists", delete(&pk, "x", Cond::Exists)).await;
    assert_eq!(get(&store, &pk, "x").await, None);

    write(&store, "recreate", put(item, Cond::Absent)).await;
    write(
        &store,
        "delete unconditionally",
        delete(&pk, "x", Cond::None),
    )
    .await;
    assert_eq!(get(&store, &pk, "x").await, None);
}

/// Items with `expires_at <= now` are invisible to get and query and absent for conditions.
pub async fn store_expired_items_are_absent(store: Arc<dyn Store>) {
    let pk = unique("expiry");
    let now = now_unix();
    for (sk, at) in [
        ("gone", Some(now - 10)),
        ("edge", Some(now)),
        ("live", Some(now + 3600)),
        ("forever", None),
    ] {
        let item = Item::new(&pk, sk, json!({"sk": sk}))
            .with_version(1)
            .expiring_at(at);
        write(&store, "put", put(item, Cond::None)).await;
    }
    assert_eq!(
        get(&store, &pk, "gone").await,
        None,
        "an expired item must be invisible"
    );
    assert_eq!(
        get(&store, &pk, "edge").await,
        None,
        "expires_at == now counts as expired"
    );
    assert!(
        get(&store, &pk, "live").await.is_some(),
        "an unexpired item must be visible"
    );

    let page = store.query(Query {
        pk: pk.clone(),
        range: SkRange::All,
        limit: 100,
        after: None,
        descending: false,
    });
    let sks: Vec<_> = page
        .await
        .expect("query")
        .items
        .into_iter()
        .map(|i| i.sk)
        .collect();
    assert_eq!(sks, ["forever", "live"], "query must skip expired items");

    for cond in [Cond::Exists, Cond::Version(1)] {
        let op = put(Item::new(&pk, "edge", json!({})), cond.clone());
        let current = condition_failed(&format!("put {cond:?} on expired"), store.write(op).await);
        assert_eq!(
            current, None,
            "{cond:?} on an expired item must report no current item"
        );
        let op = delete(&pk, "edge", cond.clone());
        let current = condition_failed(
            &format!("delete {cond:?} on expired"),
            store.write(op).await,
        );
        assert_eq!(
            current, None,
            "{cond:?} on an expired item must report no current item"
        );
    }

    let fresh = Item::new(&pk, "gone", json!({"reborn": true}));
    write(
        &store,
        "Absent over an expired item",
        put(fresh.clone(), Cond::Absent),
    )
    .await;
    assert_eq!(get(&store, &pk, "gone").await, Some(fresh));
    store
        .transact(vec![put(
            Item::new(&pk, "edge", json!({"tx": 1})),
            Cond::Absent,
        )])
        .await
        .expect("a transaction's Absent must accept an expired item");
    assert!(get(&store, &pk, "edge").await.is_some());
}

/// 100 concurrent `Add +1`s: each sees a distinct count and the total is 100; `Add` creates the
/// item with a null doc and version 0.
pub async fn store_add_counters_concurrently(store: Arc<dyn Store>) {
    let pk = unique("add");
    let tasks = (0..100).map(|_| {
        let (store, pk) = (store.clone(), pk.clone());
        tokio::spawn(async move {
            store
                .write(add(&pk, "c", &[("clicks", 1), ("value", 3)]))
                .await
        })
    });
    let mut seen = Vec::new();
    for joined in join_all(tasks).await {
        let item = joined
            .expect("adder task panicked")
            .expect("Add failed")
            .expect("Add returns the item");
        seen.push(item.counter("clicks"));
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<_>>(),
        "each Add must return the count after it"
    );

    let item = get(&store, &pk, "c")
        .await
        .expect("Add must create the item");
    assert_eq!((item.counter("clicks"), item.counter("value")), (100, 300));
    assert_eq!(
        item.doc,
        serde_json::Value::Null,
        "Add creates items with a null doc"
    );
    assert_eq!(item.version, 0, "Add creates items with version 0");
    assert_eq!(item.expires_at, None);
}

/// `Add` on an existing item keeps its doc and version, adds (also negative) deltas and sets
/// `expires_at` only when given.
pub async fn store_add_existing_item(store: Arc<dyn Store>) {
    let pk = unique("add-existing");
    let mut item = Item::new(&pk, "x", json!({"keep": true})).with_version(7);
    item.counters.insert("a".into(), 1);
    write(&store, "create", put(item, Cond::None)).await;

    let expires = now_unix() + 3600;
    let op = match add(&pk, "x", &[("a", 2), ("b", 5)]) {
        WriteOp::Add {
            pk,
            sk,
            deltas,
            cap,
            ..
        } => WriteOp::Add {
            pk,
            sk,
            deltas,
            cap,
            expires_at: Some(expires),
        },
        other => other,
    };
    let after = write(&store, "add", op)
        .await
        .expect("Add returns the item");
    assert_eq!(after.doc, json!({"keep": true}), "Add keeps the doc");
    assert_eq!(after.version, 7, "Add keeps the version");
    assert_eq!((after.counter("a"), after.counter("b")), (3, 5));
    assert_eq!(
        after.expires_at,
        Some(expires),
        "Add writes expires_at when given"
    );

    let after = write(&store, "add negative", add(&pk, "x", &[("a", -4)]))
        .await
        .expect("item");
    assert_eq!(after.counter("a"), -1);
    assert_eq!(
        after.expires_at,
        Some(expires),
        "Add without expires_at keeps the expiry"
    );
    assert_eq!(get(&store, &pk, "x").await, Some(after));
}

/// Issue 28 (1): counters add past i64 exactly (money in micro-units), in one `Add`, across
/// `Add`s and in a transaction, and read back at full width (a stored number above i64 used to
/// fail DynamoDB's codec: reports answered 500; the embedded store failed the batch forever).
pub async fn store_add_sums_past_i64(store: Arc<dyn Store>) {
    let pk = unique("add-wide");
    let big: crate::platform::store::Count = 9_000_000_000_000_000_000; // 9e12 units in micro-units
    write(&store, "first", add(&pk, "x", &[("rev_usd", big)])).await;
    let after = write(&store, "second", add(&pk, "x", &[("rev_usd", big)]))
        .await
        .expect("Add returns the item");
    assert_eq!(after.counter_wide("rev_usd"), 2 * big, "no overflow");
    assert!(after.counter_wide("rev_usd") > crate::platform::store::Count::from(i64::MAX));
    store
        .transact(vec![add(&pk, "x", &[("rev_usd", big), ("clicks", 1)])])
        .await
        .expect("a transaction adds past i64 too");
    let read = get(&store, &pk, "x").await.expect("the item reads back");
    assert_eq!(read.counter_wide("rev_usd"), 3 * big);
    assert_eq!(read.counter("clicks"), 1);
    let netted = write(&store, "reversal", add(&pk, "x", &[("rev_usd", -3 * big)]))
        .await
        .expect("item");
    assert_eq!(netted.counter_wide("rev_usd"), 0);
}

/// 20 concurrent capped `Add +1`s with max 10: exactly 10 succeed, the others fail with the
/// item at its cap.
pub async fn store_add_counter_cap(store: Arc<dyn Store>) {
    let pk = unique("cap");
    let tasks = (0..20).map(|_| {
        let (store, pk) = (store.clone(), pk.clone());
        tokio::spawn(async move {
            store
                .write(capped(add(&pk, "quota", &[("used", 1)]), "used", 10))
                .await
        })
    });
    let mut ok = 0;
    for joined in join_all(tasks).await {
        match joined.expect("adder task panicked") {
            Ok(item) => {
                ok += 1;
                let used = item.expect("Add returns the item").counter("used");
                assert!(
                    (1..=10).contains(&used),
                    "a successful capped Add saw {used}"
                );
            }
            Err(StoreError::ConditionFailed { current }) => {
                let current = current.expect("a capped Add must fail with the current item");
                assert_eq!(
                    current.counter("used"),
                    10,
                    "a capped Add may fail only at the cap"
                );
            }
            Err(e) => panic!("capped Add: unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 10, "exactly max capped increments must succeed");
    assert_eq!(
        get(&store, &pk, "quota")
            .await
            .expect("item")
            .counter("used"),
        10
    );

    let op = capped(add(&pk, "fresh", &[("used", 3)]), "used", 2);
    let current = condition_failed("cap below the first delta", store.write(op).await);
    assert_eq!(current, None);
    assert_eq!(
        get(&store, &pk, "fresh").await,
        None,
        "a failed capped Add must not create"
    );
}

/// The state `store_transact_all_or_nothing` seeds, unchanged by a cancelled transaction.
async fn assert_untouched(store: &Arc<dyn Store>, pk: &str, d1: &Item) {
    for sk in ["a", "b", "e"] {
        assert_eq!(
            get(store, pk, sk).await,
            None,
            "a cancelled transaction wrote {sk}"
        );
    }
    assert_eq!(get(store, pk, "d").await.as_ref(), Some(d1), "d changed");
    assert_eq!(
        get(store, pk, "quota")
            .await
            .expect("quota")
            .counter("used"),
        5
    );
}

/// Transactions that must fail: (index of the failing operation, the live item there, ops).
fn failing_transactions(
    pk: &str,
    d1: &Item,
    d2: &Item,
    quota: Item,
) -> Vec<(usize, Option<Item>, Vec<WriteOp>)> {
    vec![
        (
            3,
            Some(d1.clone()),
            vec![
                put(Item::new(pk, "a", json!({})), Cond::Absent),
                add(pk, "b", &[("n", 1)]),
                delete(pk, "c", Cond::None),
                put(d2.clone(), Cond::Version(2)),
                put(Item::new(pk, "e", json!({})), Cond::Absent),
            ],
        ),
        (
            0,
            None,
            vec![
                put(Item::new(pk, "e", json!({})), Cond::Exists),
                add(pk, "b", &[("n", 1)]),
            ],
        ),
        (
            1,
            Some(quota),
            vec![
                put(Item::new(pk, "a", json!({})), Cond::None),
                capped(add(pk, "quota", &[("used", 6)]), "used", 10),
            ],
        ),
    ]
}

/// A transaction with one failing condition writes nothing and names the failing operation.
pub async fn store_transact_all_or_nothing(store: Arc<dyn Store>) {
    let pk = unique("tx");
    let d1 = Item::new(&pk, "d", json!({"v": 1})).with_version(1);
    write(&store, "create d", put(d1.clone(), Cond::None)).await;
    let mut quota = Item::new(&pk, "quota", serde_json::Value::Null);
    quota.counters.insert("used".into(), 5);
    write(&store, "create quota", put(quota.clone(), Cond::None)).await;

    let d2 = Item::new(&pk, "d", json!({"v": 2})).with_version(2);
    for (index, expected_current, ops) in failing_transactions(&pk, &d1, &d2, quota) {
        match store.transact(ops).await {
            Err(StoreError::TxConflict {
                index: got,
                current,
            }) => {
                assert_eq!(
                    got, index,
                    "TxConflict must name the first failing operation"
                );
                assert_eq!(
                    current.as_deref(),
                    expected_current.as_ref(),
                    "TxConflict must carry the live item at the failing key (None if absent)"
                );
            }
            other => panic!("transaction failing at {index}: expected TxConflict, got {other:?}"),
        }
        assert_untouched(&store, &pk, &d1).await;
    }

    store
        .transact(vec![
            put(Item::new(&pk, "a", json!({"a": 1})), Cond::Absent),
            add(&pk, "b", &[("n", 2)]),
            put(d2.clone(), Cond::Version(1)),
            delete(&pk, "quota", Cond::Exists),
            capped(add(&pk, "e", &[("used", 1)]), "used", 1),
        ])
        .await
        .expect("a transaction whose conditions all hold must commit");
    assert_eq!(get(&store, &pk, "a").await.expect("a").doc, json!({"a": 1}));
    assert_eq!(get(&store, &pk, "b").await.expect("b").counter("n"), 2);
    assert_eq!(get(&store, &pk, "d").await, Some(d2));
    assert_eq!(get(&store, &pk, "quota").await, None);
    assert_eq!(get(&store, &pk, "e").await.expect("e").counter("used"), 1);
}

/// Transactions and single writes contending for one item all land, exactly once each. On
/// DynamoDB a transaction that meets another one in flight on any of its items is cancelled
/// (`TransactionConflict`) and a single write that meets one is rejected
/// (`TransactionConflictException`): nothing was written either way, so the store retries them
/// and never reports contention as a failed condition or an error while retries last.
pub async fn store_contended_writes_all_land(store: Arc<dyn Store>) {
    const TRANSACTIONS: i64 = 6;
    const SINGLE_WRITES: i64 = 6;
    let pk = unique("contended");
    let transactions = (0..TRANSACTIONS).map(|i| {
        let (store, pk) = (store.clone(), pk.clone());
        tokio::spawn(async move {
            let own = Item::new(&pk, format!("own-{i}"), json!({ "i": i }));
            store
                .transact(vec![put(own, Cond::Absent), add(&pk, "hot", &[("n", 1)])])
                .await
        })
    });
    let single_writes = (0..SINGLE_WRITES).map(|_| {
        let (store, pk) = (store.clone(), pk.clone());
        tokio::spawn(async move { store.write(add(&pk, "hot", &[("n", 100)])).await.map(drop) })
    });
    let (transactions, single_writes) =
        futures::join!(join_all(transactions), join_all(single_writes));
    for (what, joined) in transactions
        .into_iter()
        .map(|j| ("transaction", j))
        .chain(single_writes.into_iter().map(|j| ("single write", j)))
    {
        let result = joined.expect("writer task panicked");
        assert!(
            result.is_ok(),
            "a contended {what} must be retried until it lands: {result:?}"
        );
    }
    let hot = get(&store, &pk, "hot").await.expect("the contended item");
    assert_eq!(
        hot.counter("n"),
        TRANSACTIONS + 100 * SINGLE_WRITES,
        "every contended write landed exactly once"
    );
    for i in 0..TRANSACTIONS {
        let own = get(&store, &pk, &format!("own-{i}")).await;
        assert_eq!(own.map(|item| item.doc), Some(json!({ "i": i })));
    }
}

/// Transactions over the operation limit or touching a key twice are rejected as invalid.
pub async fn store_transact_rejects_invalid(store: Arc<dyn Store>) {
    let pk = unique("tx-invalid");
    let twice = vec![
        add(&pk, "a", &[("n", 1)]),
        put(Item::new(&pk, "a", json!({})), Cond::None),
    ];
    expect_invalid("a key twice", store.transact(twice).await);
    let too_many = (0..=MAX_TRANSACT_OPS)
        .map(|i| add(&pk, &format!("k{i:03}"), &[("n", 1)]))
        .collect();
    expect_invalid("too many operations", store.transact(too_many).await);
    assert_eq!(
        get(&store, &pk, "a").await,
        None,
        "a rejected transaction must not write"
    );
    assert_eq!(
        get(&store, &pk, "k000").await,
        None,
        "a rejected transaction must not write"
    );
}

/// A `Check` writes nothing and holds a transaction to another item's state: the transaction
/// commits when the checked item is as the condition says, and is a `TxConflict` naming the
/// check (with the live item) otherwise; outside a transaction, or with no condition, it is
/// refused as invalid.
pub async fn store_transact_check(store: Arc<dyn Store>) {
    let pk = unique("tx-check");
    let watched = Item::new(&pk, "watched", json!({"v": 1})).with_version(3);
    write(&store, "create watched", put(watched.clone(), Cond::None)).await;
    let check = |sk: &str, cond: Cond| WriteOp::Check {
        pk: pk.clone(),
        sk: sk.into(),
        cond,
    };
    for (what, op) in [
        ("absent on a live item", check("watched", Cond::Absent)),
        ("an old version", check("watched", Cond::Version(2))),
        ("exists on a missing item", check("missing", Cond::Exists)),
    ] {
        let ops = vec![put(Item::new(&pk, "w", json!({})), Cond::None), op];
        match store.transact(ops).await {
            Err(StoreError::TxConflict { index: 1, .. }) => {}
            other => panic!("a check of {what} must fail its transaction: {other:?}"),
        }
        assert_eq!(get(&store, &pk, "w").await, None, "{what}: nothing written");
    }
    store
        .transact(vec![
            put(Item::new(&pk, "w", json!({"ok": true})), Cond::Absent),
            check("watched", Cond::Version(3)),
            check("missing", Cond::Absent),
        ])
        .await
        .expect("checks that hold let the transaction commit");
    assert_eq!(
        get(&store, &pk, "w").await.expect("w").doc,
        json!({"ok": true})
    );
    assert_eq!(
        get(&store, &pk, "watched").await,
        Some(watched),
        "a check writes nothing"
    );
    assert_eq!(
        get(&store, &pk, "missing").await,
        None,
        "a check creates nothing"
    );
    expect_invalid(
        "a check alone",
        store.write(check("watched", Cond::Exists)).await,
    );
    expect_invalid(
        "a check with no condition",
        store.transact(vec![check("watched", Cond::None)]).await,
    );
}

/// A `SetDoc` replaces an existing item's document, version and expiry and keeps the counters
/// added since the caller read it; on a missing item or an old version it fails its
/// transaction, writing nothing; alone, or with a condition that does not name an existing
/// item, it is refused as invalid.
pub async fn store_set_doc_keeps_counters(store: Arc<dyn Store>) {
    let pk = unique("set-doc");
    write(
        &store,
        "create",
        put(
            Item::new(&pk, "c", json!({"to": "a"})).with_version(1),
            Cond::None,
        ),
    )
    .await;
    write(&store, "count", add(&pk, "c", &[("n", 2)])).await;
    let read = get(&store, &pk, "c").await.expect("c");
    // A writer adds after the read.
    write(&store, "count again", add(&pk, "c", &[("n", 5)])).await;
    let set = |sk: &str, cond: Cond| WriteOp::SetDoc {
        item: Item::new(&pk, sk, json!({"to": "b"})).with_version(read.version + 1),
        cond,
    };
    for (what, op) in [
        ("an old version", set("c", Cond::Version(0))),
        ("a missing item", set("missing", Cond::Exists)),
    ] {
        let ops = vec![put(Item::new(&pk, "w", json!({})), Cond::None), op];
        match store.transact(ops).await {
            Err(StoreError::TxConflict { index: 1, .. }) => {}
            other => panic!("a SetDoc on {what} must fail its transaction: {other:?}"),
        }
        assert_eq!(get(&store, &pk, "w").await, None, "{what}: nothing written");
    }
    assert_eq!(
        get(&store, &pk, "missing").await,
        None,
        "a SetDoc creates nothing"
    );
    let mut with_delta = set("c", Cond::Version(read.version));
    if let WriteOp::SetDoc { item, .. } = &mut with_delta {
        item.counters.insert("n".into(), 10);
        item.counters.insert("m".into(), -1);
    }
    store
        .transact(vec![with_delta])
        .await
        .expect("a SetDoc at the version read");
    let now = get(&store, &pk, "c").await.expect("c");
    assert_eq!(now.doc, json!({"to": "b"}));
    assert_eq!(now.version, read.version + 1);
    assert_eq!(
        now.counter("n"),
        17,
        "the add made after the read is kept, its delta added"
    );
    assert_eq!(now.counter("m"), -1, "a delta on a new counter");
    expect_invalid("a SetDoc alone", store.write(set("c", Cond::Exists)).await);
    expect_invalid(
        "a SetDoc with no condition",
        store.transact(vec![set("c", Cond::None)]).await,
    );
}

/// 25 live `item#NN` items, two `other#` items, two expired items and a neighbouring
/// partition: what `store_query_ranges_and_pagination` reads. Returns the live item keys.
async fn seed_query_partition(store: &Arc<dyn Store>, pk: &str) -> Vec<String> {
    let item_sks: Vec<String> = (0..25).map(|i| format!("item#{i:02}")).collect();
    let mut ops: Vec<WriteOp> = item_sks
        .iter()
        .enumerate()
        .map(|(i, sk)| put(Item::new(pk, sk.as_str(), json!({"i": i})), Cond::None))
        .collect();
    ops.push(put(Item::new(pk, "other#1", json!({})), Cond::None));
    ops.push(put(Item::new(pk, "other#2", json!({})), Cond::None));
    ops.push(put(
        Item::new(pk, "item#05x", json!({})).expiring_at(Some(now_unix() - 5)),
        Cond::None,
    ));
    ops.push(put(
        Item::new(pk, "item#99", json!({})).expiring_at(Some(now_unix() - 5)),
        Cond::None,
    ));
    ops.push(put(
        Item::new(format!("{pk}x"), "item#00", json!({})),
        Cond::None,
    ));
    ops.push(put(
        Item::new(format!("{pk}x"), "item#30", json!({})),
        Cond::None,
    ));
    let writes = ops.into_iter().map(|op| {
        let store = store.clone();
        async move { store.write(op).await.expect("seeding the query partition") }
    });
    join_all(writes).await;

    item_sks
}

/// Inclusive `Between` ranges both ways, and `All` (every live item of the partition).
async fn check_between_and_all(store: &Arc<dyn Store>, pk: &str, item_sks: &[String]) {
    let query = |range: SkRange, limit: usize, descending: bool| Query {
        pk: pk.to_owned(),
        range,
        limit,
        after: None,
        descending,
    };
    let between = || SkRange::Between("item#05".into(), "item#14".into());
    let expected: Vec<String> = item_sks[5..=14].to_vec();
    assert_eq!(
        query_all(store, "between", query(between(), 4, false)).await,
        expected,
        "between is inclusive"
    );
    let mut expected_rev = expected;
    expected_rev.reverse();
    assert_eq!(
        query_all(store, "between descending", query(between(), 3, true)).await,
        expected_rev
    );

    let mut all = item_sks.to_vec();
    all.extend(["other#1".to_owned(), "other#2".to_owned()]);
    assert_eq!(
        query_all(store, "all", query(SkRange::All, 7, false)).await,
        all
    );
}

/// Prefix, between, descending and paginated queries return every live item exactly once, in
/// sort-key order, from the queried partition only.
pub async fn store_query_ranges_and_pagination(store: Arc<dyn Store>) {
    let pk = unique("query");
    let item_sks = seed_query_partition(&store, &pk).await;

    let query = |range: SkRange, limit: usize, descending: bool| Query {
        pk: pk.clone(),
        range,
        limit,
        after: None,
        descending,
    };
    let prefix = || SkRange::Prefix("item#".into());

    let first = store
        .query(query(prefix(), 10, false))
        .await
        .expect("query");
    assert_eq!(
        first.items.len(),
        10,
        "a first page must be full when more items exist"
    );
    assert_eq!(
        first.items[0].doc,
        json!({"i": 0}),
        "query returns whole items"
    );
    assert_eq!(
        first.next.as_deref(),
        Some("item#09"),
        "next is the last returned sort key"
    );

    let ascending = query_all(&store, "prefix ascending", query(prefix(), 10, false)).await;
    assert_eq!(
        ascending, item_sks,
        "prefix pages must yield all items once, in order"
    );

    let mut reversed = item_sks.clone();
    reversed.reverse();
    let descending = query_all(&store, "prefix descending", query(prefix(), 10, true)).await;
    assert_eq!(
        descending, reversed,
        "descending pages must yield all items in reverse order"
    );

    check_between_and_all(&store, &pk, &item_sks).await;

    let mut resumed = query(prefix(), 10, false);
    resumed.after = Some("item#19".into());
    assert_eq!(
        query_all(&store, "after", resumed).await,
        item_sks[20..].to_vec(),
        "after is exclusive"
    );
    let mut resumed = query(prefix(), 10, true);
    resumed.after = Some("item#05".into());
    let mut head = item_sks[..5].to_vec();
    head.reverse();
    assert_eq!(query_all(&store, "after descending", resumed).await, head);

    let none = store
        .query(query(SkRange::Prefix("nothing#".into()), 10, false))
        .await
        .expect("query");
    assert_eq!(
        (none.items.len(), none.next),
        (0, None),
        "an empty range yields an empty last page"
    );
}

/// Query limits outside 1..=1000 are invalid.
pub async fn store_query_rejects_bad_limits(store: Arc<dyn Store>) {
    let pk = unique("limits");
    for limit in [0, 1001] {
        let q = Query {
            pk: pk.clone(),
            range: SkRange::All,
            limit,
            after: None,
            descending: false,
        };
        expect_invalid(&format!("limit {limit}"), store.query(q).await);
    }
    let q = Query {
        pk,
        range: SkRange::All,
        limit: 1000,
        after: None,
        descending: false,
    };
    store.query(q).await.expect("limit 1000 is valid");
}

// ---------------------------------------------------------------------------------------------
// Queue checks

/// One `receive` call, keeping only messages tagged with `marker` (others are leftovers of
/// earlier runs: acked and dropped).
async fn receive_mine(
    queue: &Arc<dyn Queue>,
    name: QueueName,
    marker: &str,
    visibility: Duration,
) -> Vec<Received> {
    let got = queue
        .receive(name, 10, visibility)
        .await
        .expect("receive failed");
    let mut mine = Vec::new();
    for message in got {
        if message.body.contains(marker) {
            mine.push(message);
        } else {
            let _ = queue.ack(name, &message.receipt).await;
        }
    }
    mine
}

/// Receives until `want` of our messages arrived; fails after `limit` naming `what` and how
/// many had. The limits are the checks' own: what each backend must meet.
async fn poll_mine(
    queue: &Arc<dyn Queue>,
    name: QueueName,
    marker: &str,
    want: usize,
    what: &str,
    visibility: Duration,
    limit: Duration,
) -> Vec<Received> {
    let mine = &std::cell::RefCell::new(Vec::new());
    eventually_within(what, limit, move || async move {
        let got = receive_mine(queue, name, marker, visibility).await;
        let mut mine = mine.borrow_mut();
        mine.extend(got);
        if mine.len() >= want {
            Ok(std::mem::take(&mut *mine))
        } else {
            Err(format!("{} of {want} received", mine.len()))
        }
    })
    .await
}

/// Every one of our messages received over `window`: for the checks that something does not
/// come (again), where waiting out the window is the check.
async fn watch_mine(
    queue: &Arc<dyn Queue>,
    name: QueueName,
    marker: &str,
    visibility: Duration,
    window: Duration,
) -> Vec<Received> {
    let start = Instant::now();
    let mut mine = Vec::new();
    while start.elapsed() < window {
        mine.extend(receive_mine(queue, name, marker, visibility).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mine
}

async fn ack(queue: &Arc<dyn Queue>, name: QueueName, receipt: &str) {
    queue
        .ack(name, receipt)
        .await
        .unwrap_or_else(|e| panic!("ack failed: {e:?}"));
}

/// Send, receive (first delivery, count 1), ack; an acked message never comes back.
pub async fn queue_send_receive_ack(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-basic");
    let body = format!("{{\"marker\":\"{marker}\",\"text\":\"hello ✓\"}}");
    queue
        .send(name, vec![OutMessage::now(&body)])
        .await
        .expect("send failed");

    let got = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the sent message",
        Duration::from_secs(1),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        got.len(),
        1,
        "a sent message must be received once, got {got:?}"
    );
    let message = &got[0];
    assert_eq!(message.body, body, "the body must round-trip unchanged");
    assert_eq!(
        message.receive_count, 1,
        "first delivery has receive_count 1"
    );
    assert!(!message.message_id.is_empty() && !message.receipt.is_empty());
    ack(&queue, name, &message.receipt).await;

    // Past the 1 s visibility timeout an unacked message would be back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = watch_mine(
        &queue,
        name,
        &marker,
        Duration::from_secs(1),
        Duration::from_secs(1),
    )
    .await;
    assert!(
        again.is_empty(),
        "an acked message was delivered again: {again:?}"
    );
}

/// A delayed message stays invisible until its delay has passed, then arrives.
pub async fn queue_delayed_message(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-delay");
    let sent = Instant::now();
    queue
        .send(
            name,
            vec![OutMessage::delayed(&marker, Duration::from_secs(2))],
        )
        .await
        .expect("send failed");
    let got = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the delayed message, once its delay passed",
        Duration::from_secs(30),
        Duration::from_secs(15),
    )
    .await;
    let waited = sent.elapsed();
    assert_eq!(
        got.len(),
        1,
        "a delayed message must arrive once its delay passed"
    );
    assert!(
        waited >= Duration::from_millis(1500),
        "a 2 s delayed message arrived after {waited:?}"
    );
    ack(&queue, name, &got[0].receipt).await;
}

/// An unacked message is hidden during its visibility timeout, then delivered again with a
/// higher receive_count and a new receipt.
pub async fn queue_visibility_redelivery(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-visibility");
    queue
        .send(name, vec![OutMessage::now(&marker)])
        .await
        .expect("send failed");
    let first = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the message",
        Duration::from_secs(2),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(first.len(), 1, "the message must be received");
    let received_at = Instant::now();

    let hidden = receive_mine(&queue, name, &marker, Duration::from_secs(30)).await;
    assert!(
        hidden.is_empty(),
        "an in-flight message must be invisible: {hidden:?}"
    );

    let second = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the unacked message again, after its visibility timeout",
        Duration::from_secs(30),
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(
        second.len(),
        1,
        "an unacked message must come back after its visibility timeout"
    );
    assert!(
        received_at.elapsed() >= Duration::from_millis(1000),
        "redelivered after {:?}, before the 2 s visibility timeout",
        received_at.elapsed()
    );
    assert_eq!(
        second[0].message_id, first[0].message_id,
        "a redelivery is the same message"
    );
    assert_eq!(
        second[0].receive_count, 2,
        "a redelivery increments receive_count"
    );
    assert_ne!(
        second[0].receipt, first[0].receipt,
        "each delivery has its own receipt"
    );
    ack(&queue, name, &second[0].receipt).await;
}

/// Acking a stale receipt (the message was received again since) is harmless: `Ok`.
pub async fn queue_stale_receipt_ack(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-stale");
    queue
        .send(name, vec![OutMessage::now(&marker)])
        .await
        .expect("send failed");
    let first = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the message",
        Duration::from_secs(1),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(first.len(), 1, "the message must be received");
    let second = poll_mine(
        &queue,
        name,
        &marker,
        1,
        "the message again, after its visibility timeout",
        Duration::from_secs(30),
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(second.len(), 1, "the message must be received again");
    assert_eq!(second[0].receive_count, 2);

    ack(&queue, name, &first[0].receipt).await;
    ack(&queue, name, &second[0].receipt).await;
    ack(&queue, name, &second[0].receipt).await;
}

/// 25 messages sent in one call are all received.
pub async fn queue_batch_send(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-batch");
    let bodies: BTreeSet<String> = (0..25).map(|i| format!("{marker} #{i}")).collect();
    let messages = bodies.iter().map(OutMessage::now).collect();
    queue.send(name, messages).await.expect("batch send failed");
    let got = poll_mine(
        &queue,
        name,
        &marker,
        25,
        "every message of the batch",
        Duration::from_secs(30),
        Duration::from_secs(20),
    )
    .await;
    for message in &got {
        ack(&queue, name, &message.receipt).await;
    }
    let received: BTreeSet<String> = got.into_iter().map(|m| m.body).collect();
    assert_eq!(
        received, bodies,
        "every message of a batch must be received"
    );
}

/// 50 concurrent single-message senders: every message is received.
pub async fn queue_concurrent_senders(queue: Arc<dyn Queue>, name: QueueName) {
    let marker = unique("q-concurrent");
    let bodies: BTreeSet<String> = (0..50).map(|i| format!("{marker} #{i}")).collect();
    let sends = bodies.iter().map(|body| {
        let (queue, body) = (queue.clone(), body.clone());
        tokio::spawn(async move { queue.send(name, vec![OutMessage::now(body)]).await })
    });
    for joined in join_all(sends).await {
        joined.expect("sender task panicked").expect("send failed");
    }
    let got = poll_mine(
        &queue,
        name,
        &marker,
        50,
        "every concurrently sent message",
        Duration::from_secs(30),
        Duration::from_secs(20),
    )
    .await;
    for message in &got {
        ack(&queue, name, &message.receipt).await;
    }
    let received: BTreeSet<String> = got.into_iter().map(|m| m.body).collect();
    assert_eq!(
        received, bodies,
        "every concurrently sent message must be received"
    );
}
