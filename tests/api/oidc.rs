//! Signing in with OpenID Connect (issue 60) against a real provider: `oidc-provider` from npm
//! (scripts/oidc_provider.sh installs it; scripts/oidc_provider.mjs runs it on a free loopback
//! port, its sign-in page logging one fixed account in). The test's HTTP client is the browser:
//! it follows the redirects by hand and keeps each origin's cookies, so every hop (the start,
//! the provider's authorization and interaction, the callback) is the real one.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use reqwest::{StatusCode, Url};
use serde_json::Value;
use tenx_shared::auth::Role;
use tenx_shared::domain::email::Email;
use tenx_shared::people::{memberships, sessions, users};
use tenx_shared::platform::config::OidcProvider;

use crate::helpers::{TestApp, acme, spawn_with, test_config};

/// The provider process, stopped when dropped (its standard input closes).
struct Provider {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    port: u16,
}

impl Provider {
    /// Starts the provider with its fixed account: `email`, and whether it says it is verified.
    fn start(email: &str, verified: bool) -> Self {
        let dir = std::env::var("TENX_OIDC_PROVIDER_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/oidc").to_owned());
        assert!(
            std::path::Path::new(&dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "{dir} has no oidc-provider: run scripts/oidc_provider.sh (it installs it from npm)"
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/oidc_provider.mjs");
        let mut child = std::process::Command::new("node")
            .arg(script)
            .env("TENX_OIDC_PROVIDER_DIR", &dir)
            .env("OIDC_ACCOUNT_EMAIL", email)
            .env(
                "OIDC_EMAIL_VERIFIED",
                if verified { "true" } else { "false" },
            )
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting node scripts/oidc_provider.mjs");
        let stdin = child.stdin.take();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let port = Self::line(&mut stdout)
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .expect("the provider's port");
        Self {
            child,
            stdin,
            stdout,
            port,
        }
    }

    fn line(stdout: &mut impl BufRead) -> String {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }

    /// Registers the test client with the app's callback and waits until it serves.
    fn ready(&mut self, app: &TestApp) {
        let uri = format!("{}/v2/auth/oidc/test/callback", app.origin());
        writeln!(self.stdin.as_mut().unwrap(), "{uri}").unwrap();
        assert_eq!(Self::line(&mut self.stdout), "ready");
    }

    fn config(&self) -> OidcProvider {
        OidcProvider {
            id: "test".into(),
            name: "Test".into(),
            issuer: format!("http://127.0.0.1:{}", self.port),
            client_id: "tenx-test".into(),
            client_secret: Some("tenx-test-secret".into()),
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app with the provider configured as `test`, and the provider ready for it.
async fn app_with(provider: &mut Provider) -> TestApp {
    let mut config = test_config();
    config.oidc = vec![provider.config()];
    let app = spawn_with(config, None).await;
    provider.ready(&app);
    app
}

/// A browser: cookies per origin (host and port), redirects followed by hand.
#[derive(Default)]
struct Browser {
    jar: HashMap<String, HashMap<String, String>>,
}

fn origin(url: &Url) -> String {
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(80))
}

impl Browser {
    async fn get(&mut self, app: &TestApp, url: &Url) -> reqwest::Response {
        let cookies = self
            .jar
            .get(&origin(url))
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let mut req = app.client.get(url.clone());
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        let r = req.send().await.unwrap();
        let jar = self.jar.entry(origin(url)).or_default();
        for set in r.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || set.to_str().unwrap().contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        r
    }

    /// Follows redirects from `url` until one points where `stop` says (returned, not
    /// followed); panics on an answer that is not a redirect.
    async fn follow_until(&mut self, app: &TestApp, url: Url, stop: impl Fn(&Url) -> bool) -> Url {
        let mut at = url;
        for _ in 0..12 {
            let r = self.get(app, &at).await;
            let status = r.status();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            let Some(location) = location.filter(|_| status.is_redirection()) else {
                panic!("{at} answered {status}: {}", r.text().await.unwrap());
            };
            let next = at.join(&location).unwrap();
            if stop(&next) {
                return next;
            }
            at = next;
        }
        panic!("too many redirects from {at}");
    }

    /// From the start to the provider's redirect back to the callback (not followed).
    async fn through_to_callback(&mut self, app: &TestApp) -> Url {
        let start = Url::parse(&format!(
            "{}/v2/auth/oidc/test/start?next=/%23team",
            app.origin()
        ))
        .unwrap();
        self.follow_until(app, start, |u| u.path() == "/v2/auth/oidc/test/callback")
            .await
    }

    fn cookie(&self, app: &TestApp, name: &str) -> Option<String> {
        self.jar
            .get(&format!("localhost:{}", app.addr.port()))
            .and_then(|c| c.get(name))
            .map(|v| format!("{name}={v}"))
    }
}

async fn envelope(r: reqwest::Response) -> (StatusCode, String, String) {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn me(app: &TestApp, cookie: &str) -> Value {
    let r = app
        .client
        .get(app.url("/v2/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

fn param(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn oidc_signs_a_verified_known_user_in_and_refuses_replays_and_foreign_states() {
    let mut provider = Provider::start("ana@example.com", true);
    let app = app_with(&mut provider).await;
    let store = app.store.as_ref();
    let ana = users::find_or_create(store, &Email::parse("email", "ana@example.com").unwrap())
        .await
        .unwrap();
    memberships::add(store, &acme(), &ana, Role::Admin)
        .await
        .unwrap();

    // The sign-in page's list of providers.
    let list: Value = app
        .client
        .get(app.url("/v2/auth/oidc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["name"], "Test", "{list}");

    let mut browser = Browser::default();
    let start = app
        .client
        .get(app.url("/v2/auth/oidc/test/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let to = Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    // Authorization code with PKCE (S256), a state and a nonce.
    assert_eq!(param(&to, "response_type"), "code");
    assert_eq!(param(&to, "code_challenge_method"), "S256");
    assert!(param(&to, "state").starts_with("tenx_o_"));
    assert!(!param(&to, "nonce").is_empty());

    let callback = browser.through_to_callback(&app).await;
    // A callback without this browser's state cookie (another browser) is refused, and spends
    // nothing: this browser's own callback then works.
    let foreign = app.client.get(callback.clone()).send().await.unwrap();
    let (status, code, _) = envelope(foreign).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    let done = browser.get(&app, &callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], "/#team");
    let cookie = browser
        .cookie(&app, "tenx_session")
        .expect("a session cookie");
    assert!(
        browser.cookie(&app, "tenx_oidc").is_none(),
        "the state cookie is cleared"
    );
    let who = me(&app, &cookie).await;
    assert_eq!(who["user"]["userId"], ana.user_id.as_str(), "{who}");
    assert_eq!(who["memberships"][0]["role"], "admin", "{who}");
    // The sign-in is in the audit log of each handle Ana is a member of, by Ana.
    let log: Value = app
        .client
        .get(app.url("/v2/handles/acme/audit?action=user.signed_in"))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(
        log["items"][0]["actor"]["id"],
        ana.user_id.as_str(),
        "{log}"
    );
    assert_eq!(
        log["items"][0]["target"], "ana@example.com (with Test)",
        "{log}"
    );

    // The same callback again (the code replayed with its state): the state is spent.
    let (status, code, _) = envelope(browser.get(&app, &callback).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    // The spent code under a new sign-in's state: the provider refuses the code.
    let second = browser.through_to_callback(&app).await;
    let replayed = with_param(&second, "code", &param(&callback, "code"));
    let (status, _, message) = envelope(browser.get(&app, &replayed).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{message}");
    assert!(message.contains("provider refused"), "{message}");
    // A state the server never made.
    let forged = with_param(
        &callback,
        "state",
        "tenx_o_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let (status, _, _) = envelope(browser.get(&app, &forged).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The provider's own error (the person declined) ends the sign-in with the envelope.
    let third = browser.through_to_callback(&app).await;
    let mut declined = third.clone();
    declined
        .query_pairs_mut()
        .clear()
        .append_pair("error", "access_denied")
        .append_pair("state", &param(&third, "state"));
    let (status, _, message) = envelope(browser.get(&app, &declined).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message.contains("access_denied"), "{message}");
    // One session: refusals started none.
    let sessions = sessions::list(store, &ana.user_id, sessions_life(&app))
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
}

fn sessions_life(app: &TestApp) -> sessions::Lifetimes {
    sessions::Lifetimes {
        idle: app.config.session_idle,
        max: app.config.session_max,
    }
}

#[tokio::test]
async fn oidc_refuses_an_id_token_whose_nonce_is_not_the_sign_ins() {
    let mut provider = Provider::start("ana@example.com", true);
    let app = app_with(&mut provider).await;
    users::find_or_create(
        app.store.as_ref(),
        &Email::parse("email", "ana@example.com").unwrap(),
    )
    .await
    .unwrap();
    let mut browser = Browser::default();
    let start = Url::parse(&format!("{}/v2/auth/oidc/test/start", app.origin())).unwrap();
    let port = provider.port;
    let authorize = browser
        .follow_until(&app, start, |u| u.port() == Some(port))
        .await;
    // The provider is asked for another nonce than the one stored with the state: the code and
    // PKCE are good, the ID token it signs carries the wrong nonce.
    let tampered = with_param(&authorize, "nonce", "not-the-sign-ins-nonce");
    let callback = browser
        .follow_until(&app, tampered, |u| {
            u.path() == "/v2/auth/oidc/test/callback"
        })
        .await;
    let (status, _, message) = envelope(browser.get(&app, &callback).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{message}");
    assert!(message.to_lowercase().contains("nonce"), "{message}");
    assert!(browser.cookie(&app, "tenx_session").is_none());
}

#[tokio::test]
async fn oidc_links_an_unverified_email_only_through_a_signed_in_session() {
    let mut provider = Provider::start("bo@example.com", false);
    let app = app_with(&mut provider).await;
    let store = app.store.as_ref();
    let bo = users::find_or_create(store, &Email::parse("email", "bo@example.com").unwrap())
        .await
        .unwrap();
    // The address is a user's, but the provider does not vouch for it: no account.
    let mut browser = Browser::default();
    let callback = browser.through_to_callback(&app).await;
    let (status, code, message) = envelope(browser.get(&app, &callback).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert!(message.contains("invitation"), "{message}");

    // Signed in (by the email link, here made directly), Bo connects the provider.
    let started = sessions::start(&bo.user_id, sessions_life(&app), &Default::default()).unwrap();
    store.transact(started.ops).await.unwrap();
    let mut linked = Browser::default();
    linked
        .jar
        .entry(format!("localhost:{}", app.addr.port()))
        .or_default()
        .insert("tenx_session".into(), started.secret.clone());
    let callback = linked.through_to_callback(&app).await;
    assert_eq!(
        linked.get(&app, &callback).await.status(),
        StatusCode::SEE_OTHER
    );
    let ids = tenx_shared::people::oidc::identities(store, &bo.user_id)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].subject, "alice");

    // From now on the provider's person (iss + sub) signs in as Bo, from any browser.
    let mut fresh = Browser::default();
    let callback = fresh.through_to_callback(&app).await;
    assert_eq!(
        fresh.get(&app, &callback).await.status(),
        StatusCode::SEE_OTHER
    );
    let cookie = fresh.cookie(&app, "tenx_session").unwrap();
    assert_eq!(
        me(&app, &cookie).await["user"]["userId"],
        bo.user_id.as_str()
    );
}

#[tokio::test]
async fn oidc_unknown_provider_is_404_in_the_envelope() {
    let app = spawn_with(test_config(), None).await;
    for path in [
        "/v2/auth/oidc/nobody/start",
        "/v2/auth/oidc/nobody/callback?state=x&code=y",
        "/v2/auth/oidc/Not%20A%20Name/start",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let (status, code, _) = envelope(r).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    let list: Value = app
        .client
        .get(app.url("/v2/auth/oidc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], serde_json::json!([]));
}

#[tokio::test]
async fn oidc_sign_in_starts_are_limited_per_client_address() {
    let mut provider = Provider::start("ana@example.com", true);
    let mut config = test_config();
    config.oidc = vec![provider.config()];
    // A day's window: the 61 starts never straddle a window's end on a slow machine.
    config.rate_limits.window_secs = 86_400;
    let app = spawn_with(config, None).await;
    provider.ready(&app);
    let start = || app.client.get(app.url("/v2/auth/oidc/test/start")).send();
    for _ in 0..tenx_shared::people::oidc::STARTS_PER_ADDRESS {
        assert_eq!(start().await.unwrap().status(), StatusCode::SEE_OTHER);
    }
    let r = start().await.unwrap();
    assert!(r.headers().get("retry-after").is_some());
    let (status, code, message) = envelope(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(message.contains("this client address"), "{message}");
}
