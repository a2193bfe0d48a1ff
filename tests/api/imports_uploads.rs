//! Imports of an uploaded file (issue 64): `POST …/imports/uploads` answers a URL that takes
//! the file (moto's S3 presigned PUT on the AWS backend, the server's own signed URL on the
//! embedded one), the import started from the upload is read by the worker as a stream, with
//! the same report as a body's; a re-run changes nothing; a file not uploaded yet, another
//! handle's upload, a tampered URL and an unreadable file are each refused or reported. A file
//! staged over several invocations of the worker (a budget of a few chunks each), or cut off
//! mid-staging and resumed, or staged by two workers at once, ends with the report of one
//! staged at once: the same counts, links and refused rows, each reported once.

use reqwest::StatusCode;
use serde_json::Value;
use tenx_shared::http::auth::Role;

use tenx_shared::domain::ImportId;
use tenx_shared::imports::uploads::{Budget, Step, stage_pending};
use tenx_shared::platform::config::Config;
use tenx_shared::runtime::local::Workers;

use crate::helpers::{
    TestApp, acme, assert_error, aws_endpoint, eventually_within, on_aws, spawn_full, test_config,
};
use crate::imports::{counts, finished, post_import, target};

/// An app whose uploads go to a bucket of its own in moto (AWS backend) or to its data dir.
async fn app() -> TestApp {
    app_with(test_config(), Workers::On).await
}

/// [`app`] with `config`, its workers on or off.
async fn app_with(mut config: Config, workers: Workers) -> TestApp {
    if on_aws() {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let bucket = format!("tenx-uploads-{}", &id[..16]);
        config.uploads.bucket = Some(bucket.clone());
        config.uploads.endpoint = Some(aws_endpoint());
        tenx_shared::aws::s3::S3Uploads::new(bucket, Some(aws_endpoint()))
            .ensure_bucket()
            .await
            .expect("the test's bucket");
    }
    spawn_full(config, None, workers).await
}

async fn create_upload(app: &TestApp, handle: &str, role: Role) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v2/handles/{handle}/imports/uploads")))
        .bearer_auth(app.token(&[handle], role))
        .send()
        .await
        .unwrap()
}

/// PUTs `body` to the upload's URL with the headers it names.
async fn put(app: &TestApp, upload: &Value, body: Vec<u8>) -> reqwest::Response {
    let mut request = app.client.put(upload["url"].as_str().unwrap()).body(body);
    for (k, v) in upload["headers"].as_object().unwrap() {
        request = request.header(k, v.as_str().unwrap());
    }
    request.send().await.unwrap()
}

async fn start(app: &TestApp, handle: &str, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v2/handles/{handle}/imports?{query}")))
        .bearer_auth(app.token(&[handle], Role::Operator))
        .send()
        .await
        .unwrap()
}

async fn import(app: &TestApp, query: &str) -> Value {
    let r = start(app, "acme", query).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let v: Value = r.json().await.unwrap();
    finished(app, v["importId"].as_str().unwrap()).await
}

/// 120 links and, after them, a row the slug rule refuses.
fn csv() -> Vec<u8> {
    let mut s = String::from("slug,destination_url\n");
    for i in 0..120 {
        s.push_str(&format!("Up_{i},https://shop.example/{i}\n"));
    }
    s.push_str("bad slug,https://shop.example/bad\n");
    s.into_bytes()
}

