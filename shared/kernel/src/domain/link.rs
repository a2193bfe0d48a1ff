//! Links: the `PUT` body ([`LinkSpec`]), its validation into [`ValidLinkSpec`], and the stored
//! [`Link`]. Validation normalizes routing conditions once here, so the redirect path can
//! compare cheaply.

use crate::domain::time::Timestamp;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::url_check::validate_destination;
use super::{CampaignId, DomainError, Handle, Slug};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TRACKING_VALUE_CHARS: usize = 200;
pub const MAX_ROUTING_RULES: usize = 50;
pub const MAX_CONDITION_VALUES: usize = 50;
pub const MAX_CONDITION_VALUE_CHARS: usize = 100;

/// The device names a `deviceIn` condition may use (what the redirect classifier produces).
pub const DEVICE_NAMES: [&str; 4] = ["mobile", "tablet", "desktop", "other"];

/// The operating systems an `osIn` condition may name (`visitor::Os`, whose names these are:
/// a test keeps the two in step).
pub const OS_NAMES: [&str; 6] = ["ios", "android", "windows", "macos", "linux", "other"];

/// UTM parameters appended to the destination on redirect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tracking {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
}

impl Tracking {
    /// `(query parameter, JSON field, value)` for all five, in the canonical UTM order.
    fn fields(&self) -> [(&'static str, &'static str, &Option<String>); 5] {
        [
            ("utm_source", "utmSource", &self.utm_source),
            ("utm_medium", "utmMedium", &self.utm_medium),
            ("utm_campaign", "utmCampaign", &self.utm_campaign),
            ("utm_term", "utmTerm", &self.utm_term),
            ("utm_content", "utmContent", &self.utm_content),
        ]
    }

    /// The set values as query pairs, e.g. `("utm_source", "newsletter")`, in UTM order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.fields()
            .into_iter()
            .filter_map(|(param, _, v)| v.as_deref().map(|v| (param, v)))
            .collect()
    }
}

/// A rule's conditions: each present list is an OR of its values; all present lists must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteConditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_in: Option<Vec<String>>,
    /// The visitor's operating system (issue 64): `ios`, `android`, `windows`, `macos`,
    /// `linux`, `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_in: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingRule {
    pub priority: i64,
    pub destination_url: String,
    #[serde(default)]
    pub conditions: RouteConditions,
}

/// The body of `PUT /v2/handles/{handle}/links/{slug}`, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkSpec {
    pub destination_url: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub tracking: Option<Tracking>,
    #[serde(default)]
    pub routing_rules: Vec<RoutingRule>,
    /// Text until [`LinkSpec::validate`] reads it, in its turn among the fields: a malformed id
    /// is refused in the words every field is (`campaignId: …`), not as a body that failed to
    /// parse.
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// Whether the short URL's own query is forwarded to the destination (default true).
    #[serde(default)]
    pub forward_query: Option<bool>,
    /// RFC 3339; from this instant on the link no longer redirects to its destination.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Where an expired link sends visitors (else `410 link_expired`).
    #[serde(default)]
    pub expired_url: Option<String>,
    /// An A/B test: 2 to 4 destinations splitting what no routing rule takes (`[]` or `null`:
    /// none).
    #[serde(default)]
    pub variants: Option<Vec<super::variants::VariantSpec>>,
}

/// A [`LinkSpec`] that passed validation: URLs normalized, conditions normalized, rules sorted
/// ascending by priority.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLinkSpec {
    pub destination_url: String,
    pub title: Option<String>,
    pub tracking: Option<Tracking>,
    pub routing_rules: Vec<RoutingRule>,
    pub campaign_id: Option<CampaignId>,
    pub forward_query: bool,
    pub expiry: Option<Expiry>,
    /// Empty: no test.
    pub variants: Vec<super::Variant>,
}

/// When a link expires and where it then sends visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expiry {
    /// RFC 3339, as given (normalized).
    pub expires_at: Timestamp,
    /// Unix seconds of `expires_at`: the redirect compares numbers, never parses.
    pub expires_at_unix: i64,
    pub expired_url: Option<String>,
}

