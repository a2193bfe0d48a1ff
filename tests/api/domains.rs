//! Custom domains (issue 64), verified against a real authoritative DNS server (dnslib,
//! `scripts/dns_server.py`, started per test on a free loopback port) and then served by
//! `Host`: refused before the record exists, verified after, never spoofed by a CNAME into
//! another zone; the domain's links, not-found and root URLs and well-known files; never `/v2`;
//! one handle per verified domain (pending claims side by side, the first to verify takes it);
//! the daily re-check.

use std::io::BufRead;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, spawn_with, test_config};

/// The DNS server: serves the records of its JSON file, re-read on every query; stopped when
/// dropped (its stdin closes).
pub(crate) struct DnsServer {
    child: std::process::Child,
    pub(crate) port: u16,
    records: tempfile::NamedTempFile,
}

impl DnsServer {
    pub(crate) fn start() -> Self {
        let python = std::env::var("TENX_DNS_PYTHON").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/dns/bin/python").to_owned()
        });
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} is missing: run scripts/dns_server.sh (it installs dnslib from PyPI)"
        );
        let records = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(records.path(), "[]").unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dns_server.py");
        let mut child = std::process::Command::new(python)
            .args([script, records.path().to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting the DNS server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the DNS server did not start: {line:?}"));
        Self {
            child,
            port,
            records,
        }
    }

    /// Replaces the served records: `(name, type, value)`.
    pub(crate) fn publish(&self, records: &[(&str, &str, &str)]) {
        let list: Vec<Value> = records
            .iter()
            .map(|(name, kind, value)| json!({"name": name, "type": kind, "value": value}))
            .collect();
        std::fs::write(self.records.path(), Value::Array(list).to_string()).unwrap();
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn spawn_with_dns(dns: &DnsServer) -> TestApp {
    let mut config = test_config();
    config.dns_resolver = Some(format!("127.0.0.1:{}", dns.port).parse().unwrap());
    spawn_with(config, None).await
}

impl TestApp {
    pub(crate) async fn domain_call(
        &self,
        method: reqwest::Method,
        handle: &str,
        rest: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(
                method,
                self.url(&format!("/v2/handles/{handle}/domains{rest}")),
            )
            .bearer_auth(self.token(&[handle], Role::Operator));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn put_domain(
        &self,
        handle: &str,
        domain: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let path = format!("/{domain}");
        self.domain_call(reqwest::Method::PUT, handle, &path, Some(body))
            .await
    }

    pub(crate) async fn verify_domain(&self, handle: &str, domain: &str) -> (StatusCode, Value) {
        let path = format!("/{domain}/verify");
        self.domain_call(reqwest::Method::POST, handle, &path, None)
            .await
    }

    /// A GET on `host` (a custom domain), following nothing.
    pub(crate) async fn on_host(&self, host: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("host", host)
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            )
            .bearer_auth(self.token(&["acme"], Role::Admin))
            .send()
            .await
            .unwrap()
    }
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_domain_is_verified_by_dns_then_serves_the_handles_links_by_host() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    let res = app
        .put_link(
            "acme",
            "spring",
            json!({"destinationUrl": "https://shop.example/spring"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let (status, claimed) = app
        .put_domain(
            "acme",
            "Go.Brand.TEST",
            json!({"notFoundUrl": "https://shop.example/missing", "rootUrl": "https://shop.example/"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claimed}");
    assert_eq!(claimed["domain"], "go.brand.test");
    assert_eq!(claimed["status"], "pending");
    assert_eq!(claimed["verification"]["type"], "TXT");
    assert_eq!(claimed["verification"]["name"], "_tenx.go.brand.test");
    let value = claimed["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        value.starts_with("tenx-verification=") && value.len() > 40,
        "{value}"
    );

    // Pending: the host serves none of the handle's links (a pending claim is the handle's
    // alone: until verified, the name is any other host to the service).
    assert_eq!(app.on_host("go.brand.test", "/spring").await.status(), 404);

    // No record yet: refused, and said so.
    let (status, body) = app.verify_domain("acme", "go.brand.test").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not_verified");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("_tenx.go.brand.test")
    );

    // A wrong value, and the right value reached through a CNAME into another zone: refused.
    dns.publish(&[("_tenx.go.brand.test", "TXT", "tenx-verification=guess")]);
    let (status, body) = app.verify_domain("acme", "go.brand.test").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("other value")
    );
    dns.publish(&[
        ("_tenx.go.brand.test", "CNAME", "_tenx.elsewhere.test"),
        ("_tenx.elsewhere.test", "TXT", &value),
    ]);
    let (status, body) = app.verify_domain("acme", "go.brand.test").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a CNAME chain spoofed it: {body}"
    );

    // The record at the name itself: verified.
    dns.publish(&[("_tenx.go.brand.test", "TXT", &value)]);
    let (status, body) = app.verify_domain("acme", "go.brand.test").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "verified");
    assert!(body["verifiedAt"].is_string());

    // Served by Host: the link, the domain's own not-found and root URLs; never the API.
    let res = app.on_host("go.brand.test", "/spring").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(
        location(&res).starts_with("https://shop.example/spring"),
        "{}",
        location(&res)
    );
    let res = app.on_host("GO.brand.test:443", "/nope").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "https://shop.example/missing");
    let res = app.on_host("go.brand.test", "/").await;
    assert_eq!(location(&res), "https://shop.example/");
    for path in [
        "/v2/handles/acme/links",
        "/v2/handles/acme/domains",
        "/console/app.js",
        "/a/b",
    ] {
        let res = app.on_host("go.brand.test", path).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "{path} answered on the custom domain"
        );
    }
    // The API's own host still answers the API.
    let (status, listed) = app
        .domain_call(reqwest::Method::GET, "acme", "", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"][0]["status"], "verified");

    // One handle per domain.
    let (status, body) = app.put_domain("beta", "go.brand.test", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app
        .domain_call(reqwest::Method::GET, "beta", "/go.brand.test", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Given up: no longer served, free for another handle.
    let (status, _) = app
        .domain_call(reqwest::Method::DELETE, "acme", "/go.brand.test", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.on_host("go.brand.test", "/spring").await.status(), 404);
    let (status, _) = app.put_domain("beta", "go.brand.test", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn wildcards_addresses_and_the_services_own_domain_are_refused_idn_taken_in_ascii() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    for bad in [
        "*.brand.test",
        "127.0.0.1",
        "localhost",
        "acme.localhost",
        "go.-x.test",
    ] {
        let (status, body) = app.put_domain("acme", bad, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    let (status, body) = app.put_domain("acme", "bücher.test", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["domain"], "xn--bcher-kva.test");
    // Settings are checked field by field.
    let (status, body) = app
        .put_domain(
            "acme",
            "bücher.test",
            json!({"rootUrl": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .put_domain(
            "acme",
            "bücher.test",
            json!({"appLinks": {"ios": {"appIds": ["nope"]}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("appLinks.ios.appIds[0]")
    );
    // A domain not verified cannot be verified by another handle either.
    let (status, _) = app.verify_domain("beta", "bücher.test").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A claim is no squat: two handles each hold a pending claim with a TXT value of its own
/// (the one that never proves it blocks nobody), and of those that prove it, verifying at the
/// same moment, exactly one takes the name; a pending claim says when it lapses.
#[tokio::test]
async fn pending_claims_sit_side_by_side_and_the_first_to_verify_takes_the_name() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    let (a, b) = tokio::join!(
        app.put_domain("acme", "race.brand.test", json!({})),
        app.put_domain("beta", "race.brand.test", json!({})),
    );
    assert_eq!(
        (a.0, b.0),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{a:?} {b:?}"
    );
    let value = |v: &Value| v["verification"]["value"].as_str().unwrap().to_owned();
    assert_ne!(value(&a.1), value(&b.1), "each claim has its own TXT value");
    for claim in [&a.1, &b.1] {
        let created = claim["createdAt"].as_str().unwrap();
        let lapses = claim["pendingExpiresAt"]
            .as_str()
            .expect("pendingExpiresAt");
        let days = (tenx_shared::domain::time::Timestamp::parse(lapses)
            .unwrap()
            .millis()
            - tenx_shared::domain::time::Timestamp::parse(created)
                .unwrap()
                .millis())
            / 86_400_000;
        assert_eq!(days, 7, "{claim}");
    }
    // A squatter's claim that is never proven: the owner publishes its own value and takes it.
    let (status, _) = app.put_domain("gamma", "owned.brand.test", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, owner) = app.put_domain("acme", "owned.brand.test", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{owner}");
    dns.publish(&[
        ("_tenx.owned.brand.test", "TXT", &value(&owner)),
        ("_tenx.race.brand.test", "TXT", &value(&a.1)),
        ("_tenx.race.brand.test", "TXT", &value(&b.1)),
    ]);
    let (status, verified) = app.verify_domain("acme", "owned.brand.test").await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["status"], "verified");
    assert!(verified.get("pendingExpiresAt").is_none(), "{verified}");
    let (status, body) = app.verify_domain("gamma", "owned.brand.test").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let (status, _) = app.put_domain("gamma", "owned.brand.test", json!({})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a verified name is no longer claimable"
    );

    // Both proven at once: one winner, the other told the name is taken.
    let (a, b) = tokio::join!(
        app.verify_domain("acme", "race.brand.test"),
        app.verify_domain("beta", "race.brand.test"),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let winner = if a.0 == StatusCode::OK {
        "acme"
    } else {
        "beta"
    };
    let served = app.on_host("race.brand.test", "/nothing").await;
    assert_eq!(served.status(), StatusCode::NOT_FOUND);
    let (status, held) = app
        .domain_call(reqwest::Method::GET, winner, "/race.brand.test", None)
        .await;
    assert_eq!(
        (status, &held["status"]),
        (StatusCode::OK, &json!("verified"))
    );
    // The loser may give its pending claim up.
    let loser = if winner == "acme" { "beta" } else { "acme" };
    let (status, _) = app
        .domain_call(reqwest::Method::DELETE, loser, "/race.brand.test", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .domain_call(reqwest::Method::GET, loser, "/race.brand.test", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn app_links_are_served_as_the_two_well_known_files() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    let fingerprint = vec!["0F"; 32].join(":");
    let (_, claimed) = app
        .put_domain(
            "acme",
            "app.brand.test",
            json!({"appLinks": {
                "ios": {"appIds": ["ABCDE12345.com.brand.app"], "paths": ["/p/*"]},
                "android": {"package": "com.brand.app", "sha256Fingerprints": [fingerprint]}
            }}),
        )
        .await;
    let value = claimed["verification"]["value"].as_str().unwrap();
    dns.publish(&[("_tenx.app.brand.test", "TXT", value)]);
    assert_eq!(
        app.verify_domain("acme", "app.brand.test").await.0,
        StatusCode::OK
    );

    let res = app
        .on_host("app.brand.test", "/.well-known/apple-app-site-association")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let aasa: Value = res.json().await.unwrap();
    assert_eq!(
        aasa["applinks"]["details"][0]["appIDs"][0],
        "ABCDE12345.com.brand.app"
    );
    assert_eq!(aasa["applinks"]["details"][0]["components"][0]["/"], "/p/*");

    let res = app
        .on_host("app.brand.test", "/.well-known/assetlinks.json")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let assets: Value = res.json().await.unwrap();
    assert_eq!(assets[0]["target"]["package_name"], "com.brand.app");
    assert_eq!(
        assets[0]["target"]["sha256_cert_fingerprints"][0],
        fingerprint
    );

    // Without Android links the file is not there.
    let (status, _) = app
        .put_domain(
            "acme",
            "app.brand.test",
            json!({"appLinks": {"ios": {"appIds": ["ABCDE12345.com.brand.app"]}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .on_host("app.brand.test", "/.well-known/assetlinks.json")
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_daily_recheck_marks_a_lost_record_failing_mails_and_serves_through_the_grace() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    app.put_link(
        "acme",
        "spring",
        json!({"destinationUrl": "https://shop.example/spring"}),
    )
    .await;
    let res = app
        .client
        .put(app.url("/v2/handles/acme/branding"))
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .json(&json!({"name": "Brand", "replyTo": "owner@brand.test"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let (_, claimed) = app.put_domain("acme", "go.brand.test", json!({})).await;
    let value = claimed["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    dns.publish(&[("_tenx.go.brand.test", "TXT", &value)]);
    assert_eq!(
        app.verify_domain("acme", "go.brand.test").await.0,
        StatusCode::OK
    );
    let sweep = || async {
        tenx_shared::runtime::workers::sweeper::handle(&app.state(), &json!({}))
            .await
            .unwrap()
            .domains
    };
    // Checked less than a day ago: nothing to do.
    assert_eq!(sweep().await, 0);

    // The record is gone a day later: failing, mailed once, still served.
    dns.publish(&[]);
    tenx_shared::platform::time::advance(Duration::from_secs(86_400 + 60));
    assert_eq!(sweep().await, 1);
    let (_, body) = app
        .domain_call(reqwest::Method::GET, "acme", "/go.brand.test", None)
        .await;
    assert_eq!(body["status"], "failing", "{body}");
    assert!(body["failingSince"].is_string());
    let mail = app.wait_for_mail(1).await;
    assert_eq!(mail[0].kind, "domain_failing");
    assert_eq!(mail[0].to, "owner@brand.test");
    assert!(mail[0].text.contains(&value), "{}", mail[0].text);
    app.state().domain_cache.invalidate_all();
    assert_eq!(
        app.on_host("go.brand.test", "/spring").await.status(),
        StatusCode::FOUND
    );

    // Still failing the next day: no second mail; past the grace period, no longer served.
    tenx_shared::platform::time::advance(Duration::from_secs(86_400 + 60));
    assert_eq!(sweep().await, 1);
    tenx_shared::platform::time::advance(Duration::from_secs(7 * 86_400));
    app.state().domain_cache.invalidate_all();
    assert_eq!(
        app.on_host("go.brand.test", "/spring").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.sent_mail().len(), 1);

    // The record is back: verified again at the next check, served again.
    dns.publish(&[("_tenx.go.brand.test", "TXT", &value)]);
    assert_eq!(sweep().await, 1);
    app.state().domain_cache.invalidate_all();
    let res = app.on_host("go.brand.test", "/spring").await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn os_in_routes_ios_and_android_to_their_stores_in_the_redirect_and_the_preview() {
    let app = crate::helpers::spawn_app().await;
    let rules = json!([
        {"priority": 1, "destinationUrl": "https://apps.apple.com/app/id1",
         "conditions": {"osIn": ["iOS"]}},
        {"priority": 2, "destinationUrl": "https://play.google.com/store/apps/details?id=x",
         "conditions": {"osIn": ["android"]}},
    ]);
    let res = app
        .put_link(
            "acme",
            "app",
            json!({"destinationUrl": "https://web.example/", "routingRules": rules}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let link: Value = res.json().await.unwrap();
    assert_eq!(link["routingRules"][0]["conditions"]["osIn"][0], "ios");

    let visits = [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
            "https://apps.apple.com/app/id1",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile",
            "https://play.google.com/store/apps/details?id=x",
        ),
        // An iPad asking for the desktop site: a Mac to the server, so the web.
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
            "https://web.example/",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120",
            "https://web.example/",
        ),
    ];
    for (ua, want) in visits {
        let res = app.click("acme", "/app", &[("user-agent", ua)]).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{ua}");
        assert!(location(&res).starts_with(want), "{ua}: {}", location(&res));
    }

    for (os, want, decision) in [
        ("ios", "https://apps.apple.com/app/id1", "rule"),
        (
            "Android",
            "https://play.google.com/store/apps/details?id=x",
            "rule",
        ),
        ("beos", "https://web.example/", "default"),
    ] {
        let res = app
            .client
            .post(app.url("/v2/handles/acme/links/app/route-preview"))
            .bearer_auth(app.token(&["acme"], Role::Creator))
            .json(&json!({"os": os}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["destinationUrl"], want, "{os}");
        assert_eq!(body["decision"], decision, "{os}");
    }

    let res = app
        .put_link(
            "acme",
            "bad",
            json!({"destinationUrl": "https://web.example/", "routingRules": [
                {"priority": 1, "destinationUrl": "https://x.example/", "conditions": {"osIn": ["ipados"]}}
            ]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("routingRules[0].conditions.osIn[0]"),
        "{message}"
    );
}

#[tokio::test]
async fn a_resolver_that_cannot_answer_leaves_the_domain_pending_and_says_so() {
    let dns = DnsServer::start();
    let app = spawn_with_dns(&dns).await;
    let (status, _) = app.put_domain("acme", "go.brand.test", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    dns.publish(&[("_tenx.go.brand.test", "SERVFAIL", "")]);
    let (status, body) = app.verify_domain("acme", "go.brand.test").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not_verified");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("No DNS server answered")
            && message.contains("_tenx.go.brand.test")
            && message.contains("try again in a minute"),
        "{message}"
    );
    // The resolver's own words stay in the log.
    for engineer in ["proto", "io error", "SERVFAIL", "ServFail", "response code"] {
        assert!(!message.contains(engineer), "{message}");
    }
    let (_, body) = app
        .domain_call(reqwest::Method::GET, "acme", "/go.brand.test", None)
        .await;
    assert_eq!(body["status"], "pending");
}
