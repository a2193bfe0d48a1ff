//! The audit log names each kind of actor (issue 60): a person's session, a personal access
//! token and a partner's token, each write with its own entry (the JWT, a provider and a
//! partner's person are in `audit.rs`, `connectors.rs` and `partner_users.rs`).

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::auth::Role;

use crate::helpers::{TestApp, acme, spawn_app};
use crate::people::{member, sign_in};

async fn entries(app: &TestApp, action: &str) -> Vec<Value> {
    let r = app
        .client
        .get(app.url(&format!("/v2/handles/acme/audit?action={action}")))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_session_a_pat_and_a_partner_token_are_each_named_in_their_entry() {
    let app = spawn_app().await;
    // A person's session (cookie and CSRF token).
    let ana = member(&app, "ana@example.com", Role::Creator).await;
    let (cookie, csrf) = sign_in(&app, "ana@example.com").await;
    let r = app
        .client
        .put(app.url("/v2/handles/acme/links/by-ana"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"destinationUrl": "https://example.com/ana"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // A personal access token.
    let pat = crate::tokens::create_pat(&app, "acme", &["links.write"]).await;
    let r = app
        .client
        .put(app.url("/v2/handles/acme/links/by-pat"))
        .bearer_auth(&pat)
        .json(&json!({"destinationUrl": "https://example.com/pat"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let links = entries(&app, "link.created").await;
    let actor_of = |slug: &str| {
        links
            .iter()
            .find(|e| e["target"].as_str().unwrap().contains(slug))
            .unwrap_or_else(|| panic!("no entry for {slug}: {links:?}"))["actor"]
            .clone()
    };
    assert_eq!(
        actor_of("by-ana"),
        json!({"type": "user", "id": ana.user_id.to_string()})
    );
    assert_eq!(actor_of("by-pat")["type"], "pat");
    assert!(
        actor_of("by-pat")["id"]
            .as_str()
            .is_some_and(|id| !id.is_empty() && !id.contains("tenx_pat_")),
        "a token is named by its id, never its secret: {links:?}"
    );

    // A partner's token, writing in its own thread.
    let fields = tenx_shared::partners::PartnerFields {
        email: Some(Some("june@partners.example".into())),
        ..Default::default()
    };
    tenx_shared::partners::create(
        app.store.as_ref(),
        &acme(),
        tenx_shared::domain::PartnerId::parse("june").unwrap(),
        "June".into(),
        fields,
    )
    .await
    .unwrap();
    let june = crate::scenario::as_partner(&app, "acme", "june").await;
    let r = june
        .send_json(
            Method::POST,
            "/partners/june/messages",
            &json!({"body": "Hello"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let sent = entries(&app, "message.sent").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["actor"]["type"], "partner_token", "{sent:?}");
}
