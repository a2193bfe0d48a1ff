//! Payout providers: the program's own Stripe and PayPal accounts, which payouts through
//! Stripe Connect and PayPal Payouts are sent from. An admin gives each account's credentials
//! (`PUT …/payout-providers/{stripe|paypal}`); they are sealed at rest like a partner's payout
//! details ([`crate::domain::sealed`], bound to the handle and provider), answered only by their
//! last 4 characters, and opened only to call the provider ([`credentials`], [`check`]).

pub mod check;
pub mod paypal;
pub mod stripe;

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle};
use crate::kernel::state::Unconfigured;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// The providers a program can pay through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Paypal,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::Paypal];

    pub fn parse(raw: &str) -> Option<Provider> {
        match raw {
            "stripe" => Some(Provider::Stripe),
            "paypal" => Some(Provider::Paypal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Paypal => "paypal",
        }
    }

    /// How people name it.
    pub fn title(self) -> &'static str {
        match self {
            Provider::Stripe => "Stripe",
            Provider::Paypal => "PayPal",
        }
    }

    /// The path its webhooks are posted to, under the API's base URL.
    pub fn webhook_path(self, handle: &Handle) -> String {
        let name = match self {
            Provider::Stripe => "stripe-connect",
            Provider::Paypal => "paypal",
        };
        format!("/v2/public/integrations/{name}/{handle}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "{0} is not connected: an admin connects it on the console's Payouts page (Payout providers)."
    )]
    NotConnected(&'static str),
    #[error("the stored credentials do not open: {0}")]
    Sealed(#[from] crate::domain::sealed::SealError),
    #[error(transparent)]
    Unconfigured(#[from] Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a call to a provider did not do what was asked, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth trying again later: the provider busy, down or not answering, an answer lost.
    #[error("{0}")]
    Retry(String),
    /// The provider refused it: the same request would be refused again.
    #[error("{0}")]
    Refused(String),
    /// The provider did not take the request for a reason that is not the request's own: the
    /// program's credentials or the app's permissions refused, or a status the call does not
    /// expect. It says nothing of the payment an earlier attempt may have made.
    #[error("{0}")]
    Denied(String),
}

impl CallError {
    pub(crate) fn unreachable(title: &str, e: &reqwest::Error) -> Self {
        match e.is_timeout() {
            true => CallError::Retry(format!("{title} did not answer in time.")),
            false => CallError::Retry(format!("{title} could not be reached.")),
        }
    }

    /// A status other than the ones a call expects: busy or down is retried, anything else is
    /// denied.
    pub(crate) fn status(title: &str, status: u16) -> Self {
        match status {
            409 | 429 => CallError::Retry(format!("{title} was busy (HTTP {status}).")),
            500..=599 => {
                CallError::Retry(format!("{title} had an error of its own (HTTP {status})."))
            }
            _ => CallError::Denied(format!("{title} refused the request (HTTP {status}).")),
        }
    }
}

/// How long a provider is waited for per call.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The client every provider call uses (no redirects followed).
pub(crate) fn client() -> Result<reqwest::Client, CallError> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let built = crate::platform::http_client::builder()
        .timeout(CALL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CallError::Retry(format!("no HTTP client: {e}")))?;
    Ok(CLIENT.get_or_init(|| built).clone())
}

/// `PUT …/payout-providers/stripe`, before validation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StripeInput {
    pub secret_key: String,
    pub webhook_secret: String,
}

/// `PUT …/payout-providers/paypal`, before validation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PaypalInput {
    pub client_id: String,
    pub client_secret: String,
    pub webhook_id: String,
}

/// An account's credentials in clear: inside the seal, and in a request to the provider.
/// `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Credentials {
    #[serde(rename_all = "camelCase")]
    Stripe {
        secret_key: String,
        webhook_secret: String,
    },
    #[serde(rename_all = "camelCase")]
    Paypal {
        client_id: String,
        client_secret: String,
        webhook_id: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({})", self.provider().as_str())
    }
}

/// The longest credential kept (Stripe's keys are about 110 characters, PayPal's 80).
const MAX_CREDENTIAL: usize = 512;

/// A credential as given: trimmed, not blank, no spaces or control characters inside.
fn token(field: &str, raw: &str, what: &str) -> Result<String, DomainError> {
    let v = raw.trim();
    if v.is_empty()
        || v.len() > MAX_CREDENTIAL
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DomainError::new(field, what));
    }
    Ok(v.to_owned())
}

