//! A pull by API key as the imports worker's work, so a program of any size comes in (a request
//! ends at API Gateway's 29 s): the request checks the key with ONE request to the tool and
//! queues the import with the key sealed on its job ([`start`]); the worker reads the tool's
//! lists a few pages per invocation ([`step_pending`]), each page's items kept in pieces
//! (`…#IMPP#{importId}`) and the cursor reached recorded on the job by a version-checked put,
//! then joins the pages as the tool's file and stages it as an uploaded file is staged, in the
//! write that forgets the key. A step cut between its puts and its cursor write, or two steps
//! racing on one cursor, put the same pieces under the same numbers: the pages are read once
//! into the import whatever the cuts.

use super::model::{Job, PendingPull, PullCursor, Source, Status};
use super::pull::{self, Bases, Credentials, PullError};
use super::uploads::{Budget, Step};
use super::{ImportError, Options, job_put, launch, new_job, read, run};
use crate::domain::sealed::Keyring;
use crate::domain::{Handle, ImportId};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// What the manager asked: the tool, the key, and how to import what it holds.
pub struct PullRequest {
    pub tool: Source,
    pub credentials: Credentials,
    pub dry_run: bool,
    pub on_conflict: super::model::OnConflict,
}

/// The place a job's key is sealed for: it opens on this import of this handle only.
fn place(handle: &Handle, id: &ImportId) -> String {
    format!("import pull:{handle}:{id}")
}

/// Starts a pull: the key checked by the tool (ONE request, [`pull::check`]; a refused, limited
/// or incomplete key said in words before anything is written), then the job begun with the
/// key sealed on it and queued ([`launch`]). `keyring`: the one the worker opens it with.
#[tracing::instrument(skip_all, fields(handle = %handle, source = req.tool.as_str()))]
pub async fn start(
    io: Io<'_>,
    keyring: Option<&Keyring>,
    bases: &Bases<'_>,
    handle: &Handle,
    req: PullRequest,
) -> Result<Job, ImportError> {
    let keyring = keyring.ok_or_else(|| {
        PullError::Tool(
            "This server cannot keep an API key while its worker reads: export the lists and import the file instead."
                .into(),
        )
    })?;
    pull::check(req.tool, bases, &req.credentials).await?;
    let import_id = ImportId::new();
    let imported_as = pull::imported_as(req.tool);
    let options = Options {
        source: imported_as,
        format: super::links_sources::Format::Json,
        dry_run: req.dry_run,
        on_conflict: req.on_conflict,
        column_map: None,
    };
    let mut job = new_job(import_id.clone(), &options);
    job.pending_pull = Some(PendingPull {
        tool: req.tool,
        sealed: req
            .credentials
            .to_sealed(keyring, &place(handle, &import_id)),
        at: PullCursor::start(),
    });
    let target = format!(
        "{import_id} ({}{}, pulled from {} by API key)",
        imported_as.as_str(),
        if req.dry_run { ", dry run" } else { "" },
        req.tool.as_str(),
    );
    launch(io, handle, job, &target).await
}

/// A page's items are kept in pieces of about this many bytes (a store item holds 400 KB).
const PIECE_BYTES: usize = 300 * 1024;

