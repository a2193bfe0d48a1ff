//! Issue 43: a large payout's statement read a page at a time. Pages walk every line once, in
//! the payout's order, each with the signed header; the pages together verify offline; a bad
//! cursor or limit is a 400, never a 500.

use serde_json::{Value, json};
use tenx_shared::domain::proof::jws::Jwks;
use tenx_shared::http::auth::Role;
use tenx_shared::payouts::verify;

use crate::endpoints::As;
use crate::helpers::*;
use crate::scenario::{partner, seed_lines};

/// Over a page of payout ids (1,000), under the size answered whole (5,000).
const LINES: usize = 1_234;

async fn jwks(app: &TestApp) -> Jwks {
    let keys = app.client.get(app.url("/v2/public/keys")).send().await;
    serde_json::from_value(json_of(keys.unwrap(), 200).await).unwrap()
}

/// A payout of `LINES` lines of 1.01 for partner `big`, and its line ids in statement order.
async fn big_payout(app: &TestApp) -> (String, Vec<String>) {
    partner(app, "big").await;
    let mut ids: Vec<String> = seed_lines(app, "big", LINES, 101)
        .await
        .iter()
        .map(ToString::to_string)
        .collect();
    ids.sort();
    let op = app.as_role("acme", Role::Operator);
    let period =
        json!({"partnerId": "big", "periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("pages", &period).await, 201).await;
    (
        run["payouts"][0]["payoutId"].as_str().unwrap().to_owned(),
        ids,
    )
}

/// Every JSON page of the statement, `limit` lines at a time, following `nextCursor`.
async fn json_pages(op: &As<'_>, pid: &str, limit: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut query = format!("format=json&limit={limit}");
    loop {
        let page = json_of(op.statement_page(pid, &query).await, 200).await;
        let next = page["nextCursor"].as_str().map(str::to_owned);
        pages.push(page);
        match next {
            Some(c) => query = format!("format=json&limit={limit}&cursor={c}"),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn a_large_statement_is_read_page_by_page_every_line_once_in_order_and_verifies() {
    let app = spawn_app_without_workers().await;
    let (pid, ids) = big_payout(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let keys = jwks(&app).await;

    // 400 lines a page: 4 pages, two of them across a page of stored ids.
    let pages = json_pages(&op, &pid, 400).await;
    assert_eq!(pages.len(), 4);
    let listed: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["lines"].as_array().unwrap())
        .map(|l| l["commissionId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "every line once, in the payout's order");
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page["offset"], i * 400);
        assert_eq!(page["header"], pages[0]["header"]);
        assert_eq!(page["header"]["treeSize"], LINES);
    }
    assert_eq!(
        verify::any(&Value::Array(pages.clone()), &keys),
        Ok("paged statement")
    );
    // Each page alone verifies against the signed root by its range proof (O(log n) hashes).
    for page in &pages {
        assert_eq!(verify::any(page, &keys), Ok("statement page"));
        assert!(page["rangeProof"].as_array().unwrap().len() <= 2 * 11);
    }
    // A line changed, or a page shown at another offset, does not.
    let mut changed = pages[2].clone();
    changed["lines"][5]["amount"] = json!("1.02");
    assert!(verify::page(&changed, &keys).is_err());
    let mut moved = pages[2].clone();
    moved["offset"] = json!(400);
    assert!(verify::page(&moved, &keys).is_err());
    // Pages at the edges of the stored blocks (1,024 leaves) and ids (1,000) verify too.
    use base64::Engine;
    for (offset, limit) in [
        (0, 1),
        (999, 2),
        (1023, 1),
        (1023, 3),
        (1024, 210),
        (1233, 5),
    ] {
        let cursor =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("line:{offset}"));
        let page = json_of(
            op.statement_page(&pid, &format!("limit={limit}&cursor={cursor}"))
                .await,
            200,
        )
        .await;
        let expected = &ids[offset..(offset + limit).min(LINES)];
        let got: Vec<&str> = page["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["commissionId"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{offset}+{limit}");
        verify::page(&page, &keys).unwrap_or_else(|e| panic!("{offset}+{limit}: {e}"));
    }
    // A page dropped, or two swapped, no longer verifies.
    let mut missing = pages.clone();
    missing.remove(1);
    assert!(verify::pages(&missing, &keys).is_err());
    let mut swapped = pages.clone();
    swapped.swap(1, 2);
    assert!(verify::pages(&swapped, &keys).is_err());

    // Unpaged, a statement under the threshold is answered whole, as it always was.
    let whole = json_of(op.statement(&pid, "json").await, 200).await;
    assert_eq!(whole["lines"].as_array().unwrap().len(), LINES);
    assert!(whole.get("nextCursor").is_none() && whole.get("offset").is_none());
    verify::statement(&whole, &keys).expect("the whole statement verifies");
}

#[tokio::test]
async fn csv_pages_each_have_their_header_row_and_together_list_every_line() {
    let app = spawn_app_without_workers().await;
    let (pid, ids) = big_payout(&app).await;
    let op = app.as_role("acme", Role::Operator);
    let mut rows = Vec::new();
    let mut query = "format=csv&limit=500".to_owned();
    let mut pages = 0;
    loop {
        let resp = op.statement_page(&pid, &query).await;
        assert_eq!(resp.status(), 200);
        let next = resp
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
        let header = lines.next().unwrap();
        assert!(header.starts_with("commissionId,kind,"));
        // The kind in words after the documented columns (issue 62).
        assert!(header.ends_with(",amount,currency,kindWords"), "{header}");
        let lines: Vec<&str> = lines.collect();
        // Every line of this payout is a manual one: its kind, then its words, last (quoted:
        // they hold a comma).
        assert!(
            lines.iter().all(|l| l.contains(",manual,")
                && l.ends_with(r#","By hand, outside the plan and the payout batches""#)),
            "{lines:?}"
        );
        rows.extend(
            lines
                .iter()
                .map(|l| l.split(',').next().unwrap().to_owned()),
        );
        pages += 1;
        match next {
            Some(c) => query = format!("format=csv&limit=500&cursor={c}"),
            None => break,
        }
    }
    assert_eq!((pages, rows), (3, ids));
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_a_400_in_the_envelope() {
    let app = spawn_app_without_workers().await;
    let op = app.as_role("acme", Role::Operator);
    partner(&app, "big").await;
    seed_lines(&app, "big", 3, 100).await;
    let period =
        json!({"partnerId": "big", "periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("bad", &period).await, 201).await;
    let pid = run["payouts"][0]["payoutId"].as_str().unwrap();
    let first = json_of(op.statement_page(pid, "limit=2").await, 200).await;
    let next = first["nextCursor"].as_str().unwrap();
    let last = json_of(
        op.statement_page(pid, &format!("limit=2&cursor={next}"))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (last["offset"].as_u64(), &last["nextCursor"]),
        (Some(2), &Value::Null)
    );
    use base64::Engine;
    let past_end = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("line:3");
    let bad = [
        "limit=0".to_owned(),
        "limit=-1".to_owned(),
        "limit=5001".to_owned(),
        "limit=ten".to_owned(),
        "cursor=%21%21%21".to_owned(),
        "cursor=bm90IGEgY3Vyc29y".to_owned(),
        format!("cursor={past_end}"),
        "format=xml&limit=2".to_owned(),
        "page=2".to_owned(),
    ];
    for query in bad {
        let resp = op.statement_page(pid, &query).await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(!message.is_empty(), "{query}");
    }
}