#[tokio::test]
async fn an_uploaded_file_is_imported_by_the_worker_with_the_same_report() {
    let app = app().await;
    let r = create_upload(&app, "acme", Role::Operator).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload: Value = r.json().await.unwrap();
    let id = upload["uploadId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("upl_"), "{upload}");
    assert_eq!(upload["method"], "PUT");
    assert!(upload["expiresAt"].is_string(), "{upload}");
    assert_eq!(upload["maxBytes"], 1024 * 1024 * 1024);
    let url = upload["url"].as_str().unwrap();
    if on_aws() {
        // A presigned S3 URL of the test's bucket.
        assert!(url.contains("X-Amz-Signature="), "{url}");
        assert!(url.contains("tenx-uploads-"), "{url}");
    } else {
        assert!(
            url.starts_with(&format!("{}/v2/uploads/imports/acme/", app.origin())),
            "{url}"
        );
    }
    // Not uploaded yet: the import cannot start.
    let r = start(&app, "acme", &format!("source=csv&uploadId={id}")).await;
    let msg = assert_error(r, 409, "conflict").await;
    assert!(msg.contains("not been uploaded"), "{msg}");
    let r = put(&app, &upload, csv()).await;
    let status = r.status();
    assert!(status.is_success(), "{status}: {}", r.text().await.unwrap());
    // A dry run, the import, a re-run: as a body's.
    let dry = import(&app, &format!("source=csv&uploadId={id}&dryRun=true")).await;
    assert_eq!(dry["status"], "done", "{dry}");
    assert_eq!(dry["dryRun"], true);
    assert_eq!(counts(&dry), [120, 0, 0, 1], "{dry}");
    assert_eq!(target(&app, "acme", "/Up_7").await, None);
    let done = import(&app, &format!("source=csv&uploadId={id}")).await;
    assert_eq!(counts(&done), [120, 0, 0, 1], "{done}");
    assert_eq!(done["errors"][0]["row"], 122, "{done}");
    assert_eq!(done["errors"][0]["field"], "slug", "{done}");
    for i in [0, 7, 119] {
        assert_eq!(
            target(&app, "acme", &format!("/Up_{i}")).await.as_deref(),
            Some(format!("https://shop.example/{i}").as_str())
        );
    }
    let again = import(&app, &format!("source=csv&uploadId={id}")).await;
    assert_eq!(counts(&again), [0, 0, 120, 1], "{again}");
    // Another handle names the same upload id: no file of its own there.
    let r = start(&app, "globex", &format!("source=csv&uploadId={id}")).await;
    assert_error(r, 409, "conflict").await;
    // Not an upload id; a format that is not one.
    let r = start(&app, "acme", "source=csv&uploadId=upl_nope").await;
    assert_error(r, 404, "not_found").await;
    let r = start(
        &app,
        "acme",
        &format!("source=csv&uploadId={id}&format=xml"),
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_unreadable_upload_fails_its_import_saying_why_and_the_roles_hold() {
    let app = app().await;
    let upload: Value = create_upload(&app, "acme", Role::Operator)
        .await
        .json()
        .await
        .unwrap();
    let id = upload["uploadId"].as_str().unwrap().to_owned();
    let r = put(&app, &upload, b"name,url\nx,https://a.example/\n".to_vec()).await;
    assert!(r.status().is_success(), "{}", r.status());
    let v = import(&app, &format!("source=csv&uploadId={id}")).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["errors"][0]["row"], 0, "{v}");
    assert_eq!(v["errors"][0]["field"], "file", "{v}");
    let why = v["errors"][0]["message"].as_str().unwrap();
    assert!(why.contains("slug"), "{why}");
    // The handle is free again: the next import starts.
    let again = import(&app, &format!("source=dub&uploadId={id}")).await;
    assert_eq!(again["status"], "failed", "{again}");
    // Only operators and admins ask for uploads.
    for role in [Role::Viewer, Role::Creator] {
        let r = create_upload(&app, "acme", role).await;
        assert_error(r, 403, "insufficient_role").await;
    }
}

#[tokio::test]
async fn an_upload_of_one_endless_row_fails_its_import_naming_the_row_and_frees_the_handle() {
    let app = app().await;
    // 3 MB and no line break: the header row never ends.
    let flat = format!("slug,destination_url{}", ",x".repeat(1_500_000)).into_bytes();
    let id = uploaded(&app, Role::Operator, flat).await;
    let v = import(&app, &format!("source=csv&uploadId={id}")).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(
        (&v["errors"][0]["row"], &v["errors"][0]["field"]),
        (&0.into(), &"file".into())
    );
    let why = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        why.starts_with("The file has a row longer than 1 MiB (row 1, from line 1)"),
        "{why}"
    );
    // A quote never closed on row 3, in a dashboard's export: the same, naming the row.
    let mut open = b"Short link,Destination URL\nd.to/a,https://a.example/\nd.to/b,\"".to_vec();
    open.resize(3_000_000, b'a');
    let id = uploaded(&app, Role::Operator, open).await;
    let v = import(&app, &format!("source=dub&format=csv&uploadId={id}")).await;
    assert_eq!(v["status"], "failed", "{v}");
    let why = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        why.contains("a row longer than 1 MiB (row 3, from line 3)"),
        "{why}"
    );
    // The handle is free again, and the server still serves: the next import comes in.
    let v = import(
        &app,
        &format!(
            "source=csv&uploadId={}",
            uploaded(&app, Role::Operator, csv()).await
        ),
    )
    .await;
    assert_eq!(v["status"], "done", "{v}");
}

