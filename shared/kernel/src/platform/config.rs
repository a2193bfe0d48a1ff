//! Settings from `TENX_*` environment variables, read once at start and validated.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::domain::CtxKeyring;
use crate::domain::proof::jws::ProofKeyring;

/// Per-plan write limits (writes per minute per handle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub free: u32,
    pub pro: u32,
    pub business: u32,
    /// Public conversion submissions per minute per handle (generous, against retry storms).
    pub conversions: u32,
    /// Verified (server-to-server) conversion submissions per minute per handle: a bucket of
    /// their own, so public submissions can never spend the merchant's budget.
    pub verified_conversions: u32,
    /// Public conversion submissions per minute per click (ctx): a flood on one ctx is refused
    /// without starving the handle's other clicks.
    pub conversions_per_click: u32,
    /// Public conversion submissions per minute per client address.
    pub conversions_per_address: u32,
    /// Public chain (lifecycle messaging) requests per minute per handle (generous, anti-abuse).
    pub chain: u32,
    /// Public chain requests per minute per client address (IPv6 grouped by /64), so one
    /// address cannot spend the handle's chain budget.
    pub chain_per_address: u32,
    /// Public program applications per window per client address (IPv6 grouped by /64) and
    /// handle.
    pub applications_per_address: u32,
    /// Handles on a named plan (`TENX_HANDLE_PLANS`): handle → plan; any other is on `free`.
    pub tiers: HashMap<String, Tier>,
    /// Length of one fixed rate-limit window in seconds (60 unless shortened for tests).
    pub window_secs: u32,
}

impl RateLimits {
    /// The write limit for a handle's tier.
    pub fn writes_per_minute(&self, handle: &str) -> u32 {
        match self.tiers.get(handle) {
            Some(Tier::Pro) => self.pro,
            Some(Tier::Business) => self.business,
            Some(Tier::Free) | None => self.free,
        }
    }
}

/// A handle's tier (its subscription plan, named in `TENX_HANDLE_PLANS`), which picks its write
/// limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Free,
    Pro,
    Business,
}

impl Tier {
    /// `free`, `pro` or `business`, any case.
    fn parse(raw: &str) -> Option<Tier> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "free" => Some(Tier::Free),
            "pro" => Some(Tier::Pro),
            "business" => Some(Tier::Business),
            _ => None,
        }
    }
}

/// The scheme of short URLs (`TENX_SHORT_URL_SCHEME`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    Http,
    #[default]
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scheme {
    type Err = anyhow::Error;
    /// `http` or `https`, any case.
    fn from_str(raw: &str) -> anyhow::Result<Scheme> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            _ => bail!("TENX_SHORT_URL_SCHEME must be http or https"),
        }
    }
}

/// What verifies the JWTs of authenticated routes: an HS256 secret (`TENX_JWT_SECRET`), an
/// RS256 public key (`TENX_JWT_PUBLIC_KEY`), or both (a token's `alg` picks). The key material
/// itself is checked where the verifier is built (`auth::jwt::JwtVerifier::new`).
#[derive(Clone, PartialEq, Eq)]
pub enum JwtKey {
    Hs256(Vec<u8>),
    Rs256 { public_pem: String },
    Both { secret: Vec<u8>, public_pem: String },
}

impl JwtKey {
    /// The key of the two settings, `None` when neither is given.
    pub fn of(secret: Option<Vec<u8>>, public_pem: Option<String>) -> Option<JwtKey> {
        match (secret, public_pem) {
            (Some(secret), Some(public_pem)) => Some(JwtKey::Both { secret, public_pem }),
            (Some(secret), None) => Some(JwtKey::Hs256(secret)),
            (None, Some(public_pem)) => Some(JwtKey::Rs256 { public_pem }),
            (None, None) => None,
        }
    }

    /// The HS256 secret, when there is one (the local sign-in and `tenx token` mint with it).
    pub fn hs256_secret(&self) -> Option<&[u8]> {
        match self {
            JwtKey::Hs256(secret) | JwtKey::Both { secret, .. } => Some(secret),
            JwtKey::Rs256 { .. } => None,
        }
    }

    pub fn rs256_public_pem(&self) -> Option<&str> {
        match self {
            JwtKey::Rs256 { public_pem } | JwtKey::Both { public_pem, .. } => Some(public_pem),
            JwtKey::Hs256(_) => None,
        }
    }
}

/// Never prints the secret (configs may be logged).
impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtKey::Hs256(_) => "Hs256(<redacted>)",
            JwtKey::Rs256 { .. } => "Rs256",
            JwtKey::Both { .. } => "Both(Hs256(<redacted>), Rs256)",
        })
    }
}

/// The secrets a process loads and holds. A Lambda function holds only those its routes use, so
/// the redirect function cannot read the JWT secret even if it were compromised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secrets {
    /// The JWT verifier (HS256 secret or RS256 public key): routes behind `authorize`.
    pub jwt: bool,
    /// The ctx signing keys: the redirect signs ctx tokens, the public routes verify them.
    pub ctx_keys: bool,
    /// The Ed25519 keys that sign payout statements (the commissions function).
    pub signing: bool,
    /// The AES-256-GCM keys that seal payout details at rest (the commissions function).
    pub payout_key: bool,
}

impl Secrets {
    /// The local server and tests: every route in one process.
    pub const ALL: Secrets = Secrets {
        jwt: true,
        ctx_keys: true,
        signing: true,
        payout_key: true,
    };
    /// The queue workers and the outbox sweeper.
    pub const NONE: Secrets = Secrets {
        jwt: false,
        ctx_keys: false,
        signing: false,
        payout_key: false,
    };
}

/// The keys [`Config::keys_for`] parsed: those the process needs, `None` for the others.
#[derive(Debug)]
pub struct ParsedKeys {
    pub ctx_keys: Option<CtxKeyring>,
    pub signing: Option<ProofKeyring>,
    pub payout_key: Option<crate::domain::sealed::Keyring>,
}

/// When the redirect believes the `cloudfront-viewer-country` header. Anyone can send it, and
/// it picks country routing rules and the country analytics credits, so by default nobody is
/// believed and the country is `unknown`.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum CountryTrust {
    /// Never (the default).
    #[default]
    Never,
    /// Always: local development and tests only (`TENX_TRUST_COUNTRY_HEADER=true`).
    Always,
    /// Only on requests that carry this secret in [`EDGE_SECRET_HEADER`], which a proxy in front
    /// of `tenx serve` adds on its way to it (`TENX_EDGE_SECRET`; docs/deployment.md).
    EdgeSecret(Vec<u8>),
    /// Always, with the viewer's host from [`VIEWER_HOST_HEADER`]: the function is reachable only
    /// through our CloudFront distribution (a function URL with IAM auth that only the
    /// distribution may invoke, signed by its origin access control; template.yaml), which sets
    /// both headers itself, replacing any a viewer sent (`TENX_EDGE=cloudfront-oac`).
    CloudFrontOac,
    /// Never, behind our Application Load Balancer (`TENX_EDGE=alb`; the function is its target
    /// and no one else's): an ALB sets no country, so every `cloudfront-viewer-*` header is the
    /// visitor's own and ignored; the visitor's address is the last `x-forwarded-for` hop, the
    /// one the ALB appends (hops before it are the visitor's to write), and its country comes
    /// from the IP database in process. The host is the request's own (the ALB passes it).
    Alb,
}

