//! Dub Partners, as a manager leaving Dub has it: its dashboard's partners, commissions and
//! payouts CSVs in one zip (`format=zip`; columns as Dub's public code writes them: money as
//! `$1,234.50` or, before April 2026, integer cents, cells guarded by `'`), or its program
//! pulled by the workspace's API key from a local server answering as Dub's API documents it
//! (its OpenAPI in dubinc/dub: `GET /{partners|customers|commissions|payouts}?page=&pageSize=`,
//! Bearer key, the list itself as the answer, `401` for a wrong key, `429` whose `Retry-After`
//! is the reset time in Unix milliseconds). A processed commission Dub is paying now comes in
//! paid, never paid again; each refused row is named by its file and line; a zip with another
//! file, a file missing or cut short is refused in words before anything is written.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, json_of, spawn_app, spawn_with, test_config};
use crate::imports::{counts, finished, fixture, post_import};

const PARTNERS: &str = "ID,Name,Email,Country,Status,Group,Enrolled at,Payouts enabled at\n\
pn_kim,Kim Lee,kim@partner.example,US,approved,Default,2026-01-02T00:00:00.000Z,\n\
pn_noor,Noor Aziz,noor@partner.example,FR,approved,Default,2026-02-02T00:00:00.000Z,\n\
pn_ana,Ana Ruiz,ana@partner.example,ES,approved,Default,2026-02-03T00:00:00.000Z,\n";

/// Saved again by Excel in Europe: semicolons. Line 6's earnings are guarded (`'-`), line 7
/// names no partner of the file, line 8 is processed for a partner with a payout on its way
/// and another pending.
const COMMISSIONS: &str = "id;type;amount;earnings;currency;status;invoiceId;quantity;createdAt;partnerId;customerId;customerEmail;customerExternalId\n\
cm_1;sale;$100.00;$1,234.50;usd;paid;;1;2026-03-01T00:00:00.000Z;pn_kim;cus_1;buyer@example.com;user_42\n\
cm_2;sale;5000;1500;usd;processed;;1;2026-02-01T00:00:00.000Z;pn_kim;;;\n\
cm_3;sale;$20.00;$6.00;usd;processed;;1;2026-03-02T00:00:00.000Z;pn_noor;;;\n\
cm_4;sale;$20.00;$6.00;usd;refunded;;1;2026-03-03T00:00:00.000Z;pn_noor;;;\n\
cm_5;sale;$20.00;'-$6.00;usd;pending;;1;2026-03-04T00:00:00.000Z;pn_noor;;;\n\
cm_6;sale;$20.00;$6.00;usd;paid;;1;2026-03-05T00:00:00.000Z;pn_ghost;;;\n\
cm_7;sale;$1.00;$0.50;usd;processed;;1;2026-03-06T00:00:00.000Z;pn_ana;;;\n";

/// Kim's payout is being sent (its processed commission is paid by Dub), Noor's pending (owed
/// here), Ana has one of each; line 6's status is none of Dub's.
const PAYOUTS: &str = "id,amount,currency,status,periodStart,periodEnd,initiatedAt,paidAt,partnerId\n\
po_1,$15.00,usd,sent,,,2026-03-10T00:00:00.000Z,,pn_kim\n\
po_2,600,usd,pending,,,,,pn_noor\n\
po_3,$1.00,usd,sent,,,2026-03-10T00:00:00.000Z,,pn_ana\n\
po_4,$2.00,usd,pending,,,,,pn_ana\n\
po_5,$3.00,usd,lost,,,,,pn_kim\n";