/// The local server's URL is its signature's: tampered or expired, refused; nothing written.
#[tokio::test]
async fn a_local_upload_url_takes_only_its_own_signed_put() {
    if on_aws() {
        return; // S3's presigned URLs are S3's to check (moto does not).
    }
    let app = app().await;
    let upload: Value = create_upload(&app, "acme", Role::Operator)
        .await
        .json()
        .await
        .unwrap();
    let id = upload["uploadId"].as_str().unwrap().to_owned();
    let url = upload["url"].as_str().unwrap().to_owned();
    let sig_at = url.find("signature=").unwrap() + "signature=".len();
    let mut tampered = url.clone();
    let flipped = if &url[sig_at..=sig_at] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(sig_at..=sig_at, flipped);
    let r = app.client.put(&tampered).body(csv()).send().await.unwrap();
    assert_error(r, 403, "forbidden").await;
    // The same signature on another handle's path.
    let other = url.replace("/imports/acme/", "/imports/globex/");
    let r = app.client.put(&other).body(csv()).send().await.unwrap();
    assert_error(r, 403, "forbidden").await;
    let r = app
        .client
        .put(url.replace("expires=", "expires=1"))
        .body(csv())
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "forbidden").await;
    let r = start(&app, "acme", &format!("source=csv&uploadId={id}")).await;
    assert_error(r, 409, "conflict").await;
}

