//! Passkeys (issue 60): WebAuthn credentials as a way in of their own, by the `webauthn_rp`
//! crate (the relying party's checks: the challenge, the origin and RP id, the signature, user
//! presence and verification, the sign counter). Why this crate: docs/security.md#passkeys.
//!
//! - **Registering** (a signed-in person, from the account screen): `begin` answers the
//!   browser's creation options and stores the ceremony by its challenge (`PKX#…`, 5 minutes);
//!   `finish` spends it (a conditional delete: once), verifies the attestation and stores the
//!   credential by its id's SHA-256 (`PKC#…`, put if absent) and its copy in the user's partition
//!   (`U#{user}` / `PK#{passkeyId}`), in ONE transaction.
//! - **Signing in**: a discoverable credential (the browser offers the person's passkeys, no
//!   email typed). `finish` spends the ceremony before anything else (a replayed assertion finds
//!   none), verifies the assertion against the stored credential, and stores its new sign count
//!   (conditioned on the version read: two assertions at once cannot both pass one count) with
//!   the new session and the sign-in's audit entries, in ONE transaction.
//!
//! What a credential keeps is the crate's own binary encoding of its static state (the public
//! key) and dynamic state (sign count, flags), base64url in the document.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rp::bin::{Decode, Encode};
use webauthn_rp::request::auth::AuthenticationVerificationOptions;
use webauthn_rp::request::register::{
    CredProtect, Nickname, PublicKeyCredentialUserEntity, RegistrationVerificationOptions,
    UserHandle64, Username,
};
use webauthn_rp::request::{
    AsciiDomain, DomainOrigin, ExtensionInfo, PublicKeyCredentialDescriptor, RpId, TimedCeremony,
};
use webauthn_rp::response::register::{CompressedPubKey, DynamicState, StaticState};
use webauthn_rp::response::{AuthTransports, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, DiscoverableAuthentication64, DiscoverableAuthenticationServerState,
    DiscoverableCredentialRequestOptions, PublicKeyCredentialCreationOptions, Registration,
    RegistrationServerState,
};

use super::model::User;
use super::sessions::{self, Lifetimes, Origin};
use super::sign_in::{SignedIn, audit_ops, same_origin_path};
use super::users;
use crate::domain::time::Timestamp;
use crate::domain::{PasskeyId, UserId};
use crate::platform::store::{
    Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix, to_doc,
};

/// How long a ceremony may take (the crate's timeout, which it checks too).
pub const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// The most passkeys one person keeps.
pub const MAX_PER_USER: usize = 20;

/// Who the browser talks to: the RP id (a domain) and the one origin allowed to use it.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    pub rp_id: String,
    pub origin: String,
}

