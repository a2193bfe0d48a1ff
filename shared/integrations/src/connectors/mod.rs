//! Connectors (issue 45): sales, renewals, refunds and disputes that arrive by themselves from
//! the merchant's billing. A handle stores each provider's signing secrets (any of several
//! verifies, for rotation); the provider's webhook is verified before anything is parsed, each
//! provider event is processed exactly once per handle ([`log`]), and what it does goes
//! through the same services as the API: customers bound ([`crate::customers`]), conversions
//! submitted with a key derived from the provider's payment (`stripe:{id}`), reversals.
//! Checkout refs ([`refs`]) carry a click from the landing page into a checkout.

pub mod log;
pub mod payments;
pub mod refs;
pub mod sales;
pub mod shopify;
pub mod stripe;
pub mod test_event;

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{DomainError, Handle};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// What a provider's delivery uses of the process (issue 48): a conversion's intake (its store
/// and queue among it), the ctx keys that verify a ref's or a ctx's click and digest an email,
/// and the largest value a sale may carry. A few references, `Copy`: the router builds one per
/// delivery (`http::integrations`).
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub intake: crate::conversions::Intake<'a>,
    pub ctx_keys: Result<&'a crate::domain::CtxKeyring, crate::kernel::state::Unconfigured>,
    pub max_value: rust_decimal::Decimal,
}

impl<'a> Deps<'a> {
    pub fn store(&self) -> &'a dyn crate::platform::store::Store {
        self.intake.io.store.as_ref()
    }

    pub fn io(&self) -> crate::kernel::io::Io<'a> {
        self.intake.io
    }

    /// What a binding uses: the store and queue, and the keys that digest an email.
    pub fn binder(&self) -> crate::customers::bind::Binder<'a> {
        crate::customers::bind::Binder::new(self.intake.io, self.ctx_keys.ok())
    }
}

/// The providers a handle can connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Shopify,
}

impl Provider {
    pub fn parse(raw: &str) -> Option<Provider> {
        match raw {
            "stripe" => Some(Provider::Stripe),
            "shopify" => Some(Provider::Shopify),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Shopify => "shopify",
        }
    }
}

/// The most signing secrets one integration holds (the current one and those being rotated).
pub const MAX_SECRETS: usize = 4;

/// The shortest secret whose last 4 characters may be shown: a secret can be 8 characters
/// long, and its last 4 would be half of it (issue 57).
pub const MIN_SHOWN_SECRET_CHARS: usize = 24;

/// The signing secrets a delivery to a handle WITHOUT the provider's integration is checked
/// against (issue 57): one random key of this process, which no provider signs with. The
/// route then answers exactly as for a bad signature (same status and body, and an HMAC's
/// time after the same one store read), so a delivery cannot tell which handles use Stripe or
/// Shopify.
pub fn unknown_secrets() -> &'static [String] {
    use rand::RngCore;
    static KEY: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        vec![format!("whsec_{}", hex::encode(key))]
    })
}

/// How a secret is shown: `…` and its last 4 characters when it is at least
/// [`MIN_SHOWN_SECRET_CHARS`] long, else `…` alone (a short secret's tail would give away too
/// much of it).
pub fn shown_secret(secret: &str) -> String {
    let n = secret.chars().count();
    if n < MIN_SHOWN_SECRET_CHARS {
        return "…".to_owned();
    }
    let tail: String = secret.chars().skip(n - 4).collect();
    format!("…{tail}")
}