/// The console's import screen PUTs the file from the browser: the page's
/// Content-Security-Policy allows the upload URL's origin in `connect-src` (moto's S3 on the
/// AWS backend; the server's own on the embedded one, where the policy is the usual one), and
/// nothing else of it changes.
#[tokio::test]
async fn the_consoles_policy_allows_the_upload_urls_origin() {
    use tenx_shared::http::console::CONTENT_SECURITY_POLICY;
    let app = app().await;
    let r = create_upload(&app, "acme", Role::Operator).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload: Value = r.json().await.unwrap();
    let url = url::Url::parse(upload["url"].as_str().unwrap()).unwrap();
    let origin = url.origin().ascii_serialization();
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let app_origin = app.origin();
    if origin == app_origin {
        assert!(!on_aws());
        assert_eq!(policy, CONTENT_SECURITY_POLICY);
    } else {
        assert!(on_aws(), "{origin} vs {app_origin}");
        assert_eq!(
            policy,
            CONTENT_SECURITY_POLICY.replace(
                "connect-src 'self'",
                &format!("connect-src 'self' {origin}")
            ),
        );
    }
    // The assets keep the usual policy (a document's policy is the page's).
    let script = app
        .client
        .get(app.url("/console/missing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
}

/// A program's export, uploaded: the worker reads it in passes (the file opened anew for each:
/// moto's S3 object on the AWS backend), item by item, with its lists in an order that needs
/// every pass; every row in, a re-run changing nothing. (A file over the API's limit is
/// `imports_programs::tenx_import_streams_a_program_file_over_the_api_limit`'s: its hundreds of
/// rows take moto longer to write than a report is waited for.)
#[tokio::test]
async fn an_uploaded_program_export_is_read_in_passes_by_the_worker() {
    let app = app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rewardful.json");
    let (partners, customers, commissions) = (3, 4, 5);
    crate::imports_programs::write_large_rewardful(&file, partners, customers, commissions);
    let r = create_upload(&app, "acme", Role::Admin).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload: Value = r.json().await.unwrap();
    let id = upload["uploadId"].as_str().unwrap().to_owned();
    let r = put(&app, &upload, std::fs::read(&file).unwrap()).await;
    assert!(r.status().is_success(), "{}", r.status());
    let admin_import = |query: String| {
        let app = &app;
        async move {
            let id = started(app, &query, Role::Admin).await;
            finished(app, id.as_str()).await
        }
    };
    let all = (partners + customers + commissions) as u64;
    let dry = admin_import(format!("source=rewardful&uploadId={id}&dryRun=true")).await;
    assert_eq!(counts(&dry), [all, 0, 0, 0], "{dry}");
    let done = admin_import(format!("source=rewardful&uploadId={id}")).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(counts(&done), [all, 0, 0, 0], "{done}");
    // A partner's link from its item, its coupon code from the list after it.
    assert_eq!(
        target(&app, "acme", "/big1").await.as_deref(),
        Some("https://shop.example/?via=big1")
    );
    let op = app.as_role("acme", Role::Operator);
    let codes = crate::helpers::json_of(op.get("/partners/big1/coupon-codes").await, 200).await;
    assert!(codes.to_string().contains("BIG1"), "{codes}");
    let again = admin_import(format!("source=rewardful&uploadId={id}")).await;
    assert_eq!(counts(&again), [0, 0, all, 0], "{again}");
}

/// `n` links with rows refused across them: a slug the rule refuses every 150 rows (from the
/// 8th), a duplicate slug halfway, a destination missing 10 rows before the end and, after
/// them, a bad slug. The file, and the refused rows' numbers (the header is row 1).
fn refusing_csv(n: u64) -> (Vec<u8>, Vec<u64>) {
    let mut s = String::from("slug,destination_url\n");
    let mut refused = Vec::new();
    for i in 0..n {
        let line = match i {
            i if i % 150 == 7 => format!("bad slug {i},https://shop.example/{i}"),
            i if i == n / 2 => "Many_3,https://shop.example/again".to_owned(),
            i if i == n - 10 => format!("Many_{i},"),
            i => {
                s.push_str(&format!("Many_{i},https://shop.example/{i}\n"));
                continue;
            }
        };
        s.push_str(&line);
        s.push('\n');
        refused.push(i + 2);
    }
    s.push_str("bad slug,https://shop.example/bad\n");
    refused.push(n + 2);
    (s.into_bytes(), refused)
}

/// The refused rows of a report, by row and field, in order.
fn refused(v: &Value) -> Vec<(u64, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = e["field"].as_str().unwrap().to_owned();
            (e["row"].as_u64().unwrap(), field)
        })
        .collect()
}

fn rows(v: &Value) -> Vec<u64> {
    refused(v).into_iter().map(|(row, _)| row).collect()
}

/// An upload of `body`, PUT: its id.
async fn uploaded(app: &TestApp, role: Role, body: Vec<u8>) -> String {
    let r = create_upload(app, "acme", role).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload: Value = r.json().await.unwrap();
    let r = put(app, &upload, body).await;
    assert!(r.status().is_success(), "{}", r.status());
    upload["uploadId"].as_str().unwrap().to_owned()
}

