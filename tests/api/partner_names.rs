//! A partner added by hand without an id (issue 62): the id is made from its name, a name taken
//! gets a suffix, two at once make two partners, and a chosen id still answers 409 when taken.

use serde_json::json;
use tenx_shared::http::auth::Role;

use crate::helpers::{assert_error, json_of, spawn_app};

#[tokio::test]
async fn a_partner_added_by_name_gets_an_id_made_from_it() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let made = json_of(
        op.create_partner(&json!({"name": "Jo's Deals!"})).await,
        201,
    )
    .await;
    assert_eq!(made["partnerId"], "jo-s-deals");
    assert_eq!(made["name"], "Jo's Deals!");
    let again = json_of(op.create_partner(&json!({"name": "jo's deals"})).await, 201).await;
    assert_eq!(again["partnerId"], "jo-s-deals-2");
    let symbols = json_of(op.create_partner(&json!({"name": "★★★"})).await, 201).await;
    assert_eq!(symbols["partnerId"], "partner");

    // Two at once: two partners, each under its own id.
    let body = json!({"name": "Twin"});
    let (a, b) = tokio::join!(op.create_partner(&body), op.create_partner(&body));
    let (a, b) = (json_of(a, 201).await, json_of(b, 201).await);
    let mut ids = [a["partnerId"].clone(), b["partnerId"].clone()];
    ids.sort_by_key(ToString::to_string);
    assert_eq!(ids, [json!("twin"), json!("twin-2")]);

    // A chosen id is kept, and a taken one is refused (nothing made under another).
    let chosen = json!({"partnerId": "pub-one", "name": "Publisher One"});
    json_of(op.create_partner(&chosen).await, 201).await;
    assert_error(op.create_partner(&chosen).await, 409, "conflict").await;
    let body = assert_error(
        op.create_partner(&json!({"name": "  "})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body.contains("name"), "{body}");
    let list = json_of(op.get("/partners?limit=100").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 6, "{list}");
}
