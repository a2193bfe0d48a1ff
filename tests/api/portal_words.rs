//! Issue 61: what a partner reads in words in its portal, on either backend: its plan's terms
//! per campaign (the version in force and one saved to take effect later), and one
//! commission's proof (the sale, its sub-ids, the plan version and the rule, the amount); each
//! for its own partner only (another's answers 404, as an unknown one).

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::*;

/// The handle's commission lines once there is one.
async fn first_line(app: &TestApp) -> Value {
    let viewer = app.as_role("acme", Role::Viewer);
    eventually("a commission line", || async {
        let page = json_of(viewer.list_commissions("limit=10").await, 200).await;
        page["items"].as_array().unwrap().first().cloned()
    })
    .await
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_partner_reads_its_plan_in_words_and_why_a_commission_is_what_it_is() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    two_partners(&app, &plan, Some(&plan)).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let two = as_partner(&app, "acme", "pub-two").await;

    let terms = json_of(one.get("/partners/pub-one/terms").await, 200).await;
    let items = terms["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{terms}");
    assert_eq!(items[0]["campaignId"], "alpha");
    assert!(items[0]["upcoming"].is_null(), "{terms}");
    let now = strings(&items[0]["current"]["terms"]);
    assert_eq!(now[0], "purchase: 10 % of the value", "{now:?}");
    assert!(now.iter().any(|t| t.contains("payable 0 days")), "{now:?}");
    // Another partner's terms: as unknown.
    assert_error(one.get("/partners/pub-two/terms").await, 404, "not_found").await;

    // A version saved to take effect later is said beside the one in force.
    let op = app.as_role("acme", Role::Operator);
    let later = json!({"currency": "EUR", "holdDays": 0, "effectiveAt": "2099-01-01T00:00:00Z",
        "rules": [{"eventType": "purchase", "percent": "12"}]});
    let saved = op
        .send_json(
            reqwest::Method::PUT,
            "/campaigns/alpha/commission-plan",
            &later,
        )
        .await;
    assert!(
        saved.status().is_success(),
        "{}",
        saved.text().await.unwrap()
    );
    let terms = json_of(one.get("/partners/pub-one/terms").await, 200).await;
    let c = &terms["items"][0];
    assert_eq!(c["current"]["planVersion"], 1, "{terms}");
    assert_eq!(c["upcoming"]["planVersion"], 2, "{terms}");
    assert_eq!(c["upcoming"]["effectiveAt"], "2099-01-01T00:00:00Z");
    assert_eq!(
        strings(&c["upcoming"]["terms"])[0],
        "purchase: 12 % of the value"
    );

    // A sale through the partner's link, tagged for a placement.
    let ctx = human_ctx(&app, "acme", "/deal?sub1=youtube").await;
    let body = json!({"ctx": ctx, "idempotencyKey": "o-1", "eventType": "purchase",
        "value": "80.00", "currency": "EUR"});
    let creator = app.as_role("acme", Role::Creator);
    json_of(creator.convert_verified(&body).await, 202).await;
    let line = first_line(&app).await;
    let id = line["commissionId"].as_str().unwrap();
    let path = format!("/commissions/{id}/explanation");
    let why = json_of(one.get(&path).await, 200).await;
    assert_eq!(why["amount"], "8.00");
    assert_eq!(why["currency"], "EUR");
    let said = strings(&why["sentences"]);
    let text = said.join("\n");
    assert!(
        said[0].starts_with("A purchase of 80 EUR on ")
            && said[0].ends_with("tagged sub1 youtube."),
        "{text}"
    );
    // The plan as the partner knows it: its own, never a campaign's id.
    assert!(
        text.contains("Paid under version 1 of your plan") && !text.contains("alpha"),
        "{text}"
    );
    assert!(
        text.contains("The rule that paid it: purchase: 10 % of the value."),
        "{text}"
    );
    assert!(text.contains("So it is 8.00 EUR."), "{text}");
    // The program reads it too; the other partner does not, nor an unknown id.
    let viewer = app.as_role("acme", Role::Viewer);
    assert_eq!(json_of(viewer.get(&path).await, 200).await, why);
    assert_error(two.get(&path).await, 404, "not_found").await;
    assert_error(
        one.get("/commissions/com_0123456789abcdef0123456789abcdef/explanation")
            .await,
        404,
        "not_found",
    )
    .await;
}

/// A line held because its sale came seconds after its click: the partner reads it as being
/// reviewed (never why: that is the program's), and once the program approves it, as approved
/// with no reason from when it was held; the program reads why it was held.
#[tokio::test]
async fn a_lines_reason_is_current_with_its_status_and_a_held_line_is_being_reviewed() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    two_partners(&app, &plan, None).await;
    let op = app.as_role("acme", Role::Operator);
    let policy = op
        .put_conversion_policy(&json!({"minSecondsAfterClick": 3600}))
        .await;
    assert!(policy.status().is_success(), "{}", policy.status());
    let ctx = human_ctx(&app, "acme", "/deal").await;
    let body = json!({"ctx": ctx, "idempotencyKey": "o-fast", "eventType": "purchase",
        "value": "80.00", "currency": "EUR"});
    json_of(op.convert_verified(&body).await, 202).await;
    let line = first_line(&app).await;
    assert_eq!(line["status"], "held", "{line:#}");
    let id = line["commissionId"].as_str().unwrap().to_owned();
    let path = format!("/commissions/{id}/explanation");
    let one = as_partner(&app, "acme", "pub-one").await;
    let said = |v: &Value| strings(&v["sentences"]).join("\n");
    let partner_reads = said(&json_of(one.get(&path).await, 200).await);
    assert!(
        partner_reads.contains("It is being reviewed."),
        "{partner_reads}"
    );
    assert!(!partner_reads.contains("Held"), "{partner_reads}");
    let program_reads = said(&json_of(op.get(&path).await, 200).await);
    assert!(
        program_reads
            .contains("It is being reviewed: Held: the sale came very soon after the click."),
        "{program_reads}"
    );
    json_of(op.review_commission(&id, "approve", &json!({})).await, 200).await;
    for who in [&one, &op] {
        let reads = said(&json_of(who.get(&path).await, 200).await);
        assert!(reads.contains("It is approved."), "{reads}");
        assert!(
            !reads.contains("Held") && !reads.contains("soon after"),
            "{reads}"
        );
    }
}
