//! How far behind the counts may be (issue 42): the oldest event the service accepted but has
//! not counted yet, so a manager who opens the funnel after an incident is told the numbers are
//! still moving instead of reading them as final.
//!
//! Everything not yet counted is in one of two places: the outbox (an event committed but not
//! yet through the events worker, a click parked by the redirect) or a click stream shard past
//! its checkpoint (appended, not yet applied). Round trips: ONE query per outbox shard (the
//! oldest entry: its sort key starts with its time), and per stream shard ONE checkpoint read
//! plus ONE stream read of the first record after it. Answered from a per-process memory
//! ([`Memo`], the app state's, kept `state::FRESHNESS_REUSE`: 5 s), so the console's polling
//! costs no more than one look per process and interval.

use serde::Serialize;

use crate::platform::store::{Store, StoreError};
use crate::platform::stream::ClickStream;

/// The pipeline's lag: `pendingSince` is the acceptance time of the oldest event not yet
/// counted (`null`: everything accepted is counted), `behindSeconds` how long ago that was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    pub pending_since: Option<String>,
    pub behind_seconds: i64,
}

impl Freshness {
    fn from_oldest(oldest_ms: Option<i64>, now_ms: i64) -> Self {
        Self {
            pending_since: oldest_ms.map(crate::domain::time::unix_millis_to_rfc3339),
            behind_seconds: oldest_ms.map_or(0, |t| (now_ms - t).max(0) / 1000),
        }
    }
}

/// The last look at the oldest pending event's time (unix ms), expiring by itself.
pub type Memo = moka::sync::Cache<(), Option<i64>>;

/// The pipeline's lag now (see the module), reusing the memo's look while it lasts.
pub async fn freshness(
    store: &dyn Store,
    clicks: Option<&dyn ClickStream>,
    memo: &Memo,
    now_ms: i64,
) -> Result<Freshness, StoreError> {
    if let Some(oldest) = memo.get(&()) {
        return Ok(Freshness::from_oldest(oldest, now_ms));
    }
    let outbox = crate::kernel::outbox::oldest(store).await?;
    let stream = match clicks {
        Some(stream) => oldest_on_stream(store, stream).await?,
        None => None,
    };
    let oldest = [outbox, stream].into_iter().flatten().min();
    memo.insert((), oldest);
    Ok(Freshness::from_oldest(oldest, now_ms))
}

/// The creation time (unix ms) of the oldest record not yet applied on any shard.
async fn oldest_on_stream(
    store: &dyn Store,
    stream: &dyn ClickStream,
) -> Result<Option<i64>, StoreError> {
    let unavailable =
        |e: crate::platform::stream::StreamError| StoreError::Unavailable(e.to_string());
    let mut oldest = None;
    for shard in stream.shards().await.map_err(unavailable)? {
        let at = super::stream::checkpoint(store, &shard).await?;
        let next = stream
            .read(&shard, at.sequence.as_deref(), 1)
            .await
            .map_err(unavailable)?;
        let created = next.first().and_then(|r| created_ms(&r.data));
        oldest = oldest.into_iter().chain(created).min();
    }
    Ok(oldest)
}

fn created_ms(data: &str) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Created {
        #[serde(rename = "createdAt")]
        created_at: crate::domain::time::Timestamp,
    }
    let created: Created = serde_json::from_str(data).ok()?;
    Some(created.created_at.millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_pending_is_zero_behind_and_an_old_event_says_since_when() {
        assert_eq!(
            Freshness::from_oldest(None, 10_000),
            Freshness {
                pending_since: None,
                behind_seconds: 0
            }
        );
        let f = Freshness::from_oldest(Some(1_764_020_000_000), 1_764_020_095_500);
        assert_eq!(f.behind_seconds, 95);
        assert_eq!(f.pending_since.as_deref(), Some("2025-11-24T21:33:20Z"));
        assert_eq!(
            created_ms(r#"{"createdAt":"2025-11-24T21:33:20.000Z","id":"x"}"#),
            Some(1_764_020_000_000)
        );
        assert_eq!(created_ms("not json"), None);
    }
}