impl StripeInput {
    /// The secret key a live or test one (`sk_…`, or a restricted `rk_…`), the signing secret
    /// a webhook endpoint's (`whsec_…`): each named on error, with where to find it.
    pub fn validate(&self) -> Result<Credentials, DomainError> {
        const KEY: &str = "is Stripe's secret key, starting sk_live_ or sk_test_ (or a restricted rk_ key): Stripe's Dashboard → Developers → API keys.";
        let secret_key = token("secretKey", &self.secret_key, KEY)?;
        if !["sk_live_", "sk_test_", "rk_live_", "rk_test_"]
            .iter()
            .any(|p| secret_key.starts_with(p) && secret_key.len() > p.len() + 8)
        {
            return Err(DomainError::new("secretKey", KEY));
        }
        const HOOK: &str = "is the signing secret of the Connect webhook endpoint, starting whsec_: Stripe's Dashboard → Developers → Webhooks → the endpoint → Signing secret.";
        let webhook_secret = token("webhookSecret", &self.webhook_secret, HOOK)?;
        if !webhook_secret.starts_with("whsec_") || webhook_secret.len() < 6 + 16 {
            return Err(DomainError::new("webhookSecret", HOOK));
        }
        Ok(Credentials::Stripe {
            secret_key,
            webhook_secret,
        })
    }
}

impl PaypalInput {
    /// The REST app's client id and secret, and the id of its webhook: each named on error.
    pub fn validate(&self) -> Result<Credentials, DomainError> {
        let app = "PayPal's developer dashboard → Apps & Credentials → the app";
        let client_id = token(
            "clientId",
            &self.client_id,
            &format!("is the REST app's client ID: {app}."),
        )?;
        let client_secret = token(
            "clientSecret",
            &self.client_secret,
            &format!("is the REST app's secret: {app}."),
        )?;
        let hook =
            format!("is the id of the app's webhook (letters and digits): {app} → Webhooks.");
        let webhook_id = token("webhookId", &self.webhook_id, &hook)?;
        if webhook_id.len() > 64 || !webhook_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::new("webhookId", hook));
        }
        Ok(Credentials::Paypal {
            client_id,
            client_secret,
            webhook_id,
        })
    }
}

impl Credentials {
    pub fn provider(&self) -> Provider {
        match self {
            Credentials::Stripe { .. } => Provider::Stripe,
            Credentials::Paypal { .. } => Provider::Paypal,
        }
    }

    /// Whether money sent with them is a provider's test money (Stripe's test-mode keys; a
    /// PayPal app says so only through the host it is called on, so `None`).
    pub fn test_mode(&self) -> Option<bool> {
        match self {
            Credentials::Stripe { secret_key, .. } => Some(secret_key.contains("_test_")),
            Credentials::Paypal { .. } => None,
        }
    }
}

/// How a secret is shown: `…` and its last 4 characters (every credential accepted is longer
/// than 16, so the tail never gives most of it away).
pub fn last4(secret: &str) -> String {
    let n = secret.chars().count();
    let tail: String = secret.chars().skip(n.saturating_sub(4)).collect();
    format!("…{tail}")
}

/// `GET …/payout-providers`: one connected account, never a secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    pub provider: Provider,
    /// Stripe: the secret key's and the signing secret's last 4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    /// Stripe: whether the key moves test money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<bool>,
    /// PayPal: the client id (not a secret) and the secret's last 4, and the webhook's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// Where the provider posts its events (under the API's base URL): what the manager sets
    /// on the provider's side.
    pub webhook_path: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl ProviderView {
    fn of(handle: &Handle, c: &Credentials, by: &str) -> Self {
        let provider = c.provider();
        let mut v = ProviderView {
            provider,
            secret_key: None,
            webhook_secret: None,
            test_mode: c.test_mode(),
            client_id: None,
            client_secret: None,
            webhook_id: None,
            webhook_path: provider.webhook_path(handle),
            updated_at: crate::platform::time::timestamp(),
            updated_by: by.to_owned(),
        };
        match c {
            Credentials::Stripe {
                secret_key,
                webhook_secret,
            } => {
                v.secret_key = Some(last4(secret_key));
                v.webhook_secret = Some(last4(webhook_secret));
            }
            Credentials::Paypal {
                client_id,
                client_secret,
                webhook_id,
            } => {
                v.client_id = Some(client_id.clone());
                v.client_secret = Some(last4(client_secret));
                v.webhook_id = Some(webhook_id.clone());
            }
        }
        v
    }
}

/// What is stored: the sealed credentials and their masked form.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    sealed: String,
    view: ProviderView,
}

/// What seals an account's credentials: its handle and provider, so a ciphertext copied to
/// another handle (or provider) does not open.
fn aad(handle: &Handle, provider: Provider) -> String {
    format!("tenx/payout-provider/v1/{handle}/{}", provider.as_str())
}

/// Connects (or replaces) a provider's account, with its audit entry. Round trips: ONE
/// transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    credentials: &Credentials,
    by: &str,
) -> Result<ProviderView, ProviderError> {
    let provider = credentials.provider();
    let plain = serde_json::to_vec(credentials).unwrap_or_default();
    let stored = Stored {
        sealed: keys?.seal(&aad(handle, provider), &plain),
        view: ProviderView::of(handle, credentials, by),
    };
    let (pk, sk) = keys::payout_provider(handle, provider.as_str());
    let item = Item::new(pk, sk, crate::platform::store::to_doc(&stored)?);
    let ops = vec![
        WriteOp::Put {
            item,
            cond: Cond::None,
        },
        crate::kernel::audit::entry(handle, "payout_provider.connected", provider.title())?,
    ];
    store.transact(ops).await?;
    Ok(stored.view)
}

