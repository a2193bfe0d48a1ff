//! The AWS backends' wiring: SDK clients built once per process from the standard AWS
//! configuration chain (credentials, region, and the endpoint from `AWS_ENDPOINT_URL` when set:
//! that is how tests reach moto, with no test-only code path), the DynamoDB store and SQS queue
//! built on them, provisioning of a fresh environment (`tenx setup`), and the cold start of a
//! Lambda function.

use crate::aws::errors;
mod provision;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

pub use crate::aws::client::LazyClient;
use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_types::retry::RetrySpec;

use crate::aws::dynamo::DynamoStore;
use crate::aws::kinesis::KinesisStream;
use crate::aws::sqs::{QueueAddress, SqsQueue};
use crate::kernel::state::AppState;
use crate::platform::config::{Config, Env, JwtKey, Secrets};
use crate::platform::queue::{Queue, QueueName};
use crate::platform::store::Store;
use crate::platform::stream::ClickStream;

pub use provision::provision;

/// Attempts per AWS call (the first plus retries with exponential backoff and jitter) before
/// throttling or a transient failure is reported as `Unavailable` (→ 503).
pub const MAX_ATTEMPTS: u32 = 4;

/// The first backoff before retrying a transient failure (a 500, a dropped connection), with
/// full jitter and doubling per attempt: 50 ms, as AWS's Retry Behavior 2.1 sets it (the SDK's
/// legacy 1 s made each transient failure of a consumer's batch cost half a second on average,
/// most of a faulty backlog's drain, issue 58). Throttling keeps the 1 s base
/// (`RetryConfig::standard`), and the retry quota keeps the legacy costs (5 tokens a retry, one
/// back per first-try success) so 20 % transient failures still retry rather than empty it.
pub const TRANSIENT_BACKOFF: Duration = Duration::from_millis(50);

/// [`MAX_ATTEMPTS`] standard-mode retries with [`TRANSIENT_BACKOFF`].
pub fn retry_config() -> RetryConfig {
    let spec = RetrySpec::v2_0().with_non_throttling_initial_backoff(TRANSIENT_BACKOFF);
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_retry_spec(spec)
}

/// Where the AWS backends live, from `TENX_TABLE`, `TENX_QUEUE_PREFIX`,
/// `TENX_EVENTS_QUEUE_URL` and `TENX_DELIVERIES_QUEUE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSettings {
    /// The DynamoDB table (default `tenx`).
    pub table: String,
    /// Queue names are `{prefix}events`, `{prefix}deliveries`, with dead-letter queues
    /// `{prefix}events-dlq`, `{prefix}deliveries-dlq` (default prefix `tenx-`).
    pub queue_prefix: String,
    /// Queue URLs; when unset they are looked up by name (`GetQueueUrl`).
    pub events_queue_url: Option<String>,
    pub deliveries_queue_url: Option<String>,
    /// `TENX_MAIL_QUEUE_URL` and `TENX_MAIL_EVENTS_QUEUE_URL` (issue 59).
    pub mail_queue_url: Option<String>,
    pub mail_events_queue_url: Option<String>,
    /// `TENX_IMPORTS_QUEUE_URL` (issue 64).
    pub imports_queue_url: Option<String>,
    /// The click stream, a Kinesis Data Stream (default `{prefix}clicks`).
    pub click_stream: String,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            table: "tenx".into(),
            queue_prefix: "tenx-".into(),
            events_queue_url: None,
            deliveries_queue_url: None,
            mail_queue_url: None,
            mail_events_queue_url: None,
            imports_queue_url: None,
            click_stream: "tenx-clicks".into(),
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl AwsSettings {
    pub fn from_env() -> Self {
        Self::from_vars(&Env::process())
    }

    /// [`AwsSettings::from_env`] over a given environment.
    pub fn from_vars(env: &Env) -> Self {
        let defaults = Self::default();
        let queue_prefix = env
            .var("TENX_QUEUE_PREFIX")
            .unwrap_or(defaults.queue_prefix);
        Self {
            table: env.var("TENX_TABLE").unwrap_or(defaults.table),
            click_stream: env
                .var("TENX_CLICK_STREAM")
                .unwrap_or_else(|| format!("{queue_prefix}clicks")),
            queue_prefix,
            events_queue_url: env.var("TENX_EVENTS_QUEUE_URL"),
            deliveries_queue_url: env.var("TENX_DELIVERIES_QUEUE_URL"),
            mail_queue_url: env.var("TENX_MAIL_QUEUE_URL"),
            mail_events_queue_url: env.var("TENX_MAIL_EVENTS_QUEUE_URL"),
            imports_queue_url: env.var("TENX_IMPORTS_QUEUE_URL"),
        }
    }

    /// A table and queue prefix of their own (tests: one environment each).
    pub fn named(table: impl Into<String>, queue_prefix: impl Into<String>) -> Self {
        let queue_prefix = queue_prefix.into();
        Self {
            table: table.into(),
            click_stream: format!("{queue_prefix}clicks"),
            queue_prefix,
            ..Self::default()
        }
    }

    pub fn queue_name(&self, queue: QueueName) -> String {
        format!("{}{}", self.queue_prefix, queue.as_str())
    }

    pub fn dead_letter_queue_name(&self, queue: QueueName) -> String {
        format!("{}{}-dlq", self.queue_prefix, queue.as_str())
    }

    fn queue_url(&self, queue: QueueName) -> Option<&str> {
        match queue {
            QueueName::Events => self.events_queue_url.as_deref(),
            QueueName::Deliveries => self.deliveries_queue_url.as_deref(),
            QueueName::Mail => self.mail_queue_url.as_deref(),
            QueueName::MailEvents => self.mail_events_queue_url.as_deref(),
            QueueName::Imports => self.imports_queue_url.as_deref(),
        }
    }
}

