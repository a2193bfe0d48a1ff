//! A partner's own links (issue 61, `POST …/partners/{partnerId}/links`), on either backend: a
//! partner makes a short link to a destination its program allows and the link is its own (on
//! its campaign: a sale through it is credited to it); a destination elsewhere, or one that only
//! looks allowed, is refused naming `destinationUrl`; the slug is always the partner's and never
//! takes or overwrites the merchant's; another partner's id is 404; a program without
//! `allowedDestinations` lets partners make none.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::endpoints::As;
use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx};

async fn allow(app: &TestApp, prefixes: Value) -> reqwest::Response {
    let admin = app.as_role("acme", Role::Admin);
    admin
        .put_program(&json!({"name": "Acme partners", "allowedDestinations": prefixes}))
        .await
}

async fn make(who: &As<'_>, partner: &str, body: &Value) -> reqwest::Response {
    who.send_json(Method::POST, &format!("/partners/{partner}/links"), body)
        .await
}

#[tokio::test]
async fn a_partner_makes_its_own_link_to_an_allowed_destination_and_it_is_credited_to_it() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    let one = as_partner(&app, "acme", "pub-one").await;

    // No allowedDestinations yet: no links of its own.
    let body = json!({"slug": "spring", "destinationUrl": "https://shop.example/products/shoes"});
    let refused = assert_error(make(&one, "pub-one", &body).await, 400, "invalid_request").await;
    assert!(refused.contains("destinationUrl"), "{refused}");

    let put = allow(
        &app,
        json!(["https://shop.example/products", "https://blog.shop.example"]),
    )
    .await;
    let program = json_of(put, 201).await;
    assert_eq!(
        program["allowedDestinations"],
        json!([
            "https://shop.example/products",
            "https://blog.shop.example/"
        ])
    );
    let made = json_of(make(&one, "pub-one", &body).await, 201).await;
    assert_eq!(made["slug"], "pub-one-spring");
    assert_eq!(made["campaignId"], "alpha", "the partner's own campaign");
    assert_eq!(
        made["destinationUrl"],
        "https://shop.example/products/shoes"
    );
    assert!(
        made["shortUrl"]
            .as_str()
            .unwrap()
            .ends_with("/pub-one-spring")
    );

    // Its clicks and sales are the partner's.
    let ctx = human_ctx(&app, "acme", "/pub-one-spring").await;
    let sale = json!({"ctx": ctx, "idempotencyKey": "own-link-1", "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let op = app.as_role("acme", Role::Operator);
    let receipt = json_of(op.convert_verified(&sale).await, 202).await;
    assert_eq!(receipt["campaignId"], "alpha", "{receipt}");
    // It lists it among its links; the other partner does not see it.
    let mine = json_of(one.get("/links").await, 200).await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["slug"] == "pub-one-spring")
    );
    let two = as_partner(&app, "acme", "pub-two").await;
    let theirs = json_of(two.get("/links").await, 200).await;
    assert!(
        !theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["slug"] == "pub-one-spring")
    );

    // Anything that is not under an allowed prefix, or only looks like it, is refused by name.
    for bad in [
        "https://shop.example.evil.example/products",
        "https://shop.example@evil.example/products",
        "https://shop.example/products/%2e%2e/admin",
        "https://shop.example/products/../admin",
        "https://shop.example./products",
        "https://sh\u{043e}p.example/products",
        "https://shop.example/productsx",
        "http://shop.example/products",
        "https://evil.example/",
    ] {
        let b = json!({"destinationUrl": bad});
        let m = assert_error(make(&one, "pub-one", &b).await, 400, "invalid_request").await;
        assert!(m.starts_with("destinationUrl"), "{bad}: {m}");
    }
    // The slug is the partner's: the same one again is taken (never overwritten), the
    // merchant's own `deal` is untouched by a partner's `deal`, a bad slug is named.
    let again = make(&one, "pub-one", &body).await;
    assert_error(again, 409, "conflict").await;
    let deal = json!({"slug": "deal", "destinationUrl": "https://blog.shop.example/post"});
    let own_deal = json_of(make(&one, "pub-one", &deal).await, 201).await;
    assert_eq!(own_deal["slug"], "pub-one-deal");
    let merchants = json_of(op.get("/links/deal").await, 200).await;
    assert_ne!(
        merchants["destinationUrl"],
        "https://blog.shop.example/post"
    );
    let random = json_of(
        make(
            &one,
            "pub-one",
            &json!({"destinationUrl": "https://blog.shop.example/"}),
        )
        .await,
        201,
    )
    .await;
    assert!(
        random["slug"].as_str().unwrap().starts_with("pub-one-"),
        "{random}"
    );
    let bad_slug = json!({"slug": "Not Ok", "destinationUrl": "https://blog.shop.example/"});
    let m = assert_error(
        make(&one, "pub-one", &bad_slug).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(m.starts_with("slug"), "{m}");

    // Another partner's id: 404; the merchant's operator may make one for a partner.
    assert_error(make(&one, "pub-two", &body).await, 404, "not_found").await;
    let for_two = json!({"slug": "x", "destinationUrl": "https://blog.shop.example/x"});
    let made = json_of(make(&op, "pub-two", &for_two).await, 201).await;
    assert_eq!(made["campaignId"], "beta");
    assert_error(make(&op, "nobody", &for_two).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_partner_without_a_campaign_or_past_its_quota_is_told_so() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    crate::scenario::partner(&app, "pub-three").await;
    json_of(allow(&app, json!(["https://shop.example/"])).await, 201).await;
    let three = as_partner(&app, "acme", "pub-three").await;
    let body = json!({"destinationUrl": "https://shop.example/a"});
    assert_error(make(&three, "pub-three", &body).await, 409, "invalid_state").await;

    // The quota's counter, as if the partner had made all its links: the next is refused,
    // and nothing of it is written.
    use tenx_shared::platform::store::{WriteOp, keys};
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let partner = tenx_shared::domain::PartnerId::parse("pub-one").unwrap();
    let (pk, sk) = keys::partner_link_quota(&handle, &partner);
    let max = tenx_shared::portal::links::MAX_OWN_LINKS;
    let fill = WriteOp::Add {
        pk,
        sk,
        deltas: vec![("links".into(), max.into())],
        cap: None,
        expires_at: None,
    };
    app.store.write(fill).await.unwrap();
    let one = as_partner(&app, "acme", "pub-one").await;
    let full = json!({"slug": "late", "destinationUrl": "https://shop.example/a"});
    assert_error(make(&one, "pub-one", &full).await, 409, "invalid_state").await;
    let op = app.as_role("acme", Role::Operator);
    assert_error(op.get("/links/pub-one-late").await, 404, "not_found").await;
}
