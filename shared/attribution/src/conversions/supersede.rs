//! Verified beats unverified. Public and verified conversions share one idempotency keyspace per
//! handle, so anyone holding a ctx could post a merchant's order id first and have the
//! merchant's verified post of it refused. Instead, a verified submission whose key is held by
//! an UNVERIFIED conversion takes the key over, in ONE transaction:
//!
//! `[key record replaced (version-checked), verified conversion (put-if-absent), its
//! conversion.created outbox entry, the public conversion marked superseded (version-checked),
//! its conversion.reversed outbox entry (reason superseded_by_verified)]`
//!
//! Both conditions make it exactly once: of concurrent verified submissions (or retries) only one
//! can replace the key at the version read; the others are cancelled whole, read the key again
//! and find it verified (a replay: 200, or a reuse: 409). The superseded conversion's event id
//! derives from the reversal id written in the same transaction, so analytics takes its counts
//! off once. The per-click cap is left alone: the verified conversion takes the slot the public
//! one held.

use rust_decimal::Decimal;

use super::Receipt;
use super::idempotency::{IdempotencyRecord, Status};
use crate::domain::{Handle, ReversalId};
use crate::kernel::events::{ConversionData, Event, Reversal, ReversalData};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, StoreError, WriteOp};

/// The reason on the superseded conversion's `conversion.reversed` event.
pub(super) const REASON: &str = "superseded_by_verified";

/// The unverified conversion a verified submission may supersede, if the record holds one.
pub(super) fn held_unverified(record: &IdempotencyRecord, verified: bool) -> Option<&Receipt> {
    if !verified || record.status != Status::Completed {
        return None;
    }
    record.response.as_ref().filter(|held| !held.verified)
}

/// Commits `created` (the verified conversion's key record, conversion and outbox entry, the
/// key record conditioned on the version read) with the held conversion marked superseded.
/// `Ok(false)`: the key or the held conversion changed since they were read; read again.
/// Round trips: ONE consistent read (the held conversion), ONE transaction, ONE enqueue (both
/// events).
pub(super) async fn commit(
    io: Io<'_>,
    handle: &Handle,
    mut created: Vec<WriteOp>,
    created_event: Event,
    held: &Receipt,
) -> Result<bool, StoreError> {
    let id = held.conversion_id.clone();
    let (item, data) = super::record::load(io.store.as_ref(), handle, &id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("held conversion {id} has no record")))?;
    let verified_id = created_event
        .payload::<ConversionData>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .conversion_id
        .to_string();
    let (put, mut reversed_event) = superseded(handle, item, data, verified_id)?;
    created.push(put);
    created.push(crate::kernel::outbox::record(&mut reversed_event));
    let committed = crate::kernel::outbox::commit_and_publish(
        io.store.clone(),
        io.queue.clone(),
        created,
        &[created_event, reversed_event],
    )
    .await;
    match committed {
        Ok(()) => Ok(true),
        Err(StoreError::TxConflict { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The held conversion's record marked superseded (its version checked), and its
/// `conversion.reversed` event. A conversion the merchant already reversed keeps that reversal;
/// the event then takes off only the value the reversal left.
fn superseded(
    handle: &Handle,
    item: Item,
    data: ConversionData,
    verified_id: String,
) -> Result<(WriteOp, Event), StoreError> {
    let reversal_id = ReversalId::new();
    let left = match (&data.reversal, data.value) {
        (Some(prior), Some(value)) => Some(value - prior.amount.unwrap_or(Decimal::ZERO)),
        (None, value) => value,
        (Some(_), None) => None,
    };
    let reversal = Reversal {
        reversal_id: reversal_id.clone(),
        reason: REASON.to_owned(),
        amount: left,
        currency: data.currency,
        reversed_at: crate::platform::time::timestamp(),
        reversed_by: verified_id.clone(),
        previous_amount: None,
    };
    let marked = ConversionData {
        reversal: data.reversal.clone().or(Some(reversal.clone())),
        superseded_by: Some(verified_id),
        ..data
    };
    let event_data = ReversalData {
        reversal,
        conversion: ConversionData {
            reversal: None,
            ..marked.clone()
        },
    };
    let mut event = Event::new(handle, &event_data);
    event.id = reversal_id.event_id();
    let put = WriteOp::Put {
        item: Item::new(item.pk, item.sk, crate::platform::store::to_doc(&marked)?)
            .with_version(item.version + 1),
        cond: Cond::Version(item.version),
    };
    Ok((put, event))
}
