//! The client address of a public conversion on Lambda: API Gateway's `sourceIp` from the
//! request context, never a header the client may set. The shipped public conversion event is
//! invoked through lambda_http's adapter, as Lambda runs it, with its `sourceIp` and its
//! `x-forwarded-for` varied.

use std::sync::Arc;

use serde_json::Value;
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::{Group, group_app};
use tenx_shared::kernel::state::AppState;
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
    let state = AppState::with_secrets(
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
