//! A rate arrives: every line held with `fx_rate_missing` is computed again from its conversion
//! (same id, same plan version, the rate in force at the conversion's time) and rejoins the
//! normal flow, version-checked. Lines whose rate is still missing stay held.

use crate::commissions::accrue;
use crate::commissions::ledger::{Commission, Kind, Status};
use crate::commissions::{due, emit};
use crate::domain::{ConversionId, Handle};
use crate::state::AppState;
use crate::store::StoreError;

/// Recomputes the handle's lines waiting for a rate; returns how many now have an amount.
/// Round trips: the ledger scan, then per waiting line its conversion, terms and a commit.
pub async fn resolve(state: &AppState, handle: &Handle) -> Result<usize, StoreError> {
    let waiting = super::scan(state, handle, |c| {
        c.kind == Kind::Conversion && c.status == Status::Held && c.amount_minor.is_none()
    })
    .await?;
    let mut resolved = 0;
    for line in waiting {
        resolved += usize::from(resolve_one(state, handle, line).await?);
    }
    Ok(resolved)
}

async fn resolve_one(
    state: &AppState,
    handle: &Handle,
    line: Commission,
) -> Result<bool, StoreError> {
    let Some(id) = line
        .conversion_id
        .as_deref()
        .and_then(|c| ConversionId::parse(c).ok())
    else {
        return Ok(false);
    };
    let Some((_, conversion)) = crate::conversions::record::load(state, handle, &id).await? else {
        return Ok(false);
    };
    let Some(terms) = accrue::terms(state, handle, &conversion).await? else {
        return Ok(false);
    };
    let mut next = accrue::draft(
        state,
        handle,
        &conversion,
        line.commission_id.clone(),
        &terms,
    )
    .await?;
    if next.amount_minor.is_none() {
        return Ok(false);
    }
    next.created_at = line.created_at.clone();
    next.version = line.version;
    let mut ops = vec![next.update(handle.as_str())?];
    ops.extend(due::entry(handle, &next));
    match emit::commit(state, handle, ops, Vec::new()).await {
        Ok(()) => Ok(true),
        // Changed meanwhile (reviewed, or resolved by a concurrent post): left as it is now.
        Err(StoreError::TxConflict { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
