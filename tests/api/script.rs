//! `GET /t.js`, the first-party script merchants embed: its headers, its etag and `304`, gzip,
//! its weight (under 3 KB gzipped), and the CORS answer of the two public routes it calls from
//! the merchant's origin. Its behaviour in a browser is scripts/browser_test_tjs.py's.

use std::io::{Read, Write};

use reqwest::Response;
use serde_json::json;
use sha2::{Digest, Sha256};
use tenx_shared::http::script::{CACHE_CONTROL, SCRIPT};

use crate::helpers::*;
use crate::scenario::human_ctx;

async fn get_script(app: &TestApp, headers: &[(&str, &str)]) -> Response {
    let mut req = app.client.get(app.url("/t.js"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// `"{16 hex digits}"`, the start of the body's SHA-256.
fn etag_of(body: &[u8]) -> String {
    let hex: String = Sha256::digest(body)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn assert_script_headers(resp: &Response, what: &str) {
    let h = resp.headers();
    assert_eq!(header_str(h, "cache-control"), CACHE_CONTROL, "{what}");
    assert_eq!(header_str(h, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header_str(h, "access-control-allow-origin"), "*", "{what}");
    assert_eq!(header_str(h, "timing-allow-origin"), "*", "{what}");
    assert_eq!(header_str(h, "vary"), "accept-encoding", "{what}");
    assert!(h.contains_key("x-request-id"), "{what}");
    assert!(
        !h.contains_key("set-cookie"),
        "{what}: the script's own answer sets no cookie"
    );
}

#[tokio::test]
async fn the_script_is_served_with_a_day_of_cache_and_its_etag() {
    let app = spawn_app().await;
    let resp = get_script(&app, &[]).await;
    assert_eq!(resp.status(), 200);
    assert_script_headers(&resp, "200");
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(!resp.headers().contains_key("content-encoding"));
    let etag = header_str(resp.headers(), "etag").to_owned();
    let body = resp.bytes().await.unwrap();
    assert_eq!(&body[..], SCRIPT, "the embedded console/site/t.js");
    assert_eq!(etag, etag_of(&body));
    assert_eq!(etag.len(), 18, "{etag}");

    // A cached copy is revalidated: 304 without a body for its etag (weak or strong, or `*`).
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"0000000000000000\", {etag}"),
        "*".to_owned(),
    ] {
        let resp = get_script(&app, &[("if-none-match", &inm)]).await;
        assert_eq!(resp.status(), 304, "{inm}");
        assert_script_headers(&resp, "304");
        assert_eq!(header_str(resp.headers(), "etag"), etag);
        assert!(resp.bytes().await.unwrap().is_empty());
    }
    let resp = get_script(&app, &[("if-none-match", "\"0000000000000000\"")]).await;
    assert_eq!(resp.status(), 200, "another release's etag");
    assert_eq!(&resp.bytes().await.unwrap()[..], SCRIPT);

    // HEAD answers the headers alone.
    let resp = app.client.head(app.url("/t.js")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header_str(resp.headers(), "etag"), etag);
}

#[tokio::test]
async fn the_script_travels_gzipped_under_3_kb() {
    let app = spawn_app().await;
    let accept = ("accept-encoding", "gzip, deflate, br");
    let resp = get_script(&app, &[accept]).await;
    assert_eq!(resp.status(), 200);
    assert_script_headers(&resp, "gzip");
    assert_eq!(header_str(resp.headers(), "content-encoding"), "gzip");
    let etag = header_str(resp.headers(), "etag").to_owned();
    let gz = resp.bytes().await.unwrap();
    assert_eq!(etag, etag_of(&gz), "each encoding has its own etag");
    assert_ne!(etag, etag_of(SCRIPT));
    assert_eq!(gunzip(&gz), SCRIPT);
    assert!(
        gz.len() < 3 * 1024,
        "t.js is {} bytes gzipped (budget 3 KB)",
        gz.len()
    );
    assert!(SCRIPT.len() < 8 * 1024, "t.js is {} bytes", SCRIPT.len());
    // The budget holds at `gzip -9` too, whatever the server does.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(SCRIPT).unwrap();
    assert!(encoder.finish().unwrap().len() < 3 * 1024);

    let resp = get_script(&app, &[accept, ("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), 304);
    assert!(!resp.headers().contains_key("content-encoding"));
    // The plain copy's etag does not revalidate the gzipped one (nor the reverse).
    let resp = get_script(&app, &[accept, ("if-none-match", &etag_of(SCRIPT))]).await;
    assert_eq!(resp.status(), 200);
    let resp = get_script(&app, &[("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), 200);
    // `gzip;q=0` refuses it.
    let resp = get_script(&app, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(!resp.headers().contains_key("content-encoding"));
    assert_eq!(&resp.bytes().await.unwrap()[..], SCRIPT);
}

/// The script reads `GET /v2/public/context` and `POST /v2/public/refs` from the merchant's page:
/// both answer `access-control-allow-origin: *`, errors included, and the refs route takes the
/// script's body sent without a content-type (a simple request: no preflight).
#[tokio::test]
async fn the_routes_the_script_calls_answer_any_origin() {
    let app = spawn_app().await;
    let link = json!({"destinationUrl": "https://shop.example/landing"});
    assert_eq!(app.put_link("acme", "launch", link).await.status(), 201);
    let ctx = human_ctx(&app, "acme", "/launch").await;
    let origin = ("origin", "https://shop.example");

    let resp = app
        .client
        .get(app.url("/v2/public/context"))
        .query(&[("ctx", ctx.as_str())])
        .header(origin.0, origin.1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header_str(resp.headers(), "access-control-allow-origin"),
        "*"
    );
    let claims = json_of(resp, 200).await;
    assert!(claims["expiresAt"].is_string(), "{claims}");

    // As t.js sends it: a Blob body, so no content-type, and no credentials.
    let body = json!({"ctx": ctx}).to_string();
    let send = || {
        app.client
            .post(app.url("/v2/public/refs"))
            .header(origin.0, origin.1)
            .body(body.clone())
            .send()
    };
    let resp = send().await.unwrap();
    assert_eq!(
        header_str(resp.headers(), "access-control-allow-origin"),
        "*"
    );
    let made = json_of(resp, 201).await;
    let reference = made["ref"].as_str().expect("ref").to_owned();
    assert_eq!(reference.len(), 22, "{made}");
    let again = json_of(send().await.unwrap(), 201).await;
    assert_eq!(
        again["ref"],
        reference.as_str(),
        "the same ctx, the same ref"
    );

    let resp = app
        .client
        .post(app.url("/v2/public/refs"))
        .header(origin.0, origin.1)
        .body(r#"{"ctx":"k1.bad.token"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header_str(resp.headers(), "access-control-allow-origin"),
        "*",
        "an error is readable too"
    );
    assert_error(resp, 400, "invalid_ctx").await;

    // The other public routes are not opened to other origins.
    let resp = app
        .client
        .post(app.url("/v2/public/conversions"))
        .header(origin.0, origin.1)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

/// docs/connectors-script.md's `integrity="sha384-…"` is this release's `console/site/t.js` (the hash
/// changes with each release that changes the script: update the line with it).
#[test]
fn the_documented_integrity_hash_is_the_scripts() {
    use base64::Engine;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/connectors-script.md");
    let doc = std::fs::read_to_string(path).expect("docs/connectors-script.md");
    let documented: Vec<&str> = doc
        .match_indices("integrity=\"sha384-")
        .map(|(at, m)| {
            let rest = &doc[at + m.len()..];
            &rest[..rest.find('"').expect("a closing quote")]
        })
        .collect();
    let actual = base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(SCRIPT));
    assert_eq!(
        documented,
        [actual.as_str()],
        "docs/connectors-script.md: integrity=\"sha384-{actual}\""
    );
}
