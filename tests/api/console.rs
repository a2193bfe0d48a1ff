//! The web console as served by `tenx serve`: its page at `/` on the API host (the bare
//! short-link domain keeps the redirect's answer), hashed immutable assets under a strict
//! Content-Security-Policy, the local sign-in (only when `tenx serve --local-sign-in` was asked
//! for, only with the code it printed, only for a loopback caller), and "try the redirect" (a
//! real click whose ctx resolves and converts).

use std::collections::BTreeSet;

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::http::console::{CONTENT_SECURITY_POLICY, IMMUTABLE, sign_in_allowed};
use tenx_shared::platform::config::SignInCode;

use crate::helpers::*;
use crate::scenario::IPHONE;
use crate::serve::Serve;
use crate::tokens::create_pat;

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

pub(crate) fn assert_console_headers(resp: &Response, what: &str) {
    let h = resp.headers();
    assert_eq!(
        header_str(h, "content-security-policy"),
        CONTENT_SECURITY_POLICY,
        "{what}"
    );
    assert_eq!(header_str(h, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header_str(h, "referrer-policy"), "no-referrer", "{what}");
}

/// The `/console/…` files a text refers to (`src="/console/x.css"`, `from './x.js'`; not the
/// sign-in route).
pub(crate) fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for quote in ['"', '\''] {
        for prefix in ["/console/", "./"] {
            let opener = format!("{quote}{prefix}");
            for (at, _) in text.match_indices(&opener) {
                let rest = &text[at + opener.len()..];
                if let Some(name) = rest.find(quote).map(|end| &rest[..end])
                    && name.contains('.')
                {
                    out.insert(name.to_owned());
                }
            }
        }
    }
    out
}

/// `name.0123456789ab.ext`: a content hash of 12 hex digits before the extension.
fn is_hashed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3
        && parts[1].len() == 12
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn the_page_is_served_at_the_root_of_the_api_host_under_a_strict_policy() {
    let app = spawn_app().await;
    for host in [None, Some(format!("localhost:{}", app.addr.port()))] {
        let headers: Vec<(&str, &str)> = host.iter().map(|h| ("host", h.as_str())).collect();
        let resp = app.console_page(Method::GET, &headers).await;
        assert_eq!(resp.status(), 200, "{host:?}");
        assert_console_headers(&resp, "the page");
        assert!(header_str(resp.headers(), "content-type").starts_with("text/html"));
        assert_eq!(header_str(resp.headers(), "cache-control"), "no-cache");
        assert!(resp.headers().contains_key("x-request-id"));
        let page = resp.text().await.unwrap();
        assert!(page.contains("<main id=\"main\""), "{page}");
        // No inline script or style: the policy would block them.
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "{page}"
        );
        // The vocabularies come from the code.
        let group_by: Vec<&str> = tenx_shared::analytics::report::GroupBy::ALL
            .iter()
            .map(|g| g.as_str())
            .collect();
        assert!(page.contains(&format!("data-group-by=\"{}\"", group_by.join(","))));
        assert!(!page.contains("{{"), "every placeholder is filled: {page}");
    }
    // HEAD answers too (a monitor's check).
    let resp = app.console_page(Method::HEAD, &[]).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn assets_have_hashed_names_resolve_as_a_module_graph_and_are_immutable() {
    let app = spawn_app().await;
    let page = app
        .console_page(Method::GET, &[])
        .await
        .text()
        .await
        .unwrap();
    let mut pending: Vec<String> = references(&page).into_iter().collect();
    assert!(pending.iter().any(|n| n.starts_with("main.")), "{page}");
    // The public program page is the other root of the graph.
    let program = app.program_page("acme").await.text().await.unwrap();
    assert!(
        references(&program)
            .iter()
            .any(|n| n.starts_with("program_page-program.")),
        "{program}"
    );
    pending.extend(references(&program));
    // And the partner portal (issue 61) a third.
    let portal = app
        .client
        .get(app.url("/portal/acme"))
        .send()
        .await
        .unwrap();
    pending.extend(references(&portal.text().await.unwrap()));
    assert!(pending.iter().any(|n| n.starts_with("console.")), "{page}");
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        assert!(is_hashed(&name), "{name}: not a content-hashed name");
        let resp = app.console_asset(&name).await;
        assert_eq!(resp.status(), 200, "{name}");
        assert_console_headers(&resp, &name);
        assert_eq!(header_str(resp.headers(), "cache-control"), IMMUTABLE);
        let content_type = header_str(resp.headers(), "content-type").to_owned();
        let body = resp.text().await.unwrap();
        if name.ends_with(".js") {
            assert!(content_type.starts_with("text/javascript"), "{name}");
            // Every module it imports is served under its hashed name too.
            pending.extend(references(&body));
        } else if name.ends_with(".css") {
            assert!(content_type.starts_with("text/css"), "{name}");
        }
    }
    // The whole module graph was reached from the page: every file the bundle serves.
    let bundle = tenx_shared::http::console::Bundle::embedded();
    let served: BTreeSet<String> = bundle.assets.iter().map(|a| a.hashed.clone()).collect();
    assert_eq!(seen, served);

    // An unhashed or unknown name is a 404, under the same policy.
    for name in ["main.js", "nope.0123456789ab.js", "..%2Fsecrets.json"] {
        let resp = app.console_asset(name).await;
        assert_console_headers(&resp, name);
        assert_error(resp, 404, "not_found").await;
    }
}

