//! Rejection: a pending application is closed with its reason, kept on the record.

use super::{Application, ApplicationStatus, ProgramError};
use crate::domain::{ApplicationId, Handle};
use crate::platform::store::Store;
use crate::platform::store::StoreError;

/// Rejects a pending application (`409` naming its state otherwise). Round trips: ONE read,
/// ONE conditional put (a concurrent decision makes it read again and answer that state).
#[tracing::instrument(skip_all, fields(handle = %handle, application = %id))]
pub async fn reject(
    store: &dyn Store,
    handle: &Handle,
    id: &ApplicationId,
    reason: String,
    by: &str,
) -> Result<Application, ProgramError> {
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
        let op = super::approve::update_op(handle, &next, current.version)?;
        let target = format!("{id} ({})", next.email);
        match crate::kernel::audit::write(store, op, handle, "application.rejected", &target).await
        {
            Ok(()) => return Ok(next.view()),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProgramError::Busy)
}
