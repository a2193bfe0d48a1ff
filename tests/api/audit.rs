//! The audit log (issue 60): each write records `{at, actor, action, target, requestId}` in the
//! write's own transaction; read by admins and operators, filtered, exported as CSV.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::auth::Role;

use crate::helpers::{TestApp, spawn_app, spawn_with_failing_queue};

async fn invite(app: &TestApp, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v2/handles/acme/members/invitations"))
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .json(&json!({"email": email, "role": "viewer"}))
        .send()
        .await
        .unwrap()
}

async fn audit(app: &TestApp, query: &str, role: Role) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v2/handles/acme/audit{query}")))
        .bearer_auth(app.token(&["acme"], role))
        .send()
        .await
        .unwrap()
}

async fn items(app: &TestApp, query: &str) -> Vec<Value> {
    let r = audit(app, query, Role::Operator).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn each_write_is_audited_with_its_actor_and_read_by_operators_only() {
    let app = spawn_app().await;
    let r = invite(&app, "bob@example.com").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id = r.json::<Value>().await.unwrap()["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .client
        .delete(app.url(&format!("/v2/handles/acme/members/invitations/{id}")))
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let all = items(&app, "").await;
    assert_eq!(all.len(), 2, "{all:?}");
    // Newest first.
    assert_eq!(all[0]["action"], "invitation.revoked");
    assert_eq!(all[1]["action"], "invitation.created");
    assert_eq!(all[1]["actor"], json!({"type": "jwt", "id": "tester"}));
    assert_eq!(all[1]["requestId"], request_id.as_str());
    assert!(
        all[1]["target"]
            .as_str()
            .unwrap()
            .contains("bob@example.com")
    );
    assert!(all[1]["at"].is_string());

    // Filters.
    assert_eq!(items(&app, "?action=invitation.created").await.len(), 1);
    assert_eq!(items(&app, "?actorType=user").await.len(), 0);
    assert_eq!(items(&app, "?actorType=jwt&actorId=tester").await.len(), 2);
    assert_eq!(items(&app, "?to=2000-01-01T00:00:00Z").await.len(), 0);
    assert_eq!(items(&app, "?from=2000-01-01T00:00:00Z").await.len(), 2);
    let page: Value = audit(&app, "?limit=1", Role::Operator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["nextCursor"].as_str().unwrap();
    let next = items(&app, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(next[0]["action"], "invitation.created");
    for bad in ["?actorType=robot", "?from=yesterday", "?limit=0", "?nope=1"] {
        let r = audit(&app, bad, Role::Operator).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // Viewers and creators do not read it.
    for role in [Role::Viewer, Role::Creator] {
        let r = audit(&app, "", role).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    // The CSV: a header, one row per entry.
    let r = audit(&app, "/export", Role::Admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // The documented columns unchanged, then the actor's type and the action in words.
    assert_eq!(
        lines[0],
        "at,actorType,actorId,action,target,requestId,actorTypeWords,actionWords"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].contains("invitation.created") && lines[2].contains(&request_id));
    assert!(
        lines[2].ends_with(
            ",A signed token (the console's sign-in or a program's own),invitation created"
        ),
        "{}",
        lines[2]
    );
}

#[tokio::test]
async fn a_write_cut_before_its_commit_leaves_no_entry() {
    let (app, switch) = spawn_with_failing_queue().await;
    switch.fail_transacts_after(0, 1);
    let r = invite(&app, "bob@example.com").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(switch.remaining_transact_failures(), 0);
    assert!(
        items(&app, "").await.is_empty(),
        "no entry without its write"
    );
    let pending: Value = app
        .client
        .get(app.url("/v2/handles/acme/members/invitations"))
        .bearer_auth(app.token(&["acme"], Role::Admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        pending["items"],
        json!([]),
        "and no write without its entry"
    );
    assert_eq!(
        invite(&app, "bob@example.com").await.status(),
        StatusCode::CREATED
    );
    let all = items(&app, "").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["action"], "invitation.created");
}

/// A window before 1970 or ending before it starts selects nothing (found by the fuzzer: the
/// inverted key range answered 500), in the list and in the export alike.
#[tokio::test]
async fn a_window_before_1970_or_inverted_is_empty_not_an_error() {
    let app = spawn_app().await;
    assert_eq!(
        invite(&app, "jo@example.com").await.status(),
        StatusCode::CREATED
    );
    assert!(
        !items(&app, "").await.is_empty(),
        "the invitation is audited"
    );
    assert!(items(&app, "?to=0396-03-25T00:08:42Z").await.is_empty());
    assert!(
        items(&app, "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z")
            .await
            .is_empty()
    );
    let r = app
        .client
        .get(
            app.url("/v2/handles/acme/audit/export?action=partner.created&to=0396-03-25T00:08:42Z"),
        )
        .bearer_auth(app.token(&["acme"], Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1, "the header row only: {csv}");
}
