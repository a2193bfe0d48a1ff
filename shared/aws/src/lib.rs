//! 10x attribution, the AWS engines of the kernel's seams: the store on DynamoDB (`dynamo`), the
//! queue on SQS (`sqs`), the click stream on Kinesis (`kinesis`), mail through SES v2 (`ses`),
//! uploads in S3 (`s3`), and the custom domains' edge on ACM with CloudFront (`cloudfront`) or
//! with the load balancer's listener (`alb`); with the lazily built SDK clients (`client`) and
//! the classification of failed calls (`errors`). The seams, their local engines and the
//! settings stay in `tenx-kernel`; only the top crate (`tenx-shared`'s runtime: the local server
//! and the Lambda wiring) depends on this one, and hands [`ENGINES`] to the state it builds.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

use std::sync::Arc;

use tenx_kernel::kernel::state::AppState;
use tenx_kernel::platform::config::{Config, Secrets};
use tenx_kernel::platform::edge::{Edge, Listener};
use tenx_kernel::platform::engines::Engines;
use tenx_kernel::platform::mail::Mailer;
use tenx_kernel::platform::queue::Queue;
use tenx_kernel::platform::store::Store;
use tenx_kernel::platform::uploads::Uploads;

pub mod alb;
pub mod client;
pub mod cloudfront;
pub mod dynamo;
pub mod errors;
pub mod kinesis;
pub mod s3;
pub mod ses;
pub mod sqs;

/// The engines the settings may name beyond the kernel's own: SES, S3 and the two edges.
pub const ENGINES: Engines = Engines {
    ses: Some(ses_engine),
    s3: Some(s3_engine),
    cloudfront: Some(cloudfront_engine),
    alb: Some(alb_engine),
};

/// A process's state with every engine its settings may name ([`AppState::with_engines`]).
pub fn app_state(
    config: Config,
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    needed: Secrets,
) -> anyhow::Result<AppState> {
    AppState::with_engines(config, store, queue, needed, &ENGINES)
}

fn ses_engine(endpoint: Option<String>, configuration_set: Option<String>) -> Arc<dyn Mailer> {
    Arc::new(ses::Ses::new(endpoint, configuration_set))
}

fn s3_engine(bucket: String, endpoint: Option<String>) -> Arc<dyn Uploads> {
    Arc::new(s3::S3Uploads::new(bucket, endpoint))
}

fn cloudfront_engine(distribution_id: String, endpoint: Option<String>) -> Arc<dyn Edge> {
    Arc::new(cloudfront::AwsEdge::new(distribution_id, endpoint))
}

fn alb_engine(listener: &Listener, endpoint: Option<String>) -> Arc<dyn Edge> {
    Arc::new(alb::AlbEdge::new(
        listener.arn.clone(),
        listener.host.clone(),
        endpoint,
    ))
}

#[cfg(test)]
mod tests {
    use tenx_kernel::platform::edge::EdgeSettings;
    use tenx_kernel::platform::mail::{MailSettings, MailUrl};
    use tenx_kernel::platform::uploads::UploadSettings;

    use super::*;

    /// Settings naming SES, a bucket or an edge get this crate's engines (built offline: no
    /// client is made before the first call).
    #[test]
    fn the_settings_name_the_aws_engines() {
        let mail = MailSettings {
            url: Some(MailUrl::Ses { endpoint: None }),
            ..MailSettings::default()
        };
        let mailer = tenx_kernel::platform::mail::engine(&mail, ENGINES.ses).unwrap();
        assert_eq!(mailer.name(), "ses");
        let uploads = UploadSettings {
            bucket: Some("b".into()),
            ..UploadSettings::default()
        };
        let uploads = tenx_kernel::platform::uploads::engine(&uploads, None, ENGINES.s3).unwrap();
        assert_eq!(uploads.map(|u| u.kind()), Some("s3"));
        for edge in [
            EdgeSettings {
                distribution_id: Some("E1".into()),
                ..EdgeSettings::default()
            },
            EdgeSettings {
                listener: Some(Listener {
                    arn: "arn".into(),
                    host: "lb.example".into(),
                }),
                ..EdgeSettings::default()
            },
        ] {
            let edge = tenx_kernel::platform::edge::engine(&edge, ENGINES.cloudfront, ENGINES.alb)
                .unwrap();
            assert!(edge.is_some());
        }
    }
}
