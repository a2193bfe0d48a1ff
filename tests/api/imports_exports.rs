//! Imports of what a manager downloads from a tool's dashboard: Dub's, Bitly's and Short.io's
//! links CSVs (`tests/fixtures/imports/*-links.csv`), read whatever Excel did to them (a BOM,
//! UTF-16, semicolons, headers in another case and order), each refused row named in the
//! report in the file's order with its line and why, the counts adding up; a dry run writes
//! nothing, a re-run changes nothing; a file of another tool, or one cut short, is refused in
//! words before anything is written.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tenx_shared::domain::imported_slug::ImportedSlug;
use tenx_shared::domain::time::Timestamp;
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, acme, assert_error, json_of, spawn_app};
use crate::imports::{counts, finished, fixture, post_import, target};

async fn import(app: &TestApp, query: &str, body: Vec<u8>) -> Value {
    let r = post_import(app, "acme", query, "text/csv", body, Role::Operator).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = finished(app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

/// The report's refused rows as (row, line, field), in the order it lists them.
fn refused(v: &Value) -> Vec<(u64, u64, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
            (
                e["row"].as_u64().unwrap(),
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn history(app: &TestApp, slug: &str) -> tenx_shared::imports::model::ImportedLink {
    let native = ImportedSlug::parse(slug).unwrap().native();
    tenx_shared::imports::run::imported_link(app.store.as_ref(), &acme(), &native)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no history of {slug}"))
}

#[tokio::test]
async fn each_dashboard_export_comes_in_and_its_old_links_redirect() {
    let app = spawn_app().await;
    let dub = import(&app, "source=dub&format=csv", fixture("dub-links.csv")).await;
    assert_eq!(counts(&dub), [3, 0, 0, 2], "{dub}");
    assert_eq!(
        refused(&dub),
        [
            (4, 4, "Short link".to_owned()),
            (5, 5, "Destination URL".to_owned())
        ]
    );
    // The formula guard Dub writes is undone: the cell is the formula, refused as a destination.
    assert!(
        dub["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("http"),
        "{dub}"
    );
    for (slug, destination) in [
        ("Spring_Sale", "https://shop.example/spring"),
        ("launch", "https://shop.example/launch?ref=dub"),
        ("gifts", "https://shop.example/gifts"),
    ] {
        assert_eq!(
            target(&app, "acme", &format!("/{slug}")).await.as_deref(),
            Some(destination)
        );
    }
    let h = history(&app, "Spring_Sale").await;
    assert_eq!(h.clicks, Some(1204));
    assert_eq!(h.revenue_minor, Some(123_450));
    assert_eq!(h.tags, ["newsletter", "spring"]);
    assert_eq!(
        h.created_at.as_ref().map(Timestamp::as_str),
        Some("2026-03-14T10:22:00.000Z")
    );
    assert_eq!(history(&app, "launch").await.tags, ["-launch"]);

    let bitly = import(&app, "source=bitly&format=csv", fixture("bitly-links.csv")).await;
    assert_eq!(counts(&bitly), [2, 0, 0, 1], "{bitly}");
    assert_eq!(refused(&bitly), [(4, 4, "Long URL".to_owned())]);
    // A custom back-half is the link people have, kept over the generated one.
    assert_eq!(
        target(&app, "acme", "/Spring26").await.as_deref(),
        Some("https://shop.example/spring?utm_source=bitly")
    );
    assert_eq!(target(&app, "acme", "/3xYzAbC").await, None);
    assert_eq!(
        target(&app, "acme", "/4QwErTy").await.as_deref(),
        Some("https://shop.example/shoes")
    );
    let h = history(&app, "Spring26").await;
    assert_eq!(
        (h.clicks, h.created_at.map(String::from)),
        (Some(512), Some("2026-03-14T10:22:00Z".to_owned()))
    );
    assert_eq!(history(&app, "4QwErTy").await.clicks, Some(1020));

    let shortio = import(
        &app,
        "source=shortio&format=csv",
        fixture("shortio-links.csv"),
    )
    .await;
    assert_eq!(counts(&shortio), [2, 0, 0, 0], "{shortio}");
    assert_eq!(
        target(&app, "acme", "/Promo_2026").await.as_deref(),
        Some("https://shop.example/promo")
    );
    assert_eq!(history(&app, "Promo_2026").await.tags, ["summer", "ads"]);
}

/// `text` as Excel's "Unicode text" writes it: UTF-16 little-endian with its mark.
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn the_same_export_saved_again_by_a_spreadsheet_reads_the_same() {
    let app = spawn_app().await;
    let original = String::from_utf8(fixture("shortio-links.csv")).unwrap();
    // Excel in Europe: semicolons, headers retyped in another case and order, a BOM, dates
    // day first, thousands grouped with a dot.
    let european = "\u{feff}CREATED AT;original_url;PATH;clicks\n\
        14/03/2026;https://shop.example/promo;Promo_2026;1.044\n\
        03/04/2026;https://shop.example/gift-cards;gift;7\n";
    let cases: [(&str, Vec<u8>); 3] = [
        ("UTF-16", utf16le(&original)),
        (
            "a BOM",
            [b"\xEF\xBB\xBF".as_slice(), original.as_bytes()].concat(),
        ),
        ("semicolons", european.as_bytes().to_vec()),
    ];
    for (what, body) in cases {
        let v = import(&app, "source=shortio&format=csv&dryRun=true", body).await;
        assert_eq!(counts(&v), [2, 0, 0, 0], "{what}: {v}");
    }
    let v = import(
        &app,
        "source=shortio&format=csv",
        european.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(counts(&v), [2, 0, 0, 0], "{v}");
    let h = history(&app, "Promo_2026").await;
    assert_eq!(h.clicks, Some(1044));
    assert_eq!(&h.created_at.unwrap().as_str()[..10], "2026-03-14");
    // A day-first file reads 03/04 as the 3rd of April.
    let h = history(&app, "gift").await;
    assert_eq!(&h.created_at.unwrap().as_str()[..10], "2026-04-03");
}

#[tokio::test]
async fn another_tools_file_or_a_cut_one_is_refused_in_words_before_anything_is_written() {
    let app = spawn_app().await;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "source=dub&format=csv",
            fixture("bitly-links.csv"),
            "It looks like Bitly's links export (choose Bitly)",
        ),
        (
            "source=bitly&format=csv",
            fixture("links.csv"),
            "It looks like 10x's own CSV",
        ),
        (
            "source=shortio&format=csv",
            b"name,email\nJane,jane@example.com\n".to_vec(),
            "its columns are: \u{201c}name\u{201d}, \u{201c}email\u{201d}",
        ),
        (
            "source=dub&format=csv",
            fixture("dub-links.csv")[..700].to_vec(),
            "It looks cut short",
        ),
    ];
    for (query, body, words) in cases {
        let r = post_import(&app, "acme", query, "text/csv", body, Role::Operator).await;
        let message = assert_error(r, 400, "invalid_request").await;
        assert!(message.contains(words), "{query}: {message}");
    }
    // Nothing was written, and the handle is free to import the right file.
    assert_eq!(target(&app, "acme", "/Spring_Sale").await, None);
    let v = import(&app, "source=dub&format=csv", fixture("dub-links.csv")).await;
    assert_eq!(counts(&v), [3, 0, 0, 2]);
}

#[tokio::test]
async fn the_dry_run_names_each_refused_row_in_file_order_and_a_re_run_changes_nothing() {
    let app = spawn_app().await;
    // Each kind of refused row: a slug 10x cannot serve, a date, a click total, a slug the
    // file repeats, a destination that is not a URL (in a quoted cell over two lines).
    let body = "Short link,Destination URL,Clicks,Created at\n\
        https://dub.sh/one,https://a.example/1,1,2026-01-01\n\
        https://dub.sh/two words,https://a.example/2,1,2026-01-01\n\
        https://dub.sh/three,https://a.example/3,1,someday\n\
        https://dub.sh/four,https://a.example/4,\"12.5\",2026-01-01\n\
        https://dub.sh/one,https://a.example/again,1,2026-01-01\n\
        https://dub.sh/five,\"not a URL\nat all\",1,2026-01-01\n\
        https://dub.sh/six,https://a.example/6,1,2026-01-01\n";
    let dry = import(
        &app,
        "source=dub&format=csv&dryRun=true",
        body.as_bytes().to_vec(),
    )
    .await;
    let c = counts(&dry);
    // Every row is counted once: 7 rows, 2 would come in, 5 cannot.
    assert_eq!(c, [2, 0, 0, 5], "{dry}");
    assert_eq!(c.iter().sum::<u64>(), 7);
    let listed = refused(&dry);
    assert_eq!(listed.len() as u64, c[3], "one line per refused row: {dry}");
    let rows: Vec<(u64, u64)> = listed.iter().map(|(r, l, _)| (*r, *l)).collect();
    // Row 7's cell spans two lines: row 8 starts on line 9.
    assert_eq!(rows, [(3, 3), (4, 4), (5, 5), (6, 6), (7, 7)], "{dry}");
    let fields: Vec<&str> = listed.iter().map(|(_, _, f)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "Short link",
            "Created at",
            "Clicks",
            "Short link",
            "Destination URL"
        ]
    );
    assert!(
        dry["errors"][3]["message"]
            .as_str()
            .unwrap()
            .contains("row 2 already has it"),
        "{dry}"
    );
    // Nothing written by the dry run.
    assert_eq!(target(&app, "acme", "/one").await, None);
    assert_eq!(target(&app, "acme", "/six").await, None);

    let real = import(&app, "source=dub&format=csv", body.as_bytes().to_vec()).await;
    assert_eq!(counts(&real), c, "{real}");
    assert_eq!(refused(&real), listed);
    let again = import(&app, "source=dub&format=csv", body.as_bytes().to_vec()).await;
    assert_eq!(counts(&again), [0, 0, 2, 5], "{again}");
    assert_eq!(
        target(&app, "acme", "/one").await.as_deref(),
        Some("https://a.example/1")
    );
    let link = tenx_shared::links::load(
        app.store.as_ref(),
        &acme(),
        &tenx_shared::domain::Slug::parse("one").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(link.version, 1, "the re-run wrote the link again");
}

#[tokio::test]
async fn a_file_chosen_in_a_browser_goes_by_its_format_whatever_its_type() {
    let app = spawn_app().await;
    let r = post_import(
        &app,
        "acme",
        "source=shortio&format=csv&dryRun=true",
        "application/octet-stream",
        fixture("shortio-links.csv"),
        Role::Operator,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = post_import(
        &app,
        "acme",
        "source=shortio&format=xlsx",
        "text/csv",
        fixture("shortio-links.csv"),
        Role::Operator,
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
}

/// POST `body` to the preview, as an operator of acme.
async fn preview(app: &TestApp, query: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v2/handles/acme/imports/preview{query}")))
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn any_other_csv_comes_in_by_the_managers_column_map_remembered_per_tool() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    // A tool 10x does not know, saved by Excel in Europe.
    let file = "Alias;Target;Hits;Label\n\
        spring;https://shop.example/spring;1.204;'=Spring\n\
        bad alias;https://shop.example/x;3;X\n\
        summer;https://shop.example/summer;7;Summer\n";
    let p = json_of(preview(&app, "?tool=Link%20Tree", file).await, 200).await;
    assert_eq!(
        p["columns"],
        serde_json::json!(["Alias", "Target", "Hits", "Label"])
    );
    assert_eq!(p["delimiter"], ";");
    assert_eq!(
        p["rows"][0],
        serde_json::json!(["spring", "https://shop.example/spring", "1.204", "=Spring"])
    );
    assert_eq!(p["rows"].as_array().unwrap().len(), 3);
    assert_eq!(p["remembered"], false);
    // 10x's guess: what it recognises by name ("Label" it does not).
    assert_eq!(
        p["columnMap"],
        serde_json::json!({"slug": "Alias", "destinationUrl": "Target", "clicks": "Hits"})
    );
    assert!(p["fields"].as_array().unwrap().len() >= 9, "{p}");

    // A map without the destination is refused, naming it.
    let r = op
        .send_json(
            Method::PUT,
            "/imports/column-maps/linktree",
            &serde_json::json!({"columns": {"slug": "Alias"}}),
        )
        .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("destination"), "{message}");
    let map = serde_json::json!({"columns": {
        "slug": "Alias", "destinationUrl": "TARGET", "clicks": "hits", "title": "Label"
    }});
    let saved = json_of(
        op.send_json(Method::PUT, "/imports/column-maps/Link%20Tree", &map)
            .await,
        200,
    )
    .await;
    assert_eq!(saved["tool"], "Link Tree");
    // Remembered for the tool, whatever the case and spaces of its name.
    let got = json_of(op.get("/imports/column-maps/link-tree").await, 200).await;
    assert_eq!(got["columns"], map["columns"]);
    let p = json_of(preview(&app, "?tool=LINKTREE", file).await, 200).await;
    assert_eq!(p["remembered"], true);
    assert_eq!(p["columnMap"], map["columns"]);
    // Another handle has none.
    let other = app.as_role("other", Role::Operator);
    assert_error(
        other.get("/imports/column-maps/linktree").await,
        404,
        "not_found",
    )
    .await;

    let dry = import(
        &app,
        "source=csv&columnMap=linktree&dryRun=true",
        file.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(counts(&dry), [2, 0, 0, 1], "{dry}");
    assert_eq!(refused(&dry), [(3, 3, "Alias".to_owned())]);
    assert_eq!(target(&app, "acme", "/spring").await, None);
    let v = import(
        &app,
        "source=csv&columnMap=linktree",
        file.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(counts(&v), [2, 0, 0, 1], "{v}");
    assert_eq!(
        target(&app, "acme", "/spring").await.as_deref(),
        Some("https://shop.example/spring")
    );
    assert_eq!(history(&app, "spring").await.clicks, Some(1204));
    let link = tenx_shared::links::load(
        app.store.as_ref(),
        &acme(),
        &tenx_shared::domain::Slug::parse("spring").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(link.title.as_deref(), Some("=Spring"));
    let again = import(
        &app,
        "source=csv&columnMap=linktree",
        file.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(counts(&again), [0, 0, 2, 1], "{again}");

    // A file of the tool without a mapped column is refused whole, naming it.
    let r = post_import(
        &app,
        "acme",
        "source=csv&columnMap=linktree",
        "text/csv",
        b"Alias;Target\nx;https://a.example/\n".to_vec(),
        Role::Operator,
    )
    .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(
        message.contains("no column \u{201c}Label\u{201d} (the map reads the title from it)"),
        "{message}"
    );
    // A map no one saved, and a map with another source.
    let r = post_import(
        &app,
        "acme",
        "source=csv&columnMap=nope",
        "text/csv",
        file.into(),
        Role::Operator,
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = post_import(
        &app,
        "acme",
        "source=dub&columnMap=linktree",
        "text/csv",
        file.into(),
        Role::Operator,
    )
    .await;
    assert_error(r, 400, "invalid_request").await;
    // A preview of nothing says so.
    assert_error(preview(&app, "", "").await, 400, "invalid_request").await;
}
