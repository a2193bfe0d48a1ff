//! A program pulled by API key: Rewardful's lists read page by page from a local server that
//! answers as Rewardful's API v1 documents it (HTTP Basic with the API secret, `?page=&limit=`,
//! `{pagination: {next_page}, data}`, `401` for a wrong key, `429` with `Retry-After`), the
//! same program as its file (`tests/fixtures/imports/rewardful.json`, one item a page here so
//! every list is paged). A dry run writes nothing, a re-run creates nothing, a wrong or limited
//! key is said in words before anything starts, and the key is nowhere in what is kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, json_of, spawn_with, test_config};
use crate::imports::{counts, finished, fixture};

const GOOD: &str = "sk_live_good";
/// A key whose every request Rewardful answers `429`.
const LIMITED: &str = "sk_live_limited";

struct Rewardful {
    lists: Value,
    /// The `429`s still to answer the good key's first commissions request.
    throttle: AtomicU32,
}

/// `GET /v1/{list}?page=N`: one item a page, the next page named while items remain.
async fn list(
    State(r): State<Arc<Rewardful>>,
    Path(list): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, HeaderMap, axum::Json<Value>) {
    use base64::Engine;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default();
    let mut out = HeaderMap::new();
    let error =
        |status: StatusCode, out: HeaderMap| (status, out, axum::Json(json!({"error": "…"})));
    if auth == format!("{LIMITED}:") {
        out.insert("retry-after", "0".parse().unwrap());
        return error(StatusCode::TOO_MANY_REQUESTS, out);
    }
    if auth != format!("{GOOD}:") {
        return error(StatusCode::UNAUTHORIZED, out);
    }
    if list == "commissions"
        && r.throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        out.insert("retry-after", "0".parse().unwrap());
        return error(StatusCode::TOO_MANY_REQUESTS, out);
    }
    let items = r.lists[&list].as_array().cloned().unwrap_or_default();
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let data: Vec<Value> = items.get(page - 1).cloned().into_iter().collect();
    let next = (page < items.len()).then_some(page + 1);
    let body = json!({
        "pagination": {"previous_page": null, "current_page": page, "next_page": next,
                       "count": data.len(), "limit": 100, "total_pages": items.len(),
                       "total_count": items.len()},
        "data": data,
    });
    (StatusCode::OK, out, axum::Json(body))
}

/// Rewardful's API on a loopback port, and the app pointed at it.
async fn apps() -> (TestApp, Arc<Rewardful>) {
    let state = Arc::new(Rewardful {
        lists: serde_json::from_slice(&fixture("rewardful.json")).unwrap(),
        throttle: AtomicU32::new(2),
    });
    let router = axum::Router::new()
        .route("/v1/{list}", axum::routing::get(list))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut config = test_config();
    config.rewardful_api_base = base;
    (spawn_with(config, None).await, state)
}

async fn pull(app: &TestApp, role: Role, body: &Value) -> reqwest::Response {
    app.as_role("acme", role)
        .send_json(Method::POST, "/imports/pull", body)
        .await
}

async fn pulled(app: &TestApp, body: &Value) -> Value {
    let started = json_of(pull(app, Role::Admin, body).await, 202).await;
    let v = finished(app, started["importId"].as_str().unwrap()).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

#[tokio::test]
async fn a_rewardful_program_pulled_by_its_key_comes_in_as_its_file_would() {
    let (app, rewardful) = apps().await;
    let admin = app.as_role("acme", Role::Admin);
    // What cannot start is said in words, nothing started.
    let wrong = pull(
        &app,
        Role::Admin,
        &json!({"source": "rewardful", "apiKey": "sk_live_wrong"}),
    )
    .await;
    let message = assert_error(wrong, 400, "invalid_request").await;
    assert!(
        message.contains("Rewardful refused this API key"),
        "{message}"
    );
    let limited = pull(
        &app,
        Role::Admin,
        &json!({"source": "rewardful", "apiKey": LIMITED}),
    )
    .await;
    let message = assert_error(limited, 429, "rate_limited").await;
    assert!(message.contains("limiting the requests"), "{message}");
    let r = pull(
        &app,
        Role::Operator,
        &json!({"source": "rewardful", "apiKey": GOOD}),
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;
    let r = pull(
        &app,
        Role::Admin,
        &json!({"source": "tolt", "apiKey": GOOD}),
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("not available yet"), "{message}");

    // Paged, its 429s waited out: the same program as the file.
    let dry = pulled(
        &app,
        &json!({"source": "rewardful", "apiKey": GOOD, "dryRun": true}),
    )
    .await;
    assert_eq!(
        rewardful.throttle.load(Ordering::SeqCst),
        0,
        "the 429s were not met"
    );
    assert_eq!(counts(&dry), [6, 0, 0, 2], "{dry}");
    assert_eq!(dry["errors"].as_array().unwrap().len(), 2, "{dry}");
    assert_eq!(
        admin.get("/partners/jane").await.status(),
        404,
        "the dry run wrote jane"
    );
    let v = pulled(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    assert_eq!(counts(&v), [6, 0, 0, 2], "{v}");
    let jane = json_of(admin.get("/partners/jane").await, 200).await;
    assert_eq!(jane["name"], "Jane Doe");
    let again = pulled(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    assert_eq!(counts(&again)[0], 0, "a re-run created again: {again}");
    // The key is nowhere in what the import kept.
    for report in [&dry, &v, &again] {
        assert!(!report.to_string().contains(GOOD), "{report}");
    }
    let log = json_of(admin.get("/audit?limit=100").await, 200).await;
    assert!(
        !log.to_string().contains(GOOD),
        "the audit log holds the key"
    );
}
