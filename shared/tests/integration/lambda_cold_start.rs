//! A Lambda function's cold start (`aws::app_state_from_env`) against moto: secrets from SSM
//! SecureString parameters (only those the function needs), the table and queues from `TENX_*`,
//! and a request through the function's router landing in DynamoDB. The function's settings come
//! from an `Env` snapshot, so nothing here changes the process's environment.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ssm::types::ParameterType;
use http_body_util::BodyExt;
use tenx_shared::auth::jwt::{Claims, JwtVerifier};
use tenx_shared::domain::CtxKeyring;
use tenx_shared::http::auth::Role;
use tenx_shared::http::{Group, group_app};
use tenx_shared::platform::config::{Env, JwtKey, Secrets};
use tenx_shared::{
    runtime::aws,
    runtime::aws::{AwsClients, AwsSettings},
};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread")]
async fn cold_start_reads_ssm_secrets_and_serves_from_dynamodb() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "AWS_ENDPOINT_URL is not set: run scripts/test.sh, which starts moto"
    );
    let clients = AwsClients::from_env().await.expect("AWS clients");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let id = &id[..16];
    let settings = AwsSettings::named(format!("cold-{id}"), format!("cold-{id}-"));
    aws::provision(&clients, &settings)
        .await
        .expect("provisioning");

    let secret = format!("jwt-secret-from-ssm-{id}-0123456789");
    let ctx_keys = CtxKeyring::generate_spec();
    let signing = tenx_shared::domain::proof::jws::ProofKeyring::generate_spec();
    let payout = tenx_shared::domain::sealed::Keyring::generate_spec();
    for (name, value) in [
        ("jwt", &secret),
        ("ctx", &ctx_keys),
        ("sign", &signing),
        ("payout", &payout),
    ] {
        clients
            .ssm
            .put_parameter()
            .name(format!("/tenx/{id}/{name}"))
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
    }
    // The function's environment as template.yaml gives it: secrets by SSM parameter name only.
    let env = Env::process()
        .with("TENX_JWT_SECRET", None)
        .with("TENX_CTX_KEYS", None)
        .with("TENX_SIGNING_KEYS", None)
        .with("TENX_PAYOUT_KEY", None)
        .with("TENX_TABLE", Some(&settings.table))
        .with("TENX_QUEUE_PREFIX", Some(&settings.queue_prefix))
        .with("TENX_CTX_KEYS_PARAM", Some(&format!("/tenx/{id}/ctx")))
        .with("TENX_SIGNING_KEYS_PARAM", Some(&format!("/tenx/{id}/sign")));

    // A parameter that does not exist stops the cold start, naming it.
    let missing = env.clone().with(
        "TENX_JWT_SECRET_PARAM",
        Some(&format!("/tenx/{id}/missing")),
    );
    let err = aws::app_state_from_vars(&missing, Group::Links)
        .await
        .err()
        .expect("a missing parameter must fail the cold start");
    assert!(format!("{err:#}").contains("missing"), "{err:#}");

    // ... but only in a function that needs it: the redirect and public functions never read the
    // JWT parameter (their IAM role does not allow it), so they start without it.
    for group in [Group::Redirect, Group::Public] {
        let state = aws::app_state_from_vars(&missing, group)
            .await
            .unwrap_or_else(|e| panic!("{group:?} must start without the JWT secret: {e:#}"));
        assert!(state.jwt.is_none(), "{group:?} holds no JWT verifier");
        assert!(state.config.jwt.is_none());
        assert_eq!(
            state.config.ctx_keys, ctx_keys,
            "{group:?} reads the ctx keys"
        );
        // Only the public function signs (conversion receipts): it alone reads the keys.
        let signs = group == Group::Public;
        assert_eq!(state.signing.is_some(), signs, "{group:?}");
        assert_eq!(state.config.signing_keys == signing, signs, "{group:?}");
    }

    // The links function reads the JWT parameter and never the ctx keys; a worker reads neither.
    let env = env
        .with("TENX_JWT_SECRET_PARAM", Some(&format!("/tenx/{id}/jwt")))
        .with(
            "TENX_CTX_KEYS_PARAM",
            Some(&format!("/tenx/{id}/missing-ctx")),
        );
    let worker = aws::app_state_from_vars(&env, Secrets::NONE)
        .await
        .expect("a worker starts without secrets");
    assert!(worker.jwt.is_none() && worker.ctx_keys.is_none());
    let state = aws::app_state_from_vars(&env, Group::Links)
        .await
        .expect("cold start");
    assert_eq!(
        state.config.jwt.as_ref().and_then(JwtKey::hs256_secret),
        Some(secret.as_bytes())
    );
    assert!(state.ctx_keys.is_none() && state.config.ctx_keys.is_empty());
    assert!(state.payout_key.is_none() && state.config.payout_keys.is_empty());

    // The commissions function reads the payout key too, in the same round trip (issue 46).
    let commissions_env = env
        .clone()
        .with("TENX_PAYOUT_KEY_PARAM", Some(&format!("/tenx/{id}/payout")));
    let commissions = aws::app_state_from_vars(&commissions_env, Group::Commissions)
        .await
        .expect("the commissions function reads its payout key");
    assert!(commissions.payout_key.is_some());
    assert_eq!(commissions.config.payout_keys, payout);

    // The links function, as Lambda runs it (minus the event adapter).
    let verifier = JwtVerifier::new(Some(secret.into_bytes()), None, None, None).expect("jwt");
    let token = verifier
        .mint(&Claims {
            sub: "cold-start".into(),
            handles: vec!["acme".into()],
            role: Role::Creator,
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + 600,
            iss: None,
            aud: None,
        })
        .expect("mint");
    let request = http::Request::put("/v2/handles/acme/links/launch")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"destinationUrl":"https://example.com/"}"#,
        ))
        .expect("request");
    let response = group_app(Group::Links, state)
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    let raw = clients
        .dynamodb
        .get_item()
        .table_name(&settings.table)
        .key("pk", AttributeValue::S("H#acme".into()))
        .key("sk", AttributeValue::S("L#launch".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("the link is in the table");
    let doc = match &raw["doc"] {
        AttributeValue::S(doc) => doc.clone(),
        other => panic!("doc is not a string: {other:?}"),
    };
    assert!(doc.contains("https://example.com/"), "{doc}");
}
