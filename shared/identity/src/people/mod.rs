//! People (issue 60): a merchant's team signs in as themselves. A **user** is an email identity
//! (`usr_…`); a **membership** gives them a role (admin, operator, creator, viewer: the access
//! table's) on a handle; a **session** is what a sign-in ends in (the `tenx_session` cookie).
//! Ways in: a one-time link by email (`sign_in`), an invitation's link (`invitations`), both
//! mailed through the mail room (`mail::enqueue_ops`, in the transaction that stores the token). The
//! authorization layer (`http::auth`) turns a session into a principal with its membership's
//! role on the handle asked for, read on every request (a removed member is refused at once).
//!
//! Items (docs/storage.md): `U#{user}` (the user `U`, memberships `M#{handle}`, partnerships
//! `PU#{handle}` (issue 61), session entries `S#{sessionId}`), `E#{emailDigest}` (the user of an address `U`, its pending invitations
//! `I#{handle}#{id}`), `SES#{hash}` (a session), `SIT#{hash}` (a link's token),
//! `H#{handle}#MB` (members), `H#{handle}#MBN` (the admin count), `H#{handle}#INV`
//! (invitations).

pub mod acting;
pub mod admin_mail;
pub mod first_admin;
pub mod invitations;
pub mod memberships;
pub mod model;
pub mod oidc;
pub mod partner_users;
pub mod partnerships;
pub mod passkey_policy;
pub mod passkeys;
pub mod secret;
pub mod sessions;
pub mod sign_in;
pub mod users;

use crate::domain::Handle;
use crate::platform::store::StoreError;

/// Why a people request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// A link that is spent, expired, revoked or not ours (`401 unauthorized`).
    #[error("This sign-in link was already used, has expired or was withdrawn; ask for a new one.")]
    LinkRefused,
    /// The service has its first admin already (`409 invalid_state`): a set-up link is spent.
    #[error(
        "This server has its first admin already, so this set-up link no longer works: sign in \
         with your email, or ask an admin to invite you."
    )]
    SetUpDone,
    /// A set-up link that is not ours or has expired (`401 unauthorized`).
    #[error(
        "This set-up link has expired or is not this server's: restart `tenx serve` for a new \
         one (it prints the link while nobody is set up)."
    )]
    SetUpLinkRefused,
    /// `404 not_found`.
    #[error("{0} was not found.")]
    NotFound(String),
    /// `409 invalid_state`.
    #[error("The last admin of {0} cannot be removed or demoted; make another member admin first.")]
    LastAdmin(Handle),
    /// `409 invalid_state`.
    #[error("{0} is a member already.")]
    AlreadyMember(String),
    /// `409 invalid_state`: one partner per person and program.
    #[error("{0} acts for another partner of this program already.")]
    OtherPartner(String),
    /// Other writes of the same items kept winning (`503 unavailable`: try again).
    #[error("Too many changes of the team at once; try again.")]
    Contended,
    /// Too many asked for at once (`429 rate_limited`, with when to try again).
    #[error(transparent)]
    Limited(crate::kernel::ratelimit::Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
}