/// Starts an import (no worker waited for): its id.
async fn started(app: &TestApp, query: &str, role: Role) -> ImportId {
    let r = app
        .client
        .post(app.url(&format!("/v2/handles/acme/imports?{query}")))
        .bearer_auth(app.token(&["acme"], role))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let v: Value = r.json().await.unwrap();
    ImportId::parse(v["importId"].as_str().unwrap()).unwrap()
}

/// A request body's import (read and staged at once, in the request): its id.
async fn started_with_body(
    app: &TestApp,
    query: &str,
    type_: &str,
    body: Vec<u8>,
    role: Role,
) -> String {
    let r = post_import(app, "acme", query, type_, body, role).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let v: Value = r.json().await.unwrap();
    v["importId"].as_str().unwrap().to_owned()
}

/// The report once the running worker is done with it (its rows written on the emulator
/// take longer than [`finished`] waits).
async fn finished_slowly(app: &TestApp, id: &str) -> Value {
    let limit = std::time::Duration::from_secs(180);
    eventually_within("the upload's import to finish", limit, || async {
        let r = app
            .client
            .get(app.url(&format!("/v2/handles/acme/imports/{id}")))
            .bearer_auth(app.token(&["acme"], Role::Operator))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if v["status"] != "running" {
            Ok(v)
        } else {
            Err(format!("still running: {v}"))
        }
    })
    .await
}

/// One invocation's staging step, as the worker takes it, with `budget`.
async fn stage(app: &TestApp, id: &ImportId, budget: Budget) -> Step {
    let state = app.state();
    stage_pending(state.io(), state.uploads.clone(), &acme(), id, budget)
        .await
        .expect("staged")
}

/// The staging's progress recorded on the job (`None`: staged whole).
async fn recorded(app: &TestApp, id: &ImportId) -> Option<u64> {
    let job = tenx_shared::imports::get(app.store.as_ref(), &acme(), id)
        .await
        .unwrap();
    job.pending_upload.map(|p| p.staged.chunks)
}

/// Invocations with the app's configured budget until the file is staged: how many paused.
async fn stage_to_the_end(app: &TestApp, id: &ImportId) -> usize {
    let budget = Budget::of(&app.config);
    let mut paused = 0;
    while stage(app, id, budget).await == Step::Paused {
        paused += 1;
        assert!(paused < 100, "the staging does not get on");
    }
    paused
}

/// The worker's chunk writes, to the end; the report.
async fn write_all(app: &TestApp, id: &ImportId) -> Value {
    let progress = crate::imports::write_chunks(app, id, usize::MAX).await;
    assert_eq!(progress, tenx_shared::imports::run::Progress::Finished);
    finished(app, id.as_str()).await
}

