//! The clicks a shard has counted, so a click counts once however many copies of it reach the
//! stream and however far apart: a producer's `PutRecord` that landed though its answer was
//! lost (or came too late) and was sent again, and a click the redirect parked in the outbox
//! while its abandoned append still landed, relayed minutes or hours later (issue 42).
//!
//! Stored: before every chunk the aggregator commits, ONE item per minute its clicks were
//! minted in, holding an 8-byte fingerprint of each click's event id (`keys::seen_clicks`,
//! keyed by the chunk's last sequence number, TTL [`SEEN_TTL_SECS`]). An item counts only once
//! the shard's checkpoint has reached its sequence: every record up to the checkpoint was
//! applied, so each of its clicks was counted (by that chunk, or earlier as an original); an
//! item whose chunk then failed to commit says nothing until the records are applied again.
//! Written as a plain put beside the transaction rather than in it: half the write units. A
//! copy is always on the same shard as its original (both are appended by handle and link) and
//! carries the same `createdAt`, so looking a click up means reading its minute's items on its
//! shard, however late the copy comes.
//!
//! Cached: the consumer keeps the minutes it read or wrote, valid while the shard's checkpoint
//! is at the version it last saw. Any other writer moves the checkpoint (the commit is
//! conditional on it), so a cache older than the checkpoint is dropped and read again: a
//! restart, another Lambda container, or a lost answer never leaves a counted click unknown.
//!
//! Round trips: none per click. Per batch, ONE query (a page per ~35,000 clicks) per minute not
//! cached: on a warm consumer only a new minute, or the minute of a late parked copy. Writes:
//! about 11 bytes per click in the chunk's items (1 WRU per KB).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::checkpoint::Checkpoint;
use crate::platform::store::{Item, Query, Store, StoreError, WriteOp, for_each_item, keys};
use crate::platform::stream::sequence_after;

/// How long a shard remembers a counted click: past SQS's longest retention (14 days), so a
/// parked copy's relay cannot outlive the memory of its original (like the processed-event
/// markers).
pub const SEEN_TTL_SECS: i64 = 14 * 86_400;
/// Minutes of fingerprints a consumer keeps per shard (the newest used): the current minute,
/// the one before, and room for the minutes of late copies.
const CACHED_MINUTES: usize = 6;
/// Characters of one fingerprint in an item: 8 bytes, base64url without padding.
const FINGERPRINT_CHARS: usize = 11;

/// A click's dedupe coordinates: the minute its event was minted in and its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClickMark {
    pub minute: String,
    pub fingerprint: [u8; 8],
}

impl ClickMark {
    /// From the click event's id and `createdAt` (RFC 3339); an unreadable time falls in the
    /// minute `unknown`, where it still counts once.
    pub fn of(event_id: &str, created_at: &str) -> Self {
        let minute = minute_of(created_at).unwrap_or_else(|| "unknown".to_owned());
        let digest = Sha256::digest(event_id.as_bytes());
        let mut fingerprint = [0u8; 8];
        fingerprint.copy_from_slice(&digest[..8]);
        Self {
            minute,
            fingerprint,
        }
    }
}

