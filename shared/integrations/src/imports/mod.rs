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
//! (`…#IMPC#{importId}`, 7 days; each deleted once written, as its rows may hold addresses), the handle's running import (`…#IMPRUN`: one at a time), its
//! daily count (`…#IMPDAY`), a pull's pages read (`…#IMPP#{importId}`, [`pulled`]), each
//! written row's marker (`…#IMPR#{importId}`) and an imported
//! link's history (`…#IMPL`: the source, tags and the old tool's click total, never a live
//! counter). Links and their aliases are written through `links`.
//!
//! Round trips: `start` ONE put per chunk, ONE transaction (job, running mark, daily count,
//! audit entry) and ONE enqueue; `get` ONE read; the worker per chunk ONE read of the job, ONE
//! of the chunk, per row ONE read of its marker and the link's write (`links::upsert`), ONE
//! version-checked put of the job (its cursor and counts) and ONE delete of the chunk.

pub mod bounded;
pub mod cells;
pub mod column_maps;
pub mod dashboard_csv;
pub mod decode;
pub mod dub_zip;
mod json_list;
pub mod keyrings;
pub mod links_sources;
pub mod model;
pub mod outcome;
pub mod program_links;
pub mod program_rows;
pub mod programs;
pub mod pull;
pub mod pulled;
pub mod raw_row;
pub mod run;
pub mod uploads;
pub mod worker;

use crate::domain::{Handle, ImportId};
use crate::kernel::io::Io;
use crate::platform::queue::{OutMessage, QueueError, QueueName};
use crate::platform::store::{Cond, CounterCap, Item, Store, StoreError, WriteOp, keys, to_doc};
use links_sources::{Format, Unreadable};
use model::{Chunk, Counts, Job, OnConflict, Source, Status};

/// The largest export a request takes: under API Gateway's and Lambda's 6 MB once a text body
/// is base64-encoded. Larger files go through `tenx import` or an upload ([`uploads`]).
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
    #[error("The upload {0} was not found.")]
    UploadNotFound(String),
    #[error("The file of upload {0} has not been uploaded yet: PUT it to the upload's URL first.")]
    NotUploaded(String),
    #[error("This server takes no uploads: import the file with `tenx import`.")]
    UploadsOff,
    #[error(transparent)]
    Uploads(#[from] crate::platform::uploads::UploadError),
    #[error(transparent)]
    Pull(pull::PullError),
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
    /// A manager's map of the CSV's columns (`source: csv`, a file of a tool 10x does not know).
    pub column_map: Option<dashboard_csv::ColumnMap>,
}

/// How to import a file read as a stream ([`start_reading`]).
#[derive(Clone, Debug)]
pub struct Options {
    pub source: Source,
    pub format: Format,
    pub dry_run: bool,
    pub on_conflict: OnConflict,
    pub column_map: Option<dashboard_csv::ColumnMap>,
}

impl Request<'_> {
    fn split(&self) -> (Options, Opener) {
        let options = Options {
            source: self.source,
            format: self.format,
            dry_run: self.dry_run,
            on_conflict: self.on_conflict,
            column_map: self.column_map.clone(),
        };
        (options, bytes_opener(self.body.to_vec()))
    }
}

/// A file being read (a request's body, a file on disk, an uploaded object), read on a
/// blocking thread.
pub type Reader = Box<dyn std::io::Read + Send>;

/// A file to import, opened on the reading thread, once for a link export and once per pass
/// for a program's (`programs::each_row`).
pub type Opener = Box<dyn FnMut() -> std::io::Result<Reader> + Send>;

/// A file held in memory (a request's body, at most [`MAX_BODY_BYTES`]).
pub fn bytes_opener(bytes: Vec<u8>) -> Opener {
    let bytes: std::sync::Arc<[u8]> = bytes.into();
    Box::new(move || Ok(Box::new(std::io::Cursor::new(bytes.clone())) as Reader))
}

