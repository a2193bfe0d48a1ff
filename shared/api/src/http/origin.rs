//! Where this server is, for links it mails or hands to a browser, and what a request's `Host`
//! may be. The origin is configuration ([`Config::public_origin`]): `TENX_PUBLIC_URL`, else a
//! loopback listener's `http://localhost:{port}`; a `Host` header, which any client chooses,
//! never shapes a link. A `Host` is still read where the product routes by it (short-link hosts,
//! custom domains, the local sign-in's loopback check), and then only as a URI authority parsed
//! by `http`'s parser: `host[:port]`, no user info. A request whose `Host` is not one is `400`.
//! Every answer carries `x-content-type-options: nosniff`, so a browser never runs what a
//! partner typed as another type than the one declared, and `x-tenx-api-version`
//! ([`API_VERSION`]), so a client library can refuse a server of another major version.

use crate::http::error::{ApiError, ApiResult};
use crate::platform::config::Config;
use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::http::uri::Authority;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The API's version: `openapi.yaml`'s `info.version` (a test keeps the two equal).
pub const API_VERSION: &str = "0.1.0";

/// The header every answer names [`API_VERSION`] in.
pub const API_VERSION_HEADER: &str = "x-tenx-api-version";

/// The origin links are made absolute to (no trailing slash).
pub fn base(config: &Config) -> ApiResult<String> {
    config.public_origin().map(str::to_owned).ok_or_else(|| {
        ApiError::internal(
            "TENX_PUBLIC_URL is not set: links this server mails or hands to a browser need its \
             public origin (a server listening on loopback uses http://localhost:PORT).",
        )
    })
}

/// Whether session cookies carry `Secure`: always, except for a plain-HTTP origin (a local
/// server, or a `TENX_PUBLIC_URL` of `http://…` on purpose).
pub fn secure_cookies(config: &Config) -> bool {
    !config
        .public_origin()
        .is_some_and(|o| o.starts_with("http://"))
}

/// A `Host` value as a URI authority (`name[:port]`, `[v6][:port]`), `None` when it is not one:
/// empty, user info (`a@b`), a path, a bad port or characters a host name cannot have.
pub fn parse_host(value: &str) -> Option<Authority> {
    let authority: Authority = value.parse().ok()?;
    let text = authority.as_str();
    let host = authority.host();
    if text.contains('@') || !text.starts_with(host) {
        return None;
    }
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        }
    };
    let rest = &text[host.len()..];
    let port_ok = match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(port) => port.parse::<u16>().is_ok(),
    };
    (host_ok && port_ok).then_some(authority)
}

/// A loopback host, any port: `localhost`, `127.x.y.z`, `[::1]`. A DNS name that resolves to
/// 127.0.0.1 (DNS rebinding) is not one.
pub fn is_loopback(authority: &Authority) -> bool {
    let host = authority.host();
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A `Host` that is not a URI authority is refused in the API's envelope, and every answer
/// carries `nosniff` and the API's version.
pub async fn host_gate(request: Request, next: Next) -> Response {
    let refused = request
        .headers()
        .get(header::HOST)
        .is_some_and(|h| h.to_str().ok().and_then(parse_host).is_none());
    let mut response = if refused {
        ApiError::invalid_request(
            "Host: not a host name with an optional port (user info, paths and spaces are \
             refused).",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_version_is_the_openapi_documents() {
        let doc = include_str!("../../../../openapi.yaml");
        let version = doc
            .lines()
            .skip_while(|l| !l.starts_with("info:"))
            .find_map(|l| l.trim().strip_prefix("version:"))
            .map(str::trim);
        assert_eq!(version, Some(API_VERSION), "openapi.yaml info.version");
    }

    #[test]
    fn hosts_are_authorities_without_user_info() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:3000",
            "[::1]:8080",
            "[::1]",
            "shop.localhost:8080",
            "go.example.com",
            "xn--bcher-kva.example",
        ] {
            assert!(parse_host(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "localhost:1@evil.example",
            "[::1]@evil.example",
            "127.0.0.1:80@evil.example",
            "user@host",
            "evil.example/path",
            "a b",
            "host:port",
            "host:99999",
            "host:",
            "::1",
        ] {
            assert!(parse_host(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn loopback_means_the_parsed_host() {
        let is = |h: &str| parse_host(h).is_some_and(|a| is_loopback(&a));
        assert!(is("localhost:1"));
        assert!(is("LOCALHOST"));
        assert!(is("127.0.0.9:80"));
        assert!(is("[::1]:8080"));
        assert!(!is("localhost.evil.example"));
        assert!(!is("evil.example"));
        assert!(!is("localhost:1@evil.example"));
        assert!(!is("[::1]@evil.example"));
    }

    #[test]
    fn the_origin_is_configuration_never_a_host() {
        let mut config = Config::default();
        assert!(base(&config).is_err());
        assert!(secure_cookies(&config));
        assert!(config.listening_on("127.0.0.1:4321".parse().unwrap()));
        assert_eq!(base(&config).unwrap(), "http://localhost:4321");
        assert!(!secure_cookies(&config));
        config.mail.public_url = Some("https://app.example.com".into());
        assert_eq!(base(&config).unwrap(), "https://app.example.com");
        assert!(secure_cookies(&config));
        let mut public = Config::default();
        assert!(!public.listening_on("0.0.0.0:8080".parse().unwrap()));
        assert_eq!(public.public_origin(), None);
    }
}