/// A browser that accepts gzip gets every text asset compressed (the page's weight is what
/// travels); one that does not, or refuses it with `q=0`, gets the same bytes as they are.
#[tokio::test]
async fn assets_travel_gzipped_to_a_browser_that_accepts_it() {
    use std::io::Read;
    let app = spawn_app().await;
    let bundle = tenx_shared::http::console::Bundle::embedded();
    let (mut plain_total, mut sent_total) = (0, 0);
    for asset in bundle.assets.iter().filter(|a| a.name.ends_with(".js")) {
        let resp = app
            .console_asset_with(&asset.hashed, &[("accept-encoding", "br, gzip;q=0.8")])
            .await;
        assert_eq!(resp.status(), 200, "{}", asset.name);
        assert_eq!(header_str(resp.headers(), "content-encoding"), "gzip");
        assert_eq!(header_str(resp.headers(), "vary"), "accept-encoding");
        let sent = resp.bytes().await.unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&sent[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, asset.body, "{}: the same bytes", asset.name);
        plain_total += asset.body.len();
        sent_total += sent.len();
    }
    assert!(
        sent_total * 2 < plain_total,
        "{sent_total} of {plain_total}"
    );
    let main = bundle.assets.iter().find(|a| a.name == "main.js").unwrap();
    for refused in [None, Some("gzip;q=0"), Some("identity")] {
        let headers: Vec<(&str, &str)> = refused
            .map(|v| ("accept-encoding", v))
            .into_iter()
            .collect();
        let resp = app.console_asset_with(&main.hashed, &headers).await;
        assert!(
            !resp.headers().contains_key("content-encoding"),
            "{refused:?}"
        );
        assert_eq!(resp.bytes().await.unwrap(), main.body, "{refused:?}");
    }
}

#[tokio::test]
async fn the_bare_short_link_domain_keeps_the_redirects_answer() {
    let app = spawn_app().await;
    // An API client on the bare domain: the 404 envelope, not the console.
    let resp = app.visit(Method::GET, "acme", "/", &[]).await;
    assert!(!resp.headers().contains_key("content-security-policy"));
    assert_error(resp, 404, "not_found").await;
    // A browser: the "link not found" page.
    let resp = app
        .visit(Method::GET, "acme", "/", &[("accept", "text/html")])
        .await;
    assert_eq!(resp.status(), 404);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("link not found") && !body.contains("/console/"),
        "{body}"
    );
    // With a base URL, the bare domain redirects there.
    let operator = app.as_role("acme", Role::Operator);
    let resp = operator
        .put_redirect_settings(&json!({"baseUrl": "https://acme.example/"}))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app.click("acme", "/", &[("user-agent", IPHONE)]).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        header_str(resp.headers(), "location"),
        "https://acme.example/"
    );
    // ... while the API host still gets the console.
    assert_eq!(app.console_page(Method::GET, &[]).await.status(), 200);
}

