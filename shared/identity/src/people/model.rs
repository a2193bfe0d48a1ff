//! What the people room stores and answers.

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, InvitationId, PartnerId, SessionId, UserId};

/// A person: an email identity. Stored at the user's record and, whole, at their email's index
/// item (so finding a user by address is ONE read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: UserId,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub created_at: Timestamp,
}

/// A user's membership of a handle (in the user's partition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub handle: Handle,
    pub role: Role,
    pub since: Timestamp,
}

/// A handle's member (in the handle's members partition): what the team screen lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: Role,
    pub since: Timestamp,
}

/// A signed-in session, stored under its secret's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_id: SessionId,
    pub user_id: UserId,
    /// What a cookie-authenticated write must send in `x-csrf-token` (answered by `GET /v2/me`
    /// to the session's own browser; useless without the cookie, whose secret is stored hashed).
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The absolute end, whatever the activity.
    pub expires_at: Timestamp,
    /// The client address at sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The browser's User-Agent at sign-in (at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The sign-in address's keyed digest, as a click's (`CtxKeyring::address_digest`): partner
    /// risk finds a partner's sales made from where its people sign in
    /// (`customer_matches_partner`). Absent where the signing-in process holds no ctx keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
    /// The signing-in browser's visitor fingerprint, as a click's (`CtxKeyring::fingerprint`):
    /// partner risk finds a partner's sales made from the browsers its people sign in from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_hash: Option<String>,
}

/// A session's listing entry in its user's partition: the hash finds the session.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionEntry {
    pub session_id: SessionId,
    pub secret_hash: String,
}

/// An invitation to a handle, pending until accepted, revoked or expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub invitation_id: InvitationId,
    pub handle: Handle,
    pub email: String,
    pub role: Role,
    /// Who invited (the subject of their credential).
    pub invited_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The hash of its link's token, so revoking it ends the link too.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub(crate) token_hash: String,
}

/// What a one-time link's token signs in as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Purpose {
    /// A sign-in link asked for by `POST /v2/auth/email-link`.
    SignIn,
    /// An invitation's link: accepting makes the person a member once.
    Invitation {
        handle: Handle,
        invitation_id: InvitationId,
    },
    /// A partner's link (issue 61: the approval's, or a partner invitation's): makes the person
    /// a user of the partner once.
    Partner {
        handle: Handle,
        partner_id: PartnerId,
        role: PartnerRole,
    },
    /// The first start's set-up link (`tenx serve` prints it while the service has no admin):
    /// makes the person who opens it the first admin of the handle they name, once.
    FirstAdmin,
}

/// A person's role with a partner: the owner (the approved contact) may invite others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerRole {
    Owner,
    Member,
}

impl PartnerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerRole::Owner => "owner",
            PartnerRole::Member => "member",
        }
    }
}

/// A person's partnership: they act for `partner_id` on `handle` (in the user's partition; at
/// most one per handle, so a session's partner on a handle is never ambiguous).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partnership {
    pub handle: Handle,
    pub partner_id: PartnerId,
    pub role: PartnerRole,
    pub since: Timestamp,
}

/// A one-time link's token, stored under its hash until spent or expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkToken {
    pub email: String,
    pub purpose: Purpose,
    /// Where to go once signed in (a same-origin path, checked when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub expires_at: Timestamp,
}
