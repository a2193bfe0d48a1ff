//! Micro-benchmarks of what every click and every conversion pays for (`cargo bench`):
//! routing-rule evaluation (1, 10 and 50 rules), ctx token sign and verify, User-Agent
//! classification, destination building, the whole in-process redirect handler on a cached link,
//! and the conversion handler on the in-memory store. The load benchmark over real sockets is
//! `scripts/bench.sh`; the numbers of both are in BENCHMARKS.md.

// The workspace's cast lints guard money and time in the service; a test's small constants and
// counters are not either, and `try_from(..).unwrap()` on each would only add noise.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenx_shared::auth::jwt::{Claims, JwtVerifier};
use tenx_shared::domain::{
    CampaignId, ClickId, CtxClaims, CtxKeyring, Handle, Link, LinkSpec, RouteInput, Slug, Tracking,
    build_destination, classify_user_agent, route,
};
use tenx_shared::http::auth::Role;
use tenx_shared::platform::config::Config;
use tenx_shared::platform::queue::embedded::EmbeddedQueue;
use tenx_shared::platform::queue::{OutMessage, Queue, QueueError, QueueName, Received};
use tenx_shared::platform::store::embedded::EmbeddedStore;
use tower::ServiceExt;

/// A realistic mix: mostly mobile and desktop browsers, a tablet, in-app browsers, crawlers and
/// link-preview fetchers (which every link pasted into a chat gets), and an HTTP library.
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E236 Instagram 326.0.3.30.91 (iPhone15,3; iOS 17_4; en_US; en; scale=3.00; 1290x2796; 581346246)",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/455.0.0.44.88;]",
    "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "curl/8.5.0",
];

fn ctx_keys() -> CtxKeyring {
    CtxKeyring::parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").expect("ctx key")
}

fn claims() -> CtxClaims {
    CtxClaims {
        click_id: ClickId::parse("clk_0192f1e4c3a97c41b5b0c8f1a2d3e4f5").expect("id"),
        handle: Handle::parse("acme").expect("handle"),
        slug: Slug::parse("spring-sale").expect("slug"),
        campaign_id: Some(CampaignId::parse("partner-alpha").expect("campaign")),
        attribution: tenx_shared::domain::Attribution {
            country: "US".into(),
            device: tenx_shared::domain::Device::Mobile,
            source: "newsletter".into(),
            referrer: "news.example.com".into(),
            segment: "new-mobile".into(),
            variant: None,
        },
        issued_at: 1_767_225_600,
        expires_at: 1_767_225_600 + 90 * 86_400,
        sub_ids: Default::default(),
        test: false,
        address_hash: None,
        visitor_hash: None,
    }
}

/// A link with `n` rules, none of which matches the benchmark input: the full scan (the worst
/// case, and the common one: most clicks take the default destination).
fn link_with_rules(n: usize) -> Link {
    let rules: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "priority": i,
                "destinationUrl": format!("https://example.com/r{i}"),
                "conditions": {
                    "countryIn": ["DE", "FR", "GB"],
                    "deviceIn": ["desktop", "tablet"],
                    "sourceIn": ["newsletter", format!("partner-{i}")],
                    "campaignIn": [format!("spring-{i}")]
                }
            })
        })
        .collect();
    let spec: LinkSpec = serde_json::from_value(serde_json::json!({
        "destinationUrl": "https://example.com/product?ref=alpha#reviews",
        "routingRules": rules,
    }))
    .expect("link spec");
    Link::from_spec(
        Handle::parse("acme").expect("handle"),
        Slug::parse("launch").expect("slug"),
        spec.validate().expect("valid spec"),
        1,
        tenx_shared::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        tenx_shared::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
    )
}

fn bench_routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing");
    // Matches no rule's country, so every rule is evaluated.
    let input = RouteInput::normalized(Some("us"), Some("mobile"), Some("newsletter"), None, None);
    for n in [1, 10, 50] {
        let link = link_with_rules(n);
        assert!(route(&link, &input).matched_rule.is_none());
        group.bench_with_input(BenchmarkId::new("rules", n), &link, |b, link| {
            b.iter(|| {
                route(black_box(link), black_box(&input))
                    .destination_url
                    .len()
            });
        });
    }
    group.bench_function("normalize_input", |b| {
        b.iter(|| {
            RouteInput::normalized(
                black_box(Some("us")),
                black_box(Some("mobile")),
                black_box(Some("Newsletter")),
                black_box(Some("Spring")),
                black_box(Some("ios")),
            )
        });
    });
    group.finish();
}

