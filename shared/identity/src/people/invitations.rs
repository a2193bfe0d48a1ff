//! Invitations: an admin invites an address with a role; the mailed link (a one-time token of
//! purpose `Invitation`, living as long as the invitation) signs the invitee in and makes them
//! a member once. Three items, written and removed together: the invitation in the handle's
//! partition, its entry under the address (so a link may be asked for by an invited address
//! that is no user yet), and the link's token. A resend is a new invitation.

use std::time::Duration;

use super::PeopleError;
use super::model::{Invitation, LinkToken, Purpose};
use super::{memberships, secret, users};
use crate::auth::Role;
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, InvitationId};
use crate::kernel::io::Io;
use crate::mail::{MailKind, Outgoing};
use crate::platform::store::{
    Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix, to_doc,
};

/// How long an invitation (and its link) is good for.
pub const TTL: Duration = Duration::from_secs(7 * 86_400);

/// Who invites: their credential's subject (kept) and, for a person, their address (the mail's
/// words: "ann@example.com invited you").
pub struct Inviter<'a> {
    pub subject: &'a str,
    pub email: Option<String>,
}

/// Invites `email` to `handle` with `role` and mails the link (the mail staged in the same
/// transaction). `409 invalid_state` when the address is a member already. Round trips: TWO
/// reads, ONE transaction, the mail's enqueue.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    io: Io<'_>,
    base_url: &str,
    handle: &Handle,
    email: &Email,
    role: Role,
    inviter: Inviter<'_>,
) -> Result<Invitation, PeopleError> {
    let store = io.store.as_ref();
    if let Some(user) = users::by_email(store, email).await?
        && memberships::role_of(store, &user.user_id, handle)
            .await?
            .is_some()
    {
        return Err(PeopleError::AlreadyMember(email.as_str().to_owned()));
    }
    let now = now_unix();
    let expires = now + crate::domain::time::secs(TTL);
    let token = secret::generate(secret::LINK_PREFIX);
    let hash = secret::hash(&token);
    let invitation = Invitation {
        invitation_id: InvitationId::new(),
        handle: handle.clone(),
        email: email.as_str().to_owned(),
        role,
        invited_by: inviter.subject.to_owned(),
        created_at: Timestamp::from_unix(now),
        expires_at: Timestamp::from_unix(expires),
        token_hash: hash.clone(),
    };
    let link_token = LinkToken {
        email: email.as_str().to_owned(),
        purpose: Purpose::Invitation {
            handle: handle.clone(),
            invitation_id: invitation.invitation_id.clone(),
        },
        next: None,
        expires_at: invitation.expires_at.clone(),
    };
    let (tpk, tsk) = keys::sign_in_token(&hash);
    let doc = to_doc(&invitation)?;
    let put = |item: Item| WriteOp::Put {
        item: item.expiring_at(Some(expires)),
        cond: Cond::Absent,
    };
    let staged = mail_of(
        &invitation,
        email,
        secret::link(base_url, &token),
        inviter.email,
    )?;
    let mut ops = vec![
        put(Item::new(
            keys::invitations_pk(handle),
            invitation.invitation_id.as_str(),
            doc.clone(),
        )),
        put(Item::new(
            keys::email_invitations_pk(&users::email_digest(email)),
            keys::email_invitation_sk(handle, &invitation.invitation_id),
            doc,
        )),
        put(Item::new(tpk, tsk, to_doc(&link_token)?)),
    ];
    ops.extend(staged.ops.iter().cloned());
    ops.push(crate::kernel::audit::entry(
        handle,
        "invitation.created",
        &format!(
            "{} ({}, {})",
            invitation.invitation_id,
            email.as_str(),
            role.as_str()
        ),
    )?);
    store.transact(ops).await?;
    crate::mail::publish(io, &staged).await;
    Ok(invitation)
}

/// The invitation's mail, staged for the invitation's transaction (keyed by its id: a resend is
/// a new invitation, so a new mail).
fn mail_of(
    invitation: &Invitation,
    email: &Email,
    link: String,
    inviter: Option<String>,
) -> Result<crate::mail::Staged, crate::mail::MailError> {
    crate::mail::enqueue_ops(&Outgoing {
        handle: Some(invitation.handle.clone()),
        to: email.clone(),
        kind: MailKind::Invitation,
        key: invitation.invitation_id.to_string(),
        data: serde_json::json!({
            "link": link,
            "role": invitation.role.as_str(),
            "inviter": inviter,
            "expiresAt": invitation.expires_at,
        }),
    })
}

/// A handle's pending invitations, oldest first. Round trips: ONE query per 1,000.
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<Invitation>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item::<StoreError>(
        store,
        Query::all(keys::invitations_pk(handle)),
        |item| {
            out.push(item.parse::<Invitation>()?);
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .await?;
    Ok(out)
}

/// One pending invitation of a handle. Round trips: ONE read.
pub(crate) async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &InvitationId,
) -> Result<Option<Invitation>, StoreError> {
    store
        .get(&keys::invitations_pk(handle), id.as_str())
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// Whether an address has a pending invitation. Round trips: ONE query.
pub async fn pending_for(store: &dyn Store, email: &Email) -> Result<bool, StoreError> {
    let q = Query::prefix(
        keys::email_invitations_pk(&users::email_digest(email)),
        keys::EMAIL_INVITATION_SK_PREFIX,
        1,
    );
    Ok(!store.query(q).await?.items.is_empty())
}

/// The deletes that end an invitation (accepted or revoked); the first fails when it is gone
/// already, so it is accepted or revoked once.
pub(crate) fn end_ops(invitation: &Invitation) -> Result<Vec<WriteOp>, StoreError> {
    let email = Email::parse("email", &invitation.email)
        .map_err(|e| StoreError::Corrupt(format!("an invitation's email: {e}")))?;
    let (tpk, tsk) = keys::sign_in_token(&invitation.token_hash);
    Ok(vec![
        WriteOp::Delete {
            pk: keys::invitations_pk(&invitation.handle),
            sk: invitation.invitation_id.as_str().to_owned(),
            cond: Cond::Exists,
        },
        WriteOp::Delete {
            pk: keys::email_invitations_pk(&users::email_digest(&email)),
            sk: keys::email_invitation_sk(&invitation.handle, &invitation.invitation_id),
            cond: Cond::None,
        },
        WriteOp::Delete {
            pk: tpk,
            sk: tsk,
            cond: Cond::None,
        },
    ])
}

/// Revokes a pending invitation (its link stops working). Round trips: ONE read, ONE
/// transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, invitation = %id))]
pub async fn revoke(
    store: &dyn Store,
    handle: &Handle,
    id: &InvitationId,
) -> Result<(), PeopleError> {
    let not_found = || PeopleError::NotFound(format!("Invitation {id}"));
    let invitation = get(store, handle, id).await?.ok_or_else(not_found)?;
    let mut ops = end_ops(&invitation)?;
    ops.push(crate::kernel::audit::entry(
        handle,
        "invitation.revoked",
        &format!("{id} ({})", invitation.email),
    )?);
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TxConflict { .. }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