/// A file on disk (`tenx import`), opened anew for each reading.
pub fn file_opener(path: std::path::PathBuf) -> Opener {
    Box::new(move || Ok(Box::new(std::fs::File::open(&path)?) as Reader))
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
    let (options, open) = req.split();
    start_reading(io, handle, options, open).await
}

/// [`start`] of a file read as a stream, row by row: staged a chunk at a time as its rows come
/// ([`stage_file`]), so the memory it takes does not grow with the file.
#[tracing::instrument(skip_all, fields(handle = %handle, source = options.source.as_str()))]
pub async fn start_reading(
    io: Io<'_>,
    handle: &Handle,
    options: Options,
    open: Opener,
) -> Result<Job, ImportError> {
    let store = io.store.as_ref();
    let import_id = ImportId::new();
    let mut job = new_job(import_id.clone(), &options);
    let (source, dry_run) = (options.source, options.dry_run);
    let staged = stage_whole(store, handle, &import_id, options, open).await?;
    job.chunks = staged.chunks;
    staged.report(&mut job);
    let target = format!(
        "{import_id} ({}{}, {} rows read, {} refused)",
        source.as_str(),
        if dry_run { ", dry run" } else { "" },
        staged.rows + staged.failed,
        staged.failed,
    );
    launch(io, handle, job, &target).await
}

/// A running job of nothing staged yet, started by the request's caller.
pub(crate) fn new_job(import_id: ImportId, options: &Options) -> Job {
    Job {
        import_id,
        source: options.source,
        status: Status::Running,
        dry_run: options.dry_run,
        on_conflict: options.on_conflict,
        counts: Counts::default(),
        errors: Vec::new(),
        notes: Vec::new(),
        notes_left_out: 0,
        chunks: 0,
        cursor: 0,
        actor: crate::kernel::audit::actor(),
        request_id: crate::kernel::audit::request_id(),
        created_at: crate::platform::time::timestamp(),
        finished_at: None,
        pending_upload: None,
        pending_pull: None,
    }
}

