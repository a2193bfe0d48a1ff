//! The client address of a public conversion on Lambda: API Gateway's `sourceIp` from the
//! request context, never a header the client may set. The shipped public conversion event is
//! invoked through lambda_http's adapter, as Lambda runs it, with its `sourceIp` and its
//! `x-forwarded-for` varied.

use std::sync::Arc;

use serde_json::Value;
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::{Group, group_app};
use tenx_shared::platform::config::{Config, Secrets};
use tenx_shared::platform::queue::embedded::EmbeddedQueue;
use tenx_shared::platform::store::embedded::EmbeddedStore;

use crate::support;

const EVENT: &str = "public/conversion.json";
const PER_ADDRESS: u32 = 2;

/// The public function, allowing [`PER_ADDRESS`] conversions per client address in a day-long
/// window, and trusting a proxy: on Lambda that must change nothing.
fn public_function() -> (axum::Router, Config) {
    let mut config = support::config();
    config.rate_limits.conversions_per_address = PER_ADDRESS;
    config.rate_limits.window_secs = 86_400;
    config.trusted_proxy = true;
    let state = tenx_shared::aws::app_state(
        config.clone(),
        Arc::new(EmbeddedStore::in_memory()),
        Arc::new(EmbeddedQueue::in_memory()),
        Secrets {
            jwt: false,
            ctx_keys: true,
            signing: false,
            payout_key: false,
        },
    )
    .expect("cold start");
    (group_app(Group::Public, state), config)
}

/// A ctx of a fresh click of `acme`, signed with the function's keys.
fn fresh_ctx(config: &Config) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = tenx_shared::testing::launch_claims(now - 60, now + 3600);
    CtxKeyring::parse(&config.ctx_keys)
        .expect("keys")
        .sign(&claims)
}

/// The shipped event with a fresh click's ctx, its own idempotency key, and this source
/// address and `x-forwarded-for`: the status of the function's answer.
async fn convert(
    app: &axum::Router,
    config: &Config,
    key: &str,
    source_ip: &str,
    forwarded_for: &str,
) -> u16 {
    let mut event = support::event_json(EVENT);
    let body = event["body"]
        .as_str()
        .expect("a body")
        .replace("{{CTX}}", &fresh_ctx(config))
        .replace("txn-2026-03-02-order-789", key);
    assert!(body.contains(key), "the event's idempotency key changed");
    event["body"] = Value::String(body);
    event["requestContext"]["http"]["sourceIp"] = source_ip.into();
    event["headers"]["x-forwarded-for"] = forwarded_for.into();
    let reply = support::invoke_http(app.clone(), EVENT, &event.to_string()).await;
    if reply.status == 429 {
        let error = &reply.json()["error"];
        assert_eq!(error["code"], "rate_limited", "{}", reply.body);
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("client address"), "{message}");
    }
    reply.status
}

#[tokio::test]
async fn the_client_address_is_api_gateways_source_ip_not_a_forwarded_for_header() {
    let (app, config) = public_function();
    // One source, a different x-forwarded-for each time: one address, one budget.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let forwarded = format!("198.51.100.{i}");
        let key = format!("same-source-{i}");
        statuses.push(convert(&app, &config, &key, "203.0.113.24", &forwarded).await);
    }
    assert_eq!(statuses, [202, 202, 429, 429]);

    // Another source per request, the same header every time: a budget each.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let source = format!("192.0.2.{i}");
        let key = format!("own-source-{i}");
        statuses.push(convert(&app, &config, &key, &source, "198.51.100.1").await);
    }
    assert_eq!(statuses, [202; 4]);
}

/// The redirect function behind the load balancer (`TENX_EDGE=alb`, as the template sets it
/// with `RedirectFrontDoor: alb`), invoked with an ALB target group event through lambda_http's
/// adapter as Lambda runs it: a visitor who sends its own `x-forwarded-for` hop and CloudFront's
/// country header is credited to the hop the load balancer appended, its country from the IP
/// database in process.
#[tokio::test]
async fn behind_the_load_balancer_the_redirect_reads_only_its_hop() {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Adapter, Context, LambdaEvent};
    use tower::ServiceExt;

    let mut config = support::config();
    config.country_trust = tenx_shared::platform::config::CountryTrust::Alb;
    let store = Arc::new(EmbeddedStore::in_memory());
    let queue = Arc::new(EmbeddedQueue::in_memory());
    let state = |secrets| {
        tenx_shared::aws::app_state(config.clone(), store.clone(), queue.clone(), secrets)
            .expect("cold start")
    };
    let links = state(Secrets {
        jwt: true,
        ..Secrets::NONE
    });
    let put = support::event_text(
        "links/put.json",
        &[("{{JWT}}".into(), support::jwt("acme"))],
    );
    let reply = support::invoke_http(group_app(Group::Links, links), "links/put.json", &put).await;
    assert!(reply.status == 200 || reply.status == 201, "{}", reply.body);
    let redirect = group_app(
        Group::Redirect,
        state(Secrets {
            ctx_keys: true,
            ..Secrets::NONE
        }),
    );

    // What the ALB sends for https://acme.links.example.com/launch: the visitor wrote the first
    // hop (1.1.1.1, AU) and a country; the ALB appended the address it saw (8.8.8.8, US).
    let event = serde_json::json!({
        "requestContext": {"elb": {"targetGroupArn":
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tenx-redirect/6d0ecf831eec9f09"}},
        "httpMethod": "GET",
        "path": "/launch",
        "queryStringParameters": {"utm_source": "newsletter"},
        "headers": {
            "accept": "text/html",
            "host": "acme.links.example.com",
            "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "cloudfront-viewer-country": "FR",
            "x-forwarded-for": "1.1.1.1, 8.8.8.8",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https"
        },
        "body": "",
        "isBase64Encoded": false
    });
    let request: LambdaRequest = serde_json::from_value(event).expect("an ALB event");
    assert!(matches!(request, LambdaRequest::Alb(_)));
    let response = Adapter::from(redirect)
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap_or_else(|e| match e {});
    let doc = serde_json::to_value(&response).expect("the response serializes");
    assert_eq!(doc["statusCode"], 302, "{doc}");
    let location = doc["headers"]["location"].as_str().expect("a location");
    let ctx = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("ctx="))
        .expect("a human visitor gets a ctx");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = CtxKeyring::parse(&config.ctx_keys)
        .expect("keys")
        .verify(ctx, now)
        .expect("the redirect's own ctx");
    assert_eq!(claims.attribution.country, "US");
}
