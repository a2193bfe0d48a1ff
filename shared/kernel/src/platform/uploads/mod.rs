//! Where large files wait to be imported (issue 64): a client PUTs the file to a short-lived
//! URL ([`Uploads::presign_put`]), and the import worker reads it back as a stream
//! ([`Uploads::open`]). On AWS the stack's uploads bucket with an S3 presigned PUT
//! (`tenx-aws`'s `S3Uploads`, `aws-sdk-s3`'s presigning; the bucket's lifecycle rule deletes an upload
//! after a day); on a local server a directory of the data dir with a URL of the server itself
//! that takes the PUT ([`local::LocalUploads`]), so the flow is the same everywhere.

pub mod local;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// An upload's key is `imports/{handle}/{uploadId}`; a file is at most this large.
pub const MAX_UPLOAD_BYTES: u64 = 1024 * 1024 * 1024;

/// How long an upload URL takes a PUT.
pub const URL_TTL: Duration = Duration::from_secs(15 * 60);

/// Where and how to send the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedPut {
    pub url: String,
    /// Headers the PUT must carry as they are (signed with the URL).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("The uploads storage failed: {0}")]
    Unavailable(String),
}

/// A file read as a stream, on a blocking thread.
pub type Reader = Box<dyn Read + Send>;

#[async_trait]
pub trait Uploads: Send + Sync {
    /// A URL that takes one PUT of the file at `key` for [`URL_TTL`]; `origin` is the local
    /// server's own (`http://host:port`, from the request), which S3 has no use for.
    async fn presign_put(&self, key: &str, origin: &str) -> Result<PresignedPut, UploadError>;
    /// Whether the file at `key` was uploaded.
    async fn exists(&self, key: &str) -> Result<bool, UploadError>;
    /// The file at `key`, read as a stream (`None`: not there).
    async fn open(&self, key: &str) -> Result<Option<Reader>, UploadError>;
    /// Stores `bytes` at `key`: a file the service itself keeps (a claim's image, under
    /// `claims/`, which no lifecycle rule expires), written whole or not at all.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), UploadError>;
    /// A word for logs: `s3` or `local`.
    fn kind(&self) -> &'static str;
    /// The local engine, whose URL the server itself takes (`None`: S3's).
    fn local(&self) -> Option<&local::LocalUploads> {
        None
    }
}

/// `TENX_UPLOADS_BUCKET` (the stack's bucket) and, for an emulator, `TENX_UPLOADS_ENDPOINT`;
/// `region` is the process's `AWS_REGION` (Lambda sets it), which names the bucket's host.
#[derive(Clone, Debug, Default)]
pub struct UploadSettings {
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

impl UploadSettings {
    /// The origin a browser PUTs an upload to when it is not the server's own (the console's
    /// Content-Security-Policy allows it in `connect-src`): an emulator's endpoint (its URLs are
    /// path-style, so the host names no bucket), else the bucket's regional host, as the SDK
    /// presigns it (`https://{bucket}.s3.{region}.amazonaws.com`). `None` with no bucket (a
    /// local server's upload URL is its own) or no region (nothing can be presigned).
    pub fn browser_origin(&self) -> Option<String> {
        let bucket = self.bucket.as_deref()?;
        if let Some(endpoint) = &self.endpoint {
            let url = url::Url::parse(endpoint).ok()?;
            return Some(url.origin().ascii_serialization()).filter(|o| o != "null");
        }
        let region = self.region.as_deref()?;
        // Only names a header may carry: a bucket's and a region's are DNS labels.
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        (plain(bucket) && plain(region))
            .then(|| format!("https://{bucket}.s3.{region}.amazonaws.com"))
    }
}

/// S3's constructor (`tenx-aws`): the bucket and the endpoint.
pub type S3Engine = fn(String, Option<String>) -> Arc<dyn Uploads>;

/// The engine: the bucket when one is set (S3's, from `s3`: `None` refuses a bucket), else the
/// data dir's `uploads/` (the local server's data dir), else none (a process with neither takes
/// no uploads).
pub fn engine(
    settings: &UploadSettings,
    data_dir: Option<&std::path::Path>,
    s3: Option<S3Engine>,
) -> anyhow::Result<Option<Arc<dyn Uploads>>> {
    Ok(match (&settings.bucket, data_dir) {
        (Some(bucket), _) => {
            let s3 = s3.ok_or_else(|| {
                anyhow::anyhow!(
                    "TENX_UPLOADS_BUCKET names an S3 bucket, an AWS engine this process was \
                     built without"
                )
            })?;
            Some(s3(bucket.clone(), settings.endpoint.clone()))
        }
        (None, Some(dir)) => Some(Arc::new(local::LocalUploads::new(dir.join("uploads")))),
        (None, None) => None,
    })
}

/// A reader that fails past `max` bytes: an upload larger than [`MAX_UPLOAD_BYTES`] (which a
/// presigned S3 PUT cannot refuse) is refused when read.
pub struct Limited {
    inner: Reader,
    left: u64,
}

impl Limited {
    pub fn new(inner: Reader, max: u64) -> Self {
        Self { inner, left: max }
    }
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "the file is larger than {} MiB, the most an upload takes",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            ))
        })?;
        Ok(n)
    }
}