/// `2026-11-24T21:46:21.123Z` → `202611242146`, in UTC whatever the offset.
fn minute_of(rfc3339: &str) -> Option<String> {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?
        .to_offset(time::UtcOffset::UTC);
    Some(format!(
        "{:04}{:02}{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    ))
}

/// One shard's cached minutes, valid at checkpoint `version`.
#[derive(Default)]
struct ShardCache {
    version: u64,
    /// Minute → fingerprints counted; the order of use, newest last.
    minutes: HashMap<String, HashSet<[u8; 8]>>,
    used: Vec<String>,
}

impl ShardCache {
    /// Marks `needed` as the newest used, then forgets the oldest minutes past
    /// [`CACHED_MINUTES`], never one of `needed` (a batch spanning more minutes keeps them all).
    fn keep(&mut self, needed: &[String]) {
        self.used.retain(|m| !needed.contains(m));
        self.used.extend(needed.iter().cloned());
        while self.used.len() > CACHED_MINUTES && !needed.contains(&self.used[0]) {
            let oldest = self.used.remove(0);
            self.minutes.remove(&oldest);
        }
    }
}

/// The consumer's memory of counted clicks, per shard (see the module).
#[derive(Default)]
pub struct Seen {
    shards: Mutex<HashMap<String, ShardCache>>,
}

impl Seen {
    fn with_shard<T>(&self, shard: &str, f: impl FnOnce(&mut ShardCache) -> T) -> T {
        let mut shards = self
            .shards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(shards.entry(shard.to_owned()).or_default())
    }

    /// Makes the cache of `shard` valid at checkpoint `version` and holding every minute of
    /// `marks`: ONE query per minute it lacks (or all of them, when the checkpoint moved).
    pub async fn prepare(
        &self,
        store: &dyn Store,
        shard: &str,
        at: &Checkpoint,
        marks: &[&ClickMark],
    ) -> Result<(), StoreError> {
        let version = at.version;
        let missing: Vec<String> = self.with_shard(shard, |c| {
            if c.version != version {
                *c = ShardCache {
                    version,
                    ..ShardCache::default()
                };
            }
            let mut needed: Vec<String> = marks.iter().map(|m| m.minute.clone()).collect();
            needed.sort();
            needed.dedup();
            c.keep(&needed);
            needed.retain(|m| !c.minutes.contains_key(m));
            needed
        });
        for minute in missing {
            let through = at.sequence.as_deref();
            let counted = load_minute(store, shard, &minute, through).await?;
            self.with_shard(shard, |c| {
                if c.version == version {
                    c.minutes.insert(minute, counted);
                }
            });
        }
        Ok(())
    }

    /// Whether the click was counted on `shard` (after [`Self::prepare`] for its minute).
    pub fn contains(&self, shard: &str, mark: &ClickMark) -> bool {
        self.with_shard(shard, |c| {
            c.minutes
                .get(&mark.minute)
                .is_some_and(|m| m.contains(&mark.fingerprint))
        })
    }

    /// A chunk committed: the checkpoint went from `from` to `to` with `marks` counted. A cache
    /// that was not at `from` is dropped (someone else wrote in between).
    pub fn committed(&self, shard: &str, from: u64, to: u64, marks: &[&ClickMark]) {
        self.with_shard(shard, |c| {
            if c.version != from {
                *c = ShardCache::default();
                return;
            }
            c.version = to;
            for mark in marks {
                if let Some(minute) = c.minutes.get_mut(&mark.minute) {
                    minute.insert(mark.fingerprint);
                }
            }
        });
    }
}

/// Every fingerprint counted in `minute` on `shard` by a chunk the checkpoint (`through`) has
/// passed: ONE query (paginated).
async fn load_minute(
    store: &dyn Store,
    shard: &str,
    minute: &str,
    through: Option<&str>,
) -> Result<HashSet<[u8; 8]>, StoreError> {
    let Some(through) = through else {
        return Ok(HashSet::new());
    };
    let (pk, _) = keys::seen_clicks(shard, minute, "");
    let mut counted = HashSet::new();
    for_each_item(store, Query::all(pk), |item| {
        if sequence_after(&item.sk, through) {
            // Its chunk has not committed (yet): its clicks may not be counted.
            return Ok(std::ops::ControlFlow::Continue(()));
        }
        let packed = item.doc["ids"].as_str().unwrap_or_default();
        counted.extend(unpack(packed));
        Ok::<_, StoreError>(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(counted)
}

/// The chunk's items: ONE per minute among `marks`, keyed by the chunk's last sequence number
/// (unique on the shard), written before the chunk's transaction.
pub fn items(shard: &str, last_sequence: &str, marks: &[&ClickMark], now: i64) -> Vec<WriteOp> {
    let mut by_minute: std::collections::BTreeMap<&str, String> = Default::default();
    for mark in marks {
        by_minute
            .entry(&mark.minute)
            .or_default()
            .push_str(&URL_SAFE_NO_PAD.encode(mark.fingerprint));
    }
    by_minute
        .into_iter()
        .map(|(minute, ids)| {
            let (pk, sk) = keys::seen_clicks(shard, minute, last_sequence);
            let mut item = Item::new(pk, sk, serde_json::json!({ "ids": ids }));
            item.expires_at = Some(now + SEEN_TTL_SECS);
            WriteOp::Put {
                item,
                cond: crate::platform::store::Cond::None,
            }
        })
        .collect()
}

fn unpack(packed: &str) -> impl Iterator<Item = [u8; 8]> + '_ {
    packed
        .as_bytes()
        .chunks(FINGERPRINT_CHARS)
        .filter_map(|chunk| {
            let bytes = URL_SAFE_NO_PAD.decode(chunk).ok()?;
            <[u8; 8]>::try_from(bytes.as_slice()).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_utc_and_copies_share_their_mark() {
        let a = ClickMark::of("evt_1", "2026-11-24T21:46:59.999Z");
        let b = ClickMark::of("evt_1", "2026-11-24T22:46:59+01:00");
        assert_eq!(a, b);
        assert_eq!(a.minute, "202611242146");
        assert_ne!(a, ClickMark::of("evt_2", "2026-11-24T21:46:59Z"));
        assert_eq!(ClickMark::of("evt_1", "yesterday").minute, "unknown");
    }

    #[test]
    fn fingerprints_round_trip_through_an_item() {
        let marks: Vec<ClickMark> = (0..50)
            .map(|i| ClickMark::of(&format!("evt_{i}"), "2026-11-24T21:46:00Z"))
            .collect();
        let refs: Vec<&ClickMark> = marks.iter().collect();
        let ops = items("shard-0", "42", &refs, 0);
        assert_eq!(ops.len(), 1, "one item per minute");
        let WriteOp::Put { item, .. } = &ops[0] else {
            panic!("a put")
        };
        assert_eq!(item.expires_at, Some(SEEN_TTL_SECS));
        let back: HashSet<[u8; 8]> = unpack(item.doc["ids"].as_str().unwrap()).collect();
        assert_eq!(back, marks.iter().map(|m| m.fingerprint).collect());
    }

    #[test]
    fn a_cache_behind_the_checkpoint_is_dropped() {
        let seen = Seen::default();
        let mark = ClickMark::of("evt_1", "2026-11-24T21:46:00Z");
        seen.with_shard("s", |c| {
            c.version = 3;
            c.minutes.insert(mark.minute.clone(), HashSet::new());
        });
        seen.committed("s", 3, 4, &[&mark]);
        assert!(seen.contains("s", &mark));
        // Someone else committed version 5: this consumer's view is stale.
        seen.committed("s", 5, 6, &[]);
        assert!(
            !seen.contains("s", &mark),
            "dropped, read again when needed"
        );
    }
}
