//! The embedded click log: [`ClickStream`] on the embedded queue's redb file, one shard.
//!
//! Appends go through the queue's group-commit writer (`queue::embedded`): many concurrent
//! clicks share one write transaction and ONE fsync, and each append returns only once it is
//! durable. Records are keyed by the queue's own sequence (increasing, persisted), so a read
//! after a checkpoint is one range scan. Records older than [`RETENTION_MS`] are trimmed as
//! appends go on, as Kinesis drops records past its retention.

use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};

use crate::platform::stream::{MAX_READ, StreamError, StreamRecord};

use super::QueueError;

/// Sequence → `[appended_at_ms: u64 LE][data]`.
pub(super) const CLICKS: TableDefinition<'static, u64, &[u8]> =
    TableDefinition::new("stream_clicks");
/// The one shard of the local log.
pub const SHARD: &str = "shard-0";
/// A week: a consumer stopped for longer than that loses the oldest clicks (Kinesis keeps 24 h
/// by default). The local server runs its consumer in process, so it is never that far behind.
pub const RETENTION_MS: u64 = 7 * 86_400 * 1000;
/// Records trimmed per write transaction at most, so a trim never stalls appends.
const TRIM_BATCH: usize = 1000;

pub(super) fn encode(appended_at_ms: u64, data: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&appended_at_ms.to_le_bytes());
    out.extend_from_slice(data.as_bytes());
    out
}

fn decode(bytes: &[u8]) -> (u64, String) {
    let (at, data) = bytes.split_at(bytes.len().min(8));
    let at = at.try_into().map(u64::from_le_bytes).unwrap_or(0);
    (at, String::from_utf8_lossy(data).into_owned())
}

pub(super) fn insert(
    txn: &WriteTransaction,
    seq: u64,
    now_ms: u64,
    data: &str,
) -> Result<(), QueueError> {
    let mut table = txn.open_table(CLICKS).map_err(db_err)?;
    table
        .insert(seq, encode(now_ms, data).as_slice())
        .map_err(db_err)?;
    Ok(())
}

/// Drops the oldest records past retention (at most [`TRIM_BATCH`]).
pub(super) fn trim(txn: &WriteTransaction, now_ms: u64) -> Result<(), QueueError> {
    let mut table = txn.open_table(CLICKS).map_err(db_err)?;
    let cutoff = now_ms.saturating_sub(RETENTION_MS);
    let mut old = Vec::new();
    for entry in table.iter().map_err(db_err)?.take(TRIM_BATCH) {
        let (key, value) = entry.map_err(db_err)?;
        if decode(value.value()).0 >= cutoff {
            break;
        }
        old.push(key.value());
    }
    for key in old {
        table.remove(key).map_err(db_err)?;
    }
    Ok(())
}

/// Up to `max` records after sequence `after`: one read transaction.
pub(super) fn read(
    db: &Database,
    shard: &str,
    after: Option<&str>,
    max: usize,
) -> Result<Vec<StreamRecord>, StreamError> {
    if shard != SHARD {
        return Err(StreamError::Other(format!(
            "no shard {shard:?} in the local click log"
        )));
    }
    let start = match after {
        None => 0,
        Some(seq) => seq
            .parse::<u64>()
            .map_err(|_| StreamError::Other(format!("malformed sequence number {seq:?}")))?
            .saturating_add(1),
    };
    let err = |e: redb::Error| StreamError::Unavailable(e.to_string());
    let txn = db.begin_read().map_err(|e| err(e.into()))?;
    let table = txn.open_table(CLICKS).map_err(|e| err(e.into()))?;
    let mut records = Vec::new();
    for entry in table
        .range(start..)
        .map_err(|e| err(e.into()))?
        .take(max.clamp(1, MAX_READ))
    {
        let (key, value) = entry.map_err(|e| err(e.into()))?;
        records.push(StreamRecord {
            sequence: key.value().to_string(),
            data: decode(value.value()).1,
        });
    }
    Ok(records)
}

/// A click log write that fails fails its whole batch: the appends are answered `Unavailable`
/// and the redirect retries them.
fn db_err(e: impl Into<redb::Error>) -> QueueError {
    QueueError::Unavailable(e.into().to_string())
}

pub(super) fn stream_error(e: QueueError) -> StreamError {
    match e {
        QueueError::Unavailable(m) => StreamError::Unavailable(m),
        QueueError::Other(m) => StreamError::Other(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_their_append_time_and_data() {
        let (at, data) = decode(&encode(1_700_000_000_123, "{\"a\":\"é\"}"));
        assert_eq!((at, data.as_str()), (1_700_000_000_123, "{\"a\":\"é\"}"));
    }
}
