//! Imports of a file too large for a request (issue 64): `POST …/imports/uploads` answers a URL
//! that takes one PUT of the file ([`create`]: on AWS a presigned S3 PUT to the stack's uploads
//! bucket, locally a signed URL of the server itself); `POST …/imports?uploadId=…` starts the
//! import from it ([`start`]: the job is queued with the upload's key, nothing read yet); the
//! import worker then reads the file as a stream and stages it ([`stage_pending`], the same
//! reading as a request's body: [`super::stage_file`]) before writing its chunks as usual.
//!
//! An upload is `imports/{handle}/{uploadId}` in the uploads storage: the key is the handle's,
//! so another handle's upload id names no file of this handle. Uploads are deleted after a day
//! (the bucket's lifecycle rule; locally when the next upload is created).

use rand::RngCore;

use super::{ImportError, Options, launch, new_job, read, run};
use crate::domain::{Handle, ImportId};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, StoreError};
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
    let mut job = new_job(import_id.clone(), options);
    job.pending_upload = Some(super::model::PendingUpload {
        key,
        format: options.format,
    });
    let target = format!(
        "{import_id} ({}{}, from upload {upload_id})",
        options.source.as_str(),
        if options.dry_run { ", dry run" } else { "" },
    );
    launch(io, handle, job, &target).await
}

/// The worker's first step with an import of an upload: reads the file as a stream and stages
/// its chunks, then records them on the job (ONE version-checked put). A file that cannot be
/// read as its source's export fails the import, saying why; a storage failure is an error (the
/// message comes back and staging starts again: the chunks are put under the same keys).
pub async fn stage_pending(
    io: Io<'_>,
    uploads: Option<std::sync::Arc<dyn Uploads>>,
    handle: &Handle,
    id: &ImportId,
) -> Result<(), ImportError> {
    let store = io.store.as_ref();
    let Some((mut job, version)) = read(store, handle, id).await? else {
        return Ok(());
    };
    let Some(pending) = job.pending_upload.clone() else {
        return Ok(());
    };
    if job.status != super::model::Status::Running {
        return Ok(());
    }
    let Some(uploads) = uploads else {
        run::fail(store, handle, id, "This worker cannot read uploads.").await?;
        return Ok(());
    };
    let Some(reader) = uploads.open(&pending.key).await? else {
        let why = "The uploaded file is gone (uploads are kept a day): upload it again.";
        run::fail(store, handle, id, why).await?;
        return Ok(());
    };
    let options = Options {
        source: job.source,
        format: pending.format,
        dry_run: job.dry_run,
        on_conflict: job.on_conflict,
    };
    let staged = match super::stage_file(
        store,
        handle,
        id,
        options,
        opener(uploads, pending.key, reader),
    )
    .await
    {
        Ok(staged) => staged,
        Err(ImportError::Unreadable(why)) => {
            run::fail(store, handle, id, &why).await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    job.chunks = staged.chunks;
    staged.report(&mut job);
    job.pending_upload = None;
    match store
        .write(super::job_put(
            handle,
            &job,
            Cond::Version(version),
            version + 1,
        )?)
        .await
    {
        // Another worker staged it first (a redelivered message): the same chunks.
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
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
