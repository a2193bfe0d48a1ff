//! Signing in with an OpenID Connect provider (issue 60): the authorization code flow with PKCE
//! (S256), a `state` and a `nonce`, the ID token verified against the issuer's JWKS (signature,
//! `iss`, `aud`, expiry, nonce) by the `openidconnect` crate. The HTTP client follows no
//! redirect (a provider's endpoint that answers one is refused, never followed elsewhere).
//!
//! A sign-in under way is stored by its state's SHA-256 (`OIS#…`, 10 minutes) with the PKCE
//! verifier and the nonce, and spent once: the callback deletes it (conditioned on its
//! presence) before the code is exchanged, so a replayed callback, or a second use of one state,
//! is refused.
//!
//! A person is the provider's `iss` + `sub` (`OID#{digest}` → their user), never an email.
//! Linking such a person to a user the first time happens only through:
//! - a signed-in session that started the flow (the account screen's "connect"), or
//! - the provider saying `email_verified: true` for an address that is already a user's: the
//!   same proof the email link asks (the person reads that mailbox), from a provider the
//!   operator configured. An unverified or absent email links nothing, and an address that is
//!   nobody's makes no user (accounts come from invitations and `tenx setup --admin`).

use std::sync::OnceLock;
use std::time::Duration;

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::User;
use super::sessions::{self, Lifetimes, Origin};
use super::sign_in::{SignedIn, same_origin_path};
use super::{secret, users};
use crate::domain::UserId;
use crate::domain::time::Timestamp;
use crate::platform::config::OidcProvider;
use crate::platform::store::{
    Cond, Item, Query, Store, StoreError, WriteOp, keys, now_unix, to_doc,
};

/// How long a sign-in with a provider may take, from the start to the callback.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// The state's prefix (the value the provider hands back, and the browser's binding cookie).
pub const STATE_PREFIX: &str = "tenx_o_";

/// How long a provider's discovery document (and its keys) is reused.
const METADATA_TTL: Duration = Duration::from_secs(5 * 60);

/// Why a sign-in with a provider was refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The state is unknown, spent, expired, another provider's or not this browser's (`401`).
    #[error("This sign-in was already used, has expired or was started elsewhere; start again.")]
    StateRefused,
    /// The provider refused the code (replayed, expired, not this client's) (`401`).
    #[error("The provider refused this sign-in ({0}); start again.")]
    CodeRefused(String),
    /// The ID token failed a check: signature, issuer, audience, expiry or nonce (`401`).
    #[error("The provider's ID token was refused ({0}); start again.")]
    TokenRefused(String),
    /// The provider said the person declined, or failed (`401`).
    #[error("The provider ended the sign-in: {0}.")]
    Declined(String),
    /// A person no user is linked to, whose provider vouches for no known address (`403`).
    #[error(
        "No account here belongs to this {0} sign-in. Ask an admin of your team for an \
         invitation, or sign in by email and connect {0} from your account screen."
    )]
    NoAccount(String),
    /// The provider could not be reached or answered nonsense (`503`).
    #[error("The sign-in provider could not be reached ({0}); try again.")]
    Unreachable(String),
    /// `429`: too many sign-ins started from one client address.
    #[error(transparent)]
    Limited(crate::kernel::ratelimit::Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A sign-in under way (`OIS#…`): what the callback needs to finish it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pending {
    provider: String,
    pkce_verifier: String,
    nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    /// The signed-in user who started it: the provider's person is linked to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link_user: Option<UserId>,
    expires_at: Timestamp,
}

/// A provider's person, linked to a user (`OID#…`, and a listing entry in the user's partition).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub user_id: UserId,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub linked_at: Timestamp,
}

/// The HTTP client every provider call goes through: no redirect followed, bounded in time.
fn http() -> Result<&'static reqwest::Client, OidcError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = crate::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(8))
        .build()
        .map_err(|e| OidcError::Unreachable(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| built))
}

/// The provider's discovery document and keys, reused for [`METADATA_TTL`].
async fn metadata(provider: &OidcProvider) -> Result<CoreProviderMetadata, OidcError> {
    static CACHE: OnceLock<moka::sync::Cache<String, CoreProviderMetadata>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        moka::sync::Cache::builder()
            .max_capacity(64)
            .time_to_live(METADATA_TTL)
            .build()
    });
    if let Some(m) = cache.get(&provider.issuer) {
        return Ok(m);
    }
    let issuer = IssuerUrl::new(provider.issuer.clone())
        .map_err(|e| OidcError::Unreachable(format!("issuer: {e}")))?;
    let m = CoreProviderMetadata::discover_async(issuer, http()?)
        .await
        .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
    cache.insert(provider.issuer.clone(), m.clone());
    Ok(m)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

