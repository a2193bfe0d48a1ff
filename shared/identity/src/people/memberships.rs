//! Memberships: a user's role on a handle. Two items per membership, written together: the
//! user's (`U#{user}` / `M#{handle}`, read on every cookie-authenticated request) and the
//! handle's (`H#{handle}#MB` / `{user}`, the team's list). Every change that adds or takes an
//! admin is conditioned on the handle's admin count item (versioned), so two admins demoting
//! each other at once cannot both succeed: the second reads the count again and is refused.

use super::PeopleError;
use super::model::{Member, Membership, User};
use crate::auth::Role;
use crate::domain::{Handle, UserId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// How often a change retries when another change of the handle's admins won the race.
const RETRIES: usize = 5;

/// The role of `user` on `handle`, `None` when not a member. Round trips: ONE read.
pub async fn role_of(
    store: &dyn Store,
    user: &UserId,
    handle: &Handle,
) -> Result<Option<Role>, StoreError> {
    let item = store
        .get(&keys::user_pk(user), &keys::user_membership_sk(handle))
        .await?;
    Ok(item
        .map(|i| i.parse::<Membership>())
        .transpose()?
        .map(|m| m.role))
}

/// A user's memberships. Round trips: ONE query (a person is a member of a few handles).
pub async fn of_user(store: &dyn Store, user: &UserId) -> Result<Vec<Membership>, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_MEMBERSHIP_SK_PREFIX, 1000);
    let (items, _) = store.query(q).await?.parsed()?;
    Ok(items)
}

/// A handle's members. Round trips: ONE query per 1,000 members.
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<Member>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item::<StoreError>(
        store,
        Query::all(keys::members_pk(handle)),
        |item| {
            out.push(item.parse::<Member>()?);
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .await?;
    Ok(out)
}

/// The admin count as read: its number and the version a change must find.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdminCount {
    admins: i64,
    version: Option<u64>,
}

impl AdminCount {
    pub(crate) async fn read(store: &dyn Store, handle: &Handle) -> Result<Self, StoreError> {
        let (pk, sk) = keys::admin_count(handle);
        Ok(match store.get(&pk, &sk).await? {
            Some(item) => AdminCount {
                admins: item.doc["admins"].as_i64().unwrap_or(0),
                version: Some(item.version),
            },
            None => AdminCount {
                admins: 0,
                version: None,
            },
        })
    }

    /// How many admins the handle has.
    pub(crate) fn admins(self) -> i64 {
        self.admins
    }

    /// The count moved by `delta`, put only if it is still the one read.
    pub(crate) fn moved(self, handle: &Handle, delta: i64) -> WriteOp {
        let (pk, sk) = keys::admin_count(handle);
        let version = self.version.map_or(1, |v| v + 1);
        WriteOp::Put {
            item: Item::new(pk, sk, serde_json::json!({"admins": self.admins + delta}))
                .with_version(version),
            cond: self.version.map_or(Cond::Absent, Cond::Version),
        }
    }
}

fn items(handle: &Handle, user: &User, role: Role) -> Result<(Item, Item), StoreError> {
    let since = crate::platform::time::timestamp();
    let membership = Membership {
        handle: handle.clone(),
        role,
        since: since.clone(),
    };
    let member = Member {
        user_id: user.user_id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role,
        since,
    };
    Ok((
        Item::new(
            keys::user_pk(&user.user_id),
            keys::user_membership_sk(handle),
            to_doc(&membership)?,
        ),
        Item::new(
            keys::members_pk(handle),
            user.user_id.as_str(),
            to_doc(&member)?,
        ),
    ))
}

/// The writes that make `user` a member of `handle` with `role` (both items put if absent; an
/// admin moves the admin count read in `count`). Part of a caller's transaction (an
/// invitation's acceptance, `tenx setup --admin`).
pub(crate) fn join_ops(
    handle: &Handle,
    user: &User,
    role: Role,
    count: AdminCount,
) -> Result<Vec<WriteOp>, StoreError> {
    let (mine, theirs) = items(handle, user, role)?;
    let mut ops = vec![
        WriteOp::Put {
            item: mine,
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: theirs,
            cond: Cond::Absent,
        },
    ];
    if role == Role::Admin {
        ops.push(count.moved(handle, 1));
    }
    Ok(ops)
}

