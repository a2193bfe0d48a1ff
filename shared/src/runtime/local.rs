//! The local runtime (`tenx serve`): secrets generated once into the data dir, the embedded
//! durable store and queue, and the background workers that run as Lambda functions on AWS.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};

use crate::domain::CtxKeyring;
use crate::domain::proof::jws::ProofKeyring;
use crate::kernel::state::AppState;
use crate::platform::config::{Config, JwtKey, Secrets};
use crate::platform::queue::embedded::EmbeddedQueue;
use crate::platform::queue::{Queue, QueueName};
use crate::platform::store::Store;
use crate::platform::store::embedded::EmbeddedStore;
use crate::platform::stream::ClickStream;

/// Secrets a local install generates on first start and keeps (mode 0600) in its data dir.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalSecrets {
    pub jwt_secret: String,
    pub ctx_keys: String,
    /// Added after the first installs: generated on the next start when missing.
    #[serde(default)]
    pub signing_keys: String,
    /// Added with payout methods (issue 46): generated on the next start when missing.
    #[serde(default)]
    pub payout_key: String,
}

impl LocalSecrets {
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join("secrets.json");
        if path.exists() {
            // An install from before (or a copied file) may be world-readable: tighten it first.
            private(&path, 0o600)?;
            let raw = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut secrets: LocalSecrets = serde_json::from_str(&raw)
                .with_context(|| format!("parsing {}", path.display()))?;
            if secrets.signing_keys.is_empty() || secrets.payout_key.is_empty() {
                if secrets.signing_keys.is_empty() {
                    secrets.signing_keys = ProofKeyring::generate_spec();
                }
                if secrets.payout_key.is_empty() {
                    secrets.payout_key = crate::domain::sealed::Keyring::generate_spec();
                }
                let tmp = data_dir.join("secrets.json.new");
                let _ = std::fs::remove_file(&tmp);
                write_private(&tmp, &serde_json::to_vec_pretty(&secrets)?)?;
                std::fs::rename(&tmp, &path)?;
            }
            return Ok(secrets);
        }
        let secrets = LocalSecrets {
            jwt_secret: Alphanumeric.sample_string(&mut rand::rngs::OsRng, 48),
            ctx_keys: CtxKeyring::generate_spec(),
            signing_keys: ProofKeyring::generate_spec(),
            payout_key: crate::domain::sealed::Keyring::generate_spec(),
        };
        write_private(&path, &serde_json::to_vec_pretty(&secrets)?)?;
        Ok(secrets)
    }

    /// Fills secrets the environment did not set. (The console's local sign-in is never
    /// inferred from them: `tenx serve --local-sign-in` asks for it, with a printed code.)
    pub fn apply(&self, config: &mut Config) {
        if config.jwt.is_none() {
            config.jwt = Some(JwtKey::Hs256(self.jwt_secret.clone().into_bytes()));
        }
        if config.ctx_keys.is_empty() {
            config.ctx_keys = self.ctx_keys.clone();
        }
        if config.signing_keys.is_empty() {
            config.signing_keys = self.signing_keys.clone();
        }
        if config.payout_keys.is_empty() {
            config.payout_keys = self.payout_key.clone();
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Where the embedded backends keep their files.
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// Creates the directory (0700: it holds webhook secrets, token hashes and signing keys),
    /// and tightens an existing one that holds only our files or nothing.
    pub fn prepare(path: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let path = path.into();
        let ours = !path.exists() || only_our_files(&path)?;
        std::fs::create_dir_all(&path)
            .with_context(|| format!("creating data dir {}", path.display()))?;
        if ours {
            private(&path, 0o700)?;
        }
        // Our files are owner-only whatever the directory: an existing `secrets.json` of 0644
        // (an older install, a copy) would let every local user mint tokens and forge ctx.
        for file in OUR_FILES {
            let file = path.join(file);
            if file.exists() {
                private(&file, 0o600)?;
            }
        }
        Ok(Self(path))
    }

    pub fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let path = self.0.join("store.redb");
        let store = EmbeddedStore::open(&path).context("opening the embedded store")?;
        private(&path, 0o600)?;
        Ok(Arc::new(store))
    }

    pub fn open_queue(&self) -> anyhow::Result<Arc<EmbeddedQueue>> {
        let path = self.0.join("queue.redb");
        let queue = EmbeddedQueue::open(&path).context("opening the embedded queue")?;
        private(&path, 0o600)?;
        Ok(Arc::new(queue))
    }
}

