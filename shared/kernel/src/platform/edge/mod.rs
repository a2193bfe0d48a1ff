//! The stack's TLS edge for custom domains (issue 64): on AWS, a domain's certificate (ACM, in
//! `us-east-1`, validated by DNS) and a CloudFront distribution that serves the domain with it
//! in front of the redirect (`tenx-aws`'s `AwsEdge`), or, behind the stack's load balancer, the
//! certificate (in its region) added to its HTTPS listener (its `AlbEdge`). Locally there is
//! none (`None` in the state):
//! `tenx serve` answers any `Host`, so a verified domain is live at once.
//!
//! Every call is idempotent by the caller's reference (ACM's idempotency token, CloudFront's
//! caller reference), so `domains::edge` may replay a step whose result it did not record.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::custom_domain::Cname;

/// What ACM says of a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// Waiting for its validation record (`None`: ACM has not made the record yet).
    Pending {
        validation: Option<Cname>,
    },
    Issued {
        validation: Option<Cname>,
    },
    /// Validation failed or timed out, or it was revoked: why, in words.
    Failed {
        reason: String,
    },
    /// No such certificate (deleted outside 10x).
    Missing,
}

/// A domain's distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    pub id: String,
    /// Its host (`d123.cloudfront.net`), which the domain's CNAME points at.
    pub target: String,
    /// Deployed to every edge location.
    pub deployed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// ACM or CloudFront refused the request: retrying the same will not help (the words are
    /// shown on the domain).
    #[error("{0}")]
    Refused(String),
    /// An outage, throttling or a fault of the stack's own (its permissions): the next pass
    /// tries again.
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Edge: Send + Sync {
    /// Requests a DNS-validated certificate for `domain`; the same `reference` answers the
    /// same certificate.
    async fn request_certificate(&self, domain: &str, reference: &str)
    -> Result<String, EdgeError>;
    async fn certificate(&self, arn: &str) -> Result<Certificate, EdgeError>;
    /// Creates the domain's distribution (the redirect's, with `domain` as its one alias and
    /// the certificate); the same `reference` answers the same distribution.
    async fn create_distribution(
        &self,
        domain: &str,
        certificate_arn: &str,
        reference: &str,
    ) -> Result<Distribution, EdgeError>;
    /// `None`: no such distribution.
    async fn distribution(&self, id: &str) -> Result<Option<Distribution>, EdgeError>;
    /// One step of taking a distribution down (CloudFront deletes only a disabled, deployed
    /// one): disables it, or deletes it once disabled. `true`: it is gone.
    async fn remove_distribution(&self, id: &str) -> Result<bool, EdgeError>;
    /// Deletes a certificate; one already gone is fine.
    async fn delete_certificate(&self, arn: &str) -> Result<(), EdgeError>;
}

/// `TENX_EDGE_DISTRIBUTION_ID` (the redirect's distribution, whose configuration each domain's
/// copies; set: the CloudFront edge is on), or `TENX_EDGE_LISTENER_ARN` and
/// `TENX_EDGE_LISTENER_HOST` (the load balancer's HTTPS listener and its host; set: the load
/// balancer's edge is on), and `TENX_EDGE_ENDPOINT` (an emulator's ACM, CloudFront and ELB,
/// the tests' moto).
#[derive(Clone, Debug, Default)]
pub struct EdgeSettings {
    pub distribution_id: Option<String>,
    pub listener: Option<Listener>,
    pub endpoint: Option<String>,
}

/// The load balancer's HTTPS listener custom domains' certificates go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub arn: String,
    /// The load balancer's host (`name-123.us-east-1.elb.amazonaws.com`), each domain's target.
    pub host: String,
}

/// CloudFront's constructor (`tenx-aws`): the distribution each domain's copies, the endpoint.
pub type CloudFrontEngine = fn(String, Option<String>) -> Arc<dyn Edge>;
/// The load balancer's (`tenx-aws`): its HTTPS listener, the endpoint.
pub type AlbEngine = fn(&Listener, Option<String>) -> Arc<dyn Edge>;

/// The edge: CloudFront's when a distribution to copy is set, the load balancer's when its
/// listener is (each `None` in a process without it: settings naming an absent one are
/// refused), else none (the configuration never sets both).
pub fn engine(
    settings: &EdgeSettings,
    cloudfront: Option<CloudFrontEngine>,
    alb: Option<AlbEngine>,
) -> anyhow::Result<Option<Arc<dyn Edge>>> {
    let endpoint = settings.endpoint.clone();
    let absent = |var: &str| {
        anyhow::anyhow!("{var} names an AWS edge, an engine this process was built without")
    };
    if let Some(id) = &settings.distribution_id {
        let cloudfront = cloudfront.ok_or_else(|| absent("TENX_EDGE_DISTRIBUTION_ID"))?;
        return Ok(Some(cloudfront(id.clone(), endpoint)));
    }
    let Some(listener) = &settings.listener else {
        return Ok(None);
    };
    let alb = alb.ok_or_else(|| absent("TENX_EDGE_LISTENER_ARN"))?;
    Ok(Some(alb(listener, endpoint)))
}