/// Never prints the secret (configs are logged at start).
impl std::fmt::Debug for CountryTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountryTrust::Never => f.write_str("Never"),
            CountryTrust::Always => f.write_str("Always"),
            CountryTrust::EdgeSecret(_) => f.write_str("EdgeSecret(<redacted>)"),
            CountryTrust::CloudFrontOac => f.write_str("CloudFrontOac"),
            CountryTrust::Alb => f.write_str("Alb"),
        }
    }
}

/// The most webhook deliveries one process may keep in flight (each holds a connection).
pub const MAX_DELIVERY_CONCURRENCY: usize = 1024;

/// The code `tenx serve --local-sign-in` prints (in its sign-in URL) and the console's local
/// sign-in requires. Only its SHA-256 is kept, and a candidate is compared by its own SHA-256 in
/// constant time, so neither its length nor a matching prefix shows in the answer's timing.
#[derive(Clone)]
pub struct SignInCode([u8; 32]);

impl SignInCode {
    /// A fresh code from the OS's generator: 32 letters and digits (190 bits), and its check.
    pub fn generate() -> (String, SignInCode) {
        use rand::distributions::{Alphanumeric, DistString};
        let code = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 32);
        let check = SignInCode::new(&code);
        (code, check)
    }

    pub fn new(code: &str) -> SignInCode {
        use sha2::Digest;
        SignInCode(sha2::Sha256::digest(code.as_bytes()).into())
    }

    /// Whether `candidate` is the code: no early exit over the digests.
    pub fn matches(&self, candidate: &str) -> bool {
        let other = SignInCode::new(candidate);
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

// Hand-written so not even the code's digest reaches a log.
impl std::fmt::Debug for SignInCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInCode(..)")
    }
}

/// The origin header a proxy in front of `tenx serve` adds with the edge secret.
pub const EDGE_SECRET_HEADER: &str = "x-tenx-edge-secret";

/// The viewer's `Host`, as the distribution's viewer-request function copies it (the origin
/// request to a function URL must carry the URL's own host for its signature).
pub const VIEWER_HOST_HEADER: &str = "x-forwarded-host";

/// The highest `TENX_MAX_CONVERSION_VALUE` accepted: 15 digits, what a value may carry anyway.
pub const MAX_CONVERSION_VALUE_CEILING: u64 = 999_999_999_999_999;

/// Line reads (both passes of a run, or a status change's lines) a payout request does before
/// the rest goes to the background: a run of ~2,500 lines still answers at once, in ~2 s on
/// DynamoDB, well inside the API functions' 10 s.
pub const DEFAULT_PAYOUT_SYNC_LINES: usize = 5_000;

/// One conversion's value at most, by default: a billion units of any currency (10^15
/// micro-units; summing 10^23 of them would still fit the i128 counters).
pub const DEFAULT_MAX_CONVERSION_VALUE: u64 = 1_000_000_000;

