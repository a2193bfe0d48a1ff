//! Email addresses as a person types them (issue 57): an application's, a partner's. One rule
//! for checking them and one for telling two of them apart, so a form cannot store markup
//! (`<svg/onload=alert(1)>@evil.example`) and `Ann+x@Example.com` cannot apply twice as
//! `ann@example.com`.
//!
//! Checked: RFC 5321's shape by the `email_address` crate (a dot-atom local part of at most 64
//! characters, a domain of at least two labels, no domain literal, no display name), then our
//! own stricter rules: at most 254 characters, no whitespace or control character, none of
//! `< > " ` \ ( ) [ ] , ; :` (so no quoted local part either: it is how markup and header
//! injection would get in, and no real mailbox needs it). An apostrophe stays allowed
//! (`o'brien@example.com` is a real address); output escaping is the page's business.
//!
//! Compared by [`key_of`]: Unicode NFC, lower case, and the local part's `+tag` removed. Dots
//! in the local part are kept: only some providers (Gmail) ignore them, and elsewhere
//! `a.b@` and `ab@` are two people.

use unicode_normalization::UnicodeNormalization;

use super::DomainError;

/// The longest address taken (RFC 5321's path limit less the angle brackets).
pub const MAX_CHARS: usize = 254;

/// Characters refused anywhere in an address, beyond whitespace and control characters.
const REFUSED: &[char] = &['<', '>', '"', '`', '\\', '(', ')', '[', ']', ',', ';', ':'];

/// An email address that passed the rule: kept in NFC with its domain in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks `raw` as typed (not trimmed: a space is a mistake the person should see) and
    /// answers `400` naming `field` when it is not an address.
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let nfc: String = raw.nfc().collect();
        if let Some(why) = refusal(&nfc) {
            return Err(DomainError::new(
                field,
                format!("must be an email address (name@example.com): {why}"),
            ));
        }
        let (local, domain) = nfc.rsplit_once('@').unwrap_or((&nfc, ""));
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// What two addresses are compared by: see [`key_of`].
    pub fn key(&self) -> String {
        key_of(&self.0)
    }
}

/// Why `nfc` is not an address we take, `None` when it is.
fn refusal(nfc: &str) -> Option<&'static str> {
    if nfc.is_empty() {
        return Some("it is empty");
    }
    if nfc.chars().count() > MAX_CHARS {
        return Some("it is longer than 254 characters");
    }
    if nfc.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it may not contain spaces or control characters");
    }
    if nfc.contains(REFUSED) {
        return Some("it may not contain < > \" ` \\ ( ) [ ] , ; or :");
    }
    let options = email_address::Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    email_address::EmailAddress::parse_with_options(nfc, options)
        .err()
        .map(|_| "it is not a mailbox at a domain")
}

/// The form two addresses are compared by (deduplication, the self-referral check): trimmed,
/// NFC, lower case, the local part's `+tag` removed (`Ann+x@Example.com` → `ann@example.com`).
/// Total: a stored value that predates the rule still gets a key. A local part that is only a
/// tag (`+x@…`) is kept whole.
pub fn key_of(raw: &str) -> String {
    let folded: String = raw.trim().nfc().collect::<String>().to_lowercase();
    let Some((local, domain)) = folded.rsplit_once('@') else {
        return folded;
    };
    let local = match local.split_once('+') {
        Some((base, _tag)) if !base.is_empty() => base,
        _ => local,
    };
    format!("{local}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_nfc_and_nfd_of_one_address_dedupe_equal() {
        let nfc = "jos\u{e9}@example.com";
        let nfd = "jose\u{301}@example.com";
        assert_ne!(nfc, nfd);
        assert_eq!(key_of(nfc), key_of(nfd));
        let (a, b) = (
            Email::parse("email", nfc).unwrap(),
            Email::parse("email", nfd).unwrap(),
        );
        assert_eq!(a, b, "both are kept in NFC");
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn email_plus_tags_and_case_dedupe_equal() {
        let tagged = Email::parse("email", "Ann+x@Example.com").unwrap();
        assert_eq!(
            tagged.as_str(),
            "Ann+x@example.com",
            "kept as typed, domain folded"
        );
        assert_eq!(tagged.key(), "ann@example.com");
        assert_eq!(key_of("ann@example.com"), tagged.key());
        assert_eq!(key_of(" ANN+news+more@EXAMPLE.COM "), "ann@example.com");
        // Dots are not folded: only some providers ignore them.
        assert_ne!(key_of("a.nn@example.com"), key_of("ann@example.com"));
        assert_eq!(key_of("+x@example.com"), "+x@example.com");
    }

    #[test]
    fn email_markup_and_non_addresses_are_refused_naming_the_field() {
        for bad in [
            "<svg/onload=alert(1)>@evil.example",
            "\"<b>\"@evil.example",
            "ann@<b>.example",
            "ann@example.com>",
            "a`b@example.com",
            "a(b)@example.com",
            "ann@[127.0.0.1]",
            "Ann <ann@example.com>",
            "ann@example.com,bob@example.com",
            "ann;@example.com",
            "ann\\@example.com",
            "ann@example.com\r\nbcc:x@y.z",
            "ann @example.com",
            " ann@example.com",
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@@example.com",
            "ann..b@example.com",
            "",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(250)),
        ] {
            let e = Email::parse("email", bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn email_real_addresses_pass() {
        for ok in [
            "ann@example.com",
            "o'brien@example.co.uk",
            "first.last+tag@sub.example.org",
            "jos\u{e9}@exampl\u{e9}.fr",
            "a_b-c=d!#$%&*/?^{|}~@example.com",
        ] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
    }
}