/// Why a passkey request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// `400 invalid_request`: not a WebAuthn response, or a name that is not one.
    #[error("{0}")]
    Invalid(String),
    /// `401 unauthorized`: the ceremony is unknown, spent or expired (a replay lands here).
    #[error("This passkey request has expired or was already used; start again.")]
    CeremonyRefused,
    /// `401 unauthorized`: the authenticator's answer failed a check.
    #[error("The passkey was refused ({0}); try again.")]
    Refused(String),
    /// `401 unauthorized`: a credential no one registered here (or removed).
    #[error("This passkey is not registered here; sign in by email and add it again.")]
    Unknown,
    /// `409 invalid_state`.
    #[error("You have {MAX_PER_USER} passkeys already; remove one first.")]
    TooMany,
    /// `409 invalid_state`: the credential is registered already.
    #[error("This passkey is registered already.")]
    Duplicate,
    /// `404 not_found`.
    #[error("Passkey {0} was not found.")]
    NotFound(String),
    /// The relying party is not configured (`500`).
    #[error("{0}")]
    Misconfigured(String),
    /// `429`: too many sign-ins started from one client address.
    #[error(transparent)]
    Limited(crate::kernel::ratelimit::Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A registered passkey (`PKC#…`, and its copy in the user's partition).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Passkey {
    pub passkey_id: PasskeyId,
    pub user_id: UserId,
    /// What the person called it (default: "Passkey added {date}").
    pub name: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    /// base64url: the credential id, the user handle, the crate's encodings.
    credential_id: String,
    user_handle: String,
    transports: u8,
    static_state: String,
    dynamic_state: String,
}

/// A ceremony under way (`PKX#{challenge}`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
enum Ceremony {
    /// A registration by `user_id`.
    Register { user_id: UserId, state: String },
    /// A sign-in, landing on `next`.
    SignIn {
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
}

fn rp_id(rp: &RelyingParty) -> Result<RpId, PasskeyError> {
    AsciiDomain::try_from(rp.rp_id.clone())
        .map(RpId::Domain)
        .map_err(|_| PasskeyError::Misconfigured(format!("{}: not a domain", rp.rp_id)))
}

fn origin(rp: &RelyingParty) -> Result<DomainOrigin<'_, '_>, PasskeyError> {
    DomainOrigin::try_from(rp.origin.as_str())
        .map_err(|_| PasskeyError::Misconfigured(format!("{}: not an origin", rp.origin)))
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(field: &str, value: &str) -> Result<Vec<u8>, StoreError> {
    B64.decode(value)
        .map_err(|e| StoreError::Corrupt(format!("a passkey's {field}: {e}")))
}

fn corrupt<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Corrupt(format!("a passkey's {what}: {e}"))
}

/// The digest a credential is stored under.
fn credential_digest(id: &[u8]) -> String {
    hex::encode(Sha256::digest(id))
}

fn challenge_key(challenge: u128) -> (String, String) {
    keys::passkey_ceremony(&format!("{challenge:032x}"))
}

/// Stores a ceremony (put if absent: challenges are 128 random bits).
async fn store_ceremony(
    store: &dyn Store,
    challenge: u128,
    ceremony: &Ceremony,
) -> Result<(), StoreError> {
    let (pk, sk) = challenge_key(challenge);
    let expires = now_unix() + crate::domain::time::secs(CEREMONY_TTL);
    store
        .write(WriteOp::Put {
            item: Item::new(pk, sk, to_doc(ceremony)?).expiring_at(Some(expires)),
            cond: Cond::Absent,
        })
        .await?;
    Ok(())
}

/// Spends a ceremony: read, then deleted on condition of its presence, so one challenge is
/// answered once however many requests race (the loser, and any replay, finds none).
async fn spend_ceremony(store: &dyn Store, challenge: u128) -> Result<Ceremony, PasskeyError> {
    let (pk, sk) = challenge_key(challenge);
    let item = store
        .get(&pk, &sk)
        .await?
        .ok_or(PasskeyError::CeremonyRefused)?;
    let ceremony: Ceremony = item.parse()?;
    match store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Version(item.version),
        })
        .await
    {
        Ok(_) => Ok(ceremony),
        Err(StoreError::ConditionFailed { .. }) => Err(PasskeyError::CeremonyRefused),
        Err(e) => Err(e.into()),
    }
}

/// The user's WebAuthn user handle, made (put if absent) at their first passkey.
async fn user_handle(store: &dyn Store, user: &UserId) -> Result<UserHandle64, StoreError> {
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Doc {
        user_handle: String,
    }
    let pk = keys::user_pk(user);
    for _ in 0..2 {
        if let Some(item) = store.get(&pk, keys::USER_WEBAUTHN_HANDLE_SK).await? {
            let doc: Doc = item.parse()?;
            let bytes: [u8; 64] = unb64("user handle", &doc.user_handle)?
                .try_into()
                .map_err(|_| StoreError::Corrupt("a user handle of another length".into()))?;
            return UserHandle64::decode(bytes).map_err(corrupt("user handle"));
        }
        let handle = UserHandle64::new();
        let doc = Doc {
            user_handle: b64(&handle.encode().map_err(corrupt("user handle"))?),
        };
        let put = WriteOp::Put {
            item: Item::new(pk.clone(), keys::USER_WEBAUTHN_HANDLE_SK, to_doc(&doc)?),
            cond: Cond::Absent,
        };
        match store.write(put).await {
            Ok(_) => return Ok(handle),
            // Another registration made it first: read theirs.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Other(
        "a user handle was made and is gone".into(),
    ))
}

/// A person's passkeys, oldest first. Round trips: ONE query.
pub async fn list(store: &dyn Store, user: &UserId) -> Result<Vec<Passkey>, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_PASSKEY_SK_PREFIX, 100);
    Ok(store.query(q).await?.parsed()?.0)
}

/// Whether a person has a passkey. Round trips: ONE query of one item.
pub async fn has_any(store: &dyn Store, user: &UserId) -> Result<bool, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_PASSKEY_SK_PREFIX, 1);
    Ok(!store.query(q).await?.items.is_empty())
}

