//! Sessions: the `tenx_session` cookie's secret (`tenx_s_…`, 256 random bits) is stored only as
//! its SHA-256 (`SES#{hash}`, the session read on every cookie-authenticated request); the
//! user's partition lists their sessions (`U#{user}` / `S#{sessionId}`, with the hash, so one can
//! be revoked by its public id). A session ends at its absolute expiry (the items' TTL) or
//! after the idle time without a request; every sign-in makes a new one (no fixation).

use std::time::Duration;

use super::model::{Session, SessionEntry};
use super::secret;
use crate::domain::time::Timestamp;
use crate::domain::{SessionId, UserId};
use crate::platform::store::{
    Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix, to_doc,
};

/// The cookie secret's prefix.
pub const PREFIX: &str = "tenx_s_";

/// A session's `lastSeenAt` is written at most this often (a request within it costs no write).
const TOUCH_EVERY_SECS: i64 = 60;

/// How long sessions live: idle and absolute (`Config::session_idle`, `session_max`).
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle: Duration,
    pub max: Duration,
}

/// Where a sign-in came from, kept to list the session ("since, last seen, address, browser").
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub address: Option<String>,
    pub browser: Option<String>,
    /// The address's keyed digest, as a click's.
    pub address_hash: Option<String>,
    /// The browser's visitor fingerprint, as a click's.
    pub visitor_hash: Option<String>,
}

/// A session about to start: its cookie secret, its record and the two writes that store it
/// (part of a sign-in's transaction, which spends the link's token in the same commit).
pub struct Started {
    pub secret: String,
    pub session: Session,
    pub ops: Vec<WriteOp>,
}

/// A fresh session of `user` (a new id and secret whatever the browser held before).
pub fn start(user: &UserId, life: Lifetimes, origin: &Origin) -> Result<Started, StoreError> {
    let now = now_unix();
    let expires = now + crate::domain::time::secs(life.max);
    let secret = secret::generate(PREFIX);
    let hash = secret::hash(&secret);
    let session = Session {
        session_id: SessionId::new(),
        user_id: user.clone(),
        csrf_token: secret::generate("csrf_"),
        created_at: Timestamp::from_unix(now),
        last_seen_at: Timestamp::from_unix(now),
        expires_at: Timestamp::from_unix(expires),
        address: origin.address.clone(),
        address_hash: origin.address_hash.clone(),
        visitor_hash: origin.visitor_hash.clone(),
        browser: origin
            .browser
            .as_ref()
            .map(|b| b.chars().filter(|c| !c.is_control()).take(200).collect()),
    };
    let (pk, sk) = keys::session(&hash);
    let entry = SessionEntry {
        session_id: session.session_id.clone(),
        secret_hash: hash,
    };
    let ops = vec![
        WriteOp::Put {
            item: Item::new(pk, sk, to_doc(&session)?).expiring_at(Some(expires)),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(
                keys::user_pk(user),
                keys::user_session_sk(&session.session_id),
                to_doc(&entry)?,
            )
            .expiring_at(Some(expires)),
            cond: Cond::Absent,
        },
    ];
    Ok(Started {
        secret,
        session,
        ops,
    })
}

/// The live session of a cookie's secret, `None` when unknown, revoked, idle too long or past
/// its end. Marks it seen (at most once a minute: ONE conditional write). Round trips: ONE read.
pub async fn authenticate(
    store: &dyn Store,
    cookie: &str,
    life: Lifetimes,
) -> Result<Option<Session>, StoreError> {
    if !secret::well_formed(cookie, PREFIX) {
        return Ok(None);
    }
    let (pk, sk) = keys::session(&secret::hash(cookie));
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let mut session: Session = item.parse()?;
    let now = now_unix();
    let idle = crate::domain::time::secs(life.idle);
    if session.expires_at.unix() <= now || session.last_seen_at.unix() + idle <= now {
        return Ok(None);
    }
    if now - session.last_seen_at.unix() >= TOUCH_EVERY_SECS {
        session.last_seen_at = Timestamp::from_unix(now);
        let touched = Item::new(pk, sk, to_doc(&session)?)
            .with_version(item.version + 1)
            .expiring_at(item.expires_at);
        // Another request touched it first, or it was revoked meanwhile: either is fine here
        // (a revoked session is refused on its next request).
        match store
            .write(WriteOp::Put {
                item: touched,
                cond: Cond::Version(item.version),
            })
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(session))
}

