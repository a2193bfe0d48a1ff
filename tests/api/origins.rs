//! The server's origin, from outside: a link it mails or hands to a browser is absolute to its
//! configured origin (here a loopback listener's `http://localhost:{port}`), never to the `Host`
//! a request named; a `Host` that is not a URI authority is refused before anything runs; every
//! answer says `nosniff`.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::people::{mails_to, member, next_link};

/// `POST /v2/auth/email-link` for `email`, with `host` as the request's `Host`.
async fn ask_link_on(app: &TestApp, host: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v2/auth/email-link"))
        .header("host", host)
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_host_with_user_info_is_refused_and_nothing_is_mailed() {
    let app = spawn_app().await;
    member(&app, "ann@example.com", Role::Admin).await;
    for host in [
        "localhost:1@evil.example",
        "[::1]@evil.example",
        "127.0.0.1:80@evil.example",
        "localhost:8080/evil",
        "localhost:http",
    ] {
        let r = ask_link_on(&app, host, "ann@example.com").await;
        assert_eq!(
            header_str(r.headers(), "x-content-type-options"),
            "nosniff"
        );
        let message = assert_error(r, 400, "invalid_request").await;
        assert!(message.starts_with("Host:"), "{host}: {message}");
    }
    // A well-formed sign-in afterwards is the first mail: none of the refused ones left one.
    let r = ask_link_on(&app, &format!("localhost:{}", app.addr.port()), "ann@example.com").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    next_link(&app, "ann@example.com", 0, "sign_in").await;
    assert_eq!(mails_to(&app, "ann@example.com").len(), 1);
}

#[tokio::test]
async fn mailed_links_take_the_servers_origin_whatever_host_was_asked() {
    let app = spawn_app().await;
    member(&app, "ann@example.com", Role::Admin).await;
    // A well-formed Host that is not this server's is still served (redirect hosts and custom
    // domains need that), and the link it mails is absolute to the server's own origin.
    for (i, host) in ["evil.example", "127.0.0.1:9", "[::1]:1"].iter().enumerate() {
        let r = ask_link_on(&app, host, "ann@example.com").await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{host}");
        let link = next_link(&app, "ann@example.com", i, "sign_in").await;
        assert!(
            link.starts_with(&format!(
                "{}/v2/auth/email-link/verify?token=",
                app.origin()
            )),
            "{host}: {link}"
        );
    }
    // An invitation asked on another host: the same origin.
    let admin = app.as_role("acme", Role::Admin);
    let invited = app
        .client
        .post(app.url("/v2/handles/acme/members/invitations"))
        .header("host", "evil.example")
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .json(&json!({"email": "ben@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);
    let link = next_link(&app, "ben@example.com", 0, "invitation").await;
    assert!(link.starts_with(&app.origin()), "{link}");
    drop(admin);
}

#[tokio::test]
async fn every_answer_says_nosniff() {
    let app = spawn_app().await;
    let viewer = app.as_role("acme", Role::Viewer);
    let answers = [
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        app.client.get(app.url("/v2/nothing")).send().await.unwrap(),
        app.client
            .get(app.url("/v2/handles/acme/links"))
            .send()
            .await
            .unwrap(),
        viewer.get("/links").await,
        app.client.get(app.url("/")).send().await.unwrap(),
        app.visit(Method::GET, "acme", "/no-such-link", &[]).await,
    ];
    for r in answers {
        assert_eq!(
            header_str(r.headers(), "x-content-type-options"),
            "nosniff",
            "{} {}",
            r.url(),
            r.status()
        );
    }
}
