//! A rate arrives: every line held with `fx_rate_missing` is computed again from its conversion
//! (same id, same plan version, the rate in force at the conversion's time) and rejoins the
//! normal flow, version-checked. The lines its reversals wrote meanwhile (adjustments waiting
//! for the same rate) are computed from it in the same transaction. Lines whose rate is still
//! missing stay held.

use rust_decimal::Decimal;

use crate::domain::Handle;
use crate::kernel::io::Io;
use crate::ledger::accrue::{Outcome, Write};
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::{accrue, due, reversal, tally};
use crate::platform::store::StoreError;

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
        |c| {
            matches!(c.kind, Kind::Conversion | Kind::Adjustment)
                && c.status == Status::Held
                && c.amount_minor.is_none()
        },
    )
    .await?;
    let (lines, mut adjustments): (Vec<_>, Vec<_>) = waiting
        .into_iter()
        .partition(|c| c.kind == Kind::Conversion);
    let mut resolved = 0;
    for line in lines {
        let (linked, rest) = adjustments
            .into_iter()
            .partition(|a| a.adjusts_commission_id.as_ref() == Some(&line.commission_id));
        adjustments = rest;
        resolved += usize::from(resolve_one(io, risk, handle, line, &linked).await?);
    }
    Ok(resolved)
}

async fn resolve_one(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    handle: &Handle,
    line: Commission,
    linked: &[Commission],
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
    // Reversed while it waited: it stays reversed, by the lines already written.
    next.adjusted_by = line.adjusted_by.clone();
    next.reversed_share = line.reversed_share;
    keep_confidence_hold(&line, &mut next);
    // It takes its cap slots now that it has an amount; lost: changed meanwhile (reviewed,
    // resolved by a concurrent post, or a reversal's line written), left as it is now.
    let adjustments = |rated: &Commission| rated_adjustments(handle, rated, linked);
    let written =
        accrue::write_capped_with(io, handle, next, &terms.plan, Write::Update, &adjustments)
            .await?;
    Ok(matches!(written, Outcome::Written(_)))
}

/// The writes that rate `linked`, the adjustments reversals wrote against `line` while it had
/// no amount, from `line` as it is written now: each its part of the shares reversed, in the
/// order they were reversed (a full refund: exactly the line), following the line's status.
fn rated_adjustments(
    handle: &Handle,
    line: &Commission,
    linked: &[Commission],
) -> Result<tally::Extra, StoreError> {
    let mut in_order: Vec<&Commission> = linked.iter().collect();
    // Written before shares were kept: a first reversal, of the whole line unless told.
    let share = |a: &Commission| a.reversed_share.unwrap_or(Decimal::ONE);
    in_order.sort_by_key(|a| share(a));
    let mut extra = tally::Extra::default();
    let mut before = Decimal::ZERO;
    for adjustment in in_order {
        let after = share(adjustment);
        let mut next = adjustment.clone();
        next.amount_minor = match line.status {
            Status::Rejected | Status::Capped => Some(0),
            _ => reversal::part_between(line, before, after),
        };
        next.status = line.status;
        next.available_at = line.available_at.clone();
        next.reasons.retain(|r| r != "fx_rate_missing");
        before = after;
        let mut ops = next.update(handle)?;
        extra.moves.extend(ops.split_off(1));
        extra.conditional.extend(ops);
        extra.moves.extend(due::entry(handle, &next));
    }
    Ok(extra)
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
