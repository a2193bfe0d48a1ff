//! Imports of a file too large for a request (issue 64): `POST …/imports/uploads` answers a URL
//! that takes one PUT of the file ([`create`]: on AWS a presigned S3 PUT to the stack's uploads
//! bucket, locally a signed URL of the server itself); `POST …/imports?uploadId=…` starts the
//! import from it ([`start`]: the job is queued with the upload's key, nothing read yet); the
//! import worker then reads the file as a stream and stages it ([`stage_pending`], the same
//! reading as a request's body: [`super::stage_file`]) before writing its chunks as usual. A
//! large file is staged over several invocations of the worker, each within its [`Budget`],
//! each resuming at the chunk the one before recorded on the job.
//!
//! An upload is `imports/{handle}/{uploadId}` in the uploads storage: the key is the handle's,
//! so another handle's upload id names no file of this handle. Uploads are deleted after a day
//! (the bucket's lifecycle rule; locally when the next upload is created).

use rand::RngCore;

use super::model::{Job, Mark};
use super::{ImportError, Options, Reading, Staged, job_put, launch, new_job, read, run};
use crate::domain::{Handle, ImportId};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Store, StoreError};
use crate::platform::uploads::{PresignedPut, Uploads};

/// What `POST …/imports/uploads` answers.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub upload_id: String,
    /// PUT the file here, with [`Self::headers`], before [`Self::expires_at`].
    pub url: String,
    pub method: &'static str,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: crate::domain::time::Timestamp,
    pub max_bytes: u64,
}

/// `upl_` and 32 hex digits.
pub fn parse_id(raw: &str) -> Option<&str> {
    let hex = raw.strip_prefix("upl_")?;
    (hex.len() == 32
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then_some(raw)
}

/// The upload's key in the uploads storage.
pub fn key(handle: &Handle, upload_id: &str) -> String {
    format!("imports/{handle}/{upload_id}")
}

/// A new upload of `handle` and the URL that takes its file. No store write: the key is all.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    uploads: Option<&dyn Uploads>,
    handle: &Handle,
    origin: &str,
) -> Result<Created, ImportError> {
    let uploads = uploads.ok_or(ImportError::UploadsOff)?;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let upload_id = format!("upl_{}", hex::encode(bytes));
    let PresignedPut { url, headers } = uploads
        .presign_put(&key(handle, &upload_id), origin)
        .await?;
    let expires = crate::platform::store::now_unix()
        + crate::domain::time::secs(crate::platform::uploads::URL_TTL);
    Ok(Created {
        upload_id,
        url,
        method: "PUT",
        headers: headers.into_iter().collect(),
        expires_at: crate::domain::time::Timestamp::from_unix(expires),
        max_bytes: crate::platform::uploads::MAX_UPLOAD_BYTES,
    })
}

/// Starts the import of the uploaded file: ONE existence check of the file, then as
/// [`super::start_reading`] with nothing staged (the worker reads the file).
#[tracing::instrument(skip_all, fields(handle = %handle, source = options.source.as_str()))]
pub async fn start(
    io: Io<'_>,
    uploads: Option<&dyn Uploads>,
    handle: &Handle,
    upload_id: &str,
    options: Options,
) -> Result<super::Job, ImportError> {
    let uploads = uploads.ok_or(ImportError::UploadsOff)?;
    let upload_id =
        parse_id(upload_id).ok_or_else(|| ImportError::UploadNotFound(upload_id.to_owned()))?;
    let key = key(handle, upload_id);
    if !uploads.exists(&key).await? {
        return Err(ImportError::NotUploaded(upload_id.to_owned()));
    }
    let import_id = ImportId::new();
    let mut job = new_job(import_id.clone(), &options);
    job.pending_upload = Some(super::model::PendingUpload {
        key,
        format: options.format,
        staged: Mark::default(),
        column_map: options.column_map.clone(),
    });
    let target = format!(
        "{import_id} ({}{}, from upload {upload_id})",
        options.source.as_str(),
        if options.dry_run { ", dry run" } else { "" },
    );
    launch(io, handle, job, &target).await
}

