//! Claiming one attempt before sending it, so each attempt is sent once on an at-least-once
//! queue: a conditional put of its attempt record (`sending`, with a lease). A duplicate message
//! finds the attempt finished or leased; an expired lease (its worker died) is taken over by the
//! one worker that wins the version race.

use super::log::{AttemptRecord, AttemptStatus};
use super::message::DeliveryMessage;
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

/// The outcome of trying to claim an attempt.
pub(super) enum Claim {
    /// Ours to send; the record is at this version.
    Won(u64),
    /// Already finished (by an earlier copy of this message).
    Finished(AttemptRecord, u64),
    /// Another worker holds a live lease.
    Busy,
}

pub(super) async fn claim(
    store: &dyn Store,
    m: &DeliveryMessage,
    now_ms: i64,
) -> Result<Claim, StoreError> {
    let record = m.claim_record(now_ms);
    let put = WriteOp::Put {
        item: m.attempt_item(&record, 1)?,
        cond: Cond::Absent,
    };
    let current = match store.write(put).await {
        Ok(_) => return Ok(Claim::Won(1)),
        Err(StoreError::ConditionFailed { current }) => current,
        Err(e) => return Err(e),
    };
    let current = match current {
        Some(item) => *item,
        None => match store.get(&m.log_pk(), &m.attempt_sk()).await? {
            Some(item) => item,
            // Vanished in between (expired): let the message come back and claim afresh.
            None => return Ok(Claim::Busy),
        },
    };
    let existing: AttemptRecord = current.parse()?;
    if existing.status != AttemptStatus::Sending {
        return Ok(Claim::Finished(existing, current.version));
    }
    if existing.lease_until_ms.unwrap_or(0) > now_ms {
        return Ok(Claim::Busy);
    }
    // The previous holder died mid-attempt: take it over (one taker wins the version race).
    let takeover = WriteOp::Put {
        item: m.attempt_item(&record, current.version + 1)?,
        cond: Cond::Version(current.version),
    };
    match store.write(takeover).await {
        Ok(_) => {
            tracing::warn!(delivery_id = %m.delivery_id(), attempt = m.attempt, "took over an expired attempt lease");
            Ok(Claim::Won(current.version + 1))
        }
        Err(StoreError::ConditionFailed { .. }) => Ok(Claim::Busy),
        Err(e) => Err(e),
    }
}
