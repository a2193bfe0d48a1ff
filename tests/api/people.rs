//! People, sessions, the email link and members (issue 60), through the API on either backend:
//! the link read out of its mail (the Maildir the mail worker writes), the cookie carried by
//! hand, every refusal answered with the error envelope and nothing changed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::auth::Role;
use tenx_shared::domain::email::Email;
use tenx_shared::people::{memberships, users};

use crate::helpers::{TestApp, acme, eventually_or, spawn_app, spawn_with, test_config};

/// A person made a member of acme directly (as `tenx setup --admin` does).
pub(crate) async fn member(
    app: &TestApp,
    email: &str,
    role: Role,
) -> tenx_shared::people::model::User {
    let store = app.store.as_ref();
    let user = users::find_or_create(store, &Email::parse("email", email).unwrap())
        .await
        .unwrap();
    memberships::add(store, &acme(), &user, role).await.unwrap();
    user
}

/// The mails sent to `to` so far (the Maildir the tests' engine writes).
pub(crate) fn mails_to(app: &TestApp, to: &str) -> Vec<tenx_shared::testing::mail::SentMail> {
    app.sent_mail().into_iter().filter(|m| m.to == to).collect()
}

/// The link of the first mail of `kind` sent to `to` after the `before` it had: waits for the
/// mail worker (a poll of the Maildir) and returns its link. Mails of other kinds sent
/// meanwhile (a plan's notice to the same partner) are passed over.
pub(crate) async fn next_link(app: &TestApp, to: &str, before: usize, kind: &str) -> String {
    eventually_or(&format!("a {kind} mail to {to}"), || async {
        let mails = mails_to(app, to);
        if let Some(mail) = mails.iter().skip(before).find(|m| m.kind == kind) {
            return Ok(mail
                .link("http")
                .unwrap_or_else(|| panic!("no link in {}", mail.text)));
        }
        let kinds: Vec<&str> = mails.iter().skip(before).map(|m| m.kind.as_str()).collect();
        Err(format!("after it: {kinds:?}"))
    })
    .await
}

/// Asks for a sign-in link for `email` and reads it out of its mail.
pub(crate) async fn mailed_link(app: &TestApp, email: &str, next: Option<&str>) -> String {
    let before = mails_to(app, email).len();
    assert_eq!(
        ask_link(app, email, next).await.status(),
        StatusCode::ACCEPTED
    );
    next_link(app, email, before, "sign_in").await
}

pub(crate) fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

