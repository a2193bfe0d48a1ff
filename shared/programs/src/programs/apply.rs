//! An application through the public form: stored `pending` with its `partner.applied` event,
//! once per email address and handle (compared by [`crate::domain::email::key_of`]).

use super::model::{NewApplication, PartnerApplied};
use super::{Application, ApplicationPolicy, ApplicationStatus, ProgramError};
use crate::domain::{ApplicationId, Handle};
use crate::kernel::events::Event;
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::platform::config::Config;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

/// The answer to an application.
#[derive(Debug)]
pub struct Submitted {
    pub application_id: ApplicationId,
    /// The email had applied before: its first application's id, nothing written.
    pub deduped: bool,
}

/// Who approves an application on its own (`autoApprove`).
pub const AUTO_APPROVER: &str = "program:auto-approve";

/// Submits an application to the handle's open program. Round trips: the program read, ONE
/// transaction (the application and its email's index entry, both put if absent, and the
/// event's outbox entry), ONE enqueue; a duplicate email costs ONE read of the index instead
/// of the enqueue. With `autoApprove`, the approval's round trips follow ([`super::approve`]);
/// if it fails the application stays `pending` for a manager (logged).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn submit(
    io: Io<'_>,
    links: &LinkCache,
    config: &Config,
    handle: &Handle,
    new: NewApplication,
) -> Result<Submitted, ProgramError> {
    let program = super::settings::require(io.store.as_ref(), handle).await?;
    if program.applications == ApplicationPolicy::Invite {
        return Err(ProgramError::InviteOnly(handle.clone()));
    }
    let application = record(handle, new)?;
    let submitted = store_new(io, handle, &application).await?;
    if program.auto_approve && !submitted.deduped {
        let id = &submitted.application_id;
        if let Err(e) =
            super::approve::approve(io, links, config, handle, (id, None), AUTO_APPROVER).await
        {
            tracing::warn!(error = %e, application = %id, "auto-approval failed; left pending");
        }
    }
    Ok(submitted)
}

/// The deduplication key of an email on a handle: the SHA-256 of the handle and the address's
/// comparison form ([`crate::domain::email::key_of`]: NFC, lower case, no `+tag`; issue 57,
/// where it was the lower case only). Not keyed: the record beside it keeps the address
/// readable (the manager contacts the applicant), so a key would hide nothing the table does
/// not already hold.
pub fn email_key(handle: &Handle, email: &str) -> String {
    use sha2::Digest;
    let seed = format!("{handle}\n{}", crate::domain::email::key_of(email));
    hex::encode(sha2::Sha256::digest(seed.as_bytes()))
}

fn record(handle: &Handle, new: NewApplication) -> Result<Application, ProgramError> {
    Ok(Application {
        application_id: ApplicationId::new(),
        name: new.name,
        email_masked: crate::domain::customer::mask_email(&new.email)?,
        email_hash: email_key(handle, &new.email),
        throwaway_domain: crate::domain::disposable::domain_of(&new.email).map(str::to_owned),
        email: new.email,
        website: new.website,
        message: new.message,
        status: ApplicationStatus::Pending,
        reason: None,
        partner_id: None,
        campaign_id: None,
        created_at: crate::platform::time::timestamp(),
        decided_at: None,
        decided_by: None,
        version: 1,
        approval_key: None,
    })
}

/// The application, its index entry and its event, in one transaction; an email that applied
/// before answers its first application's id.
async fn store_new(
    io: Io<'_>,
    handle: &Handle,
    a: &Application,
) -> Result<Submitted, ProgramError> {
    let pk = keys::applications_pk(handle);
    let doc = crate::platform::store::to_doc(a)?;
    let item = Item::new(pk, a.application_id.as_str(), doc).with_version(1);
    let index_doc = serde_json::json!({ "applicationId": a.application_id });
    let index = Item::new(
        keys::application_emails_pk(handle),
        a.email_hash.as_str(),
        index_doc,
    );
    let mut event = Event::new(handle, &PartnerApplied::of(a.clone()));
    let ops = vec![
        WriteOp::Put {
            item,
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: index,
            cond: Cond::Absent,
        },
        crate::kernel::outbox::record(&mut event),
    ];
    let (store, queue) = (io.store.clone(), io.queue.clone());
    let events = std::slice::from_ref(&event);
    match crate::kernel::outbox::commit_and_publish(store, queue, ops, events).await {
        Ok(()) => Ok(Submitted {
            application_id: a.application_id.clone(),
            deduped: false,
        }),
        Err(StoreError::TxConflict { index: 1, current }) => {
            let first = match current {
                Some(item) => item,
                None => {
                    let pk = keys::application_emails_pk(handle);
                    let found = io.store.get(&pk, &a.email_hash).await?;
                    Box::new(found.ok_or(ProgramError::Busy)?)
                }
            };
            Ok(Submitted {
                application_id: first_id(&first)?,
                deduped: true,
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn first_id(index: &Item) -> Result<ApplicationId, StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry {
        application_id: ApplicationId,
    }
    Ok(index.parse::<Entry>()?.application_id)
}
