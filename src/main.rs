//! `tenx`: the local server and CLI of 10x attribution.

mod import;
mod ledger;
mod mail;
mod status;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tenx_shared::auth::jwt::{Claims, JwtVerifier};
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::{Config, JwtKey, Scheme};
use tenx_shared::platform::op_counts::counted;
use tenx_shared::platform::queue::{Queue, QueueName};
use tenx_shared::platform::store::Store;
use tenx_shared::platform::stream::ClickStream;
use tenx_shared::runtime::aws::{AwsClients, AwsSettings};
use tenx_shared::runtime::local::{DataDir, LocalRuntime, LocalSecrets, Workers};

/// jemalloc, one arena, purging freed pages after 200 ms on its background thread (the options
/// are built in: `.cargo/config.toml`). glibc's malloc gave every thread its own arena and kept
/// the free holes in each (peak 71–72 MiB in a redirect run, 75–79 µs of CPU per redirect); its
/// arenas bounded to one or two cost 10–30 % more CPU. This one: 55–58 MiB and 66–72 µs
/// (BENCHMARKS.md, "Where the memory goes").
#[cfg(all(not(target_env = "msvc"), not(tenx_system_alloc)))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "tenx",
    version,
    about = "10x attribution: tracked links, exactly-once conversions, signed webhooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Embedded,
    Aws,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole API and the short-link redirect on one port.
    Serve {
        #[arg(long, env = "TENX_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
        data_dir: PathBuf,
        /// Where state and queues live: the embedded files in the data dir, or DynamoDB + SQS
        /// (the standard AWS configuration; `TENX_TABLE`, `TENX_QUEUE_PREFIX`, …).
        #[arg(long, env = "TENX_BACKEND", value_enum, default_value = "embedded")]
        backend: Backend,
        /// Count store and queue operations (per request and in the background) and serve the
        /// counts at `GET /internal/ops`; for benchmarks (`scripts/bench.sh`), off by default.
        #[arg(long, env = "TENX_COUNT_OPS", value_parser = clap::builder::BoolishValueParser::new())]
        count_ops: bool,
        /// Offer the console's sign-in on this machine: prints a URL with a code, made anew at
        /// every start (`http://localhost:PORT/?code=…`); only a browser that opens it may sign in.
        /// Off by default.
        #[arg(long, env = "TENX_LOCAL_SIGN_IN", value_parser = clap::builder::BoolishValueParser::new())]
        local_sign_in: bool,
    },
    /// Create the DynamoDB table (with TTL), the SQS queues (with dead-letter queues) and the
    /// Kinesis click stream of the configured AWS environment; safe to re-run. With `--admin
    /// EMAIL --handle H`, instead make that person the first admin of the handle (in the data
    /// dir's store, made when missing as `tenx serve` would, or DynamoDB with `--backend aws`);
    /// they then sign in by the email link.
    Setup {
        #[arg(long, requires = "handle")]
        admin: Option<String>,
        #[arg(long)]
        handle: Option<String>,
        #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
        data_dir: PathBuf,
        #[arg(long, env = "TENX_BACKEND", value_enum, default_value = "embedded")]
        backend: Backend,
    },
    /// Print a JWT the local server accepts.
    Token {
        #[arg(long)]
        handle: Vec<String>,
        #[arg(long, default_value = "operator")]
        role: String,
        /// Lifetime such as 30m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        #[arg(long, default_value = "local-user")]
        sub: String,
        #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
        data_dir: PathBuf,
    },
    /// Print the access table (every authenticated route's role, PAT scope and write limit) as
    /// the markdown table of the "Roles, scopes and tokens" section of docs/security.md.
    AccessTable,
    /// Verify, offline, a payout statement, a JSON list of one partner's statements (a chain),
    /// one page of a statement (`limit`/`cursor`) or a JSON list of its pages in order, an
    /// inclusion proof or a conversion receipt against the published keys
    /// (`GET /v2/public/keys`). Exits non-zero and names what fails.
    Verify {
        /// The statement, proof or receipt (JSON), as the API answered it.
        file: PathBuf,
        /// The JWKS (`GET /v2/public/keys`), saved to a file.
        #[arg(long)]
        keys: PathBuf,
    },
    /// The commission ledger: `check` (running balances and indexes against the lines) and
    /// `rebuild-balances` (lines written before them).
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// The event pipeline's backlog: events waiting to be counted (and how many the queue has
    /// not taken yet), events given up on, each queue's depth. Exits non-zero while anything
    /// waits or was given up on.
    Status(status::StatusArgs),
    /// The mail `tenx serve` sent (its Maildir: `{data-dir}/mail/new`): `list`, `show ID`.
    Mail {
        #[command(subcommand)]
        command: mail::MailCommand,
    },
    /// Import another tool's export (issue 64) into a handle, through the service the API's
    /// imports use, written here to the end; for files over the API's 4 MiB. Prints the report.
    Import(import::ImportArgs),
}

