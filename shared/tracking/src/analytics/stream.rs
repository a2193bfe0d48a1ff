//! The aggregator on the click stream: a shard's batch of events becomes counter increments
//! exactly once, with no write per event.
//!
//! The consumer of a shard keeps ONE checkpoint item (the last sequence number applied). A batch
//! is summed in memory and written in ONE transaction: one `Add` per distinct counter item plus
//! the checkpoint, advanced under its version. A batch delivered again (a retried invocation, a
//! replay, a restart after kill -9) finds its records at or below the checkpoint and skips them;
//! two consumers racing on one shard conflict on the checkpoint and the loser re-reads it. So a
//! record is applied at most once, and (the checkpoint moving only with its counters) at least
//! once. Counter items are the shard's own parts (`keys::analytics_shard_sk`): two shards never
//! write one item. A batch whose counters exceed one transaction is applied in consecutive
//! chunks, each advancing the checkpoint to its last record.
//!
//! The same click appended twice (a producer's `PutRecord` that landed though its answer was
//! lost or late, then sent again; a parked click relayed by the events worker after one of the
//! redirect's "failed" appends had landed) is counted once whichever batches its copies fall
//! in and however far apart: each chunk also records the fingerprints of the clicks it counted
//! (`analytics::seen`), and a copy whose fingerprint is there is skipped. Other events (every
//! one reaches the stream through an at-least-once relay) are counted under a processed-event
//! marker (`Contribution::marked`).
//!
//! A record that cannot be applied (unreadable, or refused by the store for itself) is set
//! aside, never retried forever: the batch is bisected down to it, and it goes to the dead
//! letters (`poison`) in the transaction that moves the checkpoint past it.
//!
//! Round trips per batch: ONE checkpoint read, ONE query per minute of clicks the consumer has
//! not cached (`analytics::seen`; none on a warm consumer but for a new minute), ONE marker
//! read per relayed conversion or reversal, then per chunk (usually one) ONE put of the
//! fingerprints of its clicks (~11 bytes each; two puts when it spans a minute) and ONE
//! transaction.
//! A poisoned batch adds about 2 log2(n) attempts, then ONE transaction per poisoned record.

use std::collections::{BTreeMap, HashSet};

use futures::future::BoxFuture;

use super::aggregate::{CONSUMER as MARKER_CONSUMER, Contribution, contribution, marker};
use super::checkpoint::advance;
pub use super::checkpoint::{CONSUMER, Checkpoint, Parsed, checkpoint};
use super::poison;
use super::seen::{self, ClickMark, Seen};
use crate::kernel::events::EventType;
use crate::platform::store::{MAX_TRANSACT_OPS, Store, StoreError, WriteOp, keys, now_unix};

/// Checkpoint reads and applies before a shard is reported busy (another consumer keeps
/// winning the race for it).
const MAX_ROUNDS: usize = 8;

/// Applies a shard's records (in shard order) to the counters, each exactly once; a record that
/// cannot be applied goes to the dead letters and the rest carry on. `Err`: transient (the
/// store unavailable, the shard busy), nothing applied twice when the batch comes again.
pub async fn apply(
    store: &dyn Store,
    seen: &Seen,
    shard: &str,
    records: &[Parsed],
) -> Result<(), StoreError> {
    apply_bisecting(store, seen, shard, records).await
}

/// [`apply_all`]; when the store refuses the batch for what is in it (not a transient failure),
/// each half is applied alone, down to the single record, which is set aside with the reason.
fn apply_bisecting<'a>(
    store: &'a dyn Store,
    seen: &'a Seen,
    shard: &'a str,
    records: &'a [Parsed],
) -> BoxFuture<'a, Result<(), StoreError>> {
    Box::pin(async move {
        let err = match apply_all(store, seen, shard, records).await {
            Err(e) if poison::is_poison(&e) => e,
            other => return other,
        };
        match records {
            [] => Ok(()),
            [one] => poison::set_aside(store, shard, one, &err.to_string()).await,
            _ => {
                let (first, second) = records.split_at(records.len() / 2);
                apply_bisecting(store, seen, shard, first).await?;
                apply_bisecting(store, seen, shard, second).await
            }
        }
    })
}

/// Every record after the checkpoint, in chunks, re-reading the checkpoint on a conflict. An
/// unreadable record fails the chunk it is in (as poison), so bisection sets it aside.
async fn apply_all(
    store: &dyn Store,
    seen: &Seen,
    shard: &str,
    records: &[Parsed],
) -> Result<(), StoreError> {
    for _ in 0..MAX_ROUNDS {
        let mut at = checkpoint(store, shard).await?;
        let fresh: Vec<&Parsed> = records
            .iter()
            .filter(|r| at.is_after(&r.sequence))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        if let Some(bad) = fresh.iter().find_map(|r| r.event.as_ref().err()) {
            return Err(StoreError::Invalid(bad.clone()));
        }
        let marks: Vec<Option<ClickMark>> = fresh.iter().map(|r| click_mark(r)).collect();
        let known: Vec<&ClickMark> = marks.iter().flatten().collect();
        seen.prepare(store, shard, &at, &known).await?;
        let mut planned = drop_counted(store, planned(&fresh, marks, seen, shard)).await?;
        let counted = planned.iter_mut().filter_map(|p| p.counted.as_mut());
        super::visitors::cap_cities(store, counted.map(|c| &mut c.keys)).await?;
        match apply_fresh(store, seen, shard, planned, &mut at).await {
            Ok(()) => return Ok(()),
            // Another consumer moved the checkpoint, or counted a relayed event (its marker):
            // read both again.
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!(
        "shard {shard}: the checkpoint kept moving under this consumer"
    )))
}

