//! Rejection: a pending application is closed with its reason, kept on the record, and the
//! applicant is mailed that reason unless the manager says not to, staged in the same
//! transaction (one mail per application: it is keyed by the application, which is rejected
//! once).

use super::{Application, ApplicationStatus, ProgramError};
use crate::domain::{ApplicationId, Handle};
use crate::kernel::io::Io;
use crate::platform::config::Config;
use crate::platform::store::StoreError;

/// Rejects a pending application (`409` naming its state otherwise) and, when `mail_applicant`,
/// mails the applicant why. Round trips: ONE read, ONE transaction (the application's conditional put, its audit
/// entry and the mail's record; a concurrent decision makes it read again and answer that
/// state), the mail's enqueue.
#[tracing::instrument(skip_all, fields(handle = %handle, application = %id))]
pub async fn reject(
    io: Io<'_>,
    config: &Config,
    handle: &Handle,
    id: &ApplicationId,
    (reason, mail_applicant): (String, bool),
    by: &str,
) -> Result<Application, ProgramError> {
    let store = io.store.as_ref();
    for _ in 0..4 {
        let current = super::list::get(store, handle, id)
            .await?
            .ok_or_else(|| ProgramError::NotFound(id.clone()))?;
        if current.status != ApplicationStatus::Pending {
            return Err(super::approve::state_error(&current, current.status));
        }
        let mut next = current.clone();
        next.status = ApplicationStatus::Rejected;
        next.reason = Some(reason.clone());
        next.decided_at = Some(crate::platform::time::timestamp());
        next.decided_by = Some(by.to_owned());
        next.version = current.version + 1;
        let mut ops = vec![super::approve::update_op(handle, &next, current.version)?];
        let target = format!("{id} ({})", next.email);
        ops.push(crate::kernel::audit::entry(
            handle,
            "application.rejected",
            &target,
        )?);
        let mail = match mail_applicant {
            true => applicant_mail(config, handle, &next, &reason)?,
            false => None,
        };
        ops.extend(mail.iter().flat_map(|m| m.ops.iter().cloned()));
        match store.transact(ops).await {
            Ok(()) => {
                if let Some(mail) = &mail {
                    crate::mail::publish(io, mail).await;
                }
                return Ok(next.view());
            }
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProgramError::Busy)
}

/// The applicant's mail: the program turned them down, and why. `None` when the address is not
/// one we mail (the rejection still stands).
fn applicant_mail(
    config: &Config,
    handle: &Handle,
    application: &Application,
    reason: &str,
) -> Result<Option<crate::mail::Staged>, ProgramError> {
    let Ok(email) = crate::domain::email::Email::parse("email", &application.email) else {
        return Ok(None);
    };
    let base = crate::mail::unsubscribe::public_base(config);
    crate::mail::enqueue_ops(&crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to: email,
        kind: crate::mail::MailKind::ApplicationRejected,
        key: application.application_id.to_string(),
        data: serde_json::json!({
            "applicantName": application.name,
            "reason": reason,
            "programUrl": format!("{base}/programs/{handle}"),
        }),
    })
    .map(Some)
    .map_err(|e| match e {
        crate::mail::MailError::Store(e) => ProgramError::Store(e),
        other => ProgramError::Store(StoreError::Other(other.to_string())),
    })
}
