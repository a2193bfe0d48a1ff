//! Imports (issue 64): another tool's export, given as a request body (or a file to `tenx
//! import`), read and checked at once ([`start`]: every row that cannot be imported is
//! reported with its row and field), staged in chunks, then written by the imports worker
//! ([`run`]), a chunk at a time with its cursor stored after each, so a worker killed mid-way
//! resumes where it stood and a row is never half written (each row's writes are one
//! transaction: the link, its alias, its history and the row's marker, which a resumed chunk
//! reads instead of writing again). A dry run reads, checks and counts what it would do, and
//! writes nothing but its job. Imports send no mail.
//!
//! What it owns (`platform/store/keys.rs`): the job (`H#{handle}#IMP`), its chunks
//! (`…#IMPC#{importId}`, 7 days), the handle's running import (`…#IMPRUN`: one at a time), its
//! daily count (`…#IMPDAY`), each written row's marker (`…#IMPR#{importId}`) and an imported
//! link's history (`…#IMPL`: the source, tags and the old tool's click total, never a live
//! counter). Links and their aliases are written through `links`.
//!
//! Round trips: `start` ONE put per chunk, ONE transaction (job, running mark, daily count,
//! audit entry) and ONE enqueue; `get` ONE read; the worker per chunk ONE read of the job, ONE
//! of the chunk, per row ONE read of its marker and the link's write (`links::upsert`), and
//! ONE version-checked put of the job (its cursor and counts).

pub mod decode;
pub mod links_sources;
pub mod model;
pub mod outcome;
pub mod program_links;
pub mod program_rows;
pub mod programs;
pub mod run;
pub mod worker;

use crate::domain::{Handle, ImportId};
use crate::kernel::io::Io;
use crate::platform::queue::{OutMessage, QueueError, QueueName};
use crate::platform::store::{Cond, CounterCap, Item, Store, StoreError, WriteOp, keys, to_doc};
use links_sources::{Format, Unreadable};
use model::{Chunk, Counts, Job, OnConflict, Source, Status};

/// The largest export a request takes: under API Gateway's and Lambda's 6 MB once a text body
/// is base64-encoded. Larger files go through `tenx import`.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Imports a handle may start in one UTC day (dry runs included).
pub const MAX_PER_DAY: i64 = 20;

/// A chunk holds at most this many rows, and about this many bytes of them (a store item's
/// limit is 400 KB).
pub const CHUNK_ROWS: usize = 100;
/// A program's partners come fewer to a chunk: each may write its links' campaigns and coupons.
const PROGRAM_CHUNK_ROWS: usize = 25;
const CHUNK_BYTES: usize = 200 * 1024;

/// Staged rows are kept this long (a job never finished is given up with them).
const CHUNK_TTL_SECS: i64 = 7 * 86_400;

/// A running mark outlives a worker that died for good (dead-lettered message) by at most this.
const RUNNING_TTL_SECS: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Unreadable(String),
    #[error("An import is already running for this handle; wait for it to finish.")]
    AlreadyRunning,
    #[error(
        "This handle has started {MAX_PER_DAY} imports today, the most it may; try again tomorrow (UTC)."
    )]
    DailyLimit,
    #[error("The import {0} was not found.")]
    NotFound(ImportId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<Unreadable> for ImportError {
    fn from(e: Unreadable) -> Self {
        ImportError::Unreadable(e.0)
    }
}

/// What to import, and how.
pub struct Request<'a> {
    pub source: Source,
    pub format: Format,
    pub body: &'a [u8],
    pub dry_run: bool,
    pub on_conflict: OnConflict,
}

/// The message the imports worker takes: one import, worked off chunk by chunk.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub handle: Handle,
    pub import_id: ImportId,
}

