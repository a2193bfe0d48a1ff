//! Everything a router needs, built once per process and shared by every request.

use std::sync::Arc;

use crate::auth::jwt::JwtVerifier;
use crate::domain::fallback::RedirectSettings;
use crate::domain::risk::ConversionPolicy;
use crate::domain::{CtxKeyring, Link};
use crate::platform::config::{Config, Secrets};
use crate::platform::engines::{Chosen, Engines};
use crate::platform::queue::Queue;
use crate::platform::store::Store;
use crate::platform::stream::ClickStream;

/// The redirect path's in-process link cache: `None` caches a miss (unknown slug) too, so a
/// burst on a dead link costs one read per TTL, not one per request.
pub type LinkCache = moka::sync::Cache<(String, String), Option<Arc<Link>>>;

/// The conversion path's in-process policy cache (handle → policy), on the link cache's TTL.
pub type PolicyCache = moka::sync::Cache<String, Arc<ConversionPolicy>>;

/// Rate-limit counter items (by key) this process found full in their window, so a request over
/// the limit skips them instead of writing to each again (`ratelimit::admit`). Entries live one
/// window; the keys carry their window, so a later window never matches.
pub type FullCounters = moka::sync::Cache<String, ()>;

/// The redirect's per-handle fallback settings (`clicks::orphans::settings_cached`), on the link
/// cache's TTL.
pub type RedirectSettingsCache = moka::sync::Cache<String, Arc<RedirectSettings>>;

/// Whether a handle exists (`handle_settings::exists`), on the link cache's TTL.
pub type SeenHandles = moka::sync::Cache<String, bool>;

/// Custom domains by host (issue 64): `None` caches a host that is no custom domain, so the
/// API's own hosts cost one read per TTL; on the link cache's TTL, emptied for a domain its
/// own process verifies or deletes.
pub type DomainCache =
    moka::sync::Cache<String, Option<Arc<crate::domain::custom_domain::CustomDomain>>>;

/// How long one look at the pipeline's lag serves every funnel read of a process.
pub const FRESHNESS_REUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's state as every request takes it: one `Arc`, so that the clone each extractor
/// and middleware makes of it is one atomic add, not one per engine and cache (a profile of the
/// redirect under load spent about 13 % of the server's CPU cloning and dropping the fields,
/// each moka cache a handful of shared counters). Reads go through [`ProcessState`]'s fields
/// (`state.store`); a write (`state.config = …`, a test's) copies the parts first if another
/// clone shares them.
#[derive(Clone)]
pub struct AppState(Arc<ProcessState>);

impl std::ops::Deref for AppState {
    type Target = ProcessState;

    fn deref(&self) -> &ProcessState {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut ProcessState {
        Arc::make_mut(&mut self.0)
    }
}

/// Everything a router needs, built once per process: the engines, the keys and the caches.
#[derive(Clone)]
pub struct ProcessState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Where the redirect appends clicks (`stream`); `None` in a process without one, which
    /// sends its clicks as events-queue messages instead (counted the same, at queue cost).
    pub clicks: Option<Arc<dyn ClickStream>>,
    /// `None` in a process without authenticated routes; `authorize` then fails closed.
    pub jwt: Option<Arc<JwtVerifier>>,
    /// `None` in a process that neither signs nor verifies ctx tokens.
    pub ctx_keys: Option<Arc<CtxKeyring>>,
    /// `None` in a process that signs no statement.
    pub signing: Option<Arc<crate::domain::proof::jws::ProofKeyring>>,
    /// `None` in a process that handles no payout details (issue 46).
    pub payout_key: Option<Arc<crate::domain::sealed::Keyring>>,
    pub link_cache: LinkCache,
    pub policy_cache: PolicyCache,
    /// The redirect's per-handle fallback settings, on the same TTL.
    pub redirect_settings_cache: RedirectSettingsCache,
    pub full_counters: FullCounters,
    /// Whether a handle exists (`handle_settings::exists`), on the link cache's TTL.
    pub seen_handles: SeenHandles,
    /// Custom domains by host, for the redirect (`domains::site`).
    pub domain_cache: DomainCache,
    /// The funnel's last look at the oldest event not counted yet (`analytics::freshness`,
    /// which reads through it), kept [`FRESHNESS_REUSE`].
    pub freshness: moka::sync::Cache<(), Option<i64>>,
    /// The mail engine of `TENX_MAIL_URL` (issue 59): only the mail worker sends through it.
    pub mailer: Arc<dyn crate::platform::mail::Mailer>,
    /// Where this process's next outbox sweep starts reading (`outbox::sweep_from`).
    pub sweep_floor: Arc<crate::kernel::outbox::Floor>,
    /// Where large import files are uploaded (issue 64): the stack's bucket, or the data dir's
    /// `uploads/`; `None` in a process with neither.
    pub uploads: Option<Arc<dyn crate::platform::uploads::Uploads>>,
    /// The TLS edge of custom domains (issue 64): ACM and CloudFront on AWS when
    /// `TENX_EDGE_DISTRIBUTION_ID` is set; `None` locally, where `Host` is enough.
    pub edge: Option<Arc<dyn crate::platform::edge::Edge>>,
}