/// A handle's settings for one provider, as stored. The secrets are kept as given (the
/// provider's HMAC needs them) and answered only masked ([`shown_secret`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub provider: Provider,
    pub signing_secrets: Vec<String>,
    /// The conversions' event type (`purchase` by default).
    pub event_type: String,
    #[serde(default)]
    pub shop_domain: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an integration's settings answer: never a secret.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationView {
    pub provider: Provider,
    /// Each secret masked: `…` and its last 4 characters when it is 24 or more long, else `…`.
    pub signing_secrets: Vec<String>,
    pub event_type: String,
    pub shop_domain: Option<String>,
    /// The path the provider posts its events to (under the API's base URL).
    pub endpoint_path: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Integration {
    pub fn view(&self, handle: &Handle) -> IntegrationView {
        IntegrationView {
            provider: self.provider,
            signing_secrets: self
                .signing_secrets
                .iter()
                .map(|s| shown_secret(s))
                .collect(),
            event_type: self.event_type.clone(),
            shop_domain: self.shop_domain.clone(),
            endpoint_path: format!(
                "/v2/public/integrations/{}/{handle}",
                self.provider.as_str()
            ),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

/// A settings request, validated.
pub struct IntegrationInput {
    pub signing_secrets: Vec<String>,
    pub event_type: Option<String>,
    pub shop_domain: Option<String>,
}

impl IntegrationInput {
    /// 1 to [`MAX_SECRETS`] secrets of 8 to 256 printable ASCII characters; an event type as
    /// a conversion's; a Shopify shop domain (`*.myshopify.com`) for Shopify only.
    pub fn validate(self, provider: Provider) -> Result<IntegrationInput, DomainError> {
        let n = self.signing_secrets.len();
        if n == 0 || n > MAX_SECRETS {
            return Err(DomainError::new(
                "signingSecrets",
                format!("must hold 1 to {MAX_SECRETS} secrets"),
            ));
        }
        let printable =
            |s: &String| (8..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
        if !self.signing_secrets.iter().all(printable) {
            return Err(DomainError::new(
                "signingSecrets",
                "each must be 8 to 256 printable ASCII characters",
            ));
        }
        if let Some(t) = &self.event_type {
            crate::domain::idempotency::check_token(
                "eventType",
                t,
                crate::domain::conversion::MAX_EVENT_TYPE_CHARS,
            )?;
        }
        if self
            .shop_domain
            .as_deref()
            .is_some_and(|d| !valid_shop_domain(d))
        {
            return Err(DomainError::new(
                "shopDomain",
                "must be a {shop}.myshopify.com domain",
            ));
        }
        if provider == Provider::Shopify && self.shop_domain.is_none() {
            return Err(DomainError::new("shopDomain", "is required for Shopify"));
        }
        // A shop domain means nothing to Stripe: not stored.
        let shop_domain = self.shop_domain.filter(|_| provider == Provider::Shopify);
        Ok(IntegrationInput {
            shop_domain,
            ..self
        })
    }
}

fn valid_shop_domain(d: &str) -> bool {
    d.strip_suffix(".myshopify.com").is_some_and(|shop| {
        !shop.is_empty()
            && shop.len() <= 63
            && shop
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// The provider's settings of `handle`, if connected. Round trips: ONE read.
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
) -> Result<Option<Integration>, StoreError> {
    let (pk, sk) = keys::integration(handle, provider.as_str());
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Connects (or updates) `provider` for `handle`. Round trips: ONE read, ONE write.
#[tracing::instrument(skip_all, fields(handle = %handle, provider = provider.as_str()))]
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
    input: IntegrationInput,
) -> Result<Integration, StoreError> {
    let now = crate::platform::time::timestamp();
    let created_at = get(store, handle, provider)
        .await?
        .map_or_else(|| now.clone(), |i| i.created_at);
    let integration = Integration {
        provider,
        signing_secrets: input.signing_secrets,
        event_type: input.event_type.unwrap_or_else(|| "purchase".to_owned()),
        shop_domain: input.shop_domain,
        created_at,
        updated_at: now,
    };
    let (pk, sk) = keys::integration(handle, provider.as_str());
    let item = Item::new(pk, sk, crate::platform::store::to_doc(&integration)?);
    crate::platform::store::put(store, item).await?;
    Ok(integration)
}

/// Disconnects `provider`: its events are refused from then on (`404`). Returns whether it was
/// connected. Round trips: ONE delete.
pub async fn delete(
    store: &dyn Store,
    handle: &Handle,
    provider: Provider,
) -> Result<bool, StoreError> {
    let (pk, sk) = keys::integration(handle, provider.as_str());
    let before = store.get(&pk, &sk).await?;
    store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        })
        .await?;
    Ok(before.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_fully_masked_long_ones_show_their_last_4() {
        assert_eq!(shown_secret("whsec_ab"), "…");
        assert_eq!(shown_secret(&"x".repeat(23)), "…");
        let long = format!("{}wxyz", "a".repeat(20));
        assert_eq!(shown_secret(&long), "…wxyz");
    }

    #[test]
    fn the_unknown_handles_key_is_one_per_process_and_no_real_secret() {
        assert_eq!(unknown_secrets(), unknown_secrets());
        assert_eq!(unknown_secrets().len(), 1);
        assert!(unknown_secrets()[0].len() > 64);
    }
}
