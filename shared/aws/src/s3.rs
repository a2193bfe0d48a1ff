//! The stack's uploads bucket: a presigned `PutObject` URL (the SDK's presigning, SigV4 in the
//! query string) and a streamed `GetObject`, read on the import worker's blocking thread
//! through tokio-util's `SyncIoBridge`.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use tokio::sync::OnceCell;

use tenx_kernel::platform::uploads::{PresignedPut, Reader, URL_TTL, UploadError, Uploads};

pub struct S3Uploads {
    bucket: String,
    endpoint: Option<String>,
    client: OnceCell<Client>,
}

impl S3Uploads {
    pub fn new(bucket: String, endpoint: Option<String>) -> Self {
        Self {
            bucket,
            endpoint,
            client: OnceCell::new(),
        }
    }

    /// Built on first use (a function that takes no upload never loads it). An emulator's
    /// endpoint (moto) is addressed by path: its host names no bucket.
    pub async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                let shared = loader.load().await;
                let path_style = shared.endpoint_url().is_some();
                let config = aws_sdk_s3::config::Builder::from(&shared)
                    .force_path_style(path_style)
                    .build();
                Client::from_conf(config)
            })
            .await
    }
}

impl S3Uploads {
    /// Creates the bucket when it does not exist (the tests' emulator; the stack's is
    /// `template.yaml`'s `UploadsBucket`).
    pub async fn ensure_bucket(&self) -> Result<(), UploadError> {
        let created = self
            .client()
            .await
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> UploadError {
    UploadError::Unavailable(e.to_string())
}

#[async_trait]
impl Uploads for S3Uploads {
    async fn presign_put(&self, key: &str, _origin: &str) -> Result<PresignedPut, UploadError> {
        let presigning = PresigningConfig::expires_in(URL_TTL).map_err(unavailable)?;
        let request = self
            .client()
            .await
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(PresignedPut {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }

    async fn exists(&self, key: &str) -> Result<bool, UploadError> {
        let head = self
            .client()
            .await
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match head {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found,
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    async fn open(&self, key: &str) -> Result<Option<Reader>, UploadError> {
        let got = self
            .client()
            .await
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let object = match got {
            Ok(object) => object,
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        };
        // The body as it arrives; the bridge blocks the reading thread on this runtime.
        let body = Box::pin(object.body.into_async_read());
        Ok(Some(Box::new(tokio_util::io::SyncIoBridge::new(body))))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), UploadError> {
        self.client()
            .await
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "s3"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenx_kernel::platform::uploads::UploadSettings;

    /// A client built offline (presigning needs no network): a region and made-up keys.
    fn offline(region: &str) -> S3Uploads {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .build();
        S3Uploads {
            bucket: "acme-uploads-1a2b".into(),
            endpoint: None,
            client: OnceCell::new_with(Some(Client::from_conf(config))),
        }
    }

    /// The console's Content-Security-Policy allows the origin the browser PUTs to: the one
    /// [`UploadSettings::browser_origin`] names must be the presigned URL's own.
    #[tokio::test]
    async fn the_browser_origin_is_the_presigned_urls() {
        for region in ["eu-west-1", "us-east-1"] {
            let s3 = offline(region);
            let put = s3.presign_put("imports/acme/upl_x", "").await.unwrap();
            let url = url::Url::parse(&put.url).unwrap();
            let settings = UploadSettings {
                bucket: Some(s3.bucket.clone()),
                endpoint: None,
                region: Some(region.into()),
            };
            assert_eq!(
                settings.browser_origin().as_deref(),
                Some(url.origin().ascii_serialization().as_str()),
                "{}",
                put.url
            );
        }
    }

    #[test]
    fn an_emulators_origin_is_its_endpoints_and_nothing_without_a_bucket() {
        let mut settings = UploadSettings {
            bucket: Some("b".into()),
            endpoint: Some("http://127.0.0.1:5000/".into()),
            region: Some("eu-west-1".into()),
        };
        assert_eq!(
            settings.browser_origin().as_deref(),
            Some("http://127.0.0.1:5000")
        );
        settings.endpoint = None;
        settings.region = Some("eu west; script-src *".into());
        assert_eq!(settings.browser_origin(), None, "no header injection");
        settings.region = None;
        assert_eq!(settings.browser_origin(), None);
        settings.bucket = None;
        settings.region = Some("eu-west-1".into());
        assert_eq!(settings.browser_origin(), None);
    }
}
