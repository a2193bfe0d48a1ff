//! A program pulled by API key: Rewardful's lists read page by page from a local server that
//! answers as Rewardful's API v1 documents it (HTTP Basic with the API secret, `?page=&limit=`,
//! `{pagination: {next_page}, data}`, `401` for a wrong key, `429` with `Retry-After`), the
//! same program as its file (`tests/fixtures/imports/rewardful.json`, one item a page here so
//! every list is paged), read by the imports worker after the request's one check of the key.
//! A dry run writes nothing, a re-run creates nothing, a wrong or limited key is said in words
//! before anything starts, and the key is nowhere in what is kept (sealed on the job while the
//! worker reads, gone after). A pull cut between pages or raced by two workers reads each page
//! once; a key revoked or limited once started fails the import in words. The
//! same of FirstPromoter, Tolt and PartnerStack, and Rebrandly's links, each from a local
//! server answering as that tool's API documents it ([`Kind`]; docs/imports.md).
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use tenx_shared::domain::ImportId;
use tenx_shared::imports::pull::Bases;
use tenx_shared::imports::pulled::step_pending;
use tenx_shared::imports::uploads::{Budget, Step};
use tenx_shared::platform::config::Config;
use tenx_shared::runtime::local::Workers;

use crate::helpers::{TestApp, acme, assert_error, json_of, spawn_full, spawn_with, test_config};
use crate::imports::{counts, finished, fixture, target};

const GOOD: &str = "sk_live_good";
/// A key whose every request Rewardful answers `429`.
const LIMITED: &str = "sk_live_limited";

struct Rewardful {
    lists: Value,
    /// The `429`s still to answer the good key's first commissions request.
    throttle: AtomicU32,
    /// Requests of payouts asking for their commissions (`expand[]=commissions`).
    expanded: AtomicU32,
    /// Every key refused (the good one revoked).
    revoked: std::sync::atomic::AtomicBool,
    /// Every request answered `429` (the good key limited for a while).
    limited: std::sync::atomic::AtomicBool,
}

/// `GET /v1/{list}?page=N`: one item a page, the next page named while items remain.
async fn list(
    State(r): State<Arc<Rewardful>>,
    Path(list): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, HeaderMap, axum::Json<Value>) {
    use base64::Engine;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default();
    let mut out = HeaderMap::new();
    let error =
        |status: StatusCode, out: HeaderMap| (status, out, axum::Json(json!({"error": "…"})));
    if auth == format!("{LIMITED}:") || r.limited.load(Ordering::SeqCst) {
        out.insert("retry-after", "0".parse().unwrap());
        return error(StatusCode::TOO_MANY_REQUESTS, out);
    }
    if auth != format!("{GOOD}:") || r.revoked.load(Ordering::SeqCst) {
        return error(StatusCode::UNAUTHORIZED, out);
    }
    if list == "commissions"
        && r.throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        out.insert("retry-after", "0".parse().unwrap());
        return error(StatusCode::TOO_MANY_REQUESTS, out);
    }
    if list == "payouts" && q.get("expand[]").map(String::as_str) == Some("commissions") {
        r.expanded.fetch_add(1, Ordering::SeqCst);
    }
    let items = r.lists[&list].as_array().cloned().unwrap_or_default();
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let data: Vec<Value> = items.get(page - 1).cloned().into_iter().collect();
    let next = (page < items.len()).then_some(page + 1);
    let body = json!({
        "pagination": {"previous_page": null, "current_page": page, "next_page": next,
                       "count": data.len(), "limit": 100, "total_pages": items.len(),
                       "total_count": items.len()},
        "data": data,
    });
    (StatusCode::OK, out, axum::Json(body))
}

/// Rewardful's API on a loopback port, and the app pointed at it.
async fn apps() -> (TestApp, Arc<Rewardful>) {
    apps_with(test_config(), Workers::On).await
}

