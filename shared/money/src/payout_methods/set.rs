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
    let Some(record) = crate::partners::get(store, handle, partner).await? else {
        return Err(MethodError::PartnerNotFound(partner.clone()));
    };
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
        match write(io, handle, current.as_ref(), &next, &record).await {
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

/// The first setting of a partner's method as writes for a transaction of the caller's (an
/// imported partner's creating one, issue 64): the method, sealed as [`set`] seals it, put only
/// if absent, and its audit entry. No pending change (there were no details before), so no
/// hold, no `partner.updated` and no mail.
pub fn first_setting(
    keys: &Keyring,
    handle: &Handle,
    partner: &PartnerId,
    details: &Details,
    by: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    // With the keyring given, only the record's encoding can fail.
    let record = record_of(Ok(keys), handle, partner, details, by, None).map_err(|e| match e {
        MethodError::Store(e) => e,
        other => StoreError::Other(other.to_string()),
    })?;
    let target = format!("partner {partner}");
    let mut ops = vec![
        WriteOp::Put {
            item: record.item(handle)?,
            cond: Cond::Absent,
        },
        crate::kernel::audit::entry(handle, "payout_method.set", &target)?,
    ];
    ops.extend(digest_ops(handle, &record)?);
    Ok(ops)
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
    let (sealed, account_digest) = match details {
        Details::Manual => (None, None),
        d => {
            let plain = serde_json::to_vec(d).unwrap_or_default();
            let keys = keys?;
            let digest = crate::payout_methods::digests::account(keys, handle, d);
            (Some(keys.seal(&aad(handle, partner), &plain)), digest)
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
        // A freeze outlives new details: only an admin lifts it.
        disputed: current.and_then(|c| c.disputed.clone()),
        account_digest,
        version: current.map_or(1, |c| c.version + 1),
    })
}

/// The first setting: ONE put-if-absent. A change: ONE transaction of the method
/// (version-checked), its audit entry, its `partner.updated` event and its mail to the
/// partner's address as it is before the change (`payout_method_changed`, once per change).
async fn write(
    io: Io<'_>,
    handle: &Handle,
    current: Option<&MethodRecord>,
    next: &MethodRecord,
    partner: &crate::partners::Partner,
) -> Result<(), StoreError> {
    let Some(current) = current else {
        let op = WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Absent,
        };
        let target = format!("partner {}", next.partner_id);
        let mut ops = vec![
            op,
            crate::kernel::audit::entry(handle, "payout_method.set", &target)?,
        ];
        ops.extend(digest_ops(handle, next)?);
        return match io.store.transact(ops).await {
            Err(StoreError::TxConflict { index: 0, current }) => {
                Err(StoreError::ConditionFailed { current })
            }
            other => other,
        };
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
    let mut ops = vec![
        method,
        audit_op(handle, &entry)?,
        crate::kernel::audit::entry(handle, "payout_method.changed", &target)?,
        crate::kernel::outbox::record(&mut event),
    ];
    ops.extend(digest_ops(handle, next)?);
    let staged = changed_mail(handle, partner, next, &event);
    if let Some(staged) = &staged {
        ops.extend(staged.ops.iter().cloned());
    }
    crate::kernel::outbox::commit_and_publish(io.store.clone(), io.queue.clone(), ops, &[event])
        .await?;
    if let Some(staged) = &staged {
        crate::mail::publish(io, staged).await;
    }
    Ok(())
}

/// The `payout_method_changed` mail of a change, keyed by its event; `None` when the partner
/// has no address to write to (logged). Its "this was not me" link is written when it is sent.
fn changed_mail(
    handle: &Handle,
    partner: &crate::partners::Partner,
    next: &MethodRecord,
    event: &Event,
) -> Option<crate::mail::Staged> {
    let to = partner
        .email
        .as_deref()
        .and_then(|e| crate::domain::email::Email::parse("email", e).ok());
    let Some(to) = to else {
        tracing::info!(partner = %partner.partner_id, "no mail of the payout change: the partner has no address");
        return None;
    };
    let mail = crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: crate::mail::MailKind::PayoutMethodChanged,
        key: event.id.to_string(),
        data: serde_json::json!({
            "partnerId": partner.partner_id.as_str(),
            "partnerName": partner.name,
            "changedAt": next.set_at.as_str(),
            "method": next.masked.kind.words(),
        }),
    };
    match crate::mail::enqueue_ops(&mail) {
        Ok(staged) => Some(staged),
        Err(e) => {
            tracing::warn!(error = %e, "the payout change's mail could not be staged");
            None
        }
    }
}

/// The listing of the record's account digest, when it has one (`digests`).
fn digest_ops(handle: &Handle, record: &MethodRecord) -> Result<Vec<WriteOp>, StoreError> {
    let digests: Vec<String> = record.account_digest.iter().cloned().collect();
    crate::payout_methods::digests::index_ops(handle, &record.partner_id, &digests)
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
