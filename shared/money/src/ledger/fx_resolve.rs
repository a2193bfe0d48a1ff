//! A rate arrives: every line held with `fx_rate_missing` is computed again from its conversion
//! (same id, same plan version, the rate in force at the conversion's time) and rejoins the
//! normal flow, version-checked. Lines whose rate is still missing stay held.

use crate::domain::Handle;
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::risk_holds::RiskHolds;
use crate::platform::store::StoreError;
use crate::{ledger::accrue, ledger::accrue::Write};

/// Recomputes the handle's lines waiting for a rate; returns how many now have an amount.
/// Round trips: the held lines (their index), then per waiting line its conversion, terms and
/// a commit.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn resolve(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    handle: &Handle,
) -> Result<usize, StoreError> {
    let held = crate::ledger::index::status_key(Status::Held);
    let waiting = crate::ledger::scan_index(
        io.store.as_ref(),
        handle,
        crate::ledger::index::BY_STATUS,
        Some(held),
        |c| c.kind == Kind::Conversion && c.status == Status::Held && c.amount_minor.is_none(),
    )
    .await?;
    let mut resolved = 0;
    for line in waiting {
        resolved += usize::from(resolve_one(io, risk, handle, line).await?);
    }
    Ok(resolved)
}

async fn resolve_one(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    handle: &Handle,
    line: Commission,
) -> Result<bool, StoreError> {
    let Some(id) = line.conversion_id.clone() else {
        return Ok(false);
    };
    let Some((_, conversion)) =
        crate::conversions::record::load(io.store.as_ref(), handle, &id).await?
    else {
        return Ok(false);
    };
    let Some(terms) = accrue::terms(io.store.as_ref(), handle, &conversion).await? else {
        return Ok(false);
    };
    let mut next = accrue::draft(
        io.store.as_ref(),
        risk,
        handle,
        &conversion,
        line.commission_id.clone(),
        &terms,
        line.counted
            .as_ref()
            .map(crate::ledger::model::Counted::standing)
            .unwrap_or_default(),
    )
    .await?;
    if next.amount_minor.is_none() {
        return Ok(false);
    }
    next.created_at = line.created_at.clone();
    next.version = line.version;
    next.as_read = line.as_read.clone();
    // Rated where the partner stood when it was written, and counted as it was then.
    next.counted = line.counted.clone();
    keep_confidence_hold(&line, &mut next);
    // It takes its cap slots now that it has an amount; `None`: changed meanwhile (reviewed,
    // or resolved by a concurrent post), left as it is now.
    let written = accrue::write_capped(io, handle, next, &terms.plan, Write::Update).await?;
    Ok(written.is_some())
}

/// A line held for its campaign's low confidence when it was written stays held for it.
fn keep_confidence_hold(line: &Commission, next: &mut Commission) {
    if line.confidence.is_some() {
        next.confidence = line.confidence.clone();
        next.status = Status::Held;
        if !next
            .reasons
            .iter()
            .any(|r| r == crate::ledger::confidence::LOW)
        {
            next.reasons.push(crate::ledger::confidence::LOW.to_owned());
        }
    }
}