#[derive(Clone, Debug)]
pub struct Config {
    /// Host suffix of short links: `{handle}.{redirect_domain}/{slug}` (may carry a port locally).
    pub redirect_domain: String,
    /// `https` in production, `http` for the local server.
    pub short_url_scheme: Scheme,
    /// `None` until the local server generates a secret or a function reads its parameter;
    /// [`Config::validate_for`] requires one where JWTs are verified.
    pub jwt: Option<JwtKey>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// Signing keys for ctx tokens, first one active.
    pub ctx_keys: String,
    /// Ed25519 seeds (base64url) that sign payout statements, first one active
    /// (`TENX_SIGNING_KEYS`; see `domain::proof::jws`).
    pub signing_keys: String,
    /// AES-256 keys (base64url) that seal payout details at rest, first one active
    /// (`TENX_PAYOUT_KEY`; see `domain::sealed`).
    pub payout_keys: String,
    /// Attribution window = ctx token lifetime.
    pub attribution_window: Duration,
    /// How long the redirect path caches a link in-process.
    pub link_cache_ttl: Duration,
    pub rate_limits: RateLimits,
    /// Idempotency keys are kept this long (365 days unless shortened for tests).
    pub idempotency_retention: Duration,
    /// The server's hard maximum of one conversion's value, any currency
    /// (`TENX_MAX_CONVERSION_VALUE`, default [`DEFAULT_MAX_CONVERSION_VALUE`]): far below any
    /// overflow of the i128 revenue counters, and above it a value is refused with a 400.
    pub max_conversion_value: rust_decimal::Decimal,
    /// How often the local outbox sweeper looks for events whose enqueue never happened.
    pub outbox_sweep_interval: Duration,
    /// Outbox entries younger than this are left alone (their enqueue is probably in flight).
    pub outbox_min_age: Duration,
    /// Commission lines a payout run or status change handles in its request before the rest
    /// goes to the background (`TENX_PAYOUT_SYNC_LINES`, default
    /// [`DEFAULT_PAYOUT_SYNC_LINES`]); the request answers `202` meanwhile.
    pub payout_sync_lines: usize,
    /// How long such a request works before the rest goes to the background
    /// (`TENX_PAYOUT_SYNC_SECS`, default 6: under the API functions' 10 s timeout).
    pub payout_sync_time: Duration,
    /// Allow webhook endpoints on private/loopback addresses (local development only).
    pub webhooks_allow_private: bool,
    /// Base of the webhook retry schedule (5 s → 5, 10, 20, 40, 80 s).
    pub webhook_retry_base: Duration,
    /// Webhook deliveries the local delivery worker keeps in flight at once, over all endpoints.
    pub delivery_concurrency: usize,
    /// … and to any one endpoint (subscription).
    pub delivery_concurrency_per_endpoint: usize,
    /// An endpoint whose every attempt failed for this long is disabled (zero: never).
    pub webhook_auto_disable_after: Duration,
    /// Chain session signals expire after this long.
    pub chain_session_ttl: Duration,
    /// The most signals one chain session may hold (a clear 400 beyond, never a truncation).
    pub chain_max_session_signals: u32,
    /// Whose `cloudfront-viewer-country` header the redirect believes.
    pub country_trust: CountryTrust,
    /// The local server sits behind a proxy it trusts, so the client address is the last hop of
    /// `x-forwarded-for` rather than the socket's peer (Lambda always uses API Gateway's).
    pub trusted_proxy: bool,
    /// The console's local sign-in (`POST /console/sign-in`), on only when `tenx serve` was asked
    /// for it (`--local-sign-in`, `TENX_LOCAL_SIGN_IN=true`), and then only for a caller that
    /// presents the code it printed on its terminal. Never on Lambda.
    pub local_sign_in: Option<SignInCode>,
    /// Serve the console's files from this directory, read on every request, instead of the
    /// copies embedded in the binary (`TENX_CONSOLE_DIR`: console development only).
    pub console_dir: Option<std::path::PathBuf>,
    /// A session ends after this long without a request (`TENX_SESSION_IDLE_SECS`, 12 h).
    pub session_idle: Duration,
    /// … and this long after its sign-in, whatever the activity (`TENX_SESSION_MAX_SECS`,
    /// 14 days).
    pub session_max: Duration,
    /// Mail (issue 59): the engine (`TENX_MAIL_URL`), sender, retries and hourly limits.
    pub mail: crate::platform::mail::MailSettings,
    /// OpenID Connect providers people sign in with (issue 60), one per
    /// `TENX_OIDC_{PROVIDER}_ISSUER`, sorted by id.
    pub oidc: Vec<OidcProvider>,
    /// The DNS server custom domains are verified against (`TENX_DNS_RESOLVER`, `ip:port`);
    /// `None`: the system's resolver (issue 64).
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// How long one invocation of the imports worker stages an uploaded file before it
    /// records its progress and the import is queued again (`TENX_IMPORT_STAGING_SECS`, 60 s:
    /// half the worker's 120 s Lambda timeout, which its chunk writes share).
    pub import_staging_time: Duration,
    /// … and at most this many chunks (`TENX_IMPORT_STAGING_CHUNKS`; unset: the time alone).
    pub import_staging_chunks: Option<u64>,
    /// Where large import files are uploaded (issue 64): `TENX_UPLOADS_BUCKET` (the stack's
    /// bucket; unset: the data dir's `uploads/`) and `TENX_UPLOADS_ENDPOINT` (an emulator's S3).
    pub uploads: crate::platform::uploads::UploadSettings,
    /// The TLS edge of custom domains on AWS (issue 64): `TENX_EDGE_DISTRIBUTION_ID` (the
    /// redirect's distribution, copied per domain; unset: no edge, a verified domain is
    /// `verified` at once) and `TENX_EDGE_ENDPOINT` (an emulator's ACM and CloudFront).
    pub edge: crate::platform::edge::EdgeSettings,
    /// Passkeys' relying party (issue 60): `TENX_PASSKEY_RP_ID` (a domain) and
    /// `TENX_PASSKEY_ORIGIN` (the origin the console is served from); each unset: from
    /// `TENX_PUBLIC_URL`, else a local server's own loopback host.
    pub passkey_rp_id: Option<String>,
    pub passkey_origin: Option<String>,
    /// The origin of a server listening on loopback, `http://localhost:{port}`, set by whoever
    /// binds such a listener (`tenx serve`, the tests): the public origin when
    /// `TENX_PUBLIC_URL` is unset ([`Config::public_origin`]).
    pub local_origin: Option<String>,
    /// Rewardful's API, which a program is pulled from by the manager's key
    /// (`TENX_REWARDFUL_API_BASE`, its own by default; a test's local server).
    pub rewardful_api_base: String,
    /// FirstPromoter's, Tolt's, PartnerStack's, Rebrandly's and Dub's APIs, pulled from the
    /// same way (`TENX_FIRSTPROMOTER_API_BASE`, `TENX_TOLT_API_BASE`,
    /// `TENX_PARTNERSTACK_API_BASE`, `TENX_REBRANDLY_API_BASE`, `TENX_DUB_API_BASE`).
    pub firstpromoter_api_base: String,
    pub tolt_api_base: String,
    pub partnerstack_api_base: String,
    pub rebrandly_api_base: String,
    pub dub_api_base: String,
    /// Stripe's API, which payouts through Stripe Connect are sent to
    /// (`TENX_STRIPE_API_BASE`, its own by default; a test's local server).
    pub stripe_api_base: String,
    /// PayPal's REST API, which payouts through PayPal Payouts are sent to
    /// (`TENX_PAYPAL_API_BASE`, its live one by default; a test's local server).
    pub paypal_api_base: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redirect_domain: "localhost:8080".into(),
            short_url_scheme: Scheme::Https,
            jwt: None,
            jwt_issuer: None,
            jwt_audience: None,
            ctx_keys: String::new(),
            signing_keys: String::new(),
            payout_keys: String::new(),
            attribution_window: Duration::from_secs(90 * 86_400),
            link_cache_ttl: Duration::from_secs(10),
            rate_limits: RateLimits {
                free: 60,
                pro: 600,
                business: 3000,
                conversions: 6000,
                verified_conversions: 6000,
                conversions_per_click: 30,
                conversions_per_address: 600,
                chain: 6000,
                chain_per_address: 300,
                applications_per_address: 5,
                tiers: HashMap::new(),
                window_secs: 60,
            },
            idempotency_retention: Duration::from_secs(365 * 86_400),
            max_conversion_value: rust_decimal::Decimal::from(DEFAULT_MAX_CONVERSION_VALUE),
            outbox_sweep_interval: Duration::from_secs(15),
            outbox_min_age: Duration::from_secs(15),
            payout_sync_lines: DEFAULT_PAYOUT_SYNC_LINES,
            payout_sync_time: Duration::from_secs(6),
            webhooks_allow_private: false,
            webhook_retry_base: Duration::from_secs(5),
            delivery_concurrency: 64,
            delivery_concurrency_per_endpoint: 8,
            webhook_auto_disable_after: Duration::from_secs(5 * 86_400),
            chain_session_ttl: Duration::from_secs(30 * 86_400),
            chain_max_session_signals: 1000,
            country_trust: CountryTrust::Never,
            trusted_proxy: false,
            local_sign_in: None,
            console_dir: None,
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(14 * 86_400),
            mail: crate::platform::mail::MailSettings::default(),
            oidc: Vec::new(),
            dns_resolver: None,
            import_staging_time: Duration::from_secs(60),
            import_staging_chunks: None,
            uploads: crate::platform::uploads::UploadSettings::default(),
            edge: crate::platform::edge::EdgeSettings::default(),
            passkey_rp_id: None,
            passkey_origin: None,
            local_origin: None,
            rewardful_api_base: "https://api.getrewardful.com".into(),
            firstpromoter_api_base: "https://api.firstpromoter.com".into(),
            tolt_api_base: "https://api.tolt.com".into(),
            partnerstack_api_base: "https://api.partnerstack.com".into(),
            rebrandly_api_base: "https://api.rebrandly.com".into(),
            dub_api_base: "https://api.dub.co".into(),
            stripe_api_base: "https://api.stripe.com".into(),
            paypal_api_base: "https://api-m.paypal.com".into(),
        }
    }
}