/// The code the in-process servers of these tests are given (`tenx serve` makes its own).
const CODE: &str = "test-sign-in-code-0123456789abcd";

fn with_local_sign_in() -> tenx_shared::platform::config::Config {
    let mut config = test_config();
    config.local_sign_in = Some(SignInCode::new(CODE));
    config
}

#[tokio::test]
async fn local_sign_in_is_off_unless_asked_for() {
    // The suite's server, as `tenx serve` without `--local-sign-in`: a loopback caller with no
    // forwarding header at all (what a same-host reverse proxy sends) gets nothing.
    let app = spawn_app().await;
    let resp = app
        .console_sign_in(&json!({"handle": "beta", "role": "admin"}), &[])
        .await;
    assert_console_headers(&resp, "sign-in");
    let message = assert_error(resp, 404, "not_found").await;
    assert!(
        message.contains("Sign in with your email instead"),
        "{message}"
    );
    // A guessed code changes nothing.
    let resp = app
        .console_sign_in(
            &json!({"handle": "beta", "role": "admin", "code": CODE}),
            &[],
        )
        .await;
    assert_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn local_sign_in_mints_a_short_lived_token_only_for_the_printed_code() {
    let app = spawn_with(with_local_sign_in(), None).await;
    // No code, another code, a prefix of it, the code with more after it: 401, no token.
    for code in [
        None,
        Some("nope"),
        Some(&CODE[..10]),
        Some(&format!("{CODE}x")[..]),
    ] {
        let mut body = json!({"handle": "acme", "role": "admin"});
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        let resp = app.console_sign_in(&body, &[]).await;
        assert_console_headers(&resp, "sign-in");
        let message = assert_error(resp, 401, "unauthorized").await;
        assert!(message.starts_with("code"), "{code:?}: {message}");
    }
    let resp = app
        .console_sign_in(
            &json!({"handle": "acme", "role": "creator", "code": CODE}),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_console_headers(&resp, "sign-in");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (&body["handle"], &body["role"]),
        (&json!("acme"), &json!("creator"))
    );
    let token = body["token"].as_str().unwrap();
    let expires = time::OffsetDateTime::parse(
        body["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ttl = expires.unix_timestamp() - now();
    assert!((3500..=3600).contains(&ttl), "one hour: {ttl}");
    // The token is a real JWT: it works on its handle, with its role, and nowhere else.
    let creator = app.with_token("acme", token);
    assert_eq!(creator.list_links("").await.status(), 200);
    assert_error(
        creator.create_webhook(&json!({"endpointUrl": "https://hooks.example.com/x", "eventTypes": ["link.clicked"]})).await,
        403,
        "insufficient_role",
    )
    .await;
    assert_error(
        app.with_token("other-co", token).list_links("").await,
        403,
        "forbidden",
    )
    .await;
    // The code stays valid for the process (a token lives an hour; signing in again must not
    // need a restart). The default role is admin (issue 60: the first start is its owner's); a bad role or handle is a 400 naming it.
    let resp = app
        .console_sign_in(&json!({"handle": "acme", "code": CODE}), &[])
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["role"], "admin");
    let message = assert_error(
        app.console_sign_in(
            &json!({"handle": "acme", "role": "root", "code": CODE}),
            &[],
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("role"), "{message}");
    assert_error(
        app.console_sign_in(&json!({"handle": "Not A Handle", "code": CODE}), &[])
            .await,
        400,
        "invalid_request",
    )
    .await;

    // Refused even with the code, as if it did not exist: a host that is not loopback (DNS
    // rebinding), anything a proxy adds, and a cross-origin page.
    let port = app.addr.port();
    let origin = format!("http://127.0.0.1:{port}");
    let refused: [&[(&str, &str)]; 5] = [
        &[("host", "evil.example")],
        &[("host", &format!("acme.localhost:{port}"))],
        &[("x-forwarded-for", "198.51.100.7")],
        &[("forwarded", "for=198.51.100.7")],
        &[("origin", "http://evil.example")],
    ];
    for headers in refused {
        let resp = app
            .console_sign_in(&json!({"handle": "acme", "code": CODE}), headers)
            .await;
        assert_error(resp, 404, "not_found").await;
    }
    // The console's own origin is fine.
    let resp = app
        .console_sign_in(
            &json!({"handle": "acme", "code": CODE}),
            &[("origin", &origin)],
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn local_sign_in_needs_a_loopback_peer_and_no_trusted_proxy() {
    let mut config = with_local_sign_in();
    let app = spawn_with(config.clone(), None).await;
    let state = tenx_shared::aws::app_state(
        config.clone(),
        app.store.clone(),
        app.queue.clone(),
        tenx_shared::platform::config::Secrets::ALL,
    )
    .unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("host", "localhost:8080".parse().unwrap());
    let loopback: std::net::SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let remote: std::net::SocketAddr = "192.0.2.10:50000".parse().unwrap();
    assert!(sign_in_allowed(&state, Some(loopback), &headers));
    assert!(!sign_in_allowed(&state, Some(remote), &headers));
    // No socket address at all (as on Lambda): refused.
    assert!(!sign_in_allowed(&state, None, &headers));
    config.trusted_proxy = true;
    let proxied = tenx_shared::aws::app_state(
        config,
        app.store.clone(),
        app.queue.clone(),
        tenx_shared::platform::config::Secrets::ALL,
    )
    .unwrap();
    assert!(!sign_in_allowed(&proxied, Some(loopback), &headers));

    // The router without connection info (as a Lambda function runs it) refuses too.
    use tower::ServiceExt;
    let request = axum::http::Request::post("/console/sign-in")
        .header("host", "localhost:8080")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(format!(
            r#"{{"handle":"acme","code":"{CODE}"}}"#
        )))
        .unwrap();
    let resp = tenx_shared::http::local_app(state)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn generated_secrets_never_turn_the_local_sign_in_on() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = tenx_shared::runtime::local::LocalSecrets::load_or_create(dir.path()).unwrap();
    let mut generated = tenx_shared::platform::config::Config::default();
    secrets.apply(&mut generated);
    assert!(generated.jwt.is_some_and(|k| k.hs256_secret().is_some()));
    assert!(generated.local_sign_in.is_none());
}

#[tokio::test]
async fn tenx_serve_offers_the_local_sign_in_only_when_asked_and_only_with_its_printed_code() {
    let client = tenx_shared::platform::http_client::builder()
        .build()
        .unwrap();
    // Without the flag: generated secrets, a loopback caller, no forwarding header (as a
    // same-host `proxy_pass http://127.0.0.1:PORT;` sends) and still nothing.
    let plain = Serve::start(&[], &[]);
    plain.wait_up(&client).await;
    let resp = plain
        .sign_in(&client, &json!({"handle": "beta", "role": "admin"}))
        .await;
    assert_error(resp, 404, "not_found").await;
    drop(plain);

    // With it (the flag, or its variable): a URL with a code, printed on the terminal.
    for (args, env) in [
        (&["--local-sign-in"][..], &[][..]),
        (&[][..], &[("TENX_LOCAL_SIGN_IN", "true")][..]),
    ] {
        let mut server = Serve::start(args, env);
        let line = server.sign_in_line();
        let prefix = format!("http://localhost:{}/?code=", server.addr.port());
        let code = line
            .split_once(&prefix)
            .map(|(_, code)| code.trim().to_owned())
            .unwrap_or_else(|| panic!("no sign-in URL in {line:?}"));
        assert_eq!(code.len(), 32, "{line}");
        server.wait_up(&client).await;
        let resp = server
            .sign_in(&client, &json!({"handle": "beta", "role": "admin"}))
            .await;
        assert_error(resp, 401, "unauthorized").await;
        let resp = server
            .sign_in(
                &client,
                &json!({"handle": "beta", "role": "admin", "code": "0".repeat(32)}),
            )
            .await;
        assert_error(resp, 401, "unauthorized").await;
        let resp = server
            .sign_in(
                &client,
                &json!({"handle": "beta", "role": "admin", "code": code}),
            )
            .await;
        assert_eq!(resp.status(), 200, "{env:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["role"], "admin");
    }
}

/// `(clicks, qualifiedClicks, testClicks)` of one link, from `groupBy=link`.
async fn link_counts(app: &TestApp, slug: &str) -> (i64, i64, i64) {
    let viewer = app.as_role("acme", Role::Viewer);
    let report: Value = viewer.analytics("groupBy=link").await.json().await.unwrap();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == slug)
        .map_or((0, 0, 0), |r| {
            let n = |f: &str| r[f].as_i64().unwrap();
            (n("clicks"), n("qualifiedClicks"), n("testClicks"))
        })
}

/// Polls until the aggregator has counted exactly `want` for the link.
async fn wait_for_counts(app: &TestApp, slug: &str, want: (i64, i64, i64)) {
    let what = format!("{slug}'s (clicks, qualified, test) to reach {want:?}");
    eventually_or(&what, || async {
        let last = link_counts(app, slug).await;
        match last == want {
            true => Ok(()),
            false => Err(format!("{last:?}")),
        }
    })
    .await;
}

#[tokio::test]
async fn try_follows_the_short_link_once_as_a_test_click() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    let resp = creator
        .put_link(
            "launch",
            &json!({"destinationUrl": "https://example.com/product",
                    "tracking": {"utmCampaign": "spring"},
                    "routingRules": [{"priority": 10, "destinationUrl": "https://example.com/m",
                                      "conditions": {"deviceIn": ["mobile"]}}]}),
        )
        .await;
    assert_eq!(resp.status(), 201);

    let body = json!({"query": "utm_source=ad&sub1=partner-7", "userAgent": IPHONE});
    let resp = creator.try_link("launch", &body).await;
    assert_eq!(resp.status(), 200);
    let tried: Value = resp.json().await.unwrap();
    assert_eq!(tried["status"], 302, "{tried}");
    assert_eq!(
        tried["shortUrl"],
        format!(
            "http://acme.localhost:{}/launch?utm_source=ad&sub1=partner-7",
            app.addr.port()
        )
    );
    let location = tried["location"].as_str().unwrap();
    assert!(location.starts_with("https://example.com/m?"), "{location}");
    assert_eq!(
        query_param(location, "utm_campaign").as_deref(),
        Some("spring")
    );
    let ctx = tried["ctx"].as_str().unwrap();
    assert_eq!(query_param(location, "ctx").as_deref(), Some(ctx));

    // The ctx resolves, with the visit's attribution, marked as a test.
    let resp = app.context(ctx).await;
    assert_eq!(resp.status(), 200);
    let context: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            &context["handle"],
            &context["slug"],
            &context["device"],
            &context["source"],
            &context["test"]
        ),
        (
            &json!("acme"),
            &json!("launch"),
            &json!("mobile"),
            &json!("ad"),
            &json!(true)
        )
    );
    assert_eq!(context["subIds"]["sub1"], "partner-7");
    // It converts (the playbook's exactly-once), but only as a test conversion: never counted
    // or paid, whatever the body says.
    let conversion = json!({"ctx": ctx, "idempotencyKey": "console-1", "eventType": "purchase",
                            "value": 10, "currency": "USD", "test": false});
    let resp = app.convert(&conversion).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["test"], true);
    let resp = app.convert(&conversion).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["test"], true);
    // ... and the click is a test click: in `testClicks`, not in `clicks` or `qualifiedClicks`.
    wait_for_counts(&app, "launch", (0, 0, 1)).await;

    // A bot's try is redirected without a ctx, and is a test click too.
    let resp = creator
        .try_link("launch", &json!({"userAgent": GOOGLEBOT}))
        .await;
    let tried: Value = resp.json().await.unwrap();
    assert_eq!(
        (&tried["status"], &tried["ctx"]),
        (&json!(302), &Value::Null)
    );
    wait_for_counts(&app, "launch", (0, 0, 2)).await;

    // A visitor's click beside them counts as ever, and its ctx carries no test mark.
    let resp = app
        .click("acme", "/launch", &[("user-agent", IPHONE)])
        .await;
    let visitor_ctx = query_param(header_str(resp.headers(), "location"), "ctx").unwrap();
    let context: Value = app.context(&visitor_ctx).await.json().await.unwrap();
    assert!(context.get("test").is_none(), "{context}");
    let real = json!({"ctx": visitor_ctx, "idempotencyKey": "real-1", "eventType": "purchase"});
    let resp = app.convert(&real).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["test"], false);
    wait_for_counts(&app, "launch", (1, 1, 2)).await;

    // Without userAgent, the caller's own User-Agent is the visitor's.
    let resp = creator
        .try_link_with_headers("launch", &json!({}), &[("user-agent", IPHONE)])
        .await;
    let tried: Value = resp.json().await.unwrap();
    assert!(tried["ctx"].is_string(), "{tried}");
}

