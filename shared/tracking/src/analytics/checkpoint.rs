//! A click stream shard's checkpoint (`analytics::stream`): the last sequence applied and its
//! version (which clicks were counted is `analytics::seen`'s); and a shard's records as the
//! aggregator takes them. Shared by the aggregator and its dead letters (`analytics::poison`).

use crate::kernel::events::Event;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};
use crate::platform::stream::{StreamRecord, sequence_after};

/// The consumer name in checkpoint keys.
pub const CONSUMER: &str = "agg";

/// One record of a shard as the aggregator takes it: the event, or why it is not one.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub sequence: String,
    /// The raw record, kept for the dead letters.
    pub data: String,
    pub event: Result<Event, String>,
}

impl Parsed {
    pub fn new(record: StreamRecord) -> Self {
        let event = serde_json::from_str::<Event>(&record.data)
            .map_err(|e| format!("not a readable event: {e}"));
        Self {
            sequence: record.sequence,
            data: record.data,
            event,
        }
    }
}

/// The checkpoint of a shard: the last sequence applied and the item's version. (Checkpoints
/// written before issue 42 also hold a window of recent ids, `recent`: no longer read.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub sequence: Option<String>,
    pub(super) version: u64,
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

impl Checkpoint {
    pub(super) fn is_after(&self, sequence: &str) -> bool {
        self.sequence
            .as_deref()
            .is_none_or(|cp| sequence_after(sequence, cp))
    }
}

/// The checkpoint moved to `sequence`, only if nobody moved it since it was read.
pub fn advance(shard: &str, sequence: &str, at: &Checkpoint, next: u64) -> WriteOp {
    let (pk, sk) = keys::stream_checkpoint(CONSUMER, shard);
    let doc = serde_json::json!({ "sequence": sequence });
    WriteOp::Put {
        item: Item::new(pk, sk, doc).with_version(next),
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
