//! Users: one per email address (put if absent on the address's index item).

use sha2::{Digest, Sha256};

use super::model::User;
use crate::domain::UserId;
use crate::domain::email::Email;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// The digest an address is keyed by: SHA-256 of its compared form (`domain::email::key_of`),
/// so the store's keys hold no address and `Ann+x@Example.com` is `ann@example.com`.
pub fn email_digest(email: &Email) -> String {
    hex::encode(Sha256::digest(email.key().as_bytes()))
}

/// The user of an address, if any. Round trips: ONE read.
pub async fn by_email(store: &dyn Store, email: &Email) -> Result<Option<User>, StoreError> {
    let (pk, sk) = keys::user_email(&email_digest(email));
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// A user by id. Round trips: ONE read.
pub async fn get(store: &dyn Store, user_id: &UserId) -> Result<Option<User>, StoreError> {
    store
        .get(&keys::user_pk(user_id), keys::USER_SK)
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// A new user of `email`, and the writes that create them: both put if absent, so two sign-ins
/// of one new address at once make one user (the other's transaction is cancelled and retried).
pub fn create(email: &Email) -> Result<(User, Vec<WriteOp>), StoreError> {
    let user = User {
        user_id: UserId::new(),
        email: email.as_str().to_owned(),
        name: None,
        created_at: crate::platform::time::timestamp(),
    };
    let doc = to_doc(&user)?;
    let (epk, esk) = keys::user_email(&email_digest(email));
    let ops = vec![
        WriteOp::Put {
            item: Item::new(keys::user_pk(&user.user_id), keys::USER_SK, doc.clone()),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(epk, esk, doc),
            cond: Cond::Absent,
        },
    ];
    Ok((user, ops))
}

/// The user of `email`, made now when there is none yet. Round trips: ONE read, plus ONE
/// transaction for a new user (read again when another request made them first).
pub async fn find_or_create(store: &dyn Store, email: &Email) -> Result<User, StoreError> {
    if let Some(user) = by_email(store, email).await? {
        return Ok(user);
    }
    let (user, ops) = create(email)?;
    match store.transact(ops).await {
        Ok(()) => Ok(user),
        Err(StoreError::TxConflict { .. }) => by_email(store, email)
            .await?
            .ok_or_else(|| StoreError::Other("a user was made and is gone".into())),
        Err(e) => Err(e),
    }
}
