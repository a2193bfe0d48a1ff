//! The engines that live above the kernel, handed in by whoever builds a process's state: the
//! kernel builds the local engines itself (Maildir, SMTP, the data dir's uploads) and names no
//! AWS engine; `tenx-aws` supplies SES, S3 and the two AWS edges (`tenx_aws::ENGINES`).

use std::sync::Arc;

use super::config::Config;
use super::edge::{AlbEngine, CloudFrontEngine, Edge};
use super::mail::{Mailer, SesEngine};
use super::uploads::{S3Engine, Uploads};

/// The remote engines' constructors; `None`: this process has no such engine, and settings
/// that name it are refused when its state is built ([`Engines::LOCAL`] has none).
#[derive(Clone, Copy)]
pub struct Engines {
    /// Amazon SES (`TENX_MAIL_URL=ses:`, the default without a data dir).
    pub ses: Option<SesEngine>,
    /// The uploads bucket (`TENX_UPLOADS_BUCKET`).
    pub s3: Option<S3Engine>,
    /// ACM and CloudFront (`TENX_EDGE_DISTRIBUTION_ID`).
    pub cloudfront: Option<CloudFrontEngine>,
    /// ACM and the load balancer (`TENX_EDGE_LISTENER_ARN`).
    pub alb: Option<AlbEngine>,
}

/// The engines a process's settings name, built.
pub struct Chosen {
    pub mailer: Arc<dyn Mailer>,
    pub uploads: Option<Arc<dyn Uploads>>,
    pub edge: Option<Arc<dyn Edge>>,
}

impl Engines {
    /// The kernel's own engines only.
    pub const LOCAL: Self = Self {
        ses: None,
        s3: None,
        cloudfront: None,
        alb: None,
    };

    /// The mail, uploads and edge engines `config` names, or why one cannot be built.
    pub fn build(&self, config: &Config) -> anyhow::Result<Chosen> {
        Ok(Chosen {
            mailer: super::mail::engine(&config.mail, self.ses)?,
            uploads: super::uploads::engine(
                &config.uploads,
                config.mail.data_dir.as_deref(),
                self.s3,
            )?,
            edge: super::edge::engine(&config.edge, self.cloudfront, self.alb)?,
        })
    }
}
#[cfg(test)]
mod tests {
    use crate::platform::edge::{EdgeSettings, Listener};
    use crate::platform::mail::{MailSettings, MailUrl};
    use crate::platform::uploads::UploadSettings;

    /// Settings naming an AWS engine in a process without it fail to build, in words, rather
    /// than running without mail, uploads or an edge.
    #[test]
    fn settings_naming_an_absent_aws_engine_are_refused() {
        let mail = MailSettings {
            url: Some(MailUrl::Ses { endpoint: None }),
            ..MailSettings::default()
        };
        let refused = crate::platform::mail::engine(&mail, None).err();
        assert!(refused.is_some_and(|e| e.to_string().contains("TENX_MAIL_URL")));
        let uploads = UploadSettings {
            bucket: Some("b".into()),
            ..UploadSettings::default()
        };
        let refused = crate::platform::uploads::engine(&uploads, None, None).err();
        assert!(refused.is_some_and(|e| e.to_string().contains("TENX_UPLOADS_BUCKET")));
        let edge = EdgeSettings {
            distribution_id: Some("E1".into()),
            ..EdgeSettings::default()
        };
        let refused = crate::platform::edge::engine(&edge, None, None).err();
        assert!(refused.is_some_and(|e| e.to_string().contains("TENX_EDGE_DISTRIBUTION_ID")));
        let edge = EdgeSettings {
            listener: Some(Listener {
                arn: "arn".into(),
                host: "lb.example".into(),
            }),
            ..EdgeSettings::default()
        };
        let refused = crate::platform::edge::engine(&edge, None, None).err();
        assert!(refused.is_some_and(|e| e.to_string().contains("TENX_EDGE_LISTENER_ARN")));
    }

    /// The kernel's own engines need nothing handed in: a Maildir, the data dir's uploads, no
    /// edge.
    #[test]
    fn local_settings_build_the_kernels_own_engines() {
        let dir = std::env::temp_dir();
        let mail = MailSettings {
            url: Some(MailUrl::Maildir(dir.clone())),
            ..MailSettings::default()
        };
        let mailer = crate::platform::mail::engine(&mail, None).unwrap();
        assert_eq!(mailer.name(), "maildir");
        let uploads =
            crate::platform::uploads::engine(&UploadSettings::default(), Some(&dir), None).unwrap();
        assert_eq!(uploads.map(|u| u.kind()), Some("local"));
        let edge = crate::platform::edge::engine(&EdgeSettings::default(), None, None);
        assert!(edge.unwrap().is_none());
    }
}