/// [`apps`] with `config`, its workers on or off.
async fn apps_with(mut config: Config, workers: Workers) -> (TestApp, Arc<Rewardful>) {
    let mut lists: Value = serde_json::from_slice(&fixture("rewardful.json")).unwrap();
    // Jane's due commission is in the payout Rewardful is sending; a pending payout names the
    // same partner's paid one (it changes nothing).
    lists["payouts"] = json!([
        {"id": "po-1", "state": "processing", "currency": "USD", "amount": 2000,
         "commissions": [{"id": "3f1c2b4a-0e9d-4c8b-a7f6-5e4d3c2b1a02"}]},
        {"id": "po-2", "state": "pending", "currency": "USD", "amount": 3000,
         "commissions": [{"id": "3f1c2b4a-0e9d-4c8b-a7f6-5e4d3c2b1a01"}]}
    ]);
    let state = Arc::new(Rewardful {
        lists,
        throttle: AtomicU32::new(2),
        expanded: AtomicU32::new(0),
        revoked: std::sync::atomic::AtomicBool::new(false),
        limited: std::sync::atomic::AtomicBool::new(false),
    });
    let router = axum::Router::new()
        .route("/v1/{list}", axum::routing::get(list))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    config.rewardful_api_base = base;
    (spawn_full(config, None, workers).await, state)
}

async fn pull(app: &TestApp, role: Role, body: &Value) -> reqwest::Response {
    app.as_role("acme", role)
        .send_json(Method::POST, "/imports/pull", body)
        .await
}

