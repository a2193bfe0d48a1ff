//! Mail to a handle's admins (issue 59 with issue 63's kinds): `claim_opened` and `coupon_leak`
//! to each admin (not the other members), once per event, each a kind an admin may turn off.

use serde_json::json;
use tenx_shared::auth::Role;
use tenx_shared::kernel::consume::EventSink;
use tenx_shared::kernel::events::{Event, EventType};
use tenx_shared::mail::MailStatus;

use crate::helpers::{acme, spawn_with_failing_queue};
use crate::people::member;

fn claim_opened() -> Event {
    Event::untyped(
        EventType::ClaimOpened,
        &acme(),
        json!({"claimId": "clm_0195570b8d3e7f1a2b4c6d8e0f1a2b3c", "partnerId": "ana",
            "status": "open", "orderId": "A-1001", "openedAt": "2026-11-26T10:00:00Z",
            "deadlineAt": "2026-12-10T10:00:00Z"}),
    )
}

fn leak() -> Event {
    Event::untyped(
        EventType::CouponLeakSuspected,
        &acme(),
        json!({"code": "ANA20", "partnerId": "ana", "conversions": 40, "withoutClick": 31,
            "share": 0.78, "sources": [], "score": 82, "reasons": ["coupon_site"], "threshold": 60}),
    )
}

/// Two admins and an operator: each event mails each admin once (applied twice, as an
/// at-least-once consumer may), the operator never; an admin who unsubscribes from leak alerts
/// gets no more of them, the other admin still does.
#[tokio::test]
async fn claims_and_coupon_leaks_mail_each_admin_once_and_an_admin_may_turn_them_off() {
    let (app, _switch) = spawn_with_failing_queue().await;
    member(&app, "ada@acme.example", Role::Admin).await;
    member(&app, "bea@acme.example", Role::Admin).await;
    member(&app, "oli@acme.example", Role::Operator).await;
    let state = app.state();
    let sink = tenx_shared::people::admin_mail::AdminMailSink;
    let events = [claim_opened(), leak()];
    sink.apply(&state, &events).await.unwrap();
    sink.apply(&state, &events).await.unwrap();
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 4, "two kinds to two admins, once each");
    assert!(
        sent.iter().all(|m| m.to != "oli@acme.example"),
        "admins only"
    );
    for to in ["ada@acme.example", "bea@acme.example"] {
        let mine: Vec<_> = sent.iter().filter(|m| m.to == to).collect();
        let claim = mine
            .iter()
            .find(|m| m.kind == "claim_opened")
            .expect("claim mail");
        assert_eq!(claim.subject, "A commission claim was opened");
        assert!(
            claim
                .text
                .contains("ana claimed a commission for order A-1001"),
            "{}",
            claim.text
        );
        assert!(claim.text.contains("10 December 2026"), "{}", claim.text);
        let leak = mine
            .iter()
            .find(|m| m.kind == "coupon_leak")
            .expect("leak mail");
        assert_eq!(leak.subject, "Coupon code ANA20 may have leaked");
        assert!(
            leak.text.contains("31 of its last 40 sales"),
            "{}",
            leak.text
        );
        assert!(
            leak.text.contains("a score of 82 out of 100"),
            "{}",
            leak.text
        );
        assert!(leak.list_unsubscribe.is_some(), "an admin may turn it off");
    }

    // Ada unsubscribes from leak alerts in one click.
    let ada_leak = sent
        .iter()
        .find(|m| m.to == "ada@acme.example" && m.kind == "coupon_leak")
        .unwrap();
    let link = ada_leak.list_unsubscribe.clone().unwrap();
    let path = link
        .trim_matches(['<', '>'])
        .split_once("/v2/")
        .map(|(_, p)| format!("/v2/{p}"))
        .unwrap();
    let done = app.client.post(app.url(&path)).send().await.unwrap();
    assert_eq!(done.status(), 200);
    sink.apply(&state, &[leak(), claim_opened()]).await.unwrap();
    app.deliver_mail().await;
    let sent = app.sent_mail();
    let count = |to: &str, kind: &str| sent.iter().filter(|m| m.to == to && m.kind == kind).count();
    assert_eq!(count("ada@acme.example", "coupon_leak"), 1, "turned off");
    assert_eq!(count("bea@acme.example", "coupon_leak"), 2);
    assert_eq!(
        count("ada@acme.example", "claim_opened"),
        2,
        "other kinds still on"
    );
    let admin = app.token(&["acme"], Role::Admin);
    let listed: serde_json::Value = app
        .client
        .get(app.url("/v2/handles/acme/mail"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let suppressed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == serde_json::to_value(MailStatus::Suppressed).unwrap())
        .count();
    assert_eq!(suppressed, 1, "{listed}");
}
