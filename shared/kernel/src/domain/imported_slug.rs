//! The slug rule for links imported from another shortener (issue 64). Bitly, Short.io and
//! Rebrandly keep mixed-case back-halves that may hold `_` (`go.brand.com/Spring_Sale`), which
//! the native rule (`[a-z0-9-]`, [`Slug`]) refuses. An imported slug keeps its exact characters
//! as an **alias**: the link itself is stored under a native slug derived from it
//! ([`ImportedSlug::native`]), and the redirect serves the alias by an exact, case-sensitive
//! lookup when the path is not a native slug. A native-shaped imported slug is the link's own
//! slug, no alias. Documented in `docs/redirects.md`.

use sha2::{Digest, Sha256};

use super::{DomainError, Slug};

/// The longest imported slug accepted (the native rule's length).
pub const MAX_LEN: usize = 64;

/// An imported slug: 1–64 of `[A-Za-z0-9_-]`, starting with a letter or digit, not a reserved
/// path (compared without case).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImportedSlug(String);

impl ImportedSlug {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = "slug";
        if raw.is_empty() || raw.len() > MAX_LEN {
            return Err(DomainError::new(F, "must be 1 to 64 characters long"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(DomainError::new(
                F,
                "may only contain letters, digits, hyphens and underscores",
            ));
        }
        if !raw.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(DomainError::new(F, "must start with a letter or digit"));
        }
        let lower = raw.to_ascii_lowercase();
        if Slug::parse(&lower).is_err_and(|e| e.message.contains("reserved")) {
            return Err(DomainError::new(F, format!("'{raw}' is reserved")));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slug the link is stored under: the imported slug itself when the native rule takes
    /// it, else its lower-cased form (`_` as `-`) cut to fit, and 6 hex digits of its SHA-256, so
    /// `Spring` and `spring` never meet.
    pub fn native(&self) -> Slug {
        if let Ok(slug) = Slug::parse(&self.0) {
            return slug;
        }
        let mut base: String = self
            .0
            .chars()
            .map(|c| {
                if c == '_' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .take(MAX_LEN - 7)
            .collect();
        while base.ends_with('-') {
            base.pop();
        }
        let digest = hex::encode(Sha256::digest(self.0.as_bytes()));
        let native = if base.is_empty() {
            format!("i{}", &digest[..6])
        } else {
            format!("{base}-{}", &digest[..6])
        };
        Slug::parse(&native).expect("lower-case letters, digits and inner hyphens")
    }

    /// Whether the link needs an alias (its native slug differs).
    pub fn needs_alias(&self) -> bool {
        self.native().as_str() != self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_slugs_stay_themselves() {
        let s = ImportedSlug::parse("spring-sale").unwrap();
        assert_eq!(s.native().as_str(), "spring-sale");
        assert!(!s.needs_alias());
    }

    #[test]
    fn mixed_case_and_underscores_get_an_alias() {
        let upper = ImportedSlug::parse("Spring_Sale").unwrap();
        let lower = ImportedSlug::parse("spring_sale").unwrap();
        assert!(upper.needs_alias());
        assert!(upper.native().as_str().starts_with("spring-sale-"));
        assert_ne!(upper.native(), lower.native());
        let long = ImportedSlug::parse(&"A_".repeat(32)).unwrap();
        assert!(long.native().as_str().len() <= MAX_LEN);
        assert!(ImportedSlug::parse("___").is_err());
        assert!(
            ImportedSlug::parse("9__")
                .unwrap()
                .native()
                .as_str()
                .starts_with('9')
        );
    }

    #[test]
    fn refused() {
        for bad in ["", "a/b", "é", "a.b", "-a", "V2", "API", &"a".repeat(65)] {
            assert!(ImportedSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
