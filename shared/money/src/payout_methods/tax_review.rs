//! A tax profile's life: given or changed (`draft`), signed by the partner (`submitted`),
//! accepted by the program or sent back with a reason (`needs_fix`, mailed to the partner).
//! Only the partner signs (its token or one of its people): a manager may correct a profile,
//! never certify it. A change of what was signed unsigns it; the same profile sent again changes
//! nothing. Every step is one version-checked transaction with its audit entry, so a review
//! never lands on a profile changed under it.

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId};
use crate::kernel::state::Unconfigured;
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

use super::tax::{
    self, Certification, Sealed, SealedCertification, Signature, TaxError, TaxProfile, TaxRecord,
    TaxStatus,
};

/// Who sends a profile: the partner itself, or the program's people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Partner,
    Program,
}

/// Sets the partner's profile (validated, sealed) and, when `signature` is given, signs it
/// (the partner only; `signedAt` stamped here). Audited as `tax_profile.set` or
/// `tax_profile.certified`. Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn set(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    partner: &PartnerId,
    (profile, signature): (TaxProfile, Option<Signature>),
    sender: Sender,
    by: &str,
) -> Result<TaxRecord, TaxError> {
    if signature.is_some() && sender != Sender::Partner {
        return Err(TaxError::NotThePartner(
            "Only the partner signs its tax form: the program may correct the details, and the \
             partner then signs them in its portal."
                .into(),
        ));
    }
    let profile = profile.validate()?;
    let signed_name = signature
        .map(|s| tax::text("certification.signedName", &s.signed_name, 200))
        .transpose()?;
    let keys = keys?;
    let current = tax::get(store, handle, partner).await?;
    let before = current
        .as_ref()
        .map(|r| tax::open(keys, handle, r))
        .transpose()?;
    let unchanged = before.as_ref().is_some_and(|b| b.profile == profile);
    if let (Some(current), true, None) = (&current, unchanged, &signed_name) {
        return Ok(current.clone());
    }
    let record = sealed_record(
        keys,
        (handle, partner),
        profile,
        signed_name,
        current.as_ref(),
        by,
    );
    let action = match record.certification {
        Some(_) => "tax_profile.certified",
        None => "tax_profile.set",
    };
    let target = format!("partner {partner} ({:?} form)", record.view.form);
    // Its ids' digests listed in the same transaction (the shared tax id signal reads them).
    let index = super::digests::index_ops(handle, partner, &record.digests)?;
    write(
        store,
        handle,
        current.as_ref(),
        &record,
        index,
        (action, &target),
    )
    .await?;
    Ok(record)
}

/// The record of `profile` (signed by `signed_name`, when given) over `current`: sealed, its
/// digests, its status and versions.
fn sealed_record(
    keys: &Keyring,
    (handle, partner): (&Handle, &PartnerId),
    profile: TaxProfile,
    signed_name: Option<String>,
    current: Option<&TaxRecord>,
    by: &str,
) -> TaxRecord {
    let now = crate::platform::time::timestamp();
    let profile_version = current.map_or(0, |r| r.profile_version) + 1;
    let certification = signed_name.map(|signed_name| SealedCertification {
        signed_name,
        signed_at: now.clone(),
        profile_version,
        words_sha256: super::tax_words::digest(profile.form),
    });
    let sealed = Sealed {
        profile,
        certification,
    };
    let plain = serde_json::to_vec(&sealed).unwrap_or_default();
    let digests = super::digests::tax_ids(
        keys,
        handle,
        &sealed.profile.country,
        sealed.profile.tax_id.as_deref(),
        sealed.profile.vat_id.as_deref(),
    );
    TaxRecord {
        partner_id: partner.clone(),
        view: sealed.profile.view(),
        digests,
        sealed: keys.seal(&tax::aad(handle, partner), &plain),
        updated_at: now,
        updated_by: by.to_owned(),
        status: match &sealed.certification {
            Some(_) => TaxStatus::Submitted,
            None => TaxStatus::Draft,
        },
        fix_reason: None,
        certification: sealed.certification.as_ref().map(|c| Certification {
            signed_name: c.signed_name.clone(),
            signed_at: c.signed_at.clone(),
        }),
        profile_version,
        version: current.map_or(0, |r| r.version) + 1,
    }
}

