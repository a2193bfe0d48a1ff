//! Partner programs (issue 46): a handle's public program page and the applications to it.
//!
//! - `settings`: the program (`H#{handle}` / `P#program`), version-checked writes.
//! - `summary`: what the public page shows, the commission summary in words from the
//!   template campaign's plan (nothing private: no caps, no other campaign).
//! - `apply`: an application (`H#{handle}#APP` / `{applicationId}`), deduplicated by the digest
//!   of its email (`H#{handle}#APPE` / `{digest}`), with its `partner.applied` event.
//! - `approve`: the partner, its campaign, the campaign's plan and primary link (copied from
//!   the template), a partner token, the application's new status and `partner.approved`, in
//!   ONE transaction: all of it or nothing.
//! - `reject`: the status and its reason. `list`: the queue, by status.

pub mod apply;
pub mod approve;
pub mod claim_rules;
pub mod coupon_rules;
pub mod list;
pub mod model;
pub mod reject;
pub mod self_billing;
pub mod settings;
pub mod summary;
pub mod tax_threshold;

pub use model::{
    Application, ApplicationPolicy, ApplicationSpec, ApplicationStatus, Program, ProgramSpec,
};

use crate::domain::{ApplicationId, DomainError, Handle};
use crate::links::LinkError;
use crate::platform::store::StoreError;

/// Why a program or application request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// Bad input (`400`, the field named).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The handle has no program (`404`).
    #[error("Handle {0} has no partner program.")]
    NoProgram(Handle),
    /// `applications: invite` (`409`).
    #[error("applications: the program {0} takes partners by invitation only.")]
    InviteOnly(Handle),
    #[error("Application {0} was not found.")]
    NotFound(ApplicationId),
    /// The application is not pending (`409`, its state named).
    #[error("Application {id} is {status}: {hint}")]
    State {
        id: ApplicationId,
        status: &'static str,
        hint: String,
    },
    /// Approval cannot copy the template (`409`, `template` named).
    #[error("template: {0}")]
    Template(String),
    /// What approval would create exists already (`409`).
    #[error("{0}")]
    Taken(String),
    #[error("The program or application is being changed concurrently; retry.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LinkError> for ProgramError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::SlugTaken(slug) => {
                ProgramError::Taken(format!("slug: the link {slug} exists already."))
            }
            LinkError::Store(e) => ProgramError::Store(e),
            LinkError::NotFound(_)
            | LinkError::PreconditionFailed(_)
            | LinkError::Busy
            | LinkError::Extra { .. } => ProgramError::Busy,
        }
    }
}