/// Reads and checks `req`'s file, stages its rows and queues the import for the worker. The
/// running import and the daily count are taken in the job's own transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, source = req.source.as_str()))]
pub async fn start(io: Io<'_>, handle: &Handle, req: Request<'_>) -> Result<Job, ImportError> {
    let (text, _encoding) = decode::text(req.body);
    let (chunks, errors) = read_file(req.source, req.format, &text)?;
    let import_id = ImportId::new();
    let mut job = Job {
        import_id: import_id.clone(),
        source: req.source,
        status: Status::Running,
        dry_run: req.dry_run,
        on_conflict: req.on_conflict,
        counts: Counts::default(),
        errors: Vec::new(),
        chunks: chunks.len() as u64,
        cursor: 0,
        actor: crate::kernel::audit::actor(),
        request_id: crate::kernel::audit::request_id(),
        created_at: crate::platform::time::timestamp(),
        finished_at: None,
    };
    for e in errors {
        job.fail_row(e);
    }
    let store = io.store.as_ref();
    stage(store, handle, &import_id, &chunks).await?;
    let target = format!(
        "{import_id} ({}{}, {} rows read, {} refused)",
        req.source.as_str(),
        if req.dry_run { ", dry run" } else { "" },
        chunks.iter().map(|c| c.len() as u64).sum::<u64>() + job.counts.failed,
        job.counts.failed,
    );
    begin(store, handle, &job, &target).await?;
    let message = serde_json::to_string(&Message {
        handle: handle.clone(),
        import_id: import_id.clone(),
    })
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    if let Err(e) = io
        .queue
        .send(QueueName::Imports, vec![OutMessage::now(message)])
        .await
    {
        // Nothing will work it off: the job is failed and the handle free again, so the
        // merchant can start it anew.
        let _ = run::fail(store, handle, &import_id, "The import could not be queued.").await;
        return Err(e.into());
    }
    Ok(job)
}

/// Puts the chunks (before the job: a transaction could not hold a large file); a job that
/// fails to start leaves them to expire, unread. ONE put per chunk.
async fn stage(
    store: &dyn Store,
    handle: &Handle,
    import_id: &ImportId,
    chunks: &[Chunk],
) -> Result<(), StoreError> {
    let expires = crate::platform::store::now_unix() + CHUNK_TTL_SECS;
    for (i, chunk) in chunks.iter().enumerate() {
        let (pk, sk) = keys::import_chunk(handle, import_id.as_str(), i as u64);
        let item = Item::new(pk, sk, to_doc(chunk)?).expiring_at(Some(expires));
        crate::platform::store::put(store, item).await?;
    }
    Ok(())
}

/// The job, the handle's running mark (one at a time), its daily count and the audit entry:
/// ONE transaction.
async fn begin(
    store: &dyn Store,
    handle: &Handle,
    job: &Job,
    target: &str,
) -> Result<(), ImportError> {
    let now = crate::platform::store::now_unix();
    let (run_pk, run_sk) = keys::import_running(handle);
    let day = crate::platform::time::timestamp().as_str()[..10].to_owned();
    let (day_pk, day_sk) = keys::import_day(handle, &day);
    let ops = vec![
        job_put(handle, job, Cond::Absent, 1)?,
        WriteOp::Put {
            item: Item::new(
                run_pk,
                run_sk,
                serde_json::json!({ "importId": job.import_id }),
            )
            .expiring_at(Some(now + RUNNING_TTL_SECS)),
            cond: Cond::Absent,
        },
        WriteOp::Add {
            pk: day_pk,
            sk: day_sk,
            deltas: vec![("n".into(), 1)],
            cap: Some(CounterCap {
                counter: "n".into(),
                max: MAX_PER_DAY,
            }),
            expires_at: Some(now + 2 * 86_400),
        },
        crate::kernel::audit::entry(handle, "import.started", target)?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TxConflict { index: 1, .. }) => Err(ImportError::AlreadyRunning),
        Err(StoreError::TxConflict { index: 2, .. }) => Err(ImportError::DailyLimit),
        Err(e) => Err(e.into()),
    }
}

