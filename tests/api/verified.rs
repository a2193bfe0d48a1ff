//! Trustworthy conversions, end to end: merchant-verified conversions, the conversion policy
//! (deny, fraud signals), per-click and per-address limits on the public route (the client
//! address: the socket's peer, a forwarded-for hop only behind a trusted proxy), reversals with
//! their events and net revenue, the crash-safe fan-out of verified conversions and reversals,
//! the audit trail, and bad input on every new route.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::events::Event;

use crate::helpers::*;
use crate::scenario::*;

/// A campaign with its link on `handle`, and one human click on it: the click's ctx.
async fn clicked(app: &TestApp, handle: &str) -> String {
    let operator = app.as_role(handle, Role::Operator);
    let campaign = json!({"campaignId": "partner-alpha", "goalType": "AFFILIATE_CLICKOUT",
        "primaryLink": {"slug": "deal", "destinationUrl": "https://shop.example.com/deal"}});
    let status = operator.create_campaign(&campaign).await.status();
    assert!(status == 201 || status == 409, "{status}");
    new_ctx(app, handle).await
}

async fn new_ctx(app: &TestApp, handle: &str) -> String {
    human_ctx(app, handle, "/deal").await
}

fn purchase(ctx: &str, key: &str, value: f64) -> Value {
    json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": value,
        "currency": "USD"})
}

/// On one click: a verified purchase of 30 (key `keys.0`) and a public one of 10 (`keys.1`);
/// answers the verified one's conversion id.
async fn verified_30_public_10(app: &TestApp, ctx: &str, keys: (&str, &str)) -> String {
    let merchant = app.as_role("acme", Role::Creator);
    let verified = merchant
        .convert_verified(&purchase(ctx, keys.0, 30.0))
        .await;
    let verified = json_of(verified, 202).await;
    json_of(app.convert(&purchase(ctx, keys.1, 10.0)).await, 202).await;
    verified["conversionId"].as_str().unwrap().to_owned()
}

/// The funnel's totals once `counted` holds of the funnel.
async fn totals_once(app: &TestApp, counted: impl Fn(&Value) -> bool) -> (Value, Value) {
    let viewer = app.as_role("acme", Role::Viewer);
    let funnel = eventually_or("the funnel to count", || async {
        let funnel = json_of(viewer.analytics("funnel=true").await, 200).await;
        if counted(&funnel) {
            Ok(funnel)
        } else {
            Err(funnel["totals"].to_string())
        }
    })
    .await;
    (funnel["totals"].clone(), funnel)
}

async fn set_policy(app: &TestApp, policy: Value) -> Value {
    let resp = app
        .as_role("acme", Role::Operator)
        .put_conversion_policy(&policy)
        .await;
    json_of(resp, 200).await
}