/// Begins `job` ([`begin`]: one at a time, the daily count, audited as `target`) and queues
/// it for the worker.
pub(crate) async fn launch(
    io: Io<'_>,
    handle: &Handle,
    job: Job,
    target: &str,
) -> Result<Job, ImportError> {
    let store = io.store.as_ref();
    let import_id = job.import_id.clone();
    begin(store, handle, &job, target).await?;
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

/// What a file's staging came to: its chunks, the rows in them, and the rows refused (the
/// first of them kept, as [`model::keep`] says).
#[derive(Debug, Default)]
pub struct Staged {
    pub chunks: u64,
    pub rows: u64,
    pub failed: u64,
    /// Rows read and left out by the reading itself (Dub's payouts: `dub_zip`).
    pub skipped: u64,
    pub errors: Vec<model::RowError>,
    /// The bytes `errors` take ([`model::keep`]).
    errors_bytes: usize,
}

impl Staged {
    fn refuse(&mut self, e: model::RowError) {
        self.failed += 1;
        model::keep(&mut self.errors, &mut self.errors_bytes, e);
    }

    /// The refused rows, on the job.
    pub fn report(&self, job: &mut Job) {
        job.counts.failed += self.failed;
        job.counts.skipped += self.skipped;
        job.refused(self.errors.iter().cloned());
    }
}

/// Rows in flight between the reading thread and the stager: the reader waits when the
/// stager is behind (the store), so memory stays bounded.
const ROWS_IN_FLIGHT: usize = 2 * CHUNK_ROWS;

/// Where a staging starts and when it stops. A request's file and `tenx import`'s are staged
/// whole ([`Whole`]); an upload's over as many invocations of the worker as it takes
/// (`uploads::stage_pending`), each reading the file again from its start: the chunking is
/// the same on every reading of the same file, so the chunks staged already are read again,
/// not put again.
#[async_trait::async_trait]
pub trait Checkpoint: Send {
    /// The file's first chunks, staged by an earlier reading.
    fn staged(&self) -> model::Mark;
    /// Called after each chunk put: `staged` are the chunks staged from the file's start,
    /// `put` of them by this reading. `false`: stop reading here (the checkpoint recorded how
    /// far it got).
    async fn after_put(&mut self, staged: model::Mark, put: u64) -> Result<bool, ImportError>;
}

/// A staging in one go: from the file's start, never stopped, nothing recorded.
pub struct Whole;

#[async_trait::async_trait]
impl Checkpoint for Whole {
    fn staged(&self) -> model::Mark {
        model::Mark::default()
    }

    async fn after_put(&mut self, _: model::Mark, _: u64) -> Result<bool, ImportError> {
        Ok(true)
    }
}

/// The digest of a file's chunks as they are staged: a later reading that comes to another
/// digest at the same chunk read another file (the upload was replaced meanwhile).
#[derive(Clone, Default)]
struct Digest(sha2::Sha256);

impl Digest {
    fn add(&mut self, chunk: &Chunk) -> Result<(), StoreError> {
        use sha2::Digest as _;
        self.0
            .update(serde_json::to_vec(chunk).map_err(|e| StoreError::Invalid(e.to_string()))?);
        Ok(())
    }

    fn mark(&self, chunks: u64) -> model::Mark {
        use sha2::Digest as _;
        model::Mark {
            chunks,
            digest: hex::encode(self.0.clone().finalize()),
        }
    }
}

fn file_changed() -> ImportError {
    ImportError::Unreadable(
        "The uploaded file changed while it was being imported: upload it again and start a new import."
            .into(),
    )
}

/// Where a reading of the file stopped.
#[derive(Debug)]
pub enum Reading {
    /// The whole file: every chunk staged, every refused row counted (once: only the reading
    /// that reaches the end reports them).
    Done(Staged),
    /// Stopped by its checkpoint before the end.
    Stopped,
}

/// [`stage_file`] of a file in one go.
async fn stage_whole(
    store: &dyn Store,
    handle: &Handle,
    import_id: &ImportId,
    options: Options,
    open: Opener,
) -> Result<Staged, ImportError> {
    match stage_file(store, handle, import_id, options, open, &mut Whole).await? {
        Reading::Done(staged) => Ok(staged),
        Reading::Stopped => Err(StoreError::Other("a whole staging stopped".into()).into()),
    }
}

/// Reads the file on a blocking thread, row by row, and puts its rows a chunk at a time as
/// they come (ONE put per chunk), from the chunk `checkpoint` says is not staged yet, until the
/// file ends or `checkpoint` stops it (its own writes: `uploads::stage_pending`'s). An export
/// is never held whole: the reader decodes a block at a time ([`decode::Utf8Reader`]) and
/// parses a row (a CSV record, a JSON list's item) at a time ([`links_sources::each_row`],
/// [`programs::each_row`]: a program's file in passes, one per kind of row, so its partners
/// are staged before the customers and commissions naming them).
pub async fn stage_file(
    store: &dyn Store,
    handle: &Handle,
    import_id: &ImportId,
    options: Options,
    open: Opener,
    checkpoint: &mut dyn Checkpoint,
) -> Result<Reading, ImportError> {
    let Options {
        source,
        format,
        column_map,
        ..
    } = options;
    readable_as(source, format)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(ROWS_IN_FLIGHT);
    let parser = spawn_reader(source, format, column_map, open, tx);
    let from = checkpoint.staged();
    let mut staged = Staged::default();
    let mut chunker = Chunker::default();
    let mut digest = Digest::default();
    let mut put = 0;
    while let Some(row) = rx.recv().await {
        match row {
            Staging::Refused(e) => staged.refuse(e),
            Staging::Skipped(n) => staged.skipped += n,
            row => {
                staged.rows += 1;
                let Some(full) = chunker.push(row) else {
                    continue;
                };
                let index = staged.chunks;
                staged.chunks += 1;
                digest.add(&full)?;
                if index < from.chunks {
                    if staged.chunks == from.chunks && digest.mark(from.chunks) != from {
                        return Err(file_changed());
                    }
                    continue; // staged by an earlier reading
                }
                put_chunk(store, handle, import_id, index, &full).await?;
                put += 1;
                if !checkpoint
                    .after_put(digest.mark(staged.chunks), put)
                    .await?
                {
                    // The reading thread stops at its next row (the channel is closed).
                    drop(rx);
                    let _ = parser.await;
                    return Ok(Reading::Stopped);
                }
            }
        }
    }
    parser
        .await
        .map_err(|e| StoreError::Other(format!("the import reader stopped: {e}")))??;
    if staged.chunks < from.chunks {
        return Err(file_changed());
    }
    if let Some(last) = chunker.finish() {
        put_chunk(store, handle, import_id, staged.chunks, &last).await?;
        staged.chunks += 1;
    }
    Ok(Reading::Done(staged))
}

/// Whether `source`'s importer reads `format`, or why not: a program's is JSON (Dub Partners'
/// also a zip of its CSVs), a zip is Dub Partners' alone.
fn readable_as(source: Source, format: Format) -> Result<(), ImportError> {
    match (source, format) {
        (Source::DubPartners, Format::Zip | Format::Json) => Ok(()),
        (_, Format::Zip) => Err(ImportError::Unreadable(links_sources::ZIP_ONLY.into())),
        (s, Format::Csv) if s.is_program() => Err(ImportError::Unreadable(format!(
            "The {} importer reads the tool's JSON lists (application/json){}.",
            s.as_str(),
            if s == Source::DubPartners {
                ", or Dub's partners, commissions and payouts CSVs in one zip (format=zip)"
            } else {
                ""
            }
        ))),
        _ => Ok(()),
    }
}

/// The reading thread: the file's rows, in order, sent to the stager; a closed channel (the
/// stager failed or stopped) stops the reading at its next row.
fn spawn_reader(
    source: Source,
    format: Format,
    column_map: Option<dashboard_csv::ColumnMap>,
    mut open: Opener,
    tx: tokio::sync::mpsc::Sender<Staging>,
) -> tokio::task::JoinHandle<Result<(), Unreadable>> {
    tokio::task::spawn_blocking(move || {
        if format == Format::Zip {
            return read_zip(open, &tx);
        }
        if source.is_program() {
            return programs::each_row(source, &mut open, &mut |row| {
                tx.blocking_send(Staging::from(row)).is_ok()
            });
        }
        let reader = decode::Utf8Reader::new(
            open().map_err(|e| Unreadable(format!("The file could not be read: {e}.")))?,
        )
        .map_err(|e| Unreadable(format!("The file could not be read: {e}.")))?;
        links_sources::each_row(source, format, column_map.as_ref(), reader, &mut |row| {
            let row = match row {
                Ok(row) => Staging::Link(row),
                Err(e) => Staging::Refused(e),
            };
            tx.blocking_send(row).is_ok()
        })
    })
}

/// Dub Partners' zip ([`dub_zip`]): its rows refused and payouts skipped there, then the
/// program it holds read as Dub's lists are, each refused row named by its file and line.
fn read_zip(mut open: Opener, tx: &tokio::sync::mpsc::Sender<Staging>) -> Result<(), Unreadable> {
    let file = open().map_err(|e| Unreadable(format!("The zip could not be read: {e}.")))?;
    let mut program = dub_zip::read(file)?;
    for e in &program.refused {
        if tx.blocking_send(Staging::Refused(e.clone())).is_err() {
            return Ok(());
        }
    }
    if tx.blocking_send(Staging::Skipped(program.skipped)).is_err() {
        return Ok(());
    }
    let mut lists = bytes_opener(std::mem::take(&mut program.json));
    programs::each_row(Source::DubPartners, &mut lists, &mut |row| {
        let row = match row {
            programs::ProgramRow::Refused(e) => Staging::Refused(program.locate(e)),
            row => Staging::from(row),
        };
        tx.blocking_send(row).is_ok()
    })
}

/// A row on its way to a chunk, or refused.
enum Staging {
    Link(model::LinkRow),
    Partner(model::PartnerRow),
    Customer(model::CustomerRow),
    Commission(model::CommissionRow),
    Refused(model::RowError),
    /// Rows read and left out (counted `skipped`).
    Skipped(u64),
}

impl From<programs::ProgramRow> for Staging {
    fn from(row: programs::ProgramRow) -> Self {
        use programs::ProgramRow as P;
        match row {
            P::Partner(p) => Staging::Partner(p),
            P::Customer(c) => Staging::Customer(c),
            P::Commission(c) => Staging::Commission(c),
            P::Refused(e) => Staging::Refused(e),
        }
    }
}

/// ONE put: chunk `index` of the import (kept [`CHUNK_TTL_SECS`]).
async fn put_chunk(
    store: &dyn Store,
    handle: &Handle,
    import_id: &ImportId,
    index: u64,
    chunk: &Chunk,
) -> Result<(), StoreError> {
    let expires = crate::platform::store::now_unix() + CHUNK_TTL_SECS;
    let (pk, sk) = keys::import_chunk(handle, import_id.as_str(), index);
    let item = Item::new(pk, sk, to_doc(chunk)?).expiring_at(Some(expires));
    crate::platform::store::put(store, item).await
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

/// Rows gathered in chunks of one kind each (links; or a program's partners, customers or
/// commissions, in that order), of at most [`CHUNK_ROWS`] rows ([`PROGRAM_CHUNK_ROWS`]
/// partners) and about [`CHUNK_BYTES`].
#[derive(Default)]
struct Chunker {
    current: Chunk,
    kind: u8,
    bytes: usize,
}

impl Chunker {
    /// Adds `row`; the chunk before it when it did not fit (or held another kind).
    fn push(&mut self, row: Staging) -> Option<Chunk> {
        let (kind, limit, size) = match &row {
            Staging::Link(r) => (0, CHUNK_ROWS, size_of(r)),
            Staging::Partner(r) => (1, PROGRAM_CHUNK_ROWS, size_of(r)),
            Staging::Customer(r) => (2, CHUNK_ROWS, size_of(r)),
            Staging::Commission(r) => (3, CHUNK_ROWS, size_of(r)),
            Staging::Refused(_) | Staging::Skipped(_) => return None,
        };
        let mut full = None;
        if !self.current.is_empty()
            && (self.kind != kind || self.current.len() == limit || self.bytes + size > CHUNK_BYTES)
        {
            full = Some(std::mem::take(&mut self.current));
            self.bytes = 0;
        }
        self.kind = kind;
        self.bytes += size;
        match row {
            Staging::Link(r) => self.current.rows.push(r),
            Staging::Partner(r) => self.current.partners.push(r),
            Staging::Customer(r) => self.current.customers.push(r),
            Staging::Commission(r) => self.current.commissions.push(r),
            Staging::Refused(_) | Staging::Skipped(_) => {}
        }
        full
    }

    fn finish(self) -> Option<Chunk> {
        (!self.current.is_empty()).then_some(self.current)
    }
}

fn size_of(row: &impl serde::Serialize) -> usize {
    serde_json::to_vec(row).map_or(0, |v| v.len())
}

/// `tenx import`: [`start_reading`] as `actor`, then the whole import written here, chunk by
/// chunk as the worker does (its queued message, when a worker takes it, finds the job done).
/// No body limit: the file is read from disk as a stream.
#[tracing::instrument(skip_all, fields(handle = %handle, source = options.source.as_str()))]
pub async fn import_here(
    io: Io<'_>,
    keys: keyrings::Keys<'_>,
    handle: &Handle,
    options: Options,
    open: Opener,
    actor: crate::kernel::audit::Actor,
) -> Result<Job, ImportError> {
    let request_id = format!("cli_{}", ImportId::new().hex());
    let job =
        crate::kernel::audit::scope(actor, request_id, start_reading(io, handle, options, open))
            .await?;
    // This process's own link cache: a server's cache forgets within its TTL.
    let cache: crate::kernel::state::LinkCache = moka::sync::Cache::new(1_000);
    run::run(io, &cache, keys, handle, &job.import_id, usize::MAX).await?;
    get(io.store.as_ref(), handle, &job.import_id).await
}