/// The process environment, read once: configuration is parsed from this snapshot, so a test
/// (or a second configuration in one process) passes its own instead of mutating the process's
/// environment, which Rust 2024 rightly makes `unsafe`.
#[derive(Clone, Debug, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The current process environment (values that are not UTF-8 are left out).
    pub fn process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    /// `self` with `name` set to `value` (or removed when `None`).
    pub fn with(mut self, name: &str, value: Option<&str>) -> Env {
        match value {
            Some(v) => self.0.insert(name.to_owned(), v.to_owned()),
            None => self.0.remove(name),
        };
        self
    }

    /// A set, non-blank variable, trimmed.
    pub fn var(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn parse<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.var(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| anyhow::anyhow!("{name}={v}: {e}"))
            })
            .transpose()
    }

    pub(crate) fn flag(&self, name: &str) -> anyhow::Result<Option<bool>> {
        match self.var(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("1" | "true" | "yes") => Ok(Some(true)),
            Some("0" | "false" | "no") => Ok(Some(false)),
            Some(other) => bail!("{name}={other}: expected true or false"),
        }
    }
}

/// Where large import files go (issue 64): the bucket, an emulator's endpoint, and the region
/// that names the bucket's host (the console's CSP allows it).
fn uploads_from_env(env: &Env) -> crate::platform::uploads::UploadSettings {
    crate::platform::uploads::UploadSettings {
        bucket: env.var("TENX_UPLOADS_BUCKET"),
        endpoint: env.var("TENX_UPLOADS_ENDPOINT"),
        region: env
            .var("AWS_REGION")
            .or_else(|| env.var("AWS_DEFAULT_REGION")),
    }
}

/// The AWS services beside the store and the queues (issue 64): the uploads bucket and the
/// custom domains' TLS edge, each with an emulator's endpoint for the tests.
/// The imports' settings: the worker's staging budget per invocation (issue 64), and the API a
/// program is pulled from by key (issue 85).
fn import_staging_from_env(env: &Env, c: &mut Config) -> anyhow::Result<()> {
    for (name, base) in [
        ("TENX_REWARDFUL_API_BASE", &mut c.rewardful_api_base),
        ("TENX_FIRSTPROMOTER_API_BASE", &mut c.firstpromoter_api_base),
        ("TENX_TOLT_API_BASE", &mut c.tolt_api_base),
        ("TENX_PARTNERSTACK_API_BASE", &mut c.partnerstack_api_base),
        ("TENX_REBRANDLY_API_BASE", &mut c.rebrandly_api_base),
        ("TENX_DUB_API_BASE", &mut c.dub_api_base),
    ] {
        if let Some(v) = env.var(name) {
            *base = v.trim().trim_end_matches('/').to_owned();
        }
    }
    if let Some(v) = env.var("TENX_STRIPE_API_BASE") {
        c.stripe_api_base = v.trim().trim_end_matches('/').to_owned();
    }
    if let Some(v) = env.var("TENX_PAYPAL_API_BASE") {
        c.paypal_api_base = v.trim().trim_end_matches('/').to_owned();
    }
    if let Some(secs) = env.parse::<u64>("TENX_IMPORT_STAGING_SECS")? {
        c.import_staging_time = Duration::from_secs(secs);
    }
    c.import_staging_chunks = env.parse::<u64>("TENX_IMPORT_STAGING_CHUNKS")?;
    Ok(())
}

fn aws_services_from_env(env: &Env, c: &mut Config) -> anyhow::Result<()> {
    c.uploads = uploads_from_env(env);
    c.edge.distribution_id = env.var("TENX_EDGE_DISTRIBUTION_ID");
    c.edge.listener = edge_listener_from(
        env.var("TENX_EDGE_LISTENER_ARN"),
        env.var("TENX_EDGE_LISTENER_HOST"),
        c.edge.distribution_id.is_some(),
    )?;
    c.edge.endpoint = env.var("TENX_EDGE_ENDPOINT");
    Ok(())
}

/// The load balancer's listener of custom domains: its ARN and host together, and never beside
/// a distribution (one front door serves the stack's short links).
fn edge_listener_from(
    arn: Option<String>,
    host: Option<String>,
    distribution: bool,
) -> anyhow::Result<Option<crate::platform::edge::Listener>> {
    match (arn, host) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) if distribution => bail!(
            "TENX_EDGE_LISTENER_ARN and TENX_EDGE_DISTRIBUTION_ID exclude each other: one front door serves short links"
        ),
        (Some(arn), Some(host)) if arn.starts_with("arn:") => {
            Ok(Some(crate::platform::edge::Listener { arn, host }))
        }
        (Some(arn), Some(_)) => {
            bail!("TENX_EDGE_LISTENER_ARN={arn}: expected a listener's ARN (arn:…:listener/app/…)")
        }
        _ => bail!("TENX_EDGE_LISTENER_ARN and TENX_EDGE_LISTENER_HOST go together: give both"),
    }
}

/// The sign-in settings (issue 60): session lifetimes (mailed links point to `TENX_PUBLIC_URL`,
/// `MailSettings::public_url`).
fn people_from_env(env: &Env, c: &mut Config) -> anyhow::Result<()> {
    if let Some(secs) = env.parse::<u64>("TENX_SESSION_IDLE_SECS")? {
        c.session_idle = Duration::from_secs(secs);
    }
    if let Some(secs) = env.parse::<u64>("TENX_SESSION_MAX_SECS")? {
        c.session_max = Duration::from_secs(secs);
    }
    c.passkey_rp_id = env.var("TENX_PASSKEY_RP_ID");
    if let Some(origin) = env.var("TENX_PASSKEY_ORIGIN") {
        if !(origin.starts_with("https://") || origin.starts_with("http://")) {
            bail!("TENX_PASSKEY_ORIGIN={origin}: expected an http(s) origin");
        }
        c.passkey_origin = Some(origin.trim_end_matches('/').to_owned());
    }
    Ok(())
}

/// An OpenID Connect provider (issue 60): `TENX_OIDC_{PROVIDER}_ISSUER` (discovery at
/// `{issuer}/.well-known/openid-configuration`), `…_CLIENT_ID`, `…_CLIENT_SECRET` (absent: a public
/// client, PKCE alone) and `…_NAME` (what "Sign in with …" says; default the id capitalized).
#[derive(Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// `{PROVIDER}` in lower case: the path segment of `/v2/auth/oidc/{provider}/…`.
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret never reaches a log.
        f.debug_struct("OidcProvider")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Every `TENX_OIDC_{PROVIDER}_ISSUER` of `env` with its client: a provider without a client id,
