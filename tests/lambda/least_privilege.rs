//! Least privilege at cold start: the redirect and public functions authenticate nobody, so they
//! are built and serve without any JWT configuration (their IAM cannot read the JWT secret), and
//! an authenticated route in a process without a verifier fails closed.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tenx_shared::http::{Group, group_app};
use tenx_shared::platform::config::{Config, Secrets};
use tenx_shared::platform::queue::Queue;
use tenx_shared::platform::queue::embedded::EmbeddedQueue;
use tenx_shared::platform::store::Store;
use tenx_shared::platform::store::embedded::EmbeddedStore;
use tower::ServiceExt;

use crate::support;

async fn call(app: axum::Router, request: Request<Body>) -> (u16, Value, axum::http::HeaderMap) {
    let response = app.oneshot(request).await.expect("response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body, headers)
}

fn without_jwt() -> Config {
    Config {
        jwt: None,
        ..support::config()
    }
}

#[tokio::test]
async fn redirect_and_public_build_and_serve_without_any_jwt_config() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::in_memory());
    let config = without_jwt();

    // The local server needs every secret, so this configuration cannot start it ...
    let err = tenx_shared::aws::app_state(
        config.clone(),
        store.clone(),
        queue.clone(),
        tenx_shared::platform::config::Secrets::ALL,
    )
    .err()
    .expect("the local server requires a JWT secret");
    assert!(format!("{err:#}").contains("TENX_JWT_SECRET"), "{err:#}");
    // ... but the functions without authenticated routes start on it.
    let redirect = tenx_shared::aws::app_state(
        config.clone(),
        store.clone(),
        queue.clone(),
        Group::Redirect.secrets(),
    )
    .expect("the redirect starts without a JWT secret");
    let public = tenx_shared::aws::app_state(
        config.clone(),
        store.clone(),
        queue.clone(),
        Group::Public.secrets(),
    )
    .expect("the public function starts without a JWT secret");
    assert!(redirect.jwt.is_none() && public.jwt.is_none());

    // A link, written by the links function (which holds the verifier).
    let links = tenx_shared::aws::app_state(
        support::config(),
        store.clone(),
        queue.clone(),
        Group::Links.secrets(),
    )
    .expect("links");
    let (status, _, _) = call(
        group_app(Group::Links, links),
        Request::put("/v2/handles/acme/links/launch")
            .header("authorization", format!("Bearer {}", support::jwt("acme")))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"destinationUrl":"https://example.com/"}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(status, 201);

    let (status, _, headers) = call(
        group_app(Group::Redirect, redirect),
        Request::get("/launch")
            .header("host", format!("acme.{}", support::REDIRECT_DOMAIN))
            .header("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, 302);
    let location = headers["location"].to_str().expect("location");
    let ctx = url::Url::parse(location)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "ctx")
        .map(|(_, v)| v.into_owned())
        .expect("a ctx");

    let public_app = group_app(Group::Public, public);
    let (status, body, _) = call(
        public_app.clone(),
        Request::get(format!("/v2/public/context?ctx={ctx}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!((status, &body["slug"]), (200, &json!("launch")));
    let (status, body, _) = call(
        public_app,
        Request::post("/v2/public/conversions")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"ctx": ctx, "idempotencyKey": "order-1", "eventType": "purchase"})
                    .to_string(),
            ))
            .expect("request"),
    )
    .await;
    assert_eq!((status, &body["accepted"]), (202, &json!(true)), "{body}");
}

#[tokio::test]
async fn a_function_holds_only_its_groups_secrets_even_when_given_more() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::in_memory());
    let redirect = tenx_shared::aws::app_state(
        support::config(),
        store.clone(),
        queue.clone(),
        Group::Redirect.secrets(),
    )
    .expect("redirect");
    assert!(redirect.config.jwt.is_none(), "dropped, not kept around");
    assert!(redirect.ctx_keys.is_some());
    let links = tenx_shared::aws::app_state(
        support::config(),
        store.clone(),
        queue.clone(),
        Group::Links.secrets(),
    )
    .expect("links");
    assert!(links.jwt.is_some());
    assert!(links.ctx_keys.is_none() && links.config.ctx_keys.is_empty());
    // Only the functions that sign (statements: commissions; receipts: public, conversions)
    // hold the signing keys; every other one drops them.
    for group in Group::API.into_iter().chain([Group::Redirect]) {
        let state = tenx_shared::aws::app_state(
            support::config(),
            store.clone(),
            queue.clone(),
            group.secrets(),
        )
        .unwrap_or_else(|e| panic!("{group:?}: {e:#}"));
        let signs = matches!(
            group,
            Group::Commissions | Group::Public | Group::Conversions
        );
        assert_eq!(
            state.signing.is_some(),
            signs,
            "{group:?} holds the signing keys"
        );
        assert_eq!(state.config.signing_keys.is_empty(), !signs);
        // Only the commissions function seals and opens payout details (issue 46).
        let seals = group == Group::Commissions;
        assert_eq!(
            state.payout_key.is_some(),
            seals,
            "{group:?} holds the payout key"
        );
        assert_eq!(state.config.payout_keys.is_empty(), !seals);
    }
    // A commissions function whose keys are missing does not start.
    let err = tenx_shared::aws::app_state(
        Config {
            signing_keys: String::new(),
            ..support::config()
        },
        store.clone(),
        queue.clone(),
        Group::Commissions.secrets(),
    )
    .err()
    .expect("no signing keys, no commissions function");
    assert!(format!("{err:#}").contains("TENX_SIGNING_KEYS"), "{err:#}");
    let err = tenx_shared::aws::app_state(
        Config {
            payout_keys: String::new(),
            ..support::config()
        },
        store.clone(),
        queue.clone(),
        Group::Commissions.secrets(),
    )
    .err()
    .expect("no payout key, no commissions function");
    assert!(format!("{err:#}").contains("TENX_PAYOUT_KEY"), "{err:#}");
    let worker = tenx_shared::aws::app_state(support::config(), store, queue, Secrets::NONE)
        .expect("worker");
    assert!(worker.jwt.is_none() && worker.ctx_keys.is_none() && worker.signing.is_none());
}

#[tokio::test]
async fn routes_fail_closed_in_a_process_built_without_their_secret() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::in_memory());
    // The links router in a process that (wrongly) loaded no JWT verifier.
    let misbuilt = tenx_shared::aws::app_state(
        support::config(),
        store.clone(),
        queue.clone(),
        Secrets::NONE,
    )
    .expect("state");
    let app = group_app(Group::Links, misbuilt.clone());
    let (status, body, _) = call(
        app.clone(),
        Request::get("/v2/handles/acme/links/launch")
            .header("authorization", format!("Bearer {}", support::jwt("acme")))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (500, &json!("internal")),
        "{body}"
    );
    let (status, body, _) = call(
        app,
        Request::get("/v2/handles/acme/links/launch")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("unauthorized"))
    );
    // The redirect and public routes without ctx keys: 500 envelopes, never an unsigned answer.
    let (status, body, _) = call(
        group_app(Group::Public, misbuilt.clone()),
        Request::get("/v2/public/context?ctx=abc")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!((status, &body["error"]["code"]), (500, &json!("internal")));
    let (status, body, _) = call(
        group_app(Group::Redirect, misbuilt),
        Request::get("/launch")
            .header("host", format!("acme.{}", support::REDIRECT_DOMAIN))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!((status, &body["error"]["code"]), (500, &json!("internal")));
}
