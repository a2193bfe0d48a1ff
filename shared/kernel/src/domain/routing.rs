//! The routing engine: one function shared by the redirect and `route-preview`, so the same
//! input always gets the same answer. It runs on every redirect, so the common path (rules
//! stored sorted, ASCII values) allocates nothing.

use serde::Serialize;

use super::link::{Link, RoutingRule};
use super::visitor::{Device, Os, clean_source};

/// The normalized facts a routing decision is made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteInput {
    pub country: String,
    pub device: String,
    pub source: String,
    pub campaign: Option<String>,
    /// `ios`, `android`, `windows`, `macos`, `linux` or `other` (issue 64).
    pub os: String,
}

impl RouteInput {
    /// Normalize raw inputs: unknown or malformed values collapse to `unknown` / `other` /
    /// `direct` rather than failing, because a redirect must always go somewhere.
    pub fn normalized(
        country: Option<&str>,
        device: Option<&str>,
        source: Option<&str>,
        campaign: Option<&str>,
        os: Option<&str>,
    ) -> RouteInput {
        let country = country
            .map(str::trim)
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map_or_else(|| "unknown".to_owned(), str::to_ascii_uppercase);
        let device = device
            .and_then(Device::parse)
            .unwrap_or(Device::Other)
            .as_str()
            .to_owned();
        let source = source
            .map(clean_source)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "direct".to_owned());
        let campaign = campaign
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty());
        let os = os
            .and_then(Os::parse)
            .unwrap_or(Os::Other)
            .as_str()
            .to_owned();
        RouteInput {
            country,
            device,
            source,
            campaign,
            os,
        }
    }
}

/// Where to send the visitor, and which rule (if any) decided it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteDecision<'a> {
    pub destination_url: &'a str,
    pub matched_rule: Option<&'a RoutingRule>,
}

impl RouteDecision<'_> {
    /// `"rule"` or `"default"`, as in the route-preview envelope.
    pub fn kind(&self) -> &'static str {
        if self.matched_rule.is_some() {
            "rule"
        } else {
            "default"
        }
    }
}

/// Try the link's rules in ascending priority; the first whose conditions all match wins, else
/// the link's own destination.
pub fn route<'a>(link: &'a Link, input: &RouteInput) -> RouteDecision<'a> {
    let rules = &link.routing_rules;
    let matched = if rules.is_sorted_by_key(|r| r.priority) {
        rules.iter().find(|r| matches(r, input))
    } else {
        // Only for data written by something other than `LinkSpec::validate`. Ties keep list
        // order (stable sort), which is what a sorted list would have done.
        let mut order: Vec<&RoutingRule> = rules.iter().collect();
        order.sort_by_key(|r| r.priority);
        order.into_iter().find(|r| matches(r, input))
    };
    match matched {
        Some(rule) => RouteDecision {
            destination_url: &rule.destination_url,
            matched_rule: Some(rule),
        },
        None => RouteDecision {
            destination_url: &link.destination_url,
            matched_rule: None,
        },
    }
}

/// Every present list must contain the input's value. An empty list (never produced by
/// validation) matches nothing, the safe reading of "any of these zero values".
fn matches(rule: &RoutingRule, input: &RouteInput) -> bool {
    let c = &rule.conditions;
    list_ok(&c.country_in, Some(&input.country))
        && list_ok(&c.device_in, Some(&input.device))
        && list_ok(&c.source_in, Some(&input.source))
        && list_ok(&c.campaign_in, input.campaign.as_deref())
        && list_ok(&c.os_in, Some(&input.os))
}

fn list_ok(list: &Option<Vec<String>>, value: Option<&str>) -> bool {
    match list {
        None => true,
        Some(values) => value.is_some_and(|v| values.iter().any(|x| same_ignoring_case(x, v))),
    }
}

