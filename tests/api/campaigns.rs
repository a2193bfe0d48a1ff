//! Campaigns: create with the primary link in one transaction, conflicts, read, list, status.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;

pub(crate) fn partner(campaign: &str, slug: &str) -> Value {
    json!({
        "campaignId": campaign,
        "goalType": "AFFILIATE_CLICKOUT",
        "status": "ACTIVE",
        "primaryLink": {
            "slug": slug,
            "destinationUrl": format!("https://merchant.example.com/product?ref={campaign}"),
            "title": format!("{campaign} - Product Deal")
        }
    })
}

/// `POST …/campaigns` as a creator of `handle`.
pub(crate) async fn create_campaign(
    app: &TestApp,
    handle: &str,
    body: &Value,
) -> reqwest::Response {
    app.as_role(handle, Role::Creator)
        .create_campaign(body)
        .await
}

#[tokio::test]
async fn creates_a_partner_campaign_with_its_primary_link() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    let resp = create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        header_str(resp.headers(), "location"),
        "/v2/handles/acme/campaigns/partner-alpha"
    );
    let c: Value = resp.json().await.unwrap();
    assert_eq!(c["campaignId"], "partner-alpha");
    assert_eq!(c["goalType"], "AFFILIATE_CLICKOUT");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["trackingPreset"], "custom_webhook");
    assert_eq!(c["conversionEvent"], "affiliate_click");
    assert_eq!(c["version"], 1);
    assert!(c["createdAt"].as_str().unwrap().ends_with('Z'));
    let link = &c["primaryLink"];
    assert_eq!(link["slug"], "deal-alpha");
    assert_eq!(link["campaignId"], "partner-alpha");
    assert_eq!(link["title"], "partner-alpha - Product Deal");
    assert_eq!(
        link["shortUrl"],
        format!("http://{}/deal-alpha", app.short_host("acme"))
    );

    // The link is a real link, attributed to the campaign, and its clicks carry the campaign.
    let stored: Value = acme.get_link("deal-alpha").await.json().await.unwrap();
    assert_eq!(stored["campaignId"], "partner-alpha");
    let resp = app
        .click(
            "acme",
            "/deal-alpha",
            &[(
                "user-agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36",
            )],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let location = header_str(resp.headers(), "location").to_owned();
    assert!(location.starts_with("https://merchant.example.com/product?ref=partner-alpha"));
    let ctx = query_param(&location, "ctx").unwrap();
    let context: Value = app.context(&ctx).await.json().await.unwrap();
    assert_eq!(context["campaignId"], "partner-alpha");

    // Read back: the summary carries the short URL.
    let resp = acme.get_campaign("partner-alpha").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header_str(resp.headers(), "etag"), "\"1\"");
    let read: Value = resp.json().await.unwrap();
    assert_eq!(read["trackingPreset"], "custom_webhook");
    assert_eq!(read["primaryLink"]["slug"], "deal-alpha");
    assert_eq!(read["primaryLink"]["shortUrl"], link["shortUrl"]);
}

#[tokio::test]
async fn every_goal_type_sets_its_preset() {
    let app = spawn_app_without_workers().await;
    let table = [
        ("AFFILIATE_CLICKOUT", "custom_webhook", "affiliate_click"),
        ("LEAD_CAPTURE", "lead_form", "lead"),
        ("PURCHASE", "ecommerce", "purchase"),
        ("APP_INSTALL", "mobile_app", "install"),
    ];
    for (i, (goal, preset, event)) in table.into_iter().enumerate() {
        let mut body = partner(&format!("c{i}"), &format!("s{i}"));
        body["goalType"] = goal.into();
        let resp = create_campaign(&app, "acme", &body).await;
        assert_eq!(resp.status(), 201, "{goal}");
        let c: Value = resp.json().await.unwrap();
        assert_eq!(c["trackingPreset"], preset, "{goal}");
        assert_eq!(c["conversionEvent"], event, "{goal}");
    }
    // Status defaults to ACTIVE.
    let mut body = partner("no-status", "no-status");
    body.as_object_mut().unwrap().remove("status");
    let c: Value = create_campaign(&app, "acme", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "ACTIVE");
}