#[tokio::test]
async fn try_counts_against_the_write_limit() {
    let mut config = test_config();
    config.rate_limits.free = 3;
    config.rate_limits.window_secs = 3600;
    let app = spawn_with(config, None).await;
    let creator = app.as_role("acme", Role::Creator);
    let resp = creator
        .put_link("launch", &json!({"destinationUrl": "https://example.com/"}))
        .await;
    assert_eq!(resp.status(), 201);
    let iphone = json!({"userAgent": IPHONE, "query": "sub1=aff-77"});
    for _ in 0..2 {
        assert_eq!(creator.try_link("launch", &iphone).await.status(), 200);
    }
    let resp = creator.try_link("launch", &iphone).await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, 429, "rate_limited").await;
    wait_for_counts(&app, "launch", (0, 0, 2)).await;
}

#[tokio::test]
async fn try_refuses_unknown_links_other_handles_and_bad_input() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    assert_eq!(
        creator
            .put_link("launch", &json!({"destinationUrl": "https://example.com/"}))
            .await
            .status(),
        201
    );
    let iphone = json!({"userAgent": IPHONE});
    // An unknown slug: 404, and no orphan visit is recorded for it.
    let resp = creator.try_link("nope", &iphone).await;
    let message = assert_error(resp, 404, "not_found").await;
    assert!(message.contains("nope"), "{message}");
    let orphans: Value = app
        .as_role("acme", Role::Viewer)
        .analytics("orphans=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orphans["totalVisits"], 0, "{orphans}");
    // Another handle's caller, a viewer, no token.
    let other = app.with_token("acme", &app.token(&["other-co"], Role::Admin));
    let resp = other.try_link("launch", &iphone).await;
    assert_error(resp, 403, "forbidden").await;
    let viewer = app.as_role("acme", Role::Viewer);
    let resp = viewer.try_link("launch", &iphone).await;
    assert_error(resp, 403, "insufficient_role").await;
    let resp = app.without_token("acme").try_link("launch", &iphone).await;
    assert_error(resp, 401, "unauthorized").await;
    // A PAT with links.write may; a read-only one may not (a try writes a click).
    let reader = create_pat(&app, "acme", &["links.read"]).await;
    let resp = app
        .with_token("acme", &reader)
        .try_link("launch", &iphone)
        .await;
    assert_error(resp, 403, "insufficient_scope").await;
    let writer = create_pat(&app, "acme", &["links.write"]).await;
    let resp = app
        .with_token("acme", &writer)
        .try_link("launch", &iphone)
        .await;
    assert_eq!(resp.status(), 200);
    // Bad input names its field.
    for (body, field) in [
        (json!({"query": "a b"}), "query"),
        (json!({"query": "x#frag"}), "query"),
        (json!({"userAgent": "bad\nagent"}), "userAgent"),
        (json!({"referrer": "x"}), "referrer"),
        (json!({"country": "USA"}), "country"),
        (json!({"country": "U1"}), "country"),
    ] {
        let resp = creator.try_link("launch", &body).await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(message.contains(field), "{body}: {message}");
    }
}