const OUR_FILES: [&str; 3] = ["store.redb", "queue.redb", "secrets.json"];
/// Directories of ours in the data dir: the Maildir of the embedded mail engine (issue 59).
const OUR_DIRS: [&str; 1] = ["mail"];

fn only_our_files(dir: &Path) -> anyhow::Result<bool> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let name = entry?.file_name();
        if !OUR_FILES.iter().chain(OUR_DIRS.iter()).any(|f| name == *f) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Owner-only permissions (a no-op off Unix).
fn private(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Whether `tenx serve` runs the queue consumers in-process (tests that inspect raw queue
/// contents turn them off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    On,
    Off,
}

/// The local application: state plus the handles of its background workers.
pub struct LocalRuntime {
    pub state: AppState,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl LocalRuntime {
    /// Builds state on the given backends and starts the background workers. Clicks go to
    /// `clicks` when given (the embedded queue's click log, or Kinesis), else to the queue.
    pub fn start(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        clicks: Option<Arc<dyn ClickStream>>,
        workers: Workers,
    ) -> anyhow::Result<Self> {
        let mut state = crate::aws::app_state(config, store, queue, Secrets::ALL)?;
        if let Some(clicks) = clicks.clone() {
            state = state.with_click_stream(clicks);
        }
        let mut handles = Vec::new();
        if workers == Workers::On {
            if let Some(clicks) = clicks {
                handles.push(tokio::spawn(click_consumer(state.clone(), clicks)));
            }
            handles.push(tokio::spawn(outbox_sweeper(state.clone())));
            for handler in crate::runtime::assembly::handlers(&state) {
                handles.push(tokio::spawn(run_consumer(&state, handler)));
            }
        }
        Ok(Self {
            state,
            workers: handles,
        })
    }

    pub fn shutdown(self) {
        for w in self.workers {
            w.abort();
        }
    }
}

/// One consumer of the local server: the webhook deliveries run concurrently (bounded by
/// `TENX_DELIVERY_CONCURRENCY`), the events a batch at a time. (Four batches at once were
/// measured on a backlog of one partner's 1,000 conversions, issue 58: no faster, their
/// ledger transactions meet on the partner's balances.)
fn run_consumer(
    state: &AppState,
    handler: Arc<dyn crate::kernel::consume::BatchHandler>,
) -> impl Future<Output = ()> + Send + 'static + use<> {
    let (queue, idle) = (state.queue.clone(), Duration::from_millis(50));
    let in_flight = state.config.delivery_concurrency;
    async move {
        match handler.queue() {
            QueueName::Deliveries => {
                crate::runtime::workers::local::run_concurrent(queue, handler, idle, in_flight)
                    .await;
            }
            QueueName::Events => {
                let most = crate::runtime::workers::local::GATHER;
                crate::runtime::workers::local::run(queue, handler, idle, most).await;
            }
            QueueName::Mail | QueueName::MailEvents | QueueName::Imports => {
                let most = crate::runtime::workers::local::BATCH_SIZE;
                crate::runtime::workers::local::run(queue, handler, idle, most).await;
            }
        }
    }
}

/// The click stream's consumer, polling every shard (at the stream's idle interval when caught
/// up: 50 ms on the embedded log, 250 ms on Kinesis).
async fn click_consumer(state: AppState, clicks: Arc<dyn ClickStream>) {
    let consumer = crate::runtime::workers::click_stream::ClickConsumer::new(
        state,
        crate::runtime::assembly::click_sinks(),
    );
    let pause = clicks.idle_poll();
    let idle = move || tokio::time::sleep(pause);
    crate::runtime::workers::click_stream::run(consumer, clicks, idle).await;
}

/// The mails summed up over a day (commission digests) and a week (`weekly_summary`).
async fn digests(state: &AppState, base: &str) {
    let today = crate::platform::time::now().date();
    if let Err(e) = crate::mail::digest::sweep(state.io(), today, base).await {
        tracing::warn!(error = %e, "commission digest sweep failed");
    }
    if let Err(e) = crate::weekly::sweep(state.io(), today, base).await {
        tracing::warn!(error = %e, "weekly summary sweep failed");
    }
}

/// Finds outbox entries whose enqueue never happened (a crash between commit and send), and
/// carries on the payout work left to the background.
/// The payouts' background work: runs and status changes too large for their request, and
/// payouts sent through their providers.
async fn payouts(state: &AppState) {
    let payer = crate::payouts::Payer::new(state.io(), state.signing());
    match crate::payouts::jobs::sweep(payer).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(finished = n, "payout jobs finished in the background"),
        Err(e) => tracing::warn!(error = %e, "payout job sweep failed"),
    }
    let sender = crate::runtime::workers::sweeper::payout_sender(state);
    match crate::payouts::send::sweep(sender).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(settled = n, "payouts settled by their providers"),
        Err(e) => tracing::warn!(error = %e, "payout send sweep failed"),
    }
}