/// Makes `user` a member of `handle` with `role` now (`tenx setup --admin`); a member already
/// keeps their membership (`Ok(false)`). Round trips: TWO reads, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn add(
    store: &dyn Store,
    handle: &Handle,
    user: &User,
    role: Role,
) -> Result<bool, PeopleError> {
    for _ in 0..RETRIES {
        if role_of(store, &user.user_id, handle).await?.is_some() {
            return Ok(false);
        }
        let count = AdminCount::read(store, handle).await?;
        let mut ops = join_ops(handle, user, role, count)?;
        ops.push(crate::kernel::audit::entry(
            handle,
            "member.added",
            &format!("{} ({}, {})", user.user_id, user.email, role.as_str()),
        )?);
        match store.transact(ops).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PeopleError::Contended)
}

async fn member(
    store: &dyn Store,
    handle: &Handle,
    user: &UserId,
) -> Result<(Member, u64), PeopleError> {
    let item = store
        .get(&keys::members_pk(handle), user.as_str())
        .await?
        .ok_or_else(|| PeopleError::NotFound(format!("Member {user}")))?;
    Ok((item.parse()?, item.version))
}

/// Changes a member's role; the last admin cannot be demoted (`409 invalid_state`). Round
/// trips: TWO reads and ONE transaction, again when another change won the race.
#[tracing::instrument(skip_all, fields(handle = %handle, user = %user))]
pub async fn change_role(
    store: &dyn Store,
    handle: &Handle,
    user: &UserId,
    role: Role,
) -> Result<Member, PeopleError> {
    for _ in 0..RETRIES {
        let (current, version) = member(store, handle, user).await?;
        if current.role == role {
            return Ok(current);
        }
        let mut ops = Vec::new();
        let delta = i64::from(role == Role::Admin) - i64::from(current.role == Role::Admin);
        if delta != 0 {
            let count = AdminCount::read(store, handle).await?;
            if count.admins + delta < 1 {
                return Err(PeopleError::LastAdmin(handle.clone()));
            }
            ops.push(count.moved(handle, delta));
        }
        let changed = Member {
            role,
            ..current.clone()
        };
        let membership = Membership {
            handle: handle.clone(),
            role,
            since: current.since.clone(),
        };
        ops.push(WriteOp::Put {
            item: Item::new(keys::members_pk(handle), user.as_str(), to_doc(&changed)?)
                .with_version(version + 1),
            cond: Cond::Version(version),
        });
        ops.push(WriteOp::Put {
            item: Item::new(
                keys::user_pk(user),
                keys::user_membership_sk(handle),
                to_doc(&membership)?,
            ),
            cond: Cond::Exists,
        });
        ops.push(crate::kernel::audit::entry(
            handle,
            "member.role_changed",
            &format!(
                "{user} ({}, {} to {})",
                current.email,
                current.role.as_str(),
                role.as_str()
            ),
        )?);
        match store.transact(ops).await {
            Ok(()) => return Ok(changed),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PeopleError::Contended)
}

/// Removes a member (refused on their next request); the last admin cannot be removed. Round
/// trips: TWO reads and ONE transaction, again when another change won the race.
#[tracing::instrument(skip_all, fields(handle = %handle, user = %user))]
pub async fn remove(store: &dyn Store, handle: &Handle, user: &UserId) -> Result<(), PeopleError> {
    for _ in 0..RETRIES {
        let (current, version) = member(store, handle, user).await?;
        let mut ops = vec![
            WriteOp::Delete {
                pk: keys::members_pk(handle),
                sk: user.as_str().to_owned(),
                cond: Cond::Version(version),
            },
            WriteOp::Delete {
                pk: keys::user_pk(user),
                sk: keys::user_membership_sk(handle),
                cond: Cond::None,
            },
        ];
        if current.role == Role::Admin {
            let count = AdminCount::read(store, handle).await?;
            if count.admins <= 1 {
                return Err(PeopleError::LastAdmin(handle.clone()));
            }
            ops.push(count.moved(handle, -1));
        }
        ops.push(crate::kernel::audit::entry(
            handle,
            "member.removed",
            &format!("{user} ({})", current.email),
        )?);
        match store.transact(ops).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PeopleError::Contended)
}
