//! A local server's uploads: files under the data dir's `uploads/`, PUT to the server itself
//! at `/v2/uploads/{key}?expires=…&signature=…`, the URL signed with HMAC-SHA256 by a key this
//! process draws at start (a URL outlives no restart, as it outlives no 15 minutes). The
//! signature is checked in constant time (`hmac`'s `verify_slice`); the body is streamed to a
//! temporary file and renamed into place, so a half-written file is never read.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::{PresignedPut, Reader, URL_TTL, UploadError, Uploads};

pub struct LocalUploads {
    dir: PathBuf,
    key: [u8; 32],
}

/// Why a PUT is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PutRefused {
    #[error("This upload link is not valid: ask for a new one.")]
    BadSignature,
    #[error("This upload link has expired: ask for a new one.")]
    Expired,
}

impl LocalUploads {
    pub fn new(dir: PathBuf) -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { dir, key }
    }

    fn mac(&self, key: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// Checks a PUT's signature and expiry (`now`: unix seconds).
    pub fn check(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), PutRefused> {
        let given = hex::decode(signature).map_err(|_| PutRefused::BadSignature)?;
        self.mac(key, expires)
            .verify_slice(&given)
            .map_err(|_| PutRefused::BadSignature)?;
        if now > expires {
            return Err(PutRefused::Expired);
        }
        Ok(())
    }

    /// Where the file at `key` lives (keys are the service's own: `imports/{handle}/{id}`).
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    /// A writer of the file at `key`: a temporary file, put in place by [`Self::commit`].
    pub async fn create(&self, key: &str) -> std::io::Result<(tokio::fs::File, PathBuf)> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let tmp = path.with_extension(format!("part-{}", rand::rngs::OsRng.next_u64()));
        Ok((tokio::fs::File::create(&tmp).await?, tmp))
    }

    /// Puts a written temporary file in place.
    pub async fn commit(&self, tmp: &Path, key: &str) -> std::io::Result<()> {
        tokio::fs::rename(tmp, self.path(key)).await
    }
}

#[async_trait]
impl Uploads for LocalUploads {
    async fn presign_put(&self, key: &str, origin: &str) -> Result<PresignedPut, UploadError> {
        let expires = crate::platform::store::now_unix() + crate::domain::time::secs(URL_TTL);
        let signature = hex::encode(self.mac(key, expires).finalize().into_bytes());
        Ok(PresignedPut {
            url: format!("{origin}/v2/uploads/{key}?expires={expires}&signature={signature}"),
            headers: vec![],
        })
    }

    async fn exists(&self, key: &str) -> Result<bool, UploadError> {
        tokio::fs::try_exists(self.path(key))
            .await
            .map_err(|e| UploadError::Unavailable(e.to_string()))
    }

    async fn open(&self, key: &str) -> Result<Option<Reader>, UploadError> {
        match std::fs::File::open(self.path(key)) {
            Ok(file) => Ok(Some(Box::new(file))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(UploadError::Unavailable(e.to_string())),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), UploadError> {
        use tokio::io::AsyncWriteExt;
        let failed = |e: std::io::Error| UploadError::Unavailable(e.to_string());
        let (mut file, tmp) = self.create(key).await.map_err(failed)?;
        file.write_all(&bytes).await.map_err(failed)?;
        file.sync_all().await.map_err(failed)?;
        self.commit(&tmp, key).await.map_err(failed)
    }

    fn kind(&self) -> &'static str {
        "local"
    }

    fn local(&self) -> Option<&LocalUploads> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_checked_by_its_signature_and_expiry() {
        let uploads = LocalUploads::new(PathBuf::from("/nonexistent"));
        let key = "imports/acme/upl_1";
        let sig = hex::encode(uploads.mac(key, 100).finalize().into_bytes());
        assert_eq!(uploads.check(key, 100, &sig, 99), Ok(()));
        assert_eq!(uploads.check(key, 100, &sig, 101), Err(PutRefused::Expired));
        // Another key, another expiry, another process's key, or not hex: refused.
        assert_eq!(
            uploads.check("imports/acme/upl_2", 100, &sig, 99),
            Err(PutRefused::BadSignature)
        );
        assert_eq!(
            uploads.check(key, 200, &sig, 99),
            Err(PutRefused::BadSignature)
        );
        let other = LocalUploads::new(PathBuf::from("/nonexistent"));
        assert_eq!(
            other.check(key, 100, &sig, 99),
            Err(PutRefused::BadSignature)
        );
        assert_eq!(
            uploads.check(key, 100, "zz", 99),
            Err(PutRefused::BadSignature)
        );
    }
}