/// A tried visitor's country routes as the edge's verified country would: the rule the route
/// preview matched for US matches the try too; without a country, the default.
#[tokio::test]
async fn try_routes_on_the_visitors_country() {
    let app = spawn_app().await;
    let creator = app.as_role("acme", Role::Creator);
    let link = json!({
        "destinationUrl": "https://example.com/world",
        "routingRules": [{"priority": 1, "destinationUrl": "https://example.com/us",
                          "conditions": {"countryIn": ["US"]}}]
    });
    assert_eq!(creator.put_link("geo", &link).await.status(), 201);
    for (country, expected) in [
        (json!("us"), "https://example.com/us"),
        (json!(" US "), "https://example.com/us"),
        (json!("DE"), "https://example.com/world"),
        (Value::Null, "https://example.com/world"),
    ] {
        let body = json!({"userAgent": IPHONE, "country": country});
        let tried: Value = creator.try_link("geo", &body).await.json().await.unwrap();
        assert_eq!(tried["status"], 302, "{tried}");
        let location = tried["location"].as_str().unwrap();
        assert!(location.starts_with(expected), "{country}: {location}");
        let ctx = tried["ctx"].as_str().unwrap();
        let context: Value = app.context(ctx).await.json().await.unwrap();
        let want = country
            .as_str()
            .map_or("unknown".to_owned(), |c| c.trim().to_ascii_uppercase());
        assert_eq!(context["country"], json!(want), "{context}");
    }
}