impl Expiry {
    fn validate(at: Option<String>, url: Option<String>) -> Result<Option<Expiry>, DomainError> {
        let Some(at) = at else {
            if url.is_some() {
                return Err(DomainError::new("expiredUrl", "needs expiresAt"));
            }
            return Ok(None);
        };
        let parsed = crate::domain::time::parse_rfc3339(&at)
            .ok_or_else(|| DomainError::new("expiresAt", "must be an RFC 3339 timestamp"))?;
        let expired_url = url
            .map(|u| validate_destination("expiredUrl", &u).map(String::from))
            .transpose()?;
        Ok(Some(Expiry {
            expires_at: Timestamp::at(parsed),
            expires_at_unix: parsed.unix_timestamp(),
            expired_url,
        }))
    }
}

impl LinkSpec {
    pub fn validate(self) -> Result<ValidLinkSpec, DomainError> {
        // Stored in the parser's serialization (ASCII, percent-encoded, IDN as punycode): what
        // was checked is exactly what is later served in `location`.
        let destination_url = validate_destination("destinationUrl", &self.destination_url)?.into();
        if let Some(title) = &self.title {
            check_text("title", title, 0, MAX_TITLE_CHARS)?;
        }
        if let Some(tracking) = &self.tracking {
            for (_, json, value) in tracking.fields() {
                if let Some(v) = value {
                    check_text(&format!("tracking.{json}"), v, 1, MAX_TRACKING_VALUE_CHARS)?;
                }
            }
        }
        let routing_rules = validate_rules(self.routing_rules)?;
        let campaign_id = self
            .campaign_id
            .as_deref()
            .map(CampaignId::parse)
            .transpose()?;
        Ok(ValidLinkSpec {
            destination_url,
            title: self.title,
            tracking: self.tracking,
            routing_rules,
            campaign_id,
            forward_query: self.forward_query.unwrap_or(true),
            expiry: Expiry::validate(self.expires_at, self.expired_url)?,
            variants: super::variants::validate(self.variants)?,
        })
    }
}

fn validate_rules(rules: Vec<RoutingRule>) -> Result<Vec<RoutingRule>, DomainError> {
    if rules.len() > MAX_ROUTING_RULES {
        return Err(DomainError::new(
            "routingRules",
            format!("must contain at most {MAX_ROUTING_RULES} rules"),
        ));
    }
    let mut seen = HashSet::with_capacity(rules.len());
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.into_iter().enumerate() {
        if !seen.insert(rule.priority) {
            return Err(DomainError::new(
                format!("routingRules[{i}].priority"),
                format!("duplicate priority {}", rule.priority),
            ));
        }
        let dest = validate_destination(
            &format!("routingRules[{i}].destinationUrl"),
            &rule.destination_url,
        )?;
        let conditions = validate_conditions(i, rule.conditions)?;
        out.push(RoutingRule {
            priority: rule.priority,
            destination_url: dest.into(),
            conditions,
        });
    }
    // Stable, so equal keys cannot occur anyway; the redirect path relies on this order.
    out.sort_by_key(|r| r.priority);
    Ok(out)
}

/// What a condition list holds, which decides how its values are checked and normalized.
#[derive(Clone, Copy)]
enum ListKind {
    Country,
    Device,
    Os,
    Free,
}

fn validate_conditions(rule: usize, c: RouteConditions) -> Result<RouteConditions, DomainError> {
    if c.country_in.is_none()
        && c.device_in.is_none()
        && c.source_in.is_none()
        && c.campaign_in.is_none()
        && c.os_in.is_none()
    {
        // A rule without conditions would match everyone and shadow every later rule and the
        // default destination; that is what `destinationUrl` is for.
        return Err(DomainError::new(
            format!("routingRules[{rule}].conditions"),
            "must contain at least one of countryIn, deviceIn, sourceIn, campaignIn or osIn",
        ));
    }
    let list = |name: &str, values: Option<Vec<String>>, kind: ListKind| {
        values
            .map(|v| validate_list(&format!("routingRules[{rule}].conditions.{name}"), v, kind))
            .transpose()
    };
    Ok(RouteConditions {
        country_in: list("countryIn", c.country_in, ListKind::Country)?,
        device_in: list("deviceIn", c.device_in, ListKind::Device)?,
        source_in: list("sourceIn", c.source_in, ListKind::Free)?,
        campaign_in: list("campaignIn", c.campaign_in, ListKind::Free)?,
        os_in: list("osIn", c.os_in, ListKind::Os)?,
    })
}

