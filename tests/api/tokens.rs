//! Personal access tokens: mint (shown once, stored only as a hash), list, revoke, expiry, and
//! what a token may and may not do.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tenx_shared::http::auth::Role;
use tenx_shared::platform::store::{Cond, Query, SkRange, WriteOp, keys};

use crate::helpers::*;

pub(crate) const ALL_SCOPES: [&str; 7] = [
    "links.read",
    "links.write",
    "campaigns.read",
    "campaigns.write",
    "analytics.read",
    "webhooks.read",
    "webhooks.write",
];

/// `POST …/tokens` with an operator JWT; returns the raw response.
pub(crate) async fn post_token(app: &TestApp, handle: &str, body: Value) -> Response {
    app.as_role(handle, Role::Operator)
        .create_token(&body)
        .await
}

/// Mints a PAT for `handle` with `scopes` through the API; returns the created body.
pub(crate) async fn create_pat_body(app: &TestApp, handle: &str, scopes: &[&str]) -> Value {
    let resp = post_token(app, handle, json!({"name": "test token", "scopes": scopes})).await;
    assert_eq!(resp.status(), 201, "minting a PAT");
    resp.json().await.unwrap()
}

/// Mints a PAT for `handle` with `scopes`; returns the `tenx_pat_…` token.
pub(crate) async fn create_pat(app: &TestApp, handle: &str, scopes: &[&str]) -> String {
    create_pat_body(app, handle, scopes).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list_tokens(app: &TestApp, handle: &str) -> Vec<Value> {
    let resp = app.as_role(handle, Role::Operator).list_tokens().await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn revoke(app: &TestApp, handle: &str, token_id: &str) -> Response {
    app.as_role(handle, Role::Operator)
        .revoke_token(token_id)
        .await
}

/// Lists acme's links with `token` and returns the status.
async fn read_links_with(app: &TestApp, handle: &str, token: &str) -> Response {
    app.with_token(handle, token).list_links("").await
}

fn sha256_hex(s: &str) -> String {
    hex_lower(&Sha256::digest(s.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn mint_shows_the_token_once_and_stores_only_its_hash() {
    let app = spawn_app().await;
    let resp = post_token(
        &app,
        "acme",
        json!({"name": "CI deploys", "scopes": ["webhooks.write", "links.read", "links.read"]}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(header_str(resp.headers(), "cache-control"), "no-store");
    assert_eq!(header_str(resp.headers(), "x-ratelimit-limit"), "60");
    let created: Value = resp.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let token_id = created["tokenId"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tenx_pat_"), "{token}");
    // 32 random bytes, base64url: 43 characters after the prefix.
    assert_eq!(token.len(), "tenx_pat_".len() + 43);
    assert!(token_id.starts_with("tok_"));
    assert_eq!(created["name"], "CI deploys");
    assert_eq!(created["scopes"], json!(["links.read", "webhooks.write"]));
    assert_eq!(created["createdBy"], "tester");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["expiresAt"], Value::Null);

    // At rest: the record under the hash, a listing entry under the handle; the token nowhere.
    let (pk, sk) = keys::pat(&sha256_hex(&token));
    let record = app.store.get(&pk, &sk).await.unwrap().expect("hash record");
    assert_eq!(record.doc["tokenId"], token_id.as_str());
    assert_eq!(record.expires_at, None);
    let partition = app
        .store
        .query(Query {
            pk: keys::handle_pk(&acme()),
            range: SkRange::All,
            limit: 100,
            after: None,
            descending: false,
        })
        .await
        .unwrap();
    // Beside the marker that the handle exists (its owner wrote to it), one listing entry.
    let listing = partition
        .items
        .iter()
        .filter(|i| i.sk != keys::HANDLE_SEEN_SK)
        .count();
    assert_eq!(listing, 1, "one listing entry");
    for item in partition.items.iter().chain([&record]) {
        assert!(
            !item.doc.to_string().contains(&token["tenx_pat_".len()..]),
            "the token's secret must never be stored: {}",
            item.doc
        );
    }

    // The list never shows a secret or a hash.
    let items = list_tokens(&app, "acme").await;
    assert_eq!(items.len(), 1);
    let mut fields: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "createdAt",
            "createdBy",
            "expiresAt",
            "name",
            "scopes",
            "tokenId"
        ]
    );
    assert_eq!(items[0]["tokenId"], token_id.as_str());

    // It works, within its scope.
    assert_eq!(read_links_with(&app, "acme", &token).await.status(), 200);

    // Two mints never yield the same token.
    let other = create_pat(&app, "acme", &["links.read"]).await;
    assert_ne!(other, token);
    assert_eq!(list_tokens(&app, "acme").await.len(), 2);
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once() {
    let app = spawn_app().await;
    let created = create_pat_body(&app, "acme", &["links.read"]).await;
    let token = created["token"].as_str().unwrap();
    let id = created["tokenId"].as_str().unwrap();
    assert_eq!(read_links_with(&app, "acme", token).await.status(), 200);

    let resp = revoke(&app, "acme", id).await;
    assert_eq!(resp.status(), 204);
    assert_error(
        read_links_with(&app, "acme", token).await,
        401,
        "unauthorized",
    )
    .await;
    assert!(list_tokens(&app, "acme").await.is_empty());
    let (pk, sk) = keys::pat(&sha256_hex(token));
    assert!(app.store.get(&pk, &sk).await.unwrap().is_none());

    // Revoking again, an unknown id, a malformed id, or another handle's token: 404.
    assert_error(revoke(&app, "acme", id).await, 404, "not_found").await;
    assert_error(
        revoke(&app, "acme", "tok_0123456789abcdef0123456789abcdef").await,
        404,
        "not_found",
    )
    .await;
    assert_error(revoke(&app, "acme", "nope").await, 404, "not_found").await;
    assert_error(revoke(&app, "acme", "tok_x%23y").await, 404, "not_found").await;
    let theirs = create_pat_body(&app, "other-co", &["links.read"]).await;
    assert_error(
        revoke(&app, "acme", theirs["tokenId"].as_str().unwrap()).await,
        404,
        "not_found",
    )
    .await;
    let their_token = theirs["token"].as_str().unwrap();
    assert_eq!(
        read_links_with(&app, "other-co", their_token)
            .await
            .status(),
        200,
        "a failed cross-handle revoke leaves the token alone"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let resp = post_token(
        &app,
        "acme",
        json!({"name": "one day", "scopes": ["links.read"], "expiresInDays": 1}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let token = created["token"].as_str().unwrap();
    let created_at = time_of(&created["createdAt"]);
    let expires_at = time_of(&created["expiresAt"]);
    assert_eq!(expires_at - created_at, 86_400);

    // Both items carry the expiry as their TTL.
    let (pk, sk) = keys::pat(&sha256_hex(token));
    let record = app.store.get(&pk, &sk).await.unwrap().unwrap();
    assert_eq!(record.expires_at, Some(expires_at));
    let entry_key = (
        keys::handle_pk(&acme()),
        keys::pat_index_sk(created["tokenId"].as_str().unwrap()),
    );
    let entry = app
        .store
        .get(&entry_key.0, &entry_key.1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.expires_at, Some(expires_at));
    assert_eq!(read_links_with(&app, "acme", token).await.status(), 200);

    // A day later (moved by rewriting the stored expiry, as time would): refused and unlisted.
    let past = now() - 1;
    for item in [record.clone(), entry] {
        let mut item = item;
        item.expires_at = Some(past);
        if item.doc.get("expiresAt").is_some() {
            item.doc["expiresAt"] = json!(tenx_shared::domain::time::unix_to_rfc3339(past));
        }
        app.store
            .write(WriteOp::Put {
                item,
                cond: Cond::Exists,
            })
            .await
            .unwrap();
    }
    assert_error(
        read_links_with(&app, "acme", token).await,
        401,
        "unauthorized",
    )
    .await;
    assert!(list_tokens(&app, "acme").await.is_empty());

    // Defence in depth: a record whose TTL was lost still expires by its own `expiresAt`.
    let created = create_pat_body(&app, "acme", &["links.read"]).await;
    let token = created["token"].as_str().unwrap();
    let (pk, sk) = keys::pat(&sha256_hex(token));
    let mut record = app.store.get(&pk, &sk).await.unwrap().unwrap();
    assert_eq!(read_links_with(&app, "acme", token).await.status(), 200);
    record.expires_at = None;
    record.doc["expiresAt"] = json!(tenx_shared::domain::time::unix_to_rfc3339(now() - 60));
    app.store
        .write(WriteOp::Put {
            item: record,
            cond: Cond::Exists,
        })
        .await
        .unwrap();
    assert_error(
        read_links_with(&app, "acme", token).await,
        401,
        "unauthorized",
    )
    .await;
}

fn time_of(v: &Value) -> i64 {
    tenx_shared::domain::time::parse_rfc3339(v.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .unix_timestamp()
}

#[tokio::test]
async fn bad_token_requests_are_answered_with_the_envelope_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({"scopes": ["links.read"]}), "name"),
        (json!({"name": "", "scopes": ["links.read"]}), "name"),
        (json!({"name": "   ", "scopes": ["links.read"]}), "name"),
        (
            json!({"name": "x".repeat(101), "scopes": ["links.read"]}),
            "name",
        ),
        (json!({"name": 7, "scopes": ["links.read"]}), "name"),
        (json!({"name": "ci"}), "scopes"),
        (json!({"name": "ci", "scopes": []}), "scopes"),
        (
            json!({"name": "ci", "scopes": ["links.admin"]}),
            "links.admin",
        ),
        (json!({"name": "ci", "scopes": "links.read"}), "scopes"),
        (
            json!({"name": "ci", "scopes": ["links.read"], "expiresInDays": 0}),
            "expiresInDays",
        ),
        (
            json!({"name": "ci", "scopes": ["links.read"], "expiresInDays": 3651}),
            "expiresInDays",
        ),
        (
            json!({"name": "ci", "scopes": ["links.read"], "expiresInDays": -1}),
            "expiresInDays",
        ),
        (
            json!({"name": "ci", "scopes": ["links.read"], "expiresInDays": "30"}),
            "expiresInDays",
        ),
        (
            json!({"name": "ci", "scopes": ["links.read"], "role": "admin"}),
            "role",
        ),
    ];
    for (body, field) in cases {
        let message = assert_error(
            post_token(&app, "acme", body.clone()).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let malformed = app
        .as_role("acme", Role::Operator)
        .send_raw(Method::POST, "/tokens", "application/json", "{\"name\":")
        .await;
    assert_error(malformed, 400, "invalid_request").await;
    assert!(list_tokens(&app, "acme").await.is_empty());

    // The bounds themselves are accepted.
    let ok = post_token(
        &app,
        "acme",
        json!({"name": "x".repeat(100), "scopes": ["links.read"], "expiresInDays": 3650}),
    )
    .await;
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn only_operators_mint_and_a_token_never_manages_tokens() {
    let app = spawn_app().await;
    let body = json!({"name": "ci", "scopes": ["links.read"]});
    for role in [Role::Viewer, Role::Creator] {
        let resp = app.as_role("acme", role).create_token(&body).await;
        assert_error(resp, 403, "insufficient_role").await;
    }
    let admin = app.as_role("acme", Role::Admin).create_token(&body).await;
    assert_eq!(admin.status(), 201);
    let foreign = app
        .with_token("acme", &app.token(&["other-co"], Role::Admin))
        .create_token(&body)
        .await;
    assert_error(foreign, 403, "forbidden").await;

    // A PAT with every scope still cannot mint, list or revoke PATs.
    let pat = create_pat(&app, "acme", &ALL_SCOPES).await;
    let id = list_tokens(&app, "acme").await[0]["tokenId"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_pat = app.with_token("acme", &pat);
    let mint = with_pat.create_token(&body).await;
    assert_error(mint, 403, "insufficient_scope").await;
    let list = with_pat.list_tokens().await;
    assert_error(list, 403, "insufficient_scope").await;
    let del = with_pat.revoke_token(&id).await;
    assert_error(del, 403, "insufficient_scope").await;
    assert_eq!(list_tokens(&app, "acme").await.len(), 2, "nothing revoked");
}

#[tokio::test]
async fn a_token_acts_only_on_its_handle_and_within_its_scopes() {
    let app = spawn_app().await;
    let reader = create_pat(&app, "acme", &["links.read"]).await;
    assert_eq!(read_links_with(&app, "acme", &reader).await.status(), 200);
    let link = json!({"destinationUrl": "https://example.com/"});
    let write = app
        .with_token("acme", &reader)
        .put_link("launch", &link)
        .await;
    let message = assert_error(write, 403, "insufficient_scope").await;
    assert!(message.contains("links.write"), "{message}");

    let writer = create_pat(&app, "acme", &["links.write"]).await;
    let write = app
        .with_token("acme", &writer)
        .put_link("launch", &link)
        .await;
    assert_eq!(write.status(), 201);

    // Another handle: refused whatever the scopes.
    let everything = create_pat(&app, "acme", &ALL_SCOPES).await;
    assert_error(
        read_links_with(&app, "other-co", &everything).await,
        403,
        "forbidden",
    )
    .await;
    let cross_write = app
        .with_token("other-co", &everything)
        .put_link("launch", &link)
        .await;
    assert_error(cross_write, 403, "forbidden").await;
    let theirs = app
        .as_role("other-co", Role::Admin)
        .get_link("launch")
        .await;
    assert_error(theirs, 404, "not_found").await;
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_unauthorized() {
    let app = spawn_app().await;
    let real = create_pat(&app, "acme", &["links.read"]).await;
    let mut flipped = real.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    for token in [
        "tenx_pat_".to_owned(),
        "tenx_pat_short".to_owned(),
        format!("tenx_pat_{}", "A".repeat(43)),
        flipped,
        format!("{real}A"),
        format!("tenx_pat_{}", "x".repeat(5000)),
    ] {
        assert_error(
            read_links_with(&app, "acme", &token).await,
            401,
            "unauthorized",
        )
        .await;
    }
}
