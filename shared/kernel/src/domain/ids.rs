//! Validated identifiers. Parsing is the only way to build one, so any `Handle`, `Slug` or
//! `CampaignId` in the program is known to be well formed (safe in URLs, keys and hostnames).

use super::DomainError;

/// Handles become DNS labels (`{handle}.{redirectDomain}`), so names that collide with
/// infrastructure hosts or product pages are kept back.
const RESERVED_HANDLES: &[&str] = &[
    "api",
    "app",
    "www",
    "admin",
    "root",
    "static",
    "assets",
    "docs",
    "status",
    "mail",
    "localhost",
    "v2",
    "public",
    "support",
    "help",
    "dashboard",
    "login",
    "auth",
    "billing",
    "cdn",
    "ns1",
    "ns2",
];

/// Slugs are the first path segment on a handle's host; these would shadow service paths.
const RESERVED_SLUGS: &[&str] = &["v2", "api", "health", "healthz", "static", "assets", "_"];

/// Shared impls of every string newtype here and in `prefixed`: string access, `Display`,
/// `FromStr` and serde as a plain string validated by the type's own `parse`.
macro_rules! string_id {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A tenant's handle: 3–32 of `[a-z0-9-]`, DNS-label shaped, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

/// A link's slug under a handle: 1–64 of `[a-z0-9-]`, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// A campaign id: 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CampaignId(String);

/// A partner id, chosen by the merchant: the same shape as a campaign id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartnerId(String);

/// A partner group's id (issue 61), chosen by the merchant: the same shape as a partner id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(String);

pub(crate) use string_id;

string_id!(Handle);
string_id!(Slug);
string_id!(CampaignId);
string_id!(PartnerId);
string_id!(GroupId);

impl Handle {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = "handle";
        check_shape(F, raw, 3, 32, false)?;
        if raw.contains("--") {
            return Err(DomainError::new(F, "must not contain consecutive hyphens"));
        }
        check_reserved(F, raw, RESERVED_HANDLES)?;
        Ok(Self(raw.to_owned()))
    }

    /// The partition of the sign-in's own rate limits (the service's, not a handle's): the
    /// email link's and the passkey ceremony's buckets, per client address and per email.
    pub fn sign_in_limits() -> Self {
        Self("tenx-sign-in".to_owned())
    }
}

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = "slug";
        check_shape(F, raw, 1, 64, false)?;
        check_reserved(F, raw, RESERVED_SLUGS)?;
        Ok(Self(raw.to_owned()))
    }

    /// What an unattributed conversion's claims name instead of a link: the reserved `_`, so
    /// no link ever has it. Recorded as an empty slug.
    pub fn unattributed() -> Self {
        Self("_".to_owned())
    }

    pub fn is_unattributed(&self) -> bool {
        self.0 == "_"
    }
}

impl CampaignId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_shape("campaignId", raw, 1, 64, true)?;
        Ok(Self(raw.to_owned()))
    }
}

impl PartnerId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_shape("partnerId", raw, 1, 64, true)?;
        Ok(Self(raw.to_owned()))
    }
}

impl GroupId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_shape("groupId", raw, 1, 64, true)?;
        Ok(Self(raw.to_owned()))
    }
}

/// Length, alphabet and first/last character rules common to the three ids.
fn check_shape(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
    allow_underscore: bool,
) -> Result<(), DomainError> {
    // Byte length is the character count here: anything non-ASCII fails the alphabet check.
    if raw.len() < min || raw.len() > max {
        let msg = if min == 1 {
            format!("must be 1 to {max} characters long")
        } else {
            format!("must be {min} to {max} characters long")
        };
        return Err(DomainError::new(field, msg));
    }
    let allowed = |b: u8| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (allow_underscore && b == b'_')
    };
    if !raw.bytes().all(allowed) {
        let msg = if allow_underscore {
            "may only contain lowercase letters, digits, hyphens and underscores"
        } else {
            "may only contain lowercase letters, digits and hyphens"
        };
        return Err(DomainError::new(field, msg));
    }
    let first = raw.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(DomainError::new(field, "must start with a letter or digit"));
    }
    if !allow_underscore && raw.ends_with('-') {
        return Err(DomainError::new(field, "must not end with a hyphen"));
    }
    Ok(())
}