pub(crate) async fn ask_link(app: &TestApp, email: &str, next: Option<&str>) -> reqwest::Response {
    let mut body = json!({ "email": email });
    if let Some(n) = next {
        body["next"] = json!(n);
    }
    app.client
        .post(app.url("/v2/auth/email-link"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn spend(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v2/auth/email-link/verify"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// The `tenx_session=…` pair of a sign-in's answer.
pub(crate) fn cookie_of(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// Signs `email` in by the email link; returns the cookie and the CSRF token.
pub(crate) async fn sign_in(app: &TestApp, email: &str) -> (String, String) {
    let r = spend(app, &token_of(&mailed_link(app, email, None).await)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_of(&r);
    let me: Value = get(app, &cookie, "/v2/me").await.json().await.unwrap();
    (cookie, me["csrfToken"].as_str().unwrap().to_owned())
}

pub(crate) async fn get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn error_code(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_email_link_signs_a_member_in_and_the_cookie_reaches_the_handle() {
    let app = spawn_app().await;
    let ann = member(&app, "ann@example.com", Role::Creator).await;

    let r = ask_link(&app, "Ann@Example.com", Some("/links?x=1")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"sent": true}));
    let link = next_link(&app, "Ann@example.com", 0, "sign_in").await;
    assert!(link.starts_with(&format!(
        "{}/v2/auth/email-link/verify?token=tenx_l_",
        app.origin()
    )));

    // Following the link shows a page with a button and changes nothing.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/v2/auth/email-link/verify\">"));
    let page_again = app.client.get(&link).send().await.unwrap();
    assert_eq!(page_again.status(), StatusCode::OK, "a GET spends nothing");

    // The button spends it: a cookie and a 303 to `next`.
    let r = spend(&app, &token_of(&link)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/links?x=1");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("tenx_session=tenx_s_"), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "loopback speaks plain HTTP: {set}");
    let cookie = cookie_of(&r);

    let me: Value = get(&app, &cookie, "/v2/me").await.json().await.unwrap();
    assert_eq!(me["user"]["userId"], json!(ann.user_id));
    assert_eq!(me["user"]["email"], "ann@example.com");
    assert_eq!(
        me["memberships"],
        json!([{"handle": "acme", "role": "creator"}])
    );
    let csrf = me["csrfToken"].as_str().unwrap().to_owned();

    // The session reaches acme with the membership's role.
    assert_eq!(
        get(&app, &cookie, "/v2/handles/acme/links").await.status(),
        StatusCode::OK
    );
    let put = |csrf: Option<&str>| {
        let mut req = app
            .client
            .put(app.url("/v2/handles/acme/links/docs"))
            .header("cookie", &cookie)
            .json(&json!({"destinationUrl": "https://example.com/docs"}));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    let r = put(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "csrf");
    let r = put(Some("csrf_wrong")).await.unwrap();
    assert_eq!(error_code(r).await, "csrf");
    assert_eq!(
        get(&app, &cookie, "/v2/handles/acme/links/docs")
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "a refused write stored nothing"
    );
    assert!(put(Some(&csrf)).await.unwrap().status().is_success());
    // Creator, not operator: tokens are out of reach; another handle is foreign.
    let r = get(&app, &cookie, "/v2/handles/acme/tokens").await;
    assert_eq!(error_code(r).await, "insufficient_role");
    let r = get(&app, &cookie, "/v2/handles/other/links").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "forbidden");

    // The link is spent: a second use is refused with the envelope and makes no session.
    let r = spend(&app, &token_of(&link)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(error_code(r).await, "unauthorized");
    let page = app.client.get(&link).send().await.unwrap();
    assert!(
        !page.text().await.unwrap().contains("<form"),
        "no button for a spent link"
    );
    let sessions: Value = get(&app, &cookie, "/v2/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);

    // Machines keep their bearer tokens: a JWT beside the cookie is judged as the JWT.
    let r = app
        .client
        .get(app.url("/v2/handles/acme/tokens"))
        .header("cookie", &cookie)
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_and_no_link_and_bad_links_change_nothing() {
    let app = spawn_app().await;
    member(&app, "ann@example.com", Role::Viewer).await;
    let unknown = ask_link(&app, "nobody@example.com", None).await;
    let known = ask_link(&app, "ann@example.com", None).await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(
        known.json::<Value>().await.unwrap(),
        unknown.json::<Value>().await.unwrap()
    );
    let ann_link = next_link(&app, "ann@example.com", 0, "sign_in").await;
    // The known address's mail went out after the unknown one was answered: none for that one.
    assert!(mails_to(&app, "nobody@example.com").is_empty());

    // Bad input: the envelope, never a 500.
    let r = ask_link(&app, "<svg>@x", None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for token in [
        "",
        "tenx_l_short",
        "garbage",
        &format!("tenx_l_{}", "A".repeat(43)),
    ] {
        let r = spend(&app, token).await;
        assert!(r.status().is_client_error(), "{token}: {}", r.status());
        assert!(r.headers().get("set-cookie").is_none());
    }
    let r = app
        .client
        .post(app.url("/v2/auth/email-link/verify"))
        .json(&json!({"token": token_of(&ann_link)}))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        "csrf",
        "a sign-in posted from another site"
    );
    // An open redirect is not followed: `next` off this origin lands on the console.
    for next in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let link = mailed_link(&app, "ann@example.com", Some(next)).await;
        let r = spend(&app, &token_of(&link)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    // No cookie, a made-up one: 401.
    assert_eq!(
        app.client
            .get(app.url("/v2/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = get(&app, "tenx_session=tenx_s_forged", "/v2/handles/acme/links").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn link_requests_are_limited_per_email() {
    let app = spawn_app().await;
    for _ in 0..tenx_shared::http::people::LINKS_PER_EMAIL {
        assert_eq!(
            ask_link(&app, "x@example.com", None).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let r = ask_link(&app, "X+tag@example.com", None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        ask_link(&app, "y@example.com", None).await.status(),
        StatusCode::ACCEPTED,
        "another address has its own budget"
    );
}

#[tokio::test]
async fn sessions_are_listed_revoked_one_by_one_and_signed_out() {
    let app = spawn_app().await;
    member(&app, "ann@example.com", Role::Viewer).await;
    let (first, _) = sign_in(&app, "ann@example.com").await;
    let (second, csrf) = sign_in(&app, "ann@example.com").await;
    assert_ne!(first, second, "every sign-in is a new session");

    let list: Value = get(&app, &second, "/v2/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let other = items.iter().find(|s| s["current"] == false).unwrap();
    for field in ["since", "lastSeen", "address"] {
        assert!(other[field].is_string(), "{field}: {other}");
    }
    let id = other["sessionId"].as_str().unwrap();

    // A delete without the CSRF token is refused; with it, the first session ends.
    let del = |csrf: Option<&str>| {
        let mut r = app
            .client
            .delete(app.url(&format!("/v2/me/sessions/{id}")))
            .header("cookie", &second);
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        r.send()
    };
    assert_eq!(error_code(del(None).await.unwrap()).await, "csrf");
    assert_eq!(get(&app, &first, "/v2/me").await.status(), StatusCode::OK);
    assert_eq!(
        del(Some(&csrf)).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&app, &first, "/v2/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        del(Some(&csrf)).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Signing out ends the session on the server, not only in the browser.
    let r = app
        .client
        .post(app.url("/v2/auth/sign-out"))
        .header("cookie", &second)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        get(&app, &second, "/v2/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_idle_session_ends() {
    let mut config = test_config();
    config.session_idle = std::time::Duration::from_secs(3600);
    let app = spawn_with(config, None).await;
    member(&app, "ann@example.com", Role::Viewer).await;
    let (cookie, _) = sign_in(&app, "ann@example.com").await;
    tenx_shared::platform::time::advance(std::time::Duration::from_secs(3000));
    assert_eq!(get(&app, &cookie, "/v2/me").await.status(), StatusCode::OK);
    // Seen 3,000 s in: the idle hour starts again from there.
    tenx_shared::platform::time::advance(std::time::Duration::from_secs(3000));
    assert_eq!(get(&app, &cookie, "/v2/me").await.status(), StatusCode::OK);
    tenx_shared::platform::time::advance(std::time::Duration::from_secs(3700));
    assert_eq!(
        get(&app, &cookie, "/v2/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn as_admin(
    app: &TestApp,
    (cookie, csrf): &(String, String),
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = app
        .client
        .request(method, app.url(path))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn an_invitation_makes_a_member_once_roles_are_enforced_and_the_last_admin_stays() {
    let app = spawn_app().await;
    let ann = member(&app, "ann@example.com", Role::Admin).await;
    let admin = sign_in(&app, "ann@example.com").await;

    let r = as_admin(
        &app,
        &admin,
        reqwest::Method::POST,
        "/v2/handles/acme/members/invitations",
        Some(json!({"email": "bob@example.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let inv: Value = r.json().await.unwrap();
    assert!(inv["invitationId"].as_str().unwrap().starts_with("inv_"));
    assert!(inv["expiresAt"].is_string());
    let pending: Value = get(&app, &admin.0, "/v2/handles/acme/members/invitations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);

    // A bad role or address: the envelope, nothing invited.
    for body in [
        json!({"email": "bob@example.com", "role": "owner"}),
        json!({"email": "bob", "role": "viewer"}),
    ] {
        let r = as_admin(
            &app,
            &admin,
            reqwest::Method::POST,
            "/v2/handles/acme/members/invitations",
            Some(body),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }

    // The invitee follows the mailed link: signed in and a viewer, once.
    let link = next_link(&app, "bob@example.com", 0, "invitation").await;
    let mail = mails_to(&app, "bob@example.com").pop().unwrap();
    assert!(
        mail.text.contains("ann@example.com invited you"),
        "{}",
        mail.text
    );
    let r = spend(&app, &token_of(&link)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let bob = cookie_of(&r);
    let me: Value = get(&app, &bob, "/v2/me").await.json().await.unwrap();
    assert_eq!(
        me["memberships"],
        json!([{"handle": "acme", "role": "viewer"}])
    );
    let bob_csrf = me["csrfToken"].as_str().unwrap().to_owned();
    let bob_id = me["user"]["userId"].as_str().unwrap().to_owned();
    assert_eq!(
        spend(&app, &token_of(&link)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let members: Value = get(&app, &bob, "/v2/handles/acme/members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let pending: Value = get(&app, &admin.0, "/v2/handles/acme/members/invitations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"], json!([]));

    // A viewer cannot invite or change roles.
    let r = as_admin(
        &app,
        &(bob.clone(), bob_csrf.clone()),
        reqwest::Method::POST,
        "/v2/handles/acme/members/invitations",
        Some(json!({"email": "eve@example.com", "role": "admin"})),
    )
    .await;
    assert_eq!(error_code(r).await, "insufficient_role");

    // The last admin can be neither demoted nor removed.
    let me_path = format!("/v2/handles/acme/members/{}", ann.user_id);
    let r = as_admin(
        &app,
        &admin,
        reqwest::Method::PATCH,
        &me_path,
        Some(json!({"role": "operator"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "invalid_state");
    let r = as_admin(&app, &admin, reqwest::Method::DELETE, &me_path, None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Bob becomes operator, then is removed: refused on his next request.
    let bob_path = format!("/v2/handles/acme/members/{bob_id}");
    let r = as_admin(
        &app,
        &admin,
        reqwest::Method::PATCH,
        &bob_path,
        Some(json!({"role": "operator"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        get(&app, &bob, "/v2/handles/acme/tokens").await.status(),
        StatusCode::OK
    );
    let r = as_admin(&app, &admin, reqwest::Method::DELETE, &bob_path, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = get(&app, &bob, "/v2/handles/acme/links").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Each change is in the audit log, by the person who made it.
    let log: Value = get(&app, &admin.0, "/v2/handles/acme/audit")
        .await
        .json()
        .await
        .unwrap();
    let entries = log["items"].as_array().unwrap();
    let by = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action}: {log}"))["actor"]
            .clone()
    };
    let ann_actor = json!({"type": "user", "id": ann.user_id});
    assert_eq!(by("invitation.created"), ann_actor);
    assert_eq!(by("member.role_changed"), ann_actor);
    assert_eq!(by("member.removed"), ann_actor);
    assert_eq!(
        by("invitation.accepted"),
        json!({"type": "user", "id": bob_id})
    );
    let me: Value = get(&app, &bob, "/v2/me").await.json().await.unwrap();
    assert_eq!(
        me["memberships"],
        json!([]),
        "signed in, a member of nothing"
    );

    // A revoked invitation's link no longer works; a resend is a new invitation.
    let first: Value = as_admin(
        &app,
        &admin,
        reqwest::Method::POST,
        "/v2/handles/acme/members/invitations",
        Some(json!({"email": "cy@example.com", "role": "creator"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let first_link = next_link(&app, "cy@example.com", 0, "invitation").await;
    let id = first["invitationId"].as_str().unwrap();
    let r = as_admin(
        &app,
        &admin,
        reqwest::Method::DELETE,
        &format!("/v2/handles/acme/members/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        spend(&app, &token_of(&first_link)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let second: Value = as_admin(
        &app,
        &admin,
        reqwest::Method::POST,
        "/v2/handles/acme/members/invitations",
        Some(json!({"email": "cy@example.com", "role": "creator"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_ne!(first["invitationId"], second["invitationId"]);
    let second_link = next_link(&app, "cy@example.com", 1, "invitation").await;
    assert_ne!(first_link, second_link);
    assert_eq!(
        spend(&app, &token_of(&second_link)).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one() {
    let app = spawn_app().await;
    let a = member(&app, "a@example.com", Role::Admin).await;
    let b = member(&app, "b@example.com", Role::Admin).await;
    let sa = sign_in(&app, "a@example.com").await;
    let sb = sign_in(&app, "b@example.com").await;
    for _ in 0..3 {
        let (path_a, path_b) = (
            format!("/v2/handles/acme/members/{}", a.user_id),
            format!("/v2/handles/acme/members/{}", b.user_id),
        );
        let (ra, rb) = tokio::join!(
            as_admin(
                &app,
                &sa,
                reqwest::Method::PATCH,
                &path_b,
                Some(json!({"role": "viewer"}))
            ),
            as_admin(
                &app,
                &sb,
                reqwest::Method::PATCH,
                &path_a,
                Some(json!({"role": "viewer"}))
            ),
        );
        let statuses = [ra.status(), rb.status()];
        let admins = memberships::list(app.store.as_ref(), &acme())
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.role == Role::Admin)
            .count();
        assert_eq!(admins, 1, "{statuses:?}");
        // Exactly one won; the other was refused (or, demoted already, refused by its role).
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        // Make both admins again for the next round (the remaining admin promotes).
        let (winner, loser) = if statuses[0] == StatusCode::OK {
            (&sa, &b)
        } else {
            (&sb, &a)
        };
        let r = as_admin(
            &app,
            winner,
            reqwest::Method::PATCH,
            &format!("/v2/handles/acme/members/{}", loser.user_id),
            Some(json!({"role": "admin"})),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

/// The sign-in routes no session guards (and a handle's domain claim) refuse a parameter given
/// twice and a body past the limit with the error envelope (its `requestId`), as every route
/// does: never a plain-text rejection.
#[tokio::test]
async fn a_repeated_parameter_or_a_body_past_the_limit_is_refused_in_the_envelope() {
    let app = spawn_app().await;
    for path in [
        "/v2/auth/email-link/verify?token=a&token=b",
        "/v2/auth/setup?token=a&token=b",
        "/v2/auth/oidc/test/start?next=/a&next=/b",
        "/v2/auth/oidc/test/callback?code=a&code=b",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let said = crate::helpers::assert_error(r, 400, "invalid_request").await;
        assert!(said.contains("given more than once"), "{path}: {said}");
    }
    let big = vec![b'a'; 65 * 1024];
    for path in [
        "/v2/auth/email-link/verify",
        "/v2/auth/setup",
        "/v2/auth/passkeys/authenticate/begin",
    ] {
        let r = app
            .client
            .post(app.url(path))
            .header("origin", app.origin())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let said = crate::helpers::assert_error(r, 413, "payload_too_large").await;
        assert!(said.contains("64 KiB"), "{path}: {said}");
    }
    let r = app
        .client
        .put(app.url("/v2/handles/acme/domains/go.acme.example"))
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(r, 413, "payload_too_large").await;
}
