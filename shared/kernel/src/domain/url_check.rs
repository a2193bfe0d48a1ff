//! Destination URL validation. A link sends visitors wherever its destination says, so only
//! plain web URLs are accepted: anything else (script URLs, local files, credentials in the
//! authority) turns the short link into an attack tool.

use url::Url;

use super::DomainError;

/// Longest destination accepted; browsers and proxies get unreliable beyond this.
pub const MAX_DESTINATION_LEN: usize = 2048;

/// Validate `raw` as a redirect destination and return the parsed URL. `field` names the JSON
/// field in the error (e.g. `destinationUrl` or `routingRules[2].destinationUrl`).
pub fn validate_destination(field: &str, raw: &str) -> Result<Url, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::new(field, "must not be empty"));
    }
    if raw.len() > MAX_DESTINATION_LEN {
        return Err(DomainError::new(
            field,
            format!("must be at most {MAX_DESTINATION_LEN} characters long"),
        ));
    }
    // Checked before parsing: the URL parser silently drops tabs and newlines and trims control
    // characters, so "java\nscript:" or a CRLF would otherwise slip past unseen.
    if raw.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            "must not contain control characters",
        ));
    }
    // Same reason: the parser trims surrounding spaces, so what we checked would differ from
    // what was sent.
    if raw.trim() != raw {
        return Err(DomainError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    let url = Url::parse(raw)
        .map_err(|_| DomainError::new(field, "must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DomainError::new(field, "must use the http or https scheme"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DomainError::new(field, "must include a host"));
    }
    // `https://bank.com@evil.example/` reads as bank.com to a human: a phishing classic.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DomainError::new(
            field,
            "must not include a username or password",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_destinations() {
        let cases = [
            ("https://example.com", "https://example.com/"),
            ("http://example.com/a?b=c#d", "http://example.com/a?b=c#d"),
            ("https://EXAMPLE.com:8443/x", "https://example.com:8443/x"),
            ("https://[::1]/", "https://[::1]/"),
            ("https://127.0.0.1/x", "https://127.0.0.1/x"),
            ("https://bücher.de/ü", "https://xn--bcher-kva.de/%C3%BC"),
            (
                "https://example.com/?q=a%20b",
                "https://example.com/?q=a%20b",
            ),
        ];
        for (raw, normalized) in cases {
            let url = validate_destination("destinationUrl", raw).expect(raw);
            assert_eq!(url.as_str(), normalized, "{raw}");
        }
    }

    #[test]
    fn refused_destinations() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_DESTINATION_LEN));
        let cases: &[(&str, &str)] = &[
            ("", "must not be empty"),
            (&long, "must be at most 2048 characters long"),
            ("javascript:alert(1)", "must use the http or https scheme"),
            ("JavaScript:alert(1)", "must use the http or https scheme"),
            (
                "data:text/html,<script>",
                "must use the http or https scheme",
            ),
            ("vbscript:msgbox", "must use the http or https scheme"),
            ("ftp://example.com/f", "must use the http or https scheme"),
            ("file:///etc/passwd", "must use the http or https scheme"),
            ("mailto:a@example.com", "must use the http or https scheme"),
            ("//evil.example/x", "must be an absolute http or https URL"),
            ("/relative/path", "must be an absolute http or https URL"),
            ("example.com", "must be an absolute http or https URL"),
            ("https://", "must be an absolute http or https URL"),
            (
                "http://exa mple.com",
                "must be an absolute http or https URL",
            ),
            (
                "https://example.com/\r\nSet-Cookie: x=1",
                "must not contain control characters",
            ),
            (
                "java\tscript:alert(1)",
                "must not contain control characters",
            ),
            (
                "https://exa\nmple.com",
                "must not contain control characters",
            ),
            (
                "https://example.com/\0",
                "must not contain control characters",
            ),
            (
                "https://example.com/\u{7f}",
                "must not contain control characters",
            ),
            (
                "https://example.com/\u{85}",
                "must not contain control characters",
            ),
            (
                " https://example.com",
                "must not start or end with whitespace",
            ),
            (
                "https://example.com ",
                "must not start or end with whitespace",
            ),
            (
                "https://user:pass@example.com/",
                "must not include a username or password",
            ),
            (
                "https://bank.com@evil.example/",
                "must not include a username or password",
            ),
            (
                "https://:pw@example.com/",
                "must not include a username or password",
            ),
        ];
        for (raw, msg) in cases {
            let e = validate_destination("routingRules[0].destinationUrl", raw)
                .expect_err(&format!("{raw:?} should be refused"));
            assert_eq!(e.field, "routingRules[0].destinationUrl");
            assert_eq!(e.message, *msg, "{raw:?}");
        }
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let prefix = "https://example.com/";
        let raw = format!("{prefix}{}", "a".repeat(MAX_DESTINATION_LEN - prefix.len()));
        assert_eq!(raw.len(), MAX_DESTINATION_LEN);
        assert!(validate_destination("destinationUrl", &raw).is_ok());
    }
}