/// The import, as stored. ONE read.
pub async fn get(store: &dyn Store, handle: &Handle, id: &ImportId) -> Result<Job, ImportError> {
    read(store, handle, id)
        .await?
        .map(|(job, _)| job)
        .ok_or_else(|| ImportError::NotFound(id.clone()))
}

/// The job and its version.
pub(crate) async fn read(
    store: &dyn Store,
    handle: &Handle,
    id: &ImportId,
) -> Result<Option<(Job, u64)>, StoreError> {
    let (pk, sk) = keys::import_job(handle, id.as_str());
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    Ok(Some((item.parse()?, item.version)))
}

/// The put of `job` at `version` under `cond`.
pub(crate) fn job_put(
    handle: &Handle,
    job: &Job,
    cond: Cond,
    version: u64,
) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::import_job(handle, job.import_id.as_str());
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, to_doc(job)?).with_version(version),
        cond,
    })
}

/// The release of the handle's running import (with the job's last write).
pub(crate) fn release(handle: &Handle) -> WriteOp {
    let (pk, sk) = keys::import_running(handle);
    WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    }
}

/// The file's rows, staged in chunks, and the rows refused.
fn read_file(
    source: Source,
    format: Format,
    text: &str,
) -> Result<(Vec<Chunk>, Vec<model::RowError>), ImportError> {
    match source {
        s if s.is_program() && format == Format::Json => {
            let p = programs::parse(s, text)?;
            // Partners first: a customer's or commission's partner is written before it.
            let mut chunks: Vec<Chunk> = p
                .partners
                .chunks(PROGRAM_CHUNK_ROWS)
                .map(|c| Chunk {
                    partners: c.to_vec(),
                    ..Chunk::default()
                })
                .collect();
            chunks.extend(p.customers.chunks(CHUNK_ROWS).map(|c| Chunk {
                customers: c.to_vec(),
                ..Chunk::default()
            }));
            chunks.extend(p.commissions.chunks(CHUNK_ROWS).map(|c| Chunk {
                commissions: c.to_vec(),
                ..Chunk::default()
            }));
            Ok((chunks, p.errors))
        }
        s if s.is_program() => Err(ImportError::Unreadable(format!(
            "The {} importer reads the tool's JSON lists (application/json).",
            s.as_str()
        ))),
        _ => {
            let p = links_sources::parse(source, format, text)?;
            Ok((chunked(p.rows), p.errors))
        }
    }
}

/// Rows in chunks of at most [`CHUNK_ROWS`] rows and about [`CHUNK_BYTES`].
fn chunked(rows: Vec<model::LinkRow>) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = Chunk::default();
    let mut bytes = 0;
    for row in rows {
        let size = serde_json::to_vec(&row).map_or(0, |v| v.len());
        if !current.rows.is_empty()
            && (current.rows.len() == CHUNK_ROWS || bytes + size > CHUNK_BYTES)
        {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.rows.push(row);
    }
    if !current.rows.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// `tenx import`: [`start`] as `actor`, then the whole import written here, chunk by chunk as
/// the worker does (its queued message, when a worker takes it, finds the job done). No body
/// limit: a file over the API's is read from disk.
#[tracing::instrument(skip_all, fields(handle = %handle, source = req.source.as_str()))]
pub async fn import_here(
    io: Io<'_>,
    handle: &Handle,
    req: Request<'_>,
    actor: crate::kernel::audit::Actor,
) -> Result<Job, ImportError> {
    let request_id = format!("cli_{}", ImportId::new().hex());
    let job = crate::kernel::audit::scope(actor, request_id, start(io, handle, req)).await?;
    // This process's own link cache: a server's cache forgets within its TTL.
    let cache: crate::kernel::state::LinkCache = moka::sync::Cache::new(1_000);
    run::run(io, &cache, handle, &job.import_id, usize::MAX).await?;
    get(io.store.as_ref(), handle, &job.import_id).await
}
