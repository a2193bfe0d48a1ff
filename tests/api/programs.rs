//! Partner programs and applications (issue 46, item 3): the program and its public page,
//! applications (validated, deduplicated by email, limited per address, refused when the
//! program is invite-only), approval (partner, campaign, plan, link and token in one step,
//! once), rejection with its reason, auto-approval, the events, and another handle's queue.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::Program;
use crate::webhooks::{Receiver, subscribe, webhook_config};

const PLAN: &str = r#"{"currency": "EUR", "rules": [
    {"eventType": "purchase", "percent": "10"},
    {"eventType": "lead", "flat": "2"}]}"#;

pub(crate) fn config() -> tenx_shared::platform::config::Config {
    let mut c = webhook_config(100);
    c.trusted_proxy = true;
    c
}

/// A handle with the template campaign `tpl` (link `join`, a plan) and an open program.
pub(crate) async fn program(app: &TestApp, handle: &str, extra: Value) -> Value {
    let plan: Value = serde_json::from_str(PLAN).unwrap();
    Program::on(app, handle)
        .campaign("tpl", None, "join")
        .await
        .plan("tpl", &plan)
        .await;
    let mut body = json!({"name": "Acme partners", "description": "Earn with us.",
        "termsUrl": "https://acme.example/terms", "applications": "open",
        "template": {"campaignId": "tpl"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let admin = app.as_role(handle, Role::Admin);
    json_of(admin.put_program(&body).await, 201).await
}

pub(crate) fn applicant(email: &str) -> Value {
    json!({"name": "Jane Doe", "email": email, "website": "https://jane.example",
        "message": "I review shoes."})
}

pub(crate) async fn apply_ok(app: &TestApp, handle: &str, email: &str, hop: &str) -> String {
    let got = json_of(app.apply(handle, &applicant(email), hop).await, 202).await;
    got["applicationId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_program_and_its_public_page_show_the_template_plan_in_words() {
    let app = spawn_with(config(), None).await;
    let put = program(&app, "acme", json!({})).await;
    assert_eq!(put["version"], 1);
    let op = app.as_role("acme", Role::Operator);
    assert_error(
        op.put_program(&json!({"name": "x"})).await,
        403,
        "insufficient_role",
    )
    .await;
    let viewer = app.as_role("acme", Role::Viewer);
    let got = json_of(viewer.get_program().await, 200).await;
    assert_eq!(got["template"]["campaignId"], "tpl");
    let page = json_of(app.public_program("acme").await, 200).await;
    assert_eq!(page["name"], "Acme partners");
    assert_eq!(page["termsUrl"], "https://acme.example/terms");
    assert_eq!(page["applications"], "open");
    let c = &page["commission"];
    assert_eq!(c["currency"], "EUR");
    assert_eq!(c["text"], "10% of each purchase; 2.00 EUR per lead");
    assert!(page.get("template").is_none(), "nothing private: {page}");
    // Its brand as the partner portal shows it: the default colour, no logo, no own links
    // (no allowed destinations), until the branding says otherwise.
    assert_eq!(
        (&page["logoUrl"], &page["color"], &page["ownLinks"]),
        (&Value::Null, &json!("#2f5bea"), &json!(false)),
        "{page}"
    );
    let brand = json!({"name": "Acme", "logoUrl": "https://acme.example/logo.png",
        "color": "#0f766e"});
    let admin = app.as_role("acme", Role::Admin);
    let put = admin
        .send_json(reqwest::Method::PUT, "/branding", &brand)
        .await;
    assert!(put.status().is_success(), "{}", put.status());
    let page = json_of(app.public_program("acme").await, 200).await;
    assert_eq!(page["logoUrl"], "https://acme.example/logo.png");
    assert_eq!(page["color"], "#0f766e");
    assert!(page.get("replyTo").is_none(), "nothing private: {page}");
    assert_error(app.public_program("ghost").await, 404, "not_found").await;
    // A template that is not a campaign of the handle, autoApprove without a template.
    let admin = app.as_role("acme", Role::Admin);
    let bad = json!({"name": "P", "template": {"campaignId": "nope"}});
    let msg = assert_error(admin.put_program(&bad).await, 400, "invalid_request").await;
    assert!(msg.contains("template.campaignId"), "{msg}");
    let bad = json!({"name": "P", "autoApprove": true});
    let msg = assert_error(admin.put_program(&bad).await, 400, "invalid_request").await;
    assert!(msg.contains("template"), "{msg}");
    let bad = json!({"name": "", "applications": "open"});
    let msg = assert_error(admin.put_program(&bad).await, 400, "invalid_request").await;
    assert!(msg.contains("name"), "{msg}");
}

#[tokio::test]
async fn applications_are_validated_deduplicated_by_email_and_limited_per_address() {
    let mut c = config();
    c.rate_limits.applications_per_address = 4;
    c.rate_limits.window_secs = 31_536_000;
    let app = spawn_with(c, None).await;
    program(&app, "acme", json!({})).await;
    for (i, (body, field)) in [
        (json!({"email": "a@b.example"}), "name"),
        (json!({"name": "A"}), "email"),
        (json!({"name": "A", "email": "not-an-email"}), "email"),
        (
            json!({"name": "A", "email": "a@b.example", "website": "ftp://x"}),
            "website",
        ),
        (
            json!({"name": "A", "email": "a@b.example", "message": "m".repeat(2001)}),
            "message",
        ),
        (
            json!({"name": "x".repeat(201), "email": "a@b.example"}),
            "name",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let hop = format!("198.51.100.{i}");
        let resp = app.apply("acme", &body, &hop).await;
        let msg = assert_error(resp, 400, "invalid_request").await;
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // Dedup: the same email in any case answers the first id, and the queue holds one.
    let first = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    assert!(first.starts_with("app_"), "{first}");
    let again = apply_ok(&app, "acme", "Jane@Shoes.Example", "203.0.113.2").await;
    assert_eq!(first, again);
    let op = app.as_role("acme", Role::Operator);
    let list = json_of(op.list_applications("status=pending").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let one = &list["items"][0];
    assert_eq!(one["status"], "pending");
    assert_eq!(one["email"], "jane@shoes.example");
    assert_eq!(one["emailMasked"], "j***@shoes.example");
    assert!(one.get("emailHash").is_none());
    // One address: 4 in the window, the 5th refused.
    for n in 0..4 {
        apply_ok(&app, "acme", &format!("n{n}@y.example"), "203.0.113.9").await;
    }
    let resp = app
        .apply("acme", &applicant("x@y.example"), "203.0.113.9")
        .await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    // Another address still applies.
    apply_ok(&app, "acme", "z@y.example", "203.0.113.3").await;
    // An invite-only program refuses, naming `applications`.
    let admin = app.as_role("acme", Role::Admin);
    let body = json!({"name": "Acme partners", "applications": "invite"});
    json_of(admin.put_program(&body).await, 200).await;
    let resp = app
        .apply("acme", &applicant("q@y.example"), "203.0.113.4")
        .await;
    let msg = assert_error(resp, 409, "invalid_state").await;
    assert!(msg.contains("applications"), "{msg}");
    // A handle without a program.
    assert_error(
        app.apply("ghost", &applicant("q@y.example"), "203.0.113.4")
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn approval_creates_the_partner_its_campaign_link_and_a_working_token_once() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(
        &app,
        &receiver.url("/p"),
        &["partner.applied", "partner.approved"],
    )
    .await;
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let again = apply_ok(&app, "acme", "JANE@shoes.example", "203.0.113.2").await;
    assert_eq!(
        id, again,
        "deduplicated: no second event either (counted below)"
    );
    let op = app.as_role("acme", Role::Operator);
    let approved = json_of(op.approve_application(&id).await, 200).await;
    assert_eq!(approved["application"]["status"], "approved");
    let partner = approved["partnerId"].as_str().unwrap().to_owned();
    assert_eq!(partner, "jane-doe", "the id is the name as people read it");
    assert_eq!(approved["campaignId"], partner.as_str());
    let token = approved["partnerToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("tenx_ptk_"));
    // The partner, its campaign (with the template's goal) and the plan copied.
    let record = json_of(op.get_partner(&partner).await, 200).await;
    assert_eq!(record["email"], "jane@shoes.example");
    let campaign = json_of(op.get_campaign(&partner).await, 200).await;
    assert_eq!(campaign["partnerId"], partner.as_str());
    assert_eq!(campaign["goalType"], "PURCHASE");
    let link = json_of(op.get_link(&partner).await, 200).await;
    assert_eq!(link["destinationUrl"], "https://shop.example.com/deal");
    let plan = json_of(op.get_plan(&partner).await, 200).await;
    assert_eq!(plan["rules"][0]["percent"], "10");
    // The token reads the partner's own record, and not another's.
    let as_partner = app.with_token("acme", &token);
    json_of(as_partner.get_partner(&partner).await, 200).await;
    // Twice: 409 naming the state and the partner; reject after approve: 409 too.
    let msg = assert_error(op.approve_application(&id).await, 409, "invalid_state").await;
    assert!(msg.contains("approved") && msg.contains(&partner), "{msg}");
    let resp = op
        .reject_application(&id, &json!({"reason": "changed my mind"}))
        .await;
    assert_error(resp, 409, "invalid_state").await;
    // The events: applied, then approved with the token.
    let got = receiver.wait_for("/p", 2).await;
    got[0].assert_signed_with(&secret);
    let mut by_type: Vec<Value> = got.iter().map(crate::webhooks::Captured::json).collect();
    by_type.sort_by_key(|e| e["type"].as_str().unwrap().to_owned());
    assert_eq!(by_type[0]["type"], "partner.applied");
    assert_eq!(by_type[0]["data"]["applicationId"], id.as_str());
    assert_eq!(by_type[1]["type"], "partner.approved");
    assert_eq!(by_type[1]["data"]["partnerToken"]["token"], token.as_str());
    assert_eq!(by_type[1]["data"]["email"], "jane@shoes.example");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        receiver.captured("/p").len(),
        2,
        "one applied, one approved"
    );
}

#[tokio::test]
async fn rejection_keeps_its_reason_and_other_handles_cannot_reach_the_queue() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let op = app.as_role("acme", Role::Operator);
    let msg = assert_error(
        op.reject_application(&id, &json!({})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(msg.contains("reason"), "{msg}");
    let rejected = json_of(
        op.reject_application(&id, &json!({"reason": "No audience fit."}))
            .await,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "No audience fit.");
    let got = json_of(op.get_application(&id).await, 200).await;
    assert_eq!(got["reason"], "No audience fit.");
    // The applicant is told, with the reason typed: the console's field says it is mailed.
    let rejected_mail = || {
        app.sent_mail()
            .into_iter()
            .filter(|m| m.kind == "application_rejected")
            .collect::<Vec<_>>()
    };
    eventually("a rejection mail", || async {
        (!rejected_mail().is_empty()).then_some(())
    })
    .await;
    let mail = &rejected_mail()[0];
    assert_eq!(mail.to, "jane@shoes.example");
    assert!(mail.text.contains("Why: No audience fit."), "{}", mail.text);
    assert!(mail.text.contains("/programs/acme"), "{}", mail.text);
    let msg = assert_error(op.approve_application(&id).await, 409, "invalid_state").await;
    assert!(msg.contains("rejected"), "{msg}");
    let list = json_of(op.list_applications("status=approved").await, 200).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // Another handle's operator: its own handle has no such application; ours is forbidden.
    let other = app.as_role("globex", Role::Operator);
    assert_error(other.get_application(&id).await, 404, "not_found").await;
    assert_error(other.approve_application(&id).await, 404, "not_found").await;
    let cross = app.with_token("acme", &app.token(&["globex"], Role::Operator));
    assert_error(cross.get_application(&id).await, 403, "forbidden").await;
    // A viewer reads the program but not the queue.
    let viewer = app.as_role("acme", Role::Viewer);
    assert_error(viewer.list_applications("").await, 403, "insufficient_role").await;
    assert_error(op.get_application("app_nope").await, 400, "invalid_request").await;
    // Decided once, mailed once.
    assert_eq!(rejected_mail().len(), 1);
    // The manager may keep a rejection to the team: the reason kept, the applicant not mailed.
    let quiet = apply_ok(&app, "acme", "joe@shoes.example", "203.0.113.9").await;
    let told = apply_ok(&app, "acme", "ann@shoes.example", "203.0.113.10").await;
    let bad = json!({"reason": "Spam.", "mailApplicant": "no"});
    assert_error(
        op.reject_application(&quiet, &bad).await,
        400,
        "invalid_request",
    )
    .await;
    let body = json!({"reason": "Spam.", "mailApplicant": false});
    let kept = json_of(op.reject_application(&quiet, &body).await, 200).await;
    assert_eq!(
        (&kept["status"], &kept["reason"]),
        (&json!("rejected"), &json!("Spam."))
    );
    let body = json!({"reason": "Not yet.", "mailApplicant": true});
    json_of(op.reject_application(&told, &body).await, 200).await;
    // Joe's, had it been staged, was staged before Ann's: once Ann's is out and a moment more
    // has passed, it would have been sent too.
    eventually_or("Ann's rejection mail", || async {
        let to: Vec<String> = rejected_mail().into_iter().map(|m| m.to).collect();
        if to.len() >= 2 {
            Ok(())
        } else {
            Err(format!("rejection mails to {to:?}"))
        }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let to: Vec<String> = rejected_mail().into_iter().map(|m| m.to).collect();
    assert_eq!(to, ["jane@shoes.example", "ann@shoes.example"]);
}

#[tokio::test]
async fn auto_approval_creates_the_partner_at_once_and_tells_only_the_merchant() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({"autoApprove": true})).await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/a"), &["partner.approved"]).await;
    let resp = app
        .apply("acme", &applicant("jane@shoes.example"), "203.0.113.1")
        .await;
    let got = json_of(resp, 202).await;
    assert!(
        got.get("partnerToken").is_none(),
        "never to the public caller: {got}"
    );
    let id = got["applicationId"].as_str().unwrap();
    let op = app.as_role("acme", Role::Operator);
    let a = json_of(op.get_application(id).await, 200).await;
    assert_eq!(a["status"], "approved");
    assert_eq!(a["decidedBy"], "program:auto-approve");
    let partner = a["partnerId"].as_str().unwrap();
    json_of(op.get_campaign(partner).await, 200).await;
    // The token reaches the merchant in the event, and works.
    let got = receiver.wait_for("/a", 1).await;
    let event = got[0].json();
    assert_eq!(event["data"]["partnerId"], partner);
    let token = event["data"]["partnerToken"]["token"].as_str().unwrap();
    json_of(
        app.with_token("acme", token).get_partner(partner).await,
        200,
    )
    .await;
}

/// `/programs/{handle}`: the console's page of the program, public, under the console's
/// policy, loading only hashed assets (no inline script); a malformed handle is 400.
#[tokio::test]
async fn the_program_page_is_served_under_the_consoles_policy() {
    let app = spawn_app().await;
    let resp = app.program_page("acme").await;
    assert_eq!(resp.status(), 200);
    crate::console::assert_console_headers(&resp, "/programs/acme");
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    let refs = crate::console::references(&html);
    assert!(
        refs.iter()
            .any(|r| r.starts_with("program_page-program.") && r.ends_with(".js")),
        "{refs:?}"
    );
    for r in &refs {
        assert_eq!(app.console_asset(r).await.status(), 200, "{r}");
    }
    assert_error(
        app.program_page("Not_A_Handle").await,
        400,
        "invalid_request",
    )
    .await;
}

/// Nothing half-done: an approval that cannot write all of it writes none of it. A partner
/// created by hand under the id the approval derives makes it `409` naming `partnerId`, and no
/// campaign, link or token appears; a program without a template, or a template without a
/// plan, is `409` naming `template`; the application stays pending through all of it.
#[tokio::test]
async fn an_approval_that_cannot_complete_writes_nothing() {
    let app = spawn_with(config(), None).await;
    let admin = app.as_role("acme", Role::Admin);
    let op = app.as_role("acme", Role::Operator);
    // A program without a template.
    let bare = json!({"name": "Acme partners"});
    json_of(admin.put_program(&bare).await, 201).await;
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let msg = assert_error(op.approve_application(&id).await, 409, "invalid_state").await;
    assert!(msg.starts_with("template:"), "{msg}");
    // A template campaign without a plan.
    Program::on(&app, "acme")
        .campaign("tpl", None, "join")
        .await;
    let with = json!({"name": "Acme partners", "template": {"campaignId": "tpl"}});
    json_of(admin.put_program(&with).await, 200).await;
    let msg = assert_error(op.approve_application(&id).await, 409, "invalid_state").await;
    assert!(msg.contains("template") && msg.contains("plan"), "{msg}");
    // The plan set, but every id made from the name taken by hand: refused, nothing written.
    let plan: Value = serde_json::from_str(PLAN).unwrap();
    json_of(op.put_plan("tpl", &plan).await, 200).await;
    for n in 1..=20 {
        let id = if n == 1 {
            "jane-doe".to_owned()
        } else {
            format!("jane-doe-{n}")
        };
        let body = json!({"partnerId": id, "name": "Someone else"});
        json_of(op.create_partner(&body).await, 201).await;
    }
    let taken = "jane-doe-20".to_owned();
    let msg = assert_error(op.approve_application(&id).await, 409, "conflict").await;
    assert!(
        msg.contains("partnerId") && msg.contains("jane-doe-20") && msg.contains("Jane Doe"),
        "{msg}"
    );
    assert_error(op.get_campaign(&taken).await, 404, "not_found").await;
    assert_error(op.get_link(&taken).await, 404, "not_found").await;
    assert_error(op.get_plan(&taken).await, 404, "not_found").await;
    let record = json_of(op.get_partner(&taken).await, 200).await;
    assert_eq!(
        record["name"], "Someone else",
        "the partner made by hand is untouched"
    );
    let a = json_of(op.get_application(&id).await, 200).await;
    assert_eq!(
        (&a["status"], &a["partnerId"]),
        (&json!("pending"), &Value::Null)
    );
    // Rejecting it still works: the failed approvals left it as it was.
    let body = json!({"reason": "Already a partner."});
    json_of(op.reject_application(&id, &body).await, 200).await;
}

/// The queue pages oldest first with its cursor, under a status filter too; a body over the
/// API's limit is 413 in the envelope.
#[tokio::test]
async fn the_queue_pages_by_status_and_a_large_body_is_refused() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let hop = format!("203.0.113.{n}");
        ids.push(apply_ok(&app, "acme", &format!("p{n}@y.example"), &hop).await);
    }
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"reason": "No."});
    json_of(op.reject_application(&ids[1], &body).await, 200).await;
    let first = json_of(op.list_applications("status=pending&limit=1").await, 200).await;
    assert_eq!(first["items"][0]["applicationId"], ids[0].as_str());
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let query = format!("status=pending&limit=1&cursor={cursor}");
    let second = json_of(op.list_applications(&query).await, 200).await;
    assert_eq!(
        second["items"][0]["applicationId"],
        ids[2].as_str(),
        "{second}"
    );
    let all = json_of(op.list_applications("").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let msg = assert_error(
        op.list_applications("status=maybe").await,
        400,
        "invalid_request",
    )
    .await;
    assert!(msg.contains("status"), "{msg}");
    let huge = json!({"name": "A", "email": "a@b.example", "message": "m".repeat(70_000)});
    assert_error(
        app.apply("acme", &huge, "203.0.113.9").await,
        413,
        "payload_too_large",
    )
    .await;
}

/// Two managers approving the same application at once: one partner, one `200`, one `409`
/// naming the state (whichever write the loser's transaction lost on), never a second partner.
#[tokio::test]
async fn concurrent_approvals_create_one_partner() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let (a, b) = (
        app.as_role("acme", Role::Operator),
        app.as_role("acme", Role::Operator),
    );
    let (ra, rb) = tokio::join!(a.approve_application(&id), b.approve_application(&id));
    let (won, lost) = if ra.status() == 200 {
        (ra, rb)
    } else {
        (rb, ra)
    };
    assert_eq!(won.status(), 200);
    let msg = assert_error(lost, 409, "invalid_state").await;
    assert!(
        msg.contains("is approved"),
        "the loser names the state: {msg}"
    );
    let partners = json_of(a.list_partners().await, 200).await;
    let ours: Vec<&Value> = partners["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["partnerId"].as_str().unwrap().starts_with("jane-doe"))
        .collect();
    assert_eq!(ours.len(), 1, "{partners}");
    assert_eq!(ours[0]["partnerId"], "jane-doe", "the id is the name");
}

/// A partner's id is its name as people read it: the first Jane Doe is `jane-doe`, the next
/// `jane-doe-2`, and a name taken by a partner added by hand gets the next number too; two
/// Janes approved at once are two partners, never one.
#[tokio::test]
async fn approved_partners_are_named_by_their_names_with_the_next_number_when_taken() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let op = app.as_role("acme", Role::Operator);
    let first = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let got = json_of(op.approve_application(&first).await, 200).await;
    assert_eq!(got["partnerId"], "jane-doe", "{got}");
    assert_eq!(got["slug"], "jane-doe", "{got}");

    let (a, b) = (
        apply_ok(&app, "acme", "jane@boots.example", "203.0.113.2").await,
        apply_ok(&app, "acme", "jane@heels.example", "203.0.113.3").await,
    );
    let (ra, rb) = tokio::join!(op.approve_application(&a), op.approve_application(&b));
    let (ra, rb) = (json_of(ra, 200).await, json_of(rb, 200).await);
    let mut ids = [ra["partnerId"].clone(), rb["partnerId"].clone()];
    ids.sort_by_key(ToString::to_string);
    assert_eq!(ids, [json!("jane-doe-2"), json!("jane-doe-3")]);

    let made = json_of(op.create_partner(&json!({"name": "Lena"})).await, 201).await;
    assert_eq!(made["partnerId"], "lena", "{made}");
    let lena = json!({"name": "Lena", "email": "lena@deals.example", "message": "Deals."});
    let applied = json_of(app.apply("acme", &lena, "203.0.113.4").await, 202).await;
    let id = applied["applicationId"].as_str().unwrap();
    let got = json_of(op.approve_application(id).await, 200).await;
    assert_eq!(got["partnerId"], "lena-2", "{got}");
}

/// An approval asked again with its `idempotency-key` (its answer lost, a double click, two tabs
/// at once) answers the partner it made, with the token in one answer only; asked again under
/// another key or none, `409` naming the partner; a blank key is refused, naming the header.
#[tokio::test]
async fn an_approval_asked_again_with_its_key_answers_the_same_partner() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let op = app.as_role("acme", Role::Operator);
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let blank = op.approve_application_keyed(&id, "  ").await;
    let msg = assert_error(blank, 400, "invalid_request").await;
    assert!(msg.starts_with("idempotency-key:"), "{msg}");

    let (a, b) = tokio::join!(
        op.approve_application_keyed(&id, "approve-jane"),
        op.approve_application_keyed(&id, "approve-jane")
    );
    let (a, b) = (json_of(a, 200).await, json_of(b, 200).await);
    for got in [&a, &b] {
        assert_eq!(
            (&got["partnerId"], &got["slug"], &got["campaignId"]),
            (&json!("jane-doe"), &json!("jane-doe"), &json!("jane-doe")),
            "{got}"
        );
        assert_eq!(got["application"]["status"], "approved", "{got}");
        assert!(got["application"].get("approvalKey").is_none(), "{got}");
    }
    assert_eq!(a["shortUrl"], b["shortUrl"]);
    let tokens = [&a, &b]
        .iter()
        .filter(|got| got.get("partnerToken").is_some())
        .count();
    assert_eq!(tokens, 1, "the token is shown once: {a} {b}");

    let again = json_of(op.approve_application_keyed(&id, "approve-jane").await, 200).await;
    assert_eq!(
        (&again["partnerId"], &again["shortUrl"]),
        (&a["partnerId"], &a["shortUrl"])
    );
    assert!(again.get("partnerToken").is_none(), "{again}");
    for other in [
        op.approve_application_keyed(&id, "approve-jane-2").await,
        op.approve_application(&id).await,
    ] {
        let msg = assert_error(other, 409, "invalid_state").await;
        assert!(msg.contains("jane-doe"), "{msg}");
    }
    let partners = json_of(op.list_partners().await, 200).await;
    let janes = partners["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["partnerId"].as_str().unwrap().starts_with("jane-doe"))
        .count();
    assert_eq!(janes, 1, "{partners}");
}

/// Issue 59: an application mails the handle (the branding's reply-to, until the people issue
/// names its admins); an approval mails the partner that it is approved, with the program's
/// page and never its token; each once, though the events consumer may apply an event twice.
#[tokio::test]
async fn an_application_and_its_approval_are_mailed_once_without_a_token() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let admin = app.token(&["acme"], Role::Admin);
    let branding = json!({"name": "Acme", "replyTo": "partners@acme.example"});
    let put = app
        .client
        .put(app.url("/v2/handles/acme/branding"))
        .bearer_auth(&admin)
        .json(&branding)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let id = apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let sent = app.wait_for_mail(1).await;
    assert_eq!(sent[0].kind, "application_received");
    assert_eq!(sent[0].to, "partners@acme.example");
    assert!(
        sent[0].text.contains("jane@shoes.example"),
        "{}",
        sent[0].text
    );
    let op = app.as_role("acme", Role::Operator);
    let approved = json_of(op.approve_application(&id).await, 200).await;
    let token = approved["partnerToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = app.wait_for_mail(2).await;
    let mail = sent
        .iter()
        .find(|m| m.kind == "partner_approved")
        .expect("approval mail");
    assert_eq!(mail.to, "jane@shoes.example");
    assert_eq!(
        mail.subject,
        "You are approved for the Acme partner program"
    );
    assert!(!mail.raw.contains(&token), "never the token");
    // Absolute to the public origin (locally the redirect domain's): the link that signs the
    // partner's contact in as its owner (issue 61).
    let verify = format!(
        "http://{}/v2/auth/email-link/verify?token=tenx_l_",
        app.config.redirect_domain
    );
    assert!(mail.link(&verify).is_some(), "{}", mail.text);
    assert_eq!(app.sent_mail().len(), 2, "each once");
}

/// The console saves the program by sending back what it read with its form's fields changed:
/// every setting the read shows, less its stamps, is taken back as it was, so a save of the
/// name keeps the tax, self-billing, fraud, claim and coupon rules no form of it shows.
#[tokio::test]
async fn a_program_read_and_sent_back_keeps_every_setting() {
    let app = spawn_app().await;
    let extra = json!({"requireTaxProfile": "accepted",
        "selfBilling": {"enabled": true, "legalName": "Acme GmbH", "address": "1 Main St, Berlin",
            "vatId": "FR40303265045"},
        "fraudRules": {"shared_tax_id": "hold_payouts", "disposable_email": "flag"},
        "allowPaidTraffic": true, "minCustomersBeforePayout": 3,
        "refundAfterPayoutThreshold": 40, "claims": {"deadlineDays": 14, "onOverdue": "approve"},
        "couponLeakThreshold": 30, "allowedDestinations": ["https://acme.example"]});
    let first = program(&app, "acme", extra).await;
    let admin = app.as_role("acme", Role::Admin);
    let mut sent = first.clone();
    for stamp in ["version", "updatedAt", "updatedBy"] {
        sent.as_object_mut().unwrap().remove(stamp);
    }
    sent["name"] = json!("Acme's partners");
    let saved = json_of(admin.put_program(&sent).await, 200).await;
    for (k, v) in first.as_object().unwrap() {
        if !["version", "updatedAt", "updatedBy", "name"].contains(&k.as_str()) {
            assert_eq!(&saved[k], v, "{k}");
        }
    }
    assert_eq!(saved["name"], "Acme's partners");
    assert_eq!(saved["version"], 2);
}

/// An application from a throwaway-mail address is named so in the manager's queue, and the
/// applicant's own answer says nothing of it.
#[tokio::test]
async fn an_application_from_a_throwaway_address_says_so_to_the_manager_only() {
    let app = spawn_with(config(), None).await;
    program(&app, "acme", json!({})).await;
    let answer = json_of(
        app.apply("acme", &applicant("jane@mailinator.com"), "203.0.113.5")
            .await,
        202,
    )
    .await;
    assert_eq!(
        answer.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["applicationId"],
        "the applicant's answer: {answer}"
    );
    let throwaway = answer["applicationId"].as_str().unwrap().to_owned();
    let real = apply_ok(&app, "acme", "bo@example.com", "203.0.113.6").await;
    let op = app.as_role("acme", Role::Operator);
    let seen = json_of(
        op.get(&format!("/partner-applications/{throwaway}")).await,
        200,
    )
    .await;
    assert_eq!(seen["throwawayDomain"], "mailinator.com", "{seen}");
    let other = json_of(op.get(&format!("/partner-applications/{real}")).await, 200).await;
    assert!(other.get("throwawayDomain").is_none(), "{other}");
}
