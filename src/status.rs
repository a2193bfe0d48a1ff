//! `tenx status` (issue 58): the event pipeline's backlog in words, on either backend: events
//! waiting to be counted (and how many the queue has not taken yet), events given up on, and
//! each queue's depth, then the mail queue (mail waiting, failed in the last 30 days, the queue's
//! depth). Exits non-zero while anything waits or was given up on, so a script can
//! wait for a drain (`until tenx status; do sleep 5; done`). With the embedded backend the
//! server must be stopped (its files are its own).

use std::path::PathBuf;

use anyhow::Context;
use tenx_shared::runtime::local::DataDir;

use crate::{Backend, open_backends};

#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
    data_dir: PathBuf,
    #[arg(long, env = "TENX_BACKEND", value_enum, default_value = "embedded")]
    backend: Backend,
    /// Print the backlog as JSON instead of sentences.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: StatusArgs) -> anyhow::Result<()> {
    // A status of a data dir that is not there would be made up: never create one here.
    anyhow::ensure!(
        args.backend == Backend::Aws || args.data_dir.exists(),
        "no data dir at {}: run `tenx serve` first, or pass --data-dir",
        args.data_dir.display()
    );
    let data = DataDir::prepare(&args.data_dir)?;
    let (store, queue, _) = open_backends(args.backend, &data).await?;
    let backlog = tenx_shared::kernel::backlog::read(store.as_ref(), queue.as_ref())
        .await
        .context("reading the backlog")?;
    // The mail queue beside the others (issue 59): shown, not waited for (a mail may wait an
    // hour for its limit, and a failed one stays counted for 30 days).
    let mail = tenx_shared::mail::census::read(store.as_ref(), queue.as_ref())
        .await
        .context("reading the mail queue")?;
    if args.json {
        let mut json = serde_json::to_value(&backlog)?;
        json["mail"] = serde_json::to_value(&mail)?;
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        for line in tenx_shared::kernel::backlog::describe(&backlog) {
            println!("{line}");
        }
        for line in tenx_shared::mail::census::describe(&mail) {
            println!("{line}");
        }
    }
    anyhow::ensure!(
        backlog.is_clear(),
        "events are still waiting or were given up on"
    );
    Ok(())
}
