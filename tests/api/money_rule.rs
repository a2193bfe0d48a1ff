//! The one money rule for people who act for a partner, on either backend: a member of the
//! handle who is also a user of one of its partners gets `403 forbidden` on every decision that
//! creates, approves, raises, moves or pays that partner's money (docs/security.md lists the
//! routes), nothing stored changes, and another member may do each; a decision that races the
//! person becoming the partner's user is refused inside its own transaction.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::claims::{buyer_visit, coupon_sale, decide, now_rfc3339, open_claim, program};
use crate::helpers::*;
use crate::partner_users::{Browser, invite_by_operator};
use crate::people::member;
use crate::scenario::as_partner;

/// `pub-two`'s claim on order `order` (a sale 10x never saw, so its amount is the decider's),
/// opened by the partner itself: its id.
async fn claim_of_pub_two(app: &TestApp, order: &str) -> String {
    let two = as_partner(app, "acme", "pub-two").await;
    let body = json!({"orderId": order, "occurredAt": now_rfc3339()});
    let claim = json_of(open_claim(&two, "pub-two", &body).await, 201).await;
    claim["claimId"].as_str().unwrap().to_owned()
}

/// Mia: an admin of `acme` who is also a user of `pub-two`, acting as the member.
async fn mia(app: &TestApp) -> Browser<'_> {
    member(app, "mia@acme.example", Role::Admin).await;
    let link = invite_by_operator(app, "pub-two", "mia@acme.example").await;
    let (mia, _) = Browser::from_link(app, &link).await;
    assert_eq!(mia.me().await["partnerships"][0]["partnerId"], "pub-two");
    mia.acting_as("member")
}

#[tokio::test]
async fn a_member_never_decides_the_money_of_the_partner_she_acts_for() {
    let app = spawn_app().await;
    program(&app).await;
    let one_sale = coupon_sale(&app, "order-1", None).await; // pub-two's (its coupon)
    crate::commissions::ledger(&app, 1).await;
    let claim = claim_of_pub_two(&app, "order-unseen").await;
    let mia = mia(&app).await;
    let before = crate::commissions::ledger(&app, 1).await;

    // Her partner's claim, for any amount: refused, the claim still open.
    let approve = json!({"decision": "approve", "reason": "ok", "amount": "250.00", "currency": "EUR"});
    let r = mia
        .post(&format!("/v2/handles/acme/claims/{claim}/decide"), &approve)
        .await;
    let message = assert_error(r, 403, "forbidden").await;
    assert!(message.contains("partner pub-two"), "{message}");
    let op = app.as_role("acme", Role::Operator);
    let open = json_of(op.get(&format!("/claims/{claim}")).await, 200).await;
    assert_eq!(open["status"], "open", "{open}");

    // A sale moved to her partner, or away from it: refused.
    let sale = one_sale["conversionId"].as_str().unwrap();
    let reassign = format!("/v2/handles/acme/conversions/{sale}/reassign");
    let to_one = json!({"partnerId": "pub-one", "reason": "leaked"});
    assert_error(mia.post(&reassign, &to_one).await, 403, "forbidden").await;

    // Its payout method confirmed or unfrozen, its standing changed, its campaign's plan.
    for path in [
        "/v2/handles/acme/partners/pub-two/payout-method/confirm",
        "/v2/handles/acme/partners/pub-two/payout-method/unfreeze",
    ] {
        assert_error(mia.post(path, &json!({})).await, 403, "forbidden").await;
    }
    let standing = mia
        .send(
            Method::PATCH,
            "/v2/handles/acme/partners/pub-two",
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_error(standing, 403, "forbidden").await;
    let raise = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "90"}]});
    let plan = mia
        .send(
            Method::PUT,
            "/v2/handles/acme/campaigns/beta/commission-plan",
            Some(&raise),
        )
        .await;
    assert_error(plan, 403, "forbidden").await;

    // Nothing changed: the ledger, the claim, the plan.
    assert_eq!(crate::commissions::ledger(&app, 1).await, before);
    let plan = json_of(op.get_plan("beta").await, 200).await;
    assert_eq!(plan["rules"][0]["percent"], "10", "{plan}");

    // The same person on another partner's money, and another member on hers: allowed.
    let name = json!({"name": "Bo's blog, renamed"});
    let renamed = mia
        .send(Method::PATCH, "/v2/handles/acme/partners/pub-one", Some(&name))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let plan_one = mia
        .send(
            Method::PUT,
            "/v2/handles/acme/campaigns/alpha/commission-plan",
            Some(&raise),
        )
        .await;
    assert_eq!(plan_one.status(), StatusCode::OK);
    let decided = json_of(decide(&op, &claim, &approve).await, 200).await;
    assert_eq!(decided["status"], "approved", "{decided}");
}

