//! A/B tests of destinations: a link's `variants` refused in words when wrong, the split rules
//! first, sticky per visitor and spread by weight, bots on the first variant and counted in
//! none, each variant's numbers after conversions, and a new period when the weights change.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::IPHONE;

const A: &str = "https://a.example/landing";
const B: &str = "https://b.example/landing";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn desktop(n: usize) -> String {
    format!(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/120.0.{n} Safari/537.36"
    )
}

fn split(a: u32, b: u32) -> Value {
    json!({
        "destinationUrl": "https://example.com/",
        "variants": [{"destinationUrl": A, "weight": a}, {"destinationUrl": B, "weight": b}],
    })
}

/// One visit of `/{slug}`: the location's origin and path, the ctx, and the cookie minted.
async fn visit(
    app: &TestApp,
    slug: &str,
    headers: &[(&str, &str)],
    method: Method,
) -> (String, Option<String>, Option<String>) {
    let resp = app
        .visit(method, "acme", &format!("/{slug}"), headers)
        .await;
    assert_eq!(resp.status(), 302, "{slug} {headers:?}");
    let location = header_str(resp.headers(), "location").to_owned();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    let ctx = query_param(&location, "ctx");
    let target = location.split('?').next().unwrap_or_default().to_owned();
    (target, ctx, cookie)
}

async fn variants_of(app: &TestApp, slug: &str) -> Value {
    let resp = app
        .as_role("acme", Role::Viewer)
        .get(&format!("/links/{slug}/variants"))
        .await;
    json_of(resp, 200).await
}

/// Polls the variants report until its variants' clicks and conversions add up to the given
/// sums (the aggregator is asynchronous).
async fn wait_for_variants(app: &TestApp, slug: &str, clicks: i64, conversions: i64) -> Value {
    let what = format!("the variants to reach {clicks} clicks / {conversions} conversions");
    eventually_or(&what, || async {
        let last = variants_of(app, slug).await;
        let sum = |field: &str| -> i64 {
            last["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v[field].as_i64().unwrap())
                .sum()
        };
        match sum("clicks") == clicks && sum("conversions") == conversions {
            true => Ok(last),
            false => Err(last.to_string()),
        }
    })
    .await
}

#[tokio::test]
async fn bad_variants_are_refused_naming_the_entry_and_nothing_changes() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    json_of(creator.put_link("test", &split(50, 50)).await, 201).await;
    let v = |url: &str, weight: Value| json!({"destinationUrl": url, "weight": weight});
    let cases = [
        (
            json!([v(A, json!(50)), v(B, json!(40))]),
            "variants:",
            "add up to 100",
        ),
        (
            json!([
                v(A, json!(20)),
                v(B, json!(20)),
                v("https://c.example/", json!(20)),
                v("https://d.example/", json!(20)),
                v("https://e.example/", json!(20))
            ]),
            "variants:",
            "between 2 and 4",
        ),
        (json!([v(A, json!(100))]), "variants:", "between 2 and 4"),
        (
            json!([v(A, json!(100)), v(B, json!(0))]),
            "variants[0].weight:",
            "1 to 99",
        ),
        (
            json!([v(A, json!(50)), v(B, json!(50.5))]),
            "variants[1].weight:",
            "whole number",
        ),
        (
            json!([v(A, json!(50)), v(B, json!(-50))]),
            "variants[1].weight:",
            "whole number",
        ),
        (
            json!([v(A, json!(50)), v(B, json!("50"))]),
            "variants[1].weight:",
            "whole number",
        ),
        (
            json!([v(A, json!(50)), v("ftp://b.example/", json!(50))]),
            "variants[1].destinationUrl:",
            "",
        ),
        (
            json!([v(A, json!(50)), v("https://A.example/landing", json!(50))]),
            "variants[1].destinationUrl:",
            "same destination as variants[0]",
        ),
        (
            json!([{"destinationUrl": A}, v(B, json!(50))]),
            "variants[0]",
            "weight",
        ),
    ];
    for (variants, starts, contains) in cases {
        let body = json!({"destinationUrl": "https://example.com/", "variants": variants});
        let resp = creator.put_link("test", &body).await;
        let err = json_of(resp, 400).await;
        assert_eq!(err["error"]["code"], "invalid_request", "{variants}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(starts), "{variants}: {message}");
        assert!(message.contains(contains), "{variants}: {message}");
    }
    let link = json_of(creator.get_link("test").await, 200).await;
    assert_eq!(link["version"], 1);
    assert_eq!(link["variants"][0]["weight"], 50);
}

#[tokio::test]
async fn a_weight_change_starts_a_new_period_and_null_ends_the_test() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    let first = json_of(creator.put_link("test", &split(70, 30)).await, 201).await;
    assert_eq!(
        first["variants"],
        json!([{"destinationUrl": A, "weight": 70}, {"destinationUrl": B, "weight": 30}])
    );
    let since = first["variantsSince"].as_str().unwrap().to_owned();
    assert!(first.get("variantsNotice").is_none(), "{first}");

    // The same variants again: the same period, nothing to say.
    let mut same = split(70, 30);
    same["title"] = json!("renamed");
    let again = json_of(creator.put_link("test", &same).await, 200).await;
    assert_eq!(again["variantsSince"], since.as_str());
    assert!(again.get("variantsNotice").is_none(), "{again}");

    // A human's click in the first period, counted before the weights change.
    visit(&app, "test", &[("user-agent", &desktop(1))], Method::GET).await;
    wait_for_variants(&app, "test", 1, 0).await;

    tokio::time::sleep(Duration::from_millis(20)).await;
    let changed = json_of(creator.put_link("test", &split(50, 50)).await, 200).await;
    let new_since = changed["variantsSince"].as_str().unwrap();
    assert_ne!(new_since, since);
    let notice = changed["variantsNotice"].as_str().unwrap();
    assert!(notice.contains("starts again"), "{notice}");
    let report = variants_of(&app, "test").await;
    assert_eq!(report["variantsSince"], new_since);
    for v in report["variants"].as_array().unwrap() {
        assert_eq!(v["clicks"], 0, "{report}");
    }
    // The first period stays in analytics, under its own key.
    let groups = json_of(
        app.as_role("acme", Role::Viewer)
            .analytics("groupBy=variant")
            .await,
        200,
    )
    .await;
    let rows = groups["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{groups}");
    assert!(
        rows[0]["key"].as_str().unwrap().starts_with("test/"),
        "{groups}"
    );
    assert_eq!(rows[0]["clicks"], 1);

    let ended = json_of(
        creator
            .put_link(
                "test",
                &json!({"destinationUrl": "https://example.com/", "variants": null}),
            )
            .await,
        200,
    )
    .await;
    assert!(ended.get("variants").is_none(), "{ended}");
    assert!(ended.get("variantsSince").is_none(), "{ended}");
    assert!(ended["variantsNotice"].as_str().unwrap().contains("ended"));
    let (target, _, _) = visit(&app, "test", &[("user-agent", &desktop(1))], Method::GET).await;
    assert_eq!(target, "https://example.com/");
    let report = variants_of(&app, "test").await;
    assert_eq!(report["variants"], json!([]));
    assert!(report["verdict"].as_str().unwrap().contains("no A/B test"));
    // `[]` is no test either.
    let empty = json!({"destinationUrl": "https://example.com/", "variants": []});
    let ended = json_of(creator.put_link("test", &empty).await, 200).await;
    assert!(ended.get("variants").is_none(), "{ended}");
}

