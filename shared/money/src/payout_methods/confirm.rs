//! `POST …/partners/{partnerId}/payout-method/confirm`: a manager confirms a change of payout
//! details, so the partner's payouts go into batches again before the 24 hours are up.

use crate::domain::{Handle, PartnerId};
use crate::payout_methods::model::{AuditEntry, MethodRecord};
use crate::payout_methods::set::audit_op;
use crate::payout_methods::{MethodError, get};
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

/// Clears the pending change (audited as `confirmed`). Confirming a method with no pending
/// change is `409`. Round trips: ONE read, ONE transaction (method version-checked, audit).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn confirm(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    by: &str,
) -> Result<MethodRecord, MethodError> {
    let current = get(store, handle, partner)
        .await?
        .ok_or_else(|| MethodError::NotSet(partner.clone()))?;
    if current.pending.is_none() {
        return Err(MethodError::NothingToConfirm(partner.clone()));
    }
    let now = crate::platform::time::timestamp();
    let mut next = current.clone();
    next.pending = None;
    next.confirmed_at = Some(now.clone());
    next.confirmed_by = Some(by.to_owned());
    next.version = current.version + 1;
    let entry = AuditEntry {
        partner_id: partner.clone(),
        action: "confirmed".into(),
        at: now,
        by: by.to_owned(),
        previous: current.pending.as_ref().map(|p| p.previous.clone()),
        current: current.masked.clone(),
    };
    let ops = vec![
        WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Version(current.version),
        },
        audit_op(handle, &entry)?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::TxConflict { .. }) => Err(MethodError::Busy),
        Err(e) => Err(e.into()),
    }
}
