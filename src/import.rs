//! `tenx import --source S --handle H FILE [--dry-run] [--on-conflict overwrite]` (issue 64): the
//! service the API's imports use (`tenx_shared::imports`), for files over the API's body limit,
//! read as a stream (row by row: memory does not grow with the file) and written here to the
//! end; prints the report (the API's `GET …/imports/{importId}` fields).
//! With the embedded backend the server must be stopped (its files are its own).

use std::path::PathBuf;

use anyhow::Context;
use tenx_shared::domain::Handle;
use tenx_shared::imports::keyrings::Keys;
use tenx_shared::imports::links_sources::Format;
use tenx_shared::imports::model::{OnConflict, Source};
use tenx_shared::kernel::audit::{Actor, ActorType};
use tenx_shared::platform::config::{Config, ParsedKeys, Secrets};
use tenx_shared::runtime::local::{DataDir, LocalSecrets};

use crate::{Backend, open_backends};

#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    /// The tool the export comes from: bitly, rebrandly, shortio, shlink, dub or csv (links);
    /// rewardful, firstpromoter, partnerstack, tolt or dub-partners (a partner program).
    #[arg(long)]
    source: String,
    #[arg(long)]
    handle: String,
    /// The export: CSV when its name ends in `.csv`, else the tool's JSON list answer.
    file: PathBuf,
    /// Read, check and count; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replace links whose slug exists (default: skip them).
    #[arg(long)]
    overwrite: bool,
    #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
    data_dir: PathBuf,
    #[arg(long, env = "TENX_BACKEND", value_enum, default_value = "embedded")]
    backend: Backend,
}

pub(crate) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let source = Source::parse(&args.source).with_context(|| {
        format!(
            "--source {}: not a source this service imports",
            args.source
        )
    })?;
    let handle = Handle::parse(&args.handle).map_err(|e| anyhow::anyhow!("--handle: {e}"))?;
    // Read as a stream (row by row, staged a chunk at a time): a file of any size.
    // (A program's export is read in passes: opened anew for each.)
    std::fs::File::open(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let opener = tenx_shared::imports::file_opener(args.file.clone());
    let format = match args.file.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
        _ => Format::Json,
    };
    anyhow::ensure!(
        args.backend == Backend::Aws || args.data_dir.exists(),
        "no data dir at {}: run `tenx serve` first, or pass --data-dir",
        args.data_dir.display()
    );
    let data = DataDir::prepare(&args.data_dir)?;
    let keys = keyrings(args.backend, &data)?;
    let (store, queue, _) = open_backends(args.backend, &data).await?;
    let io = tenx_shared::kernel::io::Io::new(&store, &queue);
    // The audit log names who ran it: the shell's user, through the CLI.
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = Actor {
        kind: ActorType::System,
        id: format!("tenx import ({who})"),
    };
    let options = tenx_shared::imports::Options {
        source,
        format,
        column_map: None,
        dry_run: args.dry_run,
        on_conflict: if args.overwrite {
            OnConflict::Overwrite
        } else {
            OnConflict::Skip
        },
    };
    let keys = Keys {
        payout: keys.payout_key.as_ref(),
        email: keys.ctx_keys.as_ref(),
    };
    let job = tenx_shared::imports::import_here(io, keys, &handle, options, opener, actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = serde_json::json!({
        "importId": job.import_id,
        "status": job.status,
        "dryRun": job.dry_run,
        "counts": job.counts,
        "errors": job.errors,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if std::env::var_os("TENX_REPORT_PEAK_MEMORY").is_some() {
        // The tests' proof that a file is streamed: the process's peak resident memory.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak memory: {}", line["VmHWM:".len()..].trim());
        }
    }
    Ok(())
}

/// The keyrings a program's rows are written with (its partners' PayPal emails sealed, its
/// customers' emails digested): the environment's, else, with the embedded backend, the data
/// dir's, as `tenx serve` has them (the server must open what this seals). One not set is
/// left out: the rows still come in, each noting what it could not keep.
fn keyrings(backend: Backend, data: &DataDir) -> anyhow::Result<ParsedKeys> {
    let mut config = Config::from_env()?;
    if backend == Backend::Embedded {
        LocalSecrets::load_or_create(&data.0)?.apply(&mut config);
    }
    let held = Secrets {
        ctx_keys: !config.ctx_keys.is_empty(),
        payout_key: !config.payout_keys.is_empty(),
        ..Secrets::NONE
    };
    config.keys_for(held)
}