/// Starts registering a passkey for `user`: the options `navigator.credentials.create` takes
/// (`PublicKeyCredentialCreationOptionsJSON`), the person's passkeys excluded.
#[tracing::instrument(skip_all, fields(user = %user.user_id))]
pub async fn register_begin(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &User,
) -> Result<serde_json::Value, PasskeyError> {
    let rp_id = rp_id(rp)?;
    let existing = list(store, &user.user_id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(PasskeyError::TooMany);
    }
    let handle = user_handle(store, &user.user_id).await?;
    let mut exclude = Vec::with_capacity(existing.len());
    for p in &existing {
        let id = CredentialId::<Vec<u8>>::decode(unb64("id", &p.credential_id)?)
            .map_err(corrupt("id"))?;
        let transports = AuthTransports::decode(p.transports).map_err(corrupt("transports"))?;
        exclude.push(PublicKeyCredentialDescriptor { id, transports });
    }
    let name = Username::try_from(user.email.as_str())
        .map_err(|_| PasskeyError::Invalid("Your email cannot name a passkey.".into()))?;
    let display = user
        .name
        .as_deref()
        .and_then(|n| Nickname::try_from(n).ok());
    let entity = PublicKeyCredentialUserEntity {
        name,
        id: &handle,
        display_name: display,
    };
    let mut creation = PublicKeyCredentialCreationOptions::passkey(&rp_id, entity, exclude);
    // credProtect asked for, not enforced by the browser: an authenticator without the
    // extension (many security keys, Chromium's virtual one) still registers. User
    // verification is required all the same (`userVerification: required`, checked here).
    creation.extensions.cred_protect =
        CredProtect::UserVerificationRequired(ExtensionInfo::AllowDontEnforceValue);
    let (server, client) = creation
        .start_ceremony()
        .map_err(|e| PasskeyError::Misconfigured(format!("passkey options: {e}")))?;
    let options = serde_json::to_value(&client).map_err(|e| StoreError::Other(e.to_string()))?;
    let state = server.encode().map_err(corrupt("registration state"))?;
    let ceremony = Ceremony::Register {
        user_id: user.user_id.clone(),
        state: b64(&state),
    };
    store_ceremony(store, server.sent_challenge().0, &ceremony).await?;
    Ok(options)
}

/// The name a passkey gets: the person's (trimmed, 1 to 60 characters, no control character),
/// else "Passkey added {date}".
fn passkey_name(name: Option<&str>) -> Result<String, PasskeyError> {
    match name.map(str::trim) {
        None | Some("") => Ok(format!(
            "Passkey added {}",
            &String::from(crate::platform::time::timestamp())[..10]
        )),
        Some(n) if n.chars().count() > 60 || n.chars().any(char::is_control) => Err(
            PasskeyError::Invalid("name: 1 to 60 characters, no line breaks.".into()),
        ),
        Some(n) => Ok(n.to_owned()),
    }
}

/// Finishes registering: the browser's `PublicKeyCredential` (its `toJSON()`), verified against
/// the ceremony `user` started; the passkey stored. Round trips: TWO reads, ONE conditional
/// delete, ONE transaction.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn register_finish(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &UserId,
    credential: &serde_json::Value,
    name: Option<&str>,
) -> Result<Passkey, PasskeyError> {
    let name = passkey_name(name)?;
    let registration: Registration = serde_json::from_value(credential.clone()).map_err(|e| {
        PasskeyError::Invalid(format!("credential: not a passkey registration ({e})."))
    })?;
    let challenge = registration
        .challenge()
        .map_err(|e| PasskeyError::Invalid(format!("credential: {e}")))?;
    let Ceremony::Register {
        user_id,
        state: encoded,
    } = spend_ceremony(store, challenge.0).await?
    else {
        return Err(PasskeyError::CeremonyRefused);
    };
    if &user_id != user {
        return Err(PasskeyError::CeremonyRefused);
    }
    let bytes = unb64("registration state", &encoded)?;
    let server = RegistrationServerState::<64>::decode(bytes.as_slice())
        .map_err(corrupt("registration state"))?;
    let rp_id = rp_id(rp)?;
    let origins = [origin(rp)?];
    let options = RegistrationVerificationOptions::<DomainOrigin<'_, '_>, DomainOrigin<'_, '_>> {
        allowed_origins: &origins,
        ..RegistrationVerificationOptions::default()
    };
    let registered = server
        .verify(&rp_id, &registration, &options)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    let (id, transports, handle, static_state, dynamic_state, _) = registered.into_parts();
    let now = crate::platform::time::timestamp();
    let passkey = Passkey {
        passkey_id: PasskeyId::new(),
        user_id: user.clone(),
        name,
        created_at: now,
        last_used_at: None,
        credential_id: b64(id.encode().map_err(corrupt("id"))?),
        user_handle: b64(&handle.encode().map_err(corrupt("user handle"))?),
        transports: transports.encode().map_err(corrupt("transports"))?,
        static_state: b64(&static_state.encode().map_err(corrupt("key"))?),
        dynamic_state: b64(&dynamic_state.encode().map_err(corrupt("state"))?),
    };
    let (pk, sk) = keys::passkey(&credential_digest(id.as_ref()));
    let doc = to_doc(&passkey)?;
    let ops = vec![
        WriteOp::Put {
            item: Item::new(pk, sk, doc.clone()),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(
                keys::user_pk(user),
                keys::user_passkey_sk(passkey.passkey_id.as_str()),
                doc,
            ),
            cond: Cond::Absent,
        },
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(passkey),
        Err(StoreError::TxConflict { .. }) => Err(PasskeyError::Duplicate),
        Err(e) => Err(e.into()),
    }
}

