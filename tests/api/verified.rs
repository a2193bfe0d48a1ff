//! Trustworthy conversions, end to end: merchant-verified conversions, the conversion policy
//! (deny, fraud signals), per-click and per-address limits on the public route, reversals with
//! their events and net revenue, the audit trail, and bad input on every new route.

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::{json, Value};
use tenx_shared::events::Event;
use tenx_shared::http::auth::Role;

use crate::helpers::*;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

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
    let headers = [("user-agent", IPHONE), ("cloudfront-viewer-country", "US")];
    let resp = app.visit(Method::GET, handle, "/deal", &headers).await;
    query_param(header_str(resp.headers(), "location"), "ctx").expect("a human's ctx")
}

fn purchase(ctx: &str, key: &str, value: f64) -> Value {
    json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": value,
        "currency": "USD"})
}

async fn json_of(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
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
    // And the other way round.
    let public = json_of(app.convert(&purchase(&ctx, "o-2", 5.0)).await, 202).await;
    assert_eq!(public["verified"], false);
    let again = json_of(
        merchant.convert_verified(&purchase(&ctx, "o-2", 5.0)).await,
        200,
    )
    .await;
    assert_eq!(
        (again["conversionId"].clone(), again["verified"].clone()),
        (public["conversionId"].clone(), json!(false))
    );
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
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
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
    assert!(reversals[0].id.starts_with("evt_") && reversals[0].id != reversals[1].id);
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
    let merchant = app.as_role("acme", Role::Creator);
    // Verified and instant (too_fast under the default policy): flagged.
    let v = json_of(
        merchant
            .convert_verified(&purchase(&ctx, "a-1", 30.0))
            .await,
        202,
    )
    .await;
    json_of(app.convert(&purchase(&ctx, "a-2", 10.0)).await, 202).await;
    let operator = app.as_role("acme", Role::Operator);
    let id = v["conversionId"].as_str().unwrap();
    json_of(
        operator
            .reverse(id, &json!({"reason": "refund", "amount": 12}))
            .await,
        201,
    )
    .await;
    let viewer = app.as_role("acme", Role::Viewer);
    let mut totals = Value::Null;
    for _ in 0..300 {
        let funnel = json_of(viewer.analytics("funnel=true").await, 200).await;
        totals = funnel["totals"].clone();
        if totals["reversedRevenue"]["USD"] == "12.00" && totals["conversions"] == 2 {
            let row = &funnel["campaigns"][0];
            let codes: Vec<&str> = row["confidenceReasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap())
                .collect();
            assert!(codes.contains(&"flagged_conversions_high"), "{codes:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let swept = tenx_shared::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
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
    assert_eq!(reversals[0].id, format!("evt_{reversal_hex}"));
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
    for _ in 0..300 {
        let report = json_of(viewer.analytics("groupBy=sub1").await, 200).await;
        if report["totals"]["conversions"] == 1 {
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
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sub1 breakdown never showed the conversion");
}
