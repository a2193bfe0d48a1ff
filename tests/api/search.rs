//! `GET /v2/handles/{handle}/search?q=` (issue 62): the console's pickers find partners,
//! campaigns and links by id or name, up to 10 each; viewers may search, a partner's credential
//! may not; bad input is the error envelope.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::auth::Role;

use crate::helpers::*;
use crate::scenario::partner_token;

async fn program(app: &TestApp) {
    let op = app.as_role("acme", Role::Operator);
    for (id, name) in [
        ("pub-one", "Ann's Shoe Blog"),
        ("pub-two", "Bob Deals"),
        ("other", "Annex Media"),
    ] {
        json_of(
            op.create_partner(&json!({"partnerId": id, "name": name}))
                .await,
            201,
        )
        .await;
    }
    let campaign = json!({"campaignId": "spring", "goalType": "PURCHASE", "partnerId": "pub-one",
        "primaryLink": {"slug": "spring-deal", "destinationUrl": "https://shop.example.com/spring"}});
    json_of(op.create_campaign(&campaign).await, 201).await;
    json_of(
        op.put_link("launch", &json!({"destinationUrl": "https://shop.example.com/product", "title": "Spring launch"}))
            .await,
        201,
    )
    .await;
}

fn ids(found: &Value, kind: &str, field: &str) -> Vec<String> {
    found[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn finds_partners_campaigns_and_links_by_id_or_name() {
    let app = spawn_app().await;
    program(&app).await;
    let viewer = app.as_role("acme", Role::Viewer);

    // By a name's part, any case: both partners whose name holds "ann".
    let found = json_of(viewer.get("/search?q=ANN").await, 200).await;
    assert_eq!(
        ids(&found, "partners", "partnerId"),
        ["other", "pub-one"],
        "{found}"
    );
    assert_eq!(found["partners"][1]["name"], "Ann's Shoe Blog");
    assert_eq!(found["partners"][1]["status"], "active");
    assert_eq!(found["truncated"], false);

    // An id that starts with the words comes before one that only holds them.
    let found = json_of(viewer.get("/search?q=pub").await, 200).await;
    assert_eq!(
        ids(&found, "partners", "partnerId"),
        ["pub-one", "pub-two"],
        "{found}"
    );

    // A campaign by its partner, a link by its title; the campaign's own link is found too.
    let found = json_of(viewer.get("/search?q=spring").await, 200).await;
    assert_eq!(
        ids(&found, "campaigns", "campaignId"),
        ["spring"],
        "{found}"
    );
    assert_eq!(found["campaigns"][0]["partnerId"], "pub-one");
    assert_eq!(
        ids(&found, "links", "slug"),
        ["spring-deal", "launch"],
        "{found}"
    );

    // A typo finds nothing to pick (never a silent wrong id).
    let found = json_of(viewer.get("/search?q=pub-onee").await, 200).await;
    assert_eq!(
        found,
        json!({"partners": [], "campaigns": [], "links": [], "truncated": false})
    );

    // Nothing typed: the first of each, at most 10.
    let op = app.as_role("acme", Role::Operator);
    for i in 0..12 {
        json_of(
            op.create_partner(&json!({"partnerId": format!("bulk-{i:02}"), "name": "Bulk"}))
                .await,
            201,
        )
        .await;
    }
    let found = json_of(viewer.get("/search").await, 200).await;
    assert_eq!(found["partners"].as_array().unwrap().len(), 10, "{found}");
    assert_eq!(found["links"].as_array().unwrap().len(), 2, "{found}");
}

#[tokio::test]
async fn a_partner_credential_and_bad_input_are_refused() {
    let app = spawn_app().await;
    program(&app).await;
    let token = partner_token(&app, "acme", "pub-one").await;
    let partner = app.with_token("acme", &token);
    assert_error(
        partner.get("/search?q=pub").await,
        403,
        "insufficient_scope",
    )
    .await;
    assert_error(
        app.without_token("acme").get("/search?q=pub").await,
        401,
        "unauthorized",
    )
    .await;

    let viewer = app.as_role("acme", Role::Viewer);
    let long = "a".repeat(101);
    let message = assert_error(
        viewer.get(&format!("/search?q={long}")).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("q:"), "{message}");
    // Any other text is a search that finds what it finds.
    let found = json_of(viewer.get("/search?q=%01%C2%9A").await, 200).await;
    assert_eq!(found["partners"], json!([]));
    assert_error(viewer.get("/search?x=1").await, 400, "invalid_request").await;
    assert_error(
        viewer.send_empty(Method::POST, "/search").await,
        405,
        "method_not_allowed",
    )
    .await;
    // Another handle's search is not this caller's.
    let other = app.as_role("other", Role::Viewer);
    let found = json_of(other.get("/search?q=pub").await, 200).await;
    assert_eq!(found["partners"], json!([]));
}
