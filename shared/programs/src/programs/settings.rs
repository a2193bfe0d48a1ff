//! The program's settings: one item, `H#{handle}` / `P#program`, replaced with a
//! version-checked write.

use super::{Program, ProgramError, ProgramSpec};
use crate::domain::{DomainError, Handle};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// The program, if the handle has one. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn get(store: &dyn Store, handle: &Handle) -> Result<Option<Program>, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), keys::PROGRAM_SK)
        .await?;
    item.map(|i| i.parse::<Program>()).transpose()
}

/// The program, or `404` when the handle has none.
pub async fn require(store: &dyn Store, handle: &Handle) -> Result<Program, ProgramError> {
    get(store, handle)
        .await?
        .ok_or_else(|| ProgramError::NoProgram(handle.clone()))
}

/// Creates or replaces the program. Its template must be a campaign of the handle (`400`
/// naming `template.campaignId`). Round trips: the campaign read (with a template), the
/// current read, ONE conditional put (a concurrent change is `409`, retry).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    spec: ProgramSpec,
    by: &str,
) -> Result<(Program, bool), ProgramError> {
    let mut program = spec.validate()?;
    if let Some(t) = &program.template
        && crate::campaigns::get(store, handle, &t.campaign_id)
            .await?
            .is_none()
    {
        return Err(DomainError::new(
            "template.campaignId",
            format!("campaign {} does not exist on this handle.", t.campaign_id),
        )
        .into());
    }
    let current = get(store, handle).await?;
    let (version, cond) = match &current {
        Some(c) => (c.version + 1, Cond::Version(c.version)),
        None => (1, Cond::Absent),
    };
    program.version = version;
    program.updated_at = crate::platform::time::timestamp();
    program.updated_by = by.to_owned();
    let doc = crate::platform::store::to_doc(&program)?;
    let item = Item::new(keys::handle_pk(handle), keys::PROGRAM_SK, doc).with_version(version);
    let put = WriteOp::Put { item, cond };
    let action = if current.is_none() {
        "program.created"
    } else {
        "program.updated"
    };
    match crate::kernel::audit::write(store, put, handle, action, "the partner program").await {
        Ok(()) => Ok((program, current.is_none())),
        Err(StoreError::ConditionFailed { .. }) => Err(ProgramError::Busy),
        Err(e) => Err(e.into()),
    }
}
