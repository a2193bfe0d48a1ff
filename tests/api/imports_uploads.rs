//! Imports of an uploaded file (issue 64): `POST …/imports/uploads` answers a URL that takes
//! the file (moto's S3 presigned PUT on the AWS backend, the server's own signed URL on the
//! embedded one), the import started from the upload is read by the worker as a stream, with
//! the same report as a body's; a re-run changes nothing; a file not uploaded yet, another
//! handle's upload, a tampered URL and an unreadable file are each refused or reported.

use reqwest::StatusCode;
use serde_json::Value;
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, aws_endpoint, on_aws, spawn_with, test_config};
use crate::imports::{counts, finished, target};

/// An app whose uploads go to a bucket of its own in moto (AWS backend) or to its data dir.
async fn app() -> TestApp {
    let mut config = test_config();
    if on_aws() {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let bucket = format!("tenx-uploads-{}", &id[..16]);
        config.uploads.bucket = Some(bucket.clone());
        config.uploads.endpoint = Some(aws_endpoint());
        tenx_shared::platform::uploads::s3::S3Uploads::new(bucket, Some(aws_endpoint()))
            .ensure_bucket()
            .await
            .expect("the test's bucket");
    }
    spawn_with(config, None).await
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
            url.starts_with(&app.url("/v2/uploads/imports/acme/")),
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
    let app_origin = url::Url::parse(&app.url("/"))
        .unwrap()
        .origin()
        .ascii_serialization();
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
            let r = app
                .client
                .post(app.url(&format!("/v2/handles/acme/imports?{query}")))
                .bearer_auth(app.token(&["acme"], Role::Admin))
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
            finished(app, v["importId"].as_str().unwrap()).await
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
