//! The program's own Stripe and PayPal accounts (issue 78): an admin connects each, its secrets
//! sealed at rest and answered by their last 4 only; managers see them masked; "test the
//! connection" calls the provider (the local Stripe and PayPal of `scripts/provider_server.py`)
//! and answers in words, a refused key, a busy provider and a provider not connected included.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, json_of, spawn_with, test_config};
use crate::provider_server::ProviderServer;

const STRIPE_KEY: &str = "sk_test_51PayoutsLocalAccount0000SeCrEt";
const STRIPE_HOOK: &str = "whsec_local0000000000000000SiGn";
const PAYPAL_ID: &str = "AbCdEf-local-client";
const PAYPAL_SECRET: &str = "EFgh-local-secret-0000TaIl";

fn stripe_body(key: &str) -> Value {
    json!({"secretKey": key, "webhookSecret": STRIPE_HOOK})
}

fn paypal_body(secret: &str) -> Value {
    json!({"clientId": PAYPAL_ID, "clientSecret": secret, "webhookId": "8PT597110X687430LKGECATA"})
}

/// The app pointed at `server` for both providers.
pub(crate) async fn app_with(server: &ProviderServer) -> TestApp {
    let mut config = test_config();
    config.stripe_api_base = server.base.clone();
    config.paypal_api_base = server.base.clone();
    spawn_with(config, None).await
}

async fn connect(app: &TestApp, provider: &str, body: &Value) -> reqwest::Response {
    app.as_role("acme", Role::Admin)
        .send_json(Method::PUT, &format!("/payout-providers/{provider}"), body)
        .await
}

async fn test_connection(app: &TestApp, provider: &str) -> reqwest::Response {
    app.as_role("acme", Role::Admin)
        .send_empty(Method::POST, &format!("/payout-providers/{provider}/test"))
        .await
}