/// How much of an upload one invocation of the worker stages before it records how far it got
/// and the import is queued again (`TENX_IMPORT_STAGING_SECS`, `TENX_IMPORT_STAGING_CHUNKS`):
/// well under the worker's timeout (120 s on Lambda), so a file of any size is staged over as
/// many invocations as it takes.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub time: std::time::Duration,
    /// At most this many chunks put (or pages of a pull read: `super::pulled`) per invocation
    /// (`None`: the time alone).
    pub chunks: Option<u64>,
}

impl Budget {
    pub fn of(config: &crate::platform::config::Config) -> Self {
        Self {
            time: config.import_staging_time,
            chunks: config.import_staging_chunks,
        }
    }
}

/// Where the worker's staging step left an import.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing (left) to stage: its chunks are the worker's to write.
    Ready,
    /// The budget was spent before the file's end, its progress recorded: queue it again.
    Paused,
}

/// How often a staging records its progress between its stops: a worker killed mid-way
/// stages again at most this much.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The worker's first step with an import of an upload: reads the file as a stream and stages
/// its chunks from the first one not staged yet, for at most `budget` (at least one chunk, so
/// every invocation gets on), recording how far it got on the job (ONE version-checked put
/// every [`SAVE_EVERY`] and at the stop); the invocation that reaches the file's end records
/// the chunks and the refused rows of the whole file (ONE version-checked put). A file that
/// cannot be read as its source's export fails the import, saying why; a storage failure is an
/// error (the message comes back and staging resumes from the last progress recorded: the
/// chunks are put under the same keys, the same on every reading). ONE read of the job.
#[tracing::instrument(skip_all, fields(handle = %handle, import_id = %id))]
pub async fn stage_pending(
    io: Io<'_>,
    uploads: Option<std::sync::Arc<dyn Uploads>>,
    handle: &Handle,
    id: &ImportId,
    budget: Budget,
) -> Result<Step, ImportError> {
    let store = io.store.as_ref();
    let Some((job, version)) = read(store, handle, id).await? else {
        return Ok(Step::Ready);
    };
    let Some(pending) = job.pending_upload.clone() else {
        return Ok(Step::Ready);
    };
    if job.status != super::model::Status::Running {
        return Ok(Step::Ready);
    }
    let Some(uploads) = uploads else {
        run::fail(store, handle, id, "This worker cannot read uploads.").await?;
        return Ok(Step::Ready);
    };
    let Some(reader) = uploads.open(&pending.key).await? else {
        let why = "The uploaded file is gone (uploads are kept a day): upload it again.";
        run::fail(store, handle, id, why).await?;
        return Ok(Step::Ready);
    };
    let options = Options {
        source: job.source,
        format: pending.format,
        dry_run: job.dry_run,
        on_conflict: job.on_conflict,
        column_map: pending.column_map.clone(),
    };
    let mut progress = Progress::new(store, handle, job, version, budget);
    let open = opener(uploads, pending.key, reader);
    match super::stage_file(store, handle, id, options, open, &mut progress).await {
        Ok(Reading::Done(staged)) => {
            progress.finish(&staged).await?;
            Ok(Step::Ready)
        }
        // Stopped by its budget (paused) or because another worker took it further.
        Ok(Reading::Stopped) if progress.paused => Ok(Step::Paused),
        Ok(Reading::Stopped) => Ok(Step::Ready),
        Err(ImportError::Unreadable(why)) => {
            run::fail(store, handle, id, &why).await?;
            Ok(Step::Ready)
        }
        Err(e) => Err(e),
    }
}

/// An upload's staging, recorded on its job as it goes.
struct Progress<'a> {
    store: &'a dyn Store,
    handle: &'a Handle,
    job: Job,
    version: u64,
    budget: Budget,
    started: std::time::Instant,
    saved: std::time::Instant,
    /// Stopped by the budget (rather than by another worker's progress).
    paused: bool,
}

impl<'a> Progress<'a> {
    fn new(
        store: &'a dyn Store,
        handle: &'a Handle,
        job: Job,
        version: u64,
        budget: Budget,
    ) -> Self {
        let now = std::time::Instant::now();
        Self {
            store,
            handle,
            job,
            version,
            budget,
            started: now,
            saved: now,
            paused: false,
        }
    }

