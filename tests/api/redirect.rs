//! AT-03 (redirect), AT-04 (context) and AT-07 (invalid ctx).

use serde_json::{json, Value};
use tenx_shared::queue::QueueName;

use crate::helpers::*;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

async fn seed(app: &TestApp) {
    let body = json!({
        "destinationUrl": "https://example.com/product?ref=alpha#reviews",
        "tracking": {"utmSource": "suite", "utmCampaign": "spring"},
        "routingRules": [
            {"priority": 10, "destinationUrl": "https://example.com/mobile", "conditions": {"deviceIn": ["mobile"], "countryIn": ["US"]}}
        ]
    });
    assert_eq!(app.put_link("acme", "launch", body).await.status(), 201);
}

async fn drain_events(app: &TestApp) -> Vec<Value> {
    let msgs = app
        .queue
        .receive(QueueName::Events, 100, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    msgs.iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect()
}

#[tokio::test]
async fn at03_redirects_with_utm_and_ctx_and_records_the_click() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let _ = drain_events(&app).await; // link.created
    let resp = app
        .click(
            "acme",
            "/launch?utm_source=Newsletter",
            &[("user-agent", IPHONE), ("cloudfront-viewer-country", "us")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let cache = header_str(resp.headers(), "cache-control");
    assert!(cache.contains("no-store"), "{cache}");
    assert!(header_str(resp.headers(), "set-cookie").starts_with("tenx_vid="));
    let location = header_str(resp.headers(), "location").to_owned();
    assert!(
        location.starts_with("https://example.com/mobile?"),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "utm_source").as_deref(),
        Some("suite")
    );
    assert_eq!(
        query_param(&location, "utm_campaign").as_deref(),
        Some("spring")
    );
    let ctx = query_param(&location, "ctx").expect("ctx on the location");

    // AT-04: the ctx resolves to the click's context.
    let resp = app
        .client
        .get(app.url(&format!("/v2/public/context?ctx={ctx}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let context: Value = resp.json().await.unwrap();
    assert_eq!(context["handle"], "acme");
    assert_eq!(context["slug"], "launch");
    assert_eq!(context["country"], "US");
    assert_eq!(context["device"], "mobile");
    assert_eq!(context["source"], "newsletter");
    assert_eq!(context["referrer"], "direct");
    assert_eq!(context["segment"], "new-mobile");
    assert!(context["clickId"].as_str().unwrap().starts_with("clk_"));
    assert!(context["expiresAt"].as_str().unwrap() > context["issuedAt"].as_str().unwrap());

    // The click was enqueued durably with everything analytics needs.
    let events = drain_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let click = &events[0];
    assert_eq!(click["type"], "link.clicked");
    assert_eq!(click["handle"], "acme");
    assert_eq!(click["data"]["clickId"], context["clickId"]);
    assert_eq!(click["data"]["segment"], "new-mobile");
    assert_eq!(click["data"]["bot"], false);
    assert_eq!(click["data"]["referrer"], "direct");
}

#[tokio::test]
async fn default_destination_keeps_query_and_fragment() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let resp = app
        .click(
            "acme",
            "/launch",
            &[
                (
                    "user-agent",
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
                ),
                ("referer", "https://www.twitter.com/x"),
            ],
        )
        .await;
    let location = header_str(resp.headers(), "location").to_owned();
    assert!(
        location.starts_with("https://example.com/product?ref=alpha&utm_source=suite"),
        "{location}"
    );
    assert!(location.ends_with("#reviews"), "{location}");
    let ctx = query_param(&location, "ctx").unwrap();
    let context: Value = app
        .client
        .get(app.url(&format!("/v2/public/context?ctx={ctx}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(context["source"], "twitter.com");
    assert_eq!(context["device"], "desktop");
    assert_eq!(context["country"], "unknown");
    assert_eq!(context["referrer"], "twitter.com");
    assert_eq!(context["segment"], "new-desktop");
}

#[tokio::test]
async fn bots_and_head_requests_get_no_ctx_but_are_recorded() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let _ = drain_events(&app).await;
    let resp = app
        .click(
            "acme",
            "/launch",
            &[("user-agent", "facebookexternalhit/1.1")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        query_param(header_str(resp.headers(), "location"), "ctx"),
        None
    );
    let resp = app
        .client
        .head(app.url("/launch"))
        .header("host", app.short_host("acme"))
        .header("user-agent", IPHONE)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        query_param(header_str(resp.headers(), "location"), "ctx"),
        None
    );
    let events = drain_events(&app).await;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e["data"]["bot"] == true && e["data"]["segment"] == "bot"));
}

#[tokio::test]
async fn returning_visitors_are_told_apart_by_cookie() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let _ = drain_events(&app).await;
    let first = app
        .click("acme", "/launch", &[("user-agent", IPHONE)])
        .await;
    let cookie = header_str(first.headers(), "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let second = app
        .click(
            "acme",
            "/launch",
            &[("user-agent", IPHONE), ("cookie", &cookie)],
        )
        .await;
    assert!(second.headers().get("set-cookie").is_none());
    let events = drain_events(&app).await;
    let segments: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["segment"].as_str().unwrap())
        .collect();
    assert_eq!(segments, vec!["new-mobile", "returning-mobile"]);
}

#[tokio::test]
async fn unknown_links_and_hosts_are_404() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    assert_error(
        app.click("acme", "/nope", &[("user-agent", IPHONE)]).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.click("other", "/launch", &[("user-agent", IPHONE)])
            .await,
        404,
        "not_found",
    )
    .await;
    // No handle label: not a short-link host.
    let resp = app.client.get(app.url("/launch")).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn at07_invalid_ctx_is_rejected() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let resp = app
        .click("acme", "/launch", &[("user-agent", IPHONE)])
        .await;
    let ctx = query_param(header_str(resp.headers(), "location"), "ctx").unwrap();
    let mut tampered = ctx.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let truncated = &ctx[..ctx.len() / 2];
    let foreign =
        tenx_shared::domain::CtxKeyring::parse(&tenx_shared::domain::CtxKeyring::generate_spec())
            .unwrap()
            .sign(&tenx_shared::domain::CtxClaims {
                click_id: "clk_x".into(),
                handle: "acme".into(),
                slug: "launch".into(),
                campaign_id: None,
                country: "US".into(),
                device: "mobile".into(),
                source: "direct".into(),
                referrer: "direct".into(),
                segment: "new-mobile".into(),
                issued_at: now(),
                expires_at: now() + 600,
            });
    for bad in [
        tampered.as_str(),
        truncated,
        "garbage",
        foreign.as_str(),
        "",
    ] {
        let url =
            url::Url::parse_with_params(&app.url("/v2/public/context"), &[("ctx", bad)]).unwrap();
        assert_error(
            app.client.get(url).send().await.unwrap(),
            400,
            "invalid_ctx",
        )
        .await;
    }
    assert_error(
        app.client
            .get(app.url("/v2/public/context"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_ctx",
    )
    .await;
}

#[tokio::test]
async fn expired_ctx_is_rejected() {
    let mut config = test_config();
    let keys = tenx_shared::domain::CtxKeyring::parse(&config.ctx_keys).unwrap();
    config.ctx_keys = config.ctx_keys.clone();
    let app = spawn_with(config, None).await;
    let expired = keys.sign(&tenx_shared::domain::CtxClaims {
        click_id: "clk_x".into(),
        handle: "acme".into(),
        slug: "launch".into(),
        campaign_id: None,
        country: "US".into(),
        device: "mobile".into(),
        source: "direct".into(),
        referrer: "direct".into(),
        segment: "new-mobile".into(),
        issued_at: now() - 100,
        expires_at: now() - 10,
    });
    let msg = assert_error(
        app.client
            .get(app.url(&format!("/v2/public/context?ctx={expired}")))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_ctx",
    )
    .await;
    assert!(msg.contains("expired"), "{msg}");
}