async fn outbox_sweeper(state: AppState) {
    // `Config::validate` refuses a zero interval (which `interval` would panic on).
    let mut tick = tokio::time::interval(state.config.outbox_sweep_interval);
    loop {
        tick.tick().await;
        match crate::kernel::outbox::sweep_from(
            state.store.as_ref(),
            state.queue.as_ref(),
            state.config.outbox_min_age,
            &state.sweep_floor,
        )
        .await
        {
            Ok(swept) => swept.log(state.config.outbox_min_age),
            Err(e) => tracing::warn!(error = %e, "outbox sweep failed"),
        }
        match crate::ledger::qualified_clicks::sweep(
            state.io(),
            crate::platform::time::now_millis(),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(lines = n, "qualified-click commissions accrued"),
            Err(e) => tracing::warn!(error = %e, "qualified-click accrual failed"),
        }
        match crate::ledger::due::sweep(state.io(), crate::platform::time::now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                approved = n,
                "commissions approved at the end of their hold"
            ),
            Err(e) => tracing::warn!(error = %e, "commission approval sweep failed"),
        }
        if let Ok(keys) = state.signing() {
            let now = crate::platform::time::now_millis();
            let base = crate::mail::unsubscribe::public_base(&state.config);
            match crate::claims::overdue::sweep((state.io(), keys), &base, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(decided = n, "overdue claims decided by their rule"),
                Err(e) => tracing::warn!(error = %e, "overdue claim sweep failed"),
            }
        }
        if let Err(e) = crate::mail::sweep::sweep(state.io(), state.config.outbox_min_age).await {
            tracing::warn!(error = %e, "mail sweep failed");
        }
        let base = crate::mail::unsubscribe::public_base(&state.config);
        digests(&state, &base).await;
        let links = crate::messages::post::Links { base: base.clone() };
        match crate::messages::broadcasts::sweep(
            state.io(),
            &links,
            crate::platform::time::now_millis(),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(finished = n, "broadcasts finished in the background"),
            Err(e) => tracing::warn!(error = %e, "broadcast sweep failed"),
        }
        payouts(&state).await;
        let now = crate::platform::time::now_millis();
        let resolver = state.config.dns_resolver;
        match crate::domains::recheck::sweep(state.io(), resolver, &base, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(checked = n, "custom domains re-checked"),
            Err(e) => tracing::warn!(error = %e, "custom domain re-check failed"),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_dir_and_its_files_are_private_to_the_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let data = DataDir::prepare(&dir).unwrap();
        let _store = data.open_store().unwrap();
        let _queue = data.open_queue().unwrap();
        LocalSecrets::load_or_create(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        for file in OUR_FILES {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
        // An existing install from before is tightened; a shared directory is left alone.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        DataDir::prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        DataDir::prepare(tmp.path()).unwrap();
        assert_eq!(mode(tmp.path()), 0o755);
    }

    #[test]
    fn existing_files_readable_by_others_are_made_owner_only_on_start() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        DataDir::prepare(&dir).unwrap();
        LocalSecrets::load_or_create(&dir).unwrap();
        std::fs::write(dir.join("store.redb"), b"").unwrap();
        // A shared directory (another file in it) is left as it is; our files are not.
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for file in ["secrets.json", "store.redb"] {
            std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        DataDir::prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o755);
        assert_eq!(mode(&dir.join("secrets.json")), 0o600);
        assert_eq!(mode(&dir.join("store.redb")), 0o600);
        // Loading the secrets alone (no `prepare`) tightens them too.
        std::fs::set_permissions(
            dir.join("secrets.json"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        LocalSecrets::load_or_create(&dir).unwrap();
        assert_eq!(mode(&dir.join("secrets.json")), 0o600);
    }
}