/// or with an issuer that is not an http(s) URL, stops the start with the variable named.
fn oidc_providers(env: &Env) -> anyhow::Result<Vec<OidcProvider>> {
    let mut ids: Vec<String> = env
        .0
        .keys()
        .filter_map(|k| k.strip_prefix("TENX_OIDC_")?.strip_suffix("_ISSUER"))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    ids.sort();
    let mut out = Vec::new();
    for upper in ids {
        let var = |what: &str| env.var(&format!("TENX_OIDC_{upper}_{what}"));
        let Some(issuer) = var("ISSUER") else {
            continue;
        };
        let id = upper.to_ascii_lowercase();
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            bail!("TENX_OIDC_{upper}_ISSUER: a provider's name is letters and digits");
        }
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            bail!("TENX_OIDC_{upper}_ISSUER={issuer}: expected the issuer's https:// URL");
        }
        let client_id = var("CLIENT_ID")
            .ok_or_else(|| anyhow::anyhow!("set TENX_OIDC_{upper}_CLIENT_ID for {issuer}"))?;
        let name = var("NAME").unwrap_or_else(|| {
            let mut n = id.clone();
            n[..1].make_ascii_uppercase();
            n
        });
        out.push(OidcProvider {
            id,
            name,
            issuer,
            client_id,
            client_secret: var("CLIENT_SECRET"),
        });
    }
    Ok(out)
}

impl Config {
    /// The origin of every link the product mails or hands to a browser (sign-in, invitations,
    /// OpenID Connect's `redirect_uri`, the passkey relying party, unsubscribe, the portal and
    /// program pages): `TENX_PUBLIC_URL`, else a loopback listener's `http://localhost:{port}`.
    /// Never a request's `Host`, which a client chooses. `None`: neither is known.
    pub fn public_origin(&self) -> Option<&str> {
        self.mail
            .public_url
            .as_deref()
            .or(self.local_origin.as_deref())
    }

    /// Sets the loopback listener's origin when `addr` is a loopback address (see
    /// [`Config::local_origin`]); whether it was.
    pub fn listening_on(&mut self, addr: std::net::SocketAddr) -> bool {
        let loopback = addr.ip().is_loopback();
        if loopback {
            self.local_origin = Some(format!("http://localhost:{}", addr.port()));
        }
        loopback
    }

    /// Reads every `TENX_*` setting over the defaults. Secrets may be absent here when the local
    /// server supplies generated ones; [`Config::validate`] checks the final result.
    pub fn from_env() -> anyhow::Result<Self> {
        Config::from_vars(&Env::process())
    }

    /// [`Config::from_env`] over a given environment.
    pub fn from_vars(env: &Env) -> anyhow::Result<Self> {
        let mut c = Config::default();
        if let Some(v) = env.var("TENX_REDIRECT_DOMAIN") {
            c.redirect_domain = v.trim().to_ascii_lowercase();
        }
        if let Some(v) = env.var("TENX_SHORT_URL_SCHEME") {
            c.short_url_scheme = v.parse()?;
        }
        c.jwt = JwtKey::of(
            env.var("TENX_JWT_SECRET").map(String::into_bytes),
            env.var("TENX_JWT_PUBLIC_KEY"),
        );
        c.jwt_issuer = env.var("TENX_JWT_ISSUER");
        c.jwt_audience = env.var("TENX_JWT_AUDIENCE");
        if let Some(v) = env.var("TENX_CTX_KEYS") {
            c.ctx_keys = v;
        }
        if let Some(v) = env.var("TENX_SIGNING_KEYS") {
            c.signing_keys = v;
        }
        if let Some(v) = env.var("TENX_PAYOUT_KEY") {
            c.payout_keys = v;
        }
        if let Some(days) = env.parse::<u64>("TENX_ATTRIBUTION_WINDOW_DAYS")? {
            c.attribution_window = Duration::from_secs(days * 86_400);
        }
        if let Some(secs) = env.parse::<u64>("TENX_LINK_CACHE_TTL_SECS")? {
            c.link_cache_ttl = Duration::from_secs(secs);
        }
        c.rate_limits = rate_limits_from_env(env, c.rate_limits)?;
        c.mail = mail_settings(env)?;
        c.country_trust = country_trust_from_env(env)?;
        c.trusted_proxy = env.flag("TENX_TRUSTED_PROXY")?.unwrap_or(false);
        if let Some(secs) = env.parse::<u64>("TENX_IDEMPOTENCY_RETENTION_SECS")? {
            c.idempotency_retention = Duration::from_secs(secs);
        }
        if let Some(max) = env.parse::<u64>("TENX_MAX_CONVERSION_VALUE")? {
            c.max_conversion_value = rust_decimal::Decimal::from(max);
        }
        if let Some(secs) = env.parse::<u64>("TENX_OUTBOX_SWEEP_SECS")? {
            c.outbox_sweep_interval = Duration::from_secs(secs);
        }
        if let Some(secs) = env.parse::<u64>("TENX_OUTBOX_MIN_AGE_SECS")? {
            c.outbox_min_age = Duration::from_secs(secs);
        }
        if let Some(lines) = env.parse::<usize>("TENX_PAYOUT_SYNC_LINES")? {
            c.payout_sync_lines = lines;
        }
        if let Some(secs) = env.parse::<u64>("TENX_PAYOUT_SYNC_SECS")? {
            c.payout_sync_time = Duration::from_secs(secs);
        }
        if let Some(b) = env.flag("TENX_WEBHOOKS_ALLOW_PRIVATE")? {
            c.webhooks_allow_private = b;
        }
        if let Some(ms) = env.parse::<u64>("TENX_WEBHOOK_RETRY_BASE_MS")? {
            c.webhook_retry_base = Duration::from_millis(ms);
        }
        if let Some(n) = env.parse("TENX_DELIVERY_CONCURRENCY")? {
            c.delivery_concurrency = n;
        }
        if let Some(n) = env.parse("TENX_DELIVERY_CONCURRENCY_PER_ENDPOINT")? {
            c.delivery_concurrency_per_endpoint = n;
        }
        if let Some(secs) = env.parse::<u64>("TENX_WEBHOOK_AUTO_DISABLE_SECS")? {
            c.webhook_auto_disable_after = Duration::from_secs(secs);
        }
        if let Some(days) = env.parse::<u64>("TENX_CHAIN_SESSION_TTL_DAYS")? {
            c.chain_session_ttl = Duration::from_secs(days * 86_400);
        }
        if let Some(n) = env.parse("TENX_CHAIN_MAX_SESSION_SIGNALS")? {
            c.chain_max_session_signals = n;
        }
        c.console_dir = env.var("TENX_CONSOLE_DIR").map(std::path::PathBuf::from);
        people_from_env(env, &mut c)?;
        c.oidc = oidc_providers(env)?;
        c.dns_resolver = env.parse::<std::net::SocketAddr>("TENX_DNS_RESOLVER")?;
        aws_services_from_env(env, &mut c)?;
        import_staging_from_env(env, &mut c)?;
        Ok(c)
    }

