//! The roots of trust of the AWS clients' TLS: the roots AWS's own service endpoints chain to
//! (Amazon Trust Services' four roots and the Starfield root that cross-signs them, plus the two
//! DigiCert roots AWS endpoints used before their move to Amazon Trust Services), embedded,
//! instead of the platform's store. Loading the platform's store at every cold start read and
//! parsed ~150 certificates, over half of a function's init time (BENCHMARKS.md, "Cold start").
//!
//! A custom endpoint (`AWS_ENDPOINT_URL`: an emulator, a proxy, a VPC endpoint with its own
//! certificate) may chain elsewhere, so it gets the platform's store; `TENX_TLS_ROOTS=platform`
//! asks for it anywhere, `TENX_TLS_ROOTS=aws` for the embedded roots anywhere.

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// PEM files of the roots, from the public certificate bundle (`shared/certs/`).
pub const AWS_ROOTS: [&str; 7] = [
    include_str!("../../../certs/amazon-root-ca-1.pem"),
    include_str!("../../../certs/amazon-root-ca-2.pem"),
    include_str!("../../../certs/amazon-root-ca-3.pem"),
    include_str!("../../../certs/amazon-root-ca-4.pem"),
    include_str!("../../../certs/starfield-services-root-ca-g2.pem"),
    include_str!("../../../certs/digicert-global-root-ca.pem"),
    include_str!("../../../certs/digicert-global-root-g2.pem"),
];

/// Which store the clients trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roots {
    /// [`AWS_ROOTS`] only.
    Aws,
    /// The platform's trusted roots.
    Platform,
}

impl Roots {
    /// `TENX_TLS_ROOTS` when set (`aws` or `platform`), else the platform's store for a custom
    /// endpoint and the AWS roots for AWS's own.
    pub fn from_env() -> anyhow::Result<Roots> {
        let custom_endpoint = std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.trim().is_empty());
        match std::env::var("TENX_TLS_ROOTS").as_deref().map(str::trim) {
            Ok("aws") => Ok(Roots::Aws),
            Ok("platform") => Ok(Roots::Platform),
            Ok("") | Err(_) if custom_endpoint => Ok(Roots::Platform),
            Ok("") | Err(_) => Ok(Roots::Aws),
            Ok(other) => anyhow::bail!("TENX_TLS_ROOTS={other}: expected aws or platform"),
        }
    }

    fn store(self) -> TrustStore {
        match self {
            Roots::Platform => TrustStore::default(),
            Roots::Aws => AWS_ROOTS.iter().fold(TrustStore::empty(), |store, pem| {
                store.with_pem_certificate(pem.as_bytes())
            }),
        }
    }
}

/// The HTTPS client of every AWS SDK client of the process (rustls on aws-lc, as the SDK's
/// default), trusting `roots`.
pub fn http_client(roots: Roots) -> anyhow::Result<SharedHttpClient> {
    let context = TlsContext::builder()
        .with_trust_store(roots.store())
        .build()?;
    let hyper = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    Ok(SharedHttpClient::new(ConnectOnFirstUse(hyper)))
}

/// The SDK's hyper client without its eager validation: to load a platform's certificates at
/// start rather than on the first request, it builds (and throws away) a whole TLS connector
/// every time an SDK client is constructed, and builds the one it keeps on the first request
/// anyway. Profiled, that was ~4 % of a function's init per client. The roots here are
/// embedded (or the platform's, read once on the first request): nothing to load early.
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_roots_are_certificates() {
        for pem in AWS_ROOTS {
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
            assert!(pem.trim_end().ends_with("-----END CERTIFICATE-----"));
        }
        assert!(http_client(Roots::Aws).is_ok());
    }
}