async fn entries(store: &dyn Store, user: &UserId) -> Result<Vec<SessionEntry>, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_SESSION_SK_PREFIX, 1000);
    Ok(store.query(q).await?.parsed()?.0)
}

/// A user's live sessions, oldest first. Round trips: ONE query, ONE read per session.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn list(
    store: &dyn Store,
    user: &UserId,
    life: Lifetimes,
) -> Result<Vec<Session>, StoreError> {
    let now = now_unix();
    let idle = crate::domain::time::secs(life.idle);
    let mut out = Vec::new();
    for entry in entries(store, user).await? {
        let (pk, sk) = keys::session(&entry.secret_hash);
        if let Some(item) = store.get(&pk, &sk).await? {
            let s: Session = item.parse()?;
            if s.last_seen_at.unix() + idle > now {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Where `user` signs in from, over its stored sessions (live or idle, until their items
/// expire): the addresses' keyed digests and the browsers' visitor fingerprints, each once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInHashes {
    pub addresses: Vec<String>,
    pub browsers: Vec<String>,
}

/// [`SignInHashes`] of `user`. Round trips: ONE query, ONE read per session.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn sign_in_hashes(store: &dyn Store, user: &UserId) -> Result<SignInHashes, StoreError> {
    let mut out = SignInHashes::default();
    for entry in entries(store, user).await? {
        let (pk, sk) = keys::session(&entry.secret_hash);
        if let Some(item) = store.get(&pk, &sk).await? {
            let s: Session = item.parse()?;
            push_new(&mut out.addresses, s.address_hash);
            push_new(&mut out.browsers, s.visitor_hash);
        }
    }
    Ok(out)
}

/// The keyed digests of the addresses `user` signed in from ([`sign_in_hashes`]).
pub async fn address_hashes(store: &dyn Store, user: &UserId) -> Result<Vec<String>, StoreError> {
    Ok(sign_in_hashes(store, user).await?.addresses)
}

/// The visitor fingerprints of the browsers `user` signed in from ([`sign_in_hashes`]).
pub async fn visitor_hashes(store: &dyn Store, user: &UserId) -> Result<Vec<String>, StoreError> {
    Ok(sign_in_hashes(store, user).await?.browsers)
}

fn push_new(out: &mut Vec<String>, hash: Option<String>) {
    out.extend(hash.filter(|h| !out.contains(h)));
}

fn end_ops(user: &UserId, entry: &SessionEntry) -> Vec<WriteOp> {
    let (pk, sk) = keys::session(&entry.secret_hash);
    vec![
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        },
        WriteOp::Delete {
            pk: keys::user_pk(user),
            sk: keys::user_session_sk(&entry.session_id),
            cond: Cond::None,
        },
    ]
}

/// Ends one of a user's sessions; `false` when they have none of that id. Round trips: ONE
/// read, ONE transaction.
#[tracing::instrument(skip_all, fields(user = %user, session = %session_id))]
pub async fn revoke(
    store: &dyn Store,
    user: &UserId,
    session_id: &SessionId,
) -> Result<bool, StoreError> {
    let Some(item) = store
        .get(&keys::user_pk(user), &keys::user_session_sk(session_id))
        .await?
    else {
        return Ok(false);
    };
    let entry: SessionEntry = item.parse()?;
    store.transact(end_ops(user, &entry)).await?;
    Ok(true)
}

/// Ends every session of a user (sign out everywhere). Round trips: ONE query, ONE transaction
/// per 50 sessions.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn revoke_all(store: &dyn Store, user: &UserId) -> Result<usize, StoreError> {
    let all = entries(store, user).await?;
    for chunk in all.chunks(50) {
        let ops = chunk.iter().flat_map(|e| end_ops(user, e)).collect();
        store.transact(ops).await?;
    }
    Ok(all.len())
}
