//! Passkeys (issue 60) through the API on either backend: what needs a session and its CSRF
//! token, the options the browser gets (the configured RP id, the person, a stored challenge),
//! refusals in the error envelope (not a WebAuthn answer, a challenge no one started), the list
//! and removal, and a handle that requires passkeys of its admins. A real authenticator's
//! registration and sign-in (Chromium's virtual one) is scripts/browser_test_passkeys.py.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::auth::Role;

use crate::helpers::{TestApp, spawn_with, test_config};
use crate::people::{error_code, get, member, sign_in};

async fn app() -> TestApp {
    spawn_with(passkey_config(), None).await
}

fn passkey_config() -> tenx_shared::platform::config::Config {
    let mut config = test_config();
    config.passkey_rp_id = Some("console.example".into());
    config.passkey_origin = Some("https://console.example".into());
    config
}

async fn post(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    req.send().await.unwrap()
}

/// A syntactically fine WebAuthn registration whose challenge no one started.
fn foreign_registration() -> Value {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let client_data = json!({
        "type": "webauthn.create",
        "challenge": b64(&[7u8; 16]),
        "origin": "https://console.example",
        "crossOrigin": false,
    });
    json!({
        "id": b64(&[1u8; 16]), "rawId": b64(&[1u8; 16]), "type": "public-key",
        "response": {
            "clientDataJSON": b64(client_data.to_string().as_bytes()),
            "attestationObject": b64(&[0xa0]),
            "transports": ["internal"],
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "platform",
    })
}

#[tokio::test]
async fn passkey_routes_need_a_session_and_refuse_what_is_not_a_webauthn_answer() {
    let app = app().await;
    member(&app, "pia@example.com", Role::Operator).await;
    let (cookie, csrf) = sign_in(&app, "pia@example.com").await;
    let begin = "/v2/auth/passkeys/register/begin";

    let r = post(&app, begin, None, None, json!({})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post(&app, begin, Some(&cookie), None, json!({})).await;
    assert_eq!(error_code(r).await, "csrf");

    let r = post(&app, begin, Some(&cookie), Some(&csrf), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let options: Value = r.json().await.unwrap();
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "console.example", "{options}");
    assert_eq!(pk["user"]["name"], "pia@example.com", "{options}");
    assert_eq!(
        pk["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"], "required",
        "{options}"
    );
    assert!(
        pk["challenge"].as_str().is_some_and(|c| c.len() >= 22),
        "{options}"
    );
    // Two starts: two challenges.
    let again: Value = post(&app, begin, Some(&cookie), Some(&csrf), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again["publicKey"]["challenge"], pk["challenge"]);

    let finish = "/v2/auth/passkeys/register/finish";
    for bad in [
        json!({}),
        json!({"credential": {"id": "x"}}),
        json!({"credential": 5}),
    ] {
        let r = post(&app, finish, Some(&cookie), Some(&csrf), bad.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(r).await, "invalid_request", "{bad}");
    }
    let body = json!({"credential": foreign_registration()});
    let r = post(&app, finish, Some(&cookie), Some(&csrf), body).await;
    assert!(
        matches!(
            r.status(),
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
        ),
        "a challenge no one started registers nothing: {}",
        r.status()
    );

    // Signing in: options for any browser; garbage refused; nothing signed in.
    let r = post(
        &app,
        "/v2/auth/passkeys/authenticate/begin",
        None,
        None,
        json!({"next": "/#/links"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let options: Value = r.json().await.unwrap();
    assert_eq!(options["publicKey"]["rpId"], "console.example", "{options}");
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        json!([]),
        "{options}"
    );
    let r = post(
        &app,
        "/v2/auth/passkeys/authenticate/finish",
        None,
        None,
        json!({"credential": {}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("set-cookie").is_none());
    let r = app
        .client
        .post(app.url("/v2/auth/passkeys/authenticate/finish"))
        .header("origin", "https://evil.example")
        .json(&json!({"credential": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        "csrf",
        "a sign-in posted from another site"
    );

    let list: Value = get(&app, &cookie, "/v2/me/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({"items": []}), "nothing was registered");
    let r = app
        .client
        .delete(app.url("/v2/me/passkeys/pk_0190f0c2b9a27c3e8d1a2b3c4d5e6f70"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(r).await, "not_found");
    assert_eq!(
        get(&app, "tenx_session=none", "/v2/me/passkeys")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_handle_may_require_a_passkey_of_its_admins() {
    let app = app().await;
    member(&app, "ada@example.com", Role::Admin).await;
    member(&app, "oto@example.com", Role::Operator).await;
    let (admin, admin_csrf) = sign_in(&app, "ada@example.com").await;
    let (operator, _) = sign_in(&app, "oto@example.com").await;
    let jwt = app.token(&["acme"], Role::Admin);
    let policy = "/v2/handles/acme/sign-in-policy";

    let r = app
        .client
        .get(app.url(policy))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"requirePasskeyForAdmins": false})
    );
    // A signed-in admin without a passkey cannot turn it on (they would shut themselves out).
    let r = app
        .client
        .put(app.url(policy))
        .header("cookie", &admin)
        .header("x-csrf-token", &admin_csrf)
        .json(&json!({"requirePasskeyForAdmins": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "passkey_required");
    let r = app
        .client
        .put(app.url(policy))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .json(&json!({"requirePasskeyForAdmins": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, "insufficient_role");
    let r = app
        .client
        .put(app.url(policy))
        .bearer_auth(&jwt)
        .json(&json!({"requirePasskeyForAdmins": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = app
        .client
        .put(app.url(policy))
        .bearer_auth(&jwt)
        .json(&json!({"requirePasskeyForAdmins": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The admin without a passkey: refused on the handle, asked to add one; their own routes
    // (the account screen's) stay open. An operator is not an admin: unchanged.
    let r = get(&app, &admin, "/v2/handles/acme/links").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "passkey_required", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("account screen"),
        "{body}"
    );
    assert_eq!(get(&app, &admin, "/v2/me").await.status(), StatusCode::OK);
    assert_eq!(
        get(&app, &admin, "/v2/me/passkeys").await.status(),
        StatusCode::OK
    );
    let r = post(
        &app,
        "/v2/auth/passkeys/register/begin",
        Some(&admin),
        Some(&admin_csrf),
        json!({}),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "registering one is open to them"
    );
    assert_eq!(
        get(&app, &operator, "/v2/handles/acme/links")
            .await
            .status(),
        StatusCode::OK
    );
    // Machines are not people: a JWT admin is unchanged.
    let r = app
        .client
        .get(app.url("/v2/handles/acme/links"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The change is in the audit log; turned off, the admin is back.
    let audit: Value = app
        .client
        .get(app.url("/v2/handles/acme/audit?action=sign_in_policy.updated"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(
        audit["items"][0]["target"], "admins need a passkey",
        "{audit}"
    );
    let r = app
        .client
        .put(app.url(policy))
        .bearer_auth(&jwt)
        .json(&json!({"requirePasskeyForAdmins": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        get(&app, &admin, "/v2/handles/acme/links").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn passkey_sign_in_starts_are_limited_per_client_address() {
    // A day's window: the 61 starts never straddle a window's end on a slow machine.
    let mut config = passkey_config();
    config.rate_limits.window_secs = 86_400;
    let app = spawn_with(config, None).await;
    let begin = "/v2/auth/passkeys/authenticate/begin";
    for _ in 0..tenx_shared::people::passkeys::SIGN_INS_PER_ADDRESS {
        let r = post(&app, begin, None, None, json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = post(&app, begin, None, None, json!({})).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(error_code(r).await, "rate_limited");
}
