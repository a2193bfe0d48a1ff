//! Issue 61: the portal overview's "clicks → conversions" and "top links", in the partner's
//! summary (`traffic`). Real clicks and sales through two links of the partner (and another
//! partner's, which must stay out), a partial refund: the summary's clicks and conversions are
//! the funnel's, its links' clicks add up to them, its links' earnings add up to the earnings
//! chart and to the balance, and `tenx ledger check` finds the per-link earnings as the lines
//! say.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::*;

/// A decimal string (two decimals) as cents.
fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("an amount: {v}"));
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let sign = if int.starts_with('-') { -1 } else { 1 };
    sign * (int.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + frac.parse::<i64>().unwrap())
}

/// A human's click on `path` and a verified sale of `value` EUR on it: the conversion's id.
async fn sale(app: &TestApp, path: &str, key: &str, value: &str) -> String {
    let ctx = human_ctx(app, "acme", path).await;
    let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": value, "currency": "EUR"});
    let resp = app
        .as_role("acme", Role::Creator)
        .convert_verified(&body)
        .await;
    json_of(resp, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The summary once its counts and lines are in: `clicks` clicks, `conversions` sales and
/// `lines` ledger lines of pub-one (the workers count and accrue them).
async fn settled(app: &TestApp, clicks: i64, conversions: i64, lines: usize) -> Value {
    let op = app.as_role("acme", Role::Operator);
    eventually_or("the summary to settle", || async {
        let listed = json_of(op.list_commissions("partnerId=pub-one").await, 200).await;
        let last = json_of(op.get("/partners/pub-one/summary").await, 200).await;
        let t = &last["traffic"];
        let listed = listed["items"].as_array().unwrap().len();
        if t["clicks"] == clicks && t["conversions"] == conversions && listed == lines {
            Ok(last)
        } else {
            Err(format!("{listed} lines; {last:#}"))
        }
    })
    .await
}

#[tokio::test]
async fn the_overviews_clicks_conversions_and_top_links_add_up_with_the_funnel_and_the_balance() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    two_partners(&app, &plan, Some(&plan)).await;
    let op = app.as_role("acme", Role::Operator);
    let second =
        json!({"destinationUrl": "https://shop.example.com/spring", "campaignId": "alpha"});
    assert_eq!(op.put_link("deal-spring", &second).await.status(), 201);
    // pub-one: 3 sales on /deal (one of them partly refunded), 1 on /deal-spring and a click
    // without a sale there; pub-two: a sale on /offer, in none of pub-one's figures.
    sale(&app, "/deal", "o-1", "100.00").await;
    let refunded = sale(&app, "/deal", "o-2", "50.00").await;
    sale(&app, "/deal", "o-3", "20.00").await;
    sale(&app, "/deal-spring", "o-4", "30.00").await;
    human_ctx(&app, "acme", "/deal-spring?sub1=video").await;
    sale(&app, "/offer", "o-5", "500.00").await;
    // The refund's line waits for the sale's (the reversal adjusts a line that exists).
    settled(&app, 5, 4, 4).await;
    let refund = json!({"reason": "refund", "amount": "20.00"});
    json_of(op.reverse(&refunded, &refund).await, 201).await;
    let got = settled(&app, 5, 4, 5).await;
    let t = &got["traffic"];

    // Clicks → conversions: the funnel's own numbers over the same days.
    let days = got["earnings"].as_array().unwrap();
    let (from, to) = (&days[0]["day"], &days[days.len() - 1]["day"]);
    let funnel = json_of(
        op.analytics(&format!(
            "funnel=true&partnerId=pub-one&from={}&to={}",
            from.as_str().unwrap(),
            to.as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    let totals = &funnel["totals"];
    assert_eq!(
        (&t["clicks"], &t["qualifiedClicks"], &t["conversions"]),
        (
            &totals["clicks"],
            &totals["qualifiedClicks"],
            &totals["conversions"]
        )
    );
    assert_eq!(t["conversionRate"], totals["conversionRate"]);
    assert_eq!(
        t["conversions"], 4,
        "the refund takes money back, not the sale"
    );

    // Top links by clicks: every link of the partner, most clicks first, adding up.
    let by_clicks = t["topLinks"]["byClicks"].as_array().unwrap();
    let slugs: Vec<&str> = by_clicks
        .iter()
        .map(|l| l["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["deal", "deal-spring"]);
    assert_eq!(
        by_clicks
            .iter()
            .map(|l| l["clicks"].as_i64().unwrap())
            .sum::<i64>(),
        t["clicks"].as_i64().unwrap()
    );
    assert_eq!(
        by_clicks
            .iter()
            .map(|l| l["conversions"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );
    assert_eq!(
        (&by_clicks[1]["clicks"], &by_clicks[1]["conversions"]),
        (&json!(2), &json!(1))
    );

    // Top links by earnings: /deal €10 + €5 − €2 + €2, /deal-spring €3, from the counters.
    let by_earnings = t["topLinks"]["byEarnings"].as_array().unwrap();
    assert_eq!(
        by_earnings
            .iter()
            .map(|l| (l["slug"].as_str().unwrap(), l["earned"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("deal", "15.00"), ("deal-spring", "3.00")]
    );
    let linked: i64 = by_earnings.iter().map(|l| cents(&l["earned"])).sum();
    // … which is the earnings chart's sum (every line here came through a link) …
    let charted: i64 = days
        .iter()
        .map(|d| cents(&d["pending"]) + cents(&d["approved"]) + cents(&d["paid"]))
        .sum();
    assert_eq!(linked, charted);
    // … and the balance's: pending + approved − owed back (nothing paid yet).
    let b = &got["balance"];
    assert_eq!(
        linked,
        cents(&b["pending"]) + cents(&b["approved"]) - cents(&b["owedBack"])
    );
    // … and the funnel's commission amounts of the partner's campaign.
    let row = &funnel["campaigns"][0];
    let amount = |k: &str| row[k].get("EUR").map_or(0, cents);
    assert_eq!(
        linked,
        amount("commissionsPendingAmount")
            + amount("commissionsApprovedAmount")
            + amount("commissionsPaidAmount")
    );

    // The partner reads the same figures; the ledger check finds the per-link earnings right.
    let partner = as_partner(&app, "acme", "pub-one").await;
    let own = json_of(partner.get("/partners/pub-one/summary").await, 200).await;
    assert_eq!(own["traffic"], got["traffic"]);
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let report = tenx_shared::ledger::check::check(app.store.as_ref(), &handle)
        .await
        .unwrap();
    assert!(report.clean(), "{:?}", report.drifts);

    // A window before any traffic: zeros and no links, in the envelope's words otherwise.
    let empty = json_of(
        op.get("/partners/pub-one/summary?from=2026-01-01&to=2026-01-07")
            .await,
        200,
    )
    .await;
    assert_eq!(
        empty["traffic"],
        json!({"clicks": 0, "qualifiedClicks": 0, "conversions": 0, "conversionRate": null,
            "topLinks": {"byClicks": [], "byEarnings": []}})
    );
}

/// Lines recorded before lines carried their link (older sales) are in no link's earnings:
/// the summary sums them apart (`earnedBeforeLinks`), so the links and that sum add up to the
/// earnings chart and the balance, and the overview shows them as one row in words.
#[tokio::test]
async fn sales_before_links_were_recorded_are_summed_apart_so_the_links_add_up() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    two_partners(&app, &plan, None).await;
    let conversion = sale(&app, "/deal", "o-1", "100.00").await;
    settled(&app, 1, 1, 1).await;
    // An older sale's line, as the ledger wrote them before they carried their link: €4.00.
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let store = app.store.clone();
    let id = tenx_shared::domain::ConversionId::parse(&conversion).unwrap();
    let line = tenx_shared::ledger::get(
        store.as_ref(),
        &handle,
        &tenx_shared::domain::CommissionId::of_conversion(&id),
    )
    .await
    .unwrap()
    .expect("the sale's line");
    assert_eq!(line.link.as_deref(), Some("deal"));
    let older_sale = tenx_shared::domain::ConversionId::new();
    let mut older = line.clone();
    older.commission_id = tenx_shared::domain::CommissionId::of_conversion(&older_sale);
    older.conversion_id = Some(older_sale);
    older.amount_minor = Some(400);
    older.link = None;
    older.balanced = false;
    older.as_read = None;
    older.version = 0;
    store
        .transact(older.create(&handle).unwrap())
        .await
        .unwrap();

    let got = settled(&app, 1, 1, 2).await;
    let top = &got["traffic"]["topLinks"];
    assert_eq!(top["earnedBeforeLinks"], "4.00", "{top}");
    assert_eq!(
        top["byEarnings"],
        json!([{"slug": "deal", "clicks": 1, "conversions": 1, "earned": "10.00"}])
    );
    let linked: i64 = top["byEarnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| cents(&l["earned"]))
        .sum::<i64>()
        + cents(&top["earnedBeforeLinks"]);
    let charted: i64 = got["earnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| cents(&d["pending"]) + cents(&d["approved"]) + cents(&d["paid"]))
        .sum();
    assert_eq!((linked, charted), (1400, 1400));
    let b = &got["balance"];
    assert_eq!(
        linked,
        cents(&b["pending"]) + cents(&b["approved"]) - cents(&b["owedBack"])
    );
    // The partner reads the same; a window without such lines has no such sum.
    let partner = as_partner(&app, "acme", "pub-one").await;
    let own = json_of(partner.get("/partners/pub-one/summary").await, 200).await;
    assert_eq!(own["traffic"], got["traffic"]);
    let empty = json_of(
        app.as_role("acme", Role::Operator)
            .get("/partners/pub-one/summary?from=2026-01-01&to=2026-01-07")
            .await,
        200,
    )
    .await;
    assert_eq!(empty["traffic"]["topLinks"].get("earnedBeforeLinks"), None);
}
