//! Claims name partners by their names (issues 62, 63): every reason of a proposal, the signed
//! decision's words, the lines a decision writes and every error a claim's request answers say
//! "Ana's shop", never `pub-two`.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::claims::{
    ONE_NAME, TWO_NAME, buyer_visit, coupon_sale, decide, now_rfc3339, open_claim, program,
};
use crate::helpers::*;
use crate::scenario::{as_partner, human_ctx};

const IDS: [&str; 2] = ["pub-one", "pub-two"];

/// Every string of a claim a person reads: the proposal's reasons and the decision's words.
fn words_of(claim: &Value) -> Vec<String> {
    let mut out: Vec<String> = claim["proposal"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    for field in ["reason", "binding"] {
        if let Some(s) = claim["decision"][field].as_str() {
            out.push(s.to_owned());
        }
    }
    out
}

#[tokio::test]
async fn claims_name_partners_by_their_names_never_their_ids() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    // buyer-7 bound to pub-two by its coupon; the buyer's own visit through pub-one's link.
    let bind = json!({"customerId": "buyer-7", "couponCode": "SAVE20"});
    json_of(op.bind_customer(&bind).await, 201).await;
    let (buyer_ctx, reference) = buyer_visit(&app).await;
    let foreign = human_ctx(&app, "acme", "/offer").await;
    let sale = json!({"customerId": "buyer-7", "idempotencyKey": "order-1",
        "eventType": "purchase", "value": "100.00", "currency": "EUR",
        "metadata": {"ref": reference}});
    json_of(op.convert_verified(&sale).await, 202).await;
    coupon_sale(&app, "order-2", None).await;
    let third = coupon_sale(&app, "order-3", None).await;
    crate::commissions::ledger(&app, 3).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let at = now_rfc3339();
    let mut read: Vec<String> = Vec::new();

    // The proposals: the binding, the line credited, the coupon and the foreign click, each
    // naming pub-two by its name.
    let body = json!({"orderId": "order-1", "occurredAt": at, "evidence": {"ctx": buyer_ctx}});
    let tied = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let words = words_of(&tied).join(" | ");
    for part in [
        "The buyer was bound to Ana's shop by a coupon code",
        "The sale is credited to Ana's shop (commission",
    ] {
        assert!(words.contains(part), "{part}: {words}");
    }
    read.extend(words_of(&tied));
    let body = json!({"orderId": "order-2", "occurredAt": at, "evidence": {"ctx": foreign}});
    let denied = json_of(open_claim(&one, "pub-one", &body).await, 201).await;
    let words = words_of(&denied).join(" | ");
    for part in [
        "The click in the evidence was on a link of Ana's shop, not yours.",
        "The sale used coupon code SAVE20 (a code of Ana's shop), with no click of that partner.",
    ] {
        assert!(words.contains(part), "{part}: {words}");
    }
    read.extend(words_of(&denied));

    // The errors: a second open claim, another partner's routes, a reassignment refused.
    let again = assert_error(
        open_claim(&one, "pub-one", &body).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(
        again,
        format!("orderId: {ONE_NAME} already has an open claim on this sale.")
    );
    read.push(again);
    for path in ["/partners/pub-two/claims", "/claims?partnerId=pub-two"] {
        let message = assert_error(one.get(path).await, 404, "not_found").await;
        assert_eq!(message, "The partner was not found.", "{path}");
        read.push(message);
    }
    let unknown = json!({"orderId": "order-9", "occurredAt": at});
    let message = assert_error(
        open_claim(&op, "pub-nobody", &unknown).await,
        404,
        "not_found",
    )
    .await;
    read.push(message);
    let reassign = format!(
        "/conversions/{}/reassign",
        third["conversionId"].as_str().unwrap()
    );
    let wrong = json!({"partnerId": "pub-one", "campaignId": "beta", "reason": "Leaked."});
    let message = assert_error(
        op.send_json(Method::POST, &reassign, &wrong).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(
        message,
        format!("campaignId: campaign beta is not one of {ONE_NAME}'s.")
    );
    read.push(message);

    // The decisions: the binding moved, in names, signed; the reassignment's lines.
    let approve =
        json!({"decision": "approve", "reason": "The reader's own visit.", "binding": "move"});
    let decided = json_of(
        decide(&op, tied["claimId"].as_str().unwrap(), &approve).await,
        200,
    )
    .await;
    let binding = decided["decision"]["binding"].as_str().unwrap();
    assert!(
        binding.starts_with(&format!(
            "Customer buyer-7 moved from {TWO_NAME} to {ONE_NAME} on"
        )),
        "{binding}"
    );
    let jwks = app.state().signing().unwrap().jwks();
    assert!(tenx_shared::payouts::verify::any(&decided, &jwks).is_ok());
    read.extend(words_of(&decided));
    let right = json!({"partnerId": "pub-one", "reason": "Leaked from the newsletter."});
    let moved = json_of(op.send_json(Method::POST, &reassign, &right).await, 200).await;
    read.extend(words_of(&moved));
    let twice = assert_error(
        op.send_json(Method::POST, &reassign, &right).await,
        409,
        "invalid_state",
    )
    .await;
    assert_eq!(
        twice,
        format!("The sale is already credited to {ONE_NAME}.")
    );
    read.push(twice);
    let lines = crate::commissions::ledger(&app, 7).await;
    let taken_back: Vec<String> = lines
        .iter()
        .filter(|l| l["kind"] == "adjustment")
        .flat_map(|l| l["reasons"].as_array().cloned().unwrap_or_default())
        .map(|r| r.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(taken_back.len(), 2, "{lines:#?}");
    assert!(
        taken_back
            .iter()
            .all(|r| r.starts_with(&format!("reassigned to {ONE_NAME} by claim"))),
        "{taken_back:?}"
    );
    read.extend(taken_back);

    // Nothing a manager or a partner reads names a partner by its id.
    for text in &read {
        assert!(
            IDS.iter().all(|id| !text.contains(id)) && !text.contains("pub-nobody"),
            "an id in: {text}"
        );
    }
}
