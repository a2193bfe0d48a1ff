//! The program's `allowedDestinations` (issue 61): the URL prefixes a partner's own links may
//! point to, and the one check of a partner's destination against them. The origin (scheme,
//! host, port) is compared exactly and the path segment by segment, on the URL as the WHATWG
//! parser (the `url` crate) reads it, which is what a browser follows; what could make a person
//! read one host and a browser go to another is refused before that: a username or password
//! (`brand.com@evil.example`), a host ending in a dot, encoded dots or slashes in the path
//! (`%2e%2e`, `%2f`), a backslash. An international name is compared in its `xn--` form, so a
//! look-alike (`brаnd.com` with a Cyrillic а) is another host.

use url::Url;

use crate::domain::error::DomainError;
use crate::domain::url_check::validate_destination;

/// At most this many prefixes per program.
pub const MAX_PREFIXES: usize = 20;

/// What a program may list: absolute http(s) URLs without credentials, query or fragment, each
/// stored as the parser writes it. Empty: partners make no links of their own.
pub fn validate(prefixes: Vec<String>) -> Result<Vec<String>, DomainError> {
    if prefixes.len() > MAX_PREFIXES {
        return Err(DomainError::new(
            "allowedDestinations",
            format!("at most {MAX_PREFIXES} URL prefixes."),
        ));
    }
    let mut out = Vec::with_capacity(prefixes.len());
    for (i, raw) in prefixes.iter().enumerate() {
        let field = format!("allowedDestinations[{i}]");
        let url = strict(&field, raw)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(DomainError::new(
                &field,
                "a prefix is an origin and a path, without ? or #.",
            ));
        }
        let normalized = url.to_string();
        if !out.contains(&normalized) {
            out.push(normalized);
        }
    }
    Ok(out)
}

/// A URL as `validate_destination` takes it, with what could mislead a reader refused too.
fn strict(field: &str, raw: &str) -> Result<Url, DomainError> {
    let url = validate_destination(field, raw)?;
    let lower = raw.to_ascii_lowercase();
    let path_part = lower
        .split_once("://")
        .map_or(lower.as_str(), |(_, rest)| rest);
    if ["%2e", "%2f", "%5c", "\\"]
        .iter()
        .any(|bad| path_part.contains(bad))
    {
        return Err(DomainError::new(
            field,
            "must not hide dots, slashes or backslashes in percent-encoding.",
        ));
    }
    if url.host_str().is_some_and(|h| h.ends_with('.')) {
        return Err(DomainError::new(field, "its host must not end with a dot."));
    }
    Ok(url)
}

/// The path's segments, without the empty one a trailing slash leaves.
fn segments(url: &Url) -> Vec<&str> {
    let mut s: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    if s.last() == Some(&"") {
        s.pop();
    }
    s
}

/// Whether `url` is under `prefix`: the same origin exactly, and the prefix's path segments are
/// the first of the URL's.
fn under(prefix: &Url, url: &Url) -> bool {
    let origin = |u: &Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        )
    };
    if origin(prefix) != origin(url) {
        return false;
    }
    let (p, u) = (segments(prefix), segments(url));
    p.len() <= u.len() && p.iter().zip(&u).all(|(a, b)| a == b)
}

/// The partner's destination, normalized, when it is under one of `prefixes`; else `400`
/// naming `destinationUrl` with the allowed prefixes in words.
pub fn check(prefixes: &[String], raw: &str) -> Result<String, DomainError> {
    const FIELD: &str = "destinationUrl";
    if prefixes.is_empty() {
        return Err(DomainError::new(
            FIELD,
            "this program does not let partners make links of their own.",
        ));
    }
    let url = strict(FIELD, raw)?;
    let allowed = prefixes
        .iter()
        .filter_map(|p| Url::parse(p).ok())
        .any(|p| under(&p, &url));
    if !allowed {
        return Err(DomainError::new(
            FIELD,
            format!("the program allows links to {} only.", prefixes.join(", ")),
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        validate(vec![
            "https://brand.com/shop".into(),
            "https://blog.brand.com".into(),
        ])
        .unwrap()
    }

    #[test]
    fn a_destination_under_a_prefix_is_allowed_and_normalized() {
        let p = prefixes();
        for ok in [
            "https://brand.com/shop",
            "https://brand.com/shop/",
            "https://brand.com/shop/shoes?size=42#top",
            "https://BRAND.com:443/shop/a/b",
            "https://blog.brand.com/anything",
        ] {
            assert!(check(&p, ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check(&p, "https://BRAND.com/shop/x").unwrap(),
            "https://brand.com/shop/x"
        );
    }

    #[test]
    fn look_alikes_and_tricks_are_refused() {
        let p = prefixes();
        for bad in [
            "https://brand.com.evil.example/shop",
            "https://brand.com@evil.example/shop",
            "https://evil.example@brand.com/shop",
            "https://brand.com/shop/%2e%2e/admin",
            "https://brand.com/shop/%2E%2E/admin",
            "https://brand.com/shop/../admin",
            "https://brand.com/shop%2fx",
            "https://brand.com/shop\\..\\admin",
            "https://brand.com./shop",
            "https://br\u{0430}nd.com/shop",
            "https://brand.com/shopping",
            "https://brand.com/",
            "http://brand.com/shop",
            "https://brand.com:8443/shop",
            "https://evil.blog.brand.com/",
            "javascript:alert(1)",
        ] {
            assert_eq!(check(&p, bad).unwrap_err().field, "destinationUrl", "{bad}");
        }
        assert!(check(&[], "https://brand.com/shop").is_err());
    }

    #[test]
    fn prefixes_are_urls_without_query_or_credentials() {
        for bad in [
            "brand.com",
            "https://u:p@brand.com/",
            "https://brand.com/?a=1",
            "https://brand.com./",
        ] {
            assert!(validate(vec![bad.into()]).is_err(), "{bad}");
        }
        let many = vec!["https://brand.com/".to_owned(); MAX_PREFIXES + 1];
        assert!(validate(many).is_err());
    }
}
