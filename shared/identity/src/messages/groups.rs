//! Partner groups: named sets of partners a broadcast can go to.

use serde::{Deserialize, Serialize};

use super::MessageError;
use crate::domain::error::DomainError;
use crate::domain::time::Timestamp;
use crate::domain::{GroupId, Handle, PartnerId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// Partners one group holds at most (one item: well under DynamoDB's 400 KB).
pub const MAX_GROUP_PARTNERS: usize = 1_000;
/// Groups one handle lists at most.
pub const MAX_GROUPS: usize = 1_000;
const MAX_NAME_CHARS: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: GroupId,
    pub name: String,
    pub partner_ids: Vec<PartnerId>,
    pub updated_at: Timestamp,
}

/// What a put sets, checked ([`validate`]).
#[derive(Clone, Debug)]
pub struct GroupInput {
    pub name: String,
    pub partner_ids: Vec<PartnerId>,
}

/// A group's name and partners, checked: a name of 1 to 100 characters, each partner once.
pub fn validate(name: &str, partner_ids: Vec<PartnerId>) -> Result<GroupInput, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let mut unique: Vec<PartnerId> = Vec::with_capacity(partner_ids.len());
    for id in partner_ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    if unique.len() > MAX_GROUP_PARTNERS {
        return Err(DomainError::new(
            "partnerIds",
            format!("a group holds at most {MAX_GROUP_PARTNERS} partners"),
        ));
    }
    Ok(GroupInput {
        name: name.to_owned(),
        partner_ids: unique,
    })
}

/// Creates or replaces group `id`; `true` when it is new. Every partner must exist (the first
/// unknown one is named). Round trips: ONE read per partner (16 at a time), ONE read of the
/// group, ONE transaction (the group and its audit entry).
#[tracing::instrument(skip_all, fields(handle = %handle, group = %id))]
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    id: &GroupId,
    input: GroupInput,
) -> Result<(Group, bool), MessageError> {
    let group = Group {
        group_id: id.clone(),
        name: input.name,
        partner_ids: input.partner_ids,
        updated_at: Timestamp::from_millis(crate::platform::time::now_millis()),
    };
    check_partners(store, handle, &group.partner_ids).await?;
    let created = get(store, handle, id).await?.is_none();
    let op = WriteOp::Put {
        item: Item::new(
            keys::partner_groups_pk(handle),
            id.as_str(),
            to_doc(&group)?,
        ),
        cond: Cond::None,
    };
    crate::kernel::audit::write(store, op, handle, "partner_group.saved", id.as_str()).await?;
    Ok((group, created))
}

async fn check_partners(
    store: &dyn Store,
    handle: &Handle,
    ids: &[PartnerId],
) -> Result<(), MessageError> {
    for (chunk_no, chunk) in ids.chunks(16).enumerate() {
        let reads = chunk
            .iter()
            .map(|id| crate::partners::get(store, handle, id));
        let found = futures::future::join_all(reads).await;
        for (j, found) in found.into_iter().enumerate() {
            if found?.is_none() {
                let i = chunk_no * 16 + j;
                return Err(DomainError::new(
                    format!("partnerIds[{i}]"),
                    format!("partner {} was not found", ids[i]),
                )
                .into());
            }
        }
    }
    Ok(())
}

/// Round trips: ONE read.
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &GroupId,
) -> Result<Option<Group>, StoreError> {
    let item = store
        .get(&keys::partner_groups_pk(handle), id.as_str())
        .await?;
    item.map(|i| i.parse()).transpose()
}

/// The handle's groups by id. Round trips: ONE query.
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<Group>, StoreError> {
    let q = Query::prefix(keys::partner_groups_pk(handle), "", MAX_GROUPS);
    Ok(store.query(q).await?.parsed()?.0)
}

/// Deletes group `id` (its broadcasts keep the partners they went to). Round trips: ONE read,
/// ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, group = %id))]
pub async fn delete(store: &dyn Store, handle: &Handle, id: &GroupId) -> Result<(), MessageError> {
    if get(store, handle, id).await?.is_none() {
        return Err(MessageError::GroupNotFound(id.clone()));
    }
    let op = WriteOp::Delete {
        pk: keys::partner_groups_pk(handle),
        sk: id.as_str().to_owned(),
        cond: Cond::None,
    };
    crate::kernel::audit::write(store, op, handle, "partner_group.deleted", id.as_str()).await?;
    Ok(())
}
