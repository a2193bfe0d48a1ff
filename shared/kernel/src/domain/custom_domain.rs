//! Custom domains (issue 64), the pure part: a domain name as a handle may claim it (one host,
//! in its ASCII form), the domain's record and its statuses, its app links and the two
//! well-known files they make. No storage, no DNS: `tenx_tracking::domains` does those.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle};

/// How long a domain whose daily re-check fails keeps serving its links (status `failing`):
/// a DNS change gone wrong is repaired within it without a partner's link breaking.
pub const GRACE_SECS: i64 = 7 * 86_400;

/// How often a verified domain's TXT record is checked again.
pub const RECHECK_SECS: i64 = 86_400;

/// The label the verification record sits under: `_tenx.{domain}`.
pub const VERIFICATION_LABEL: &str = "_tenx";

/// One host name, lower-case ASCII (an IDN in its punycode form, UTS 46), without a trailing
/// dot: at least two labels, never a wildcard, never an IP address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "domain";
        let raw = raw.trim();
        let raw = raw.strip_suffix('.').unwrap_or(raw);
        if raw.is_empty() {
            return Err(DomainError::new(
                FIELD,
                "must name a host, such as go.example.com",
            ));
        }
        if raw.contains('*') {
            return Err(DomainError::new(
                FIELD,
                "a wildcard is not taken: name the one host your links are served on",
            ));
        }
        let unbracketed = raw.trim_start_matches('[').trim_end_matches(']');
        if unbracketed.parse::<IpAddr>().is_ok() {
            return Err(DomainError::new(
                FIELD,
                "an IP address is not taken: name a host under a domain you own",
            ));
        }
        let ascii = idna::domain_to_ascii_strict(raw).map_err(|_| {
            DomainError::new(
                FIELD,
                "is not a valid host name (letters, digits, hyphens and dots)",
            )
        })?;
        let labels: Vec<&str> = ascii.split('.').collect();
        let valid_label = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if ascii.len() > 253 || labels.len() < 2 || !labels.iter().all(valid_label) {
            return Err(DomainError::new(
                FIELD,
                "must be a host with at least two labels, such as go.example.com",
            ));
        }
        // A last label of digits only is an address written in pieces, not a name.
        if labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DomainError::new(FIELD, "an IP address is not taken"));
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the verification record goes: `_tenx.{domain}`.
    pub fn verification_name(&self) -> String {
        format!("{VERIFICATION_LABEL}.{}", self.0)
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a domain stands. Locally (no TLS edge: `Host` is enough): `pending` → `verified`. On
/// AWS, where the stack's edge terminates TLS for it: `pending` → `pending_dns` (verified; its
/// certificate waits for the validation record) → `pending_tls` (certificate issued; its
/// CloudFront distribution deploying) → `active`, or `failed` when ACM or CloudFront refused
/// (the reason in [`Tls::reason`]). A failed daily re-check makes any verified state `failing`
/// (still serving for [`GRACE_SECS`]), a passing one restores it ([`CustomDomain::settled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    Pending,
    Verified,
    Failing,
    PendingDns,
    PendingTls,
    Active,
    Failed,
}

/// A DNS record the merchant publishes (the certificate's validation CNAME, or the domain's
/// CNAME to the edge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cname {
    pub name: String,
    pub value: String,
}

/// What the stack's edge holds for a domain on AWS (`domains::edge`): each step's result is
/// recorded before the next step runs, so a pass that dies between an AWS call and its record
/// is finished by the next one (the calls are idempotent by [`Tls::reference`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tls {
    /// Which attempt this is (a verify after `failed` starts the next, with new resources).
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    /// The certificate's DNS validation record, once ACM has made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Cname>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    /// The distribution's host (`d123.cloudfront.net`), which the domain points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The distribution is deployed: the domain is live over HTTPS.
    #[serde(default)]
    pub live: bool,
    /// Why ACM or CloudFront refused, in words (status `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Tls {
    /// The status these resources make.
    pub fn status(&self) -> DomainStatus {
        match self {
            Tls {
                reason: Some(_), ..
            } => DomainStatus::Failed,
            Tls { live: true, .. } => DomainStatus::Active,
            Tls {
                distribution_id: Some(_),
                ..
            } => DomainStatus::PendingTls,
            _ => DomainStatus::PendingDns,
        }
    }

    /// The idempotency key of this attempt's AWS calls (ACM's `IdempotencyToken`, at most 32
    /// word characters; CloudFront's `CallerReference`): the same domain, claim and attempt
    /// always make the same key, so a replayed call finds what the first one made.
    pub fn reference(&self, record: &CustomDomain) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!(
            "{}|{}|{}",
            record.domain.as_str(),
            record.token,
            self.attempt
        ));
        hex::encode(&digest[..16])
    }
}

/// iOS universal links: the apps (`{teamId}.{bundleId}`) and the paths they open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IosAppLinks {
    pub app_ids: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
}

/// Android app links: the package and its signing certificates' SHA-256 fingerprints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AndroidAppLinks {
    pub package: String,
    pub sha256_fingerprints: Vec<String>,
}