/// Case-insensitive equality without allocating: ASCII fast path, full Unicode lower-casing
/// only when a non-ASCII character is involved.
fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Handle, RouteConditions, Slug};

    fn rule(priority: i64, dest: &str, conditions: RouteConditions) -> RoutingRule {
        RoutingRule {
            priority,
            destination_url: dest.to_owned(),
            conditions,
        }
    }

    fn list(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|v| (*v).to_owned()).collect())
    }

    fn link(rules: Vec<RoutingRule>) -> Link {
        Link {
            handle: Handle::parse("acme").unwrap(),
            slug: Slug::parse("promo").unwrap(),
            destination_url: "https://default.example/".into(),
            title: None,
            tracking: None,
            routing_rules: rules,
            campaign_id: None,
            forward_query: true,
            expiry: None,
            variants: Vec::new(),
            variant_period: None,
            version: 1,
            created_at: crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
            updated_at: crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        }
    }

    fn input(country: &str, device: &str, source: &str, campaign: Option<&str>) -> RouteInput {
        RouteInput::normalized(Some(country), Some(device), Some(source), campaign, None)
    }

    #[test]
    fn normalization_table() {
        let long = "S".repeat(150);
        let cases = [
            (
                (None, None, None, None),
                ("unknown", "other", "direct", None),
            ),
            (
                (
                    Some(" us "),
                    Some(" Mobile "),
                    Some(" Twitter "),
                    Some(" Spring "),
                ),
                ("US", "mobile", "twitter", Some("spring")),
            ),
            (
                (Some("USA"), Some("phone"), Some(""), Some("  ")),
                ("unknown", "other", "direct", None),
            ),
            (
                (Some("1A"), Some("TABLET"), Some("\u{0}"), Some("")),
                ("unknown", "tablet", "direct", None),
            ),
            (
                (Some("é"), Some("desktop"), Some(long.as_str()), Some("ÉTÉ")),
                ("unknown", "desktop", &"s".repeat(100)[..], Some("été")),
            ),
            (
                (Some("unknown"), Some("other"), Some("direct"), None),
                ("unknown", "other", "direct", None),
            ),
        ];
        for ((c, d, s, k), (wc, wd, ws, wk)) in cases {
            let got = RouteInput::normalized(c, d, s, k, None);
            assert_eq!(
                got,
                RouteInput {
                    country: wc.into(),
                    device: wd.into(),
                    source: ws.into(),
                    campaign: wk.map(Into::into),
                    os: "other".into(),
                },
                "{c:?} {d:?} {s:?} {k:?}"
            );
        }
    }

    #[test]
    fn serializes_camel_case() {
        let v = serde_json::to_value(input("fr", "mobile", "x", None)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"country": "FR", "device": "mobile", "source": "x", "campaign": null, "os": "other"})
        );
    }

    fn sample_rules() -> Vec<RoutingRule> {
        vec![
            rule(
                1,
                "https://de-mobile.example/",
                RouteConditions {
                    country_in: list(&["DE", "AT"]),
                    device_in: list(&["mobile"]),
                    ..Default::default()
                },
            ),
            rule(
                5,
                "https://de.example/",
                RouteConditions {
                    country_in: list(&["DE"]),
                    ..Default::default()
                },
            ),
            rule(
                7,
                "https://tw.example/",
                RouteConditions {
                    source_in: list(&["twitter", "t.co"]),
                    ..Default::default()
                },
            ),
            rule(
                9,
                "https://camp.example/",
                RouteConditions {
                    campaign_in: list(&["spring"]),
                    ..Default::default()
                },
            ),
            rule(
                11,
                "https://unknown.example/",
                RouteConditions {
                    country_in: list(&["unknown"]),
                    ..Default::default()
                },
            ),
        ]
    }

    #[test]
    fn decision_table() {
        let l = link(sample_rules());
        let cases = [
            (
                input("de", "mobile", "x", None),
                "https://de-mobile.example/",
                Some(1),
            ),
            (
                input("AT", "MOBILE", "x", None),
                "https://de-mobile.example/",
                Some(1),
            ),
            (
                input("DE", "desktop", "x", None),
                "https://de.example/",
                Some(5),
            ),
            (
                input("AT", "desktop", "x", None),
                "https://default.example/",
                None,
            ),
            (
                input("FR", "desktop", "T.CO", None),
                "https://tw.example/",
                Some(7),
            ),
            (
                input("FR", "desktop", "direct", Some("Spring")),
                "https://camp.example/",
                Some(9),
            ),
            (
                input("FR", "desktop", "direct", None),
                "https://default.example/",
                None,
            ),
            (
                input("", "desktop", "direct", Some("autumn")),
                "https://unknown.example/",
                Some(11),
            ),
        ];
        for (inp, dest, prio) in cases {
            let d = route(&l, &inp);
            assert_eq!(d.destination_url, dest, "{inp:?}");
            assert_eq!(d.matched_rule.map(|r| r.priority), prio, "{inp:?}");
            assert_eq!(d.kind(), if prio.is_some() { "rule" } else { "default" });
        }
    }

    #[test]
    fn unsorted_rules_are_still_tried_by_priority() {
        let mut rules = sample_rules();
        rules.reverse();
        let l = link(rules);
        let d = route(&l, &input("DE", "mobile", "x", None));
        assert_eq!(d.matched_rule.map(|r| r.priority), Some(1));
        assert_eq!(d.destination_url, "https://de-mobile.example/");
    }

    #[test]
    fn no_rules_means_default() {
        let l = link(vec![]);
        let d = route(&l, &input("DE", "mobile", "x", Some("c")));
        assert_eq!(
            (d.destination_url, d.matched_rule),
            ("https://default.example/", None)
        );
    }

    #[test]
    fn absent_campaign_never_matches_a_campaign_list() {
        let l = link(vec![rule(
            1,
            "https://c.example/",
            RouteConditions {
                campaign_in: list(&["direct", ""]),
                ..Default::default()
            },
        )]);
        assert_eq!(
            route(&l, &input("DE", "mobile", "direct", None)).matched_rule,
            None
        );
    }

    #[test]
    fn empty_list_matches_nothing_and_conditionless_rule_matches_all() {
        let l = link(vec![rule(
            1,
            "https://never.example/",
            RouteConditions {
                device_in: Some(vec![]),
                ..Default::default()
            },
        )]);
        assert_eq!(
            route(&l, &input("DE", "mobile", "x", None)).matched_rule,
            None
        );
        let l = link(vec![rule(
            1,
            "https://all.example/",
            RouteConditions::default(),
        )]);
        assert_eq!(
            route(&l, &input("DE", "mobile", "x", None)).destination_url,
            "https://all.example/"
        );
    }

    #[test]
    fn case_insensitive_compare_handles_unicode() {
        let cases = [
            ("twitter", "TWITTER", true),
            ("été", "ÉTÉ", true),
            ("straße", "STRASSE", false),
            ("a", "b", false),
            ("ab", "a", false),
            ("é", "e", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(same_ignoring_case(a, b), want, "{a} {b}");
        }
        // Stored rule values with odd case still match a normalized input.
        let l = link(vec![rule(
            1,
            "https://u.example/",
            RouteConditions {
                source_in: list(&["ÉTÉ"]),
                ..Default::default()
            },
        )]);
        assert_eq!(
            route(&l, &input("DE", "mobile", "été", None))
                .matched_rule
                .map(|r| r.priority),
            Some(1)
        );
    }

    #[test]
    fn os_in_sends_each_system_to_its_store_and_the_rest_to_the_web() {
        let mut l = link(vec![
            rule(
                1,
                "https://apps.apple.com/app/id1",
                RouteConditions {
                    os_in: list(&["ios"]),
                    ..Default::default()
                },
            ),
            rule(
                2,
                "https://play.google.com/store/apps/details?id=x",
                RouteConditions {
                    os_in: list(&["android"]),
                    ..Default::default()
                },
            ),
        ]);
        l.destination_url = "https://web.example/".into();
        let with_os =
            |os: Option<&str>| RouteInput::normalized(Some("US"), Some("mobile"), None, None, os);
        assert_eq!(
            route(&l, &with_os(Some("iOS"))).destination_url,
            "https://apps.apple.com/app/id1"
        );
        assert_eq!(
            route(&l, &with_os(Some("android"))).destination_url,
            "https://play.google.com/store/apps/details?id=x"
        );
        for other in [Some("macos"), Some("windows"), Some("beos"), None] {
            assert_eq!(
                route(&l, &with_os(other)).destination_url,
                "https://web.example/"
            );
        }
        assert_eq!(with_os(Some("beos")).os, "other");
    }
}