    /// Checks the complete configuration, every secret included (the local server); a service
    /// refuses to start on an error.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_for(Secrets::ALL)
    }

    /// Checks the configuration of a process that holds only the `needed` secrets (a Lambda
    /// function: the redirect needs no JWT verifier, the queue workers neither secret).
    pub fn validate_for(&self, needed: Secrets) -> anyhow::Result<()> {
        self.keys_for(needed).map(drop)
    }

    /// [`Config::validate_for`], returning the keys it parsed on the way, so the state keeps
    /// these rather than parsing the specs a second time.
    pub fn keys_for(&self, needed: Secrets) -> anyhow::Result<ParsedKeys> {
        if self.redirect_domain.is_empty() || self.redirect_domain.contains('/') {
            bail!("TENX_REDIRECT_DOMAIN must be a host name such as links.example.com");
        }
        if needed.jwt && self.jwt.is_none() {
            bail!("set TENX_JWT_SECRET (HS256, ≥ 32 bytes) or TENX_JWT_PUBLIC_KEY (RS256 PEM)");
        }
        let ctx_keys = needed
            .ctx_keys
            .then(|| CtxKeyring::parse(&self.ctx_keys).context("TENX_CTX_KEYS"))
            .transpose()?;
        let signing = needed
            .signing
            .then(|| {
                ProofKeyring::parse(&self.signing_keys)
                    .map_err(anyhow::Error::msg)
                    .context("TENX_SIGNING_KEYS")
            })
            .transpose()?;
        let payout_key = needed
            .payout_key
            .then(|| {
                crate::domain::sealed::Keyring::parse(&self.payout_keys)
                    .map_err(anyhow::Error::msg)
                    .context("TENX_PAYOUT_KEY")
            })
            .transpose()?;
        self.validate_settings()?;
        Ok(ParsedKeys {
            ctx_keys,
            signing,
            payout_key,
        })
    }

    /// Everything but the secrets.
    fn validate_settings(&self) -> anyhow::Result<()> {
        if self.attribution_window.is_zero() {
            bail!("TENX_ATTRIBUTION_WINDOW_DAYS must be at least 1");
        }
        if self.rate_limits.chain == 0
            || self.chain_max_session_signals == 0
            || self.chain_session_ttl.is_zero()
        {
            bail!(
                "TENX_RATE_LIMIT_CHAIN, TENX_CHAIN_MAX_SESSION_SIGNALS and TENX_CHAIN_SESSION_TTL_DAYS must be at least 1"
            );
        }
        let l = &self.rate_limits;
        let all = [
            l.free,
            l.pro,
            l.business,
            l.conversions,
            l.verified_conversions,
            l.conversions_per_click,
            l.chain_per_address,
            l.applications_per_address,
            l.conversions_per_address,
            l.window_secs,
        ];
        if all.contains(&0) {
            bail!("TENX_RATE_LIMIT_* settings and TENX_RATE_LIMIT_WINDOW_SECS must be at least 1");
        }
        if self.max_conversion_value <= rust_decimal::Decimal::ZERO
            || self.max_conversion_value > rust_decimal::Decimal::from(MAX_CONVERSION_VALUE_CEILING)
        {
            bail!("TENX_MAX_CONVERSION_VALUE must be 1 to {MAX_CONVERSION_VALUE_CEILING}");
        }
        if self.idempotency_retention.is_zero() {
            bail!("TENX_IDEMPOTENCY_RETENTION_SECS must be at least 1");
        }
        if self.outbox_sweep_interval.is_zero() {
            bail!("TENX_OUTBOX_SWEEP_SECS must be at least 1");
        }
        if self.import_staging_time.is_zero() || self.import_staging_chunks == Some(0) {
            bail!("TENX_IMPORT_STAGING_SECS and TENX_IMPORT_STAGING_CHUNKS must be at least 1");
        }
        if self.payout_sync_lines == 0 || self.payout_sync_time.is_zero() {
            bail!("TENX_PAYOUT_SYNC_LINES and TENX_PAYOUT_SYNC_SECS must be at least 1");
        }
        if !(1..=MAX_DELIVERY_CONCURRENCY).contains(&self.delivery_concurrency)
            || !(1..=MAX_DELIVERY_CONCURRENCY).contains(&self.delivery_concurrency_per_endpoint)
        {
            bail!(
                "TENX_DELIVERY_CONCURRENCY and TENX_DELIVERY_CONCURRENCY_PER_ENDPOINT must be 1 to {MAX_DELIVERY_CONCURRENCY}"
            );
        }
        Ok(())
    }

    /// The public short URL of a link.
    pub fn short_url(&self, handle: &str, slug: &str) -> String {
        format!(
            "{}://{}.{}/{}",
            self.short_url_scheme, handle, self.redirect_domain, slug
        )
    }

    /// The host part of the redirect domain (without a port), for matching `Host` headers.
    pub fn redirect_host(&self) -> &str {
        self.redirect_domain.split(':').next().unwrap_or("")
    }
}

/// The `TENX_RATE_LIMIT_*` settings over `l`.
fn rate_limits_from_env(env: &Env, mut l: RateLimits) -> anyhow::Result<RateLimits> {
    if let Some(n) = env.parse("TENX_RATE_LIMIT_FREE")? {
        l.free = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_PRO")? {
        l.pro = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_BUSINESS")? {
        l.business = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_CONVERSIONS")? {
        l.conversions = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_CHAIN")? {
        l.chain = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_CHAIN_PER_ADDRESS")? {
        l.chain_per_address = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_APPLICATIONS_PER_ADDRESS")? {
        l.applications_per_address = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_VERIFIED_CONVERSIONS")? {
        l.verified_conversions = n;
    }
    if let Some(v) = env.var("TENX_HANDLE_PLANS") {
        l.tiers = parse_tiers(&v)?;
    }
    if let Some(secs) = env.parse("TENX_RATE_LIMIT_WINDOW_SECS")? {
        l.window_secs = secs;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK")? {
        l.conversions_per_click = n;
    }
    if let Some(n) = env.parse("TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS")? {
        l.conversions_per_address = n;
    }
    Ok(l)
}

fn country_trust_from_env(env: &Env) -> anyhow::Result<CountryTrust> {
    country_trust_from(
        env.var("TENX_EDGE"),
        env.var("TENX_EDGE_SECRET"),
        env.flag("TENX_TRUST_COUNTRY_HEADER")?,
    )
}

/// `TENX_EDGE=cloudfront-oac` or `alb` (the deployed redirect, as template.yaml's
/// `RedirectFrontDoor` says) or `TENX_EDGE_SECRET` (a proxy in front of
/// `tenx serve`; not both) wins over `TENX_TRUST_COUNTRY_HEADER`.
fn country_trust_from(
    edge: Option<String>,
    secret: Option<String>,
    trust_header: Option<bool>,
) -> anyhow::Result<CountryTrust> {
    match (edge, secret) {
        (Some(_), Some(_)) => bail!("TENX_EDGE and TENX_EDGE_SECRET exclude each other: give one"),
        (Some(edge), None) if edge.trim() == "cloudfront-oac" => Ok(CountryTrust::CloudFrontOac),
        (Some(edge), None) if edge.trim() == "alb" => Ok(CountryTrust::Alb),
        (Some(edge), None) => bail!(
            "TENX_EDGE={edge}: expected cloudfront-oac (the redirect behind CloudFront's origin access control) or alb (behind the stack's load balancer)"
        ),
        (None, Some(secret)) if secret.trim().len() < 16 => {
            bail!("TENX_EDGE_SECRET must be at least 16 characters")
        }
        (None, Some(secret)) => Ok(CountryTrust::EdgeSecret(secret.trim().as_bytes().to_vec())),
        (None, None) if trust_header == Some(true) => Ok(CountryTrust::Always),
        (None, None) => Ok(CountryTrust::Never),
    }
}