/// `tenx verify`: prints what verified, or fails naming what does not hold.
fn verify(file: &std::path::Path, keys: &std::path::Path) -> anyhow::Result<()> {
    let read = |p: &std::path::Path| -> anyhow::Result<serde_json::Value> {
        let raw = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&raw).with_context(|| format!("{}: not JSON", p.display()))
    };
    let jwks: tenx_shared::domain::proof::jws::Jwks = serde_json::from_value(read(keys)?)
        .with_context(|| format!("{}: not a JWKS", keys.display()))?;
    let doc = read(file)?;
    let what = tenx_shared::payouts::verify::any(&doc, &jwks)
        .map_err(|e| anyhow::anyhow!("{}: does not verify: {e}", file.display()))?;
    println!("{}: {what} verified", file.display());
    Ok(())
}

fn parse_ttl(raw: &str) -> anyhow::Result<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (n, unit) = raw.split_at(split);
    let n: u64 = n
        .parse()
        .with_context(|| format!("--ttl {raw}: expected e.g. 30m, 1h, 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => anyhow::bail!("--ttl {raw}: unit must be s, m, h or d"),
    };
    anyhow::ensure!(secs > 0, "--ttl must be positive");
    Ok(Duration::from_secs(secs))
}

/// The store, queue and click stream of `backend`: the data dir's files (the embedded queue's
/// file holds the click log too), or DynamoDB, SQS and Kinesis.
async fn open_backends(
    backend: Backend,
    data: &DataDir,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Queue>, Arc<dyn ClickStream>)> {
    Ok(match backend {
        Backend::Embedded => {
            let queue = data.open_queue()?;
            (data.open_store()?, queue.clone(), queue)
        }
        Backend::Aws => {
            let settings = AwsSettings::from_env();
            tracing::info!(table = %settings.table, queues = %settings.queue_prefix, stream = %settings.click_stream, "using DynamoDB, SQS and Kinesis");
            let clients = AwsClients::from_env().await?;
            let (store, queue) =
                tenx_shared::runtime::aws::connect_with(&clients, &settings).await?;
            (
                store,
                queue,
                tenx_shared::runtime::aws::click_stream(&clients, &settings),
            )
        }
    })
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TENX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // TENX_LOG_SPANS: a line as each span closes, with its time (where a slow drain goes:
    // each events batch and each of its sinks is a span).
    let spans = if std::env::var_os("TENX_LOG_SPANS").is_some() {
        tracing_subscriber::fmt::format::FmtSpan::CLOSE
    } else {
        tracing_subscriber::fmt::format::FmtSpan::NONE
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans);
    if std::env::var("TENX_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Store and queue reads run on tokio's blocking pool. Its default cap (512 threads) lets a
/// burst of reads start dozens of threads, each with its own malloc arena: a few are enough for
/// short redb reads, and keep the server's memory flat under load (BENCHMARKS.md).
const MAX_BLOCKING_THREADS: usize = 8;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .context("starting the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve {
            addr,
            data_dir,
            backend,
            count_ops,
            local_sign_in,
        } => serve(addr, data_dir, backend, count_ops, local_sign_in).await,
        Command::Setup {
            admin: Some(email),
            handle: Some(handle),
            data_dir,
            backend,
        } => setup_admin(&email, &handle, &data_dir, backend).await,
        Command::Setup { .. } => setup().await,
        Command::AccessTable => {
            print!("{}", tenx_shared::http::auth::access::markdown_table());
            Ok(())
        }
        Command::Verify { file, keys } => verify(&file, &keys),
        Command::Ledger { command } => ledger::run(command).await,
        Command::Status(args) => status::run(args).await,
        Command::Mail { command } => mail::run(command),
        Command::Import(args) => import::run(args).await,
        Command::Token {
            handle,
            role,
            ttl,
            sub,
            data_dir,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("--role {role}: expected viewer, creator, operator or admin")
            })?;
            anyhow::ensure!(
                !handle.is_empty(),
                "give at least one --handle (or --handle '*')"
            );
            let mut config = Config::from_env()?;
            if config.jwt.is_none() {
                // The secret the local server signs with lives in its data dir: making a new one
                // here would print a token that server refuses (issue 60).
                let abs = std::env::current_dir()
                    .map(|d| d.join(&data_dir))
                    .unwrap_or_else(|_| data_dir.clone());
                anyhow::ensure!(
                    data_dir.join("secrets.json").exists(),
                    "no data dir at {} (no secrets.json there): run `tenx token` where `tenx \
                     serve` keeps its data, or pass --data-dir (TENX_DATA_DIR), or set \
                     TENX_JWT_SECRET",
                    abs.display()
                );
                let data = DataDir::prepare(&data_dir)?;
                LocalSecrets::load_or_create(&data.0)?.apply(&mut config);
            }
            let verifier = JwtVerifier::new(
                config
                    .jwt
                    .as_ref()
                    .and_then(JwtKey::hs256_secret)
                    .map(<[u8]>::to_vec),
                None,
                config.jwt_issuer.clone(),
                config.jwt_audience.clone(),
            )?;
            let exp = tenx_shared::platform::time::now().unix_timestamp()
                + tenx_shared::domain::time::secs(parse_ttl(&ttl)?);
            let claims = Claims {
                sub,
                handles: handle,
                role,
                exp,
                iss: config.jwt_issuer,
                aud: config.jwt_audience,
            };
            println!("{}", verifier.mint(&claims)?);
            Ok(())
        }
    }
}

