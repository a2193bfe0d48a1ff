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
//! Round trips per batch: ONE checkpoint read, ONE marker read per relayed event (conversions;
//! none for clicks), then ONE transaction per chunk (usually one).

use std::collections::{BTreeMap, HashSet};

use super::aggregate::{contribution, marker, Contribution, CONSUMER as MARKER_CONSUMER};
use crate::events::Event;
use crate::store::{keys, now_unix, Cond, Item, Store, StoreError, WriteOp, MAX_TRANSACT_OPS};
use crate::stream::sequence_after;

/// The consumer name in checkpoint keys.
pub const CONSUMER: &str = "agg";
/// Checkpoint reads and applies before a shard is reported busy (another consumer keeps
/// winning the race for it).
const MAX_ROUNDS: usize = 8;

/// The checkpoint of a shard: the last sequence applied and the item's version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub sequence: Option<String>,
    version: u64,
}

/// ONE consistent read.
pub async fn checkpoint(store: &dyn Store, shard: &str) -> Result<Checkpoint, StoreError> {
    let (pk, sk) = keys::stream_checkpoint(CONSUMER, shard);
    Ok(match store.get(&pk, &sk).await? {
        Some(item) => Checkpoint {
            sequence: item.doc["sequence"].as_str().map(str::to_owned),
            version: item.version,
        },
        None => Checkpoint::default(),
    })
}

/// Applies a shard's records (`(sequence, event)`, in shard order; `None` for a record that is
/// not a readable event, which only moves the checkpoint) to the counters, each exactly once.
pub async fn apply(
    store: &dyn Store,
    shard: &str,
    records: &[(String, Option<Event>)],
) -> Result<(), StoreError> {
    for _ in 0..MAX_ROUNDS {
        let mut at = checkpoint(store, shard).await?;
        let fresh: Vec<&(String, Option<Event>)> = records
            .iter()
            .filter(|(seq, _)| {
                at.sequence
                    .as_deref()
                    .is_none_or(|cp| sequence_after(seq, cp))
            })
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let planned = drop_counted(store, planned(&fresh)).await?;
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
        ops.push(advance(shard, last, at, next));
        store.transact(ops).await?;
        *at = Checkpoint {
            sequence: Some(last.clone()),
            version: next,
        };
    }
    Ok(())
}

type Planned = (String, Option<Contribution>);

/// Each fresh record with what it counts: `None` when analytics does not count it, or when the
/// same event came earlier in the batch (a producer's retried append: counted once).
fn planned(fresh: &[&(String, Option<Event>)]) -> Vec<Planned> {
    let mut seen_events = HashSet::new();
    fresh
        .iter()
        .map(|(seq, event)| {
            let c = event
                .as_ref()
                .filter(|e| seen_events.insert(e.id.clone()))
                .and_then(contribution);
            (seq.clone(), c)
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

/// The checkpoint moved to `sequence`, only if nobody moved it since it was read.
fn advance(shard: &str, sequence: &str, at: &Checkpoint, next: u64) -> WriteOp {
    let (pk, sk) = keys::stream_checkpoint(CONSUMER, shard);
    WriteOp::Put {
        item: Item::new(pk, sk, serde_json::json!({ "sequence": sequence })).with_version(next),
        cond: match at.version {
            0 => Cond::Absent,
            v => Cond::Version(v),
        },
    }
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

    #[test]
    fn checkpoints_start_absent_then_advance_under_their_version() {
        let fresh = advance("shard-0", "5", &Checkpoint::default(), 1);
        assert!(matches!(
            fresh,
            WriteOp::Put {
                cond: Cond::Absent,
                ..
            }
        ));
        let at = Checkpoint {
            sequence: Some("5".into()),
            version: 1,
        };
        match advance("shard-0", "9", &at, 2) {
            WriteOp::Put { item, cond } => {
                assert_eq!(cond, Cond::Version(1));
                assert_eq!(
                    (item.version, item.doc["sequence"].as_str()),
                    (2, Some("9"))
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