fn check_reserved(field: &str, raw: &str, reserved: &[&str]) -> Result<(), DomainError> {
    if reserved.contains(&raw) {
        return Err(DomainError::new(field, format!("'{raw}' is reserved")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_table() {
        let long = "a".repeat(32);
        let too_long = "a".repeat(33);
        let cases: &[(&str, Option<&str>)] = &[
            ("abc", None),
            ("acme-co", None),
            ("9lives", None),
            ("a1-b2-c3", None),
            (&long, None),
            ("ab", Some("must be 3 to 32 characters long")),
            ("", Some("must be 3 to 32 characters long")),
            (&too_long, Some("must be 3 to 32 characters long")),
            (
                "Acme",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "ac_me",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "acmé",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "ac me",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            ("-acme", Some("must start with a letter or digit")),
            ("acme-", Some("must not end with a hyphen")),
            ("ac--me", Some("must not contain consecutive hyphens")),
            ("admin", Some("'admin' is reserved")),
            ("www", Some("'www' is reserved")),
            ("localhost", Some("'localhost' is reserved")),
            ("ns1", Some("'ns1' is reserved")),
        ];
        for (raw, want) in cases {
            let got = Handle::parse(raw);
            match want {
                None => assert_eq!(got.expect(raw).as_str(), *raw),
                Some(msg) => {
                    let e = got.expect_err(raw);
                    assert_eq!(e.field, "handle", "{raw}");
                    assert_eq!(e.message, *msg, "{raw}");
                }
            }
        }
    }

    #[test]
    fn every_reserved_handle_is_refused() {
        for r in RESERVED_HANDLES.iter().filter(|r| r.len() >= 3) {
            assert!(Handle::parse(r).is_err(), "{r}");
        }
        // "v2" is too short anyway; still refused.
        assert!(Handle::parse("v2").is_err());
    }

    #[test]
    fn slug_table() {
        let long = "s".repeat(64);
        let too_long = "s".repeat(65);
        let cases: &[(&str, Option<&str>)] = &[
            ("a", None),
            ("7", None),
            ("summer-sale", None),
            ("a--b", None),
            (&long, None),
            ("", Some("must be 1 to 64 characters long")),
            (&too_long, Some("must be 1 to 64 characters long")),
            (
                "Sale",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "a/b",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "a.b",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            (
                "_",
                Some("may only contain lowercase letters, digits and hyphens"),
            ),
            ("-a", Some("must start with a letter or digit")),
            ("a-", Some("must not end with a hyphen")),
            ("api", Some("'api' is reserved")),
            ("healthz", Some("'healthz' is reserved")),
            ("v2", Some("'v2' is reserved")),
        ];
        for (raw, want) in cases {
            let got = Slug::parse(raw);
            match want {
                None => assert_eq!(got.expect(raw).as_str(), *raw),
                Some(msg) => {
                    let e = got.expect_err(raw);
                    assert_eq!(e.field, "slug", "{raw}");
                    assert_eq!(e.message, *msg, "{raw}");
                }
            }
        }
    }

    #[test]
    fn campaign_id_table() {
        let cases: &[(&str, bool)] = &[
            ("spring_2025", true),
            ("q3-launch", true),
            ("x", true),
            ("a_", true),
            ("_a", false),
            ("-a", false),
            ("", false),
            ("Spring", false),
            ("a b", false),
            (&"c".repeat(64), true),
            (&"c".repeat(65), false),
        ];
        for (raw, ok) in cases {
            let got = CampaignId::parse(raw);
            assert_eq!(got.is_ok(), *ok, "{raw}: {got:?}");
            if let Err(e) = got {
                assert_eq!(e.field, "campaignId");
            }
        }
    }

    #[test]
    fn serde_is_a_plain_string_and_deserialize_validates() {
        let h = Handle::parse("acme").unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"acme\"");
        let back: Handle = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(back, h);
        let err = serde_json::from_str::<Handle>("\"Admin!\"").unwrap_err();
        assert!(err.to_string().contains("handle:"), "{err}");
        assert!(serde_json::from_str::<Slug>("\"api\"").is_err());
        assert!(serde_json::from_str::<Slug>("12").is_err());
        let c: CampaignId = serde_json::from_str("\"spring_25\"").unwrap();
        assert_eq!(c.to_string(), "spring_25");
    }

    #[test]
    fn display_and_from_str_agree_with_parse() {
        let s: Slug = "promo-1".parse().unwrap();
        assert_eq!(format!("{s}"), "promo-1");
        assert_eq!(s.as_ref(), "promo-1");
        assert!("Promo".parse::<Slug>().is_err());
    }
}