/// A click's dedupe coordinates; `None` for other events.
fn click_mark(record: &Parsed) -> Option<ClickMark> {
    let event = record.event.as_ref().ok()?;
    (event.kind == EventType::LinkClicked)
        .then(|| ClickMark::of(event.id.as_str(), &event.created_at))
}

/// The chunks of the fresh records, each committed with the checkpoint at its last record and
/// the fingerprints of the clicks it counted.
async fn apply_fresh(
    store: &dyn Store,
    seen: &Seen,
    shard: &str,
    planned: Vec<Planned>,
    at: &mut Checkpoint,
) -> Result<(), StoreError> {
    let now = now_unix();
    for chunk in chunks(planned) {
        let last = &chunk.last().expect("chunks are never empty").sequence;
        let next = at.version + 1;
        let counted = || chunk.iter().filter_map(|p| p.counted.as_ref());
        let marks: Vec<&ClickMark> = chunk.iter().filter_map(|p| p.mark.as_ref()).collect();
        let mut ops = sums(&shard_tag(shard), counted());
        ops.extend(
            counted()
                .filter(|c| c.marked)
                .map(|c| marker(&c.event_id, now)),
        );
        ops.extend(counted().flat_map(Contribution::record_ops));
        ops.push(advance(shard, last, at, next));
        // The fingerprints first (they count once the checkpoint passes them), then the chunk.
        let fingerprints = seen::items(shard, last, &marks, now).into_iter();
        futures::future::try_join_all(fingerprints.map(|op| store.write(op))).await?;
        store.transact(ops).await?;
        seen.committed(shard, at.version, next, &marks);
        *at = Checkpoint {
            sequence: Some(last.clone()),
            version: next,
        };
    }
    Ok(())
}

/// One fresh record: what it counts (`None` when analytics does not count it, or it was
/// counted before) and, for a click it counts, its fingerprint to record.
struct Planned {
    sequence: String,
    counted: Option<Contribution>,
    mark: Option<ClickMark>,
}

/// Each fresh record with what it counts. A click counted before on this shard (`seen`) or an
/// event earlier in the batch (a producer's retried append, a relayed parked click) counts
/// nothing.
fn planned(
    fresh: &[&Parsed],
    marks: Vec<Option<ClickMark>>,
    seen: &Seen,
    shard: &str,
) -> Vec<Planned> {
    let mut in_batch: HashSet<&str> = HashSet::new();
    fresh
        .iter()
        .zip(marks)
        .map(|(r, mark)| {
            let counted_before = mark.as_ref().is_some_and(|m| seen.contains(shard, m));
            let counted = r
                .event
                .as_ref()
                .ok()
                .filter(|e| in_batch.insert(e.id.as_str()) && !counted_before)
                .and_then(contribution);
            Planned {
                sequence: r.sequence.clone(),
                mark: mark.filter(|_| counted.is_some()),
                counted,
            }
        })
        .collect()
}

/// Takes out the marked contributions (events an at-least-once relay appended, see
/// `Contribution::marked`) whose processed-event marker exists: already counted, by an earlier
/// batch or by the events queue's aggregator. ONE read per marked event (conversions: rare).
async fn drop_counted(
    store: &dyn Store,
    planned: Vec<Planned>,
) -> Result<Vec<Planned>, StoreError> {
    let reads = planned.iter().map(|p| async move {
        match p.counted.as_ref().filter(|c| c.marked) {
            Some(c) => {
                let (pk, sk) = keys::processed_event(MARKER_CONSUMER, &c.event_id);
                Ok(store.get(&pk, &sk).await?.is_some())
            }
            None => Ok::<bool, StoreError>(false),
        }
    });
    let counted = futures::future::try_join_all(reads).await?;
    Ok(planned
        .into_iter()
        .zip(counted)
        .map(|(mut p, counted)| {
            if counted {
                p.counted = None;
            }
            p
        })
        .collect())
}