fn utf8_bom(text: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        out.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(body).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Dub's three exports as downloaded, in a folder of the zip, with what macOS adds beside them.
fn export() -> Vec<u8> {
    zip_of(&[
        ("dub/partners.csv", utf8_bom(PARTNERS)),
        ("dub/commissions.csv", COMMISSIONS.as_bytes().to_vec()),
        ("dub/payouts.csv", utf16le_bom(PAYOUTS)),
        ("__MACOSX/dub/._partners.csv", b"\0\x05\x16\x07".to_vec()),
    ])
}

async fn imported(app: &TestApp, body: Vec<u8>, dry: bool) -> Value {
    let query = format!(
        "source=dub-partners&format=zip{}",
        if dry { "&dryRun=true" } else { "" }
    );
    let r = post_import(app, "acme", &query, "application/zip", body, Role::Admin).await;
    let started = json_of(r, 202).await;
    let v = finished(app, started["importId"].as_str().unwrap()).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

/// The report's refused rows as (file, line, field), in the order it gives them.
fn refused(v: &Value) -> Vec<(String, u64, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap_or("").to_owned(),
                e["line"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The imported lines' statuses of `partner`, sorted.
async fn statuses(app: &TestApp, partner: &str) -> Vec<String> {
    let op = app.as_role("acme", Role::Operator);
    let lines = json_of(
        op.get(&format!("/commissions?partnerId={partner}")).await,
        200,
    )
    .await;
    let mut got: Vec<String> = lines["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["kind"], "imported", "{l}");
            l["status"].as_str().unwrap().to_owned()
        })
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn dub_partners_zip_comes_in_with_both_money_styles_its_guards_undone_and_rows_named_by_file_and_line()
 {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let r = post_import(
        &app,
        "acme",
        "source=dub-partners&format=zip",
        "application/zip",
        export(),
        Role::Operator,
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;

    // 3 partners and 4 commissions in; the 4 payouts read are skipped; 3 commissions and a
    // payout refused. (Commission line 2's customer is not taken: Dub's partners export has no
    // links to bind it on.)
    let want_counts = [7, 0, 4, 4];
    let want_refused = vec![
        ("commissions.csv".to_owned(), 6, "earnings".to_owned()),
        ("commissions.csv".to_owned(), 7, "partnerId".to_owned()),
        ("commissions.csv".to_owned(), 8, "status".to_owned()),
        ("payouts.csv".to_owned(), 6, "status".to_owned()),
    ];
    let dry = imported(&app, export(), true).await;
    assert_eq!(counts(&dry), want_counts, "{dry}");
    assert_eq!(refused(&dry), want_refused, "{dry}");
    assert_eq!(
        op.get("/partners/pn_kim").await.status(),
        404,
        "the dry run wrote"
    );

    let v = imported(&app, export(), false).await;
    assert_eq!(counts(&v), want_counts, "{v}");
    assert_eq!(refused(&v), want_refused, "{v}");
    let words: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    // The guard undone: `'-$6.00` is a negative amount, not a cell that is no amount.
    assert!(words[0].contains("must not be negative"), "{v}");
    assert!(words[1].contains("pn_ghost"), "{v}");
    assert!(words[2].contains("another is pending"), "{v}");
    assert!(words[3].contains("'lost' is not one of"), "{v}");
    let kim = json_of(op.get("/partners/pn_kim").await, 200).await;
    assert_eq!(kim["name"], "Kim Lee", "{kim}");
    // Kim's processed commission is in the payout Dub is sending: paid there, not here.
    assert_eq!(statuses(&app, "pn_kim").await, ["paid", "paid"]);
    assert_eq!(statuses(&app, "pn_noor").await, ["approved", "rejected"]);
    assert!(statuses(&app, "pn_ana").await.is_empty());
    let lines = json_of(op.get("/commissions?partnerId=pn_kim").await, 200).await;
    let mut amounts: Vec<&str> = lines["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, ["1234.50", "15.00"], "{lines}");

    // A re-run changes nothing.
    let again = imported(&app, export(), false).await;
    assert_eq!(counts(&again), [0, 0, 11, 4], "{again}");
    assert_eq!(statuses(&app, "pn_kim").await, ["paid", "paid"]);
    // The payout run pays what Dub owed (Noor's processed $6.00), never what Dub paid.
    let period = json!({"partnerId": "pn_noor",
                        "periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("after-dub", &period).await, 201).await;
    assert_eq!(run["payouts"][0]["amount"], "6.00", "{run}");
    assert_eq!(run["payouts"][0]["commissionCount"], 1, "{run}");
    let period = json!({"partnerId": "pn_kim",
                        "periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("after-dub-kim", &period).await, 201).await;
    assert_eq!(
        run["payouts"],
        json!([]),
        "Kim's paid lines paid again: {run}"
    );
    crate::commissions::no_drift(&app).await;
}

/// A refused zip, said in words; nothing of it written (no import started, no partner).
async fn refused_zip(app: &TestApp, body: Vec<u8>, words: &str) {
    let r = post_import(
        app,
        "acme",
        "source=dub-partners&format=zip",
        "application/zip",
        body,
        Role::Admin,
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains(words), "{words} in: {message}");
    let op = app.as_role("acme", Role::Operator);
    assert_eq!(op.get("/partners/pn_kim").await.status(), 404, "{message}");
}

#[tokio::test]
async fn a_zip_with_another_file_a_file_missing_or_cut_short_is_refused_in_words_before_anything_is_written()
 {
    let app = spawn_app().await;
    let three = || {
        vec![
            ("partners.csv", PARTNERS.as_bytes().to_vec()),
            ("commissions.csv", COMMISSIONS.as_bytes().to_vec()),
            ("payouts.csv", PAYOUTS.as_bytes().to_vec()),
        ]
    };
    let mut extra = three();
    extra.push(("links.csv", b"Short link,Destination URL\nx,y\n".to_vec()));
    refused_zip(&app, zip_of(&extra), "links.csv, which is none of Dub's").await;
    let missing = three().into_iter().take(2).collect::<Vec<_>>();
    refused_zip(&app, zip_of(&missing), "lacks Dub's payouts CSV").await;
    let mut twice = three();
    twice.push(("partners (1).csv", PARTNERS.as_bytes().to_vec()));
    refused_zip(&app, zip_of(&twice), "two partners files").await;
    let mut cut = zip_of(&three());
    cut.truncate(cut.len() - 40);
    refused_zip(&app, cut, "cut short").await;
    let mut cut_csv = three();
    cut_csv[0].1 = b"ID,Name,Email,Country,Status\npn_kim,Kim Lee".to_vec();
    refused_zip(
        &app,
        zip_of(&cut_csv),
        "partners.csv ends in the middle of line 2",
    )
    .await;
    let mut no_partner_column = three();
    no_partner_column[2].1 =
        b"id,amount,currency,status,periodStart\npo_1,$1.00,usd,sent,\n".to_vec();
    refused_zip(
        &app,
        zip_of(&no_partner_column),
        "payouts.csv has no Partner ID column",
    )
    .await;
    refused_zip(&app, b"ID,Name\n".to_vec(), "not a zip").await;
    // A zip is Dub Partners' alone, and Dub Partners' CSVs come zipped.
    let r = post_import(
        &app,
        "acme",
        "source=bitly&format=zip",
        "application/zip",
        zip_of(&three()),
        Role::Admin,
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(
        message.contains("Only Dub Partners' export comes as a zip"),
        "{message}"
    );
    let r = post_import(
        &app,
        "acme",
        "source=dub-partners",
        "text/csv",
        PARTNERS.as_bytes().to_vec(),
        Role::Admin,
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("in one zip (format=zip)"), "{message}");
}

/// A zip bomb: a partners CSV of 80 MiB (long rows, all alike) deflated to a few hundred KB,
/// beside Dub's two other files.
fn zip_bomb() -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    out.start_file("partners.csv", options).unwrap();
    out.write_all(b"ID,Name,Email\n").unwrap();
    let row = format!("pn_kim,{},kim@partner.example\n", "K".repeat(10_000));
    let block = row.repeat(1024 * 1024 / row.len());
    for _ in 0..80 {
        out.write_all(block.as_bytes()).unwrap();
    }
    for (name, body) in [("commissions.csv", COMMISSIONS), ("payouts.csv", PAYOUTS)] {
        out.start_file(name, options).unwrap();
        out.write_all(body.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_zip_bomb_is_refused_in_words_naming_the_limit_before_it_is_unpacked() {
    let app = spawn_app().await;
    let bomb = zip_bomb();
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    refused_zip(
        &app,
        bomb,
        "The zip's CSVs unpack to more than 64 MiB, the most one import reads",
    )
    .await;
}

const GOOD: &str = "dub_good";
const LIMITED: &str = "dub_limited";

/// Dub's API: the program's lists, and when the throttled request was answered `429` with the
/// time (Unix ms) it said to wait until.
struct Dub {
    lists: Value,
    throttle: AtomicU32,
    requests: AtomicU32,
    reset: Mutex<Option<u128>>,
    waited: Mutex<Option<bool>>,
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// `GET /{list}?page=N&pageSize=M`: one item a page (the list itself), `[]` past the end.
async fn dub_list(
    State(d): State<Arc<Dub>>,
    Path(list): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, HeaderMap, axum::Json<Value>) {
    d.requests.fetch_add(1, Ordering::SeqCst);
    let mut out = HeaderMap::new();
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let limited = |out: &mut HeaderMap, until: u128| {
        out.insert("retry-after", until.to_string().parse().unwrap());
        let body =
            json!({"error": {"code": "rate_limit_exceeded", "message": "Too many requests."}});
        (StatusCode::TOO_MANY_REQUESTS, axum::Json(body))
    };
    if key == LIMITED {
        let (s, b) = limited(&mut out, now_ms() + 50);
        return (s, out, b);
    }
    if key != GOOD {
        let body =
            json!({"error": {"code": "unauthorized", "message": "Unauthorized: Invalid API key."}});
        return (StatusCode::UNAUTHORIZED, out, axum::Json(body));
    }
    if list == "commissions" {
        if let Some(reset) = *d.reset.lock().unwrap() {
            d.waited.lock().unwrap().get_or_insert(now_ms() >= reset);
        }
        if d.throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            let reset = now_ms() + 1_200;
            *d.reset.lock().unwrap() = Some(reset);
            let (s, b) = limited(&mut out, reset);
            return (s, out, b);
        }
    }
    assert_eq!(q.get("pageSize").map(String::as_str), Some("100"));
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let items = d.lists[&list].as_array().cloned().unwrap_or_default();
    let data: Vec<Value> = items.get(page - 1).cloned().into_iter().collect();
    (StatusCode::OK, out, axum::Json(Value::Array(data)))
}

/// Dub's API on a loopback port serving the program of `dub-partners.json`, with Kim's payout
/// being sent, and the app pointed at it.
async fn dub_app() -> (TestApp, Arc<Dub>) {
    let mut lists: Value = serde_json::from_slice(&fixture("dub-partners.json")).unwrap();
    lists["payouts"] = json!([
        {"id": "po_1", "amount": 1500, "currency": "usd", "status": "sent",
         "partner": {"id": "pn_1JVR7XRCSR0EDBAF39FZ4PMYE"}},
        {"id": "po_2", "amount": 600, "currency": "usd", "status": "completed",
         "partner": {"id": "pn_2KWS8YSDTS1FECBG40GA5QNZF"}}
    ]);
    let state = Arc::new(Dub {
        lists,
        throttle: AtomicU32::new(1),
        requests: AtomicU32::new(0),
        reset: Mutex::new(None),
        waited: Mutex::new(None),
    });
    let router = axum::Router::new()
        .route("/{list}", axum::routing::get(dub_list))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut config = test_config();
    config.dub_api_base = base;
    (spawn_with(config, None).await, state)
}

async fn pull(app: &TestApp, role: Role, body: &Value) -> reqwest::Response {
    app.as_role("acme", role)
        .send_json(Method::POST, "/imports/pull", body)
        .await
}

#[tokio::test]
async fn a_dub_program_pulled_by_its_key_comes_in_as_its_file_would_its_retry_after_honoured() {
    let (app, dub) = dub_app().await;
    let body = |key: &str| json!({"source": "dub", "apiKey": key});
    let message = assert_error(
        pull(&app, Role::Admin, &body("dub_wrong")).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.contains("Dub refused this API key"), "{message}");
    assert!(message.contains("Settings → API Keys"), "{message}");
    assert_eq!(
        dub.requests.load(Ordering::SeqCst),
        1,
        "asked on after a 401"
    );
    let message = assert_error(
        pull(&app, Role::Admin, &body(LIMITED)).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(
        message.contains("Dub is limiting the requests"),
        "{message}"
    );
    // A program is an admin's.
    assert_error(
        pull(&app, Role::Operator, &body(GOOD)).await,
        403,
        "insufficient_role",
    )
    .await;

    let op = app.as_role("acme", Role::Operator);
    let mut dry = body(GOOD);
    dry["dryRun"] = json!(true);
    let started = json_of(pull(&app, Role::Admin, &dry).await, 202).await;
    let v = finished(&app, started["importId"].as_str().unwrap()).await;
    // The file's counts (imports_programs): 7 in, a customer of no partner refused.
    assert_eq!(counts(&v), [7, 0, 0, 1], "{v}");
    assert_eq!(v["source"], "dub-partners", "{v}");
    assert_eq!(
        *dub.waited.lock().unwrap(),
        Some(true),
        "asked again before Dub's Retry-After"
    );
    assert_eq!(
        op.get("/partners/noor").await.status(),
        404,
        "the dry run wrote"
    );

    let started = json_of(pull(&app, Role::Admin, &body(GOOD)).await, 202).await;
    let v = finished(&app, started["importId"].as_str().unwrap()).await;
    assert_eq!(counts(&v), [7, 0, 0, 1], "{v}");
    // Kim's processed commission is in the payout Dub is sending: it comes in paid.
    assert_eq!(
        statuses(&app, "pn_1jvr7xrcsr0edbaf39fz4pmye").await,
        ["paid", "paid"]
    );
    assert_eq!(statuses(&app, "noor").await, ["pending", "rejected"]);
    let again = json_of(pull(&app, Role::Admin, &body(GOOD)).await, 202).await;
    let again = finished(&app, again["importId"].as_str().unwrap()).await;
    assert_eq!(counts(&again), [0, 0, 7, 1], "{again}");
    let log = json_of(
        app.as_role("acme", Role::Admin)
            .get("/audit?limit=100")
            .await,
        200,
    )
    .await;
    for kept in [&v, &again, &log] {
        assert!(!kept.to_string().contains(GOOD), "the key was kept: {kept}");
    }
}
