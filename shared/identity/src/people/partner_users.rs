//! A partner's users (issue 61), as its owner and the program see them: listed, and removed.
//! Each partnership has two items, written together by `partnerships::accept_ops`: the person's
//! (`U#{user}` / `PU#{handle}`, read on every request a session makes as the partner) and the
//! partner's list entry (`H#{handle}#PUS#{partner}` / `{user}`). A removal deletes both in one
//! transaction, so the removed person's next request finds no partnership and is refused, while
//! their session (and any membership of the handle they hold) stays theirs.

use serde::{Deserialize, Serialize};

use super::model::{PartnerRole, User};
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, UserId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// One of a partner's users, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUser {
    pub user_id: UserId,
    pub email: String,
    pub role: PartnerRole,
    pub since: Timestamp,
}

/// Who asks for a removal: the program's people may remove anyone, the partner's owner its
/// members (not itself: a partner always keeps the person the program approved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remover {
    Program,
    Owner,
}

/// Why a removal was refused.
#[derive(Debug, thiserror::Error)]
pub enum PartnerUserError {
    /// `404 not_found`: no such user of this partner.
    #[error("{0} is not one of this partner's users.")]
    NotFound(UserId),
    /// `409 invalid_state`.
    #[error("The partner's owner cannot remove itself; the program can.")]
    OwnerStays,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The write that lists `user` among the partner's users (beside the person's partnership).
pub(crate) fn entry_op(
    user: &User,
    handle: &Handle,
    partner_id: &PartnerId,
    role: PartnerRole,
    since: &Timestamp,
) -> Result<WriteOp, StoreError> {
    let entry = PartnerUser {
        user_id: user.user_id.clone(),
        email: user.email.clone(),
        role,
        since: since.clone(),
    };
    Ok(WriteOp::Put {
        item: Item::new(
            keys::partner_users_pk(handle, partner_id),
            user.user_id.as_str(),
            to_doc(&entry)?,
        ),
        cond: Cond::Absent,
    })
}

/// A partner's users, the owner first, then by the date they joined. Round trips: ONE query
/// per 1,000 users.
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner_id: &PartnerId,
) -> Result<Vec<PartnerUser>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item::<StoreError>(
        store,
        Query::all(keys::partner_users_pk(handle, partner_id)),
        |item| {
            out.push(item.parse::<PartnerUser>()?);
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .await?;
    out.sort_by_key(|u| (u.role != PartnerRole::Owner, u.since.millis()));
    Ok(out)
}

/// Removes `user` from the partner's users: both items and the audit entry, in ONE
/// transaction (the list entry conditioned on being there, so two removals at once audit
/// one). Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner_id, user = %user))]
pub async fn remove(
    store: &dyn Store,
    handle: &Handle,
    partner_id: &PartnerId,
    user: &UserId,
    by: Remover,
) -> Result<PartnerUser, PartnerUserError> {
    let pk = keys::partner_users_pk(handle, partner_id);
    let found: PartnerUser = store
        .get(&pk, user.as_str())
        .await?
        .ok_or_else(|| PartnerUserError::NotFound(user.clone()))?
        .parse()?;
    if by == Remover::Owner && found.role == PartnerRole::Owner {
        return Err(PartnerUserError::OwnerStays);
    }
    let ops = vec![
        WriteOp::Delete {
            pk,
            sk: user.as_str().to_owned(),
            cond: Cond::Exists,
        },
        WriteOp::Delete {
            pk: keys::user_pk(user),
            sk: keys::user_partnership_sk(handle),
            cond: Cond::None,
        },
        crate::kernel::audit::entry(
            handle,
            "partner_user.removed",
            &format!(
                "partner {partner_id} ({}, {})",
                found.email,
                found.role.as_str()
            ),
        )?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(found),
        Err(StoreError::TxConflict { index: 0, .. }) => {
            Err(PartnerUserError::NotFound(user.clone()))
        }
        Err(e) => Err(e.into()),
    }
}
