//! The one-time sign-in link (`tenx_l_…`, 15 minutes, single use, stored as its SHA-256) and
//! spending it: following the link shows a page and changes nothing; its button spends the
//! token in ONE transaction with the new session (and, for an invitation's link, the
//! membership): the token's delete is conditioned on its presence, so two spends at once make
//! one session, and a sign-in that fails half way changes nothing.

use std::time::Duration;

use super::model::{LinkToken, Purpose, Session, User};
use super::sessions::{self, Lifetimes, Origin};
use super::{PeopleError, invitations, memberships, partnerships, secret, users};
use crate::domain::Handle;
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::kernel::io::Io;
use crate::kernel::ratelimit::{self, RateLimitError};
use crate::mail::{MailKind, Outgoing};
use crate::platform::config::RateLimits;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, now_unix, to_doc};

/// How long a sign-in link is good for.
pub const TTL: Duration = Duration::from_secs(15 * 60);

/// How often a spend is tried again when another write of the same items won the race.
const RETRIES: usize = 4;

/// Sign-in links asked for one address per rate-limit window.
pub const LINKS_PER_EMAIL: u32 = 5;
/// … and by one client address.
pub const LINKS_PER_ADDRESS: u32 = 20;

/// `next` when it is a path of this origin (`/…`, not `//…` nor `/\…`, no control character,
/// at most 512 characters); `None` otherwise, and the console is where a sign-in lands.
pub fn same_origin_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    ok.then(|| next.to_owned())
}

/// [`request`], throttled first: at most [`LINKS_PER_ADDRESS`] links asked for from one client
/// address and [`LINKS_PER_EMAIL`] for one email per rate-limit window (the service's limits,
/// not a handle's: one partition of their own), so nobody mails a person a stream of links
/// or probes addresses at speed. Round trips: TWO conditional writes before [`request`]'s.
#[tracing::instrument(skip_all)]
pub async fn request_limited(
    io: Io<'_>,
    limits: &RateLimits,
    client: &str,
    base_url: &str,
    email: &Email,
    next: Option<String>,
) -> Result<(), PeopleError> {
    let store = io.store.as_ref();
    count_address(store, limits, ("sia_", client), LINKS_PER_ADDRESS)
        .await
        .map_err(limited("this client address"))?;
    let by_email = format!("sie_{}", &users::email_digest(email)[..20]);
    ratelimit::consume(
        store,
        limits,
        &Handle::sign_in_limits(),
        &by_email,
        LINKS_PER_EMAIL,
    )
    .await
    .map_err(limited("this email address"))?;
    request(io, base_url, email, next).await
}

/// Counts one sign-in request of the client address against `per_window` in the sign-in's own
/// partition (the service's limits, not a handle's), under the bucket `prefix` of its kind (an
/// email link, a passkey ceremony). Round trips: ONE conditional update.
pub async fn count_address(
    store: &dyn crate::platform::store::Store,
    limits: &RateLimits,
    (prefix, client): (&str, &str),
    per_window: u32,
) -> Result<(), RateLimitError> {
    let bucket = ratelimit::address_bucket(prefix, client);
    ratelimit::consume(
        store,
        limits,
        &Handle::sign_in_limits(),
        &bucket,
        per_window,
    )
    .await?;
    Ok(())
}

/// A refusal past a limit, naming what it counted.
fn limited(what: &'static str) -> impl Fn(RateLimitError) -> PeopleError {
    move |e| match e {
        RateLimitError::Limited(l) => PeopleError::Limited(l.of(what)),
        RateLimitError::Store(e) => PeopleError::Store(e),
    }
}

/// Asks for a sign-in link for `email`: mailed only to a user or an address with a pending
/// invitation; any other address gets the same answer and nothing (the caller cannot tell).
/// Round trips: ONE or TWO reads, and for a link ONE transaction (the token and its mail) and
/// the mail's enqueue.
#[tracing::instrument(skip_all)]
pub async fn request(
    io: Io<'_>,
    base_url: &str,
    email: &Email,
    next: Option<String>,
) -> Result<(), PeopleError> {
    // Made whatever the answer, so a known and an unknown address cost about the same.
    let token = secret::generate(secret::LINK_PREFIX);
    let hash = secret::hash(&token);
    let store = io.store.as_ref();
    let known = users::by_email(store, email).await?.is_some()
        || invitations::pending_for(store, email).await?;
    if !known {
        return Ok(());
    }
    let expires = now_unix() + crate::domain::time::secs(TTL);
    let doc = LinkToken {
        email: email.as_str().to_owned(),
        purpose: Purpose::SignIn,
        next: next.as_deref().and_then(same_origin_path),
        expires_at: Timestamp::from_unix(expires),
    };
    let (pk, sk) = keys::sign_in_token(&hash);
    // The mail is keyed by the token's hash: one mail per link, a new link a new mail.
    let staged = crate::mail::enqueue_ops(&Outgoing {
        handle: None,
        to: email.clone(),
        kind: MailKind::SignIn,
        key: hash,
        data: serde_json::json!({
            "link": secret::link(base_url, &token),
            "expiresInMinutes": TTL.as_secs() / 60,
        }),
    })?;
    let mut ops = vec![WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&doc)?).expiring_at(Some(expires)),
        cond: Cond::Absent,
    }];
    ops.extend(staged.ops.iter().cloned());
    store.transact(ops).await?;
    crate::mail::publish(io, &staged).await;
    Ok(())
}