fn parse_tiers(spec: &str) -> anyhow::Result<HashMap<String, Tier>> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (handle, plan) = entry.split_once(':').with_context(|| {
                format!("TENX_HANDLE_PLANS entry `{entry}`: expected handle:plan")
            })?;
            let Some(plan) = Tier::parse(plan) else {
                bail!("TENX_HANDLE_PLANS entry `{entry}`: plan must be free, pro or business");
            };
            // A misspelt handle would silently stay on the free plan; refuse it at start.
            crate::domain::Handle::parse(handle.trim())
                .map_err(|e| anyhow::anyhow!("TENX_HANDLE_PLANS entry `{entry}`: {e}"))?;
            Ok((handle.trim().to_owned(), plan))
        })
        .collect()
}

/// The mail settings (`TENX_MAIL_*`, `TENX_SES_CONFIGURATION_SET`, `TENX_PUBLIC_URL`; docs/mail.md):
/// parsed here, where `Env` is, so the mail seam does not read back into the config.
fn mail_settings(env: &Env) -> anyhow::Result<crate::platform::mail::MailSettings> {
    let mut s = crate::platform::mail::MailSettings {
        url: env
            .var("TENX_MAIL_URL")
            .map(|v| crate::platform::mail::MailUrl::parse(&v))
            .transpose()?,
        ..crate::platform::mail::MailSettings::default()
    };
    if let Some(from) = env.var("TENX_MAIL_FROM") {
        crate::domain::email::Email::parse("TENX_MAIL_FROM", &from)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        s.from = Some(from);
    }
    s.ses_configuration_set = env.var("TENX_SES_CONFIGURATION_SET");
    if let Some(ms) = env.parse::<u64>("TENX_MAIL_RETRY_BASE_MS")? {
        s.retry_base = Duration::from_millis(ms);
    }
    if let Some(n) = env.parse::<u32>("TENX_MAIL_ATTEMPTS")? {
        s.attempts = n.clamp(1, 20);
    }
    if let Some(n) = env.parse::<u32>("TENX_MAIL_PER_HANDLE_HOUR")? {
        s.per_handle_hour = n.max(1);
    }
    if let Some(n) = env.parse::<u32>("TENX_MAIL_PER_RECIPIENT_HOUR")? {
        s.per_recipient_hour = n.max(1);
    }
    if let Some(url) = env.var("TENX_PUBLIC_URL") {
        let parsed = url::Url::parse(&url).context("TENX_PUBLIC_URL")?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("TENX_PUBLIC_URL={url}: expected an http(s) origin");
        }
        s.public_url = Some(url.trim_end_matches('/').to_owned());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_code_matches_itself_only_and_never_shows() {
        let (code, check) = SignInCode::generate();
        assert_eq!(code.len(), 32);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()), "{code}");
        assert!(check.matches(&code));
        for other in ["", &code[..31], &format!("{code} "), &code.to_lowercase()] {
            if other != code {
                assert!(!check.matches(other), "{other:?}");
            }
        }
        assert_ne!(SignInCode::generate().0, code, "a new code at every start");
        assert_eq!(format!("{check:?}"), "SignInCode(..)");
    }

    #[test]
    fn the_scheme_and_the_jwt_key_are_read_once_into_types() {
        let env = Env::default();
        let c =
            Config::from_vars(&env.clone().with("TENX_SHORT_URL_SCHEME", Some(" HTTP "))).unwrap();
        assert_eq!(c.short_url_scheme, Scheme::Http);
        assert_eq!(c.short_url("a", "b"), "http://a.localhost:8080/b");
        let err = Config::from_vars(&env.clone().with("TENX_SHORT_URL_SCHEME", Some("ftp")));
        assert_eq!(
            err.unwrap_err().to_string(),
            "TENX_SHORT_URL_SCHEME must be http or https"
        );
        let both = env
            .with("TENX_JWT_SECRET", Some("s"))
            .with("TENX_JWT_PUBLIC_KEY", Some("pem"));
        let key = Config::from_vars(&both).unwrap().jwt.unwrap();
        assert_eq!(
            (key.hs256_secret(), key.rs256_public_pem()),
            (Some(&b"s"[..]), Some("pem"))
        );
        assert_eq!(format!("{key:?}"), "Both(Hs256(<redacted>), Rs256)");
        assert_eq!(JwtKey::of(None, None), None);
    }

    #[test]
    fn plans_parse_and_pick_limits() {
        let mut limits = Config::default().rate_limits;
        limits.tiers = parse_tiers("acme:pro, big:business").unwrap();
        assert_eq!(limits.writes_per_minute("acme"), 600);
        assert_eq!(limits.writes_per_minute("big"), 3000);
        assert_eq!(limits.writes_per_minute("other"), 60);
        assert!(parse_tiers("acme:gold").is_err());
        assert!(parse_tiers("acme").is_err());
        assert!(parse_tiers("Not A Handle:pro").is_err());
    }

    #[test]
    fn validate_requires_secrets() {
        let mut c = Config::default();
        assert!(c.validate().is_err());
        c.jwt = Some(JwtKey::Hs256(vec![1; 32]));
        c.ctx_keys = CtxKeyring::generate_spec();
        c.signing_keys = crate::domain::proof::jws::ProofKeyring::generate_spec();
        assert!(c.validate().is_err(), "the payout key is required too");
        c.payout_keys = crate::domain::sealed::Keyring::generate_spec();
        c.validate().unwrap();
        c.rate_limits.window_secs = 0;
        assert!(c.validate().is_err(), "a zero rate-limit window is refused");
        c.rate_limits.window_secs = 60;
        c.rate_limits.free = 0;
        assert!(c.validate().is_err(), "a zero write limit is refused");
    }

    #[test]
    fn validate_for_requires_only_the_needed_secrets() {
        let c = Config::default();
        c.validate_for(Secrets::NONE)
            .expect("a worker needs no secret");
        let ctx_only = Secrets {
            jwt: false,
            ctx_keys: true,
            signing: false,
            payout_key: false,
        };
        let err = c.validate_for(ctx_only).unwrap_err();
        assert!(format!("{err:#}").contains("TENX_CTX_KEYS"), "{err:#}");
        let with_keys = Config {
            ctx_keys: CtxKeyring::generate_spec(),
            ..Config::default()
        };
        with_keys.validate_for(ctx_only).expect("no JWT needed");
        let err = with_keys.validate_for(Secrets::ALL).unwrap_err();
        assert!(format!("{err:#}").contains("TENX_JWT_SECRET"), "{err:#}");
        // Settings other than secrets are checked whatever the process needs.
        let bad = Config {
            redirect_domain: "a/b".into(),
            ..Config::default()
        };
        assert!(bad.validate_for(Secrets::NONE).is_err());
    }

    #[test]
    fn outbox_and_retention_settings_must_be_positive() {
        let mut c = Config {
            jwt: Some(JwtKey::Hs256(vec![1; 32])),
            ctx_keys: CtxKeyring::generate_spec(),
            signing_keys: crate::domain::proof::jws::ProofKeyring::generate_spec(),
            payout_keys: crate::domain::sealed::Keyring::generate_spec(),
            ..Config::default()
        };
        assert_eq!(c.outbox_sweep_interval, Duration::from_secs(15));
        assert_eq!(c.outbox_min_age, Duration::from_secs(15));
        c.outbox_min_age = Duration::ZERO; // allowed: sweep everything at once
        c.validate().unwrap();
        c.outbox_sweep_interval = Duration::ZERO;
        assert!(c.validate().is_err(), "a zero sweep interval is refused");
        c.outbox_sweep_interval = Duration::from_secs(1);
        c.idempotency_retention = Duration::ZERO;
        assert!(c.validate().is_err(), "a zero retention is refused");
    }

    #[test]
    fn the_import_staging_budget_is_60_s_and_a_chunk_count_when_set() {
        let env = Env::default();
        let c = Config::from_vars(&env).unwrap();
        assert_eq!(c.import_staging_time, Duration::from_secs(60));
        assert_eq!(c.import_staging_chunks, None);
        let set = env
            .clone()
            .with("TENX_IMPORT_STAGING_SECS", Some("20"))
            .with("TENX_IMPORT_STAGING_CHUNKS", Some("3"));
        let mut c = Config {
            jwt: Some(JwtKey::Hs256(vec![1; 32])),
            ctx_keys: CtxKeyring::generate_spec(),
            signing_keys: crate::domain::proof::jws::ProofKeyring::generate_spec(),
            payout_keys: crate::domain::sealed::Keyring::generate_spec(),
            ..Config::from_vars(&set).unwrap()
        };
        assert_eq!(c.import_staging_time, Duration::from_secs(20));
        assert_eq!(c.import_staging_chunks, Some(3));
        c.validate().unwrap();
        c.import_staging_chunks = Some(0);
        assert!(c.validate().is_err(), "at least one chunk");
        c.import_staging_chunks = None;
        c.import_staging_time = Duration::ZERO;
        assert!(c.validate().is_err());
        assert!(Config::from_vars(&env.with("TENX_IMPORT_STAGING_CHUNKS", Some("x"))).is_err());
    }

    #[test]
    fn delivery_bounds_default_to_64_and_8_and_must_be_sane() {
        let mut c = Config {
            jwt: Some(JwtKey::Hs256(vec![1; 32])),
            ctx_keys: CtxKeyring::generate_spec(),
            signing_keys: crate::domain::proof::jws::ProofKeyring::generate_spec(),
            payout_keys: crate::domain::sealed::Keyring::generate_spec(),
            ..Config::default()
        };
        assert_eq!(
            (c.delivery_concurrency, c.delivery_concurrency_per_endpoint),
            (64, 8)
        );
        assert_eq!(
            c.webhook_auto_disable_after,
            Duration::from_secs(5 * 86_400)
        );
        c.webhook_auto_disable_after = Duration::ZERO; // allowed: never auto-disable
        c.validate().unwrap();
        c.delivery_concurrency = 0;
        assert!(c.validate().is_err(), "no delivery could ever run");
        c.delivery_concurrency = MAX_DELIVERY_CONCURRENCY + 1;
        assert!(c.validate().is_err());
        c.delivery_concurrency = 1;
        c.delivery_concurrency_per_endpoint = 0;
        assert!(c.validate().is_err());
        c.delivery_concurrency_per_endpoint = 1;
        c.validate().expect("one at a time is allowed");
    }

    #[test]
    fn short_urls() {
        let c = Config::default();
        assert_eq!(
            c.short_url("acme", "launch"),
            "https://acme.localhost:8080/launch"
        );
        assert_eq!(c.redirect_host(), "localhost");
    }

    #[test]
    fn the_edge_is_named_once_and_checked() {
        let some = |v: &str| Some(v.to_owned());
        let trust = country_trust_from(some("cloudfront-oac"), None, Some(true)).unwrap();
        assert_eq!(trust, CountryTrust::CloudFrontOac);
        // Behind the load balancer even a local "trust the header" does not make it believed.
        let trust = country_trust_from(some(" alb "), None, Some(true)).unwrap();
        assert_eq!(trust, CountryTrust::Alb);
        let both = country_trust_from(some("alb"), some("a-proxy-secret-0123"), None);
        assert!(both.unwrap_err().to_string().contains("exclude each other"));
        let secret = "a-proxy-secret-0123";
        assert_eq!(
            country_trust_from(None, some(secret), None).unwrap(),
            CountryTrust::EdgeSecret(secret.as_bytes().to_vec())
        );
        assert_eq!(
            country_trust_from(None, None, Some(true)).unwrap(),
            CountryTrust::Always
        );
        assert_eq!(
            country_trust_from(None, None, None).unwrap(),
            CountryTrust::Never
        );
        let both = country_trust_from(some("cloudfront-oac"), some(secret), None);
        assert!(both.unwrap_err().to_string().contains("exclude each other"));
        let typo = country_trust_from(some("cloudfront"), None, None);
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("expected cloudfront-oac (the redirect behind CloudFront's origin access control) or alb")
        );
        let short = country_trust_from(None, some("short"), None);
        assert!(short.unwrap_err().to_string().contains("at least 16"));
    }

    #[test]
    fn the_load_balancers_listener_is_named_whole_and_alone() {
        let some = |v: &str| Some(v.to_owned());
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2";
        let host = "lb-1.us-east-1.elb.amazonaws.com";
        let listener = edge_listener_from(some(arn), some(host), false).unwrap();
        assert_eq!(
            listener,
            Some(crate::platform::edge::Listener {
                arn: arn.into(),
                host: host.into()
            })
        );
        assert_eq!(edge_listener_from(None, None, true).unwrap(), None);
        let half = edge_listener_from(some(arn), None, false).unwrap_err();
        assert!(half.to_string().contains("go together"), "{half}");
        let half = edge_listener_from(None, some(host), false).unwrap_err();
        assert!(half.to_string().contains("go together"), "{half}");
        let both = edge_listener_from(some(arn), some(host), true).unwrap_err();
        assert!(both.to_string().contains("exclude each other"), "{both}");
        let typo = edge_listener_from(some("listener/app/lb"), some(host), false).unwrap_err();
        assert!(
            typo.to_string().contains("expected a listener's ARN"),
            "{typo}"
        );
    }
}
