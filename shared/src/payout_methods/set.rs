//! `PUT …/partners/{partnerId}/payout-method`: sets or changes a partner's method.

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId};
use crate::kernel::events::Event;
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::payout_methods::model::PartnerUpdatedData;
use crate::payout_methods::model::{AuditEntry, Details, MethodRecord, Pending};
use crate::payout_methods::{MethodError, aad, get, open};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

/// What a `set` did.
pub struct Outcome {
    pub record: MethodRecord,
    /// The first setting (`201`), not a change.
    pub created: bool,
}

/// Sets `details` for `partner`. The first setting is written as it is; setting the same
/// details again changes nothing; other details are a change: audited, `partner.updated`, and
/// held until confirmed. Round trips: TWO reads (the partner, its method), then ONE write or
/// ONE transaction; a concurrent change is read again (at most 4 tries).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn set(
    io: Io<'_>,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    partner: &PartnerId,
    details: Details,
    by: &str,
) -> Result<Outcome, MethodError> {
    let store = io.store.as_ref();
    if crate::partners::get(store, handle, partner)
        .await?
        .is_none()
    {
        return Err(MethodError::PartnerNotFound(partner.clone()));
    }
    for _ in 0..4 {
        let current = get(store, handle, partner).await?;
        // Details that no longer open (a key rotated away) count as other details: a change.
        if let Some(c) = &current
            && open(keys, handle, partner, c.sealed.as_deref())
                .ok()
                .as_ref()
                == Some(&details)
        {
            return Ok(Outcome {
                record: c.clone(),
                created: false,
            });
        }
        let next = record_of(keys, handle, partner, &details, by, current.as_ref())?;
        match write(io, handle, current.as_ref(), &next).await {
            Ok(()) => {
                return Ok(Outcome {
                    created: current.is_none(),
                    record: next,
                });
            }
            Err(StoreError::ConditionFailed { .. } | StoreError::TxConflict { index: 0, .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(MethodError::Busy)
}

/// The record to write: sealed details (none for `manual`), and a pending change when there
/// were details before.
fn record_of(
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    partner: &PartnerId,
    details: &Details,
    by: &str,
    current: Option<&MethodRecord>,
) -> Result<MethodRecord, MethodError> {
    let now = crate::platform::time::timestamp();
    let sealed = match details {
        Details::Manual => None,
        d => {
            let plain = serde_json::to_vec(d).unwrap_or_default();
            Some(keys?.seal(&aad(handle, partner), &plain))
        }
    };
    Ok(MethodRecord {
        partner_id: partner.clone(),
        masked: details.masked(),
        sealed,
        set_at: now.clone(),
        set_by: by.to_owned(),
        pending: current.map(|c| Pending {
            changed_at: now,
            changed_by: by.to_owned(),
            previous: c.masked.clone(),
        }),
        confirmed_at: None,
        confirmed_by: None,
        version: current.map_or(1, |c| c.version + 1),
    })
}

/// The first setting: ONE put-if-absent. A change: ONE transaction of the method
/// (version-checked), its audit entry and its `partner.updated` event.
async fn write(
    io: Io<'_>,
    handle: &Handle,
    current: Option<&MethodRecord>,
    next: &MethodRecord,
) -> Result<(), StoreError> {
    let Some(current) = current else {
        let op = WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Absent,
        };
        let target = format!("partner {}", next.partner_id);
        return crate::kernel::audit::write(
            io.store.as_ref(),
            op,
            handle,
            "payout_method.set",
            &target,
        )
        .await;
    };
    let method = WriteOp::Put {
        item: next.item(handle)?,
        cond: Cond::Version(current.version),
    };
    let entry = AuditEntry {
        partner_id: next.partner_id.clone(),
        action: "changed".into(),
        at: next.set_at.clone(),
        by: next.set_by.clone(),
        previous: Some(current.masked.clone()),
        current: next.masked.clone(),
    };
    let mut event = updated_event(handle, current, next);
    let target = format!("partner {}", next.partner_id);
    let ops = vec![
        method,
        audit_op(handle, &entry)?,
        crate::kernel::audit::entry(handle, "payout_method.changed", &target)?,
        crate::kernel::outbox::record(&mut event),
    ];
    crate::kernel::outbox::commit_and_publish(io.store.clone(), io.queue.clone(), ops, &[event])
        .await
}

/// An audit entry's write (put-if-absent under a random suffix).
pub(crate) fn audit_op(handle: &Handle, entry: &AuditEntry) -> Result<WriteOp, StoreError> {
    let ms = entry.at.millis();
    let sk = format!(
        "{}#{ms:013}#{}",
        entry.partner_id,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let doc = crate::platform::store::to_doc(entry)?;
    Ok(WriteOp::Put {
        item: Item::new(keys::payout_method_audit_pk(handle), sk, doc),
        cond: Cond::Absent,
    })
}

fn updated_event(handle: &Handle, current: &MethodRecord, next: &MethodRecord) -> Event {
    let data = PartnerUpdatedData {
        partner_id: next.partner_id.clone(),
        changes: vec!["payoutMethod".into()],
        previous: serde_json::to_value(&current.masked).unwrap_or_default(),
        current: serde_json::to_value(&next.masked).unwrap_or_default(),
        changed_by: next.set_by.clone(),
        changed_at: next.set_at.clone(),
        held_until: next
            .held_until_ms()
            .map(crate::domain::time::unix_millis_to_rfc3339)
            .unwrap_or_default(),
    };
    Event::new(handle, &data)
}