fn bench_ctx(c: &mut Criterion) {
    let keys = ctx_keys();
    let claims = claims();
    let token = keys.sign(&claims);
    let now = claims.issued_at + 60;
    let mut group = c.benchmark_group("ctx");
    group.bench_function("sign", |b| b.iter(|| keys.sign(black_box(&claims))));
    group.bench_function("verify", |b| {
        b.iter(|| keys.verify(black_box(&token), now).expect("valid"));
    });
    // Flip the MAC's first character (all its bits count), so the MAC check is what refuses it.
    let mac_at = token.rfind('.').expect("a MAC") + 1;
    let flipped = if token[mac_at..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{flipped}{}", &token[..mac_at], &token[mac_at + 1..]);
    group.bench_function("verify_tampered", |b| {
        b.iter(|| keys.verify(black_box(&tampered), now).is_err());
    });
    group.finish();
}

fn bench_user_agents(c: &mut Criterion) {
    let mut group = c.benchmark_group("user_agent");
    group.throughput(Throughput::Elements(USER_AGENTS.len() as u64));
    group.bench_function("classify_mix", |b| {
        b.iter(|| {
            USER_AGENTS
                .iter()
                .filter(|ua| classify_user_agent(black_box(Some(ua))).is_bot())
                .count()
        });
    });
    group.finish();
}

fn bench_destination(c: &mut Criterion) {
    let keys = ctx_keys();
    let token = keys.sign(&claims());
    let tracking = Tracking {
        utm_source: Some("newsletter".into()),
        utm_medium: Some("email".into()),
        utm_campaign: Some("spring sale".into()),
        ..Tracking::default()
    };
    let mut group = c.benchmark_group("destination");
    group.bench_function("utm_and_ctx", |b| {
        b.iter(|| {
            build_destination(
                black_box("https://example.com/product?ref=alpha#reviews"),
                Some(black_box(&tracking)),
                Some(black_box(&token)),
            )
        });
    });
    group.bench_function("bot_no_ctx", |b| {
        b.iter(|| {
            build_destination(
                black_box("https://example.com/product"),
                Some(black_box(&tracking)),
                None,
            )
        });
    });
    group.finish();
}

/// A queue that accepts and drops every message: isolates the handler's own CPU cost from the
/// enqueue (on Lambda the enqueue is an SQS round trip, not CPU).
struct NullQueue;

#[async_trait]
impl Queue for NullQueue {
    async fn send(&self, _: QueueName, _: Vec<OutMessage>) -> Result<(), QueueError> {
        Ok(())
    }
    async fn receive(
        &self,
        _: QueueName,
        _: usize,
        _: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        Ok(Vec::new())
    }
    async fn ack(&self, _: QueueName, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
}

const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

/// The local app on in-memory backends, with one link (3 rules, UTM tracking) created through
/// the API and its cache warmed by a first click. Returns the app and a human click's ctx.
async fn app_with_link(queue: Arc<dyn Queue>) -> (Router, String) {
    let mut config = Config {
        redirect_domain: "localhost".into(),
        jwt: Some(tenx_shared::platform::config::JwtKey::Hs256(
            JWT_SECRET.as_bytes().to_vec(),
        )),
        ctx_keys: CtxKeyring::generate_spec(),
        // The state refuses to start without its statement and payout keys.
        signing_keys: tenx_shared::domain::proof::jws::ProofKeyring::generate_spec(),
        payout_keys: tenx_shared::domain::sealed::Keyring::generate_spec(),
        ..Config::default()
    };
    // Every conversion of the benchmark is on one handle.
    config.rate_limits.conversions = u32::MAX;
    let state = tenx_shared::aws::app_state(
        config,
        Arc::new(EmbeddedStore::in_memory()),
        queue,
        tenx_shared::platform::config::Secrets::ALL,
    )
    .expect("state");
    let app = tenx_shared::http::local_app(state);
    let jwt = JwtVerifier::new(Some(JWT_SECRET.as_bytes().to_vec()), None, None, None)
        .expect("jwt")
        .mint(&Claims {
            sub: "bench".into(),
            handles: vec!["acme".into()],
            role: Role::Creator,
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
            iss: None,
            aud: None,
        })
        .expect("token");
    let body = serde_json::json!({
        "destinationUrl": "https://example.com/product?ref=alpha",
        "tracking": {"utmSource": "newsletter", "utmMedium": "email", "utmCampaign": "spring"},
        "routingRules": [
            {"priority": 1, "destinationUrl": "https://example.com/de", "conditions": {"countryIn": ["DE"]}},
            {"priority": 2, "destinationUrl": "https://example.com/app", "conditions": {"deviceIn": ["mobile"], "sourceIn": ["instagram"]}},
            {"priority": 3, "destinationUrl": "https://example.com/tablet", "conditions": {"deviceIn": ["tablet"]}}
        ]
    });
    let put = Request::put("/v2/handles/acme/links/launch")
        .header("authorization", format!("Bearer {jwt}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let resp = app.clone().oneshot(put).await.expect("put");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app.clone().oneshot(click(0)).await.expect("click");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().expect("location");
    let ctx = url::Url::parse(location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "ctx")
        .map(|(_, v)| v.into_owned())
        .expect("a human click carries a ctx");
    (app, ctx)
}

/// The short URL's query of a plain click.
const PLAIN_QUERY: &str = "utm_source=newsletter";
/// An affiliate's click: a click id and a coupon to forward, two partner sub-ids to capture.
const AFFILIATE_QUERY: &str =
    "utm_source=newsletter&gclid=Cj0KCQjw-abc123&coupon=SAVE10&sub1=partner-a&sub2=placement-7";

/// The `i`-th click of the mix (cycling User-Agents; a few with a referrer or a country).
fn click(i: usize) -> Request<Body> {
    click_with(i, PLAIN_QUERY)
}

fn click_with(i: usize, query: &str) -> Request<Body> {
    let mut req = Request::get(format!("/launch?{query}"))
        .header("host", "acme.localhost")
        .header("user-agent", USER_AGENTS[i % USER_AGENTS.len()]);
    if i.is_multiple_of(3) {
        req = req.header("referer", "https://news.example.com/deals/today");
    }
    if i.is_multiple_of(4) {
        req = req.header("cloudfront-viewer-country", "US");
    }
    req.body(Body::empty()).expect("request")
}

fn bench_redirect(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("redirect_handler");
    group.sample_size(50);
    let null = || Arc::new(NullQueue) as Arc<dyn Queue>;
    for (name, queue, query) in [
        // The real enqueue: a hop to the queue's writer thread and a redb commit (in memory).
        (
            "cached_link_embedded_queue",
            Arc::new(EmbeddedQueue::in_memory()) as Arc<dyn Queue>,
            PLAIN_QUERY,
        ),
        ("cached_link_cpu_only", null(), PLAIN_QUERY),
        // Against `cached_link_cpu_only`: what query forwarding and sub-ids add.
        (
            "cached_link_cpu_only_affiliate_query",
            null(),
            AFFILIATE_QUERY,
        ),
    ] {
        let (app, _) = rt.block_on(app_with_link(queue));
        let n = AtomicU64::new(0);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let i = n.fetch_add(1, Ordering::Relaxed) as usize;
                let resp = app
                    .clone()
                    .oneshot(click_with(i, query))
                    .await
                    .expect("redirect");
                assert_eq!(resp.status(), StatusCode::FOUND);
            });
        });
    }
    group.finish();
}

fn bench_conversion(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (app, ctx) = rt.block_on(app_with_link(Arc::new(EmbeddedQueue::in_memory())));
    let n = AtomicU64::new(0);
    let mut group = c.benchmark_group("conversion_handler");
    group.sample_size(30);
    group.bench_function("unique_key_in_memory_store", |b| {
        b.to_async(&rt).iter(|| async {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let body = format!(
                r#"{{"ctx":"{ctx}","idempotencyKey":"order-{i}","eventType":"purchase","value":24.99,"currency":"USD"}}"#
            );
            let req = Request::post("/v2/public/conversions")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .expect("request");
            let resp = app.clone().oneshot(req).await.expect("conversion");
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_routing,
    bench_ctx,
    bench_user_agents,
    bench_destination,
    bench_redirect,
    bench_conversion
);
criterion_main!(benches);
