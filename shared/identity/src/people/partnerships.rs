//! Partner users (issue 61): a person acts for one of a handle's partners, as its owner (the
//! approved contact) or a member (invited by the merchant or the owner). A partnership is one
//! item in the person's partition (`U#{user}` / `PU#{handle}`: at most one partner per person
//! and handle, so which partner a session acts for is never ambiguous), made when they spend a
//! partner link: the approval's (mailed with `partner_approved`) or an invitation's. A link is a
//! one-time token of purpose `Partner` spent by the same verify page as a sign-in link, so the
//! person's session and the partnership are written in ONE transaction, once.

use std::time::Duration;

use super::model::{LinkToken, PartnerRole, Partnership, Purpose, User};
use super::{PeopleError, secret, users};
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, InvitationId, PartnerId, UserId};
use crate::kernel::io::Io;
use crate::mail::{MailKind, Outgoing};
use crate::platform::store::{
    Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix, to_doc,
};

/// How long a partner link is good for (as an invitation's).
pub const TTL: Duration = super::invitations::TTL;

/// The partnership of `user` on `handle`, if any. Round trips: ONE read.
pub async fn on_handle(
    store: &dyn Store,
    user: &UserId,
    handle: &Handle,
) -> Result<Option<Partnership>, StoreError> {
    store
        .get(&keys::user_pk(user), &keys::user_partnership_sk(handle))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// A person's partnerships, on every handle. Round trips: ONE query.
pub async fn of_user(store: &dyn Store, user: &UserId) -> Result<Vec<Partnership>, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_PARTNERSHIP_SK_PREFIX, 1000);
    let (items, _) = store.query(q).await?.parsed()?;
    Ok(items)
}

/// A partner link for `email`: its token (to mail, never stored) and the write that stores
/// its hash until it is spent or expires.
pub fn link_op(
    handle: &Handle,
    partner_id: &PartnerId,
    email: &Email,
    role: PartnerRole,
) -> Result<(String, Timestamp, WriteOp), StoreError> {
    let token = secret::generate(secret::LINK_PREFIX);
    let expires = now_unix() + crate::domain::time::secs(TTL);
    let record = LinkToken {
        email: email.as_str().to_owned(),
        purpose: Purpose::Partner {
            handle: handle.clone(),
            partner_id: partner_id.clone(),
            role,
        },
        next: Some(format!("/portal/{handle}")),
        expires_at: Timestamp::from_unix(expires),
    };
    let (pk, sk) = keys::sign_in_token(&secret::hash(&token));
    let op = WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&record)?).expiring_at(Some(expires)),
        cond: Cond::Absent,
    };
    Ok((token, Timestamp::from_unix(expires), op))
}

/// A partner invitation as answered.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerInvitation {
    pub invitation_id: InvitationId,
    pub partner_id: PartnerId,
    pub email: String,
    pub role: PartnerRole,
    pub expires_at: Timestamp,
}

/// Invites `email` to act for `partner_id` and mails the link (staged in the same transaction
/// as the link's token): as a member, or as its owner while the partner has none (a partner
/// made before partner users existed, or approved without an address: the program's
/// invitation is how it gets its first user; docs/partners.md). `409 invalid_state` when the
/// address acts for a partner of the handle already. Round trips: THREE reads, ONE
/// transaction, the mail's enqueue.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner_id))]
pub async fn invite(
    io: Io<'_>,
    base_url: &str,
    handle: &Handle,
    partner_id: &PartnerId,
    email: &Email,
    inviter: Option<String>,
) -> Result<PartnerInvitation, PeopleError> {
    let store = io.store.as_ref();
    if let Some(user) = users::by_email(store, email).await?
        && let Some(p) = on_handle(store, &user.user_id, handle).await?
    {
        return Err(if p.partner_id == *partner_id {
            PeopleError::AlreadyMember(email.as_str().to_owned())
        } else {
            PeopleError::OtherPartner(email.as_str().to_owned())
        });
    }
    let owned = super::partner_users::list(store, handle, partner_id)
        .await?
        .iter()
        .any(|u| u.role == PartnerRole::Owner);
    let role = if owned {
        PartnerRole::Member
    } else {
        PartnerRole::Owner
    };
    let (token, expires_at, op) = link_op(handle, partner_id, email, role)?;
    let invitation = PartnerInvitation {
        invitation_id: InvitationId::new(),
        partner_id: partner_id.clone(),
        email: email.as_str().to_owned(),
        role,
        expires_at,
    };
    let staged = crate::mail::enqueue_ops(&Outgoing {
        handle: Some(handle.clone()),
        to: email.clone(),
        kind: MailKind::Invitation,
        key: invitation.invitation_id.to_string(),
        data: serde_json::json!({
            "link": secret::link(base_url, &token),
            "partner": partner_id.as_str(),
            "inviter": inviter,
            "expiresAt": invitation.expires_at,
        }),
    })?;
    let mut ops = vec![op];
    ops.extend(staged.ops.iter().cloned());
    ops.push(crate::kernel::audit::entry(
        handle,
        "partner_invitation.created",
        &format!(
            "{} ({}, partner {partner_id})",
            invitation.invitation_id,
            email.as_str()
        ),
    )?);
    store.transact(ops).await?;
    crate::mail::publish(io, &staged).await;
    Ok(invitation)
}

/// The writes that make `user` act for the partner of a spent link: the partnership (put if
/// absent) and its audit entry; nothing when the person acts for a partner of the handle
/// already (the link still signs them in: one partner per person and handle).
pub(crate) async fn accept_ops(
    store: &dyn Store,
    user: &User,
    handle: &Handle,
    partner_id: &PartnerId,
    role: PartnerRole,
) -> Result<Vec<WriteOp>, PeopleError> {
    use crate::kernel::audit::{self, Actor, ActorType};
    if on_handle(store, &user.user_id, handle).await?.is_some() {
        return Ok(Vec::new());
    }
    let partnership = Partnership {
        handle: handle.clone(),
        partner_id: partner_id.clone(),
        role,
        since: crate::platform::time::timestamp(),
    };
    let actor = Actor {
        kind: ActorType::PartnerUser,
        id: user.user_id.to_string(),
    };
    let target = format!("partner {partner_id} ({}, {})", user.email, role.as_str());
    let listed =
        super::partner_users::entry_op(user, handle, partner_id, role, &partnership.since)?;
    Ok(vec![
        listed,
        WriteOp::Put {
            item: Item::new(
                keys::user_pk(&user.user_id),
                keys::user_partnership_sk(handle),
                to_doc(&partnership)?,
            ),
            cond: Cond::Absent,
        },
        audit::entry_by(
            handle,
            actor,
            audit::request_id(),
            "partner_user.joined",
            &target,
        )?,
    ])
}