fn validate_list(
    field: &str,
    values: Vec<String>,
    kind: ListKind,
) -> Result<Vec<String>, DomainError> {
    if values.is_empty() || values.len() > MAX_CONDITION_VALUES {
        return Err(DomainError::new(
            field,
            format!("must list 1 to {MAX_CONDITION_VALUES} values"),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(j, raw)| {
            let field = format!("{field}[{j}]");
            let v = raw.trim();
            check_text(&field, v, 1, MAX_CONDITION_VALUE_CHARS)?;
            match kind {
                ListKind::Country if v.eq_ignore_ascii_case("unknown") => Ok("unknown".to_owned()),
                ListKind::Country if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    Ok(v.to_ascii_uppercase())
                }
                ListKind::Country => Err(DomainError::new(
                    field,
                    "must be a two-letter ISO 3166 country code or 'unknown'",
                )),
                ListKind::Device => {
                    let lower = v.to_ascii_lowercase();
                    if DEVICE_NAMES.contains(&lower.as_str()) {
                        Ok(lower)
                    } else {
                        Err(DomainError::new(
                            field,
                            "must be one of mobile, tablet, desktop, other",
                        ))
                    }
                }
                ListKind::Os => {
                    let lower = v.to_ascii_lowercase();
                    if OS_NAMES.contains(&lower.as_str()) {
                        Ok(lower)
                    } else {
                        Err(DomainError::new(
                            field,
                            "must be one of ios, android, windows, macos, linux, other",
                        ))
                    }
                }
                ListKind::Free => Ok(v.to_lowercase()),
            }
        })
        .collect()
}

/// Length in characters within `min..=max`, and no control characters (they would end up in
/// headers, logs and CSV exports).
fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), DomainError> {
    let len = value.chars().count();
    if len < min || len > max {
        let msg = if min == 0 {
            format!("must be at most {max} characters long")
        } else {
            format!("must be {min} to {max} characters long")
        };
        return Err(DomainError::new(field, msg));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn forward_by_default() -> bool {
    true
}

/// A link as stored and returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub handle: Handle,
    pub slug: Slug,
    pub destination_url: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub tracking: Option<Tracking>,
    #[serde(default)]
    pub routing_rules: Vec<RoutingRule>,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    /// The short URL's query goes on to the destination (links stored before it existed: true).
    #[serde(default = "forward_by_default")]
    pub forward_query: bool,
    /// `expiresAt`, `expiresAtUnix` and `expiredUrl`, when the link expires.
    #[serde(default, flatten)]
    pub expiry: Option<Expiry>,
    /// The A/B test's destinations and weights (none: no test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<super::Variant>,
    /// `variantsSince` and `variantsSinceMillis`: when the current variants and weights took
    /// effect (set with the variants, reset whenever they change).
    #[serde(default, flatten)]
    pub variant_period: Option<super::VariantPeriod>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Link {
    pub fn from_spec(
        handle: Handle,
        slug: Slug,
        spec: ValidLinkSpec,
        version: u64,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> Link {
        Link {
            handle,
            slug,
            destination_url: spec.destination_url,
            title: spec.title,
            tracking: spec.tracking,
            routing_rules: spec.routing_rules,
            campaign_id: spec.campaign_id,
            forward_query: spec.forward_query,
            expiry: spec.expiry,
            variants: spec.variants,
            variant_period: None,
            version,
            created_at,
            updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(v: serde_json::Value) -> LinkSpec {
        serde_json::from_value(v).expect("spec should deserialize")
    }

    fn err_of(v: serde_json::Value) -> DomainError {
        spec(v).validate().expect_err("spec should be refused")
    }

    fn rule(priority: i64, conditions: serde_json::Value) -> serde_json::Value {
        json!({"priority": priority, "destinationUrl": "https://r.example/", "conditions": conditions})
    }

    #[test]
    fn full_spec_validates_normalizes_and_sorts() {
        let v = spec(json!({
            "destinationUrl": "https://Example.com/landing?x=1",
            "title": "Spring sale",
            "tracking": {"utmSource": "newsletter", "utmCampaign": "spring"},
            "routingRules": [
                {"priority": 20, "destinationUrl": "https://m.example.com", "conditions": {"deviceIn": ["Mobile", " tablet "]}},
                {"priority": -5, "destinationUrl": "https://de.example.com/", "conditions": {"countryIn": ["de", "AT", "Unknown"], "sourceIn": ["Twitter"], "campaignIn": ["Spring_25"]}}
            ],
            "campaignId": "spring_25"
        }))
        .validate()
        .unwrap();
        assert_eq!(v.destination_url, "https://example.com/landing?x=1");
        assert_eq!(v.title.as_deref(), Some("Spring sale"));
        assert_eq!(
            v.campaign_id.as_ref().map(CampaignId::as_str),
            Some("spring_25")
        );
        let prios: Vec<i64> = v.routing_rules.iter().map(|r| r.priority).collect();
        assert_eq!(prios, [-5, 20]);
        let c = &v.routing_rules[0].conditions;
        assert_eq!(
            c.country_in.as_deref(),
            Some(&["DE".to_owned(), "AT".into(), "unknown".into()][..])
        );
        assert_eq!(c.source_in.as_deref(), Some(&["twitter".to_owned()][..]));
        assert_eq!(
            c.campaign_in.as_deref(),
            Some(&["spring_25".to_owned()][..])
        );
        assert_eq!(c.device_in, None);
        assert_eq!(
            v.routing_rules[1].conditions.device_in.as_deref(),
            Some(&["mobile".to_owned(), "tablet".into()][..])
        );
        assert_eq!(v.routing_rules[1].destination_url, "https://m.example.com/");
    }

    #[test]
    fn minimal_spec_is_valid() {
        let v = spec(json!({"destinationUrl": "http://example.com/x"}))
            .validate()
            .unwrap();
        assert_eq!(v.destination_url, "http://example.com/x");
        assert!(v.routing_rules.is_empty());
        assert_eq!((v.title, v.tracking, v.campaign_id), (None, None, None));
    }

    #[test]
    fn unknown_fields_are_refused_at_every_level() {
        let bodies = [
            json!({"destinationUrl": "https://e.com", "bogus": 1}),
            json!({"destinationUrl": "https://e.com", "tracking": {"utm_source": "x"}}),
            json!({"destinationUrl": "https://e.com", "routingRules": [{"priority": 1, "destinationUrl": "https://e.com", "extra": true}]}),
            json!({"destinationUrl": "https://e.com", "routingRules": [{"priority": 1, "destinationUrl": "https://e.com", "conditions": {"regionIn": ["x"]}}]}),
        ];
        for b in bodies {
            let e = serde_json::from_value::<LinkSpec>(b.clone()).unwrap_err();
            assert!(e.to_string().contains("unknown field"), "{b}: {e}");
        }
        assert!(serde_json::from_value::<LinkSpec>(json!({"title": "no destination"})).is_err());
    }

    #[test]
    fn refusals_name_the_field() {
        let long_title = "t".repeat(MAX_TITLE_CHARS + 1);
        let many_rules: Vec<_> = (0..=i64::try_from(MAX_ROUTING_RULES).unwrap())
            .map(|p| rule(p, json!({"deviceIn": ["mobile"]})))
            .collect();
        let many_values: Vec<String> = (0..=MAX_CONDITION_VALUES)
            .map(|i| format!("s{i}"))
            .collect();
        let cases = [
            (
                json!({"destinationUrl": "javascript:alert(1)"}),
                "destinationUrl",
                "must use the http or https scheme",
            ),
            (
                json!({"destinationUrl": "https://e.com", "title": long_title}),
                "title",
                "must be at most 200 characters long",
            ),
            (
                json!({"destinationUrl": "https://e.com", "title": "a\u{7}b"}),
                "title",
                "must not contain control characters",
            ),
            (
                json!({"destinationUrl": "https://e.com", "tracking": {"utmSource": ""}}),
                "tracking.utmSource",
                "must be 1 to 200 characters long",
            ),
            (
                json!({"destinationUrl": "https://e.com", "tracking": {"utmContent": "x\ny"}}),
                "tracking.utmContent",
                "must not contain control characters",
            ),
            (
                json!({"destinationUrl": "https://e.com", "tracking": {"utmTerm": "x".repeat(201)}}),
                "tracking.utmTerm",
                "must be 1 to 200 characters long",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": many_rules}),
                "routingRules",
                "must contain at most 50 rules",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [
                    rule(1, json!({"deviceIn": ["mobile"]})), rule(10, json!({"deviceIn": ["mobile"]})),
                    rule(2, json!({"deviceIn": ["mobile"]})), rule(10, json!({"deviceIn": ["tablet"]}))
                ]}),
                "routingRules[3].priority",
                "duplicate priority 10",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"deviceIn": ["mobile"]})), {"priority": 2, "destinationUrl": "ftp://e.com", "conditions": {"deviceIn": ["mobile"]}}]}),
                "routingRules[1].destinationUrl",
                "must use the http or https scheme",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({}))]}),
                "routingRules[0].conditions",
                "must contain at least one of countryIn, deviceIn, sourceIn, campaignIn or osIn",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [{"priority": 1, "destinationUrl": "https://e.com"}]}),
                "routingRules[0].conditions",
                "must contain at least one of countryIn, deviceIn, sourceIn, campaignIn or osIn",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"countryIn": []}))]}),
                "routingRules[0].conditions.countryIn",
                "must list 1 to 50 values",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"sourceIn": many_values}))]}),
                "routingRules[0].conditions.sourceIn",
                "must list 1 to 50 values",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"countryIn": ["US", "USA"]}))]}),
                "routingRules[0].conditions.countryIn[1]",
                "must be a two-letter ISO 3166 country code or 'unknown'",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"countryIn": ["1A"]}))]}),
                "routingRules[0].conditions.countryIn[0]",
                "must be a two-letter ISO 3166 country code or 'unknown'",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"deviceIn": ["phone"]}))]}),
                "routingRules[0].conditions.deviceIn[0]",
                "must be one of mobile, tablet, desktop, other",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"sourceIn": ["  "]}))]}),
                "routingRules[0].conditions.sourceIn[0]",
                "must be 1 to 100 characters long",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"campaignIn": ["c".repeat(101)]}))]}),
                "routingRules[0].conditions.campaignIn[0]",
                "must be 1 to 100 characters long",
            ),
            (
                json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"sourceIn": ["a\u{0}b"]}))]}),
                "routingRules[0].conditions.sourceIn[0]",
                "must not contain control characters",
            ),
            (
                json!({"destinationUrl": "https://e.com", "campaignId": "Bad Id"}),
                "campaignId",
                "may only contain lowercase letters, digits, hyphens and underscores",
            ),
        ];
        for (body, field, message) in cases {
            let e = err_of(body.clone());
            assert_eq!(
                (e.field.as_str(), e.message.as_str()),
                (field, message),
                "{body}"
            );
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let rules: Vec<_> = (0..i64::try_from(MAX_ROUTING_RULES).unwrap())
            .map(|p| rule(p, json!({"sourceIn": ["x"]})))
            .collect();
        let values: Vec<String> = (0..MAX_CONDITION_VALUES).map(|i| format!("{i}")).collect();
        let v = spec(json!({
            "destinationUrl": "https://e.com",
            "title": "é".repeat(MAX_TITLE_CHARS),
            "tracking": {"utmSource": "ü".repeat(MAX_TRACKING_VALUE_CHARS)},
            "routingRules": rules,
        }))
        .validate()
        .unwrap();
        assert_eq!(v.routing_rules.len(), MAX_ROUTING_RULES);
        let v = spec(json!({"destinationUrl": "https://e.com", "routingRules": [rule(1, json!({"campaignIn": values}))]}))
            .validate()
            .unwrap();
        assert_eq!(
            v.routing_rules[0]
                .conditions
                .campaign_in
                .as_ref()
                .map(Vec::len),
            Some(MAX_CONDITION_VALUES)
        );
    }

    #[test]
    fn tracking_pairs_in_utm_order_skipping_unset() {
        let t = Tracking {
            utm_content: Some("c".into()),
            utm_source: Some("s".into()),
            utm_term: Some("t".into()),
            ..Default::default()
        };
        assert_eq!(
            t.pairs(),
            [("utm_source", "s"), ("utm_term", "t"), ("utm_content", "c")]
        );
        assert!(Tracking::default().pairs().is_empty());
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"utmSource": "s", "utmTerm": "t", "utmContent": "c"})
        );
    }

    #[test]
    fn link_round_trips_as_camel_case() {
        let v = spec(json!({
            "destinationUrl": "https://e.com/",
            "routingRules": [rule(1, json!({"countryIn": ["fr"]}))],
        }))
        .validate()
        .unwrap();
        let link = Link::from_spec(
            Handle::parse("acme").unwrap(),
            Slug::parse("spring").unwrap(),
            v,
            3,
            crate::domain::time::Timestamp::literal("2025-01-01T00:00:00Z"),
            crate::domain::time::Timestamp::literal("2025-01-02T00:00:00Z"),
        );
        let j = serde_json::to_value(&link).unwrap();
        assert_eq!(j["handle"], "acme");
        assert_eq!(j["slug"], "spring");
        assert_eq!(j["destinationUrl"], "https://e.com/");
        assert_eq!(j["version"], 3);
        assert_eq!(j["createdAt"], "2025-01-01T00:00:00Z");
        assert_eq!(j["updatedAt"], "2025-01-02T00:00:00Z");
        assert_eq!(j["title"], serde_json::Value::Null);
        assert_eq!(j["campaignId"], serde_json::Value::Null);
        assert_eq!(
            j["routingRules"][0]["conditions"],
            json!({"countryIn": ["FR"]})
        );
        let back: Link = serde_json::from_value(j).unwrap();
        assert_eq!(back, link);
    }

    /// A link as the store holds it (`to_doc`'s document), with `campaign` as its
    /// `campaignId`.
    fn stored(campaign: serde_json::Value) -> serde_json::Value {
        json!({
            "handle": "acme",
            "slug": "spring",
            "destinationUrl": "https://e.com/",
            "title": "Spring",
            "tracking": {"utmSource": "news"},
            "routingRules": [],
            "campaignId": campaign,
            "forwardQuery": true,
            "expiresAt": "2026-01-01T00:00:00Z",
            "expiresAtUnix": 1_767_225_600,
            "expiredUrl": null,
            "version": 3,
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-02T00:00:00Z"
        })
    }

    #[test]
    fn a_stored_link_reads_back_with_its_campaign_and_is_written_again_unchanged() {
        let longest = "c".repeat(64);
        for id in ["spring_25", "q3-launch", "2025", "a_", longest.as_str()] {
            let doc = stored(json!(id));
            let link: Link = serde_json::from_value(doc.clone()).unwrap();
            assert_eq!(link.campaign_id.as_ref().map(CampaignId::as_str), Some(id));
            assert_eq!(serde_json::to_value(&link).unwrap(), doc, "{id}");
        }
    }

    #[test]
    fn a_stored_link_without_a_campaign_reads_as_none_whether_null_or_absent() {
        let doc = stored(serde_json::Value::Null);
        let mut absent = doc.clone();
        absent.as_object_mut().unwrap().remove("campaignId");
        for stored in [doc.clone(), absent] {
            let link: Link = serde_json::from_value(stored).unwrap();
            assert_eq!(link.campaign_id, None);
            assert_eq!(serde_json::to_value(&link).unwrap(), doc);
        }
    }

    /// Every writer of a link hands it a `CampaignId` (the API's and the portal's links,
    /// campaigns, approvals; imports write none), and its rule is the one links were first
    /// stored under: a stored link cannot hold another value, and one that did is refused,
    /// never read as some other campaign or as none.
    #[test]
    fn a_stored_link_whose_campaign_id_breaks_the_rule_is_refused() {
        let too_long = "c".repeat(65);
        for bad in ["", "Spring", "_a", "a b", too_long.as_str()] {
            let err = serde_json::from_value::<Link>(stored(json!(bad))).unwrap_err();
            assert!(err.to_string().starts_with("campaignId: "), "{bad}: {err}");
        }
        assert!(serde_json::from_value::<Link>(stored(json!(42))).is_err());
    }

    #[test]
    fn stored_link_with_invalid_handle_does_not_deserialize() {
        let j = json!({"handle": "API", "slug": "s", "destinationUrl": "https://e.com/", "version": 1, "createdAt": "x", "updatedAt": "y"});
        assert!(serde_json::from_value::<Link>(j).is_err());
    }
}