/// Passkey sign-ins started by one client address per rate-limit window: each stores a
/// ceremony for 5 minutes, and no credential is needed to start one.
pub const SIGN_INS_PER_ADDRESS: u32 = 60;

/// [`sign_in_begin`] once the client address is within [`SIGN_INS_PER_ADDRESS`] (`Limited`
/// past it, counted where the email link's starts are). Round trips: ONE conditional update,
/// then those of [`sign_in_begin`].
pub async fn sign_in_begin_limited(
    store: &dyn Store,
    limits: &crate::platform::config::RateLimits,
    (rp, client): (&RelyingParty, &str),
    next: Option<&str>,
) -> Result<serde_json::Value, PasskeyError> {
    use crate::kernel::ratelimit::RateLimitError;
    let counted =
        super::sign_in::count_address(store, limits, ("pka_", client), SIGN_INS_PER_ADDRESS);
    match counted.await {
        Ok(()) => sign_in_begin(store, rp, next).await,
        Err(RateLimitError::Limited(l)) => Err(PasskeyError::Limited(l.of("this client address"))),
        Err(RateLimitError::Store(e)) => Err(PasskeyError::Store(e)),
    }
}

/// Starts a sign-in with a passkey: the options `navigator.credentials.get` takes
/// (`PublicKeyCredentialRequestOptionsJSON`, no credential listed: the browser offers the
/// person's own). `next` is kept when it is a path of this origin.
#[tracing::instrument(skip_all)]
pub async fn sign_in_begin(
    store: &dyn Store,
    rp: &RelyingParty,
    next: Option<&str>,
) -> Result<serde_json::Value, PasskeyError> {
    let rp_id = rp_id(rp)?;
    let (server, client) = DiscoverableCredentialRequestOptions::passkey(&rp_id)
        .start_ceremony()
        .map_err(|e| PasskeyError::Misconfigured(format!("passkey options: {e}")))?;
    let options = serde_json::to_value(&client).map_err(|e| StoreError::Other(e.to_string()))?;
    let state = server.encode().map_err(corrupt("sign-in state"))?;
    let ceremony = Ceremony::SignIn {
        state: b64(&state),
        next: next.and_then(same_origin_path),
    };
    store_ceremony(store, server.sent_challenge().0, &ceremony).await?;
    Ok(options)
}

type StoredKey = CompressedPubKey<[u8; 32], [u8; 32], [u8; 48], Vec<u8>>;

/// A stored passkey's parts, decoded: its credential id, user handle, key and state.
fn stored_parts(
    passkey: &Passkey,
) -> Result<(Vec<u8>, UserHandle64, StaticState<StoredKey>, DynamicState), StoreError> {
    let id = unb64("id", &passkey.credential_id)?;
    let handle: [u8; 64] = unb64("user handle", &passkey.user_handle)?
        .try_into()
        .map_err(|_| StoreError::Corrupt("a user handle of another length".into()))?;
    let handle = UserHandle64::decode(handle).map_err(corrupt("user handle"))?;
    let key = StaticState::<StoredKey>::decode(&unb64("key", &passkey.static_state)?)
        .map_err(corrupt("key"))?;
    let dynamic: [u8; 7] = unb64("state", &passkey.dynamic_state)?
        .try_into()
        .map_err(|_| StoreError::Corrupt("a passkey's state of another length".into()))?;
    let dynamic = DynamicState::decode(dynamic).map_err(corrupt("state"))?;
    Ok((id, handle, key, dynamic))
}