/// The SDK clients of one process (cheap to clone; they share connections). DynamoDB's is built
/// at once (every process reads the table); the others on first use (`aws_client`).
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
    pub ssm: LazyClient<aws_sdk_ssm::Client>,
    pub kinesis: LazyClient<aws_sdk_kinesis::Client>,
}

impl AwsClients {
    /// Loads the standard configuration chain once, with standard-mode retries
    /// ([`MAX_ATTEMPTS`]) and timeouts so a hung connection becomes a retry, then a 503.
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::load(None).await
    }

    /// [`AwsClients::from_env`] with the endpoint given instead of `AWS_ENDPOINT_URL` (tests
    /// spread over several emulators; the TLS roots still follow the process's settings).
    pub async fn at_endpoint(url: &str) -> anyhow::Result<Self> {
        Self::load(Some(url)).await
    }

    async fn load(endpoint: Option<&str>) -> anyhow::Result<Self> {
        let roots = tls::Roots::from_env()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = lambda_region() {
            loader = loader
                .region(region)
                .credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        let config = loader
            .http_client(tls::http_client(roots)?)
            .retry_config(retry_config())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .build(),
            )
            .load()
            .await;
        anyhow::ensure!(
            config.region().is_some(),
            "no AWS region configured: set AWS_REGION (and credentials; for a local emulator \
             also AWS_ENDPOINT_URL)"
        );
        let shared = Arc::new(config.clone());
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: LazyClient::new(shared.clone(), aws_sdk_sqs::Client::new),
            ssm: LazyClient::new(shared.clone(), aws_sdk_ssm::Client::new),
            kinesis: LazyClient::new(shared, aws_sdk_kinesis::Client::new),
        })
    }
}

/// On Lambda, the region, when the runtime also gives the function role's credentials in the
/// environment (it always does). Taking both from there skips building the default provider
/// chains (their STS, SSO, IMDS and container clients), part of every cold start; elsewhere
/// (`tenx serve` on AWS, the CLI, tests) the full chains serve profiles, SSO and instance roles.
fn lambda_region() -> Option<aws_config::Region> {
    var("AWS_LAMBDA_FUNCTION_NAME")?;
    var("AWS_ACCESS_KEY_ID")?;
    var("AWS_SECRET_ACCESS_KEY")?;
    var("AWS_REGION").map(aws_config::Region::new)
}

/// The DynamoDB store and SQS queue of `settings`, on clients loaded from the environment.
pub async fn connect(settings: &AwsSettings) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Queue>)> {
    connect_with(&AwsClients::from_env().await?, settings).await
}