/// Where the provider sends the person back: this server's callback for `provider`.
pub fn redirect_uri(base_url: &str, provider: &OidcProvider) -> String {
    format!(
        "{}/v2/auth/oidc/{}/callback",
        base_url.trim_end_matches('/'),
        provider.id
    )
}

/// A sign-in started: the provider's authorization URL to send the browser to, and the state
/// to bind to the browser (a cookie), so a callback from another browser is refused.
pub struct Started {
    pub url: String,
    pub state: String,
}

/// Sign-ins started by one client address per rate-limit window: each stores its state for
/// [`STATE_TTL`], and no credential is needed to start one (as many as passkey sign-ins).
pub const STARTS_PER_ADDRESS: u32 = 60;

/// [`start`] once the client address is within [`STARTS_PER_ADDRESS`] (`Limited` past it,
/// counted where the email link's and the passkeys' starts are, in a bucket of its own). Round
/// trips: ONE conditional update, then those of [`start`].
pub async fn start_limited(
    store: &dyn Store,
    limits: &crate::platform::config::RateLimits,
    (provider, client): (&OidcProvider, &str),
    base_url: &str,
    (next, link_user): (Option<&str>, Option<UserId>),
) -> Result<Started, OidcError> {
    use crate::kernel::ratelimit::RateLimitError;
    let counted =
        super::sign_in::count_address(store, limits, ("oia_", client), STARTS_PER_ADDRESS);
    match counted.await {
        Ok(()) => start(store, provider, base_url, next, link_user).await,
        Err(RateLimitError::Limited(l)) => Err(OidcError::Limited(l.of("this client address"))),
        Err(RateLimitError::Store(e)) => Err(OidcError::Store(e)),
    }
}

/// Starts a sign-in with `provider`: a fresh state, nonce and PKCE verifier, stored by the
/// state's hash for [`STATE_TTL`]. Round trips: the provider's discovery (cached) and ONE write.
#[tracing::instrument(skip_all, fields(provider = %provider.id))]
pub async fn start(
    store: &dyn Store,
    provider: &OidcProvider,
    base_url: &str,
    next: Option<&str>,
    link_user: Option<UserId>,
) -> Result<Started, OidcError> {
    let meta = metadata(provider).await?;
    let redirect = RedirectUrl::new(redirect_uri(base_url, provider))
        .map_err(|e| OidcError::Unreachable(format!("redirect URI: {e}")))?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(provider.client_id.clone()),
        provider.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            || CsrfToken::new(secret::generate(STATE_PREFIX)),
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let expires = now_unix() + crate::domain::time::secs(STATE_TTL);
    let pending = Pending {
        provider: provider.id.clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
        next: next.and_then(same_origin_path),
        link_user,
        expires_at: Timestamp::from_unix(expires),
    };
    let (pk, sk) = keys::oidc_state(&secret::hash(state.secret()));
    store
        .write(WriteOp::Put {
            item: Item::new(pk, sk, to_doc(&pending)?).expiring_at(Some(expires)),
            cond: Cond::Absent,
        })
        .await?;
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
    })
}

/// Spends a sign-in under way: its record, deleted if it is live, `provider`'s and bound to
/// this browser (`bound`: the state cookie's value). Round trips: ONE read, ONE write.
async fn spend_state(
    store: &dyn Store,
    provider: &OidcProvider,
    state: &str,
    bound: Option<&str>,
) -> Result<Pending, OidcError> {
    let bound_here = bound.is_some_and(|b| secret::same(b, state));
    if !secret::well_formed(state, STATE_PREFIX) || !bound_here {
        return Err(OidcError::StateRefused);
    }
    let (pk, sk) = keys::oidc_state(&secret::hash(state));
    let item = store.get(&pk, &sk).await?.ok_or(OidcError::StateRefused)?;
    let pending: Pending = item.parse()?;
    if pending.provider != provider.id || pending.expires_at.unix() <= now_unix() {
        return Err(OidcError::StateRefused);
    }
    match store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Version(item.version),
        })
        .await
    {
        Ok(_) => Ok(pending),
        // Spent by a request at the same time.
        Err(StoreError::ConditionFailed { .. }) => Err(OidcError::StateRefused),
        Err(e) => Err(e.into()),
    }
}

/// What the provider vouched for, once the ID token passed every check.
struct Vouched {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
}

/// Exchanges the code (with the PKCE verifier) and verifies the ID token (with the nonce).
async fn exchange(
    provider: &OidcProvider,
    base_url: &str,
    pending: &Pending,
    code: String,
) -> Result<Vouched, OidcError> {
    let meta = metadata(provider).await?;
    let redirect = RedirectUrl::new(redirect_uri(base_url, provider))
        .map_err(|e| OidcError::Unreachable(format!("redirect URI: {e}")))?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(provider.client_id.clone()),
        provider.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect);
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| OidcError::Unreachable(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(http()?)
        .await
        .map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(r) => {
                OidcError::CodeRefused(r.error().to_string())
            }
            other => OidcError::Unreachable(error_chain(&other)),
        })?;
    use openidconnect::TokenResponse;
    let token = response
        .id_token()
        .ok_or_else(|| OidcError::TokenRefused("no ID token".into()))?;
    let claims = token
        .claims(
            &client.id_token_verifier(),
            &Nonce::new(pending.nonce.clone()),
        )
        .map_err(|e| OidcError::TokenRefused(error_chain(&e)))?;
    Ok(Vouched {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified() == Some(true),
    })
}