/// The worker's first step with a pull: reads the tool's pages from the cursor on the job,
/// within `budget` (its time, and `budget.chunks` pages when set; at least one page), each
/// page's pieces put and the cursor after it recorded (ONE version-checked put a page); the
/// step that reads the last page joins them and stages the file ([`finish`]) unless it spent
/// half its time already (the next step does). A refused key, a tool's failure or a program
/// past [`pull::MAX_REQUESTS`] pages fails the import in words, forgetting the key. ONE read
/// of the job, and nothing more when the job is no pull.
#[tracing::instrument(skip_all, fields(handle = %handle, import_id = %id))]
pub async fn step_pending(
    io: Io<'_>,
    keyring: Option<&Keyring>,
    bases: &Bases<'_>,
    handle: &Handle,
    id: &ImportId,
    budget: Budget,
) -> Result<Step, ImportError> {
    let store = io.store.as_ref();
    let Some((job, version)) = read(store, handle, id).await? else {
        return Ok(Step::Ready);
    };
    let Some(pending) = job.pending_pull.clone() else {
        return Ok(Step::Ready);
    };
    if job.status != Status::Running {
        return Ok(Step::Ready);
    }
    let credentials =
        keyring.and_then(|k| Credentials::open(k, &place(handle, id), &pending.sealed));
    let Some(credentials) = credentials else {
        let why = "This worker cannot open the API key: start the pull again.";
        run::fail(store, handle, id, why).await?;
        return Ok(Step::Ready);
    };
    let mut reading = Reading {
        store,
        handle,
        job,
        version,
    };
    let started = std::time::Instant::now();
    let mut pages = 0u64;
    while let Some(at) = reading.at() {
        if pull::ended(pending.tool, &at) {
            if pages > 0 && started.elapsed() >= budget.time / 2 {
                return Ok(Step::Paused);
            }
            return finish(reading, pending.tool).await;
        }
        if pages > 0
            && (started.elapsed() >= budget.time || budget.chunks.is_some_and(|n| pages >= n))
        {
            tracing::info!(pages, "pull paused; it resumes in the next invocation");
            return Ok(Step::Paused);
        }
        let page = match pull::page(pending.tool, bases, &credentials, &at).await {
            Ok(page) => page,
            Err(e) => return stalled(&mut reading, at, e).await,
        };
        let mut next = page.next;
        match put_pieces(store, handle, id, at.pieces, page.list, page.items).await {
            Ok(n) => next.pieces = at.pieces + n,
            Err(ImportError::Unreadable(why)) => {
                run::fail(store, handle, id, &why).await?;
                return Ok(Step::Ready);
            }
            Err(e) => return Err(e),
        }
        if !reading.save(next).await? {
            return Ok(Step::Ready);
        }
        pages += 1;
    }
    Ok(Step::Ready)
}

/// Steps in a row a pull waits for a page the tool would not give (each step waits out its
/// `429`s first, `pull::page`) before it fails.
pub const STALLS: u32 = 5;

/// A page the tool would not give now: a key it limits, or a failure of its own, is asked
/// again by the next step (the message queued again, the stall counted on the job), up to
/// [`STALLS`] steps in a row; a refused key or a program past the pages a pull reads fails the
/// import at once, in words.
async fn stalled(
    reading: &mut Reading<'_>,
    at: PullCursor,
    e: PullError,
) -> Result<Step, ImportError> {
    let transient = matches!(e, PullError::Limited(_) | PullError::Tool(_));
    if transient && at.stalls + 1 < STALLS {
        tracing::info!(stalls = at.stalls + 1, error = %e, "pull stalled; the next step asks again");
        let next = PullCursor {
            stalls: at.stalls + 1,
            ..at
        };
        let pulling = reading.save(next).await?;
        return Ok(if pulling { Step::Paused } else { Step::Ready });
    }
    let id = reading.job.import_id.clone();
    run::fail(reading.store, reading.handle, &id, &e.to_string()).await?;
    Ok(Step::Ready)
}

/// ONE unconditional put per piece of a page's items, from piece `from`: the pieces it took.
/// An item past a piece's size alone fails the import: it would not fit a store item.
async fn put_pieces(
    store: &dyn Store,
    handle: &Handle,
    id: &ImportId,
    from: u64,
    list: &str,
    items: Vec<serde_json::Value>,
) -> Result<u64, ImportError> {
    let mut pieces: Vec<Vec<serde_json::Value>> = vec![Vec::new()];
    let mut bytes = 0;
    for item in items {
        let size = serde_json::to_vec(&item).map_or(0, |v| v.len());
        if size > PIECE_BYTES {
            return Err(ImportError::Unreadable(format!(
                "An item of the tool's list of {list} is larger than {} KB: export the lists and import the file instead.",
                PIECE_BYTES / 1024
            )));
        }
        if bytes + size > PIECE_BYTES {
            pieces.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(piece) = pieces.last_mut() {
            piece.push(item);
        }
    }
    let expires = crate::platform::store::now_unix() + super::CHUNK_TTL_SECS;
    for (n, items) in (from..).zip(&pieces) {
        let (pk, sk) = keys::import_pull_piece(handle, id.as_str(), n);
        let doc = to_doc(&serde_json::json!({ "list": list, "items": items }))?;
        let item = Item::new(pk, sk, doc).expiring_at(Some(expires));
        crate::platform::store::put(store, item).await?;
    }
    Ok(pieces.len() as u64)
}

/// A pull's job as this step last read or wrote it.
struct Reading<'a> {
    store: &'a dyn Store,
    handle: &'a Handle,
    job: Job,
    version: u64,
}