#[tokio::test]
async fn a_visitor_keeps_its_variant_and_visitors_spread_by_weight() {
    let app = spawn_app().await;
    json_of(
        app.as_role("acme", Role::Creator)
            .put_link("test", &split(70, 30))
            .await,
        201,
    )
    .await;
    // Without a cookie (the digest of address and User-Agent), 20 times.
    let ua = desktop(7);
    let (first, _, cookie) = visit(&app, "test", &[("user-agent", &ua)], Method::GET).await;
    let cookie = cookie.expect("a new visitor gets the visitor cookie");
    for _ in 0..20 {
        let (again, _, _) = visit(&app, "test", &[("user-agent", &ua)], Method::GET).await;
        assert_eq!(again, first);
    }
    // With the cookie minted on the first visit, from another browser string too.
    for n in 0..20 {
        let other = desktop(1000 + n);
        let headers = [("user-agent", other.as_str()), ("cookie", cookie.as_str())];
        let (again, _, minted) = visit(&app, "test", &headers, Method::GET).await;
        assert_eq!(again, first, "{cookie}");
        assert_eq!(minted, None, "a returning visitor keeps its cookie");
    }

    // The route preview makes the same choice for that visitor.
    let id = cookie
        .strip_prefix("tenx_vid=")
        .expect("the visitor cookie");
    let preview = app
        .as_role("acme", Role::Creator)
        .route_preview("test", &json!({"visitor": id}))
        .await;
    let preview = json_of(preview, 200).await;
    assert_eq!(preview["decision"], "variant", "{preview}");
    assert_eq!(preview["destinationUrl"], first.as_str(), "{preview}");

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..400 {
        let (target, _, _) = visit(&app, "test", &[("user-agent", &desktop(n))], Method::GET).await;
        *seen.entry(target).or_default() += 1;
    }
    let (a, b) = (
        seen.get(A).copied().unwrap_or(0),
        seen.get(B).copied().unwrap_or(0),
    );
    assert_eq!(a + b, 400, "{seen:?}");
    // 280 expected; the standard deviation is ~9, so this bound is ~6 of them wide.
    assert!((220..=340).contains(&a), "70/30 split gave {seen:?}");
}