async fn pulled(app: &TestApp, body: &Value) -> Value {
    let started = json_of(pull(app, Role::Admin, body).await, 202).await;
    let v = finished(app, started["importId"].as_str().unwrap()).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

#[tokio::test]
async fn a_rewardful_program_pulled_by_its_key_comes_in_as_its_file_would() {
    let (app, rewardful) = apps().await;
    let admin = app.as_role("acme", Role::Admin);
    // What cannot start is said in words, nothing started.
    let wrong = pull(
        &app,
        Role::Admin,
        &json!({"source": "rewardful", "apiKey": "sk_live_wrong"}),
    )
    .await;
    let message = assert_error(wrong, 400, "invalid_request").await;
    assert!(
        message.contains("Rewardful refused this API key"),
        "{message}"
    );
    let limited = pull(
        &app,
        Role::Admin,
        &json!({"source": "rewardful", "apiKey": LIMITED}),
    )
    .await;
    let message = assert_error(limited, 429, "rate_limited").await;
    assert!(message.contains("limiting the requests"), "{message}");
    let r = pull(
        &app,
        Role::Operator,
        &json!({"source": "rewardful", "apiKey": GOOD}),
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;
    let r = pull(
        &app,
        Role::Admin,
        &json!({"source": "bitly", "apiKey": GOOD}),
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("not available yet"), "{message}");

    // Paged, its 429s waited out: the same program as the file.
    let dry = pulled(
        &app,
        &json!({"source": "rewardful", "apiKey": GOOD, "dryRun": true}),
    )
    .await;
    assert_eq!(
        rewardful.throttle.load(Ordering::SeqCst),
        0,
        "the 429s were not met"
    );
    assert_eq!(counts(&dry), [6, 0, 0, 2], "{dry}");
    assert_eq!(dry["errors"].as_array().unwrap().len(), 2, "{dry}");
    assert_eq!(
        admin.get("/partners/jane").await.status(),
        404,
        "the dry run wrote jane"
    );
    let v = pulled(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    assert_eq!(counts(&v), [6, 0, 0, 2], "{v}");
    let jane = json_of(admin.get("/partners/jane").await, 200).await;
    assert_eq!(jane["name"], "Jane Doe");
    // Its due commission is in the payout Rewardful is sending: paid there, never here.
    assert!(
        rewardful.expanded.load(Ordering::SeqCst) > 0,
        "payouts without their commissions"
    );
    let lines = json_of(admin.get("/commissions?partnerId=jane").await, 200).await;
    let statuses: Vec<&str> = lines["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["paid", "paid"], "{lines}");
    let again = pulled(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    assert_eq!(counts(&again)[0], 0, "a re-run created again: {again}");
    // The key is nowhere in what the import kept.
    for report in [&dry, &v, &again] {
        assert!(!report.to_string().contains(GOOD), "{report}");
    }
    let log = json_of(admin.get("/audit?limit=100").await, 200).await;
    assert!(
        !log.to_string().contains(GOOD),
        "the audit log holds the key"
    );
}

/// The tools below: how each documents its auth, paging and answers (docs/imports.md).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `Authorization: Bearer`, `Account-ID`, `?page=&per_page=`, `{data, meta}`; a `429`
    /// without `Retry-After`.
    FirstPromoter,
    /// `Authorization: Bearer`, `?program_id=&limit=&starting_after=`, `{success, has_more,
    /// data}`; a `429` without `Retry-After`.
    Tolt,
    /// HTTP Basic `public:secret`, `?limit=&starting_after={key}`, `{data: {has_more, items}}`.
    PartnerStack,
    /// `apikey`, `?limit=&last=`, the list itself.
    Rebrandly,
}

const ACCOUNT: &str = "fp_account_42";
const PROGRAM: &str = "prg_1";
const PUBLIC: &str = "pk_public";
/// A key whose every list never ends (`has_more` always, a new item a page).
const ENDLESS: &str = "sk_endless";

struct Tool {
    kind: Kind,
    /// Each list's items, from the tool's fixture.
    lists: Value,
    /// The `429`s still to answer the good key's first request of commissions (rewards, links).
    throttle: AtomicU32,
    /// Requests answered, to prove a refused pull stopped at its first.
    requests: AtomicU32,
}

impl Tool {
    /// The key of a request sent as the tool takes it, with its account, program or public key
    /// right (a limited key is limited whatever its scope).
    fn authorized(&self, headers: &HeaderMap, q: &HashMap<String, String>) -> Option<String> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (key, scoped) = match self.kind {
            Kind::Rebrandly => (header("apikey")?, true),
            Kind::PartnerStack => {
                use base64::Engine;
                let basic = header("authorization")?;
                let pair = base64::engine::general_purpose::STANDARD
                    .decode(basic.strip_prefix("Basic ")?)
                    .ok()?;
                let pair = String::from_utf8(pair).ok()?;
                let (public, secret) = pair.split_once(':')?;
                (secret.to_owned(), public == PUBLIC)
            }
            Kind::FirstPromoter | Kind::Tolt => {
                let key = header("authorization")?.strip_prefix("Bearer ")?.to_owned();
                let scoped = match self.kind {
                    Kind::FirstPromoter => header("account-id").as_deref() == Some(ACCOUNT),
                    _ => q.get("program_id").map(String::as_str) == Some(PROGRAM),
                };
                (key, scoped)
            }
        };
        (scoped || key == LIMITED).then_some(key)
    }

    /// One page of `items`, one item a page, in the tool's own shape.
    fn page(&self, items: &[Value], q: &HashMap<String, String>) -> Value {
        let after = |param: &str, id: &str| {
            q.get(param).map_or(0, |after| {
                let at = items.iter().position(|i| i[id].as_str() == Some(after));
                at.unwrap() + 1
            })
        };
        let at = match self.kind {
            Kind::FirstPromoter => q.get("page").map_or(1, |p| p.parse::<usize>().unwrap()) - 1,
            Kind::Tolt => after("starting_after", "id"),
            Kind::PartnerStack => after("starting_after", "key"),
            Kind::Rebrandly => after("last", "id"),
        };
        let data: Vec<Value> = items.get(at).cloned().into_iter().collect();
        self.page_of(Value::Array(data), at + 1 < items.len())
    }

    fn page_of(&self, data: Value, more: bool) -> Value {
        match self.kind {
            Kind::FirstPromoter => json!({"data": data, "meta": {"pending_count": 0}}),
            Kind::Tolt => json!({"success": true, "has_more": more, "data": data}),
            Kind::PartnerStack => json!({"data": {"has_more": more, "items": data},
                                         "message": "Page returned successfully", "status": 200}),
            Kind::Rebrandly => data,
        }
    }
}

async fn tool_list(
    State(t): State<Arc<Tool>>,
    Path(list): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, axum::Json<Value>) {
    t.requests.fetch_add(1, Ordering::SeqCst);
    let error = |status: StatusCode| {
        (
            status,
            axum::Json(json!({"success": false, "error": {"message": "…"}})),
        )
    };
    let Some(key) = t.authorized(&headers, &q) else {
        return error(StatusCode::UNAUTHORIZED);
    };
    if key == LIMITED {
        return error(StatusCode::TOO_MANY_REQUESTS);
    }
    if key == ENDLESS {
        let n = t.requests.load(Ordering::SeqCst);
        let item = json!([{"id": format!("part_{n}"), "key": format!("part_{n}")}]);
        return (StatusCode::OK, axum::Json(t.page_of(item, true)));
    }
    if key != GOOD {
        return error(StatusCode::UNAUTHORIZED);
    }
    let throttled = match t.kind {
        Kind::Rebrandly => "links",
        Kind::PartnerStack => "rewards",
        _ => "commissions",
    };
    if list == throttled
        && t.throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        return error(StatusCode::TOO_MANY_REQUESTS);
    }
    let items = t.lists[&list].as_array().cloned().unwrap_or_default();
    (StatusCode::OK, axum::Json(t.page(&items, &q)))
}

/// The tool's API on a loopback port, serving `file`'s lists (each a list, or its whole answer:
/// `{data: [...]}`, PartnerStack's `{data: {items}}`), and the app pointed at it.
async fn tool_app(kind: Kind, file: &str) -> (TestApp, Arc<Tool>) {
    let fixture: Value = serde_json::from_slice(&fixture(file)).unwrap();
    let lists = match &fixture {
        Value::Array(links) => json!({"links": links}),
        Value::Object(lists) => Value::Object(
            lists
                .iter()
                .map(|(k, v)| {
                    let items = v.pointer("/data/items").or(v.get("data")).unwrap_or(v);
                    (k.clone(), items.clone())
                })
                .collect(),
        ),
        _ => unreachable!(),
    };
    let state = Arc::new(Tool {
        kind,
        lists,
        throttle: AtomicU32::new(1),
        requests: AtomicU32::new(0),
    });
    let path = match kind {
        Kind::FirstPromoter => "/api/v2/company/{list}",
        Kind::PartnerStack => "/api/v2/{list}",
        Kind::Tolt | Kind::Rebrandly => "/v1/{list}",
    };
    let router = axum::Router::new()
        .route(path, axum::routing::get(tool_list))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut config = test_config();
    match kind {
        Kind::FirstPromoter => config.firstpromoter_api_base = base,
        Kind::Tolt => config.tolt_api_base = base,
        Kind::PartnerStack => config.partnerstack_api_base = base,
        Kind::Rebrandly => config.rebrandly_api_base = base,
    }
    (spawn_with(config, None).await, state)
}

/// A refused pull, said in words, answered before anything was read past the first request.
async fn refused(app: &TestApp, tool: &Tool, body: Value, status: u16, code: &str, words: &str) {
    let before = tool.requests.load(Ordering::SeqCst);
    let message = assert_error(pull(app, Role::Admin, &body).await, status, code).await;
    assert!(message.contains(words), "{message}");
    assert!(
        tool.requests.load(Ordering::SeqCst) - before <= 4,
        "{message}"
    );
}

/// A program pulled: paged and its `429` waited out, the same as its file (`counts`), a dry
/// run writing nothing, a re-run creating nothing, the key kept nowhere.
async fn pulled_as_its_file(
    app: &TestApp,
    tool: &Tool,
    body: Value,
    counts_of_file: [u64; 4],
    partner: &str,
) {
    let admin = app.as_role("acme", Role::Admin);
    let mut dry_body = body.clone();
    dry_body["dryRun"] = json!(true);
    let dry = pulled(app, &dry_body).await;
    assert_eq!(
        tool.throttle.load(Ordering::SeqCst),
        0,
        "the 429 was not met"
    );
    assert_eq!(counts(&dry), counts_of_file, "{dry}");
    assert_eq!(
        admin.get(&format!("/partners/{partner}")).await.status(),
        404,
        "the dry run wrote"
    );
    let v = pulled(app, &body).await;
    assert_eq!(counts(&v), counts_of_file, "{v}");
    assert_eq!(
        admin.get(&format!("/partners/{partner}")).await.status(),
        200
    );
    let again = pulled(app, &body).await;
    assert_eq!(counts(&again)[0], 0, "a re-run created again: {again}");
    for report in [&dry, &v, &again] {
        assert!(!report.to_string().contains(GOOD), "{report}");
    }
    let log = json_of(admin.get("/audit?limit=100").await, 200).await;
    assert!(
        !log.to_string().contains(GOOD),
        "the audit log holds the key"
    );
}

#[tokio::test]
async fn a_firstpromoter_program_pulled_by_its_key_and_account_comes_in_as_its_file_would() {
    let (app, fp) = tool_app(Kind::FirstPromoter, "firstpromoter.json").await;
    let body = |key: &str, account: Option<&str>| json!({"source": "firstpromoter", "apiKey": key, "accountId": account});
    refused(
        &app,
        &fp,
        body(GOOD, None),
        400,
        "invalid_request",
        "accountId: FirstPromoter's Account ID",
    )
    .await;
    assert_eq!(
        fp.requests.load(Ordering::SeqCst),
        0,
        "asked without the account"
    );
    refused(
        &app,
        &fp,
        body("wrong", Some(ACCOUNT)),
        400,
        "invalid_request",
        "FirstPromoter refused this API key",
    )
    .await;
    refused(
        &app,
        &fp,
        body(GOOD, Some("another")),
        400,
        "invalid_request",
        "accountId",
    )
    .await;
    // The file's counts (tests/api/imports_programs.rs): 7 in, the refused email and amount.
    pulled_as_its_file(&app, &fp, body(GOOD, Some(ACCOUNT)), [7, 0, 0, 2], "lena").await;
}

#[tokio::test]
async fn a_tolt_program_pulled_by_its_key_and_program_comes_in_as_its_file_would() {
    let (app, tolt) = tool_app(Kind::Tolt, "tolt.json").await;
    let body = |key: &str, program: Option<&str>| json!({"source": "tolt", "apiKey": key, "programId": program});
    refused(
        &app,
        &tolt,
        body(GOOD, None),
        400,
        "invalid_request",
        "programId: Tolt's program id",
    )
    .await;
    refused(
        &app,
        &tolt,
        body("wrong", Some(PROGRAM)),
        400,
        "invalid_request",
        "Tolt refused this API key",
    )
    .await;
    // A key Tolt keeps limiting: its backoff taken, then said in words.
    refused(
        &app,
        &tolt,
        body(LIMITED, Some(PROGRAM)),
        429,
        "rate_limited",
        "Tolt is limiting the requests",
    )
    .await;
    let r = pull(&app, Role::Operator, &body(GOOD, Some(PROGRAM))).await;
    assert_error(r, 403, "insufficient_role").await;
    // A program larger than a pull reads: the key checked, then the worker's 1,000 requests
    // made, and the import failed in words.
    let before = tolt.requests.load(Ordering::SeqCst);
    let r = pull(&app, Role::Admin, &body(ENDLESS, Some(PROGRAM))).await;
    let started = json_of(r, 202).await;
    let v = finished(&app, started["importId"].as_str().unwrap()).await;
    assert_eq!(v["status"], "failed", "{v}");
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("more than 1000 pages"), "{message}");
    assert_eq!(tolt.requests.load(Ordering::SeqCst) - before, 1 + 1_000);
    pulled_as_its_file(&app, &tolt, body(GOOD, Some(PROGRAM)), [7, 0, 0, 1], "sam").await;
}

#[tokio::test]
async fn a_partnerstack_program_pulled_by_its_key_pair_comes_in_as_its_file_would() {
    let (app, ps) = tool_app(Kind::PartnerStack, "partnerstack.json").await;
    let body = |secret: &str, public: Option<&str>| json!({"source": "partnerstack", "apiKey": secret, "publicKey": public});
    refused(
        &app,
        &ps,
        body(GOOD, None),
        400,
        "invalid_request",
        "publicKey: PartnerStack's public key",
    )
    .await;
    assert_eq!(
        ps.requests.load(Ordering::SeqCst),
        0,
        "asked without the public key"
    );
    refused(
        &app,
        &ps,
        body("wrong", Some(PUBLIC)),
        400,
        "invalid_request",
        "PartnerStack refused this API key",
    )
    .await;
    refused(
        &app,
        &ps,
        body(GOOD, Some("pk_another")),
        400,
        "invalid_request",
        "publicKey",
    )
    .await;
    // The file's counts (tests/api/imports_programs.rs): 6 in, a customer and a reward refused.
    pulled_as_its_file(&app, &ps, body(GOOD, Some(PUBLIC)), [6, 0, 0, 2], "maria").await;
}

#[tokio::test]
async fn rebrandly_links_pulled_by_its_key_redirect_as_its_file_would() {
    let (app, rebrandly) = tool_app(Kind::Rebrandly, "rebrandly.json").await;
    let wrong = json!({"source": "rebrandly", "apiKey": "wrong"});
    let before = rebrandly.requests.load(Ordering::SeqCst);
    let message = assert_error(
        pull(&app, Role::Operator, &wrong).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("Rebrandly refused this API key"),
        "{message}"
    );
    assert_eq!(rebrandly.requests.load(Ordering::SeqCst) - before, 1);
    // Links are an operator's import; its pages of one link each, its 429 waited out.
    let good = json!({"source": "rebrandly", "apiKey": GOOD});
    let started = json_of(pull(&app, Role::Operator, &good).await, 202).await;
    let v = finished(&app, started["importId"].as_str().unwrap()).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(counts(&v), [2, 0, 0, 0], "{v}");
    assert_eq!(
        rebrandly.throttle.load(Ordering::SeqCst),
        0,
        "the 429 was not met"
    );
    assert_eq!(
        target(&app, "acme", "/BlackFriday").await.as_deref(),
        Some("https://shop.example/black-friday")
    );
    assert_eq!(
        target(&app, "acme", "/news-2026").await.as_deref(),
        Some("https://shop.example/news")
    );
    let again = json_of(pull(&app, Role::Operator, &good).await, 202).await;
    let again = finished(&app, again["importId"].as_str().unwrap()).await;
    assert_eq!(counts(&again), [0, 0, 2, 0], "{again}");
    assert!(!again.to_string().contains(GOOD));
}

/// One invocation's pull step, as the worker takes it, with `budget`.
async fn step(app: &TestApp, id: &ImportId, budget: Budget) -> Step {
    let state = app.state();
    let keyring = state.payout_key().ok();
    let bases = Bases::of(&app.config);
    step_pending(state.io(), keyring, &bases, &acme(), id, budget)
        .await
        .expect("a step")
}

/// The pages the job records as read (`None`: no longer pulling).
async fn pages_read(app: &TestApp, id: &ImportId) -> Option<u64> {
    let job = tenx_shared::imports::get(app.store.as_ref(), &acme(), id)
        .await
        .unwrap();
    job.pending_pull.map(|p| p.at.pages)
}

/// The worker's chunk writes, to the end; the report.
async fn write_all(app: &TestApp, id: &ImportId) -> Value {
    let progress = crate::imports::write_chunks(app, id, usize::MAX).await;
    assert_eq!(progress, tenx_shared::imports::run::Progress::Finished);
    finished(app, id.as_str()).await
}

async fn started_pull(app: &TestApp, body: &Value) -> ImportId {
    let v = json_of(pull(app, Role::Admin, body).await, 202).await;
    ImportId::parse(v["importId"].as_str().unwrap()).unwrap()
}

/// A pull read by the worker a few pages per invocation (its 202 answered after one request):
/// its progress readable while it reads, the key sealed on the job meanwhile and gone after; a
/// step cut off after putting a page but before recording it (a killed worker) reads that page
/// again into the same piece, and two workers stepping one pull at once read each page into
/// the import once: the program's exact counts, each partner once.
#[tokio::test]
async fn a_pull_cut_between_pages_or_raced_by_two_workers_reads_each_page_once() {
    let mut config = test_config();
    config.import_staging_chunks = Some(2);
    let (app, _rewardful) = apps_with(config, Workers::Off).await;
    let admin = app.as_role("acme", Role::Admin);
    let id = started_pull(
        &app,
        &json!({"source": "rewardful", "apiKey": GOOD, "dryRun": true}),
    )
    .await;
    let budget = Budget::of(&app.config);
    assert_eq!(step(&app, &id, budget).await, Step::Paused);
    assert_eq!(pages_read(&app, &id).await, Some(2));
    let v = json_of(admin.get(&format!("/imports/{id}")).await, 200).await;
    assert_eq!(v["status"], "running", "{v}");
    assert_eq!(v["pulling"], json!({"pages": 2, "items": 2}), "{v}");
    // The key is sealed on the job, never in the clear.
    let (pk, sk) = tenx_shared::platform::store::keys::import_job(&acme(), id.as_str());
    let raw = app.store.get(&pk, &sk).await.unwrap().unwrap();
    let raw = serde_json::to_string(&raw.parse::<Value>().unwrap()).unwrap();
    assert!(raw.contains("pendingPull") && !raw.contains(GOOD), "{raw}");

    // A step cut off once it has put page 4's piece: polled a step at a time and dropped.
    let unbounded = Budget {
        time: std::time::Duration::from_secs(600),
        chunks: None,
    };
    let (pk4, sk4) = tenx_shared::platform::store::keys::import_pull_piece(&acme(), id.as_str(), 4);
    let mut stepping = Box::pin(step(&app, &id, unbounded));
    loop {
        if let std::task::Poll::Ready(s) = futures::poll!(stepping.as_mut()) {
            panic!("not cut off: {s:?}");
        }
        if app.store.get(&pk4, &sk4).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    drop(stepping);
    let cut_at = pages_read(&app, &id).await.expect("still pulling");
    assert!((4..=5).contains(&cut_at), "{cut_at}");
    // The message comes back: the pull resumes from the page recorded, to the end.
    let mut paused = 0;
    while step(&app, &id, budget).await == Step::Paused {
        paused += 1;
        assert!(paused < 50, "the pull does not get on");
    }
    assert!(paused >= 1, "{paused}");
    assert_eq!(pages_read(&app, &id).await, None);
    let dry = write_all(&app, &id).await;
    assert_eq!(counts(&dry), [6, 0, 0, 2], "{dry}");
    assert_eq!(dry["errors"].as_array().unwrap().len(), 2, "{dry}");
    assert!(dry.get("pulling").is_none(), "{dry}");
    // The pages read are deleted with the key.
    let (pk0, sk0) = tenx_shared::platform::store::keys::import_pull_piece(&acme(), id.as_str(), 0);
    assert!(app.store.get(&pk0, &sk0).await.unwrap().is_none());
    let raw = app.store.get(&pk, &sk).await.unwrap().unwrap();
    let raw = serde_json::to_string(&raw.parse::<Value>().unwrap()).unwrap();
    assert!(!raw.contains("pendingPull"), "{raw}");

    // Two workers on one pull at once, for real: each page read into the import once.
    let id = started_pull(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    let mut invocations = 0;
    loop {
        let (a, b) = tokio::join!(step(&app, &id, budget), step(&app, &id, budget));
        invocations += 1;
        assert!(invocations < 50, "the pull does not get on");
        if a == Step::Ready && b == Step::Ready {
            break;
        }
    }
    assert!(invocations >= 3, "{invocations}");
    let done = write_all(&app, &id).await;
    assert_eq!(counts(&done), [6, 0, 0, 2], "{done}");
    let partners = json_of(admin.get("/partners?limit=100").await, 200).await;
    let names: Vec<&str> = partners["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "{names:?}");
    assert!(names.contains(&"Jane Doe"), "{names:?}");
}

/// A key the tool refuses once the worker reads (revoked meanwhile) fails the import in words at
/// once, the key forgotten; a key it keeps limiting is asked again by the next steps, then
/// fails the import in words; a limit that lifts between steps lets the pull go on.
#[tokio::test]
async fn a_key_refused_or_limited_while_the_worker_reads_fails_the_import_in_words() {
    let (app, rewardful) = apps_with(test_config(), Workers::Off).await;
    let id = started_pull(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    // Revoked: the tool now refuses the good key too (its lists emptied of the key's access).
    rewardful.revoked.store(true, Ordering::SeqCst);
    let unbounded = Budget {
        time: std::time::Duration::from_secs(600),
        chunks: None,
    };
    assert_eq!(step(&app, &id, unbounded).await, Step::Ready);
    let v = finished(&app, id.as_str()).await;
    assert_eq!(v["status"], "failed", "{v}");
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Rewardful refused this API key"),
        "{message}"
    );
    assert_eq!(pages_read(&app, &id).await, None, "the key was kept");
    // The handle is free again. A key the tool keeps limiting once the worker reads is asked
    // again by the next steps, then fails the import in words.
    rewardful.revoked.store(false, Ordering::SeqCst);
    let id = started_pull(&app, &json!({"source": "rewardful", "apiKey": GOOD})).await;
    rewardful.limited.store(true, Ordering::SeqCst);
    let mut stalled = 0;
    while step(&app, &id, unbounded).await == Step::Paused {
        stalled += 1;
        assert!(stalled < 10, "a limited key is asked forever");
    }
    assert_eq!(stalled, tenx_shared::imports::pulled::STALLS - 1);
    let v = finished(&app, id.as_str()).await;
    assert_eq!(v["status"], "failed", "{v}");
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("limiting the requests"), "{message}");
    assert!(!v.to_string().contains(GOOD), "{v}");
    // A limit that lifts between steps: the pull goes on where it stood.
    rewardful.limited.store(false, Ordering::SeqCst);
    let id = started_pull(
        &app,
        &json!({"source": "rewardful", "apiKey": GOOD, "dryRun": true}),
    )
    .await;
    rewardful.limited.store(true, Ordering::SeqCst);
    assert_eq!(step(&app, &id, unbounded).await, Step::Paused);
    rewardful.limited.store(false, Ordering::SeqCst);
    assert_eq!(step(&app, &id, unbounded).await, Step::Ready);
    let dry = write_all(&app, &id).await;
    assert_eq!(counts(&dry), [6, 0, 0, 2], "{dry}");
}
