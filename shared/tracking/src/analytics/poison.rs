//! Poison records of the click stream: a record the aggregator cannot apply (not a readable
//! event, or refused by the store for what it holds) is set aside in the dead letters with its
//! reason, in ONE transaction with the checkpoint moved past it, so its shard carries on and
//! nothing is counted twice. Operators see them in the `DEADLETTER#clicks` partition (kept 30
//! days), in the `poison_records` metric and one error log line each; replaying one is
//! appending its `data` to the stream again (counted once: the id was never counted).

use super::checkpoint::{CONSUMER, Parsed, advance, checkpoint};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, now_unix};

/// The consumer name in dead-letter keys.
pub const DEAD_LETTERS: &str = "clicks";
/// How long a dead letter is kept.
const KEEP_SECS: i64 = 30 * 86_400;
/// The raw record kept in a dead letter, at most (an item holds 400 KB; a record up to 1 MiB).
const KEEP_DATA_BYTES: usize = 256 * 1024;
const MAX_ROUNDS: usize = 8;

/// Whether the store refused a batch for what it holds: retrying the same writes cannot help.
pub fn is_poison(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid(_) | StoreError::Corrupt(_))
}

/// Sets `record` aside with `reason` and moves the checkpoint past it (the records before it
/// are applied: the bisection goes in order). Round trips: ONE checkpoint read, ONE transaction
/// (again on a race with another consumer).
pub async fn set_aside(
    store: &dyn Store,
    shard: &str,
    record: &Parsed,
    reason: &str,
) -> Result<(), StoreError> {
    for _ in 0..MAX_ROUNDS {
        let at = checkpoint(store, shard).await?;
        if !at.is_after(&record.sequence) {
            return Ok(());
        }
        let now = now_unix();
        let next = at.version + 1;
        let ops = vec![
            WriteOp::Put {
                item: dead_letter(shard, record, reason, now),
                cond: Cond::None,
            },
            advance(shard, &record.sequence, &at, next),
        ];
        match store.transact(ops).await {
            Ok(()) => {
                crate::platform::metrics::POISON_RECORDS
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(
                    consumer = CONSUMER, shard, sequence = %record.sequence, reason,
                    metric = "poison_records", "poison record set aside in the dead letters"
                );
                return Ok(());
            }
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!(
        "shard {shard}: the checkpoint kept moving while setting a record aside"
    )))
}

fn dead_letter(shard: &str, record: &Parsed, reason: &str, now: i64) -> Item {
    let (pk, sk) = keys::dead_letter(DEAD_LETTERS, shard, &record.sequence);
    let mut end = record.data.len().min(KEEP_DATA_BYTES);
    while !record.data.is_char_boundary(end) {
        end -= 1;
    }
    let doc = serde_json::json!({
        "shard": shard,
        "sequence": record.sequence,
        "reason": reason,
        "data": &record.data[..end],
        "truncated": end < record.data.len(),
        "setAsideAt": crate::platform::time::now_rfc3339(),
    });
    Item::new(pk, sk, doc).expiring_at(Some(now + KEEP_SECS))
}

/// The dead letters of the click stream's consumer, oldest shard and sequence first: `(shard,
/// sequence, reason, data)`. ONE query (up to 1000).
pub async fn list(store: &dyn Store) -> Result<Vec<DeadLetter>, StoreError> {
    let page = store
        .query(crate::platform::store::Query {
            pk: keys::dead_letter_pk(DEAD_LETTERS),
            range: crate::platform::store::SkRange::All,
            limit: 1000,
            after: None,
            descending: false,
        })
        .await?;
    page.items
        .iter()
        .map(crate::platform::store::Item::parse)
        .collect()
}

/// One dead letter as operators read it.
#[derive(Clone, Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub shard: String,
    pub sequence: String,
    pub reason: String,
    pub data: String,
}
