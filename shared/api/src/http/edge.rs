//! What the redirect may believe from the edge: the viewer's country, only when the request
//! provably came through our CloudFront distribution (or a local setting says to believe it).

use axum::http::HeaderMap;
use hmac::digest::CtOutput;
use sha2::{Digest, Sha256};

use crate::platform::config::{CountryTrust, EDGE_SECRET_HEADER, VIEWER_HOST_HEADER};

/// The header CloudFront sets from the viewer's address.
pub const COUNTRY_HEADER: &str = "cloudfront-viewer-country";

/// The viewer's country header when `trust` allows believing it; `None` means `unknown`.
pub fn viewer_country<'h>(headers: &'h HeaderMap, trust: &CountryTrust) -> Option<&'h str> {
    let believed = match trust {
        CountryTrust::Never => false,
        CountryTrust::Always | CountryTrust::CloudFrontOac => true,
        CountryTrust::EdgeSecret(secret) => headers
            .get(EDGE_SECRET_HEADER)
            .is_some_and(|given| same_secret(given.as_bytes(), secret)),
    };
    if !believed {
        return None;
    }
    headers.get(COUNTRY_HEADER).and_then(|v| v.to_str().ok())
}

/// The host the viewer asked for (`{handle}.{domain}`; empty when absent): behind CloudFront's
/// origin access control the request's own `Host` is the function URL's, and the viewer's comes
/// in [`VIEWER_HOST_HEADER`], set by the distribution (never by the viewer: it is replaced).
pub fn viewer_host<'h>(headers: &'h HeaderMap, trust: &CountryTrust) -> &'h str {
    let name = match trust {
        CountryTrust::CloudFrontOac => VIEWER_HOST_HEADER,
        _ => http::header::HOST.as_str(),
    };
    headers
        .get(name)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}

/// Constant-time equality: both sides are hashed to the same length first, and the digests are
/// compared without an early exit, so timing reveals neither the secret's length nor a prefix.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    CtOutput::<Sha256>::new(Sha256::digest(given)) == CtOutput::new(Sha256::digest(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_country_is_believed_only_as_configured() {
        let secret = CountryTrust::EdgeSecret(b"s3cret-from-ssm-0123".to_vec());
        let spoofed = headers(&[(COUNTRY_HEADER, "US")]);
        let wrong = headers(&[(COUNTRY_HEADER, "US"), (EDGE_SECRET_HEADER, "guess")]);
        let edge = headers(&[
            (COUNTRY_HEADER, "US"),
            (EDGE_SECRET_HEADER, "s3cret-from-ssm-0123"),
        ]);
        assert_eq!(viewer_country(&spoofed, &CountryTrust::Never), None);
        assert_eq!(viewer_country(&edge, &CountryTrust::Never), None);
        assert_eq!(viewer_country(&spoofed, &CountryTrust::Always), Some("US"));
        assert_eq!(viewer_country(&spoofed, &secret), None);
        assert_eq!(viewer_country(&wrong, &secret), None);
        assert_eq!(viewer_country(&edge, &secret), Some("US"));
        // A prefix of the secret is not the secret.
        let prefix = headers(&[(COUNTRY_HEADER, "US"), (EDGE_SECRET_HEADER, "s3cret")]);
        assert_eq!(viewer_country(&prefix, &secret), None);
    }

    #[test]
    fn behind_the_origin_access_control_the_host_is_the_viewers() {
        let h = headers(&[
            ("host", "abc123.lambda-url.us-east-1.on.aws"),
            (VIEWER_HOST_HEADER, "acme.links.example.com"),
            (COUNTRY_HEADER, "DE"),
        ]);
        let oac = CountryTrust::CloudFrontOac;
        assert_eq!(viewer_host(&h, &oac), "acme.links.example.com");
        assert_eq!(viewer_country(&h, &oac), Some("DE"));
        // Anywhere else the header is the viewer's own word, never believed.
        for trust in [CountryTrust::Never, CountryTrust::Always] {
            assert_eq!(
                viewer_host(&h, &trust),
                "abc123.lambda-url.us-east-1.on.aws"
            );
        }
        assert_eq!(viewer_host(&headers(&[]), &oac), "");
    }
}