#[tokio::test]
async fn an_existing_campaign_id_is_a_conflict_and_writes_nothing() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    let first = create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;
    assert_eq!(first.status(), 201);
    let resp = create_campaign(&app, "acme", &partner("partner-alpha", "other-slug")).await;
    let msg = assert_error(resp, 409, "conflict").await;
    assert!(msg.contains("partner-alpha"), "{msg}");
    // The second primary link was not created.
    assert_error(acme.get_link("other-slug").await, 404, "not_found").await;
    // The same id on another handle is another campaign.
    assert_eq!(
        create_campaign(&app, "rival", &partner("partner-alpha", "deal-alpha"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict_and_the_link_is_not_stolen() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    let resp = app
        .put_link(
            "acme",
            "deal-alpha",
            json!({"destinationUrl": "https://own.example.com/"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;
    let msg = assert_error(resp, 409, "conflict").await;
    assert!(msg.contains("deal-alpha"), "{msg}");
    // Neither the campaign nor a change to the link was written.
    assert_error(acme.get_campaign("partner-alpha").await, 404, "not_found").await;
    let link: Value = acme.get_link("deal-alpha").await.json().await.unwrap();
    assert_eq!(link["destinationUrl"], "https://own.example.com/");
    assert_eq!(link["version"], 1);
    assert!(link["campaignId"].is_null());
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    let mut unknown_goal = partner("c1", "s1");
    unknown_goal["goalType"] = "BRAND_AWARENESS".into();
    let mut bad_status = partner("c1", "s1");
    bad_status["status"] = "active".into();
    let mut bad_id = partner("c1", "s1");
    bad_id["campaignId"] = "Partner Alpha".into();
    let mut bad_slug = partner("c1", "s1");
    bad_slug["primaryLink"]["slug"] = "no/slash".into();
    let mut bad_url = partner("c1", "s1");
    bad_url["primaryLink"]["destinationUrl"] = "javascript:alert(1)".into();
    let mut missing_link = partner("c1", "s1");
    missing_link.as_object_mut().unwrap().remove("primaryLink");
    let mut extra = partner("c1", "s1");
    extra["budget"] = 100.into();
    let mut extra_link = partner("c1", "s1");
    extra_link["primaryLink"]["routing"] = json!([]);
    let table = [
        (unknown_goal, "goalType"),
        (bad_status, "status"),
        (bad_id, "campaignId"),
        (bad_slug, "primaryLink.slug"),
        (bad_url, "primaryLink.destinationUrl"),
        (missing_link, "primaryLink"),
        (extra, "budget"),
        (extra_link, "routing"),
    ];
    for (body, field) in table {
        let resp = create_campaign(&app, "acme", &body).await;
        let msg = assert_error(resp, 400, "invalid_request").await;
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // Nothing was created by any of them.
    assert_error(acme.get_campaign("c1").await, 404, "not_found").await;
    assert_error(acme.get_link("s1").await, 404, "not_found").await;
    assert_error(acme.get_campaign("Not_Valid").await, 400, "invalid_request").await;
}

#[tokio::test]
async fn lists_campaigns_with_a_cursor() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    let rival = app.as_role("rival", Role::Creator);
    for (c, s) in [("p-a", "s-a"), ("p-b", "s-b"), ("p-c", "s-c")] {
        assert_eq!(
            create_campaign(&app, "acme", &partner(c, s)).await.status(),
            201
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page: Value = acme.list_campaigns(&query).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert!(item["primaryLink"]["shortUrl"].as_str().is_some());
            seen.push(item["campaignId"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["p-a", "p-b", "p-c"]);
    // Another handle sees none of them.
    let other: Value = rival.list_campaigns("").await.json().await.unwrap();
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    assert_error(acme.list_campaigns("limit=0").await, 400, "invalid_request").await;
}

#[tokio::test]
async fn status_changes_are_version_checked() {
    let app = spawn_app_without_workers().await;
    let acme = app.as_role("acme", Role::Creator);
    create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;

    let resp = acme
        .patch_campaign("partner-alpha", &json!({"status": "PAUSED"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header_str(resp.headers(), "etag"), "\"2\"");
    let c: Value = resp.json().await.unwrap();
    assert_eq!(
        (c["status"].as_str(), c["version"].as_u64()),
        (Some("PAUSED"), Some(2))
    );
    assert_eq!(c["trackingPreset"], "custom_webhook");

    // A stale if-match is refused and changes nothing; the current one applies.
    let resp = acme
        .patch_campaign_if_match("partner-alpha", "1", &json!({"status": "ARCHIVED"}))
        .await;
    assert_error(resp, 412, "precondition_failed").await;
    let resp = acme
        .patch_campaign_if_match("partner-alpha", "\"2\"", &json!({"status": "ARCHIVED"}))
        .await;
    assert_eq!(resp.status(), 200);
    let read: Value = acme
        .get_campaign("partner-alpha")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (read["status"].as_str(), read["version"].as_u64()),
        (Some("ARCHIVED"), Some(3))
    );

    // Bad input and unknown campaigns.
    let msg = assert_error(
        acme.patch_campaign("partner-alpha", &json!({"status": "DONE"}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(msg.contains("status"), "{msg}");
    let msg = assert_error(
        acme.patch_campaign("partner-alpha", &json!({"goalType": "PURCHASE"}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(msg.contains("goalType"), "{msg}");
    assert_error(
        acme.patch_campaign("nobody", &json!({"status": "PAUSED"}))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_handle_never_reaches_another_handles_campaigns() {
    let app = spawn_app_without_workers().await;
    let rival = app.as_role("rival", Role::Creator);
    create_campaign(&app, "acme", &partner("partner-alpha", "deal-alpha")).await;
    let rival_token = app.token(&["rival"], Role::Operator);
    let at_acme = app.with_token("acme", &rival_token);
    let paused = json!({"status": "PAUSED"});
    for resp in [
        at_acme.list_campaigns("").await,
        at_acme.get_campaign("partner-alpha").await,
        at_acme.patch_campaign("partner-alpha", &paused).await,
        at_acme.create_campaign(&paused).await,
    ] {
        assert_error(resp, 403, "forbidden").await;
    }
    // Under its own handle, the rival finds no such campaign.
    assert_error(rival.get_campaign("partner-alpha").await, 404, "not_found").await;
    // A viewer may not create campaigns.
    let resp = app
        .as_role("acme", Role::Viewer)
        .create_campaign(&partner("p2", "s2"))
        .await;
    assert_error(resp, 403, "insufficient_role").await;
}