/// The click stream of `settings`, on existing clients (no call is made until it is used; its
/// client is built now: a process given a stream appends to it on every click).
pub fn click_stream(clients: &AwsClients, settings: &AwsSettings) -> Arc<dyn ClickStream> {
    let _ = clients.kinesis.get();
    Arc::new(KinesisStream::new(
        clients.kinesis.clone(),
        settings.click_stream.clone(),
    ))
}

/// Like [`connect`], on existing clients.
pub async fn connect_with(
    clients: &AwsClients,
    settings: &AwsSettings,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Queue>)> {
    let store = DynamoStore::new(clients.dynamodb.clone(), settings.table.clone());
    let address = |queue| match settings.queue_url(queue) {
        Some(url) => QueueAddress::Url(url.to_owned()),
        None => QueueAddress::Named(settings.queue_name(queue)),
    };
    let queue = SqsQueue::new(
        clients.sqs.clone(),
        address(QueueName::Events),
        address(QueueName::Deliveries),
    )
    .with_queue(QueueName::Mail, address(QueueName::Mail))
    .with_queue(QueueName::MailEvents, address(QueueName::MailEvents))
    .with_queue(QueueName::Imports, address(QueueName::Imports));
    Ok((Arc::new(store), Arc::new(queue)))
}

/// The application state of a Lambda function, built once at cold start: settings from the
/// environment, then only the secrets the function `needs` (`Group::secrets()`, or
/// `Secrets::NONE` for a queue worker), given directly (`TENX_JWT_SECRET`, `TENX_CTX_KEYS`,
/// `TENX_SIGNING_KEYS`, `TENX_PAYOUT_KEY`) or as the names of SSM parameters
/// (`TENX_JWT_SECRET_PARAM`, `TENX_CTX_KEYS_PARAM`, `TENX_SIGNING_KEYS_PARAM`,
/// `TENX_PAYOUT_KEY_PARAM`: a SecureString, decrypted by SSM with its KMS key),
/// then the DynamoDB store and SQS queue. A parameter the function does not need is never read
/// (its IAM role may not allow it). Fails (so the function does not start) on any invalid setting.
pub async fn app_state_from_env(needs: impl Into<Secrets>) -> anyhow::Result<AppState> {
    app_state_from_vars(&Env::process(), needs).await
}

/// [`app_state_from_env`] over a given environment (the AWS clients still read the process's).
pub async fn app_state_from_vars(env: &Env, needs: impl Into<Secrets>) -> anyhow::Result<AppState> {
    let needs = needs.into();
    let mut config = Config::from_vars(env)?;
    let clients = AwsClients::from_env().await?;
    let wanted = SecretParams {
        jwt: (needs.jwt && config.jwt.is_none())
            .then(|| env.var("TENX_JWT_SECRET_PARAM"))
            .flatten(),
        ctx_keys: (needs.ctx_keys && config.ctx_keys.is_empty())
            .then(|| env.var("TENX_CTX_KEYS_PARAM"))
            .flatten(),
        signing: (needs.signing && config.signing_keys.is_empty())
            .then(|| env.var("TENX_SIGNING_KEYS_PARAM"))
            .flatten(),
        payout_key: (needs.payout_key && config.payout_keys.is_empty())
            .then(|| env.var("TENX_PAYOUT_KEY_PARAM"))
            .flatten(),
    };
    wanted.load_into(&clients, &mut config).await?;
    let settings = AwsSettings::from_vars(env);
    let (store, queue) = connect_with(&clients, &settings).await?;
    let state = crate::aws::app_state(config, store, queue, needs)?;
    // Only the functions that record clicks are given the stream's name (template.yaml).
    Ok(match env.var("TENX_CLICK_STREAM") {
        Some(_) => state.with_click_stream(click_stream(&clients, &settings)),
        None => state,
    })
}

/// The SSM parameter names of the secrets a function still lacks.
struct SecretParams {
    jwt: Option<String>,
    ctx_keys: Option<String>,
    signing: Option<String>,
    payout_key: Option<String>,
}

