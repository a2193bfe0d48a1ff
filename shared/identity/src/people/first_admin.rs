//! The first start: while the service has no admin, `tenx serve` prints a one-time set-up link
//! (`tenx_l_…`, 1 hour, stored as its SHA-256 like a sign-in link's token). Its page asks for
//! the person's email and the handle they will work on; spending it makes that person the
//! handle's first admin and signs them in, in ONE transaction with the service's first-admin
//! item (put if absent), so a reused link, a second link printed by another start, or a link
//! opened after `tenx setup --admin` is refused in words and changes nothing.

use std::time::Duration;

use super::model::{LinkToken, Purpose, User};
use super::sessions::{self, Lifetimes, Origin};
use super::sign_in::SignedIn;
use super::{PeopleError, memberships, secret, users};
use crate::domain::Handle;
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, now_unix, to_doc};

/// How long a set-up link is good for.
pub const TTL: Duration = Duration::from_secs(60 * 60);

/// How often a spend is tried again when another write of the same items won the race.
const RETRIES: usize = 4;

/// Whether the service has its first admin (made by a set-up link or `tenx setup --admin`).
/// Round trips: ONE read.
pub async fn done(store: &dyn Store) -> Result<bool, StoreError> {
    let (pk, sk) = keys::first_admin();
    Ok(store.get(&pk, &sk).await?.is_some())
}

/// The item that says the service has its first admin: `Cond::Absent` for a set-up link's spend
/// (only one link ever makes it), a plain put for `tenx setup --admin` (its terminal decides).
fn marker(user: &User, handle: &Handle, cond: Cond) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::first_admin();
    let doc = serde_json::json!({
        "userId": user.user_id,
        "handle": handle,
        "at": crate::platform::time::timestamp(),
    });
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, doc),
        cond,
    })
}

/// Records that `user` is an admin of `handle` made from a terminal (`tenx setup --admin`): set-up
/// links are refused from now on. Round trips: ONE write.
pub async fn mark_made(store: &dyn Store, user: &User, handle: &Handle) -> Result<(), StoreError> {
    store
        .transact(vec![marker(user, handle, Cond::None)?])
        .await
}

/// A new set-up link's token while the service has no admin, `None` once it has one. Links are
/// only ever printed for a service whose set-up began on an empty store (`empty`: its first
/// start, which records that it began): a store that already held people before set-up links
/// existed (no record either way) prints none, so its first start on this version hands no
/// one an admin's account. Round trips: TWO reads, and for a link ONE or TWO writes.
#[tracing::instrument(skip_all)]
pub async fn issue(store: &dyn Store, empty: bool) -> Result<Option<String>, StoreError> {
    if done(store).await? {
        return Ok(None);
    }
    let (pk, sk) = keys::set_up_begun();
    if empty {
        let doc = serde_json::json!({"at": crate::platform::time::timestamp()});
        store
            .transact(vec![WriteOp::Put {
                item: Item::new(pk, sk, doc),
                cond: Cond::None,
            }])
            .await?;
    } else if store.get(&pk, &sk).await?.is_none() {
        return Ok(None);
    }
    let token = secret::generate(secret::LINK_PREFIX);
    let expires = now_unix() + crate::domain::time::secs(TTL);
    let doc = LinkToken {
        email: String::new(),
        purpose: Purpose::FirstAdmin,
        next: None,
        expires_at: Timestamp::from_unix(expires),
    };
    let (pk, sk) = keys::sign_in_token(&secret::hash(&token));
    let item = Item::new(pk, sk, to_doc(&doc)?).expiring_at(Some(expires));
    store
        .transact(vec![WriteOp::Put {
            item,
            cond: Cond::Absent,
        }])
        .await?;
    Ok(Some(token))
}

/// Why a set-up link cannot be spent now, `None` when it can: the service has its admin
/// already, or the token is not a live set-up link. Round trips: ONE or TWO reads.
pub async fn refusal(store: &dyn Store, value: &str) -> Result<Option<PeopleError>, StoreError> {
    if done(store).await? {
        return Ok(Some(PeopleError::SetUpDone));
    }
    Ok(live(store, value)
        .await?
        .is_none()
        .then_some(PeopleError::SetUpLinkRefused))
}

/// The hash of a live set-up link's token.
async fn live(store: &dyn Store, value: &str) -> Result<Option<String>, StoreError> {
    if !secret::well_formed(value, secret::LINK_PREFIX) {
        return Ok(None);
    }
    let hash = secret::hash(value);
    let (pk, sk) = keys::sign_in_token(&hash);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let record: LinkToken = item.parse()?;
    let usable = record.purpose == Purpose::FirstAdmin && record.expires_at.unix() > now_unix();
    Ok(usable.then_some(hash))
}

/// Who is set up and where: the address and the handle the page was given.
pub struct FirstAdmin {
    pub email: Email,
    pub handle: Handle,
}

/// Spends a set-up link: `email`'s user (made now when new) becomes the first admin of `handle`
/// and signs in. Refused, changing nothing, when the service has an admin already, the handle
/// has one, or the link is spent, expired or not a set-up link. Round trips: THREE to FIVE
/// reads, ONE transaction (again when another write won the race).
#[tracing::instrument(skip_all, fields(handle = %who.handle))]
pub async fn spend(
    store: &dyn Store,
    value: &str,
    who: &FirstAdmin,
    life: Lifetimes,
    origin: &Origin,
) -> Result<SignedIn, PeopleError> {
    for _ in 0..RETRIES {
        // The link first, then whether the service is set up: a link spent by a request that
        // committed between the two reads is then refused as "set up already", as it is.
        let Some(hash) = live(store, value).await? else {
            let refused = refusal(store, value).await?;
            return Err(refused.unwrap_or(PeopleError::SetUpLinkRefused));
        };
        if done(store).await? {
            return Err(PeopleError::SetUpDone);
        }
        let count = memberships::AdminCount::read(store, &who.handle).await?;
        if count.admins() > 0 {
            return Err(PeopleError::SetUpDone);
        }
        let (tpk, tsk) = keys::sign_in_token(&hash);
        let mut ops = vec![WriteOp::Delete {
            pk: tpk,
            sk: tsk,
            cond: Cond::Exists,
        }];
        let user = match users::by_email(store, &who.email).await? {
            Some(user) => user,
            None => {
                let (user, create) = users::create(&who.email)?;
                ops.extend(create);
                user
            }
        };
        ops.push(marker(&user, &who.handle, Cond::Absent)?);
        ops.extend(memberships::join_ops(
            &who.handle,
            &user,
            crate::auth::Role::Admin,
            count,
        )?);
        ops.push(audit(&user, &who.handle)?);
        let started = sessions::start(&user.user_id, life, origin)?;
        ops.extend(started.ops);
        match store.transact(ops).await {
            Ok(()) => {
                return Ok(SignedIn {
                    user,
                    session: started.session,
                    secret: started.secret,
                    next: None,
                });
            }
            // Spent or set up by another request meanwhile: read again (and be refused).
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PeopleError::Contended)
}

/// The handle's audit entry: this person set the service up.
fn audit(user: &User, handle: &Handle) -> Result<WriteOp, StoreError> {
    use crate::kernel::audit::{self, Actor, ActorType};
    let actor = Actor {
        kind: ActorType::User,
        id: user.user_id.to_string(),
    };
    let target = format!("{} (admin, with the set-up link)", user.email);
    audit::entry_by(handle, actor, audit::request_id(), "member.added", &target)
}