impl AppState {
    /// The state of a process serving every route (the local server, tests): every secret is
    /// required.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
    ) -> anyhow::Result<Self> {
        Self::with_secrets(config, store, queue, Secrets::ALL)
    }

    /// The state of a process holding only the `needed` secrets (a Lambda function). Secrets it
    /// does not need are dropped from the configuration it keeps, even when they were set.
    /// Local engines only: settings naming an AWS one are refused ([`Self::with_engines`]).
    pub fn with_secrets(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        needed: Secrets,
    ) -> anyhow::Result<Self> {
        Self::with_engines(config, store, queue, needed, &Engines::LOCAL)
    }

    /// [`Self::with_secrets`], the mail, uploads and edge engines the settings name built from
    /// `engines` when they are not the kernel's own (`tenx_aws::ENGINES`: SES, S3, the edges).
    pub fn with_engines(
        mut config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        needed: Secrets,
        engines: &Engines,
    ) -> anyhow::Result<Self> {
        let keys = config.keys_for(needed)?;
        let jwt = match config.jwt.as_ref().filter(|_| needed.jwt) {
            Some(key) => Some(Arc::new(JwtVerifier::new(
                key.hs256_secret().map(<[u8]>::to_vec),
                key.rs256_public_pem(),
                config.jwt_issuer.clone(),
                config.jwt_audience.clone(),
            )?)),
            None => {
                config.jwt = None;
                None
            }
        };
        if !needed.ctx_keys {
            config.ctx_keys.clear();
        }
        if !needed.signing {
            config.signing_keys.clear();
        }
        if !needed.payout_key {
            config.payout_keys.clear();
        }
        let Chosen {
            mailer,
            uploads,
            edge,
        } = engines.build(&config)?;
        let ctx_keys = keys.ctx_keys.map(Arc::new);
        let signing = keys.signing.map(Arc::new);
        let payout_key = keys.payout_key.map(Arc::new);
        let link_cache = on_link_ttl(&config);
        let policy_cache = on_link_ttl(&config);
        let redirect_settings_cache = on_link_ttl(&config);
        let seen_handles = on_link_ttl(&config);
        let domain_cache = on_link_ttl(&config);
        let full_counters = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(u64::from(
                config.rate_limits.window_secs.max(1),
            )))
            .build();
        Ok(Self(Arc::new(ProcessState {
            uploads,
            edge,
            config: Arc::new(config),
            store,
            queue,
            clicks: None,
            jwt,
            ctx_keys,
            signing,
            payout_key,
            link_cache,
            policy_cache,
            redirect_settings_cache,
            full_counters,
            seen_handles,
            domain_cache,
            freshness: freshness_cache(),
            sweep_floor: Arc::default(),
            mailer,
        })))
    }

    /// The same state sending mail through `mailer` (tests: an engine that counts or fails).
    pub fn with_mailer(mut self, mailer: Arc<dyn crate::platform::mail::Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The same state with clicks appended to `clicks`.
    pub fn with_click_stream(mut self, clicks: Arc<dyn ClickStream>) -> Self {
        self.clicks = Some(clicks);
        self
    }

    /// The store and the queue, for a service that writes and enqueues (`kernel::io`).
    pub fn io(&self) -> crate::kernel::io::Io<'_> {
        crate::kernel::io::Io::new(&self.store, &self.queue)
    }

    /// The JWT verifier, or an error when this process was built without one (a route that
    /// needs it was wired into a function whose group does not declare it: fail closed).
    pub fn jwt(&self) -> Result<&JwtVerifier, Unconfigured> {
        self.jwt
            .as_deref()
            .ok_or(Unconfigured("a JWT verifier (Group::needs_jwt)"))
    }

    /// The statement signing keys, or an error when this process was built without them.
    pub fn signing(&self) -> Result<&crate::domain::proof::jws::ProofKeyring, Unconfigured> {
        self.signing
            .as_deref()
            .ok_or(Unconfigured("statement signing keys (Group::secrets)"))
    }

    /// The keys that seal payout details, or an error when this process was built without them.
    pub fn payout_key(&self) -> Result<&crate::domain::sealed::Keyring, Unconfigured> {
        self.payout_key
            .as_deref()
            .ok_or(Unconfigured("payout keys (Group::secrets)"))
    }

    /// The ctx keyring, or an error when this process was built without one.
    pub fn ctx_keys(&self) -> Result<&CtxKeyring, Unconfigured> {
        self.ctx_keys
            .as_deref()
            .ok_or(Unconfigured("ctx keys (Group::needs_ctx_keys)"))
    }
}

/// A secret this process was deliberately built without (a wiring bug: answered as a 500).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this process has no {0}")]
pub struct Unconfigured(&'static str);

/// A cache of 100,000 entries on the link cache's TTL.
fn on_link_ttl<K, V>(config: &Config) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(config.link_cache_ttl)
        .build()
}

/// The funnel's last look at the oldest event not counted yet, kept [`FRESHNESS_REUSE`].
fn freshness_cache() -> moka::sync::Cache<(), Option<i64>> {
    moka::sync::Cache::builder()
        .max_capacity(1)
        .time_to_live(FRESHNESS_REUSE)
        .build()
}
