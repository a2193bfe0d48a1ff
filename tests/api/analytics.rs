//! Partner analytics end to end: two partner campaigns, human and bot clicks, conversions, then
//! the funnel, the breakdowns and the CSV/JSON export, with the async aggregator running.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::domain::Device;
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::events::{ClickData, Event};
use tenx_shared::platform::queue::{OutMessage, QueueName};

use crate::campaigns::{create_campaign, partner};
use crate::helpers::*;
use crate::scenario::IPHONE;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const BINGBOT: &str = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)";
const SLACKBOT: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/// One click: `GET` (or `HEAD`) on the short link; returns the ctx a human visitor gets.
async fn click(
    app: &TestApp,
    handle: &str,
    slug: &str,
    head: bool,
    headers: &[(&str, &str)],
) -> Option<String> {
    let method = if head { Method::HEAD } else { Method::GET };
    let resp = app
        .visit(method, handle, &format!("/{slug}"), headers)
        .await;
    assert_eq!(resp.status(), 302, "{slug} {headers:?}");
    query_param(header_str(resp.headers(), "location"), "ctx")
}

async fn convert(app: &TestApp, ctx: &str, key: &str, value: &str, ccy: &str, test: bool) -> u16 {
    let resp = app
        .convert(&json!({
            "ctx": ctx,
            "idempotencyKey": key,
            "eventType": "affiliate_click",
            "value": value.parse::<f64>().unwrap(),
            "currency": ccy,
            "test": test,
        }))
        .await;
    resp.status().as_u16()
}

/// `GET …/analytics?{query}` as a viewer of `handle`: the report, after checking the 200.
async fn analytics(app: &TestApp, handle: &str, query: &str) -> Value {
    let resp = app.as_role(handle, Role::Viewer).analytics(query).await;
    assert_eq!(resp.status(), 200, "{query}");
    resp.json().await.unwrap()
}

/// Polls the funnel until its totals reach the expected clicks and conversions (the aggregator
/// is asynchronous), at most ~30 s.
async fn wait_for_totals(app: &TestApp, handle: &str, clicks: i64, conversions: i64) -> Value {
    let what = format!("the aggregator to reach {clicks} clicks / {conversions} conversions");
    eventually_or(&what, || async {
        let last = analytics(app, handle, "funnel=true").await;
        match last["totals"]["clicks"] == clicks && last["totals"]["conversions"] == conversions {
            true => Ok(last),
            false => Err(last["totals"].to_string()),
        }
    })
    .await
}

fn campaign<'a>(funnel: &'a Value, id: Option<&str>) -> &'a Value {
    funnel["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["campaignId"].as_str() == id)
        .unwrap_or_else(|| panic!("no row for {id:?} in {funnel}"))
}

fn codes(row: &Value) -> Vec<&str> {
    row["confidenceReasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

/// Sums a breakdown's rows: counters, and revenue per currency as exact micro-units.
fn sum_rows(rows: &Value) -> (i64, i64, i64, i64, BTreeMap<String, i64>) {
    let mut sums = (0, 0, 0, 0, BTreeMap::new());
    for r in rows.as_array().unwrap() {
        sums.0 += r["clicks"].as_i64().unwrap();
        sums.1 += r["qualifiedClicks"].as_i64().unwrap();
        sums.2 += r["botClicks"].as_i64().unwrap();
        sums.3 += r["conversions"].as_i64().unwrap();
        for (ccy, v) in r["revenue"].as_object().unwrap() {
            *sums.4.entry(ccy.clone()).or_default() += micros(v.as_str().unwrap());
        }
    }
    sums
}

fn micros(decimal: &str) -> i64 {
    let (int, frac) = decimal.split_once('.').unwrap_or((decimal, ""));
    let frac = format!("{frac:0<6}");
    int.parse::<i64>().unwrap() * 1_000_000 + frac.parse::<i64>().unwrap()
}

fn metrics_of(v: &Value) -> (i64, i64, i64, i64, BTreeMap<String, i64>) {
    let revenue = v["revenue"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), micros(v.as_str().unwrap())))
        .collect();
    (
        v["clicks"].as_i64().unwrap(),
        v["qualifiedClicks"].as_i64().unwrap(),
        v["botClicks"].as_i64().unwrap(),
        v["conversions"].as_i64().unwrap(),
        revenue,
    )
}

fn row<'a>(report: &'a Value, key: &str) -> &'a Value {
    crate::helpers::find_by(&report["rows"], "key", key)
}

/// The CSV as rows of cells (the test data holds no quoted cells), after checking RFC 4180's
/// CRLF line ends.
fn parse_csv(body: &str) -> Vec<Vec<String>> {
    assert!(body.ends_with("\r\n"), "{body:?}");
    assert!(
        !body.replace("\r\n", "").contains('\n'),
        "bare LF: {body:?}"
    );
    body.trim_end_matches("\r\n")
        .split("\r\n")
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    &row[i]
}

