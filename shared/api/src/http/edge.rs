//! What the redirect may believe from the edge: the viewer's country, only when the request
//! provably came through our CloudFront distribution (or a local setting says to believe it);
//! else the country of the visitor's address (only an address the edge or the load balancer
//! gives, never one the visitor writes) from the open IP database compiled in (`tenx-geo`).

use std::net::IpAddr;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use hmac::digest::CtOutput;
use sha2::{Digest, Sha256};

use crate::platform::config::{CountryTrust, EDGE_SECRET_HEADER, VIEWER_HOST_HEADER};

/// The header CloudFront sets from the viewer's address.
pub const COUNTRY_HEADER: &str = "cloudfront-viewer-country";

/// The headers CloudFront sets with the viewer's region (its ISO 3166-2 code, and its name)
/// and city, from the viewer's address.
pub const REGION_HEADER: &str = "cloudfront-viewer-country-region";
pub const REGION_NAME_HEADER: &str = "cloudfront-viewer-country-region-name";
pub const CITY_HEADER: &str = "cloudfront-viewer-city";
/// The longest region or city name a click keeps (the longest real ones are under 60 bytes).
const MAX_PLACE_BYTES: usize = 100;

/// Whether the edge's viewer headers of this request may be believed, as `trust` says.
fn believed(headers: &HeaderMap, trust: &CountryTrust) -> bool {
    match trust {
        CountryTrust::Never | CountryTrust::Alb => false,
        CountryTrust::Always | CountryTrust::CloudFrontOac => true,
        CountryTrust::EdgeSecret(secret) => headers
            .get(EDGE_SECRET_HEADER)
            .is_some_and(|given| same_secret(given.as_bytes(), secret)),
    }
}

/// The viewer's country header when `trust` allows believing it; `None` means `unknown`.
pub fn viewer_country<'h>(headers: &'h HeaderMap, trust: &CountryTrust) -> Option<&'h str> {
    if !believed(headers, trust) {
        return None;
    }
    headers.get(COUNTRY_HEADER).and_then(|v| v.to_str().ok())
}

/// The viewer's region (its name, else its code) and city, where the country is believed (the
/// same edge sets all three); `None` for any the edge did not send. Taken as sent (CloudFront
/// may percent-encode a name outside ASCII: the click's consumer decodes it).
pub fn viewer_place<'h>(
    headers: &'h HeaderMap,
    trust: &CountryTrust,
) -> (Option<&'h str>, Option<&'h str>) {
    if !believed(headers, trust) {
        return (None, None);
    }
    let named = |name: &str| {
        headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= MAX_PLACE_BYTES)
    };
    let region = named(REGION_NAME_HEADER).or_else(|| named(REGION_HEADER));
    (region, named(CITY_HEADER))
}

/// The embedded IP database, read once per process (15-20 ms, about 7 MB), at the first visit
/// from a public address or at start ([`load_countries`]). A table that does not load leaves
/// every such country unknown, and says so.
static COUNTRIES: LazyLock<Option<tenx_geo::Countries>> = LazyLock::new(|| {
    match tenx_geo::Countries::load() {
        Ok(countries) => Some(countries),
        Err(e) => {
            tracing::warn!(error = %e, "country unknown: the IP database did not load; a visit's country comes only from a trusted edge");
            None
        }
    }
});

/// Loads the IP database now (a server's start), and says what it holds or why it is absent.
pub fn load_countries() {
    if let Some(countries) = COUNTRIES.as_ref() {
        let (v4, v6) = countries.runs();
        tracing::info!(
            ipv4_ranges = v4,
            ipv6_ranges = v6,
            "visitor countries from the embedded IP database"
        );
    }
}

/// The country of `address` (an address 10x trusts: the edge's or the load balancer's last
/// hop), `None` for an address off the public internet (then the table is not even read),
/// unknown to the database, or not an address.
pub fn country_of(address: &str) -> Option<&'static str> {
    let ip: IpAddr = address.parse().ok()?;
    if !tenx_geo::is_public(ip) {
        return None;
    }
    COUNTRIES.as_ref()?.lookup(ip).map(tenx_geo::Country::code)
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

    #[test]
    fn an_address_names_its_country_and_a_private_one_none() {
        assert_eq!(country_of("8.8.8.8"), Some("US"));
        assert_eq!(country_of("2606:4700:4700::1111"), Some("US"));
        for unknown in ["127.0.0.1", "10.0.0.7", "::1", "unknown", "", "8.8.8.8:443"] {
            assert_eq!(country_of(unknown), None, "{unknown}");
        }
    }

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
    fn the_region_and_city_are_believed_only_where_the_country_is() {
        let secret = CountryTrust::EdgeSecret(b"s3cret-from-ssm-0123".to_vec());
        let place = [
            (COUNTRY_HEADER, "US"),
            (REGION_HEADER, "WA"),
            (REGION_NAME_HEADER, "Washington"),
            (CITY_HEADER, "Seattle"),
        ];
        let spoofed = headers(&place);
        let mut edge = place.to_vec();
        edge.push((EDGE_SECRET_HEADER, "s3cret-from-ssm-0123"));
        let edge = headers(&edge);
        let seattle = (Some("Washington"), Some("Seattle"));
        assert_eq!(viewer_place(&spoofed, &CountryTrust::Never), (None, None));
        assert_eq!(viewer_place(&spoofed, &secret), (None, None));
        assert_eq!(viewer_place(&edge, &secret), seattle);
        assert_eq!(
            viewer_place(&spoofed, &CountryTrust::CloudFrontOac),
            seattle
        );
        // The code where no name came; nothing where nothing (or nothing sane) came.
        let code_only = headers(&[(REGION_HEADER, "WA"), (CITY_HEADER, " ")]);
        assert_eq!(
            viewer_place(&code_only, &CountryTrust::Always),
            (Some("WA"), None)
        );
        let long = "x".repeat(MAX_PLACE_BYTES + 1);
        let mut h = HeaderMap::new();
        h.insert(CITY_HEADER, long.parse().unwrap());
        assert_eq!(viewer_place(&h, &CountryTrust::Always), (None, None));
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