/// A domain's app links: what its two well-known files say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios: Option<IosAppLinks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android: Option<AndroidAppLinks>,
}

impl AppLinks {
    /// Checks each field, naming it (`appLinks.ios.appIds[0]`) when refused.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(ios) = &self.ios {
            if ios.app_ids.is_empty() || ios.app_ids.len() > 20 {
                return Err(DomainError::new(
                    "appLinks.ios.appIds",
                    "must hold 1 to 20 app ids",
                ));
            }
            for (i, id) in ios.app_ids.iter().enumerate() {
                if !is_apple_app_id(id) {
                    return Err(DomainError::new(
                        format!("appLinks.ios.appIds[{i}]"),
                        "must be a team id and a bundle id, such as ABCDE12345.com.example.app",
                    ));
                }
            }
            if ios.paths.len() > 50 {
                return Err(DomainError::new("appLinks.ios.paths", "at most 50 paths"));
            }
            for (i, p) in ios.paths.iter().enumerate() {
                let ok = (p.starts_with('/') || p == "*" || p.starts_with("NOT /"))
                    && p.len() <= 200
                    && !p.chars().any(char::is_control);
                if !ok {
                    return Err(DomainError::new(
                        format!("appLinks.ios.paths[{i}]"),
                        "must start with / (or be *, or NOT /…)",
                    ));
                }
            }
        }
        if let Some(android) = &self.android {
            if !is_java_package(&android.package) {
                return Err(DomainError::new(
                    "appLinks.android.package",
                    "must be an application id, such as com.example.app",
                ));
            }
            if android.sha256_fingerprints.is_empty() || android.sha256_fingerprints.len() > 10 {
                return Err(DomainError::new(
                    "appLinks.android.sha256Fingerprints",
                    "must hold 1 to 10 fingerprints",
                ));
            }
            for (i, f) in android.sha256_fingerprints.iter().enumerate() {
                if !is_sha256_fingerprint(f) {
                    return Err(DomainError::new(
                        format!("appLinks.android.sha256Fingerprints[{i}]"),
                        "must be 32 bytes in upper-case hex separated by colons (AB:CD:…)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// `/.well-known/apple-app-site-association`, when iOS apps are set.
    pub fn apple_app_site_association(&self) -> Option<serde_json::Value> {
        let ios = self.ios.as_ref()?;
        let paths: Vec<&str> = if ios.paths.is_empty() {
            vec!["*"]
        } else {
            ios.paths.iter().map(String::as_str).collect()
        };
        let components: Vec<serde_json::Value> = paths
            .iter()
            .map(|p| match p.strip_prefix("NOT ") {
                Some(p) => serde_json::json!({"/": p, "exclude": true}),
                None => serde_json::json!({"/": p}),
            })
            .collect();
        // Both forms: `appIDs` + `components` (iOS 13 and later), `appID` + `paths` (before).
        let mut details: Vec<serde_json::Value> = vec![serde_json::json!({
            "appIDs": ios.app_ids,
            "components": components,
        })];
        details.extend(
            ios.app_ids
                .iter()
                .map(|id| serde_json::json!({"appID": id, "paths": paths})),
        );
        Some(serde_json::json!({"applinks": {"apps": [], "details": details}}))
    }

    /// `/.well-known/assetlinks.json`, when an Android app is set.
    pub fn asset_links(&self) -> Option<serde_json::Value> {
        let android = self.android.as_ref()?;
        Some(serde_json::json!([{
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": android.package,
                "sha256_cert_fingerprints": android.sha256_fingerprints,
            }
        }]))
    }
}

fn is_apple_app_id(id: &str) -> bool {
    let Some((team, bundle)) = id.split_once('.') else {
        return false;
    };
    team.len() == 10
        && team
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !bundle.is_empty()
        && bundle.len() <= 155
        && bundle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn is_java_package(p: &str) -> bool {
    let parts: Vec<&str> = p.split('.').collect();
    p.len() <= 150
        && parts.len() >= 2
        && parts.iter().all(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

fn is_sha256_fingerprint(f: &str) -> bool {
    let parts: Vec<&str> = f.split(':').collect();
    parts.len() == 32
        && parts.iter().all(|b| {
            b.len() == 2
                && b.bytes()
                    .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        })
}

/// A domain as stored, under its claim and in its handle's list (the same document in both,
/// written in one transaction).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomain {
    pub domain: DomainName,
    pub handle: Handle,
    pub status: DomainStatus,
    /// The TXT value to publish at `_tenx.{domain}`: random, made when the handle claimed it.
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_found_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_links: Option<AppLinks>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// The certificate and distribution on AWS (`None` locally, and before verification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

impl CustomDomain {
    /// The status of a verified domain whose record is found: its edge's stage on AWS, else
    /// `verified`.
    pub fn settled(&self) -> DomainStatus {
        self.tls
            .as_ref()
            .map_or(DomainStatus::Verified, Tls::status)
    }

    /// Whether its links are served at `now_ms`: verified (whatever its edge's stage: an edge
    /// that failed leaves HTTPS off, not the ownership proven), or failing within the grace
    /// period.
    pub fn serving(&self, now_ms: i64) -> bool {
        match self.status {
            DomainStatus::Verified
            | DomainStatus::PendingDns
            | DomainStatus::PendingTls
            | DomainStatus::Active
            | DomainStatus::Failed => true,
            DomainStatus::Failing => self
                .failing_since
                .as_ref()
                .is_some_and(|since| now_ms - since.millis() < GRACE_SECS * 1000),
            DomainStatus::Pending => false,
        }
    }

    /// Whether the daily re-check is due at `now_ms`.
    pub fn recheck_due(&self, now_ms: i64) -> bool {
        self.status != DomainStatus::Pending
            && self
                .last_checked_at
                .as_ref()
                .is_none_or(|at| now_ms - at.millis() >= RECHECK_SECS * 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_stage_makes_the_status_and_its_reference_is_one_per_attempt() {
        let record = CustomDomain {
            domain: DomainName::parse("go.example.com").unwrap(),
            handle: Handle::parse("acme").unwrap(),
            status: DomainStatus::Failing,
            token: "tenx-verification=00".into(),
            not_found_url: None,
            root_url: None,
            app_links: None,
            created_at: Timestamp::from_millis(0),
            verified_at: None,
            last_checked_at: None,
            failing_since: None,
            tls: None,
        };
        // No edge (locally): a found record is `verified`.
        assert_eq!(record.settled(), DomainStatus::Verified);
        let mut tls = Tls::default();
        assert_eq!(tls.status(), DomainStatus::PendingDns);
        tls.certificate_arn = Some("arn:aws:acm:us-east-1:1:certificate/x".into());
        assert_eq!(tls.status(), DomainStatus::PendingDns);
        tls.distribution_id = Some("E1".into());
        assert_eq!(tls.status(), DomainStatus::PendingTls);
        tls.live = true;
        assert_eq!(tls.status(), DomainStatus::Active);
        // A failing domain's re-check that finds its record restores the stage.
        let on_aws = CustomDomain {
            tls: Some(tls.clone()),
            ..record.clone()
        };
        assert_eq!(on_aws.settled(), DomainStatus::Active);
        tls.reason = Some("refused".into());
        assert_eq!(tls.status(), DomainStatus::Failed);

        // ACM's idempotency token: 32 word characters, the same for the same attempt.
        let first = Tls::default().reference(&record);
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(first, Tls::default().reference(&record));
        let next = Tls {
            attempt: 1,
            ..Tls::default()
        };
        assert_ne!(first, next.reference(&record));
        let reclaimed = CustomDomain {
            token: "tenx-verification=01".into(),
            ..record
        };
        assert_ne!(first, Tls::default().reference(&reclaimed));
    }

    #[test]
    fn names_are_one_host_in_ascii_form() {
        let ok = |s: &str| DomainName::parse(s).map(|d| d.to_string());
        assert_eq!(ok("Go.Example.COM.").unwrap(), "go.example.com");
        assert_eq!(ok("bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(
            ok("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "*.example.com",
            "go.*.com",
            "127.0.0.1",
            "[::1]",
            "::1",
            "localhost",
            "go.example.com:8080",
            "go.example.com/x",
            "-go.example.com",
            "go..example.com",
            "a b.example.com",
            "1.2.3.4444",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?} was taken");
        }
        assert_eq!(
            DomainName::parse("go.example.com")
                .unwrap()
                .verification_name(),
            "_tenx.go.example.com"
        );
    }

    #[test]
    fn app_links_are_checked_field_by_field_and_render_both_files() {
        let links: AppLinks = serde_json::from_value(serde_json::json!({
            "ios": {"appIds": ["ABCDE12345.com.example.app"], "paths": ["/p/*", "NOT /admin"]},
            "android": {"package": "com.example.app",
                        "sha256Fingerprints": [vec!["AB"; 32].join(":")]}
        }))
        .unwrap();
        links.validate().unwrap();
        let aasa = links.apple_app_site_association().unwrap();
        assert_eq!(
            aasa["applinks"]["details"][0]["appIDs"][0],
            "ABCDE12345.com.example.app"
        );
        assert_eq!(
            aasa["applinks"]["details"][0]["components"][1]["exclude"],
            true
        );
        assert_eq!(aasa["applinks"]["details"][1]["paths"][0], "/p/*");
        let assets = links.asset_links().unwrap();
        assert_eq!(assets[0]["target"]["package_name"], "com.example.app");

        let bad_id: AppLinks =
            serde_json::from_value(serde_json::json!({"ios": {"appIds": ["com.example"]}}))
                .unwrap();
        assert_eq!(
            bad_id.validate().unwrap_err().field,
            "appLinks.ios.appIds[0]"
        );
        let bad_print: AppLinks = serde_json::from_value(serde_json::json!({
            "android": {"package": "com.example.app", "sha256Fingerprints": ["ab:cd"]}
        }))
        .unwrap();
        assert_eq!(
            bad_print.validate().unwrap_err().field,
            "appLinks.android.sha256Fingerprints[0]"
        );
        assert!(AppLinks::default().apple_app_site_association().is_none());
    }
}