/// A decision and the person joining the partner, interleaved as the race would: the member is
/// judged while she acts for no partner, she then joins the claim's partner, and the decision's
/// transaction (which carries her partnership's absence as a condition) is refused, nothing
/// written; judged afresh it is the rule's `403` in words.
#[tokio::test]
async fn a_decision_that_races_the_person_joining_the_partner_is_refused() {
    use tenx_shared::claims::decide::{Deciding, decide as decide_claim};
    use tenx_shared::claims::{ClaimError, Verdict};
    use tenx_shared::domain::{ClaimId, Handle};
    use tenx_shared::people::acting::Decider;

    let app = spawn_app().await;
    program(&app).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    coupon_sale(&app, "order-1", Some(&reference)).await;
    crate::commissions::ledger(&app, 1).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let body = json!({"orderId": "order-1", "occurredAt": now_rfc3339(), "evidence": {"ctx": buyer_ctx}});
    let claim = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let id = ClaimId::parse(claim["claimId"].as_str().unwrap()).unwrap();
    let mia = member(&app, "mia@acme.example", Role::Operator).await;

    // Judged now: no partner of her own.
    let judged = Decider {
        user: Some(mia.user_id.clone()),
        own_partner: None,
    };
    // Meanwhile she becomes a user of the claim's partner.
    let link = invite_by_operator(&app, "pub-one", "mia@acme.example").await;
    let (joined, _) = Browser::from_link(&app, &link).await;
    assert_eq!(joined.me().await["partnerships"][0]["partnerId"], "pub-one");

    let state = app.state();
    let keys = state.signing().unwrap();
    let deciding = Deciding {
        decision: Verdict::Approve,
        reason: "looks right".into(),
        amount: None,
        by: mia.user_id.to_string(),
        overdue: false,
        base: app.origin(),
        campaign: None,
        move_binding: None,
        decider: judged,
    };
    let acme = Handle::parse("acme").unwrap();
    let outcome = decide_claim((state.io(), keys), &acme, &id, deciding).await;
    match outcome {
        Err(ClaimError::OwnPartner(own)) => {
            assert!(own.to_string().contains("partner pub-one"), "{own}");
        }
        other => panic!("expected the money rule's refusal, got {other:?}"),
    }
    let op = app.as_role("acme", Role::Operator);
    let still: Value = json_of(op.get(&format!("/claims/{id}")).await, 200).await;
    assert_eq!(still["status"], "open", "{still}");
    assert_eq!(crate::commissions::ledger(&app, 1).await.len(), 1);

    // A member with no partner decides it, through the same use case.
    let other = member(&app, "oli@acme.example", Role::Operator).await;
    let free = Deciding {
        decision: Verdict::Approve,
        reason: "looks right".into(),
        amount: None,
        by: other.user_id.to_string(),
        overdue: false,
        base: app.origin(),
        campaign: None,
        move_binding: None,
        decider: Decider {
            user: Some(other.user_id.clone()),
            own_partner: None,
        },
    };
    let decided = decide_claim((state.io(), keys), &acme, &id, free).await;
    assert!(decided.is_ok(), "{:?}", decided.err());
}