/// Disconnects a provider's account (its payouts already sent keep their state). `false`: none
/// was connected. Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn remove(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
) -> Result<bool, ProviderError> {
    let (pk, sk) = keys::payout_provider(handle, provider.as_str());
    if store.get(&pk, &sk).await?.is_none() {
        return Ok(false);
    }
    let ops = vec![
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        },
        crate::kernel::audit::entry(handle, "payout_provider.disconnected", provider.title())?,
    ];
    store.transact(ops).await?;
    Ok(true)
}

async fn stored(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
) -> Result<Option<Stored>, StoreError> {
    let (pk, sk) = keys::payout_provider(handle, provider.as_str());
    let item = store.get(&pk, &sk).await?;
    item.map(|i| i.parse::<Stored>()).transpose()
}

/// The connected accounts, masked, Stripe first. Round trips: ONE read per provider.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<ProviderView>, StoreError> {
    let mut out = Vec::new();
    for p in Provider::ALL {
        if let Some(s) = stored(store, handle, p).await? {
            out.push(s.view);
        }
    }
    Ok(out)
}

/// Whether `provider` is connected. Round trips: ONE read.
pub async fn connected(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
) -> Result<bool, StoreError> {
    Ok(stored(store, handle, provider).await?.is_some())
}

/// A provider's credentials in clear, to call it. Round trips: ONE read.
pub async fn credentials(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    provider: Provider,
) -> Result<Credentials, ProviderError> {
    let s = stored(store, handle, provider)
        .await?
        .ok_or(ProviderError::NotConnected(provider.title()))?;
    let plain = keys?.open(&aad(handle, provider), &s.sealed)?;
    let c: Credentials = serde_json::from_slice(&plain)
        .map_err(|e| StoreError::Corrupt(format!("payout provider: {e}")))?;
    if c.provider() != provider {
        return Err(crate::domain::sealed::SealError::Corrupt.into());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe(key: &str, hook: &str) -> Result<Credentials, DomainError> {
        StripeInput {
            secret_key: key.into(),
            webhook_secret: hook.into(),
        }
        .validate()
    }

    #[test]
    fn a_stripe_account_takes_a_secret_key_and_a_webhook_signing_secret() {
        let ok = stripe(" sk_test_51AbCdEfGhIjKlMn ", "whsec_0123456789abcdef0123").unwrap();
        assert_eq!(ok.test_mode(), Some(true));
        assert_eq!(
            stripe("pk_test_51AbCdEfGhIjKlMn", "whsec_0123456789abcdef0123")
                .unwrap_err()
                .field,
            "secretKey"
        );
        assert_eq!(
            stripe("sk_test_", "whsec_0123456789abcdef0123")
                .unwrap_err()
                .field,
            "secretKey"
        );
        assert_eq!(
            stripe("sk_live_51Ab CdEfGhIjKlMn", "whsec_0123456789abcdef0123")
                .unwrap_err()
                .field,
            "secretKey"
        );
        assert_eq!(
            stripe("sk_live_51AbCdEfGhIjKlMn", "0123456789abcdef0123")
                .unwrap_err()
                .field,
            "webhookSecret"
        );
        let live = stripe("rk_live_51AbCdEfGhIjKlMn", "whsec_0123456789abcdef0123").unwrap();
        assert_eq!(live.test_mode(), Some(false));
    }

    #[test]
    fn a_paypal_account_takes_a_client_and_a_webhook_id_of_letters_and_digits() {
        let input = |id: &str, secret: &str, hook: &str| PaypalInput {
            client_id: id.into(),
            client_secret: secret.into(),
            webhook_id: hook.into(),
        };
        assert!(
            input("AbC-1", "EFg_2", "8PT597110X687430LKGECATA")
                .validate()
                .is_ok()
        );
        assert_eq!(
            input("", "x", "W1").validate().unwrap_err().field,
            "clientId"
        );
        assert_eq!(
            input("a", " ", "W1").validate().unwrap_err().field,
            "clientSecret"
        );
        assert_eq!(
            input("a", "b", "W-1").validate().unwrap_err().field,
            "webhookId"
        );
    }

    #[test]
    fn a_secret_is_shown_by_its_last_4_and_debug_shows_none() {
        assert_eq!(last4("sk_test_51AbCdEfGhIjKlMn"), "…KlMn");
        let c = stripe("sk_test_51AbCdEfGhIjKlMn", "whsec_0123456789abcdef0123").unwrap();
        assert_eq!(format!("{c:?}"), "Credentials(stripe)");
    }
}
