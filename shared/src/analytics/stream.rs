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
//! The same event appended twice (a producer's `PutRecord` that landed though its answer was
//! lost, then retried; a parked click relayed by the events worker after one of the redirect's
//! "failed" appends had landed) is counted once whichever batches its copies fall in: the
//! checkpoint also holds the ids counted in the last [`RECENT_SECS`] (at most [`RECENT_CAP`]),
//! and a copy whose id is there is skipped. Copies further apart are caught by markers only
//! where the event carries one (relayed conversions and parked clicks, `Contribution::marked`).
//!
//! A record that cannot be applied (unreadable, or refused by the store for itself) is set
//! aside, never retried forever: the batch is bisected down to it, and it goes to the dead
//! letters (`poison`) in the transaction that moves the checkpoint past it.
//!
//! Round trips per batch: ONE checkpoint read, ONE marker read per marked event (conversions,
//! parked clicks; none for the stream's own clicks), then ONE transaction per chunk (usually
//! one). Cost of the window: the checkpoint item grows by about 40 bytes per click counted in
//! the last five minutes (capped near 160 KB), written once per chunk: 1 write unit per KB.
//! A poisoned batch adds about 2 log2(n) attempts, then ONE transaction per poisoned record.

use std::collections::{BTreeMap, HashSet};

use futures::future::BoxFuture;

use super::aggregate::{CONSUMER as MARKER_CONSUMER, Contribution, contribution, marker};
use super::checkpoint::advance;
pub use super::checkpoint::{CONSUMER, Checkpoint, Parsed, RECENT_CAP, RECENT_SECS, checkpoint};
use super::poison;
use crate::store::{MAX_TRANSACT_OPS, Store, StoreError, WriteOp, keys, now_unix};

/// Checkpoint reads and applies before a shard is reported busy (another consumer keeps
/// winning the race for it).
const MAX_ROUNDS: usize = 8;

/// Applies a shard's records (in shard order) to the counters, each exactly once; a record that
/// cannot be applied goes to the dead letters and the rest carry on. `Err`: transient (the
/// store unavailable, the shard busy), nothing applied twice when the batch comes again.
pub async fn apply(store: &dyn Store, shard: &str, records: &[Parsed]) -> Result<(), StoreError> {
    apply_bisecting(store, shard, records).await
}

/// [`apply_all`]; when the store refuses the batch for what is in it (not a transient failure),
/// each half is applied alone, down to the single record, which is set aside with the reason.
fn apply_bisecting<'a>(
    store: &'a dyn Store,
    shard: &'a str,
    records: &'a [Parsed],
) -> BoxFuture<'a, Result<(), StoreError>> {
    Box::pin(async move {
        let err = match apply_all(store, shard, records).await {
            Err(e) if poison::is_poison(&e) => e,
            other => return other,
        };
        match records {
            [] => Ok(()),
            [one] => poison::set_aside(store, shard, one, &err.to_string()).await,
            _ => {
                let (first, second) = records.split_at(records.len() / 2);
                apply_bisecting(store, shard, first).await?;
                apply_bisecting(store, shard, second).await
            }
        }
    })
}

/// Every record after the checkpoint, in chunks, re-reading the checkpoint on a conflict. An
/// unreadable record fails the chunk it is in (as poison), so bisection sets it aside.
async fn apply_all(store: &dyn Store, shard: &str, records: &[Parsed]) -> Result<(), StoreError> {
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
        let planned = drop_counted(store, planned(&fresh, &at)).await?;
        match apply_fresh(store, shard, planned, &mut at).await {
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

/// The chunks of the fresh records, each committed with the checkpoint at its last record.
async fn apply_fresh(
    store: &dyn Store,
    shard: &str,
    planned: Vec<Planned>,
    at: &mut Checkpoint,
) -> Result<(), StoreError> {
    let now = now_unix();
    for chunk in chunks(planned) {
        let last = &chunk.last().expect("chunks are never empty").0;
        let next = at.version + 1;
        let counted = || chunk.iter().filter_map(|(_, c)| c.as_ref());
        let mut ops = sums(&shard_tag(shard), counted());
        ops.extend(
            counted()
                .filter(|c| c.marked)
                .map(|c| marker(&c.event_id, now)),
        );
        let recent = at.window_with(counted().map(|c| c.event_id.clone()), now);
        ops.push(advance(shard, last, at, next, &recent));
        store.transact(ops).await?;
        *at = Checkpoint {
            sequence: Some(last.clone()),
            version: next,
            recent,
        };
    }
    Ok(())
}

type Planned = (String, Option<Contribution>);

/// Each fresh record with what it counts: `None` when analytics does not count it, or when the
/// same event was counted lately (in the checkpoint's window) or came earlier in the batch (a
/// producer's retried append, a relayed parked click: counted once).
fn planned(fresh: &[&Parsed], at: &Checkpoint) -> Vec<Planned> {
    let mut seen_events: HashSet<&str> = at.recent.iter().map(|(id, _)| id.as_str()).collect();
    fresh
        .iter()
        .map(|r| {
            let c = r
                .event
                .as_ref()
                .ok()
                .filter(|e| seen_events.insert(e.id.as_str()))
                .and_then(contribution);
            (r.sequence.clone(), c)
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
    let reads = planned.iter().map(|(_, c)| async move {
        match c.as_ref().filter(|c| c.marked) {
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
        .map(|((seq, c), counted)| (seq, c.filter(|_| !counted)))
        .collect())
}

/// Consecutive runs of records whose distinct counter items and markers, plus the checkpoint,
/// fit one transaction.
fn chunks(planned: Vec<Planned>) -> Vec<Vec<Planned>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Planned> = Vec::new();
    let mut items: HashSet<(String, String)> = HashSet::new();
    let mut markers = 0;
    for (seq, c) in planned {
        let (new, marks) = c.as_ref().map_or((0, 0), |c| {
            let new = c.keys.iter().filter(|k| !items.contains(*k)).count();
            (new, usize::from(c.marked))
        });
        if !current.is_empty() && items.len() + markers + new + marks + 1 > MAX_TRANSACT_OPS {
            chunks.push(std::mem::take(&mut current));
            items.clear();
            markers = 0;
        }
        if let Some(c) = &c {
            items.extend(c.keys.iter().cloned());
            markers += marks;
        }
        current.push((seq, c));
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
    let mut sums: BTreeMap<(String, String), BTreeMap<String, crate::store::Count>> =
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

    #[test]
    fn shard_tags_are_short_and_never_hold_a_hash() {
        assert_eq!(shard_tag("shardId-000000000003"), "3");
        assert_eq!(shard_tag("shardId-000000000000"), "0");
        assert_eq!(shard_tag("shard-0"), "0");
        assert_eq!(shard_tag("a#b"), "a_b");
    }
}