/// Accepts the partner's signed profile. `invalid_state` when it is not signed; accepting an
/// accepted one changes nothing. Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn accept(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    by: &str,
) -> Result<TaxRecord, TaxError> {
    let current = sent_profile(store, handle, partner, "accept").await?;
    if current.status == TaxStatus::Accepted {
        return Ok(current);
    }
    if current.certification.is_none() {
        return Err(TaxError::InvalidState(
            "The partner has not signed this tax profile yet (or changed it since signing): it \
             can be accepted once the partner signs it in its portal."
                .into(),
        ));
    }
    let mut next = current.clone();
    next.status = TaxStatus::Accepted;
    next.fix_reason = None;
    next.updated_at = crate::platform::time::timestamp();
    next.updated_by = by.to_owned();
    next.version = current.version + 1;
    let target = format!("partner {partner}");
    write(
        store,
        handle,
        Some(&current),
        &next,
        vec![],
        ("tax_profile.accepted", &target),
    )
    .await?;
    Ok(next)
}

/// Sends the profile back with `reason` (`needs_fix`), the partner's mail staged in the same
/// transaction (none when it has no address). Round trips: TWO reads, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn request_fix(
    io: crate::kernel::io::Io<'_>,
    handle: &Handle,
    partner: &PartnerId,
    reason: &str,
    (by, base): (&str, &str),
) -> Result<TaxRecord, TaxError> {
    let store = io.store.as_ref();
    let reason = tax::text("reason", reason, 500)?;
    let current = sent_profile(store, handle, partner, "send back").await?;
    let mut next = current.clone();
    next.status = TaxStatus::NeedsFix;
    next.fix_reason = Some(reason.clone());
    next.updated_at = crate::platform::time::timestamp();
    next.updated_by = by.to_owned();
    next.version = current.version + 1;
    let staged = fix_mail(store, handle, &next, base).await?;
    let ops = staged.as_ref().map(|s| s.ops.clone()).unwrap_or_default();
    let target = format!("partner {partner}");
    write(
        store,
        handle,
        Some(&current),
        &next,
        ops,
        ("tax_profile.fix_requested", &target),
    )
    .await?;
    if let Some(staged) = &staged {
        crate::mail::publish(io, staged).await;
    }
    Ok(next)
}

/// The partner's `tax_profile_needs_fix` mail, keyed by the profile's item version (one mail a
/// request).
async fn fix_mail(
    store: &dyn Store,
    handle: &Handle,
    record: &TaxRecord,
    base: &str,
) -> Result<Option<crate::mail::Staged>, StoreError> {
    let Some(p) = crate::partners::get(store, handle, &record.partner_id).await? else {
        return Ok(None);
    };
    let Some(to) = p
        .email
        .as_deref()
        .and_then(|e| crate::domain::email::Email::parse("email", e).ok())
    else {
        tracing::info!(partner = %record.partner_id, "no mail of the tax profile's review: the partner has no address");
        return Ok(None);
    };
    let mail = crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: crate::mail::MailKind::TaxProfileNeedsFix,
        key: format!("tax-profile-fix:{}:{}", record.partner_id, record.version),
        data: serde_json::json!({
            "partnerName": p.name,
            "reason": record.fix_reason,
            "portalUrl": format!("{base}/portal/{handle}#tax"),
        }),
    };
    match crate::mail::enqueue_ops(&mail) {
        Ok(staged) => Ok(Some(staged)),
        Err(e) => {
            tracing::warn!(error = %e, "the tax profile's review mail could not be staged");
            Ok(None)
        }
    }
}

/// `next` over `current` (absent: a new profile), version-checked, with `extra` writes and the
/// audit entry `(action, target)`, in ONE transaction.
async fn write(
    store: &dyn Store,
    handle: &Handle,
    current: Option<&TaxRecord>,
    next: &TaxRecord,
    extra: Vec<WriteOp>,
    (action, target): (&str, &str),
) -> Result<(), TaxError> {
    let cond = current.map_or(Cond::Absent, |c| Cond::Version(c.version));
    let mut ops = vec![WriteOp::Put {
        item: next.item(handle)?,
        cond,
    }];
    ops.extend(extra);
    ops.push(crate::kernel::audit::entry(handle, action, target)?);
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TxConflict { index: 0, .. }) => Err(TaxError::Busy),
        Err(e) => Err(e.into()),
    }
}

/// The partner's profile under review. A partner that has sent none is a state, not a missing
/// thing (`invalid_state`, said with its name); an unknown partner is `not_found`.
async fn sent_profile(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    step: &str,
) -> Result<TaxRecord, TaxError> {
    if let Some(current) = tax::get(store, handle, partner).await? {
        return Ok(current);
    }
    match crate::partners::get(store, handle, partner).await? {
        Some(p) => Err(TaxError::InvalidState(format!(
            "{} has not sent a tax form yet: there is nothing to {step}.",
            p.name
        ))),
        None => Err(TaxError::NotFound(partner.clone())),
    }
}
