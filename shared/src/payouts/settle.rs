//! A payout's status changes: `mark-paid`, `mark-failed`, `cancel`, and what they do to its
//! lines (paid, or released to the next run).

use crate::domain::{Handle, PayoutId};
use crate::kernel::state::AppState;
use crate::ledger::emit;
use crate::ledger::model::Status;
use crate::payouts;
use crate::payouts::model::{Payout, PayoutError, PayoutStatus};
use crate::platform::store::StoreError;

/// Where a status change leads.
pub enum Change {
    Paid { reference: String },
    Failed { reason: String },
    Canceled { reason: String },
}

impl Change {
    fn target(&self) -> PayoutStatus {
        match self {
            Change::Paid { .. } => PayoutStatus::Paid,
            Change::Failed { .. } => PayoutStatus::Failed,
            Change::Canceled { .. } => PayoutStatus::Canceled,
        }
    }
}

/// Moves a pending payout to paid, failed or canceled (version-checked, with `payout.paid`
/// for a payment), then settles its lines: paid, or released to the next run. Repeating the same
/// change finishes its line work and answers the payout; any other change of a settled payout
/// is `invalid_state`.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn change(
    state: &AppState,
    handle: &Handle,
    id: &PayoutId,
    change: Change,
) -> Result<Payout, PayoutError> {
    let target = change.target();
    let mut payout = payouts::get(state, handle, id)
        .await?
        .ok_or_else(|| PayoutError::NotFound(id.clone()))?;
    if payout.status == PayoutStatus::Pending {
        payout = commit_status(state, handle, payout, change).await?;
    } else if payout.status != target {
        return Err(PayoutError::InvalidState(
            format!(
                "Payout {id} is {:?}; only a pending payout changes status.",
                payout.status
            )
            .to_lowercase(),
        ));
    }
    settle_lines(state, handle, &payout).await?;
    Ok(payout)
}

async fn commit_status(
    state: &AppState,
    handle: &Handle,
    current: Payout,
    change: Change,
) -> Result<Payout, PayoutError> {
    let mut next = current.clone();
    next.status = change.target();
    match change {
        Change::Paid { reference } => {
            next.reference = Some(reference);
            next.paid_at = Some(crate::platform::time::now_rfc3339());
        }
        Change::Failed { reason } | Change::Canceled { reason } => next.reason = Some(reason),
    }
    let op = crate::platform::store::WriteOp::Put {
        item: crate::platform::store::Item::new(
            crate::platform::store::keys::payouts_pk(handle),
            next.payout_id.as_str(),
            crate::platform::store::to_doc(&next)?,
        )
        .with_version(current.version + 1),
        cond: crate::platform::store::Cond::Version(current.version),
    };
    let emits: Vec<_> = (next.status == PayoutStatus::Paid)
        .then(|| payouts::payout_event(&next, payouts::PayoutEvent::Paid))
        .into_iter()
        .collect();
    match emit::commit(state.io(), handle, vec![op], emits).await {
        Ok(()) => {
            next.version += 1;
            Ok(next)
        }
        Err(StoreError::TxConflict { .. }) => Err(PayoutError::Busy),
        Err(e) => Err(e.into()),
    }
}

/// A paid payout's lines become `paid`; a failed or canceled one's go back to `approved`. In
/// batched transactions (`payouts::claim::change_all`): a payout of 10^5 lines settles in ~10^3.
async fn settle_lines(state: &AppState, handle: &Handle, p: &Payout) -> Result<(), StoreError> {
    let paid = p.status == PayoutStatus::Paid;
    let ids = payouts::lines::ids(state.store.as_ref(), handle, p).await?;
    payouts::claim::change_all(state, handle, &ids, |c| {
        if c.payout_id.as_ref() != Some(&p.payout_id) {
            return None;
        }
        let mut n = c.clone();
        match (paid, c.status) {
            (true, Status::Paid) => return None,
            (true, _) => n.status = Status::Paid,
            (false, _) => n.payout_id = None,
        }
        Some(n)
    })
    .await
}
