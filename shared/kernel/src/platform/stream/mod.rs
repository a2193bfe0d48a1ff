//! The click stream seam: an ordered, durable, append-only log split in shards and read by
//! sequence number, the semantics of a Kinesis Data Stream.
//!
//! Why a stream and not the events queue for clicks: a queue message is paid per send and per
//! receive, and its consumer must dedupe each event with a marker write; a stream record is paid
//! per 25 KB payload unit, is read in batches of thousands for free by the consumer, and its
//! order lets the consumer keep ONE checkpoint per shard (the last sequence number applied),
//! committed in the same transaction as the batch's summed counters: a replayed batch is seen
//! for what it is without a write per event (`analytics::stream`, `docs/architecture.md`).
//!
//! Backends: `tenx-aws`'s `KinesisStream` on AWS, and the embedded queue's click log
//! (`queue::embedded`, one shard, group-committed and fsynced before the append returns).

use async_trait::async_trait;

/// Kinesis's largest record (1 MiB); every backend refuses more, so what works locally works
/// on AWS. A click event is well under 2 KB.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Kinesis's largest `GetRecords` batch.
pub const MAX_READ: usize = 10_000;

/// One record read back from a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRecord {
    /// Increasing within its shard (decimal digits, compared with [`sequence_after`]).
    pub sequence: String,
    pub data: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Throttled, unreachable or not answering: the caller may retry.
    #[error("stream unavailable: {0}")]
    Unavailable(String),
    #[error("stream error: {0}")]
    Other(String),
}

#[async_trait]
pub trait ClickStream: Send + Sync + 'static {
    /// Durably appends one record before returning; records with the same `partition_key` land
    /// on the same shard, in order.
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError>;

    /// The shards to read (ids stable for a shard's life).
    async fn shards(&self) -> Result<Vec<String>, StreamError>;

    /// How long a poller that found every shard caught up waits before reading again: reads
    /// are cheap locally, while Kinesis allows 5 reads per second per shard.
    fn idle_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }

    /// Up to `max` records of `shard` with a sequence after `after` (from the oldest retained
    /// one when `None`), in order. Empty when the consumer is caught up.
    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError>;
}

/// Whether sequence number `a` comes after `b`. Kinesis's are decimal strings of up to 128 bits
/// and more digits than a `u128` holds, so they compare by length, then digit by digit.
pub fn sequence_after(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    (a.len(), a) > (b.len(), b)
}

/// A record's size and content as Kinesis accepts them.
pub fn validate_record(partition_key: &str, data: &str) -> Result<(), StreamError> {
    if partition_key.is_empty() || partition_key.chars().count() > 256 {
        return Err(StreamError::Other(
            "a partition key is 1..=256 characters".into(),
        ));
    }
    if data.is_empty() || data.len() > MAX_RECORD_BYTES {
        return Err(StreamError::Other(format!(
            "a record is 1..={MAX_RECORD_BYTES} bytes, got {}",
            data.len()
        )));
    }
    Ok(())
}

/// The partition key of a click: its handle and link, so one link's clicks stay in order on
/// one shard and a busy handle still spreads over shards by link.
pub fn click_partition_key(handle: &str, slug: &str) -> String {
    format!("{handle}/{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_compare_as_numbers_of_any_length() {
        let long = "49590338271490256608559692538361571095921575989136588898";
        let longer = "49590338271490256608559692538361571095921575989136588899";
        assert!(sequence_after(longer, long));
        assert!(!sequence_after(long, longer));
        assert!(!sequence_after(long, long));
        assert!(sequence_after("10", "9"));
        assert!(sequence_after("0010", "9"));
        assert!(!sequence_after("9", "0010"));
    }

    #[test]
    fn records_are_bounded_like_kinesis() {
        assert!(validate_record("acme/launch", "{}").is_ok());
        assert!(validate_record("", "{}").is_err());
        assert!(validate_record(&"k".repeat(257), "{}").is_err());
        assert!(validate_record("k", "").is_err());
        assert!(validate_record("k", &"x".repeat(MAX_RECORD_BYTES + 1)).is_err());
    }
}