impl SecretParams {
    /// One `GetParameters` round trip for all of them (cold start time), decrypted.
    async fn load_into(self, clients: &AwsClients, config: &mut Config) -> anyhow::Result<()> {
        let names: Vec<String> = [&self.jwt, &self.ctx_keys, &self.signing, &self.payout_key]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let mut values = parameters(clients, &names).await?;
        let mut take = |name: &Option<String>| name.as_ref().and_then(|n| values.remove(n));
        if let Some(v) = take(&self.jwt) {
            config.jwt = Some(JwtKey::Hs256(v.into_bytes()));
        }
        if let Some(v) = take(&self.ctx_keys) {
            config.ctx_keys = v;
        }
        if let Some(v) = take(&self.signing) {
            config.signing_keys = v;
        }
        if let Some(v) = take(&self.payout_key) {
            config.payout_keys = v;
        }
        Ok(())
    }
}

/// Decrypted SSM parameters by name; every one must exist and be non-empty.
async fn parameters(
    clients: &AwsClients,
    names: &[String],
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let out = clients
        .ssm
        .get_parameters()
        .set_names(Some(names.to_vec()))
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe("GetParameters", &e)))
        .with_context(|| format!("reading SSM parameters {names:?}"))?;
    let found: std::collections::HashMap<String, String> = out
        .parameters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.name?, p.value?.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if let Some(missing) = names.iter().find(|n| !found.contains_key(*n)) {
        anyhow::bail!("SSM parameter {missing} is missing or empty");
    }
    Ok(found)
}

/// JSON logs for Lambda (CloudWatch stamps the time), filtered by `TENX_LOG` (default `info`).
pub fn init_lambda_tracing() {
    let json = tracing_subscriber::fmt()
        .json()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_current_span(false);
    let _ = match plain_level(std::env::var("TENX_LOG").ok().as_deref()) {
        Some(level) => json.with_max_level(level).try_init(),
        None => {
            use tracing_subscriber::EnvFilter;
            let filter =
                EnvFilter::try_from_env("TENX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
            json.with_env_filter(filter).try_init()
        }
    };
}

/// `TENX_LOG` when it is unset or one bare level (the usual case), which needs no `EnvFilter`:
/// parsing one compiles its directive regular expressions, ~4 % of a function's init.
fn plain_level(value: Option<&str>) -> Option<tracing_subscriber::filter::LevelFilter> {
    match value.map(str::trim) {
        None | Some("") => Some(tracing_subscriber::filter::LevelFilter::INFO),
        Some(v) if v.chars().all(|c| c.is_ascii_alphabetic()) => v.parse().ok(),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_log_level_needs_no_env_filter() {
        use tracing_subscriber::filter::LevelFilter;
        assert_eq!(plain_level(None), Some(LevelFilter::INFO));
        assert_eq!(plain_level(Some(" debug ")), Some(LevelFilter::DEBUG));
        assert_eq!(plain_level(Some("WARN")), Some(LevelFilter::WARN));
        assert_eq!(plain_level(Some("off")), Some(LevelFilter::OFF));
        assert_eq!(plain_level(Some("tenx_shared=debug")), None, "directives");
        assert_eq!(
            plain_level(Some("verbose")),
            None,
            "not a level: EnvFilter's error path"
        );
    }

    #[test]
    fn queue_names_follow_the_prefix() {
        let settings = AwsSettings::named("t", "env1-");
        assert_eq!(settings.queue_name(QueueName::Events), "env1-events");
        assert_eq!(
            settings.dead_letter_queue_name(QueueName::Deliveries),
            "env1-deliveries-dlq"
        );
        assert_eq!(settings.queue_url(QueueName::Events), None);
        let defaults = AwsSettings::default();
        assert_eq!(
            (defaults.table.as_str(), defaults.queue_prefix.as_str()),
            ("tenx", "tenx-")
        );
    }

    /// Issue 58: a transient failure is retried after 50 ms (not the SDK's legacy 1 s), a
    /// throttle still after 1 s, within [`MAX_ATTEMPTS`].
    #[test]
    fn transient_failures_back_off_briefly_and_throttling_as_before() {
        let config = retry_config();
        assert_eq!(config.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(config.initial_backoff(), Duration::from_secs(1));
        let spec = config.retry_spec().expect("a retry spec");
        assert_eq!(spec.non_throttling_initial_backoff(), TRANSIENT_BACKOFF);
        assert!(!spec.is_at_least(RetrySpec::V2_1), "the legacy retry quota");
    }
}
