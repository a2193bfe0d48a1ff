//! AT-01, AT-02 and the link routes' failure paths.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;

fn launch() -> Value {
    json!({
        "destinationUrl": "https://example.com/product",
        "tracking": {"utmSource": "suite", "utmCampaign": "spring"},
        "routingRules": []
    })
}

#[tokio::test]
async fn at01_upsert_creates_then_updates() {
    let app = spawn_app().await;
    let resp = app.put_link("acme", "launch", launch()).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["slug"], "launch");
    assert_eq!(body["version"], 1);
    assert_eq!(
        body["shortUrl"],
        format!("http://acme.localhost:{}/launch", app.addr.port())
    );
    assert_eq!(body["tracking"]["utmSource"], "suite");
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));

    let resp = app.put_link("acme", "launch", launch()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["version"], 2);

    let got: Value = app
        .as_role("acme", Role::Creator)
        .get_link("launch")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["version"], 2);
    assert_eq!(got["destinationUrl"], "https://example.com/product");
}

#[tokio::test]
async fn slug_availability_answers_200_either_way_and_400_for_a_bad_slug() {
    let app = spawn_app().await;
    let acme = app.as_role("acme", Role::Creator);
    let free: Value = acme.slug_availability("launch").await.json().await.unwrap();
    assert_eq!(free, json!({"slug": "launch", "available": true}));
    app.put_link("acme", "launch", launch()).await;
    let resp = acme.slug_availability("launch").await;
    assert_eq!(resp.status(), 200);
    let taken: Value = resp.json().await.unwrap();
    assert_eq!(taken, json!({"slug": "launch", "available": false}));
    let other = app.as_role("beta", Role::Creator);
    let elsewhere: Value = other
        .slug_availability("launch")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        elsewhere["available"], true,
        "another handle's slug is not taken here"
    );
    assert_error(
        acme.slug_availability("summer_sale").await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn if_match_gives_optimistic_concurrency() {
    let app = spawn_app().await;
    app.put_link("acme", "launch", launch()).await;
    let acme = app.as_role("acme", Role::Creator);
    let body = launch();
    let put = |version: &'static str| acme.put_link_if_match("launch", version, &body);
    assert_eq!(put("\"1\"").await.status(), 200);
    assert_error(put("1").await, 412, "precondition_failed").await;
    assert_eq!(put("2").await.status(), 200);
    let resp = acme.put_link_if_match("fresh", "*", &launch()).await;
    assert_error(resp, 412, "precondition_failed").await;
}

#[tokio::test]
async fn concurrent_creates_of_one_slug_yield_one_201() {
    let app = spawn_app().await;
    let futures = (0..20).map(|_| app.put_link("acme", "race", launch()));
    let statuses: Vec<u16> = futures::future::join_all(futures)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn at02_route_preview_is_deterministic() {
    let app = spawn_app().await;
    let body = json!({
        "destinationUrl": "https://merchant.example.com/p",
        "routingRules": [
            {"priority": 20, "destinationUrl": "https://merchant.example.com/social", "conditions": {"sourceIn": ["twitter", "ad"]}},
            {"priority": 10, "destinationUrl": "https://merchant.example.com/us-mobile", "conditions": {"countryIn": ["US"], "deviceIn": ["mobile"]}}
        ]
    });
    assert_eq!(app.put_link("acme", "launch", body).await.status(), 201);
    let acme = app.as_role("acme", Role::Creator);
    let r: Value = acme
        .route_preview(
            "launch",
            &json!({"country":"us","device":"mobile","source":"ad","campaign":"spring"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["decision"], "rule");
    assert_eq!(
        r["destinationUrl"],
        "https://merchant.example.com/us-mobile"
    );
    assert_eq!(r["matchedRule"]["priority"], 10);
    assert_eq!(r["input"]["country"], "US");
    let again: Value = acme
        .route_preview(
            "launch",
            &json!({"country":"us","device":"mobile","source":"ad","campaign":"spring"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r, again);
    let r: Value = acme
        .route_preview(
            "launch",
            &json!({"country":"DE","device":"desktop","source":"Twitter"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["matchedRule"]["priority"], 20);
    let r: Value = acme
        .route_preview("launch", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["decision"], "default");
    assert_eq!(r["matchedRule"], Value::Null);
    assert_eq!(r["input"]["source"], "direct");
    assert_error(
        acme.route_preview("launch", &json!({"country": 5})).await,
        400,
        "invalid_request",
    )
    .await;
    let missing = acme.route_preview("nope", &json!({})).await;
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn list_paginates_and_delete_removes() {
    let app = spawn_app().await;
    for i in 0..7 {
        assert_eq!(
            app.put_link("acme", &format!("l{i}"), launch())
                .await
                .status(),
            201
        );
    }
    app.put_link("other", "l0", launch()).await;
    let acme = app.as_role("acme", Role::Creator);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=3&cursor={c}"),
            None => "limit=3".to_owned(),
        };
        let page: Value = acme.list_links(&query).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["slug"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("l{i}")).collect::<Vec<_>>());

    assert_eq!(acme.delete_link("l3").await.status(), 204);
    assert_error(acme.delete_link("l3").await, 404, "not_found").await;
    assert_error(acme.get_link("l3").await, 404, "not_found").await;
    assert_error(acme.list_links("limit=0").await, 400, "invalid_request").await;
    let bad = acme.list_links("cursor=%25%25").await;
    assert_error(bad, 400, "invalid_request").await;
}

#[tokio::test]
async fn bad_link_input_is_answered_with_the_envelope() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "launch",
            json!({"destinationUrl": "javascript:alert(1)"}),
            "destinationUrl",
        ),
        (
            "launch",
            json!({"destinationUrl": "https://example.com/\r\nSet-Cookie: x=1"}),
            "destinationUrl",
        ),
        (
            "launch",
            json!({"destinationUrl": "ftp://example.com/"}),
            "destinationUrl",
        ),
        (
            "launch",
            json!({"destinationUrl": "https://example.com", "extra": 1}),
            "extra",
        ),
        ("launch", json!({"destinationUrl": 42}), "destinationUrl"),
        ("launch", json!({}), "destinationUrl"),
        (
            "launch",
            json!({"destinationUrl": "https://e.com", "routingRules": [
                {"priority": 1, "destinationUrl": "https://a.com", "conditions": {"countryIn": ["US"]}},
                {"priority": 1, "destinationUrl": "https://b.com", "conditions": {"countryIn": ["DE"]}}
            ]}),
            "priority",
        ),
        (
            "launch",
            json!({"destinationUrl": "https://e.com", "campaignId": "nope"}),
            "campaignId",
        ),
    ];
    for (slug, body, field) in cases {
        let message = assert_error(
            app.put_link("acme", slug, body.clone()).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(
            message.contains(field),
            "{body}: message {message:?} should name {field}"
        );
    }
    // Invalid slug and handle.
    assert_error(
        app.put_link("acme", "Bad_Slug", launch()).await,
        400,
        "invalid_request",
    )
    .await;
    let token = app.token(&["*"], Role::Admin);
    let resp = app
        .with_token("NO!", &token)
        .put_link("launch", &launch())
        .await;
    assert_error(resp, 400, "invalid_request").await;
    // Malformed JSON, 100 KiB body, wrong content type.
    let acme = app.as_role("acme", Role::Creator);
    let resp = acme
        .send_raw(
            Method::PUT,
            "/links/launch",
            "application/json",
            "{\"destinationUrl\": ",
        )
        .await;
    assert_error(resp, 400, "invalid_request").await;
    let big = json!({"destinationUrl": "https://example.com", "title": "x".repeat(100 * 1024)});
    let resp = acme.put_link("launch", &big).await;
    assert_error(resp, 413, "payload_too_large").await;
    let resp = acme
        .send_raw(Method::PUT, "/links/launch", "text/plain", "{}")
        .await;
    assert_error(resp, 400, "invalid_request").await;
    // Nothing of the above was stored.
    let resp = acme.get_link("launch").await;
    assert_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn auth_failures() {
    let app = spawn_app().await;
    let send = |token: Option<String>| {
        let app = &app;
        async move {
            let caller = match &token {
                Some(t) => app.with_token("acme", t),
                None => app.without_token("acme"),
            };
            caller.put_link("launch", &launch()).await
        }
    };
    assert_error(send(None).await, 401, "unauthorized").await;
    assert_error(send(Some("garbage".into())).await, 401, "unauthorized").await;
    let expired = token_with_exp(&["acme"], Role::Creator, now() - 3600);
    assert_error(send(Some(expired)).await, 401, "unauthorized").await;
    let viewer = app.token(&["acme"], Role::Viewer);
    assert_error(send(Some(viewer)).await, 403, "insufficient_role").await;
    let other = app.token(&["other"], Role::Admin);
    assert_error(send(Some(other)).await, 403, "forbidden").await;
    // alg: none with an admin claim.
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"sub":"x","handles":["*"],"role":"admin","exp":{}}}"#,
            now() + 600
        ))
    );
    assert_error(send(Some(none)).await, 401, "unauthorized").await;
    // Not a bearer token at all: the one header `As` cannot send.
    let basic = app
        .client
        .put(app.url("/v2/handles/acme/links/launch"))
        .header("authorization", "Basic YTpi")
        .json(&launch())
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_envelope() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/v2/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
    let resp = app
        .as_role("acme", Role::Creator)
        .send_empty(Method::PATCH, "/links/launch")
        .await;
    assert_error(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn links_survive_a_restart() {
    let app = spawn_app().await;
    assert_eq!(app.put_link("acme", "launch", launch()).await.status(), 201);
    assert_eq!(app.put_link("acme", "second", launch()).await.status(), 201);
    let (tmp, dir, config) = app.stop().await;
    let app = spawn_with(config, Some(dir)).await;
    let page: Value = app
        .as_role("acme", Role::Creator)
        .list_links("")
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, vec!["launch", "second"]);
    drop(tmp);
}