impl Reading<'_> {
    /// Where the pull stands (`None`: no longer pulling: read whole, or failed).
    fn at(&self) -> Option<PullCursor> {
        let pulling = self.job.status == Status::Running;
        pulling
            .then(|| self.job.pending_pull.as_ref().map(|p| p.at.clone()))
            .flatten()
    }

    /// Records `next` on the job (ONE version-checked put). When another step wrote the job
    /// first (a redelivered message), goes on from what stands now (the same pieces, put at
    /// the same numbers). `false`: no longer pulling.
    async fn save(&mut self, next: PullCursor) -> Result<bool, ImportError> {
        let mut job = self.job.clone();
        if let Some(pending) = job.pending_pull.as_mut() {
            pending.at = next;
        }
        let put = job_put(
            self.handle,
            &job,
            Cond::Version(self.version),
            self.version + 1,
        )?;
        match self.store.write(put).await {
            Ok(_) => {
                (self.job, self.version) = (job, self.version + 1);
                Ok(true)
            }
            Err(StoreError::ConditionFailed { .. }) => self.reload().await,
            Err(e) => Err(e.into()),
        }
    }

    /// The job as it stands now. `false`: no longer pulling.
    async fn reload(&mut self) -> Result<bool, ImportError> {
        let id = self.job.import_id.clone();
        let Some((job, version)) = read(self.store, self.handle, &id).await? else {
            return Ok(false);
        };
        (self.job, self.version) = (job, version);
        Ok(self.at().is_some())
    }
}

/// Every page read: its pieces joined as the tool's file (ONE read each), staged as a file is
/// ([`super::stage_whole`]), and the job's chunks and refused rows recorded in the
/// version-checked put that forgets the key; then the pieces deleted (they hold the tool's
/// addresses). A file the importer cannot read fails the import saying why.
async fn finish(mut reading: Reading<'_>, tool: Source) -> Result<Step, ImportError> {
    let (store, handle) = (reading.store, reading.handle);
    let id = reading.job.import_id.clone();
    let pieces = reading.at().map_or(0, |at| at.pieces);
    let mut pages = Vec::new();
    for n in 0..pieces {
        let (pk, sk) = keys::import_pull_piece(handle, id.as_str(), n);
        let item = store
            .get(&pk, &sk)
            .await?
            .ok_or_else(|| StoreError::Other(format!("piece {n} of pull {id} is missing")))?;
        let piece: Piece = item.parse()?;
        pages.push((piece.list, piece.items));
    }
    let file = match pull::joined(tool, pages) {
        Ok(file) => file,
        Err(e) => {
            run::fail(store, handle, &id, &e.to_string()).await?;
            return Ok(Step::Ready);
        }
    };
    let options = Options {
        source: reading.job.source,
        format: super::links_sources::Format::Json,
        dry_run: reading.job.dry_run,
        on_conflict: reading.job.on_conflict,
        column_map: None,
    };
    let opener = super::bytes_opener(file);
    let staged = match super::stage_whole(store, handle, &id, options, opener).await {
        Ok(staged) => staged,
        Err(ImportError::Unreadable(why)) => {
            run::fail(store, handle, &id, &why).await?;
            return Ok(Step::Ready);
        }
        Err(e) => return Err(e),
    };
    loop {
        let mut job = reading.job.clone();
        job.chunks = staged.chunks;
        staged.report(&mut job);
        job.pending_pull = None;
        let put = job_put(
            handle,
            &job,
            Cond::Version(reading.version),
            reading.version + 1,
        )?;
        match store.write(put).await {
            Ok(_) => break,
            // Another step recorded the same cursor, or staged it all first.
            Err(StoreError::ConditionFailed { .. }) => {
                if !reading.reload().await? {
                    return Ok(Step::Ready);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    for n in 0..pieces {
        let (pk, sk) = keys::import_pull_piece(handle, id.as_str(), n);
        let delete = WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        };
        // Left to expire with the chunks' TTL if the store says no now.
        let _ = store.write(delete).await;
    }
    Ok(Step::Ready)
}

/// A piece of a page's items, as kept.
#[derive(serde::Deserialize)]
struct Piece {
    list: String,
    items: Vec<serde_json::Value>,
}