#[tokio::test]
async fn verified_conversions_share_the_keyspace_and_need_their_own_handles_ctx() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    set_policy(&app, json!({"minSecondsAfterClick": 0})).await;
    let merchant = app.as_role("acme", Role::Creator);
    let first = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "o-1", 20.0))
            .await,
        202,
    )
    .await;
    assert_eq!(
        (first["verified"].clone(), first["deduped"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(first["risk"], json!({"score": 0, "reasons": []}));
    // The same key on the public route replays the verified original.
    let replay = json_of(app.convert(&purchase(&ctx, "o-1", 20.0)).await, 200).await;
    assert_eq!(replay["conversionId"], first["conversionId"]);
    assert_eq!(
        (replay["verified"].clone(), replay["deduped"].clone()),
        (json!(true), json!(true))
    );
    // The other way round, verified beats unverified: the merchant's post supersedes the
    // public one holding its key (tests/api/trust.rs has the details).
    let public = json_of(app.convert(&purchase(&ctx, "o-2", 5.0)).await, 202).await;
    assert_eq!(public["verified"], false);
    let again = json_of(
        merchant.convert_verified(&purchase(&ctx, "o-2", 5.0)).await,
        202,
    )
    .await;
    assert_eq!(again["verified"], true);
    assert_ne!(again["conversionId"], public["conversionId"]);
    // A ctx of another handle's click is refused on the authenticated route.
    let rival_ctx = clicked(&app, "rival").await;
    let resp = merchant
        .convert_verified(&purchase(&rival_ctx, "o-3", 5.0))
        .await;
    let message = assert_error(resp, 400, "invalid_ctx").await;
    assert!(message.contains("another handle"), "{message}");
    // A PAT needs conversions.write.
    let operator = app.as_role("acme", Role::Operator);
    let created = operator
        .create_token(&json!({"name": "shop", "scopes": ["conversions.read"]}))
        .await;
    let token = json_of(created, 201).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .with_token("acme", &token)
        .convert_verified(&purchase(&ctx, "o-4", 1.0))
        .await;
    assert_error(resp, 403, "insufficient_scope").await;
    let listed = json_of(
        app.with_token("acme", &token).list_conversions("").await,
        200,
    )
    .await;
    // o-1, o-2 verified, and the superseded public o-2 kept in the audit trail.
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn deny_refuses_public_conversions_and_flag_marks_them() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    let policy = set_policy(&app, json!({"publicConversions": "deny"})).await;
    assert_eq!(
        policy["minSecondsAfterClick"], 10,
        "absent fields take their defaults"
    );
    let resp = app.convert(&purchase(&ctx, "d-1", 10.0)).await;
    let message = assert_error(resp, 403, "verification_required").await;
    assert!(
        message.contains("/v2/handles/acme/conversions"),
        "{message}"
    );
    let merchant = app.as_role("acme", Role::Creator);
    json_of(
        merchant
            .convert_verified(&purchase(&ctx, "d-1", 10.0))
            .await,
        202,
    )
    .await;

    set_policy(
        &app,
        json!({"publicConversions": "flag", "minSecondsAfterClick": 0}),
    )
    .await;
    let flagged = json_of(app.convert(&purchase(&ctx, "d-2", 10.0)).await, 202).await;
    assert_eq!(
        flagged["risk"],
        json!({"score": 40, "reasons": ["unverified"]})
    );
    let shown = json_of(
        app.as_role("acme", Role::Operator)
            .conversion_policy()
            .await,
        200,
    )
    .await;
    assert_eq!(shown["publicConversions"], "flag");
}

#[tokio::test]
async fn fraud_signals_are_flagged_with_their_reasons_and_listed() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    set_policy(
        &app,
        json!({"maxConversionsPerClick": 1, "minSecondsAfterClick": 3600, "maxValue": {"USD": 100}}),
    )
    .await;
    let merchant = app.as_role("acme", Role::Creator);
    let first = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "f-1", 150.0))
            .await,
        202,
    )
    .await;
    assert_eq!(
        first["risk"]["reasons"],
        json!(["too_fast", "value_above_limit"])
    );
    assert_eq!(first["risk"]["score"], 70);
    let second = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "f-2", 50.0))
            .await,
        202,
    )
    .await;
    assert_eq!(
        second["risk"]["reasons"],
        json!(["too_fast", "per_click_cap"])
    );
    // Another event type has its own cap.
    let mut signup = purchase(&ctx, "f-3", 1.0);
    signup["eventType"] = "signup".into();
    let third = json_of(merchant.convert_verified(&signup).await, 202).await;
    assert_eq!(third["risk"]["reasons"], json!(["too_fast"]));
    // The audit trail: newest first, filters, one by id.
    let viewer = app.as_role("acme", Role::Viewer);
    let all = json_of(viewer.list_conversions("limit=2").await, 200).await;
    let ids: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["conversionId"])
        .collect();
    assert_eq!(ids, [&third["conversionId"], &second["conversionId"]]);
    let cursor = all["nextCursor"].as_str().expect("a next page").to_owned();
    let rest = json_of(
        viewer
            .list_conversions(&format!("limit=2&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    assert_eq!(rest["items"][0]["conversionId"], first["conversionId"]);
    assert_eq!(rest["nextCursor"], Value::Null);
    let one = json_of(
        viewer
            .get_conversion(first["conversionId"].as_str().unwrap())
            .await,
        200,
    )
    .await;
    assert_eq!(
        one["risk"]["reasons"],
        json!(["too_fast", "value_above_limit"])
    );
    assert_eq!(
        (one["country"].clone(), one["slug"].clone()),
        (json!("US"), json!("deal"))
    );
    let unverified = json_of(viewer.list_conversions("verified=false").await, 200).await;
    assert!(unverified["items"].as_array().unwrap().is_empty());

    // Under deny, the cap refuses instead of flagging.
    set_policy(
        &app,
        json!({"publicConversions": "deny", "maxConversionsPerClick": 1}),
    )
    .await;
    let resp = merchant.convert_verified(&purchase(&ctx, "f-4", 1.0)).await;
    let message = assert_error(resp, 409, "conflict").await;
    assert!(message.contains("maxConversionsPerClick"), "{message}");
}

#[tokio::test]
async fn a_ctx_flood_is_refused_without_starving_another_ctx() {
    let app = spawn_app_without_workers().await;
    let flood_ctx = clicked(&app, "acme").await;
    let mut accepted = 0;
    let mut limited = 0;
    for wave in 0..15 {
        let sends = (0..10).map(|i| {
            let body = purchase(&flood_ctx, &format!("flood-{wave}-{i}"), 1.0);
            let app = &app;
            async move { app.convert(&body).await.status().as_u16() }
        });
        for status in futures::future::join_all(sends).await {
            match status {
                202 => accepted += 1,
                429 => limited += 1,
                other => panic!("flood answered {other}"),
            }
        }
    }
    assert_eq!(accepted + limited, 150);
    assert!(
        accepted <= 30 * 2,
        "at most the per-click limit per window: {accepted}"
    );
    assert!(limited >= 90, "the flood was refused: {limited}");
    // The merchant's genuine conversion on another click still goes through.
    let other_ctx = new_ctx(&app, "acme").await;
    json_of(
        app.convert(&purchase(&other_ctx, "genuine", 24.99)).await,
        202,
    )
    .await;
}

#[tokio::test]
async fn reversals_are_idempotent_partial_or_full_and_emit_their_event() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    let merchant = app.as_role("acme", Role::Creator);
    let full = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "r-1", 30.0))
            .await,
        202,
    )
    .await;
    let partial = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "r-2", 40.0))
            .await,
        202,
    )
    .await;
    let _ = app.drain_events().await;
    let operator = app.as_role("acme", Role::Operator);
    let id = full["conversionId"].as_str().unwrap();
    let reversed = json_of(
        operator.reverse(id, &json!({"reason": "chargeback"})).await,
        201,
    )
    .await;
    assert_eq!(reversed["reversal"]["amount"], 30);
    assert_eq!(reversed["reversal"]["reason"], "chargeback");
    // A second reverse answers the first, whatever it asks.
    let again = operator
        .reverse(id, &json!({"reason": "refund", "amount": 1}))
        .await;
    let again = json_of(again, 200).await;
    assert_eq!(again["reversal"], reversed["reversal"]);
    let pid = partial["conversionId"].as_str().unwrap();
    let resp = operator
        .reverse(pid, &json!({"reason": "refund", "amount": 40.01}))
        .await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.starts_with("amount"), "{message}");
    let part = json_of(
        operator
            .reverse(pid, &json!({"reason": "partial refund", "amount": "12.5"}))
            .await,
        201,
    )
    .await;
    assert_eq!(part["reversal"]["amount"], 12.5);
    // One conversion.reversed event each, carrying the original conversion's ids.
    let events = app.drain_events().await;
    let reversals: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind.as_str() == "conversion.reversed")
        .collect();
    assert_eq!(reversals.len(), 2, "{events:?}");
    assert_eq!(
        reversals[0].data["conversion"]["conversionId"],
        full["conversionId"]
    );
    assert_eq!(reversals[0].data["conversion"]["clickId"], full["clickId"]);
    assert_eq!(reversals[0].data["amount"], 30);
    assert_eq!(reversals[1].data["amount"], 12.5);
    assert!(reversals[0].id.as_str().starts_with("evt_") && reversals[0].id != reversals[1].id);
    let listed = json_of(
        app.as_role("acme", Role::Viewer)
            .list_conversions("reversed=true")
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn analytics_nets_reversals_and_splits_verified_and_flagged_revenue() {
    let app = spawn_app().await;
    let ctx = clicked(&app, "acme").await;
    // Verified and instant (too_fast under the default policy): flagged.
    let id = verified_30_public_10(&app, &ctx, ("a-1", "a-2")).await;
    let operator = app.as_role("acme", Role::Operator);
    let reversal = json!({"reason": "refund", "amount": 12});
    json_of(operator.reverse(&id, &reversal).await, 201).await;
    let viewer = app.as_role("acme", Role::Viewer);
    // Clicks (the stream) and conversions (the events queue) are counted apart: wait for both.
    let (totals, funnel) = totals_once(&app, |f| {
        let t = &f["totals"];
        t["reversedRevenue"]["USD"] == "12.00" && t["clicks"] == 1 && t["conversions"] == 2
    })
    .await;
    let codes: Vec<&str> = funnel["campaigns"][0]["confidenceReasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"flagged_conversions_high"), "{codes:?}");
    assert_eq!(totals["revenue"]["USD"], "28.00", "40 - 12: {totals}");
    assert_eq!(totals["verifiedRevenue"]["USD"], "18.00", "{totals}");
    assert_eq!(totals["flaggedRevenue"]["USD"], "28.00", "{totals}");
    assert_eq!(
        (
            totals["verifiedConversions"].clone(),
            totals["flaggedConversions"].clone()
        ),
        (json!(1), json!(2))
    );
    let csv = viewer
        .export("groupBy=country&format=csv")
        .await
        .text()
        .await
        .unwrap();
    let header = csv.lines().next().unwrap();
    for column in [
        "verifiedConversions",
        "flaggedConversions",
        "reversedRevenue_USD",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("US,1,1,0,2,1,2,28.00,18.00,28.00,12.00"),
        "{csv}"
    );
}

#[tokio::test]
async fn a_reversal_lost_between_commit_and_enqueue_is_swept_exactly_once() {
    let (app, switch) = spawn_with_failing_queue().await;
    let ctx = clicked(&app, "acme").await;
    let merchant = app.as_role("acme", Role::Creator);
    let conv = json_of(
        merchant.convert_verified(&purchase(&ctx, "c-1", 9.0)).await,
        202,
    )
    .await;
    let _ = app.drain_events().await;
    let operator = app.as_role("acme", Role::Operator);
    let id = conv["conversionId"].as_str().unwrap();
    switch.fail_next(1);
    json_of(
        operator.reverse(id, &json!({"reason": "refund"})).await,
        201,
    )
    .await;
    assert_eq!(switch.remaining(), 0, "the reversal's enqueue failed");
    json_of(
        operator.reverse(id, &json!({"reason": "refund"})).await,
        200,
    )
    .await;
    assert!(
        app.drain_events().await.is_empty(),
        "nothing reached the queue"
    );
    let swept =
        tenx_shared::kernel::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
            .await
            .unwrap();
    assert!(swept >= 1, "{swept}");
    // Without consumers the earlier events' outbox entries are swept again too; the reversal's
    // entry yields exactly one event, with the id derived from its reversal.
    let events = app.drain_events().await;
    let reversals: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind.as_str() == "conversion.reversed")
        .collect();
    assert_eq!(reversals.len(), 1, "{events:?}");
    assert_eq!(
        reversals[0].data["conversion"]["conversionId"],
        conv["conversionId"]
    );
    let stored = json_of(
        app.as_role("acme", Role::Viewer).get_conversion(id).await,
        200,
    )
    .await;
    let reversal_hex = &stored["reversal"]["reversalId"].as_str().unwrap()["rev_".len()..];
    assert_eq!(reversals[0].id.as_str(), format!("evt_{reversal_hex}"));
}

#[tokio::test]
async fn bad_input_on_the_new_routes_is_named_never_a_500() {
    let app = spawn_app_without_workers().await;
    let operator = app.as_role("acme", Role::Operator);
    for (body, field) in [
        (
            json!({"publicConversions": "sometimes"}),
            "publicConversions",
        ),
        (
            json!({"maxConversionsPerClick": 0}),
            "maxConversionsPerClick",
        ),
        (
            json!({"minSecondsAfterClick": "ten"}),
            "minSecondsAfterClick",
        ),
        (json!({"maxValue": {"usd": 5}}), "maxValue.usd"),
        (json!({"nope": 1}), "nope"),
    ] {
        let message = assert_error(
            operator.put_conversion_policy(&body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let viewer = app.as_role("acme", Role::Viewer);
    let message = assert_error(
        viewer.list_conversions("flagged=maybe").await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("flagged"), "{message}");
    assert_error(
        viewer.list_conversions("cursor=%25%25").await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        viewer.list_conversions("from=yesterday").await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(viewer.get_conversion("cnv_nope").await, 404, "not_found").await;
    let missing = "cnv_0195570a1b2c7d3e8f4a5b6c7d8e9f0a";
    assert_error(viewer.get_conversion(missing).await, 404, "not_found").await;
    assert_error(
        operator.reverse(missing, &json!({"reason": "x"})).await,
        404,
        "not_found",
    )
    .await;
    let message = assert_error(
        operator.reverse(missing, &json!({})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("reason"), "{message}");
    let merchant = app.as_role("acme", Role::Creator);
    let message = assert_error(
        merchant
            .convert_verified(&json!({"idempotencyKey": "k"}))
            .await,
        400,
        "invalid_ctx",
    )
    .await;
    assert!(!message.is_empty());
    // A viewer may read but not reverse or submit.
    assert_error(
        viewer.reverse(missing, &json!({"reason": "x"})).await,
        403,
        "insufficient_role",
    )
    .await;
}

#[tokio::test]
async fn partner_sub_ids_travel_from_click_to_conversion_to_analytics() {
    let app = spawn_app().await;
    clicked(&app, "acme").await;
    let headers = [("user-agent", IPHONE)];
    let resp = app
        .visit(
            Method::GET,
            "acme",
            "/deal?sub1=banner-top&sub2=%0Anews&sub9=x",
            &headers,
        )
        .await;
    let location = header_str(resp.headers(), "location").to_owned();
    assert_eq!(
        query_param(&location, "sub1").as_deref(),
        Some("banner-top"),
        "forwarded too"
    );
    let ctx = query_param(&location, "ctx").unwrap();
    let context = json_of(app.context(&ctx).await, 200).await;
    assert_eq!(
        context["subIds"],
        json!({"sub1": "banner-top", "sub2": "news"})
    );
    let merchant = app.as_role("acme", Role::Creator);
    let conv = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "s-1", 12.0))
            .await,
        202,
    )
    .await;
    let id = conv["conversionId"].as_str().unwrap();
    let stored = json_of(
        app.as_role("acme", Role::Viewer).get_conversion(id).await,
        200,
    )
    .await;
    assert_eq!(stored["subIds"]["sub1"], "banner-top");
    let viewer = app.as_role("acme", Role::Viewer);
    // Clicks (the stream) and conversions (the events queue) are counted apart: wait for both.
    let report = eventually_or("the sub1 breakdown to show the conversion", || async {
        let report = json_of(viewer.analytics("groupBy=sub1").await, 200).await;
        if report["totals"]["conversions"] == 1 && report["totals"]["clicks"] == 1 {
            Ok(report)
        } else {
            Err(report["totals"].to_string())
        }
    })
    .await;
    assert_eq!(report["rows"].as_array().unwrap().len(), 1, "{report}");
    let row = &report["rows"][0];
    assert_eq!(
        (row["key"].clone(), row["clicks"].clone()),
        (json!("banner-top"), json!(1))
    );
    assert_eq!(row["revenue"]["USD"], "12.00");
    let csv = viewer
        .export("groupBy=sub1&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("sub1,clicks"), "{csv}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("banner-top,1,1,0,1"),
        "{csv}"
    );
}

#[tokio::test]
async fn a_full_reversal_nets_the_whole_value_out_of_revenue() {
    let app = spawn_app().await;
    let ctx = clicked(&app, "acme").await;
    set_policy(&app, json!({"minSecondsAfterClick": 0})).await;
    let id = verified_30_public_10(&app, &ctx, ("full-1", "full-2")).await;
    let operator = app.as_role("acme", Role::Operator);
    // No amount: the whole value.
    let reversed = json_of(
        operator
            .reverse(&id, &json!({"reason": "chargeback"}))
            .await,
        201,
    )
    .await;
    assert_eq!(reversed["reversal"]["amount"], 30);
    let viewer = app.as_role("acme", Role::Viewer);
    let (totals, _) = totals_once(&app, |f| {
        let t = &f["totals"];
        t["reversedRevenue"]["USD"] == "30.00" && t["conversions"] == 2
    })
    .await;
    assert_eq!(totals["reversedRevenue"]["USD"], "30.00", "{totals}");
    assert_eq!(totals["revenue"]["USD"], "10.00", "40 - 30: {totals}");
    // Zero, shown as 0.00 or left out.
    let verified_usd = &totals["verifiedRevenue"]["USD"];
    assert!(
        verified_usd.is_null() || verified_usd == "0.00",
        "the only verified conversion is reversed in full: {totals}"
    );
    // A reversal takes revenue back, not the conversion: both still count.
    assert_eq!(
        (
            totals["conversions"].clone(),
            totals["verifiedConversions"].clone()
        ),
        (json!(2), json!(1)),
        "{totals}"
    );
    // The same on the conversion's own dimensions.
    let by_link = json_of(viewer.analytics("groupBy=link").await, 200).await;
    let row = &by_link["rows"][0];
    assert_eq!(row["key"], "deal", "{by_link}");
    assert_eq!(
        (
            row["revenue"]["USD"].clone(),
            row["reversedRevenue"]["USD"].clone()
        ),
        (json!("10.00"), json!("30.00")),
        "{by_link}"
    );
    let listed = json_of(viewer.list_conversions("reversed=true").await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["conversionId"], id.as_str());
}

/// An app without queue consumers whose public route allows `per_address` conversions per
/// client address in a day-long window (a test cannot straddle two short windows).
async fn spawn_with_address_limit(per_address: u32, trusted_proxy: bool) -> TestApp {
    let mut config = test_config();
    config.rate_limits.conversions_per_address = per_address;
    config.rate_limits.window_secs = 86_400;
    config.trusted_proxy = trusted_proxy;
    spawn_full(config, None, tenx_shared::runtime::local::Workers::Off).await
}

/// One public conversion on a fresh click per entry, each sent with that `x-forwarded-for`:
/// the statuses in order (every 429 checked to be the per-address limit's).
async fn convert_forwarded_for(app: &TestApp, keys: &str, forwarded_for: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for (i, hops) in forwarded_for.iter().enumerate() {
        let ctx = new_ctx(app, "acme").await;
        let body = purchase(&ctx, &format!("{keys}-{i}"), 5.0);
        let resp = app
            .convert_with_headers(&body, &[("x-forwarded-for", hops)])
            .await;
        let status = resp.status().as_u16();
        if status == 429 {
            let message = assert_error(resp, 429, "rate_limited").await;
            assert!(message.contains("client address"), "{message}");
        }
        statuses.push(status);
    }
    statuses
}

#[tokio::test]
async fn one_client_address_is_limited_across_clicks_and_the_merchants_server_is_not() {
    let app = spawn_with_address_limit(3, false).await;
    let mut ctxs = vec![clicked(&app, "acme").await];
    for _ in 0..4 {
        ctxs.push(new_ctx(&app, "acme").await);
    }
    for (i, ctx) in ctxs.iter().enumerate().take(3) {
        json_of(
            app.convert(&purchase(ctx, &format!("a-{i}"), 5.0)).await,
            202,
        )
        .await;
    }
    // Every click is fresh, so neither the per-click nor the handle's limit is near: the
    // address is.
    for (i, ctx) in ctxs.iter().enumerate().skip(3) {
        let resp = app.convert(&purchase(ctx, &format!("a-{i}"), 5.0)).await;
        let headers = resp.headers().clone();
        let message = assert_error(resp, 429, "rate_limited").await;
        assert!(message.contains("client address"), "{message}");
        assert_eq!(header_str(&headers, "x-ratelimit-limit"), "3");
        assert_eq!(header_str(&headers, "x-ratelimit-remaining"), "0");
        assert!(header_str(&headers, "retry-after").parse::<i64>().unwrap() >= 1);
    }
    // A replay is answered before any limit is looked at.
    json_of(app.convert(&purchase(&ctxs[0], "a-0", 5.0)).await, 200).await;
    // The refused submissions recorded nothing: the merchant's server, which no per-address
    // limit applies to, submits them under the same keys.
    let merchant = app.as_role("acme", Role::Creator);
    for (i, ctx) in ctxs.iter().enumerate().skip(3) {
        let receipt = json_of(
            merchant
                .convert_verified(&purchase(ctx, &format!("a-{i}"), 5.0))
                .await,
            202,
        )
        .await;
        assert_eq!(receipt["verified"], true);
    }
    let listed = json_of(
        app.as_role("acme", Role::Viewer).list_conversions("").await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 5, "{listed}");
}

#[tokio::test]
async fn a_client_set_forwarded_for_spreads_nothing_unless_the_proxy_is_trusted() {
    let spread = [
        "203.0.113.1",
        "203.0.113.2",
        "203.0.113.3",
        "203.0.113.4",
        "203.0.113.5",
    ];
    // Off (the default): the socket's peer is the address, whatever the header says.
    let app = spawn_with_address_limit(3, false).await;
    clicked(&app, "acme").await;
    let statuses = convert_forwarded_for(&app, "off", &spread).await;
    assert_eq!(statuses, [202, 202, 202, 429, 429]);
    drop(app.stop().await);

    // On: the proxy's last hop is the address, so five addresses have five budgets ...
    let app = spawn_with_address_limit(3, true).await;
    clicked(&app, "acme").await;
    let statuses = convert_forwarded_for(&app, "on", &spread).await;
    assert_eq!(statuses, [202; 5]);
    // ... and hops a client put before the proxy's own spread nothing either.
    let prepended = [
        "198.51.100.1, 192.0.2.9",
        "198.51.100.2, 192.0.2.9",
        "198.51.100.3,192.0.2.9",
        "198.51.100.4, 192.0.2.9",
        "198.51.100.5, 192.0.2.9",
    ];
    let statuses = convert_forwarded_for(&app, "proxied", &prepended).await;
    assert_eq!(statuses, [202, 202, 202, 429, 429]);
}

#[tokio::test]
async fn a_verified_conversion_lost_between_commit_and_enqueue_is_swept_exactly_once() {
    use tenx_shared::platform::queue::QueueName;
    use tenx_shared::runtime::workers::BatchHandler;

    let (app, switch) = spawn_with_failing_queue().await;
    let ctx = clicked(&app, "acme").await;
    let _ = app.drain_events().await;
    let merchant = app.as_role("acme", Role::Creator);
    let body = purchase(&ctx, "v-crash", 19.0);
    // The process "dies" after the commit: the enqueue that follows it fails.
    switch.fail_next(1);
    let first = json_of(merchant.convert_verified(&body).await, 202).await;
    assert_eq!(switch.remaining(), 0, "the conversion's enqueue failed");
    let is_conversion = |e: &&Event| e.kind.as_str().starts_with("conversion.");
    let drained = app.drain_events().await;
    assert!(
        !drained.iter().any(|e| is_conversion(&e)),
        "nothing reached the queue: {drained:?}"
    );
    // Replays on either route are answered from the record and enqueue nothing.
    let again = json_of(merchant.convert_verified(&body).await, 200).await;
    assert_eq!(
        (again["conversionId"].clone(), again["verified"].clone()),
        (first["conversionId"].clone(), json!(true))
    );
    let public = json_of(app.convert(&body).await, 200).await;
    assert_eq!(public["conversionId"], first["conversionId"]);
    assert!(!app.drain_events().await.iter().any(|e| is_conversion(&e)));

    // The sweeper finds the committed event: exactly one conversion.created, verified.
    let swept =
        tenx_shared::kernel::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
            .await
            .unwrap();
    assert!(swept >= 1, "{swept}");
    let mut msgs = Vec::new();
    loop {
        let batch = app
            .queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        if batch.is_empty() {
            break;
        }
        msgs.extend(batch);
    }
    let events: Vec<Event> = msgs
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    let conversions: Vec<&Event> = events.iter().filter(is_conversion).collect();
    assert_eq!(conversions.len(), 1, "{events:?}");
    assert_eq!(conversions[0].kind.as_str(), "conversion.created");
    assert_eq!(conversions[0].data["conversionId"], first["conversionId"]);
    assert_eq!(conversions[0].data["verified"], true);
    // Its id derives from the conversion's, as on the first enqueue: consumers dedupe on it.
    let hex = &first["conversionId"].as_str().unwrap()["cnv_".len()..];
    assert_eq!(conversions[0].id.as_str(), format!("evt_{hex}"));

    // The events consumer applies the batch and clears the outbox: a second sweep sends nothing.
    let state = tenx_shared::aws::app_state(
        app.config.clone(),
        app.store.clone(),
        app.queue.clone(),
        tenx_shared::platform::config::Secrets::ALL,
    )
    .unwrap();
    let worker = tenx_shared::runtime::workers::events::EventsWorker {
        state,
        sinks: tenx_shared::runtime::assembly::sinks(),
    };
    let failed = worker.handle(msgs.clone()).await;
    assert!(failed.is_empty(), "every event applied: {failed:?}");
    for m in &msgs {
        app.queue.ack(QueueName::Events, &m.receipt).await.unwrap();
    }
    let swept =
        tenx_shared::kernel::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
            .await
            .unwrap();
    assert_eq!(swept, 0, "the conversion reached the stream exactly once");
    assert!(app.drain_events().await.is_empty());
}

#[tokio::test]
async fn more_bad_input_on_the_new_routes_is_named_never_a_500() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    let operator = app.as_role("acme", Role::Operator);
    // The conversion policy.
    for (body, field) in [
        (json!({"publicConversions": 1}), "publicConversions"),
        (
            json!({"maxConversionsPerClick": 1.5}),
            "maxConversionsPerClick",
        ),
        (
            json!({"maxConversionsPerClick": 1001}),
            "maxConversionsPerClick",
        ),
        (
            json!({"maxConversionsPerClick": -1}),
            "maxConversionsPerClick",
        ),
        (json!({"minSecondsAfterClick": -1}), "minSecondsAfterClick"),
        (
            json!({"minSecondsAfterClick": 86_401}),
            "minSecondsAfterClick",
        ),
        (json!({"maxValue": [100]}), "maxValue"),
        (json!({"maxValue": {"USD": -5}}), "maxValue.USD"),
        (json!({"maxValue": {"USD": "lots"}}), "maxValue.USD"),
        (json!({"maxValue": {"USD": null}}), "maxValue.USD"),
        (json!({"maxValue": {"XYZ": 5}}), "maxValue.XYZ"),
        (json!(null), "body"),
        (json!([]), "body"),
    ] {
        let message = assert_error(
            operator.put_conversion_policy(&body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let resp = operator
        .send_raw(
            Method::PUT,
            "/conversion-policy",
            "application/json",
            "{\"publicConversions\": ",
        )
        .await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.contains("malformed JSON"), "{message}");
    let resp = operator
        .send_raw(Method::PUT, "/conversion-policy", "text/plain", "{}")
        .await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.contains("content-type"), "{message}");

    // The audit trail's filters.
    let viewer = app.as_role("acme", Role::Viewer);
    for (query, field) in [
        ("verified=yes", "verified"),
        ("reversed=1", "reversed"),
        ("flagged=", "flagged"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("to=2026-13-01", "to"),
        ("from=2026-02-10&to=2026-02-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "to"),
        ("to=-9999-01-01", "to"),
        ("cursor=bm8tc2VwYXJhdG9y", "cursor"),
        ("verified=true&verified=false", "verified"),
        ("sort=asc", "sort"),
    ] {
        let resp = viewer.list_conversions(query).await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(message.contains(field), "{query}: {message}");
    }
    // Analytics reads its range the same way.
    let message = assert_error(
        viewer.analytics("to=-9999-01-01").await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.starts_with("to"), "{message}");

    // Reversals.
    let merchant = app.as_role("acme", Role::Creator);
    let valued = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "bad-1", 20.0))
            .await,
        202,
    )
    .await;
    let signup = json!({"ctx": ctx, "idempotencyKey": "bad-2", "eventType": "signup"});
    let valueless = json_of(merchant.convert_verified(&signup).await, 202).await;
    let id = valued["conversionId"].as_str().unwrap();
    for (body, field) in [
        (json!({"reason": 42}), "reason"),
        (json!({"reason": "   "}), "reason"),
        (json!({"reason": "r".repeat(201)}), "reason"),
        (json!({"reason": "refund\u{7}"}), "reason"),
        (json!({"reason": "refund", "amount": -1}), "amount"),
        (json!({"reason": "refund", "amount": "ten"}), "amount"),
        (json!({"reason": "refund", "amount": 0.0000001}), "amount"),
        // Zero would use up the conversion's one reversal for nothing.
        (json!({"reason": "refund", "amount": 0}), "amount"),
        (json!({"reason": "refund", "amount": "0.00"}), "amount"),
        (
            json!({"reason": "refund", "amount": {"value": 1}}),
            "amount",
        ),
        (json!({"reason": "refund", "note": "x"}), "note"),
        (json!([]), "body"),
    ] {
        let message = assert_error(operator.reverse(id, &body).await, 400, "invalid_request").await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let rest = format!("/conversions/{id}/reverse");
    let resp = operator
        .send_raw(Method::POST, &rest, "application/json", "{\"reason\": ")
        .await;
    assert_error(resp, 400, "invalid_request").await;
    let resp = operator
        .send_raw(Method::POST, &rest, "text/plain", "{\"reason\": \"x\"}")
        .await;
    assert_error(resp, 400, "invalid_request").await;
    // An amount of a conversion without a value.
    let vid = valueless["conversionId"].as_str().unwrap();
    let body = json!({"reason": "refund", "amount": 1});
    let message = assert_error(operator.reverse(vid, &body).await, 400, "invalid_request").await;
    assert!(message.starts_with("amount"), "{message}");
    // None of them reversed anything.
    let stored = json_of(viewer.get_conversion(id).await, 200).await;
    assert_eq!(stored["reversal"], Value::Null, "{stored}");
    let stored = json_of(viewer.get_conversion(vid).await, 200).await;
    assert_eq!(stored["reversal"], Value::Null, "{stored}");

    // The verified route names bad fields like the public one, and records nothing.
    for (body, field) in [
        (json!({"ctx": ctx, "idempotencyKey": "bad-3"}), "eventType"),
        (
            json!({"ctx": ctx, "eventType": "purchase"}),
            "idempotencyKey",
        ),
        (
            json!({"ctx": ctx, "idempotencyKey": "bad-3", "eventType": "purchase", "value": -1}),
            "value",
        ),
        (
            json!({"ctx": ctx, "idempotencyKey": "bad-3", "eventType": "purchase", "currency": "usd"}),
            "currency",
        ),
        (
            json!({"ctx": ctx, "idempotencyKey": "bad-3", "eventType": "purchase", "verified": true}),
            "verified",
        ),
    ] {
        let message = assert_error(
            merchant.convert_verified(&body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let listed = json_of(viewer.list_conversions("").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
}
