//! Imports (issue 64): each link importer on its source's documented export
//! (`tests/fixtures/imports/`), served afterwards by the redirect with the old slugs' case and
//! characters; a dry run writes nothing; a re-run changes nothing; bad rows (formula cells,
//! broken quoting, UTF-16, a BOM, Latin-1, duplicate and refused slugs) are each reported with
//! their row and field while the rest goes in; a worker killed between chunks (and inside one)
//! resumes with exact counts; another handle's data is untouched; the limits and the roles.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tenx_shared::domain::{Handle, ImportId, Slug};
use tenx_shared::http::auth::Role;
use tenx_shared::imports::keyrings::Keys;
use tenx_shared::imports::run::{Progress, run, write_chunk_then_crash};

use crate::helpers::{
    TestApp, acme, assert_error, eventually_within, spawn_app, spawn_app_without_workers,
};

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/imports/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) async fn post_import(
    app: &TestApp,
    handle: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
    role: Role,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v2/handles/{handle}/imports?{query}")))
        .bearer_auth(app.token(&[handle], role))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Starts an import as an operator; its id.
async fn start(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> String {
    let r = post_import(app, "acme", query, content_type, body, Role::Operator).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let v: Value = r.json().await.unwrap();
    let id = v["importId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("imp_"), "{id}");
    id
}

async fn report(app: &TestApp, id: &str) -> Value {
    let r = app
        .client
        .get(app.url(&format!("/v2/handles/acme/imports/{id}")))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The report once the worker is done with it (a hang guard of 2 minutes: a busy machine is
/// slow, never wrong, and a large import's chunks take longer than [`WAIT`] there).
pub(crate) async fn finished(app: &TestApp, id: &str) -> Value {
    eventually_within("the import to finish", Duration::from_secs(120), || async {
        let v = report(app, id).await;
        if v["status"] != "running" {
            Ok(v)
        } else {
            Err(format!("still running: {v}"))
        }
    })
    .await
}

/// Imports and waits: the report.
async fn import(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> Value {
    let id = start(app, query, content_type, body).await;
    finished(app, &id).await
}

pub(crate) fn counts(v: &Value) -> [u64; 4] {
    let c = &v["counts"];
    ["created", "updated", "skipped", "failed"].map(|k| c[k].as_u64().unwrap())
}

/// Where `path` on `handle`'s short host sends a visitor (None: not found).
pub(crate) async fn target(app: &TestApp, handle: &str, path: &str) -> Option<String> {
    let r = app.click(handle, path, &[]).await;
    match r.status() {
        StatusCode::FOUND => {
            let loc = r.headers()["location"].to_str().unwrap();
            // The destination without the ctx the redirect adds.
            let mut url = url::Url::parse(loc).unwrap();
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "ctx")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
            Some(url.to_string())
        }
        StatusCode::NOT_FOUND => None,
        other => panic!("{path}: {other}"),
    }
}

async fn link_version(app: &TestApp, slug: &str) -> Option<u64> {
    let link = tenx_shared::links::load(app.store.as_ref(), &acme(), &Slug::parse(slug).unwrap())
        .await
        .unwrap();
    link.map(|l| l.version)
}

/// (source, file, content type, [(old slug, destination)], click totals by old slug)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, u64)>,
);

#[tokio::test]
async fn each_link_importer_reads_its_fixture_and_the_old_slugs_redirect() {
    let app = spawn_app().await;
    // (source, file, content type, [(old slug, destination)], click totals by old slug)
    let cases: [Case; 7] = [
        (
            "bitly",
            "bitly.json",
            "application/json",
            vec![
                (
                    "Spring_Sale",
                    "https://shop.example/spring?utm_source=newsletter",
                ),
                ("4QwErTy", "https://shop.example/shoes"),
                ("summer", "https://shop.example/summer"),
            ],
            vec![],
        ),
        (
            "rebrandly",
            "rebrandly.json",
            "application/json",
            vec![
                ("BlackFriday", "https://shop.example/black-friday"),
                ("news-2026", "https://shop.example/news"),
            ],
            vec![("BlackFriday", 1204), ("news-2026", 0)],
        ),
        (
            "shortio",
            "shortio.json",
            "application/json",
            vec![
                ("Promo_2026", "https://shop.example/promo"),
                ("gift", "https://shop.example/gift-cards"),
            ],
            vec![],
        ),
        (
            "shlink",
            "shlink.json",
            "application/json",
            vec![
                ("12C18", "https://shop.example/blog/launch"),
                ("docs", "https://docs.shop.example/"),
            ],
            vec![("12C18", 328)],
        ),
        (
            "dub",
            "dub.json",
            "application/json",
            vec![
                (
                    "launch",
                    "https://shop.example/launch?utm_source=twitter&utm_medium=social&utm_campaign=launch-2026",
                ),
                ("Pricing", "https://shop.example/pricing"),
            ],
            vec![("launch", 87), ("Pricing", 5)],
        ),
        (
            "csv",
            "links.csv",
            "text/csv",
            vec![
                (
                    "spring",
                    "https://shop.example/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring-2026",
                ),
                ("Spring_VIP", "https://shop.example/vip"),
            ],
            vec![("spring", 120)],
        ),
        // Shlink's web-client CSV: the same links as its JSON (already there: skipped).
        (
            "shlink",
            "shlink.csv",
            "text/csv",
            vec![("12C18", "https://shop.example/blog/launch")],
            vec![],
        ),
    ];
    for (source, file, content_type, links, clicks) in cases {
        let v = import(
            &app,
            &format!("source={source}"),
            content_type,
            fixture(file),
        )
        .await;
        assert_eq!(v["status"], "done", "{file}: {v}");
        assert_eq!(v["errors"], serde_json::json!([]), "{file}");
        if file == "shlink.csv" {
            assert_eq!(counts(&v), [0, 0, 2, 0], "{file}: {v}");
        } else {
            assert_eq!(counts(&v), [links.len() as u64, 0, 0, 0], "{file}: {v}");
        }
        for (slug, destination) in &links {
            assert_eq!(
                target(&app, "acme", &format!("/{slug}")).await.as_deref(),
                Some(*destination),
                "{file}: /{slug}"
            );
        }
        // Click totals are history on the imported link, never live counts.
        for (slug, total) in clicks {
            let native = tenx_shared::domain::imported_slug::ImportedSlug::parse(slug)
                .unwrap()
                .native();
            let h = tenx_shared::imports::run::imported_link(app.store.as_ref(), &acme(), &native)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(h.clicks, Some(total), "{file}: {slug}");
            assert_eq!(h.original_slug, slug);
        }
    }
    // The case of an imported slug is kept: another case is another (absent) link.
    assert_eq!(target(&app, "acme", "/spring_sale").await, None);
    assert_eq!(target(&app, "acme", "/SPRING_SALE").await, None);
    // Tags are kept with the history.
    let native = tenx_shared::domain::imported_slug::ImportedSlug::parse("Spring_Sale")
        .unwrap()
        .native();
    let h = tenx_shared::imports::run::imported_link(app.store.as_ref(), &acme(), &native)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.tags, ["spring", "email"]);
    // The imported link is an ordinary link under its native slug (its API shows it).
    let r = app
        .client
        .get(app.url(&format!("/v2/handles/acme/links/{}", native.as_str())))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_it_would_do() {
    let app = spawn_app().await;
    app.put_link(
        "acme",
        "spring",
        serde_json::json!({"destinationUrl": "https://before.example/"}),
    )
    .await;
    let v = import(
        &app,
        "source=csv&dryRun=true",
        "text/csv",
        fixture("links.csv"),
    )
    .await;
    assert_eq!(v["status"], "done");
    assert_eq!(v["dryRun"], true);
    // `spring` exists (would be skipped); `Spring_VIP` would be created.
    assert_eq!(counts(&v), [1, 0, 1, 0], "{v}");
    assert_eq!(target(&app, "acme", "/Spring_VIP").await, None);
    assert_eq!(
        target(&app, "acme", "/spring").await.as_deref(),
        Some("https://before.example/")
    );
    assert_eq!(link_version(&app, "spring").await, Some(1));
    // With overwrite it would update the existing one; still nothing written.
    let v = import(
        &app,
        "source=csv&dryRun=true&onConflict=overwrite",
        "text/csv",
        fixture("links.csv"),
    )
    .await;
    assert_eq!(counts(&v), [1, 1, 0, 0], "{v}");
    assert_eq!(link_version(&app, "spring").await, Some(1));
    assert_eq!(target(&app, "acme", "/Spring_VIP").await, None);
}

#[tokio::test]
async fn a_re_run_changes_nothing_unless_told_to_overwrite() {
    let app = spawn_app().await;
    let first = import(&app, "source=dub", "application/json", fixture("dub.json")).await;
    assert_eq!(counts(&first), [2, 0, 0, 0]);
    let again = import(&app, "source=dub", "application/json", fixture("dub.json")).await;
    assert_eq!(counts(&again), [0, 0, 2, 0], "{again}");
    assert_eq!(link_version(&app, "launch").await, Some(1));
    let over = import(
        &app,
        "source=dub&onConflict=overwrite",
        "application/json",
        fixture("dub.json"),
    )
    .await;
    assert_eq!(counts(&over), [0, 2, 0, 0], "{over}");
    assert_eq!(link_version(&app, "launch").await, Some(2));
    assert_eq!(
        target(&app, "acme", "/Pricing").await.as_deref(),
        Some("https://shop.example/pricing")
    );
}

fn utf16le_with_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_field_and_the_rest_goes_in() {
    let app = spawn_app().await;
    let csv = "slug,destination_url,title,tags,clicks\n\
        good-one,https://shop.example/1,=SUM(A1:A9),,\n\
        formula,=HYPERLINK(\"https://evil.example\"),,,\n\
        bad slug,https://shop.example/2,,,\n\
        v2,https://shop.example/3,,,\n\
        good-one,https://shop.example/dup,,,\n\
        Mixed_Case,https://shop.example/4,,,many\n\
        ftp,ftp://shop.example/5,,,\n\
        last,\"https://shop.example/6,,\n";
    let v = import(&app, "source=csv", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(v["status"], "done");
    assert_eq!(counts(&v), [1, 0, 0, 7], "{v}");
    let at: Vec<(u64, &str)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        at,
        [
            (3, "destination_url"),
            (4, "slug"),
            (5, "slug"),
            (6, "slug"),
            (7, "clicks"),
            (8, "destination_url"),
            (9, "row"),
        ]
    );
    for e in v["errors"].as_array().unwrap() {
        assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
    }
    // The formula is data: kept as the title's text, never evaluated.
    let link = tenx_shared::links::load(
        app.store.as_ref(),
        &acme(),
        &Slug::parse("good-one").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(link.title.as_deref(), Some("=SUM(A1:A9)"));
    assert_eq!(link.destination_url, "https://shop.example/1");

    // Encodings: UTF-16 with its BOM, UTF-8 with a BOM, Latin-1: titles read right.
    let text = "slug,destination_url,title\nutf16,https://shop.example/u,Caf\u{e9} \u{2615}\n";
    let v = import(&app, "source=csv", "text/csv", utf16le_with_bom(text)).await;
    assert_eq!(counts(&v), [1, 0, 0, 0], "{v}");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(b"slug,destination_url,title\nbom,https://shop.example/b,Cr\xC3\xA8me\n");
    let v = import(&app, "source=csv", "text/csv", bom).await;
    assert_eq!(counts(&v), [1, 0, 0, 0], "{v}");
    let latin1 =
        b"slug,destination_url,title\nlatin,https://shop.example/l,Cr\xE8me br\xFBl\xE9e\n"
            .to_vec();
    let v = import(&app, "source=csv", "text/csv", latin1).await;
    assert_eq!(counts(&v), [1, 0, 0, 0], "{v}");
    for (slug, title) in [
        ("utf16", "Café ☕"),
        ("bom", "Crème"),
        ("latin", "Crème brûlée"),
    ] {
        let link =
            tenx_shared::links::load(app.store.as_ref(), &acme(), &Slug::parse(slug).unwrap())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(link.title.as_deref(), Some(title));
    }

    // A file that is not its source's format at all: refused whole, nothing started.
    let r = post_import(
        &app,
        "acme",
        "source=dub",
        "application/json",
        b"{\"links\":".to_vec(),
        Role::Operator,
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
    let r = post_import(
        &app,
        "acme",
        "source=csv",
        "text/csv",
        b"a,b\n1,2\n".to_vec(),
        Role::Operator,
    )
    .await;
    let msg = assert_error(r, 400, "invalid_request").await;
    assert!(msg.contains("slug"), "{msg}");
    let r = post_import(
        &app,
        "acme",
        "source=bitly",
        "text/csv",
        fixture("links.csv"),
        Role::Operator,
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_huge_cell_is_quoted_short_and_a_thousand_long_refusals_still_make_a_report() {
    let app = spawn_app().await;
    let csv = format!(
        "slug,destination_url\n{},https://shop.example/1\n",
        "a".repeat(410_000)
    );
    let v = import(&app, "source=csv", "text/csv", csv.into_bytes()).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(counts(&v), [0, 0, 0, 1]);
    let e = &v["errors"][0];
    assert_eq!(
        (e["row"].as_u64(), e["field"].as_str()),
        (Some(2), Some("slug"))
    );
    let message = e["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("'{}…' ", "a".repeat(80))),
        "{message}"
    );
    assert!(message.len() < 200, "{} bytes", message.len());

    // A thousand rows refused, each for a cell of 400 bytes: their report is kept whole.
    let mut csv = String::from("slug,destination_url,clicks\n");
    for i in 0..1_000 {
        let clicks = "9x".repeat(200);
        csv.push_str(&format!("long-{i},https://shop.example/{i},{clicks}\n"));
    }
    let v = import(&app, "source=csv", "text/csv", csv.into_bytes()).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(counts(&v), [0, 0, 0, 1_000]);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1_000);
    assert_eq!(errors[999]["row"], 1_001);
    assert_eq!(errors[999]["field"], "clicks");
}

/// The imports worker's chunk writes of `id` (acme's), at most `max` chunks, with the app's
/// keys: what one message of the worker does after any staging.
pub(crate) async fn write_chunks(app: &TestApp, id: &ImportId, max: usize) -> Progress {
    let state = app.state();
    let keys = Keys::of(&state);
    run(state.io(), &state.link_cache, keys, &acme(), id, max)
        .await
        .unwrap()
}

/// The next chunk's rows written, then the worker dies before its cursor write: how many rows.
pub(crate) async fn crash_in_chunk(app: &TestApp, id: &ImportId) -> usize {
    let state = app.state();
    let keys = Keys::of(&state);
    write_chunk_then_crash(state.io(), &state.link_cache, keys, &acme(), id)
        .await
        .unwrap()
}

/// 250 rows: three chunks of 100, 100 and 50.
fn big_csv() -> Vec<u8> {
    let mut s = String::from("slug,destination_url\n");
    for i in 0..250 {
        s.push_str(&format!("Row_{i},https://shop.example/{i}\n"));
    }
    s.into_bytes()
}

#[tokio::test]
async fn a_worker_killed_between_or_inside_chunks_resumes_with_exact_counts() {
    let app = spawn_app_without_workers().await;
    let id = start(&app, "source=csv", "text/csv", big_csv()).await;
    let id = ImportId::parse(&id).unwrap();
    // One chunk, then the worker dies: its cursor is stored.
    assert_eq!(write_chunks(&app, &id, 1).await, Progress::Paused);
    let v = report(&app, id.as_str()).await;
    assert_eq!(v["status"], "running");
    assert_eq!(counts(&v), [100, 0, 0, 0]);
    // The next chunk's rows are written, and the worker dies before its cursor write.
    assert_eq!(crash_in_chunk(&app, &id).await, 100);
    assert_eq!(counts(&report(&app, id.as_str()).await), [100, 0, 0, 0]);
    // The message comes back: the run resumes at the stored cursor; the rows written before
    // the crash count as created (their markers), not skipped.
    assert_eq!(
        write_chunks(&app, &id, usize::MAX).await,
        Progress::Finished
    );
    let v = report(&app, id.as_str()).await;
    assert_eq!(v["status"], "done");
    assert_eq!(counts(&v), [250, 0, 0, 0], "{v}");
    for i in [0, 150, 249] {
        assert_eq!(
            target(&app, "acme", &format!("/Row_{i}")).await.as_deref(),
            Some(format!("https://shop.example/{i}").as_str())
        );
    }
    // A late redelivery of the finished import changes nothing.
    assert_eq!(
        write_chunks(&app, &id, usize::MAX).await,
        Progress::Finished
    );
    assert_eq!(counts(&report(&app, id.as_str()).await), [250, 0, 0, 0]);
}

#[tokio::test]
async fn one_import_runs_at_a_time_and_the_roles_hold() {
    let app = spawn_app_without_workers().await;
    let first = start(&app, "source=csv", "text/csv", fixture("links.csv")).await;
    let r = post_import(
        &app,
        "acme",
        "source=csv",
        "text/csv",
        fixture("links.csv"),
        Role::Operator,
    )
    .await;
    assert_error(r, 409, "conflict").await;
    // Another handle is not held by acme's import.
    let r = post_import(
        &app,
        "globex",
        "source=csv&dryRun=true",
        "text/csv",
        fixture("links.csv"),
        Role::Operator,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = ImportId::parse(&first).unwrap();
    write_chunks(&app, &id, usize::MAX).await;
    // Done: the handle is free again.
    let r = post_import(
        &app,
        "acme",
        "source=csv&dryRun=true",
        "text/csv",
        fixture("links.csv"),
        Role::Operator,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    // Creators and viewers cannot import; program imports are an admin's.
    for role in [Role::Viewer, Role::Creator] {
        let r = post_import(
            &app,
            "globex",
            "source=csv",
            "text/csv",
            fixture("links.csv"),
            role,
        )
        .await;
        assert_error(r, 403, "insufficient_role").await;
    }
    let r = post_import(
        &app,
        "globex",
        "source=rewardful",
        "text/csv",
        b"x".to_vec(),
        Role::Operator,
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;
    // Bad parameters and bodies.
    for query in [
        "source=nope",
        "source=csv&dryRun=yes",
        "source=csv&onConflict=merge",
        "",
        "source=csv&other=1",
    ] {
        let r = post_import(
            &app,
            "globex",
            query,
            "text/csv",
            fixture("links.csv"),
            Role::Operator,
        )
        .await;
        assert_error(r, 400, "invalid_request").await;
    }
    let r = post_import(
        &app,
        "globex",
        "source=csv",
        "text/plain",
        fixture("links.csv"),
        Role::Operator,
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
    let huge = vec![b'a'; tenx_shared::imports::MAX_BODY_BYTES + 1];
    let r = post_import(
        &app,
        "globex",
        "source=csv",
        "text/csv",
        huge,
        Role::Operator,
    )
    .await;
    // The envelope names the limit and the ways around it.
    let msg = assert_error(r, 413, "payload_too_large").await;
    assert!(msg.contains("4 MiB"), "{msg}");
    assert!(
        msg.contains("tenx import") && msg.contains("imports/uploads"),
        "{msg}"
    );
    // An unknown import, and another handle's: not found.
    let r = app
        .client
        .get(app.url(&format!("/v2/handles/globex/imports/{first}")))
        .bearer_auth(app.token(&["globex"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "not_found").await;
    let r = app
        .client
        .get(app.url("/v2/handles/acme/imports/imp_nope"))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn another_handles_data_is_untouched_and_the_import_is_audited_with_who_ran_it() {
    let app = spawn_app().await;
    app.put_link(
        "globex",
        "spring",
        serde_json::json!({"destinationUrl": "https://globex.example/"}),
    )
    .await;
    let v = import(
        &app,
        "source=csv&onConflict=overwrite",
        "text/csv",
        fixture("links.csv"),
    )
    .await;
    assert_eq!(counts(&v), [2, 0, 0, 0], "{v}");
    // globex's own link is as it was; acme's alias is not served on globex.
    assert_eq!(
        target(&app, "globex", "/spring").await.as_deref(),
        Some("https://globex.example/")
    );
    assert_eq!(target(&app, "globex", "/Spring_VIP").await, None);
    let globex = Handle::parse("globex").unwrap();
    let l = tenx_shared::links::load(app.store.as_ref(), &globex, &Slug::parse("spring").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.version, 1);

    let r = app
        .client
        .get(app.url("/v2/handles/acme/audit"))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    let items: Value = r.json().await.unwrap();
    let items = items["items"].as_array().unwrap();
    let action = |a: &str| {
        items
            .iter()
            .filter(|e| e["action"] == a)
            .collect::<Vec<_>>()
    };
    assert_eq!(action("import.started").len(), 1, "{items:?}");
    assert_eq!(action("import.finished").len(), 1);
    assert_eq!(action("link.created").len(), 2);
    // The worker wrote as the person who started the import.
    for e in action("import.finished")
        .into_iter()
        .chain(action("link.created"))
    {
        assert_eq!(
            e["actor"],
            serde_json::json!({"type": "jwt", "id": "tester"}),
            "{e}"
        );
    }
    assert!(
        action("import.finished")[0]["target"]
            .as_str()
            .unwrap()
            .contains("2 created")
    );
}

/// `tenx import` writes a file through the same service, to the end, with no body limit (the
/// embedded backend: its data dir, the server stopped).
#[tokio::test]
async fn tenx_import_writes_a_file_to_the_end_and_prints_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let file = dir.path().join("links.csv");
    std::fs::write(&file, big_csv()).unwrap();
    let cli = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .args(["import", "--source", "csv", "--handle", "acme"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&data)
            .args(["--backend", "embedded"])
            .args(extra)
            .env("TENX_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let dry = cli(&["--dry-run"]);
    assert_eq!(dry["status"], "done");
    assert_eq!(counts(&dry), [250, 0, 0, 0], "{dry}");
    let report = cli(&[]);
    assert_eq!(report["status"], "done");
    assert_eq!(counts(&report), [250, 0, 0, 0], "{report}");
    let again = cli(&[]);
    assert_eq!(counts(&again), [0, 0, 250, 0], "{again}");
    // The links are in the data dir's store, under their aliases.
    let store = tenx_shared::runtime::local::DataDir::prepare(&data)
        .unwrap()
        .open_store()
        .unwrap();
    let alias = tenx_shared::links::resolve_alias(store.as_ref(), &acme(), "Row_7")
        .await
        .unwrap()
        .expect("an alias");
    let link = tenx_shared::links::load(store.as_ref(), &acme(), &alias)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.destination_url, "https://shop.example/7");
    // A source it does not know: refused, naming it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
        .args(["import", "--source", "nope", "--handle", "acme"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

/// Writes a CSV of `rows` links (each with an 8 KiB column the importer ignores, as exports
/// carry) and, after them, a row the slug rule refuses; it is written as it is generated, never
/// held whole. Its size.
fn write_large_csv(path: &std::path::Path, rows: usize) -> u64 {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let pad = "n".repeat(8192);
    writeln!(f, "slug,destination_url,notes").unwrap();
    for i in 0..rows {
        writeln!(f, "Big_{i},https://shop.example/{i},{pad}").unwrap();
    }
    writeln!(f, "bad slug,https://shop.example/bad,").unwrap();
    f.flush().unwrap();
    drop(f);
    std::fs::metadata(path).unwrap().len()
}

/// `tenx import` reads a file over the API's limit as a stream: every row in, the refused one
/// reported at its row, a re-run changing nothing, and its peak memory not growing with the
/// file (a file four times as large takes less than 8 MiB more: the file held whole would
/// take at least twice its size).
#[tokio::test]
async fn tenx_import_streams_a_file_over_the_api_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cli = |file: &std::path::Path, extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .args(["import", "--source", "csv", "--handle", "acme"])
            .arg(file)
            .arg("--data-dir")
            .arg(&data)
            .args(["--backend", "embedded"])
            .args(extra)
            .env("TENX_LOG", "warn")
            .env("TENX_REPORT_PEAK_MEMORY", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let peak_kib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak memory: "))
            .and_then(|v| v.trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in {stderr}"));
        (
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            peak_kib,
        )
    };
    let rows = 560;
    let file = dir.path().join("large.csv");
    let size = write_large_csv(&file, rows);
    assert!(size > tenx_shared::imports::MAX_BODY_BYTES as u64, "{size}");
    let n = rows as u64;
    let (dry, small_peak) = cli(&file, &["--dry-run"]);
    assert_eq!(counts(&dry), [n, 0, 0, 1], "{dry}");
    let (report, _) = cli(&file, &[]);
    assert_eq!(report["status"], "done");
    assert_eq!(counts(&report), [n, 0, 0, 1], "{report}");
    // The refused row is named by its row in the file (the header is row 1).
    assert_eq!(report["errors"][0]["row"], n + 2, "{report}");
    assert_eq!(report["errors"][0]["field"], "slug", "{report}");
    let (again, _) = cli(&file, &[]);
    assert_eq!(counts(&again), [0, 0, n, 1], "{again}");
    let store = tenx_shared::runtime::local::DataDir::prepare(&data)
        .unwrap()
        .open_store()
        .unwrap();
    for i in [0, rows / 2, rows - 1] {
        let alias = tenx_shared::links::resolve_alias(store.as_ref(), &acme(), &format!("Big_{i}"))
            .await
            .unwrap()
            .expect("an alias");
        let link = tenx_shared::links::load(store.as_ref(), &acme(), &alias)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(link.destination_url, format!("https://shop.example/{i}"));
    }
    drop(store);
    // Four times the file (a dry run: the same reading and staging): memory stays where it was.
    let larger = dir.path().join("larger.csv");
    let larger_size = write_large_csv(&larger, 4 * rows);
    let (dry, large_peak) = cli(&larger, &["--dry-run"]);
    assert_eq!(counts(&dry), [3 * n, 0, n, 1], "{dry}");
    let grew_kib = large_peak.saturating_sub(small_peak);
    assert!(
        grew_kib < 8 * 1024,
        "{larger_size} bytes took {grew_kib} KiB more than {size} ({small_peak} → {large_peak} KiB)"
    );
}