    fn spent(&self, put: u64) -> bool {
        self.started.elapsed() >= self.budget.time
            || self.budget.chunks.is_some_and(|max| put >= max)
    }

    /// Records `mark` on the job unless it records as much already. `false`: the job is no
    /// longer this staging's (staged by another worker, finished or failed).
    async fn save(&mut self, mark: Mark) -> Result<bool, ImportError> {
        loop {
            let Some(pending) = self.job.pending_upload.as_mut() else {
                return Ok(false);
            };
            if pending.staged.chunks >= mark.chunks {
                return Ok(true);
            }
            pending.staged = mark.clone();
            let put = job_put(
                self.handle,
                &self.job,
                Cond::Version(self.version),
                self.version + 1,
            )?;
            match self.store.write(put).await {
                Ok(_) => {
                    self.version += 1;
                    self.saved = std::time::Instant::now();
                    return Ok(true);
                }
                // Another worker wrote the job (a redelivered message): the chunks it put are
                // the same; go on from what stands now.
                Err(StoreError::ConditionFailed { .. }) => {
                    if !self.reload().await? {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The job as it stands now. `false`: nothing left to stage.
    async fn reload(&mut self) -> Result<bool, ImportError> {
        let Some((job, version)) = read(self.store, self.handle, &self.job.import_id).await? else {
            return Ok(false);
        };
        let staging = job.status == super::model::Status::Running && job.pending_upload.is_some();
        (self.job, self.version) = (job, version);
        Ok(staging)
    }

    /// The whole file staged: its chunks and refused rows on the job, which leaves staging.
    async fn finish(mut self, staged: &Staged) -> Result<(), ImportError> {
        loop {
            let mut job = self.job.clone();
            job.chunks = staged.chunks;
            staged.report(&mut job);
            job.pending_upload = None;
            let put = job_put(
                self.handle,
                &job,
                Cond::Version(self.version),
                self.version + 1,
            )?;
            match self.store.write(put).await {
                Ok(_) => return Ok(()),
                // Another worker recorded progress, or staged it all first (the same chunks).
                Err(StoreError::ConditionFailed { .. }) => {
                    if !self.reload().await? {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[async_trait::async_trait]
impl super::Checkpoint for Progress<'_> {
    fn staged(&self) -> Mark {
        self.job
            .pending_upload
            .as_ref()
            .map(|p| p.staged.clone())
            .unwrap_or_default()
    }

    async fn after_put(&mut self, mark: Mark, put: u64) -> Result<bool, ImportError> {
        let spent = self.spent(put);
        if !spent && self.saved.elapsed() < SAVE_EVERY {
            return Ok(true);
        }
        let chunks = mark.chunks;
        if !self.save(mark).await? {
            return Ok(false);
        }
        if spent {
            tracing::info!(
                chunks,
                put,
                "upload staging paused; it resumes in the next invocation"
            );
            self.paused = true;
        }
        Ok(!spent)
    }
}

/// The uploaded file for the reading thread: `first` (opened already, to tell a missing file
/// from a readable one), then opened anew for each further pass (a program's export), each
/// limited to [`crate::platform::uploads::MAX_UPLOAD_BYTES`].
fn opener(
    uploads: std::sync::Arc<dyn Uploads>,
    key: String,
    first: super::Reader,
) -> super::Opener {
    use crate::platform::uploads::{Limited, MAX_UPLOAD_BYTES};
    let runtime = tokio::runtime::Handle::current();
    let mut first = Some(first);
    Box::new(move || {
        let reader = match first.take() {
            Some(reader) => reader,
            // On the reading thread (a blocking one): the open waits on the runtime.
            None => runtime
                .block_on(uploads.open(&key))
                .map_err(std::io::Error::other)?
                .ok_or_else(|| std::io::Error::other("the uploaded file is gone"))?,
        };
        Ok(Box::new(Limited::new(reader, MAX_UPLOAD_BYTES)) as super::Reader)
    })
}