#[tokio::test]
async fn rules_come_first_and_bots_go_to_the_first_variant_counted_in_none() {
    let app = spawn_app().await;
    let mut body = split(1, 99);
    body["routingRules"] = json!([{"priority": 1, "destinationUrl": "https://m.example/",
                                   "conditions": {"deviceIn": ["mobile"]}}]);
    json_of(
        app.as_role("acme", Role::Creator)
            .put_link("test", &body)
            .await,
        201,
    )
    .await;
    for _ in 0..5 {
        let (target, _, _) = visit(&app, "test", &[("user-agent", IPHONE)], Method::GET).await;
        assert_eq!(target, "https://m.example/");
    }
    // A bot goes to the first variant, though it has 1% of the weight.
    for method in [Method::GET, Method::HEAD] {
        let (target, ctx, _) = visit(&app, "test", &[("user-agent", GOOGLEBOT)], method).await;
        assert_eq!((target.as_str(), ctx), (A, None));
    }
    let (target, _, _) = visit(&app, "test", &[("user-agent", &desktop(3))], Method::HEAD).await;
    assert_eq!(target, A);
    // One human the split takes: the only click any variant counts.
    let (human, _, _) = visit(&app, "test", &[("user-agent", &desktop(4))], Method::GET).await;
    let report = wait_for_variants(&app, "test", 1, 0).await;
    let index = usize::from(human == B);
    assert_eq!(report["variants"][index]["clicks"], 1, "{report}");
    // Everything else reached the funnel: 5 rule clicks, 3 bots, 1 split human.
    let funnel = eventually_or("the funnel to count 9 clicks", || async {
        let funnel = json_of(
            app.as_role("acme", Role::Viewer)
                .analytics("funnel=true")
                .await,
            200,
        )
        .await;
        if funnel["totals"]["clicks"] == 9 {
            Ok(funnel)
        } else {
            Err(funnel["totals"].to_string())
        }
    })
    .await;
    assert_eq!(funnel["totals"]["botClicks"], 3, "{funnel}");
    let report = variants_of(&app, "test").await;
    let total: i64 = report["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["clicks"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1, "{report}");
}

#[tokio::test]
async fn each_variants_numbers_follow_its_clicks_and_conversions() {
    let app = spawn_app().await;
    json_of(
        app.as_role("acme", Role::Creator)
            .put_link("test", &split(50, 50))
            .await,
        201,
    )
    .await;
    let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut converted = 0;
    for n in 0..12 {
        let ua = desktop(n);
        let (target, ctx, _) = visit(&app, "test", &[("user-agent", &ua)], Method::GET).await;
        let slot = expected.entry(target).or_default();
        slot.0 += 1;
        if n % 3 == 0 {
            let resp = app
                .convert(&json!({
                    "ctx": ctx.unwrap(),
                    "idempotencyKey": format!("order-{n}"),
                    "eventType": "purchase",
                    "value": 10.25,
                    "currency": "USD",
                }))
                .await;
            assert!(resp.status().is_success(), "{}", resp.status());
            slot.1 += 1;
            converted += 1;
        }
    }
    let report = wait_for_variants(&app, "test", 12, converted).await;
    for v in report["variants"].as_array().unwrap() {
        let url = v["destinationUrl"].as_str().unwrap();
        let (clicks, conversions) = expected.get(url).copied().unwrap_or_default();
        assert_eq!(v["clicks"], clicks, "{report}");
        assert_eq!(v["qualifiedClicks"], clicks, "{report}");
        assert_eq!(v["conversions"], conversions, "{report}");
        if conversions > 0 {
            let revenue = format!("{:.2}", 10.25 * conversions as f64);
            assert_eq!(v["revenue"]["USD"], revenue.as_str(), "{report}");
        }
    }
    // Twelve visitors say nothing yet.
    assert!(report.get("winner").is_none(), "{report}");
    assert!(
        report["verdict"].as_str().unwrap().starts_with("not yet"),
        "{report}"
    );

    // Analytics breaks the same numbers down by variant.
    let groups = json_of(
        app.as_role("acme", Role::Viewer)
            .analytics("groupBy=variant")
            .await,
        200,
    )
    .await;
    let clicks: i64 = groups["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["clicks"].as_i64().unwrap())
        .sum();
    let conversions: i64 = groups["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["conversions"].as_i64().unwrap())
        .sum();
    assert_eq!((clicks, conversions), (12, converted), "{groups}");
    let csv = app
        .as_role("acme", Role::Viewer)
        .export("groupBy=variant&format=csv")
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("variant,"), "{csv}");
    let rows = csv.lines().filter(|l| l.starts_with("test/")).count();
    assert_eq!(rows, expected.len(), "{csv}");

    // A link without a test, and a missing one.
    app.put_link(
        "acme",
        "plain",
        json!({"destinationUrl": "https://example.com/"}),
    )
    .await;
    let plain = variants_of(&app, "plain").await;
    assert_eq!(plain["variants"], json!([]));
    let missing = app
        .as_role("acme", Role::Viewer)
        .get("/links/nope/variants")
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_partner_reads_its_own_links_tests_only() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    let creator = app.as_role("acme", Role::Creator);
    for (slug, campaign) in [("deal", "alpha"), ("offer", "beta")] {
        let mut body = split(50, 50);
        body["campaignId"] = json!(campaign);
        json_of(creator.put_link(slug, &body).await, 200).await;
    }
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let own = json_of(one.get("/links/deal/variants").await, 200).await;
    assert_eq!(own["variants"].as_array().unwrap().len(), 2, "{own}");
    assert_eq!(one.get("/links/offer/variants").await.status(), 404);
}
