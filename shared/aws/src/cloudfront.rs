//! The edge on AWS: ACM certificates (always in `us-east-1`, the one region CloudFront takes
//! certificates from) and one CloudFront distribution per custom domain, a copy of the
//! redirect's distribution (origin, cache and origin-request policies, viewer function) with
//! the domain as its one alias and its own certificate (why one per domain:
//! `docs/deployment.md`, "Custom domains on AWS").

use async_trait::async_trait;
use aws_sdk_acm::operation::delete_certificate::DeleteCertificateError;
use aws_sdk_acm::operation::describe_certificate::DescribeCertificateError;
use aws_sdk_acm::types::{CertificateStatus, ValidationMethod};
use aws_sdk_cloudfront::operation::create_distribution::CreateDistributionError;
use aws_sdk_cloudfront::operation::delete_distribution::DeleteDistributionError;
use aws_sdk_cloudfront::operation::get_distribution::GetDistributionError;
use aws_sdk_cloudfront::types::{
    Aliases, DistributionConfig, MinimumProtocolVersion, SslSupportMethod, ViewerCertificate,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;

use crate::errors::{Failure, classify, describe};
use tenx_kernel::domain::custom_domain::Cname;
use tenx_kernel::platform::edge::{Certificate, Distribution, Edge, EdgeError};

type SdkError<E> = aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>;

struct Clients {
    acm: aws_sdk_acm::Client,
    cloudfront: aws_sdk_cloudfront::Client,
}

pub struct AwsEdge {
    /// The redirect's distribution, whose configuration each domain's copies.
    template: String,
    endpoint: Option<String>,
    clients: OnceCell<Clients>,
}

impl AwsEdge {
    pub fn new(template: String, endpoint: Option<String>) -> Self {
        Self {
            template,
            endpoint,
            clients: OnceCell::new(),
        }
    }

    /// Built on first use: only the function that provisions domains loads them.
    async fn clients(&self) -> &Clients {
        self.clients
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(aws_config::Region::from_static("us-east-1"));
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                let shared = loader.load().await;
                Clients {
                    acm: aws_sdk_acm::Client::new(&shared),
                    cloudfront: aws_sdk_cloudfront::Client::new(&shared),
                }
            })
            .await
    }
}

/// A refusal (the request itself, a quota) is the domain's to show; throttling, outages and
/// the stack's own faults (access denied) are retried by the next pass.
pub(crate) fn failed<E>(what: &str, e: &SdkError<E>) -> EdgeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let stack_fault = e.code().is_some_and(|c| c.starts_with("AccessDenied"));
    match classify(e) {
        Failure::Invalid | Failure::Permanent if !stack_fault => {
            EdgeError::Refused(match e.message() {
                Some(m) => format!("{what}: {m}"),
                None => describe(what, e),
            })
        }
        _ => EdgeError::Unavailable(describe(what, e)),
    }
}

fn validation(detail: &aws_sdk_acm::types::CertificateDetail) -> Option<Cname> {
    detail
        .domain_validation_options()
        .iter()
        .find_map(|v| v.resource_record())
        .map(|r| Cname {
            name: r.name().trim_end_matches('.').to_owned(),
            value: r.value().trim_end_matches('.').to_owned(),
        })
}

fn summary(d: &aws_sdk_cloudfront::types::Distribution) -> Distribution {
    Distribution {
        id: d.id().to_owned(),
        target: d.domain_name().to_owned(),
        deployed: d.status() == "Deployed",
    }
}