#[tokio::test]
async fn an_admin_connects_stripe_and_paypal_and_everyone_sees_only_their_last_4() {
    let app = spawn_with(test_config(), None).await;
    let made = json_of(connect(&app, "stripe", &stripe_body(STRIPE_KEY)).await, 201).await;
    assert_eq!(made["secretKey"], "…CrEt", "{made}");
    assert_eq!(made["webhookSecret"], "…SiGn");
    assert_eq!(made["testMode"], true);
    assert_eq!(
        made["webhookPath"],
        "/v2/public/integrations/stripe-connect/acme"
    );
    // A second PUT replaces the account.
    json_of(connect(&app, "stripe", &stripe_body(STRIPE_KEY)).await, 200).await;
    let paypal = json_of(
        connect(&app, "paypal", &paypal_body(PAYPAL_SECRET)).await,
        201,
    )
    .await;
    assert_eq!(paypal["clientId"], PAYPAL_ID);
    assert_eq!(paypal["clientSecret"], "…TaIl");
    assert_eq!(paypal["webhookPath"], "/v2/public/integrations/paypal/acme");

    // Managers see both, masked; nothing they read holds a secret.
    let operator = app.as_role("acme", Role::Operator);
    let listed = json_of(operator.get("/payout-providers").await, 200).await;
    let names: Vec<&str> = listed["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["stripe", "paypal"]);
    let text = listed.to_string();
    for secret in [STRIPE_KEY, STRIPE_HOOK, PAYPAL_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
    // Sealed at rest: the stored item holds no secret in clear.
    let stored = app
        .store
        .get("H#acme", "P#provider#stripe")
        .await
        .unwrap()
        .expect("stored");
    let raw = format!("{:?}", stored.doc);
    assert!(
        !raw.contains(STRIPE_KEY) && !raw.contains(STRIPE_HOOK),
        "{raw}"
    );

    // An admin's only: an operator may not connect or test; a viewer may not list.
    let refused = operator
        .send_json(
            Method::PUT,
            "/payout-providers/stripe",
            &stripe_body(STRIPE_KEY),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let viewer = app.as_role("acme", Role::Viewer);
    assert_eq!(viewer.get("/payout-providers").await.status(), 403);
    let other = app.as_role("other-co", Role::Admin);
    let theirs = json_of(other.get("/payout-providers").await, 200).await;
    assert_eq!(
        theirs["providers"],
        json!([]),
        "another handle sees none of acme's"
    );

    let audit = json_of(
        operator
            .get("/audit?action=payout_provider.connected")
            .await,
        200,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 3, "{audit}");
}

#[tokio::test]
async fn a_bad_account_is_refused_naming_the_field_and_nothing_is_stored() {
    let app = spawn_with(test_config(), None).await;
    let cases = [
        (
            "stripe",
            json!({"secretKey": "pk_test_51Publishable000", "webhookSecret": STRIPE_HOOK}),
            "secretKey",
        ),
        (
            "stripe",
            json!({"secretKey": STRIPE_KEY, "webhookSecret": "not-a-signing-secret-00"}),
            "webhookSecret",
        ),
        ("stripe", paypal_body(PAYPAL_SECRET), "clientId"),
        ("paypal", stripe_body(STRIPE_KEY), "secretKey"),
        (
            "paypal",
            json!({"clientId": PAYPAL_ID, "clientSecret": "a b", "webhookId": "W1"}),
            "clientSecret",
        ),
        (
            "paypal",
            json!({"clientId": PAYPAL_ID, "clientSecret": "s", "webhookId": "W-1"}),
            "webhookId",
        ),
    ];
    for (provider, body, field) in cases {
        let message =
            assert_error(connect(&app, provider, &body).await, 400, "invalid_request").await;
        assert!(message.contains(field), "{provider} {body}: {message}");
    }
    let message = assert_error(connect(&app, "wise", &json!({})).await, 404, "not_found").await;
    assert!(message.contains("stripe and paypal"), "{message}");
    let admin = app.as_role("acme", Role::Admin);
    let listed = json_of(admin.get("/payout-providers").await, 200).await;
    assert_eq!(listed["providers"], json!([]));
}

#[tokio::test]
async fn testing_the_connection_says_in_words_what_the_provider_answered() {
    let server = ProviderServer::start();
    server
        .control(
            "config",
            Some(
                json!({"stripe_api_key": STRIPE_KEY, "paypal_client_id": PAYPAL_ID,
                        "paypal_client_secret": PAYPAL_SECRET}),
            ),
        )
        .await;
    let app = app_with(&server).await;
    // Nothing connected yet: the state, in words.
    let message = assert_error(test_connection(&app, "stripe").await, 409, "invalid_state").await;
    assert!(message.contains("Stripe is not connected"), "{message}");

    json_of(connect(&app, "stripe", &stripe_body(STRIPE_KEY)).await, 201).await;
    let ok = json_of(test_connection(&app, "stripe").await, 200).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(
        ok["message"]
            .as_str()
            .unwrap()
            .contains("Stripe accepted the secret key"),
        "{ok}"
    );
    assert!(
        ok["message"].as_str().unwrap().contains("test money"),
        "{ok}"
    );

    let wrong = "sk_test_51SomeoneElsesKey000000Zz";
    json_of(connect(&app, "stripe", &stripe_body(wrong)).await, 200).await;
    let refused = json_of(test_connection(&app, "stripe").await, 200).await;
    assert_eq!(refused["ok"], false);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("refused the secret key"),
        "{refused}"
    );

    json_of(connect(&app, "stripe", &stripe_body(STRIPE_KEY)).await, 200).await;
    let fault = json!({"route": "GET /v1/transfers", "fault": "429", "count": 1, "retry_after": 1});
    server.control("faults", Some(fault)).await;
    let busy = json_of(test_connection(&app, "stripe").await, 200).await;
    assert_eq!(busy["ok"], false);
    assert!(
        busy["message"]
            .as_str()
            .unwrap()
            .contains("Try again in a minute"),
        "{busy}"
    );

    json_of(
        connect(&app, "paypal", &paypal_body(PAYPAL_SECRET)).await,
        201,
    )
    .await;
    let ok = json_of(test_connection(&app, "paypal").await, 200).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(
        ok["message"].as_str().unwrap().contains("may send Payouts"),
        "{ok}"
    );
    json_of(
        connect(&app, "paypal", &paypal_body("EFgh-wrong-secret-00")).await,
        200,
    )
    .await;
    let refused = json_of(test_connection(&app, "paypal").await, 200).await;
    assert_eq!(refused["ok"], false);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("refused the client ID and secret"),
        "{refused}"
    );

    // Disconnected: gone from the list, the test says so, a second delete is a 404.
    let admin = app.as_role("acme", Role::Admin);
    assert_eq!(
        admin
            .send_empty(Method::DELETE, "/payout-providers/paypal")
            .await
            .status(),
        204
    );
    assert_error(test_connection(&app, "paypal").await, 409, "invalid_state").await;
    assert_eq!(
        admin
            .send_empty(Method::DELETE, "/payout-providers/paypal")
            .await
            .status(),
        404
    );
    let listed = json_of(admin.get("/payout-providers").await, 200).await;
    assert_eq!(listed["providers"].as_array().unwrap().len(), 1);
    // A check moves no money.
    let counters = server.counters().await;
    assert_eq!(counters["stripe"]["transfers_created"], 0, "{counters}");
    assert_eq!(counters["paypal"]["batches_created"], 0, "{counters}");
}