/// The running worker (its own queue, re-queueing itself) with a budget of one chunk per
/// invocation: the upload, staged over three invocations, has the report of the same file
/// sent as a request's body (read and staged at once), refused rows included, each once.
#[tokio::test]
async fn an_upload_staged_a_chunk_per_invocation_has_the_report_of_one_staged_at_once() {
    let mut config = test_config();
    config.import_staging_chunks = Some(1);
    let app = app_with(config, Workers::On).await;
    // 256 rows in: chunks of 100, 100 and 56.
    let (file, refused_rows) = refusing_csv(260);
    let body = started_with_body(
        &app,
        "source=csv&dryRun=true",
        "text/csv",
        file.clone(),
        Role::Operator,
    )
    .await;
    let at_once = finished(&app, &body).await;
    assert_eq!(counts(&at_once), [256, 0, 0, 5], "{at_once}");
    assert_eq!(rows(&at_once), refused_rows, "{at_once}");
    let id = uploaded(&app, Role::Operator, file).await;
    let dry = import(&app, &format!("source=csv&uploadId={id}&dryRun=true")).await;
    assert_eq!(counts(&dry), counts(&at_once), "{dry}");
    assert_eq!(refused(&dry), refused(&at_once), "{dry}");
    let started = started(&app, &format!("source=csv&uploadId={id}"), Role::Operator).await;
    let done = finished_slowly(&app, started.as_str()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(counts(&done), [256, 0, 0, 5], "{done}");
    assert_eq!(refused(&done), refused(&at_once), "{done}");
    for i in [0, 3, 199, 259] {
        assert_eq!(
            target(&app, "acme", &format!("/Many_{i}")).await.as_deref(),
            Some(format!("https://shop.example/{i}").as_str())
        );
    }
}

/// A staging cut off mid-way (its invocation dropped at whatever it was awaiting, as a killed
/// worker stops: chunks put past the progress it recorded) resumes from the chunk recorded,
/// without putting again the chunks before it, and ends with exact counts; two workers staging
/// the same import at once (a redelivered message) stage it once. Dry runs: the same reading
/// and staging, without the emulator's time to write hundreds of links.
#[tokio::test]
async fn a_staging_cut_off_mid_way_resumes_from_its_recorded_chunk_with_exact_counts() {
    let mut config = test_config();
    config.import_staging_chunks = Some(3);
    let app = app_with(config, Workers::Off).await;
    // 643 rows in: six chunks of 100 and one of 43.
    let (file, refused_rows) = refusing_csv(650);
    let upload = uploaded(&app, Role::Operator, file).await;
    let query = format!("source=csv&uploadId={upload}&dryRun=true");
    let id = started(&app, &query, Role::Operator).await;
    // The first invocation stages three chunks and records them.
    assert_eq!(
        stage(&app, &id, Budget::of(&app.config)).await,
        Step::Paused
    );
    assert_eq!(recorded(&app, &id).await, Some(3));
    // A staged chunk marked (its first row's slug one the rule refuses): a staging that put
    // it again would undo the mark.
    let store = app.store.clone();
    let (pk, sk) = tenx_shared::platform::store::keys::import_chunk(&acme(), id.as_str(), 0);
    let item = store.get(&pk, &sk).await.unwrap().expect("chunk 0");
    let mut chunk: tenx_shared::imports::model::Chunk = item.parse().unwrap();
    assert_eq!(chunk.rows[0].slug, "Many_0");
    chunk.rows[0].slug = "marked slug".into();
    let marked = tenx_shared::platform::store::Item::new(
        pk,
        sk,
        tenx_shared::platform::store::to_doc(&chunk).unwrap(),
    );
    tenx_shared::platform::store::put(store.as_ref(), marked)
        .await
        .unwrap();
    // The next one is cut off once it has put two chunks past the recorded ones.
    let unbounded = Budget {
        time: std::time::Duration::from_secs(600),
        chunks: None,
    };
    let (pk4, sk4) = tenx_shared::platform::store::keys::import_chunk(&acme(), id.as_str(), 4);
    // Polled a step at a time and dropped (the process killed) once chunk 4 is stored: each
    // step is checked, so a fast staging cannot finish between two looks.
    let mut staging = Box::pin(stage(&app, &id, unbounded));
    loop {
        if let std::task::Poll::Ready(step) = futures::poll!(staging.as_mut()) {
            panic!("not cut off: {step:?}");
        }
        if store.get(&pk4, &sk4).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    drop(staging);
    let cut_at = recorded(&app, &id).await.expect("still staging");
    assert!((3..7).contains(&cut_at), "{cut_at}");
    // The message comes back: the staging resumes, a budget per invocation, to the end.
    let paused = stage_to_the_end(&app, &id).await;
    assert!(paused >= 1, "{paused}");
    assert_eq!(recorded(&app, &id).await, None);
    let done = write_all(&app, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    // The marked row is refused by the worker (chunk 0 was not put again); every other row of
    // the file is counted once, its refused rows reported once.
    assert_eq!(counts(&done), [642, 0, 0, 9], "{done}");
    // In the file's order, each once: the worker's refusal (row 2) among the reading's.
    let got = rows(&done);
    assert_eq!(got[1..], refused_rows[..], "{done}");
    assert_eq!(
        refused(&done).first(),
        Some(&(2, "slug".to_owned())),
        "{done}"
    );

    // Two workers on one import at once: each goes on from what the other recorded, and the
    // file's refused rows are reported once.
    let again = started(&app, &query, Role::Operator).await;
    let budget = Budget::of(&app.config);
    let mut invocations = 0;
    loop {
        let (a, b) = tokio::join!(stage(&app, &again, budget), stage(&app, &again, budget));
        invocations += 1;
        assert!(invocations < 100, "the staging does not get on");
        if a == Step::Ready && b == Step::Ready {
            break;
        }
    }
    assert!(invocations >= 3, "{invocations}");
    let dry = write_all(&app, &again).await;
    assert_eq!(counts(&dry), [643, 0, 0, 8], "{dry}");
    assert_eq!(rows(&dry), refused_rows, "{dry}");
}

/// A program's export whose partners, customers and commissions fill chunks of each kind, with
/// rows refused in two of its lists, in an order that needs every pass.
fn refusing_rewardful() -> Vec<u8> {
    let partners: Vec<Value> = (0..30)
        .map(|i| {
            serde_json::json!({
                "id": format!("aff_{i}"), "first_name": "Res", "last_name": format!("Partner {i}"),
                "email": format!("res{i}@example.com"),
                "links": [{"token": format!("res{i}"), "url": format!("https://shop.example/?via=res{i}")}],
            })
        })
        .collect();
    let referrals: Vec<Value> = (0..130)
        .map(|i| {
            let affiliate = if i % 40 == 5 {
                "aff_nope".to_owned()
            } else {
                format!("aff_{}", i % 30)
            };
            serde_json::json!({
                "id": format!("ref_{i}"), "conversion_state": "conversion",
                "stripe_customer_id": format!("cus_Res{i}"),
                "affiliate": {"id": affiliate},
            })
        })
        .collect();
    let commissions: Vec<Value> = (0..130)
        .map(|i| {
            let state = match i {
                i if i % 50 == 9 => "bogus",
                i if i % 2 == 0 => "paid",
                _ => "due",
            };
            serde_json::json!({
                "id": format!("com_{i}"), "amount": 1000, "currency": "USD", "state": state,
                "sale": {"affiliate": {"id": format!("aff_{}", i % 30)}},
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "commissions": {"data": commissions},
        "referrals": {"data": referrals},
        "affiliates": {"data": partners},
    }))
    .unwrap()
}

/// A program's export read in passes, staged a chunk per invocation: each invocation reads
/// the passes again up to the chunk recorded; the report is the one of the same file sent as
/// a request's body, refused rows of its lists included, each once.
#[tokio::test]
async fn an_uploaded_program_export_staged_over_several_invocations_has_the_same_report() {
    let mut config = test_config();
    config.import_staging_chunks = Some(1);
    let app = app_with(config, Workers::Off).await;
    let query = "source=rewardful&dryRun=true";
    let body = started_with_body(
        &app,
        query,
        "application/json",
        refusing_rewardful(),
        Role::Admin,
    )
    .await;
    let at_once = write_all(&app, &ImportId::parse(&body).unwrap()).await;
    // 30 partners, 126 customers and 127 commissions in; 4 customers and 3 commissions not.
    assert_eq!(counts(&at_once), [283, 0, 0, 7], "{at_once}");
    let upload = uploaded(&app, Role::Admin, refusing_rewardful()).await;
    let id = started(&app, &format!("{query}&uploadId={upload}"), Role::Admin).await;
    // Partners 25 + 5, customers 100 + 26, commissions 100 + 27: six chunks, one each.
    assert_eq!(stage_to_the_end(&app, &id).await, 5);
    let dry = write_all(&app, &id).await;
    assert_eq!(counts(&dry), counts(&at_once), "{dry}");
    assert_eq!(refused(&dry), refused(&at_once), "{dry}");
}