impl AwsEdge {
    /// The distribution whose alias is `domain` (a replayed create whose first answer was
    /// lost). ONE list call per 100 distributions.
    async fn find_by_alias(&self, domain: &str) -> Result<Option<Distribution>, EdgeError> {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .clients()
                .await
                .cloudfront
                .list_distributions()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| failed("Listing the CloudFront distributions failed", &e))?;
            let Some(list) = page.distribution_list() else {
                return Ok(None);
            };
            let found = list.items().iter().find(|d| {
                d.aliases()
                    .and_then(|a| a.items.as_ref())
                    .is_some_and(|items| items.iter().any(|a| a == domain))
            });
            if let Some(d) = found {
                return Ok(Some(Distribution {
                    id: d.id().to_owned(),
                    target: d.domain_name().to_owned(),
                    deployed: d.status() == "Deployed",
                }));
            }
            match (list.is_truncated(), list.next_marker()) {
                (true, Some(next)) => marker = Some(next.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// The redirect distribution's configuration, made the domain's.
    async fn config_for(
        &self,
        domain: &str,
        certificate_arn: &str,
        reference: &str,
    ) -> Result<DistributionConfig, EdgeError> {
        let template = self
            .clients()
            .await
            .cloudfront
            .get_distribution_config()
            .id(&self.template)
            .send()
            .await
            .map_err(|e| {
                EdgeError::Unavailable(describe(
                    "Reading the redirect's distribution (TENX_EDGE_DISTRIBUTION_ID) failed",
                    &e,
                ))
            })?;
        let mut config = template.distribution_config().cloned().ok_or_else(|| {
            EdgeError::Unavailable("The redirect's distribution has no configuration".into())
        })?;
        config.caller_reference = reference.to_owned();
        config.comment = format!("10x custom domain {domain}");
        config.enabled = true;
        config.aliases = Some(
            Aliases::builder()
                .quantity(1)
                .items(domain)
                .build()
                .map_err(|e| EdgeError::Unavailable(e.to_string()))?,
        );
        config.viewer_certificate = Some(
            ViewerCertificate::builder()
                .acm_certificate_arn(certificate_arn)
                .ssl_support_method(SslSupportMethod::SniOnly)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
                .build(),
        );
        // What belongs to the redirect's distribution alone.
        config.continuous_deployment_policy_id = None;
        config.staging = None;
        config.anycast_ip_list_id = None;
        config.tenant_config = None;
        Ok(config)
    }
}

// ACM's side, the same for either front door (the load balancer's in its own region).

/// `key`: ACM's default (RSA 2048) when `None`.
pub(crate) async fn request_certificate(
    acm: &aws_sdk_acm::Client,
    domain: &str,
    reference: &str,
    key: Option<aws_sdk_acm::types::KeyAlgorithm>,
) -> Result<String, EdgeError> {
    let out = acm
        .request_certificate()
        .domain_name(domain)
        .validation_method(ValidationMethod::Dns)
        .set_key_algorithm(key)
        .idempotency_token(reference)
        .send()
        .await
        .map_err(|e| failed("ACM refused the certificate", &e))?;
    out.certificate_arn()
        .map(str::to_owned)
        .ok_or_else(|| EdgeError::Unavailable("ACM answered no certificate".into()))
}

pub(crate) async fn certificate(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<Certificate, EdgeError> {
    let out = acm.describe_certificate().certificate_arn(arn).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(DescribeCertificateError::is_resource_not_found_exception) =>
        {
            return Ok(Certificate::Missing);
        }
        Err(e) => return Err(failed("Reading the certificate failed", &e)),
    };
    let Some(detail) = out.certificate() else {
        return Ok(Certificate::Missing);
    };
    let validation = validation(detail);
    Ok(match detail.status() {
        Some(CertificateStatus::Issued) => Certificate::Issued { validation },
        Some(CertificateStatus::PendingValidation) | None => Certificate::Pending { validation },
        Some(CertificateStatus::ValidationTimedOut) => Certificate::Failed {
            reason: "The certificate's validation record was not found within 72 hours; \
                     publish it, then verify the domain again."
                .into(),
        },
        Some(other) => Certificate::Failed {
            reason: format!(
                "ACM reports the certificate {}{}.",
                other.as_str().to_lowercase().replace('_', " "),
                detail
                    .failure_reason()
                    .map(|r| format!(" ({})", r.as_str().to_lowercase().replace('_', " ")))
                    .unwrap_or_default()
            ),
        },
    })
}

pub(crate) async fn delete_certificate(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<(), EdgeError> {
    let deleted = acm.delete_certificate().certificate_arn(arn).send().await;
    match deleted {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(DeleteCertificateError::is_resource_not_found_exception) =>
        {
            Ok(())
        }
        // Still attached to a distribution CloudFront is letting go of: the next pass.
        Err(e) => Err(EdgeError::Unavailable(describe(
            "Deleting a certificate",
            &e,
        ))),
    }
}

#[async_trait]
impl Edge for AwsEdge {
    async fn request_certificate(
        &self,
        domain: &str,
        reference: &str,
    ) -> Result<String, EdgeError> {
        request_certificate(&self.clients().await.acm, domain, reference, None).await
    }

    async fn certificate(&self, arn: &str) -> Result<Certificate, EdgeError> {
        certificate(&self.clients().await.acm, arn).await
    }

    async fn create_distribution(
        &self,
        domain: &str,
        certificate_arn: &str,
        reference: &str,
    ) -> Result<Distribution, EdgeError> {
        let config = self.config_for(domain, certificate_arn, reference).await?;
        let created = self
            .clients()
            .await
            .cloudfront
            .create_distribution()
            .distribution_config(config)
            .send()
            .await;
        match created {
            Ok(out) => out.distribution().map(summary).ok_or_else(|| {
                EdgeError::Unavailable("CloudFront answered no distribution".into())
            }),
            // This reference made one already (a replay whose first answer was not recorded).
            Err(e)
                if e.as_service_error()
                    .is_some_and(CreateDistributionError::is_distribution_already_exists) =>
            {
                self.find_by_alias(domain).await?.ok_or_else(|| {
                    EdgeError::Unavailable(format!(
                        "CloudFront holds a distribution of this reference but none for {domain}"
                    ))
                })
            }
            Err(e) => Err(failed("CloudFront refused the domain's distribution", &e)),
        }
    }

    async fn distribution(&self, id: &str) -> Result<Option<Distribution>, EdgeError> {
        let got = self
            .clients()
            .await
            .cloudfront
            .get_distribution()
            .id(id)
            .send()
            .await;
        match got {
            Ok(out) => Ok(out.distribution().map(summary)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(GetDistributionError::is_no_such_distribution) =>
            {
                Ok(None)
            }
            Err(e) => Err(failed("Reading the domain's distribution failed", &e)),
        }
    }

    async fn remove_distribution(&self, id: &str) -> Result<bool, EdgeError> {
        let cloudfront = &self.clients().await.cloudfront;
        let got = cloudfront.get_distribution().id(id).send().await;
        let out = match got {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(GetDistributionError::is_no_such_distribution) =>
            {
                return Ok(true);
            }
            Err(e) => return Err(failed("Reading the domain's distribution failed", &e)),
        };
        let Some(dist) = out.distribution() else {
            return Ok(true);
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let Some(config) = dist.distribution_config() else {
            return Ok(true);
        };
        if config.enabled {
            let mut disabled = config.clone();
            disabled.enabled = false;
            cloudfront
                .update_distribution()
                .id(id)
                .if_match(etag)
                .distribution_config(disabled)
                .send()
                .await
                .map_err(|e| EdgeError::Unavailable(describe("Disabling a distribution", &e)))?;
            return Ok(false);
        }
        // Disabled; CloudFront deletes it once that change is deployed.
        if dist.status() != "Deployed" {
            return Ok(false);
        }
        match cloudfront
            .delete_distribution()
            .id(id)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(DeleteDistributionError::is_no_such_distribution) =>
            {
                Ok(true)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(DeleteDistributionError::is_distribution_not_disabled) =>
            {
                Ok(false)
            }
            Err(e) => Err(EdgeError::Unavailable(describe(
                "Deleting a distribution",
                &e,
            ))),
        }
    }

    async fn delete_certificate(&self, arn: &str) -> Result<(), EdgeError> {
        delete_certificate(&self.clients().await.acm, arn).await
    }
}