fn json_number_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn partner_funnel_breakdowns_and_export_show_exact_numbers() {
    let app = spawn_app().await;
    // The conversions below follow their clicks within a second; that is not what this test
    // is about, so the too-fast signal is off (the public route still counts as unverified),
    // and public conversions are allowed unflagged (new handles default to `flag`).
    for handle in ["acme", "rival"] {
        let policy = json!({"minSecondsAfterClick": 0, "publicConversions": "allow"});
        let resp = app
            .as_role(handle, Role::Operator)
            .put_conversion_policy(&policy)
            .await;
        assert_eq!(resp.status(), 200);
    }
    for (c, s) in [
        ("partner-alpha", "deal-alpha"),
        ("partner-beta", "deal-beta"),
    ] {
        assert_eq!(
            create_campaign(&app, "acme", &partner(c, s)).await.status(),
            201
        );
    }
    let plain = json!({"destinationUrl": "https://example.com/plain"});
    assert_eq!(app.put_link("acme", "plain", plain).await.status(), 201);
    // Another handle uses the same campaign id; its numbers must never mix with acme's.
    assert_eq!(
        create_campaign(&app, "rival", &partner("partner-alpha", "deal-alpha"))
            .await
            .status(),
        201
    );
    assert_eq!(
        create_campaign(&app, "rival", &partner("rival-only", "rival-deal"))
            .await
            .status(),
        201
    );

    // partner-alpha: 4 humans, 2 bots (a crawler and a HEAD request).
    let a1 = click(
        &app,
        "acme",
        "deal-alpha",
        false,
        &[
            ("user-agent", CHROME),
            ("cloudfront-viewer-country", "US"),
            ("referer", "https://news.example.com/a"),
        ],
    )
    .await
    .expect("human ctx");
    let a2 = click(
        &app,
        "acme",
        "deal-alpha",
        false,
        &[
            ("user-agent", IPHONE),
            ("cloudfront-viewer-country", "US"),
            ("referer", "https://news.example.com/b"),
        ],
    )
    .await
    .expect("human ctx");
    click(
        &app,
        "acme",
        "deal-alpha",
        false,
        &[
            ("user-agent", CHROME),
            ("cloudfront-viewer-country", "DE"),
            ("cookie", "tenx_vid=returningvisitor01"),
        ],
    )
    .await
    .expect("human ctx");
    let a4 = click(
        &app,
        "acme",
        "deal-alpha",
        false,
        &[
            ("user-agent", IPHONE),
            ("cloudfront-viewer-country", "GB"),
            ("referer", "https://social.example.org/post"),
        ],
    )
    .await
    .expect("human ctx");
    let bot = click(
        &app,
        "acme",
        "deal-alpha",
        false,
        &[
            ("user-agent", GOOGLEBOT),
            ("cloudfront-viewer-country", "US"),
        ],
    )
    .await;
    assert!(bot.is_none(), "bots get no ctx");
    assert!(
        click(
            &app,
            "acme",
            "deal-alpha",
            true,
            &[("user-agent", CHROME), ("cloudfront-viewer-country", "US"),]
        )
        .await
        .is_none()
    );

    // partner-beta: 2 humans, 3 bots.
    let b1 = click(
        &app,
        "acme",
        "deal-beta",
        false,
        &[
            ("user-agent", IPHONE),
            ("cloudfront-viewer-country", "FR"),
            ("referer", "https://social.example.org/x"),
        ],
    )
    .await
    .expect("human ctx");
    click(
        &app,
        "acme",
        "deal-beta",
        false,
        &[("user-agent", CHROME), ("cloudfront-viewer-country", "FR")],
    )
    .await
    .expect("human ctx");
    click(&app, "acme", "deal-beta", false, &[("user-agent", BINGBOT)]).await;
    click(
        &app,
        "acme",
        "deal-beta",
        false,
        &[("user-agent", SLACKBOT)],
    )
    .await;
    click(&app, "acme", "deal-beta", true, &[("user-agent", IPHONE)]).await;

    // A link without a campaign, and the rival's own traffic.
    click(
        &app,
        "acme",
        "plain",
        false,
        &[("user-agent", CHROME), ("cloudfront-viewer-country", "JP")],
    )
    .await
    .expect("human ctx");
    let r1 = click(
        &app,
        "rival",
        "deal-alpha",
        false,
        &[("user-agent", CHROME), ("cloudfront-viewer-country", "US")],
    )
    .await
    .expect("human ctx");

    // Conversions: alpha 2 (plus a test conversion and a replay, neither counted), beta 3 (more
    // than its 2 qualified clicks), rival 1.
    assert_eq!(
        convert(&app, &a1, "txn-a1", "24.99", "USD", false).await,
        202
    );
    assert_eq!(convert(&app, &a4, "txn-test", "99", "USD", true).await, 202);
    assert_eq!(
        convert(&app, &a1, "txn-a1", "24.99", "USD", false).await,
        200
    );
    assert_eq!(
        convert(&app, &a2, "txn-a2", "10.01", "USD", false).await,
        202
    );
    assert_eq!(
        convert(&app, &b1, "txn-b1", "5.50", "EUR", false).await,
        202
    );
    assert_eq!(
        convert(&app, &b1, "txn-b2", "5.50", "EUR", false).await,
        202
    );
    assert_eq!(convert(&app, &r1, "txn-r1", "500", "USD", false).await, 202);
    assert_eq!(convert(&app, &b1, "txn-b3", "1", "USD", false).await, 202);

    let funnel = wait_for_totals(&app, "acme", 12, 5).await;
    wait_for_totals(&app, "rival", 1, 1).await;

    // The funnel, per partner.
    let alpha = campaign(&funnel, Some("partner-alpha"));
    assert_eq!(alpha["status"], "ACTIVE");
    assert_eq!(
        metrics_of(alpha),
        (6, 4, 2, 2, BTreeMap::from([("USD".to_owned(), 35_000_000)]))
    );
    assert_eq!(alpha["revenue"], json!({"USD": "35.00"}));
    assert_eq!(alpha["conversionRate"], 0.5);
    assert_eq!(alpha["botRatio"], 0.3333);
    assert_eq!(alpha["confidence"], 75);
    assert_eq!(
        codes(alpha),
        ["bot_ratio_elevated", "unverified_conversions_high"]
    );

    let beta = campaign(&funnel, Some("partner-beta"));
    assert_eq!(beta["revenue"], json!({"EUR": "11.00", "USD": "1.00"}));
    assert_eq!(
        (
            beta["clicks"].as_i64(),
            beta["qualifiedClicks"].as_i64(),
            beta["botClicks"].as_i64(),
            beta["conversions"].as_i64()
        ),
        (Some(5), Some(2), Some(3), Some(3))
    );
    assert_eq!(beta["conversionRate"], 1.5);
    assert_eq!(beta["botRatio"], 0.6);
    assert_eq!(beta["confidence"], 35);
    assert_eq!(
        codes(beta),
        [
            "bot_ratio_high",
            "conversions_exceed_qualified_clicks",
            "unverified_conversions_high"
        ]
    );

    let none = campaign(&funnel, None);
    assert!(none["status"].is_null());
    assert_eq!(
        (none["clicks"].as_i64(), none["qualifiedClicks"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(none["confidence"], 100);
    assert_eq!(funnel["campaigns"].as_array().unwrap().len(), 3);
    let totals = metrics_of(&funnel["totals"]);
    assert_eq!(
        totals,
        (
            12,
            7,
            5,
            5,
            BTreeMap::from([
                ("EUR".to_owned(), 11_000_000),
                ("USD".to_owned(), 36_000_000)
            ])
        )
    );

    // One partner alone.
    let only = analytics(&app, "acme", "funnel=true&campaignId=partner-alpha").await;
    assert_eq!(only["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(&only["campaigns"][0], alpha);
    assert_eq!(only["totals"]["clicks"], 6);

    // Breakdowns add up to the funnel.
    let by_country = analytics(&app, "acme", "groupBy=country").await;
    assert_eq!(sum_rows(&by_country["rows"]), totals);
    assert_eq!(metrics_of(&by_country["totals"]), totals);
    let us = row(&by_country, "US");
    assert_eq!(
        metrics_of(us),
        (4, 2, 2, 2, BTreeMap::from([("USD".to_owned(), 35_000_000)]))
    );
    let fr = row(&by_country, "FR");
    assert_eq!(
        (fr["clicks"].as_i64(), fr["conversions"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(row(&by_country, "unknown")["botClicks"], 3);
    let keys: Vec<&str> = by_country["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["US", "unknown", "FR", "DE", "GB", "JP"],
        "most clicks first"
    );

    let by_referrer = analytics(&app, "acme", "groupBy=referrer&campaignId=partner-alpha").await;
    assert_eq!(sum_rows(&by_referrer["rows"]), metrics_of(alpha));
    let news = row(&by_referrer, "news.example.com");
    assert_eq!(
        (news["clicks"].as_i64(), news["conversions"].as_i64()),
        (Some(2), Some(2))
    );
    let direct = row(&by_referrer, "direct");
    assert_eq!(
        (direct["clicks"].as_i64(), direct["botClicks"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(row(&by_referrer, "social.example.org")["clicks"], 1);
    assert_eq!(by_referrer["campaignId"], "partner-alpha");

    let by_referrer_all = analytics(&app, "acme", "groupBy=referrer").await;
    assert_eq!(sum_rows(&by_referrer_all["rows"]), totals);

    let by_segment = analytics(&app, "acme", "groupBy=segment&campaignId=partner-alpha").await;
    assert_eq!(sum_rows(&by_segment["rows"]), metrics_of(alpha));
    assert_eq!(row(&by_segment, "bot")["clicks"], 2);
    assert_eq!(row(&by_segment, "new-mobile")["clicks"], 2);
    assert_eq!(row(&by_segment, "new-desktop")["conversions"], 1);
    assert_eq!(row(&by_segment, "returning-desktop")["clicks"], 1);

    for group in ["device", "source", "day", "link"] {
        let report = analytics(&app, "acme", &format!("groupBy={group}")).await;
        assert_eq!(sum_rows(&report["rows"]), totals, "groupBy={group}");
    }
    let by_link = analytics(&app, "acme", "groupBy=link").await;
    assert_eq!(row(&by_link, "deal-alpha")["clicks"], 6);
    assert_eq!(row(&by_link, "deal-beta")["clicks"], 5);
    assert_eq!(row(&by_link, "plain")["clicks"], 1);

    // The CSV export holds the same numbers as the JSON.
    let resp = app.as_role("acme", Role::Viewer).export("format=csv").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    assert!(
        header_str(resp.headers(), "content-disposition")
            .starts_with("attachment; filename=\"analytics-acme-funnel-")
    );
    let csv = parse_csv(&resp.text().await.unwrap());
    let header = &csv[0];
    assert_eq!(
        header.join(","),
        "campaignId,status,clicks,qualifiedClicks,botClicks,conversions,verifiedConversions,\
         flaggedConversions,revenue_EUR,revenue_USD,verifiedRevenue_EUR,verifiedRevenue_USD,\
         flaggedRevenue_EUR,flaggedRevenue_USD,reversedRevenue_EUR,reversedRevenue_USD,\
         conversionRate,botRatio,expiredClicks,confidence,confidenceReasons,confidenceReasonsWords,\
         statusWords"
    );
    assert_eq!(csv.len(), 1 + 3);
    for line in &csv[1..] {
        let id = cell(header, line, "campaignId");
        let json_row = campaign(&funnel, (!id.is_empty()).then_some(id));
        for column in [
            "clicks",
            "qualifiedClicks",
            "botClicks",
            "conversions",
            "confidence",
            "conversionRate",
            "botRatio",
        ] {
            assert_eq!(
                cell(header, line, column),
                json_number_text(&json_row[column]),
                "{id} {column}"
            );
        }
        for ccy in ["EUR", "USD"] {
            let want = json_row["revenue"][ccy].as_str().unwrap_or("0");
            assert_eq!(
                cell(header, line, &format!("revenue_{ccy}")),
                want,
                "{id} {ccy}"
            );
        }
        assert_eq!(
            cell(header, line, "confidenceReasons"),
            codes(json_row).join(";")
        );
        // The same reasons in words, after the documented columns (issue 62).
        let words: Vec<&str> = codes(json_row)
            .iter()
            .map(|c| tenx_shared::domain::words::or_code(c))
            .collect();
        assert_eq!(
            cell(header, line, "confidenceReasonsWords"),
            words.join("; ")
        );
        // Then the campaign's status in words, last.
        assert_eq!(
            cell(header, line, "statusWords"),
            tenx_shared::domain::words::or_code(json_row["status"].as_str().unwrap_or(""))
        );
        assert_eq!(header.last().map(String::as_str), Some("statusWords"));
    }

    let resp = app
        .as_role("acme", Role::Viewer)
        .export("format=csv&groupBy=country")
        .await;
    assert_eq!(resp.status(), 200);
    let csv = parse_csv(&resp.text().await.unwrap());
    assert_eq!(
        csv[0].join(","),
        "country,clicks,qualifiedClicks,botClicks,conversions,verifiedConversions,\
         flaggedConversions,revenue_EUR,revenue_USD,verifiedRevenue_EUR,verifiedRevenue_USD,\
         flaggedRevenue_EUR,flaggedRevenue_USD,reversedRevenue_EUR,reversedRevenue_USD,\
         conversionRate,botRatio,expiredClicks"
    );
    assert_eq!(csv.len() - 1, by_country["rows"].as_array().unwrap().len());
    for line in &csv[1..] {
        let json_row = row(&by_country, &line[0]);
        for column in ["clicks", "qualifiedClicks", "botClicks", "conversions"] {
            assert_eq!(
                cell(&csv[0], line, column),
                json_row[column].to_string(),
                "{column}"
            );
        }
    }

    // The JSON export is the report itself.
    let resp = app
        .as_role("acme", Role::Viewer)
        .export("format=json&groupBy=country")
        .await;
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "application/json"
    );
    assert!(header_str(resp.headers(), "content-disposition").contains(".json"));
    let exported: Value = resp.json().await.unwrap();
    assert_eq!(exported, by_country);

    // The rival sees only its own numbers, and acme cannot reach them.
    let rival = analytics(&app, "rival", "funnel=true").await;
    let rival_alpha = campaign(&rival, Some("partner-alpha"));
    assert_eq!(
        (
            rival_alpha["clicks"].as_i64(),
            rival_alpha["conversions"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(rival_alpha["revenue"], json!({"USD": "500.00"}));
    assert!(
        rival["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["campaignId"] != "partner-beta")
    );
    let acme_token = app.token(&["acme"], Role::Admin);
    let at_rival = app.with_token("rival", &acme_token);
    assert_error(at_rival.analytics("funnel=true").await, 403, "forbidden").await;
    assert_error(at_rival.export("format=csv").await, 403, "forbidden").await;
    let resp = app
        .with_token("acme", &acme_token)
        .analytics("funnel=true&campaignId=rival-only")
        .await;
    assert_error(resp, 404, "not_found").await;
}

fn click_event(id: &str, country: &str) -> String {
    let data = ClickData {
        click_id: tenx_shared::domain::ClickId::parse(&format!("clk_{id:0>32}")).unwrap(),
        slug: "deal-alpha".into(),
        campaign_id: Some(tenx_shared::domain::CampaignId::parse("partner-alpha").unwrap()),
        attribution: tenx_shared::domain::Attribution {
            country: country.into(),
            device: Device::Desktop,
            source: "direct".into(),
            referrer: "direct".into(),
            segment: "new-desktop".into(),
            variant: None,
        },
        bot: false,
        bot_reason: None,
        expired: false,
        sub_ids: Default::default(),
        test: false,
        ad_click: None,
        user_agent: None,
        region: None,
        city: None,
        destination_url: "https://merchant.example.com/".into(),
        at: tenx_shared::platform::time::now_rfc3339(),
    };
    let mut event = Event::new(&tenx_shared::domain::Handle::parse("acme").unwrap(), &data);
    // A fixed id per `id` (hex, zero-padded), so a redelivered body is the same event.
    event.id = tenx_shared::domain::EventId::parse(&format!("evt_{id:0>32}")).unwrap();
    serde_json::to_string(&event).unwrap()
}

#[tokio::test]
async fn the_same_event_delivered_twice_counts_once() {
    let app = spawn_app().await;
    assert_eq!(
        create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha"))
            .await
            .status(),
        201
    );
    let dup = click_event("0123456789abcdef", "NZ");
    app.queue
        .send(QueueName::Events, vec![OutMessage::now(dup.clone())])
        .await
        .unwrap();
    wait_for_totals(&app, "acme", 1, 0).await;

    // Redeliver it twice (once alone, once in a batch with itself), then a sentinel event: the
    // queue is FIFO locally, so once the sentinel counts, the duplicates have been processed.
    app.queue
        .send(QueueName::Events, vec![OutMessage::now(dup.clone())])
        .await
        .unwrap();
    app.queue
        .send(
            QueueName::Events,
            vec![OutMessage::now(dup.clone()), OutMessage::now(dup)],
        )
        .await
        .unwrap();
    app.queue
        .send(
            QueueName::Events,
            vec![OutMessage::now(click_event("fedcba9876543210", "AU"))],
        )
        .await
        .unwrap();
    let funnel = wait_for_totals(&app, "acme", 2, 0).await;
    let by_country = analytics(&app, "acme", "groupBy=country").await;
    assert_eq!(row(&by_country, "NZ")["clicks"], 1);
    assert_eq!(row(&by_country, "AU")["clicks"], 1);
    assert_eq!(campaign(&funnel, Some("partner-alpha"))["clicks"], 2);
}

#[tokio::test]
async fn bad_report_parameters_are_refused_naming_them() {
    let app = spawn_app_without_workers().await;
    create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let table = [
        ("/analytics?funnel=maybe", "funnel"),
        ("/analytics?groupBy=planet", "groupBy"),
        ("/analytics?funnel=true&groupBy=country", "groupBy"),
        ("/analytics?funnel=false", "groupBy"),
        ("/analytics?from=yesterday", "from"),
        ("/analytics?to=2026-02-30", "to"),
        ("/analytics?from=2026-02-10&to=2026-02-01", "from"),
        ("/analytics?from=2024-01-01&to=2026-01-01", "to"),
        ("/analytics?campaignId=Bad_Id", "campaignId"),
        ("/analytics?colour=blue", "colour"),
        ("/analytics/export?format=xml", "format"),
        ("/analytics/export?format=csv&groupBy=planet", "groupBy"),
    ];
    for (path, field) in table {
        let resp = viewer.get(path).await;
        let msg = assert_error(resp, 400, "invalid_request").await;
        assert!(msg.contains(field), "{path}: {msg}");
    }
    let resp = viewer.analytics("campaignId=nobody").await;
    assert_error(resp, 404, "not_found").await;

    // With no traffic: every campaign is listed with zero counts and null ratios; the default
    // window is the last 30 days; RFC 3339 bounds work too.
    let funnel = analytics(&app, "acme", "").await;
    let alpha = campaign(&funnel, Some("partner-alpha"));
    assert_eq!(alpha["clicks"], 0);
    assert!(alpha["conversionRate"].is_null() && alpha["botRatio"].is_null());
    assert_eq!(alpha["confidence"], 100);
    assert_eq!(
        funnel["campaigns"].as_array().unwrap().len(),
        1,
        "no empty null-campaign row"
    );
    let from = time::Date::parse(
        funnel["from"].as_str().unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let to = time::Date::parse(
        funnel["to"].as_str().unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    assert_eq!((to - from).whole_days(), 29);
    let ranged = analytics(&app, "acme", "from=2026-01-01T10:00:00Z&to=2026-01-31").await;
    assert_eq!(
        (ranged["from"].as_str(), ranged["to"].as_str()),
        (Some("2026-01-01"), Some("2026-01-31"))
    );
}

/// Puts a campaign created `age_days` ago straight into the store (the API stamps "now").
async fn old_campaign(app: &TestApp, id: &str, status: &str, age_days: i64) {
    use tenx_shared::campaigns::{Campaign, CampaignStatus, GoalType};
    use tenx_shared::domain::{CampaignId, Slug};
    use tenx_shared::platform::store::{Cond, Item, WriteOp, keys};
    let status: CampaignStatus = serde_json::from_value(json!(status)).unwrap();
    let created = tenx_shared::domain::time::Timestamp::from_unix(now() - age_days * 86_400);
    let c = Campaign::new(
        CampaignId::parse(id).unwrap(),
        GoalType::AffiliateClickout,
        status,
        Slug::parse(id).unwrap(),
        created,
    );
    let item = Item::new(
        keys::handle_pk(&acme()),
        keys::campaign_sk(&tenx_shared::domain::CampaignId::parse(id).unwrap()),
        serde_json::to_value(&c).unwrap(),
    )
    .with_version(1);
    app.store
        .write(WriteOp::Put {
            item,
            cond: Cond::Absent,
        })
        .await
        .unwrap();
}

fn click_at(id: &str, campaign: &str, days_ago: i64) -> OutMessage {
    let mut event: Event = serde_json::from_str(&click_event(id, "US")).unwrap();
    event.data["campaignId"] = campaign.into();
    event.data["at"] = tenx_shared::domain::time::unix_to_rfc3339(now() - days_ago * 86_400).into();
    OutMessage::now(serde_json::to_string(&event).unwrap())
}

#[tokio::test]
async fn active_campaigns_without_a_click_for_seven_days_are_stale() {
    let app = spawn_app().await;
    old_campaign(&app, "quiet-new", "ACTIVE", 2).await; // no click, but young
    old_campaign(&app, "quiet-old", "ACTIVE", 10).await; // no click since creation
    old_campaign(&app, "clicked-long-ago", "ACTIVE", 20).await;
    old_campaign(&app, "clicked-lately", "ACTIVE", 20).await;
    old_campaign(&app, "paused-old", "PAUSED", 20).await;
    app.queue
        .send(
            QueueName::Events,
            vec![
                click_at("1000000000000001", "clicked-long-ago", 9),
                click_at("1000000000000002", "clicked-lately", 2),
            ],
        )
        .await
        .unwrap();
    let funnel = wait_for_totals(&app, "acme", 2, 0).await;
    let table = [
        ("quiet-new", 100, vec![]),
        ("quiet-old", 80, vec!["stale_data"]),
        ("clicked-long-ago", 80, vec!["stale_data"]),
        ("clicked-lately", 100, vec![]),
        ("paused-old", 100, vec![]),
    ];
    for (id, score, reasons) in table {
        let row = campaign(&funnel, Some(id));
        assert_eq!(row["confidence"], score, "{id}: {row}");
        assert_eq!(codes(row), reasons, "{id}");
    }
    // The old click is still in the default 30-day window.
    assert_eq!(campaign(&funnel, Some("clicked-long-ago"))["clicks"], 1);
}

/// A public conversion of `value` (a decimal string) in USD on `ctx`: the status.
async fn convert_usd(app: &TestApp, ctx: &str, key: &str, value: &str) -> reqwest::Response {
    app.convert(&json!({
        "ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": value, "currency": "USD",
    }))
    .await
}

/// Issue 28 (1): the server's hard maximum per conversion (`TENX_MAX_CONVERSION_VALUE`, a
/// billion by default) refuses the 9e12 values that used to overflow the revenue counters, with
/// a 400 that names the setting.
#[tokio::test]
async fn a_value_above_the_servers_maximum_is_refused_and_names_it() {
    let app = spawn_app().await;
    app.put_link(
        "acme",
        "deal",
        json!({"destinationUrl": "https://example.com/"}),
    )
    .await;
    let ctx = click(&app, "acme", "deal", false, &[("user-agent", IPHONE)])
        .await
        .expect("human ctx");
    let resp = convert_usd(&app, &ctx, "huge", "9000000000000").await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(
        message.contains("TENX_MAX_CONVERSION_VALUE") && message.contains("1000000000"),
        "{message}"
    );
    assert_eq!(
        convert_usd(&app, &ctx, "at-max", "1000000000")
            .await
            .status(),
        202,
        "the maximum itself is accepted"
    );
}

/// Issue 28 (1): revenue past i64 micro-units (two 4.7e12 and two 9e12 conversions, the
/// maximum raised to 15 digits) is counted exactly in the funnel and the CSV, never wrapped to a
/// negative amount nor failing the consumer's batch: clicks on another handle afterwards are
/// still counted.
#[tokio::test]
async fn revenue_past_i64_is_exact_and_counting_goes_on() {
    let mut config = test_config();
    config.max_conversion_value = "999999999999999".parse().unwrap();
    let app = spawn_with(config, None).await;
    for handle in ["acme", "rival"] {
        app.put_link(
            handle,
            "deal",
            json!({"destinationUrl": "https://example.com/"}),
        )
        .await;
    }
    let ctx = click(&app, "acme", "deal", false, &[("user-agent", IPHONE)])
        .await
        .expect("human ctx");
    for (key, value) in [("a", "4700000000000"), ("b", "4700000000000")] {
        assert_eq!(convert_usd(&app, &ctx, key, value).await.status(), 202);
    }
    wait_for_totals(&app, "acme", 1, 2).await;
    for (key, value) in [("c", "9000000000000"), ("d", "9000000000000.5")] {
        assert_eq!(convert_usd(&app, &ctx, key, value).await.status(), 202);
    }
    let funnel = wait_for_totals(&app, "acme", 1, 4).await;
    assert_eq!(
        funnel["totals"]["revenue"],
        json!({"USD": "27400000000000.50"}),
        "{funnel}"
    );
    for _ in 0..5 {
        click(&app, "rival", "deal", false, &[("user-agent", IPHONE)]).await;
    }
    wait_for_totals(&app, "rival", 5, 0).await;

    let resp = app.as_role("acme", Role::Viewer).export("format=csv").await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("27400000000000.50"), "{body}");
    assert!(!body.contains("-9"), "no wrapped amount: {body}");
}

/// Issue 42: the funnel says when it may be behind. With no worker counting, an accepted
/// conversion's event waits; the funnel answers when the oldest such event was accepted
/// (`pendingSince`) and how long ago (`behindSeconds`), where a settled funnel answers null.
#[tokio::test]
async fn the_funnel_says_when_accepted_events_are_not_counted_yet() {
    let app = spawn_app_without_workers().await;
    // The setup's own events (the program's, the click) wait too, so the oldest pending one is
    // accepted after the app started and no later than the sale: bounds that hold however slow
    // the backend is.
    let before = tenx_shared::platform::time::now_millis();
    crate::scenario::Program::on(&app, "acme")
        .instant()
        .await
        .campaign("alpha", None, "deal")
        .await;
    let ctx = crate::scenario::human_ctx(&app, "acme", "/deal").await;
    let sale = serde_json::json!({"ctx": ctx, "idempotencyKey": "late-1", "eventType": "purchase"});
    assert_eq!(app.convert(&sale).await.status(), 202);
    let accepted = tenx_shared::platform::time::now_millis();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let funnel = analytics(&app, "acme", "").await;
    let freshness = &funnel["freshness"];
    let since = freshness["pendingSince"]
        .as_str()
        .expect("pendingSince while behind");
    let since_ms = tenx_shared::domain::time::rfc3339_millis(since).unwrap();
    assert!(since_ms >= before - 1000, "{freshness}");
    assert!(since_ms <= accepted, "{freshness}");
    assert!(
        freshness["behindSeconds"].as_i64().unwrap() >= 1,
        "{freshness}"
    );
    // Nothing counted it: the funnel's conversions are still 0.
    assert_eq!(funnel["totals"]["conversions"], 0, "{funnel}");
}

/// Behind a load balancer no edge names the country: the visitor's address does, from the open
/// IP database compiled in, and only the hop the balancer appends is read (a visitor who writes
/// an `x-forwarded-for` of its own cannot choose its country). A trusted edge's country still
/// wins, and an address off the public internet has none.
#[tokio::test]
async fn a_visits_country_comes_from_its_address_where_no_edge_names_it() {
    let mut config = test_config();
    config.trusted_proxy = true;
    let app = spawn_with(config, None).await;
    let link = json!({"destinationUrl": "https://example.com/shop"});
    assert_eq!(app.put_link("acme", "shop", link).await.status(), 201);
    for (forwarded, edge) in [
        ("8.8.8.8", None),
        // The visitor wrote 8.8.8.8; the balancer appended the address it saw.
        ("8.8.8.8, 1.1.1.1", None),
        ("1.1.1.1", Some("DE")),
        ("10.0.0.7", None),
    ] {
        let mut headers = vec![("user-agent", CHROME), ("x-forwarded-for", forwarded)];
        if let Some(country) = edge {
            headers.push(("cloudfront-viewer-country", country));
        }
        click(&app, "acme", "shop", false, &headers)
            .await
            .expect("human ctx");
    }
    wait_for_totals(&app, "acme", 4, 0).await;
    let by_country = analytics(&app, "acme", "groupBy=country").await;
    for (country, clicks) in [("US", 1), ("AU", 1), ("DE", 1), ("unknown", 1)] {
        assert_eq!(
            row(&by_country, country)["clicks"],
            clicks,
            "{country}: {by_country}"
        );
    }
    assert_eq!(
        by_country["rows"].as_array().unwrap().len(),
        4,
        "{by_country}"
    );
}

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

/// `…/analytics?groupBy={group}`'s rows as `key → clicks`, after checking they add up to the
/// report's totals.
async fn clicks_by(app: &TestApp, group: &str) -> BTreeMap<String, i64> {
    let report = analytics(app, "acme", &format!("groupBy={group}")).await;
    assert_eq!(
        sum_rows(&report["rows"]),
        metrics_of(&report["totals"]),
        "{report}"
    );
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["clicks"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// Clicks by OS and browser (from the User-Agent, read by the click's consumer, versions as
/// people read them) and by region and city (the edge's headers, where its country is
/// believed): Chrome on Windows from Seattle, Safari on an iPhone from Paris (its region's name
/// percent-encoded, as CloudFront may send a name outside ASCII), Firefox on Linux with no
/// place, and Googlebot. The CSV has the same rows; a conversion counts in none of these.
#[tokio::test]
async fn clicks_are_counted_by_os_browser_region_and_city() {
    let app = spawn_app().await;
    let link = json!({"destinationUrl": "https://example.com/shop"});
    assert_eq!(app.put_link("acme", "shop", link).await.status(), 201);
    let seattle = [
        ("cloudfront-viewer-country", "US"),
        ("cloudfront-viewer-country-region", "WA"),
        ("cloudfront-viewer-country-region-name", "Washington"),
        ("cloudfront-viewer-city", "Seattle"),
    ];
    let paris = [
        ("cloudfront-viewer-country", "FR"),
        ("cloudfront-viewer-country-region", "IDF"),
        (
            "cloudfront-viewer-country-region-name",
            "%C3%8Ele-de-France",
        ),
        ("cloudfront-viewer-city", "Paris"),
    ];
    let with = |ua: &'static str, place: &[(&'static str, &'static str)]| {
        let mut headers = vec![("user-agent", ua)];
        headers.extend_from_slice(place);
        headers
    };
    let ctx = click(&app, "acme", "shop", false, &with(CHROME, &seattle)).await;
    click(&app, "acme", "shop", false, &with(IPHONE, &paris)).await;
    click(&app, "acme", "shop", false, &with(FIREFOX_LINUX, &[])).await;
    assert!(
        click(&app, "acme", "shop", false, &with(GOOGLEBOT, &seattle))
            .await
            .is_none()
    );
    let status = convert(&app, &ctx.unwrap(), "order-1", "10.00", "USD", false).await;
    assert_eq!(status, 202);
    wait_for_totals(&app, "acme", 4, 1).await;

    let os = [
        ("Windows 10/11", 1),
        ("iOS 17", 1),
        ("Linux", 1),
        ("unknown", 1),
    ];
    assert_eq!(clicks_by(&app, "os").await, counts(&os));
    let browsers = [
        ("Chrome", 1),
        ("Safari", 1),
        ("Firefox", 1),
        ("Googlebot", 1),
    ];
    assert_eq!(clicks_by(&app, "browser").await, counts(&browsers));
    let regions = [
        ("Washington, US", 2),
        ("Île-de-France, FR", 1),
        ("unknown", 1),
    ];
    assert_eq!(clicks_by(&app, "region").await, counts(&regions));
    let cities = [
        ("Seattle, Washington, US", 2),
        ("Paris, Île-de-France, FR", 1),
        ("unknown", 1),
    ];
    assert_eq!(clicks_by(&app, "city").await, counts(&cities));
    // The bot is one of Seattle's clicks, counted as a bot's; the sale is in no such row.
    let by_city = analytics(&app, "acme", "groupBy=city").await;
    let seattle_row = row(&by_city, "Seattle, Washington, US");
    assert_eq!(
        (&seattle_row["qualifiedClicks"], &seattle_row["botClicks"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(by_city["totals"]["conversions"], 0, "{by_city}");
    let funnel = analytics(&app, "acme", "funnel=true").await;
    assert_eq!(funnel["totals"]["conversions"], 1);

    // The CSV: the group's name as the first column, a place with commas quoted.
    let resp = app
        .as_role("acme", Role::Viewer)
        .export("format=csv&groupBy=city")
        .await;
    assert_eq!(resp.status(), 200);
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(
        lines[0].starts_with("city,clicks,qualifiedClicks,botClicks,conversions,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].starts_with("\"Seattle, Washington, US\",2,1,1,0,"),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("\"Paris, Île-de-France, FR\",1,1,0,0,")),
        "{csv}"
    );
    let resp = app
        .as_role("acme", Role::Viewer)
        .export("format=csv&groupBy=os")
        .await;
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("os,clicks,"), "{csv}");
    assert!(csv.contains("\r\nWindows 10/11,1,1,0,0,"), "{csv}");
}

/// The region and city are believed only where the country is: behind the configured edge
/// (its secret on the request). A visitor who writes the headers itself, or guesses the
/// secret, counts under `unknown`: it cannot choose its city.
#[tokio::test]
async fn a_visitor_cannot_choose_its_region_or_city() {
    use tenx_shared::platform::config::{CountryTrust, EDGE_SECRET_HEADER};
    const SECRET: &str = "edge-secret-from-ssm-0123456789";
    let mut config = test_config();
    config.country_trust = CountryTrust::EdgeSecret(SECRET.as_bytes().to_vec());
    let app = spawn_with(config, None).await;
    let link = json!({"destinationUrl": "https://example.com/shop"});
    assert_eq!(app.put_link("acme", "shop", link).await.status(), 201);
    let place = [
        ("user-agent", CHROME),
        ("cloudfront-viewer-country", "US"),
        ("cloudfront-viewer-country-region-name", "Washington"),
        ("cloudfront-viewer-city", "Seattle"),
    ];
    for secret in [None, Some("edge-secret-from-ssm"), Some(SECRET)] {
        let mut headers = place.to_vec();
        headers.extend(secret.map(|s| (EDGE_SECRET_HEADER, s)));
        click(&app, "acme", "shop", false, &headers)
            .await
            .expect("a human's ctx");
    }
    wait_for_totals(&app, "acme", 3, 0).await;
    let cities = [("Seattle, Washington, US", 1), ("unknown", 2)];
    assert_eq!(clicks_by(&app, "city").await, counts(&cities));
    let regions = [("Washington, US", 1), ("unknown", 2)];
    assert_eq!(clicks_by(&app, "region").await, counts(&regions));
    // The User-Agent is the visitor's own word, and only ever labels it.
    assert_eq!(clicks_by(&app, "browser").await, counts(&[("Chrome", 3)]));
}

/// Behind the stack's load balancer (`RedirectFrontDoor: alb`, `TENX_EDGE=alb`) only the hop
/// the ALB appends to `x-forwarded-for` is read: a visitor who writes its own hops (and
/// CloudFront's country and city headers, which no ALB sets) is placed by the address the ALB
/// saw, its country from the IP database in process.
#[tokio::test]
async fn behind_the_load_balancer_only_its_hop_places_a_visitor() {
    use tenx_shared::platform::config::CountryTrust;
    let mut config = test_config();
    config.country_trust = CountryTrust::Alb;
    let app = spawn_with(config, None).await;
    let link = json!({"destinationUrl": "https://example.com/shop"});
    assert_eq!(app.put_link("acme", "shop", link).await.status(), 201);
    let claimed = [
        ("user-agent", CHROME),
        ("cloudfront-viewer-country", "FR"),
        ("cloudfront-viewer-country-region-name", "Île-de-France"),
        ("cloudfront-viewer-city", "Paris"),
    ];
    // The visitor wrote the first hop (1.1.1.1: AU); the ALB appended the second (8.8.8.8:
    // US). Then a visitor who wrote none (the ALB's hop alone: 1.1.1.1).
    for forwarded in ["1.1.1.1, 8.8.8.8", "1.1.1.1,8.8.8.8", "1.1.1.1"] {
        let mut headers = claimed.to_vec();
        headers.push(("x-forwarded-for", forwarded));
        click(&app, "acme", "shop", false, &headers)
            .await
            .expect("a human's ctx");
    }
    wait_for_totals(&app, "acme", 3, 0).await;
    assert_eq!(
        clicks_by(&app, "country").await,
        counts(&[("AU", 1), ("US", 2)])
    );
    assert_eq!(clicks_by(&app, "city").await, counts(&[("unknown", 3)]));
    assert_eq!(clicks_by(&app, "region").await, counts(&[("unknown", 3)]));
}

/// What the partner portal's traffic screen reads: a partner's own clicks by place and device,
/// never another partner's, whichever partner it names.
#[tokio::test]
async fn a_partner_reads_its_own_clicks_by_place_and_device_only() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    let seattle = [
        ("user-agent", CHROME),
        ("cloudfront-viewer-country", "US"),
        ("cloudfront-viewer-country-region-name", "Washington"),
        ("cloudfront-viewer-city", "Seattle"),
    ];
    let paris = [
        ("user-agent", IPHONE),
        ("cloudfront-viewer-country", "FR"),
        ("cloudfront-viewer-country-region-name", "Île-de-France"),
        ("cloudfront-viewer-city", "Paris"),
    ];
    click(&app, "acme", "deal", false, &seattle).await.unwrap();
    click(&app, "acme", "offer", false, &paris).await.unwrap();
    wait_for_totals(&app, "acme", 2, 0).await;
    let partner = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    for (group, key) in [
        ("city", "Seattle, Washington, US"),
        ("region", "Washington, US"),
        ("os", "Windows 10/11"),
        ("browser", "Chrome"),
    ] {
        let resp = partner.analytics(&format!("groupBy={group}")).await;
        let got: Value = json_of(resp, 200).await;
        let keys: Vec<&str> = got["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, [key], "{group}: {got}");
        assert_eq!(got["totals"]["clicks"], 1, "{got}");
    }
    let resp = partner.analytics("groupBy=city&partnerId=pub-two").await;
    assert_error(resp, 404, "not_found").await;
    // A name the server does not know is refused in words, naming the new ones.
    let resp = app
        .as_role("acme", Role::Viewer)
        .analytics("groupBy=town")
        .await;
    let body = json_of(resp, 400).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("os, browser, region, city"), "{message}");
}
