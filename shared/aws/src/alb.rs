//! The edge behind the stack's Application Load Balancer (`RedirectFrontDoor: alb`): a custom
//! domain's ACM certificate (in the listener's own region, validated by DNS) is added to the
//! load balancer's HTTPS listener once issued, which then serves the domain by SNI; the
//! domain's CNAME points at the load balancer. What the [`Edge`] trait calls a distribution is
//! here the certificate's place on the listener: its id is the certificate's ARN, its target
//! the load balancer's host, deployed as soon as it is added. A listener takes 25 certificates
//! besides its default one unless AWS raised the account's quota: past it, the domain fails in
//! words.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::add_listener_certificates::AddListenerCertificatesError;
use aws_sdk_elasticloadbalancingv2::types::Certificate as ListenerCertificate;
use tokio::sync::OnceCell;

use crate::cloudfront::{certificate, delete_certificate, failed, request_certificate};
use crate::errors::describe;
use tenx_kernel::platform::edge::{Certificate, Distribution, Edge, EdgeError};

struct Clients {
    acm: aws_sdk_acm::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

pub struct AlbEdge {
    /// The load balancer's HTTPS listener (`TENX_EDGE_LISTENER_ARN`).
    listener: String,
    /// The load balancer's host, which each domain's CNAME points at (`TENX_EDGE_LISTENER_HOST`).
    host: String,
    endpoint: Option<String>,
    clients: OnceCell<Clients>,
}

/// The region of an ARN (`arn:aws:elasticloadbalancing:{region}:…`): a listener takes only
/// certificates of its own region.
fn region_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

impl AlbEdge {
    pub fn new(listener: String, host: String, endpoint: Option<String>) -> Self {
        Self {
            listener,
            host,
            endpoint,
            clients: OnceCell::new(),
        }
    }

    /// Built on first use: only the function that provisions domains loads them.
    async fn clients(&self) -> &Clients {
        self.clients
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = region_of(&self.listener) {
                    loader = loader.region(aws_config::Region::new(region));
                }
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                let shared = loader.load().await;
                Clients {
                    acm: aws_sdk_acm::Client::new(&shared),
                    elb: aws_sdk_elasticloadbalancingv2::Client::new(&shared),
                }
            })
            .await
    }

    fn placed(&self, certificate_arn: &str) -> Distribution {
        Distribution {
            id: certificate_arn.to_owned(),
            target: self.host.clone(),
            deployed: true,
        }
    }

    /// Whether the listener holds `certificate_arn`. ONE call per 400 certificates.
    async fn holds(&self, certificate_arn: &str) -> Result<bool, EdgeError> {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .clients()
                .await
                .elb
                .describe_listener_certificates()
                .listener_arn(&self.listener)
                .set_marker(marker.clone())
                .page_size(400)
                .send()
                .await
                .map_err(|e| {
                    EdgeError::Unavailable(describe(
                        "Reading the load balancer's certificates (TENX_EDGE_LISTENER_ARN) failed",
                        &e,
                    ))
                })?;
            if page
                .certificates()
                .iter()
                .any(|c| c.certificate_arn() == Some(certificate_arn))
            {
                return Ok(true);
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(false),
            }
        }
    }
}

/// What a domain reads when the listener is full.
const LISTENER_FULL: &str = "The load balancer serving short links holds as many certificates \
     as AWS allows it (25 besides its own unless AWS raised the quota \"Certificates per \
     Application Load Balancer\"). Ask AWS for a higher quota or remove a custom domain you no \
     longer use, then verify this domain again.";

#[async_trait]
impl Edge for AlbEdge {
    async fn request_certificate(
        &self,
        domain: &str,
        reference: &str,
    ) -> Result<String, EdgeError> {
        // ECDSA P-256: a shorter chain and signature in every visitor's handshake, and the
        // load balancer's transfer out is billed by the byte (BENCHMARKS.md).
        let key = Some(aws_sdk_acm::types::KeyAlgorithm::EcPrime256v1);
        request_certificate(&self.clients().await.acm, domain, reference, key).await
    }

    async fn certificate(&self, arn: &str) -> Result<Certificate, EdgeError> {
        certificate(&self.clients().await.acm, arn).await
    }

    /// Adds the certificate to the listener (adding one it holds changes nothing).
    async fn create_distribution(
        &self,
        _domain: &str,
        certificate_arn: &str,
        _reference: &str,
    ) -> Result<Distribution, EdgeError> {
        let added = self
            .clients()
            .await
            .elb
            .add_listener_certificates()
            .listener_arn(&self.listener)
            .certificates(
                ListenerCertificate::builder()
                    .certificate_arn(certificate_arn)
                    .build(),
            )
            .send()
            .await;
        match added {
            Ok(_) => Ok(self.placed(certificate_arn)),
            // A replay of an add whose answer was lost, on a listener filled since.
            Err(e)
                if e.as_service_error().is_some_and(
                    AddListenerCertificatesError::is_too_many_certificates_exception,
                ) =>
            {
                if self.holds(certificate_arn).await? {
                    Ok(self.placed(certificate_arn))
                } else {
                    Err(EdgeError::Refused(LISTENER_FULL.into()))
                }
            }
            Err(e) => Err(failed(
                "The load balancer refused the domain's certificate",
                &e,
            )),
        }
    }

    async fn distribution(&self, id: &str) -> Result<Option<Distribution>, EdgeError> {
        Ok(self.holds(id).await?.then(|| self.placed(id)))
    }

    /// Takes the certificate off the listener (one it does not hold is fine), in one step.
    async fn remove_distribution(&self, id: &str) -> Result<bool, EdgeError> {
        self.clients()
            .await
            .elb
            .remove_listener_certificates()
            .listener_arn(&self.listener)
            .certificates(ListenerCertificate::builder().certificate_arn(id).build())
            .send()
            .await
            .map_err(|e| {
                EdgeError::Unavailable(describe("Taking a certificate off the load balancer", &e))
            })?;
        Ok(true)
    }

    async fn delete_certificate(&self, arn: &str) -> Result<(), EdgeError> {
        delete_certificate(&self.clients().await.acm, arn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_come_from_the_listeners_region() {
        let arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/lb/50dc6c495c0c9188/f2f7dc8efc522ab2";
        assert_eq!(region_of(arn).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of("not-an-arn"), None);
        assert_eq!(region_of("arn:aws:elasticloadbalancing::1:x"), None);
    }
}