/// A spent link: who signed in, their new session and its cookie's secret, where to go.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub secret: String,
    pub next: Option<String>,
}

/// The writes that accept an invitation for `user`: the invitation ended (but its token, which
/// the caller deletes as `token_key`), the audit entry, and the membership unless they are a
/// member already. A withdrawn or expired invitation refuses the link.
async fn accept_ops(
    store: &dyn Store,
    user: &User,
    handle: &crate::domain::Handle,
    invitation_id: &crate::domain::InvitationId,
    token_key: (&str, &str),
) -> Result<Vec<WriteOp>, PeopleError> {
    use crate::kernel::audit::{self, Actor, ActorType};
    let invitation = invitations::get(store, handle, invitation_id)
        .await?
        .ok_or(PeopleError::LinkRefused)?;
    let mut ops = invitations::end_ops(&invitation)?;
    ops.retain(|op| op.key() != token_key);
    let actor = Actor {
        kind: ActorType::User,
        id: user.user_id.to_string(),
    };
    let target = format!(
        "{invitation_id} ({}, {})",
        user.email,
        invitation.role.as_str()
    );
    ops.push(audit::entry_by(
        handle,
        actor,
        audit::request_id(),
        "invitation.accepted",
        &target,
    )?);
    if memberships::role_of(store, &user.user_id, handle)
        .await?
        .is_none()
    {
        let count = memberships::AdminCount::read(store, handle).await?;
        ops.extend(memberships::join_ops(handle, user, invitation.role, count)?);
    }
    Ok(ops)
}

/// Handles whose audit log a sign-in is written to: a person's first this many memberships (a
/// transaction holds 100 writes).
const SIGN_IN_AUDITED_HANDLES: usize = 25;

/// The audit entries of `user`'s sign-in (`how`: "email link", a provider's name), one in each
/// handle they are a member of, for the sign-in's own transaction. Round trips: ONE query.
pub async fn audit_ops(
    store: &dyn Store,
    user: &User,
    how: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    use crate::kernel::audit::{self, Actor, ActorType};
    let target = format!("{} (with {how})", user.email);
    memberships::of_user(store, &user.user_id)
        .await?
        .iter()
        .take(SIGN_IN_AUDITED_HANDLES)
        .map(|m| {
            let actor = Actor {
                kind: ActorType::User,
                id: user.user_id.to_string(),
            };
            audit::entry_by(
                &m.handle,
                actor,
                audit::request_id(),
                "user.signed_in",
                &target,
            )
        })
        .collect()
}

/// The token's record, `None` when it is not (or no longer) a live token of ours.
async fn token(store: &dyn Store, token: &str) -> Result<Option<(LinkToken, String)>, StoreError> {
    if !secret::well_formed(token, secret::LINK_PREFIX) {
        return Ok(None);
    }
    let hash = secret::hash(token);
    let (pk, sk) = keys::sign_in_token(&hash);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let record: LinkToken = item.parse()?;
    // The set-up link is spent by its own page (`first_admin`), never as a sign-in.
    let usable = record.expires_at.unix() > now_unix() && record.purpose != Purpose::FirstAdmin;
    Ok(usable.then_some((record, hash)))
}

/// Whether `value` is a live link token (the page shown by `GET` says so; nothing changes).
pub async fn is_live(store: &dyn Store, value: &str) -> Result<bool, StoreError> {
    Ok(token(store, value).await?.is_some())
}

/// Spends a link's token: a new session for its address (the user made now when the address
/// has none yet: it proved it reads its mail), and for an invitation the membership. Reused,
/// expired or foreign tokens are refused (`401`) and change nothing. Round trips: TWO to FOUR
/// reads, ONE transaction (again when another write won the race).
#[tracing::instrument(skip_all)]
pub async fn spend(
    store: &dyn Store,
    value: &str,
    life: Lifetimes,
    origin: &Origin,
) -> Result<SignedIn, PeopleError> {
    for _ in 0..RETRIES {
        let (record, hash) = token(store, value).await?.ok_or(PeopleError::LinkRefused)?;
        let email = Email::parse("email", &record.email)
            .map_err(|e| StoreError::Corrupt(format!("a link's email: {e}")))?;
        let (tpk, tsk) = keys::sign_in_token(&hash);
        let mut ops = vec![WriteOp::Delete {
            pk: tpk,
            sk: tsk,
            cond: Cond::Exists,
        }];
        let user = match users::by_email(store, &email).await? {
            Some(user) => user,
            None => {
                let (user, create) = users::create(&email)?;
                ops.extend(create);
                user
            }
        };
        match &record.purpose {
            Purpose::SignIn | Purpose::FirstAdmin => {}
            Purpose::Invitation {
                handle,
                invitation_id,
            } => {
                ops.extend(accept_ops(store, &user, handle, invitation_id, ops[0].key()).await?);
            }
            Purpose::Partner {
                handle,
                partner_id,
                role,
            } => {
                let join = partnerships::accept_ops(store, &user, handle, partner_id, *role);
                ops.extend(join.await?);
            }
        }
        let started = sessions::start(&user.user_id, life, origin)?;
        ops.extend(started.ops);
        ops.extend(audit_ops(store, &user, "email link").await?);
        match store.transact(ops).await {
            Ok(()) => {
                return Ok(SignedIn {
                    user,
                    session: started.session,
                    secret: started.secret,
                    next: record.next,
                });
            }
            // Spent by another request, or a user or membership made meanwhile: read again.
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PeopleError::Contended)
}