/// The digest a provider's person is keyed by: `iss` and `sub`, unambiguously joined.
pub fn identity_digest(issuer: &str, subject: &str) -> String {
    let mut h = Sha256::new();
    h.update(issuer.as_bytes());
    h.update([0u8]);
    h.update(subject.as_bytes());
    hex::encode(h.finalize())
}

/// The user a provider's person signs in as, and the writes that link them when new.
async fn user_of(
    store: &dyn Store,
    provider: &OidcProvider,
    vouched: &Vouched,
    link_user: Option<&UserId>,
) -> Result<(User, Vec<WriteOp>), OidcError> {
    let digest = identity_digest(&vouched.issuer, &vouched.subject);
    let (pk, sk) = keys::oidc_identity(&digest);
    if let Some(item) = store.get(&pk, &sk).await? {
        let identity: Identity = item.parse()?;
        let user = users::get(store, &identity.user_id)
            .await?
            .ok_or_else(|| OidcError::NoAccount(provider.name.clone()))?;
        return Ok((user, Vec::new()));
    }
    let user = match link_user {
        Some(id) => users::get(store, id).await?,
        None if vouched.email_verified => match &vouched.email {
            Some(e) => match crate::domain::email::Email::parse("email", e) {
                Ok(email) => users::by_email(store, &email).await?,
                Err(_) => None,
            },
            None => None,
        },
        None => None,
    }
    .ok_or_else(|| OidcError::NoAccount(provider.name.clone()))?;
    let identity = Identity {
        user_id: user.user_id.clone(),
        provider: provider.id.clone(),
        issuer: vouched.issuer.clone(),
        subject: vouched.subject.clone(),
        email: vouched.email.clone(),
        linked_at: crate::platform::time::timestamp(),
    };
    let doc = to_doc(&identity)?;
    // Put if absent: two first sign-ins of one person at once link them once.
    let ops = vec![
        WriteOp::Put {
            item: Item::new(pk, sk, doc.clone()),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(
                keys::user_pk(&user.user_id),
                keys::user_identity_sk(&digest),
                doc,
            ),
            cond: Cond::None,
        },
    ];
    Ok((user, ops))
}

/// What the provider's redirect back brought.
pub struct Callback<'a> {
    /// The `state` parameter.
    pub state: &'a str,
    /// The state cookie of the browser that came back (`None`: a browser that started nothing).
    pub bound: Option<&'a str>,
    /// The `code`, or the provider's `error` (the person declined, or it failed).
    pub code: Result<String, String>,
}

/// The callback: spends the state (bound to this browser), exchanges the code, verifies the ID
/// token and starts a session of the person's user (a new id), linking the person first when
/// new, in ONE transaction. Round trips: ONE read and ONE write for the state, the provider's
/// token endpoint, TWO reads, ONE transaction.
#[tracing::instrument(skip_all, fields(provider = %provider.id))]
pub async fn finish(
    store: &dyn Store,
    provider: &OidcProvider,
    base_url: &str,
    callback: Callback<'_>,
    life: Lifetimes,
    origin: &Origin,
) -> Result<SignedIn, OidcError> {
    let pending = spend_state(store, provider, callback.state, callback.bound).await?;
    let code = callback.code.map_err(OidcError::Declined)?;
    let vouched = exchange(provider, base_url, &pending, code).await?;
    let (user, mut ops) = user_of(store, provider, &vouched, pending.link_user.as_ref()).await?;
    let started = sessions::start(&user.user_id, life, origin)?;
    ops.extend(started.ops);
    ops.extend(super::sign_in::audit_ops(store, &user, &provider.name).await?);
    store.transact(ops).await.map_err(|e| match e {
        // The same person linked by a sign-in at the same time: theirs stands; start again.
        StoreError::TxConflict { .. } => OidcError::StateRefused,
        e => e.into(),
    })?;
    Ok(SignedIn {
        user,
        session: started.session,
        secret: started.secret,
        next: pending.next,
    })
}

/// A user's linked provider identities (the account screen). Round trips: ONE query.
pub async fn identities(store: &dyn Store, user: &UserId) -> Result<Vec<Identity>, StoreError> {
    let q = Query::prefix(keys::user_pk(user), keys::USER_IDENTITY_SK_PREFIX, 100);
    Ok(store.query(q).await?.parsed()?.0)
}
