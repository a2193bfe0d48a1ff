//! The "this was not me" freeze (issue 59): a partner who did not make a change of their payout
//! details follows the link of its `payout_method_changed` mail and confirms; their payouts then
//! stay out of batches (`payout_method_disputed`) until an admin lifts the freeze
//! (`POST …/payout-method/unfreeze`). Both are audited in the method's own log (`disputed`,
//! `unfrozen`). The signed link itself is `mail::dispute`'s; this module only freezes.

use crate::domain::{Handle, PartnerId};
use crate::payout_methods::model::{AuditEntry, Dispute, MethodRecord};
use crate::payout_methods::set::audit_op;
use crate::payout_methods::{MethodError, get};
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

/// Freezes the partner's payouts. A second freeze changes nothing (a link followed twice).
/// Round trips: ONE read, ONE transaction (method version-checked, audit).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn freeze(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<MethodRecord, MethodError> {
    let current = get(store, handle, partner)
        .await?
        .ok_or_else(|| MethodError::NotSet(partner.clone()))?;
    if current.disputed.is_some() {
        return Ok(current);
    }
    let now = crate::platform::time::timestamp();
    let mut next = current.clone();
    next.disputed = Some(Dispute {
        at: now.clone(),
        by: "the partner, through the link of the change's mail".into(),
    });
    write(store, handle, &current, next, "disputed", "partner").await
}

/// Lifts a freeze (an admin, after checking with the partner). `409` when there is none.
/// Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn unfreeze(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    by: &str,
) -> Result<MethodRecord, MethodError> {
    let current = get(store, handle, partner)
        .await?
        .ok_or_else(|| MethodError::NotSet(partner.clone()))?;
    if current.disputed.is_none() {
        return Err(MethodError::NotFrozen(partner.clone()));
    }
    let mut next = current.clone();
    next.disputed = None;
    write(store, handle, &current, next, "unfrozen", by).await
}

async fn write(
    store: &dyn Store,
    handle: &Handle,
    current: &MethodRecord,
    mut next: MethodRecord,
    action: &str,
    by: &str,
) -> Result<MethodRecord, MethodError> {
    next.version = current.version + 1;
    let entry = AuditEntry {
        partner_id: current.partner_id.clone(),
        action: action.into(),
        at: crate::platform::time::timestamp(),
        by: by.to_owned(),
        previous: None,
        current: current.masked.clone(),
    };
    let ops = vec![
        WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Version(current.version),
        },
        audit_op(handle, &entry)?,
        // The handle's audit log too (issue 60): the partner's "this was not me" runs outside a
        // signed-in request and is recorded as the system's, an admin's unfreeze as theirs.
        crate::kernel::audit::entry(
            handle,
            &format!("payout_method.{action}"),
            &format!("partner {}", current.partner_id),
        )?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::TxConflict { .. }) => Err(MethodError::Busy),
        Err(e) => Err(e.into()),
    }
}