/// Finishes a sign-in: the assertion verified against the credential it names (the signature,
/// the sign counter), a new session. Round trips: THREE reads and a query, ONE conditional
/// delete, ONE transaction.
#[tracing::instrument(skip_all)]
pub async fn sign_in_finish(
    store: &dyn Store,
    rp: &RelyingParty,
    credential: &serde_json::Value,
    life: Lifetimes,
    from: &Origin,
) -> Result<SignedIn, PasskeyError> {
    let assertion: DiscoverableAuthentication64 = serde_json::from_value(credential.clone())
        .map_err(|e| PasskeyError::Invalid(format!("credential: not a passkey sign-in ({e}).")))?;
    let challenge = assertion
        .challenge()
        .map_err(|e| PasskeyError::Invalid(format!("credential: {e}")))?;
    let Ceremony::SignIn {
        state: encoded,
        next,
    } = spend_ceremony(store, challenge.0).await?
    else {
        return Err(PasskeyError::CeremonyRefused);
    };
    let (pk, sk) = keys::passkey(&credential_digest(assertion.raw_id().as_ref()));
    let item = store.get(&pk, &sk).await?.ok_or(PasskeyError::Unknown)?;
    let mut passkey: Passkey = item.parse()?;
    let bytes = unb64("sign-in state", &encoded)?;
    let server = DiscoverableAuthenticationServerState::decode(bytes.as_slice())
        .map_err(corrupt("sign-in state"))?;
    let (id_bytes, handle, static_state, dynamic_state) = stored_parts(&passkey)?;
    let id = CredentialId::<&[u8]>::decode(id_bytes.as_slice()).map_err(corrupt("id"))?;
    let mut cred = AuthenticatedCredential::new(id, &handle, static_state, dynamic_state)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    let rp_id = rp_id(rp)?;
    let origins = [origin(rp)?];
    let options = AuthenticationVerificationOptions::<DomainOrigin<'_, '_>, DomainOrigin<'_, '_>> {
        allowed_origins: &origins,
        update_uv: true,
        ..AuthenticationVerificationOptions::default()
    };
    server
        .verify(&rp_id, &assertion, &mut cred, &options)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    let user = users::get(store, &passkey.user_id)
        .await?
        .ok_or(PasskeyError::Unknown)?;
    passkey.dynamic_state = b64(&cred.dynamic_state().encode().map_err(corrupt("state"))?);
    passkey.last_used_at = Some(crate::platform::time::timestamp());
    let doc = to_doc(&passkey)?;
    let mut ops = vec![
        WriteOp::Put {
            item: Item::new(pk, sk, doc.clone()).with_version(item.version + 1),
            cond: Cond::Version(item.version),
        },
        WriteOp::Put {
            item: Item::new(
                keys::user_pk(&user.user_id),
                keys::user_passkey_sk(passkey.passkey_id.as_str()),
                doc,
            ),
            cond: Cond::Exists,
        },
    ];
    let started = sessions::start(&user.user_id, life, from)?;
    ops.extend(started.ops);
    ops.extend(audit_ops(store, &user, "a passkey").await?);
    match store.transact(ops).await {
        Ok(()) => Ok(SignedIn {
            user,
            session: started.session,
            secret: started.secret,
            next,
        }),
        // Another sign-in with this passkey, or its removal, won: this one counts for nothing.
        Err(StoreError::TxConflict { .. }) => Err(PasskeyError::CeremonyRefused),
        Err(e) => Err(e.into()),
    }
}

/// Removes one of a person's passkeys (a lost one, after signing in by email). Round trips:
/// ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn remove(
    store: &dyn Store,
    user: &UserId,
    passkey_id: &PasskeyId,
) -> Result<Passkey, PasskeyError> {
    let sk = keys::user_passkey_sk(passkey_id.as_str());
    let item = store
        .get(&keys::user_pk(user), &sk)
        .await?
        .ok_or_else(|| PasskeyError::NotFound(passkey_id.to_string()))?;
    let passkey: Passkey = item.parse()?;
    let id = unb64("id", &passkey.credential_id)?;
    let (cpk, csk) = keys::passkey(&credential_digest(&id));
    store
        .transact(vec![
            WriteOp::Delete {
                pk: cpk,
                sk: csk,
                cond: Cond::None,
            },
            WriteOp::Delete {
                pk: keys::user_pk(user),
                sk,
                cond: Cond::Exists,
            },
        ])
        .await
        .map_err(|e| match e {
            StoreError::TxConflict { .. } => PasskeyError::NotFound(passkey_id.to_string()),
            e => e.into(),
        })?;
    Ok(passkey)
}