async fn setup() -> anyhow::Result<()> {
    init_tracing();
    let settings = AwsSettings::from_env();
    let clients = AwsClients::from_env().await?;
    tenx_shared::runtime::aws::provision(&clients, &settings).await?;
    println!(
        "ready: table {}, queues {} and {} (dead letters: {}, {}), click stream {}",
        settings.table,
        settings.queue_name(QueueName::Events),
        settings.queue_name(QueueName::Deliveries),
        settings.dead_letter_queue_name(QueueName::Events),
        settings.dead_letter_queue_name(QueueName::Deliveries),
        settings.click_stream,
    );
    Ok(())
}

/// `tenx setup --admin EMAIL --handle H`: the first admin of a handle (the user made when new).
async fn setup_admin(
    email: &str,
    handle: &str,
    data_dir: &std::path::Path,
    backend: Backend,
) -> anyhow::Result<()> {
    use tenx_shared::people::{memberships, users};
    let email = tenx_shared::domain::email::Email::parse("--admin", email)?;
    let handle = tenx_shared::domain::Handle::parse(handle)?;
    // Made when missing, with its secrets, exactly as `tenx serve` makes it.
    let data = DataDir::prepare(data_dir)?;
    if backend == Backend::Embedded {
        LocalSecrets::load_or_create(&data.0)?;
    }
    let (store, _, _) = open_backends(backend, &data).await?;
    let user = users::find_or_create(store.as_ref(), &email).await?;
    let added = memberships::add(store.as_ref(), &handle, &user, Role::Admin)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tenx_shared::people::first_admin::mark_made(store.as_ref(), &user, &handle).await?;
    if added {
        println!(
            "{} is an admin of {handle}: sign in with the email link",
            email.as_str()
        );
    } else {
        println!(
            "{} is a member of {handle} already (role unchanged)",
            email.as_str()
        );
    }
    Ok(())
}

/// `--local-sign-in`: a fresh code in the config, the code itself returned for the URL to print.
/// The sign-in mints HS256 tokens, so a server verifying RS256 ones refuses to start with it.
fn local_sign_in(config: &mut Config) -> anyhow::Result<String> {
    anyhow::ensure!(
        config.jwt.as_ref().and_then(JwtKey::hs256_secret).is_some(),
        "--local-sign-in mints tokens with the HS256 secret (the generated one or \
         TENX_JWT_SECRET); this server verifies RS256 tokens (TENX_JWT_PUBLIC_KEY)"
    );
    let (code, check) = tenx_shared::platform::config::SignInCode::generate();
    config.local_sign_in = Some(check);
    Ok(code)
}

/// The origin printed links open: the server's when it listens on loopback
/// (`http://localhost:PORT`, where mailed links, cookies and passkeys live too), else on the
/// loopback address of the bound family.
fn printed_origin(config: &Config, bound: SocketAddr) -> String {
    config.local_origin.clone().unwrap_or_else(|| {
        let host = match bound.ip() {
            std::net::IpAddr::V6(_) => "[::1]",
            std::net::IpAddr::V4(_) => "127.0.0.1",
        };
        format!("http://{host}:{}", bound.port())
    })
}

