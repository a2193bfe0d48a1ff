//! An operator's review: approve a held line back into the normal flow, or reject a line (with
//! who, when and why), one or up to 100 at once, idempotently; and manual entries. A line's
//! linked adjustment follows its review. Every change is version-checked and carries its event.

use crate::domain::{CampaignId, CommissionId, Currency, Handle, PartnerId};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::{CommissionError, due};
use crate::ledger::{emit, view};
use crate::people::acting::Decider;
use crate::platform::store::StoreError;

/// Why a public conversion's commission was rejected: a verified one took its key.
pub const SUPERSEDED: &str = "superseded_by_verified";

/// The most ids one bulk review takes.
pub const MAX_BULK: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Who decided, and why.
pub struct Review<'a> {
    pub by: &'a str,
    pub note: Option<&'a str>,
    /// Who decides: nobody approves or rejects the money of a partner they act for.
    pub decider: &'a Decider,
}

/// The status a decision moves `line` to; `Ok(None)`: already there (idempotent).
fn next_status(
    line: &Commission,
    d: Decision,
    now_ms: i64,
) -> Result<Option<Status>, CommissionError> {
    let refuse = |why: &str| {
        Err(CommissionError::InvalidState(format!(
            "Commission {} is {}: {why}.",
            line.commission_id,
            serde_json::to_value(line.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        )))
    };
    match (d, line.status) {
        (Decision::Approve, Status::Pending | Status::Approved) => Ok(None),
        (Decision::Approve, Status::Held) if line.amount_minor.is_none() => {
            refuse("it cannot be approved before its exchange rate is known")
        }
        (Decision::Approve, Status::Held) => Ok(Some(if line.available_at_ms() <= now_ms {
            Status::Approved
        } else {
            Status::Pending
        })),
        (Decision::Reject, Status::Rejected) => Ok(None),
        (Decision::Reject, _) if line.payout_id.is_some() => {
            refuse("it is in a payout; a reversal claws it back instead")
        }
        (Decision::Reject, Status::Pending | Status::Held | Status::Approved) => {
            Ok(Some(Status::Rejected))
        }
        _ => refuse("this change does not apply"),
    }
}

/// Applies one decision to one line (and its linked adjustment). Round trips: the reads, then
/// ONE transaction; a concurrent change is re-read and retried.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn decide(
    io: Io<'_>,
    handle: &Handle,
    id: &CommissionId,
    d: Decision,
    review: &Review<'_>,
) -> Result<Commission, CommissionError> {
    for _ in 0..8 {
        let line = crate::ledger::get(io.store.as_ref(), handle, id)
            .await?
            .ok_or_else(|| CommissionError::NotFound(id.clone()))?;
        review.decider.refuse(Some(&line.partner_id))?;
        let now = crate::platform::time::now_millis();
        let Some(status) = next_status(&line, d, now)? else {
            return Ok(line);
        };
        let mut lines = vec![line];
        if let Some(adj) = &lines[0].adjusted_by
            && let Some(a) = crate::ledger::get(io.store.as_ref(), handle, adj).await?
        {
            lines.extend(next_status(&a, d, now).ok().flatten().map(|_| a));
        }
        let mut ops = Vec::new();
        let mut emits = Vec::new();
        let mut decided = Vec::new();
        for l in &lines {
            let mut next = l.clone();
            next.status = status;
            next.reviewed_by = Some(review.by.to_owned());
            next.reviewed_at = Some(crate::platform::time::timestamp());
            next.review_note = review.note.map(str::to_owned);
            if status == Status::Rejected && next.counted.is_some() {
                // A rejected conversion no longer counts toward its partner's tiers (the
                // month's later conversions); the lines already written keep their rates.
                let store = io.store.as_ref();
                ops.extend(crate::ledger::tally::take_back(store, handle, l).await?);
                next.counted = None;
            }
            ops.extend(next_write(handle, l, &next)?);
            ops.push(due::clear(handle, l));
            ops.extend(due::entry(handle, &next));
            emits.extend(match next.status {
                Status::Approved => Some(view::event(view::CommissionEvent::Approved, &next)),
                Status::Rejected => Some(view::event(view::CommissionEvent::Rejected, &next)),
                _ => None,
            });
            next.updated();
            decided.push(next);
        }
        let action = match d {
            Decision::Approve => "commission.approved",
            Decision::Reject => "commission.rejected",
        };
        ops.push(crate::kernel::audit::entry(
            handle,
            action,
            &audit_target(&lines[0]),
        )?);
        match emit::commit(io, handle, ops, emits).await {
            Ok(()) => return Ok(decided.swap_remove(0)),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CommissionError::Busy)
}

/// How the audit log names a line: its id and partner.
fn audit_target(line: &Commission) -> String {
    format!("{} (partner {})", line.commission_id, line.partner_id)
}

/// The version-checked write of `next` over `current`, with its balance moves.
fn next_write(
    handle: &Handle,
    current: &Commission,
    next: &Commission,
) -> Result<Vec<crate::platform::store::WriteOp>, StoreError> {
    let mut staged = next.clone();
    staged.version = current.version;
    staged.as_read = current.as_read.clone();
    staged.update(handle)
}

/// A conversion superseded by a verified one: its unpaid commission is rejected.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn reject_superseded(
    io: Io<'_>,
    handle: &Handle,
    line: Commission,
) -> Result<(), StoreError> {
    let review = Review {
        by: "system",
        note: Some(SUPERSEDED),
        decider: &Decider::system(),
    };
    match decide(io, handle, &line.commission_id, Decision::Reject, &review).await {
        Ok(_) | Err(CommissionError::InvalidState(_)) => Ok(()),
        Err(CommissionError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Unavailable(e.to_string())),
    }
}

/// A manual entry (a bonus, a correction): approved at once, payable in the next payout.
pub struct Manual {
    pub partner_id: PartnerId,
    pub campaign_id: Option<CampaignId>,
    pub minor: i64,
    pub currency: Currency,
    pub reason: String,
}

/// Writes a manual line. Round trips: the partner read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn manual(
    io: Io<'_>,
    handle: &Handle,
    m: Manual,
    by: &str,
) -> Result<Commission, CommissionError> {
    if crate::partners::get(io.store.as_ref(), handle, &m.partner_id)
        .await?
        .is_none()
    {
        return Err(CommissionError::UnknownPartner(m.partner_id));
    }
    let now = crate::platform::time::timestamp();
    let mut line = Commission::blank(
        CommissionId::new(),
        Kind::Manual,
        m.partner_id,
        Some(m.minor),
        m.currency,
        Status::Approved,
    );
    line.campaign_id = m.campaign_id;
    line.reasons = vec![m.reason];
    line.available_at = now.clone();
    line.created_at = now.clone();
    line.reviewed_by = Some(by.to_owned());
    line.reviewed_at = Some(now);
    let mut ops = line.create(handle)?;
    ops.push(crate::kernel::audit::entry(
        handle,
        "commission.manual_created",
        &audit_target(&line),
    )?);
    let emits = vec![view::event(view::CommissionEvent::Created, &line)];
    emit::commit(io, handle, ops, emits).await?;
    Ok(line)
}
