//! Idempotency records (modelled on AWS Lambda Powertools' DynamoDB records): keyed by handle +
//! key, a status, the hash of the canonical payload, the stored response, an expiry (the store's
//! TTL) and an in-progress expiry. What to do with an existing record is decided by [`judge`].

use serde::{Deserialize, Serialize};

use super::Receipt;
use crate::domain::Handle;
use crate::domain::IdempotencyKey;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A request holds the key and has not stored its response yet.
    InProgress,
    /// The response is stored; replays return it.
    Completed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub status: Status,
    /// SHA-256 (hex) of the canonical payload (`ValidConversion::payload_hash`).
    pub payload_hash: String,
    /// The first submission's response, replayed verbatim (`None` while in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Receipt>,
    /// Unix seconds; also the item's store expiry, after which the key is free again.
    pub expires_at: i64,
    /// Unix milliseconds after which an `in_progress` record counts as abandoned by a writer that
    /// died. `None` for records written `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress_expires_at_ms: Option<i64>,
}

impl IdempotencyRecord {
    pub fn completed(payload_hash: String, response: Receipt, expires_at: i64) -> Self {
        Self {
            status: Status::Completed,
            payload_hash,
            response: Some(response),
            expires_at,
            in_progress_expires_at_ms: None,
        }
    }

    /// The record of `(handle, key)`, if any. Round trips: ONE read.
    pub async fn load(
        store: &dyn crate::platform::store::Store,
        handle: &Handle,
        key: &IdempotencyKey,
    ) -> Result<Option<Self>, StoreError> {
        let (pk, sk) = keys::idempotency(handle, key);
        let item = store.get(&pk, &sk).await?;
        item.map(|i| i.parse::<Self>()).transpose()
    }

    /// The put of this record at `(handle, key)`: new (`cond` absent, version 1) or replacing an
    /// abandoned one (`cond` = its version).
    pub fn put(
        &self,
        handle: &Handle,
        key: &IdempotencyKey,
        cond: Cond,
    ) -> Result<WriteOp, StoreError> {
        let (pk, sk) = keys::idempotency(handle, key);
        let version = match cond {
            Cond::Version(v) => v + 1,
            _ => 1,
        };
        Ok(WriteOp::Put {
            item: Item::new(pk, sk, crate::platform::store::to_doc(self)?)
                .with_version(version)
                .expiring_at(Some(self.expires_at)),
            cond,
        })
    }
}

/// What an existing record means for a new submission of its key.
#[derive(Clone, Debug, PartialEq)]
pub enum Existing {
    /// Completed with the same payload: answer with the stored response.
    Replay(Box<Receipt>),
    /// Completed with a different payload: the key was reused.
    Reused,
    /// Another request holds the key and may still finish: retry after this many seconds.
    InFlight { retry_after_secs: i64 },
    /// The holder died before finishing: overwrite the record at this version.
    Abandoned { version: u64 },
    /// A completed record without its response (never written by this code).
    Corrupt,
}

/// Decides what an existing, unexpired record at version `version` means for a submission with
/// `payload_hash`, at `now_ms`.
pub fn judge(
    record: &IdempotencyRecord,
    version: u64,
    payload_hash: &str,
    now_ms: i64,
) -> Existing {
    match record.status {
        Status::InProgress => {
            // A record without an in-progress expiry can never be finished: treat as abandoned.
            let until = record.in_progress_expires_at_ms.unwrap_or(i64::MIN);
            if until > now_ms {
                let secs = (until - now_ms + 999) / 1000;
                Existing::InFlight {
                    retry_after_secs: secs.max(1),
                }
            } else {
                Existing::Abandoned { version }
            }
        }
        Status::Completed if record.payload_hash != payload_hash => Existing::Reused,
        Status::Completed => match &record.response {
            Some(r) => Existing::Replay(Box::new(r.clone())),
            None => Existing::Corrupt,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            accepted: true,
            deduped: false,
            conversion_id: crate::domain::ConversionId::parse(&format!("cnv_{:0>32}", 1)).unwrap(),
            click_id: crate::domain::ClickId::parse(&format!("clk_{:0>32}", 1)).unwrap(),
            campaign_id: None,
            event_type: "purchase".into(),
            value: Some(rust_decimal::Decimal::new(1999, 2)),
            currency: "USD".parse().ok(),
            test: false,
            received_at: crate::domain::time::Timestamp::literal("2025-01-01T00:00:00Z"),
            verified: false,
            risk: Default::default(),
            receipt: None,
        }
    }

    fn in_progress(until: Option<i64>) -> IdempotencyRecord {
        IdempotencyRecord {
            status: Status::InProgress,
            payload_hash: "h".into(),
            response: None,
            expires_at: 10,
            in_progress_expires_at_ms: until,
        }
    }

    #[test]
    fn completed_records_replay_or_refuse() {
        let r = IdempotencyRecord::completed("h".into(), receipt(), 10);
        assert_eq!(judge(&r, 1, "h", 0), Existing::Replay(Box::new(receipt())));
        assert_eq!(judge(&r, 1, "other", 0), Existing::Reused);
        let broken = IdempotencyRecord {
            response: None,
            ..r
        };
        assert_eq!(judge(&broken, 1, "h", 0), Existing::Corrupt);
    }

    #[test]
    fn in_progress_records_block_until_their_expiry() {
        assert_eq!(
            judge(&in_progress(Some(5_000)), 3, "h", 1_000),
            Existing::InFlight {
                retry_after_secs: 4
            }
        );
        assert_eq!(
            judge(&in_progress(Some(1_001)), 3, "other", 1_000),
            Existing::InFlight {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            judge(&in_progress(Some(1_000)), 3, "h", 1_000),
            Existing::Abandoned { version: 3 }
        );
        assert_eq!(
            judge(&in_progress(None), 7, "h", 1_000),
            Existing::Abandoned { version: 7 }
        );
    }

    #[test]
    fn records_round_trip_and_put_with_ttl() {
        let r = IdempotencyRecord::completed("h".into(), receipt(), 1_234);
        let key = IdempotencyKey::parse("order-1").unwrap();
        let WriteOp::Put { item, cond } = r
            .put(&Handle::parse("acme").unwrap(), &key, Cond::Absent)
            .unwrap()
        else {
            panic!("a put");
        };
        assert_eq!(cond, Cond::Absent);
        assert_eq!(
            (item.pk.as_str(), item.sk.as_str()),
            ("H#acme#K#order-1", "K")
        );
        assert_eq!((item.version, item.expires_at), (1, Some(1_234)));
        assert_eq!(item.doc["status"], "completed");
        assert_eq!(item.doc["response"]["value"], 19.99);
        assert_eq!(item.parse::<IdempotencyRecord>().unwrap(), r);
        let whole = IdempotencyRecord::completed(
            "h".into(),
            Receipt {
                value: Some(rust_decimal::Decimal::new(1000, 2)),
                ..receipt()
            },
            1_234,
        );
        let doc = serde_json::to_value(&whole).unwrap();
        assert_eq!(doc["response"]["value"].to_string(), "10");
        assert_eq!(
            serde_json::from_value::<IdempotencyRecord>(doc).unwrap(),
            whole
        );
        let WriteOp::Put { item, cond } = r
            .put(&Handle::parse("acme").unwrap(), &key, Cond::Version(4))
            .unwrap()
        else {
            panic!("a put");
        };
        assert_eq!((cond, item.version), (Cond::Version(4), 5));
    }
}
