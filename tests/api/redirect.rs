//! AT-03 (redirect), AT-04 (context) and AT-07 (invalid ctx).

use serde_json::{Value, json};

use crate::helpers::*;
use crate::scenario::IPHONE;

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

/// The events queue's and the click stream's new events, as JSON.
async fn drain_events(app: &TestApp) -> Vec<Value> {
    let events = app.drain_events().await;
    events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
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
    assert!(
        events
            .iter()
            .all(|e| e["data"]["bot"] == true && e["data"]["segment"] == "bot")
    );
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
            .sign(&tenx_shared::testing::launch_claims(now(), now() + 600));
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
        click_id: tenx_shared::domain::ClickId::new(),
        handle: tenx_shared::domain::Handle::parse("acme").unwrap(),
        slug: tenx_shared::domain::Slug::parse("launch").unwrap(),
        campaign_id: None,
        attribution: tenx_shared::domain::Attribution {
            country: "US".into(),
            device: tenx_shared::domain::Device::Mobile,
            source: "direct".into(),
            referrer: "direct".into(),
            segment: "new-mobile".into(),
            variant: None,
        },
        issued_at: now() - 100,
        expires_at: now() - 10,
        sub_ids: Default::default(),
        test: false,
        address_hash: None,
        visitor_hash: None,
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

#[tokio::test]
async fn the_short_urls_query_is_forwarded_with_reserved_names_protected() {
    let app = spawn_app_without_workers().await;
    seed(&app).await;
    let resp = app
        .click(
            "acme",
            "/launch?gclid=abc&coupon=SAVE10&utm_campaign=visitor&ctx=forged&ref=visitor",
            &[("user-agent", IPHONE)],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let location = header_str(resp.headers(), "location").to_owned();
    assert_eq!(query_param(&location, "gclid").as_deref(), Some("abc"));
    assert_eq!(query_param(&location, "coupon").as_deref(), Some("SAVE10"));
    // The destination's own `ref` and the link's utm_campaign win; the ctx is ours.
    assert_eq!(query_param(&location, "ref").as_deref(), Some("alpha"));
    assert_eq!(
        query_param(&location, "utm_campaign").as_deref(),
        Some("spring")
    );
    assert_eq!(location.matches("ctx=").count(), 1, "{location}");
    let ctx = query_param(&location, "ctx").unwrap();
    assert_eq!(
        app.context(&ctx).await.status(),
        200,
        "the ctx is the real one"
    );

    // Route preview shows the same forwarding; a link can turn it off.
    let preview = app
        .as_role("acme", tenx_shared::http::auth::Role::Creator)
        .route_preview("launch", &json!({"query": "gclid=abc&utm_source=x"}))
        .await;
    let body: Value = preview.json().await.unwrap();
    let tracked = body["trackedUrl"].as_str().unwrap();
    assert!(
        tracked.contains("gclid=abc") && tracked.contains("utm_source=suite"),
        "{tracked}"
    );
    let off = json!({"destinationUrl": "https://example.com/plain", "forwardQuery": false});
    assert_eq!(app.put_link("acme", "plain", off).await.status(), 201);
    let resp = app
        .click("acme", "/plain?gclid=abc", &[("user-agent", IPHONE)])
        .await;
    let location = header_str(resp.headers(), "location");
    assert!(
        location.starts_with("https://example.com/plain?ctx="),
        "{location}"
    );
    // Oversized or odd parameters are dropped or re-encoded, never an error.
    let huge = format!("/launch?big={}&ok=1&%FF=%00", "x".repeat(5000));
    let resp = app.click("acme", &huge, &[("user-agent", IPHONE)]).await;
    assert_eq!(resp.status(), 302);
    let location = header_str(resp.headers(), "location");
    assert!(
        !location.contains("big=") && location.contains("ok=1"),
        "{location}"
    );
}

#[tokio::test]
async fn an_expired_link_sends_visitors_on_without_a_ctx_and_counts_them_as_expired() {
    let app = spawn_app().await;
    let past = "2020-01-01T00:00:00Z";
    let future = "2999-01-01T00:00:00Z";
    let links = [
        (
            "gone",
            json!({"destinationUrl": "https://example.com/sale", "expiresAt": past}),
        ),
        (
            "moved",
            json!({"destinationUrl": "https://example.com/sale", "expiresAt": past,
            "expiredUrl": "https://example.com/sale-is-over"}),
        ),
        (
            "live",
            json!({"destinationUrl": "https://example.com/live", "expiresAt": future}),
        ),
    ];
    for (slug, body) in links {
        assert_eq!(
            app.put_link("acme", slug, body).await.status(),
            201,
            "{slug}"
        );
    }
    let resp = app.click("acme", "/gone", &[("user-agent", IPHONE)]).await;
    let message = assert_error(resp, 410, "link_expired").await;
    assert!(message.contains("2020-01-01"), "{message}");
    let resp = app
        .click("acme", "/moved?gclid=x", &[("user-agent", IPHONE)])
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        header_str(resp.headers(), "location"),
        "https://example.com/sale-is-over"
    );
    let resp = app.click("acme", "/live", &[("user-agent", IPHONE)]).await;
    assert!(query_param(header_str(resp.headers(), "location"), "ctx").is_some());
    // Counted as clicks, the expired ones never as qualified.
    let viewer = app.as_role("acme", tenx_shared::http::auth::Role::Viewer);
    let totals = eventually_or("the clicks to be counted", || async {
        let funnel: Value = viewer.analytics("funnel=true").await.json().await.unwrap();
        let totals = funnel["totals"].clone();
        if totals["clicks"] == 3 {
            Ok(totals)
        } else {
            Err(totals.to_string())
        }
    })
    .await;
    assert_eq!(
        (
            totals["expiredClicks"].clone(),
            totals["qualifiedClicks"].clone()
        ),
        (json!(2), json!(1))
    );
}

#[tokio::test]
async fn an_expired_link_shows_a_browser_a_page_and_an_api_client_the_envelope() {
    let app = spawn_app_without_workers().await;
    let body =
        json!({"destinationUrl": "https://example.com/sale", "expiresAt": "2020-01-01T00:00:00Z"});
    assert_eq!(app.put_link("acme", "gone", body).await.status(), 201);
    let browser = [
        ("user-agent", IPHONE),
        ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ];
    let resp = app.click("acme", "/gone?sub1=x", &browser).await;
    assert_eq!(resp.status(), 410);
    assert!(header_str(resp.headers(), "content-type").starts_with("text/html"));
    assert!(resp.headers().get("location").is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains("410: link expired"), "{page}");
    assert!(page.contains("2020-01-01T00:00:00Z"), "{page}");
    assert!(!page.contains("sub1"), "no visitor input is echoed: {page}");
    let api = [("user-agent", IPHONE), ("accept", "application/json")];
    let resp = app.click("acme", "/gone", &api).await;
    assert_error(resp, 410, "link_expired").await;
    // Both visits were counted as expired clicks.
    let clicks: Vec<Value> = drain_events(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "link.clicked")
        .collect();
    assert_eq!(clicks.len(), 2, "{clicks:?}");
    assert!(
        clicks.iter().all(|c| c["data"]["expired"] == true),
        "{clicks:?}"
    );
}

#[tokio::test]
async fn bad_expiry_settings_are_refused_naming_the_field() {
    let app = spawn_app_without_workers().await;
    for (body, field) in [
        (
            json!({"destinationUrl": "https://e.com/", "expiresAt": "tomorrow"}),
            "expiresAt",
        ),
        (
            json!({"destinationUrl": "https://e.com/", "expiredUrl": "https://e.com/x"}),
            "expiredUrl",
        ),
        (
            json!({"destinationUrl": "https://e.com/", "expiresAt": "2030-01-01T00:00:00Z",
            "expiredUrl": "javascript:alert(1)"}),
            "expiredUrl",
        ),
    ] {
        let message = assert_error(
            app.put_link("acme", "x", body.clone()).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.starts_with(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn visits_that_reach_no_link_get_fallbacks_and_are_counted_as_orphans() {
    let app = spawn_app_without_workers().await;
    // Without settings: a browser gets an HTML page, an API client the envelope.
    let html = [
        ("user-agent", IPHONE),
        ("accept", "text/html,application/xhtml+xml"),
    ];
    let resp = app.click("acme", "/nope", &html).await;
    assert_eq!(resp.status(), 404);
    assert!(header_str(resp.headers(), "content-type").starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("link not found"));
    let resp = app.click("acme", "/nope", &[("user-agent", IPHONE)]).await;
    assert_error(resp, 404, "not_found").await;
    let resp = app.click("acme", "/", &html).await;
    assert_eq!(resp.status(), 404);

    // With settings: unknown slugs and the bare domain go where the handle says.
    let operator = app.as_role("acme", tenx_shared::http::auth::Role::Operator);
    let settings =
        json!({"notFoundUrl": "https://acme.example/missing", "baseUrl": "https://acme.example/"});
    let resp = operator
        .send_json(reqwest::Method::PUT, "/redirect-settings", &settings)
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .click("acme", "/still-nope", &[("user-agent", IPHONE)])
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        header_str(resp.headers(), "location"),
        "https://acme.example/missing"
    );
    let resp = app
        .click("acme", "/", &[("user-agent", "curl/8.4.0")])
        .await;
    assert_eq!(
        header_str(resp.headers(), "location"),
        "https://acme.example/"
    );
    let bad = json!({"baseUrl": "ftp://x"});
    let resp = operator
        .send_json(reqwest::Method::PUT, "/redirect-settings", &bad)
        .await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.starts_with("baseUrl"), "{message}");

    // Counted per handle, by kind and day, bots apart.
    let viewer = app.as_role("acme", tenx_shared::http::auth::Role::Viewer);
    let report: Value = viewer.analytics("orphans=true").await.json().await.unwrap();
    assert_eq!(report["totalVisits"], 5, "{report}");
    assert_eq!(report["totalBotVisits"], 1, "{report}");
    let kinds: Vec<(&str, i64)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["visits"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("base", 2), ("not_found", 3)]);
    let resp = viewer.analytics("orphans=maybe").await;
    assert_error(resp, 400, "invalid_request").await;
    let resp = viewer.analytics("orphans=true&groupBy=country").await;
    assert_error(resp, 400, "invalid_request").await;
}