/// Issue 62: a module another change adds (the money dashboard, `places.js`'s optional names)
/// is served under its hashed name when it is one of the files, and as `''` while it is not,
/// so the page never asks for a file that is not there.
#[test]
fn an_optional_module_absent_from_the_files_is_an_empty_place() {
    use tenx_shared::http::console::{Bundle, OPTIONAL_MODULES};
    let places = b"const FILES = { dashboard: './home/dashboard.js' };".to_vec();
    let without = Bundle::build("", vec![("places.js", places.clone())]);
    let body = String::from_utf8(without.assets[0].body.clone()).unwrap();
    assert_eq!(body, "const FILES = { dashboard: '' };");
    let with = Bundle::build(
        "",
        vec![
            ("home/dashboard.js", b"export function render() {}".to_vec()),
            ("places.js", places),
        ],
    );
    let body = String::from_utf8(with.assets[1].body.clone()).unwrap();
    assert_eq!(
        body,
        format!(
            "const FILES = {{ dashboard: './{}' }};",
            with.assets[0].hashed
        )
    );
    assert!(with.assets[0].hashed.starts_with("home-dashboard."));
    assert!(OPTIONAL_MODULES.contains(&"home/dashboard.js"));
}

/// A module in a folder names its imports relative to itself (`'../ui.js'`); every file is
/// served flat under `/console/` (`partners-row.….js`), so each reference becomes `./` and the
/// hashed name, whichever folder it came from.
#[test]
fn a_module_in_a_folder_imports_by_their_flat_hashed_names() {
    use tenx_shared::http::console::Bundle;
    let bundle = Bundle::build(
        "<script type=\"module\" src=\"/console/partners/list.js\"></script>",
        vec![
            ("ui.js", b"export const h = 1;".to_vec()),
            ("partners/row.js", b"import { h } from '../ui.js';".to_vec()),
            (
                "partners/list.js",
                b"import './row.js'; const m = () => import(\"../ui.js\");".to_vec(),
            ),
        ],
    );
    let [ui, row, list] = &bundle.assets[..] else {
        panic!("three assets")
    };
    assert!(row.hashed.starts_with("partners-row.") && is_hashed(&row.hashed));
    let text = |body: &[u8]| String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(
        text(&row.body),
        format!("import {{ h }} from './{}';", ui.hashed)
    );
    assert_eq!(
        text(&list.body),
        format!(
            "import './{}'; const m = () => import(\"./{}\");",
            row.hashed, ui.hashed
        )
    );
    assert_eq!(
        bundle.index,
        format!(
            "<script type=\"module\" src=\"/console/{}\"></script>",
            list.hashed
        )
    );
}