/// Prints a line on the terminal only (stdout at any log level, not the log, which may be
/// shipped).
fn print_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// While the service has no admin: a one-time set-up link (1 hour) whose page makes the first
/// admin and signs them in, printed as `Set up: {url}` (on the public origin when one is set).
async fn print_set_up_link(
    (store, empty): (&dyn Store, bool),
    config: &Config,
    bound: SocketAddr,
) -> anyhow::Result<()> {
    let Some(token) = tenx_shared::people::first_admin::issue(store, empty).await? else {
        return Ok(());
    };
    let base = config
        .mail
        .public_url
        .clone()
        .unwrap_or_else(|| printed_origin(config, bound));
    let base = base.trim_end_matches('/');
    print_line(&format!("Set up: {base}/v2/auth/setup?token={token}"));
    Ok(())
}

async fn serve(
    addr: SocketAddr,
    data_dir: PathBuf,
    backend: Backend,
    count_ops: bool,
    sign_in: bool,
) -> anyhow::Result<()> {
    init_tracing();
    let mut config = Config::from_env()?;
    if std::env::var("TENX_REDIRECT_DOMAIN").is_err() {
        config.redirect_domain = format!("localhost:{}", addr.port());
    }
    if std::env::var("TENX_SHORT_URL_SCHEME").is_err() {
        config.short_url_scheme = Scheme::Http;
    }
    if !config.listening_on(addr) && config.mail.public_url.is_none() {
        // Said on stdout at any log level: sign-in links, invitations and passkeys need it.
        println!(
            "TENX_PUBLIC_URL is not set and {addr} is not a loopback address: links this server \
             mails or hands to a browser (sign-in, invitations, passkeys, the portal) cannot be \
             made until it names the origin people reach it at, e.g. \
             TENX_PUBLIC_URL=https://tenx.example.com"
        );
    }
    // A data dir that does not exist, or holds nothing, is a new service: its set-up begins
    // with this start.
    let empty = std::fs::read_dir(&data_dir).map_or(true, |mut d| d.next().is_none());
    let data = DataDir::prepare(&data_dir)?;
    config.mail.data_dir = Some(data.0.clone());
    LocalSecrets::load_or_create(&data.0)?.apply(&mut config);
    let sign_in_code = sign_in.then(|| local_sign_in(&mut config)).transpose()?;
    // Secrets stay in the data dir on either backend unless the environment provides them.
    let (store, queue, clicks) = open_backends(backend, &data).await?;
    let counters = count_ops.then(tenx_shared::platform::op_counts::OpCounters::new);
    let (store, queue, clicks): (Arc<dyn Store>, Arc<dyn Queue>, Arc<dyn ClickStream>) =
        match &counters {
            Some(c) => (
                Arc::new(counted(store, c)),
                Arc::new(counted(queue, c)),
                Arc::new(counted(clicks, c)),
            ),
            None => (store, queue, clicks),
        };
    let origin_config = config.clone();
    let runtime = LocalRuntime::start(config, store, queue, Some(clicks), Workers::On)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "tenx serving; short links at http://{{handle}}.localhost:{}/{{slug}}", addr.port());
    let bound = listener.local_addr()?;
    if let Some(code) = &sign_in_code {
        let base = printed_origin(&origin_config, bound);
        print_line(&format!(
            "Sign in to the console on this machine: {base}/?code={code}"
        ));
    }
    let empty = empty && backend == Backend::Embedded;
    print_set_up_link((runtime.state.store.as_ref(), empty), &origin_config, bound).await?;
    tenx_shared::http::edge::load_countries();
    let mut app = tenx_shared::http::local_app(runtime.state.clone());
    if let Some(c) = &counters {
        tracing::info!(
            path = tenx_shared::platform::op_counts::OPS_PATH,
            "counting store and queue operations"
        );
        app = tenx_shared::platform::op_counts::instrument(app, c.clone());
    }
    // The peer address is the client address of the public conversion route's limits.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    runtime.shutdown();
    if let Some(c) = &counters {
        let ops = serde_json::to_string(&c.snapshot()).expect("counts always serialize");
        tracing::info!(%ops, "store and queue operations since start");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90").unwrap().as_secs(), 90);
        assert_eq!(parse_ttl("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_ttl("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse_ttl("7d").unwrap().as_secs(), 604_800);
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