/// Consecutive runs of records whose distinct counter items and markers, plus the checkpoint,
/// fit one transaction.
fn chunks(planned: Vec<Planned>) -> Vec<Vec<Planned>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Planned> = Vec::new();
    let mut items: HashSet<(String, String)> = HashSet::new();
    let mut markers = 0;
    for p in planned {
        let (new, marks) = p.counted.as_ref().map_or((0, 0), |c| {
            let new = c.keys.iter().filter(|k| !items.contains(*k)).count();
            // A record is its own write, counted with the markers.
            (new, usize::from(c.marked) + c.records.len())
        });
        if !current.is_empty() && items.len() + markers + new + marks + 1 > MAX_TRANSACT_OPS {
            chunks.push(std::mem::take(&mut current));
            items.clear();
            markers = 0;
        }
        if let Some(c) = &p.counted {
            items.extend(c.keys.iter().cloned());
            markers += marks;
        }
        current.push(p);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// A shard's short name in counter keys: `shardId-000000000003` → `3` (no `#`, which ends it).
pub fn shard_tag(shard: &str) -> String {
    let digits = shard.len() - shard.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let number = shard[shard.len() - digits..].trim_start_matches('0');
        return if number.is_empty() { "0" } else { number }.to_owned();
    }
    shard.replace('#', "_")
}

/// One summed `Add` per counter item, on the shard's own part of it.
fn sums<'a>(shard: &str, contributions: impl Iterator<Item = &'a Contribution>) -> Vec<WriteOp> {
    let mut sums: BTreeMap<(String, String), BTreeMap<String, crate::platform::store::Count>> =
        BTreeMap::new();
    for c in contributions {
        for key in &c.keys {
            let counters = sums.entry(key.clone()).or_default();
            for (name, delta) in &c.deltas {
                // i128: a batch's sum of capped values (≤ 10^15 each) is far inside it; pinned
                // at the bound rather than wrapped, were it ever reached.
                let sum = counters.entry(name.clone()).or_default();
                *sum = sum.saturating_add(*delta);
            }
        }
    }
    sums.into_iter()
        .map(|((pk, sk), counters)| WriteOp::Add {
            pk,
            sk: keys::analytics_shard_sk(&sk, shard),
            deltas: counters.into_iter().filter(|(_, d)| *d != 0).collect(),
            cap: None,
            expires_at: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::stream::StreamRecord;
    use crate::testing::conformance_stream::{click_event, clicks_by_country};

    fn records(first: u64, events: &[String]) -> Vec<Parsed> {
        (first..)
            .zip(events)
            .map(|(seq, data)| {
                Parsed::new(StreamRecord {
                    sequence: format!("{seq:020}"),
                    data: data.clone(),
                })
            })
            .collect()
    }

    /// A chunk's fingerprints are written before its transaction: when the transaction then
    /// fails, they must not make its clicks look counted. They count only once the checkpoint
    /// has passed them.
    #[tokio::test]
    async fn fingerprints_of_a_chunk_that_never_committed_hide_nothing() {
        let store = crate::platform::store::embedded::EmbeddedStore::in_memory();
        let first = records(1, &[click_event("acme", "US")]);
        apply(&store, &Seen::default(), "shard-0", &first)
            .await
            .unwrap();
        let click = click_event("acme", "DE");
        let batch = records(2, std::slice::from_ref(&click));
        // The fingerprints of a chunk ending at sequence 2, whose transaction failed.
        let mark = click_mark(&batch[0]).unwrap();
        for op in seen::items("shard-0", &batch[0].sequence, &[&mark], now_unix()) {
            store.write(op).await.unwrap();
        }
        apply(&store, &Seen::default(), "shard-0", &batch)
            .await
            .unwrap();
        let clicks =
            clicks_by_country(&store, &crate::domain::Handle::parse("acme").unwrap()).await;
        assert_eq!(clicks.get("DE"), Some(&1), "{clicks:?}");
    }

    /// Issue 42: the window this replaced forgot a click after 5 minutes or 4,096 counted
    /// clicks, so a parked copy relayed later counted twice. Now a copy counts once however
    /// many clicks came between, by a consumer that restarted (it remembers nothing) too.
    #[tokio::test]
    async fn a_copy_thousands_of_clicks_later_counts_once() {
        let store = crate::platform::store::embedded::EmbeddedStore::in_memory();
        let original = click_event("acme", "DE");
        let others: Vec<String> = (0..5_000).map(|_| click_event("acme", "US")).collect();
        let warm = Seen::default();
        apply(
            &store,
            &warm,
            "shard-0",
            &records(1, std::slice::from_ref(&original)),
        )
        .await
        .unwrap();
        apply(&store, &warm, "shard-0", &records(2, &others))
            .await
            .unwrap();
        let copy = records(6_000, std::slice::from_ref(&original));
        apply(&store, &warm, "shard-0", &copy).await.unwrap();
        let copy = records(6_001, std::slice::from_ref(&original));
        apply(&store, &Seen::default(), "shard-0", &copy)
            .await
            .unwrap();
        let clicks =
            clicks_by_country(&store, &crate::domain::Handle::parse("acme").unwrap()).await;
        assert_eq!(
            (clicks.get("DE"), clicks.get("US")),
            (Some(&1), Some(&5_000))
        );
    }

    #[test]
    fn shard_tags_are_short_and_never_hold_a_hash() {
        assert_eq!(shard_tag("shardId-000000000003"), "3");
        assert_eq!(shard_tag("shardId-000000000000"), "0");
        assert_eq!(shard_tag("shard-0"), "0");
        assert_eq!(shard_tag("a#b"), "a_b");
    }
}
