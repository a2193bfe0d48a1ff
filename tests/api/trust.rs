//! Issue 29: nobody steals or fakes conversions and budgets. A verified conversion supersedes an
//! unverified one holding its key (exactly once); the verified route and every credential have
//! budgets nobody else can spend; the public chain routes serve only handles that exist and
//! limit each client address (IPv6 by /64).

use reqwest::Response;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::events::EventType;
use tenx_shared::runtime::local::Workers;

use crate::helpers::*;
use crate::scenario::*;

/// A link on `handle` and one human click on it: the click's ctx.
async fn clicked(app: &TestApp, handle: &str) -> String {
    let link = json!({"destinationUrl": "https://shop.example.com/sale"});
    let status = app
        .as_role(handle, Role::Creator)
        .put_link("sale", &link)
        .await
        .status();
    assert!(status == 201 || status == 200, "{status}");
    human_ctx(app, handle, "/sale?sub1=attacker").await
}

fn purchase(ctx: &str, key: &str, value: &str) -> Value {
    json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": value,
        "currency": "USD"})
}

#[tokio::test]
async fn new_handles_flag_public_conversions_by_default() {
    let app = spawn_app_without_workers().await;
    let policy = json_of(
        app.as_role("acme", Role::Operator)
            .conversion_policy()
            .await,
        200,
    )
    .await;
    assert_eq!(policy["publicConversions"], "flag", "{policy}");
    let ctx = clicked(&app, "acme").await;
    let public = json_of(app.convert(&purchase(&ctx, "p-1", "1")).await, 202).await;
    let reasons = public["risk"]["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("unverified")), "{public}");
}

/// The attack of issue 29 (2): an attacker squats the merchant's order id on the public route.
/// The merchant's verified post of it wins, concurrently and on retries, exactly once: one
/// verified conversion, one `conversion.reversed` (superseded_by_verified) of the squatter's.
#[tokio::test]
async fn a_verified_conversion_supersedes_a_squatted_unverified_key_exactly_once() {
    let app = spawn_app_without_workers().await;
    let ctx = clicked(&app, "acme").await;
    let squat = json_of(app.convert(&purchase(&ctx, "order-1001", "1")).await, 202).await;
    assert_eq!(squat["verified"], false);
    app.drain_events().await;

    let merchant = app.as_role("acme", Role::Creator);
    let real = purchase(&ctx, "order-1001", "249.00");
    let posts = (0..6).map(|_| merchant.convert_verified(&real));
    let mut answers = Vec::new();
    for resp in futures::future::join_all(posts).await {
        let status = resp.status().as_u16();
        answers.push((status, resp.json::<Value>().await.unwrap()));
    }
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 1, "exactly one creates: {answers:?}");
    let won = created[0].clone();
    assert_eq!(won["verified"], true);
    assert_eq!(won["value"].as_f64(), Some(249.0), "{won}");
    assert_ne!(won["conversionId"], squat["conversionId"]);
    for (status, body) in &answers {
        assert!(*status == 202 || *status == 200, "{answers:?}");
        assert_eq!(body["conversionId"], won["conversionId"], "{answers:?}");
    }
    // A retry replays it; another payload under the key is a reuse, verified against verified.
    let retry = json_of(merchant.convert_verified(&real).await, 200).await;
    assert_eq!(
        (retry["conversionId"].clone(), retry["deduped"].clone()),
        (won["conversionId"].clone(), json!(true))
    );
    let other = purchase(&ctx, "order-1001", "10.00");
    assert_error(
        merchant.convert_verified(&other).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    // The squatter can no longer take it back.
    assert_error(
        app.convert(&purchase(&ctx, "order-1001", "1")).await,
        409,
        "idempotency_key_reused",
    )
    .await;

    let events = app.drain_events().await;
    let reversed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventType::ConversionReversed)
        .collect();
    let created_events: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventType::ConversionCreated)
        .collect();
    assert_eq!((reversed.len(), created_events.len()), (1, 1), "{events:?}");
    assert_eq!(reversed[0].data["reason"], "superseded_by_verified");
    assert_eq!(
        reversed[0].data["conversion"]["conversionId"],
        squat["conversionId"]
    );
    assert_eq!(created_events[0].data["conversionId"], won["conversionId"]);

    // Both stay in the audit trail; the squatter's marked superseded.
    let viewer = app.as_role("acme", Role::Viewer);
    let kept = json_of(
        viewer
            .get_conversion(squat["conversionId"].as_str().unwrap())
            .await,
        200,
    )
    .await;
    assert_eq!(kept["supersededBy"], won["conversionId"], "{kept}");
    assert_eq!(
        kept["reversal"]["reason"], "superseded_by_verified",
        "{kept}"
    );
    let listed = json_of(viewer.list_conversions("").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
}

/// The funnel counts the squatter's conversion, then only the verified one: its counts come
/// off once.
#[tokio::test]
async fn a_superseded_conversion_leaves_the_funnel() {
    let app = spawn_app().await;
    // Not too fast: the only signal left is the public one's `unverified`.
    let policy = json!({"minSecondsAfterClick": 0});
    let resp = app
        .as_role("acme", Role::Operator)
        .put_conversion_policy(&policy)
        .await;
    assert_eq!(json_of(resp, 200).await["publicConversions"], "flag");
    let ctx = clicked(&app, "acme").await;
    json_of(app.convert(&purchase(&ctx, "order-7", "1")).await, 202).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let settled = |want: fn(&Value) -> bool| {
        let viewer = &viewer;
        async move {
            eventually_or("the funnel's totals to settle", || async {
                let funnel = json_of(viewer.analytics("funnel=true").await, 200).await;
                let totals = funnel["totals"].clone();
                if want(&totals) {
                    Ok(totals)
                } else {
                    Err(totals.to_string())
                }
            })
            .await
        }
    };
    let before = settled(|t| t["conversions"] == 1).await;
    assert_eq!(
        (
            before["conversions"].clone(),
            before["flaggedConversions"].clone()
        ),
        (json!(1), json!(1)),
        "{before}"
    );
    let merchant = app.as_role("acme", Role::Creator);
    json_of(
        merchant
            .convert_verified(&purchase(&ctx, "order-7", "249.00"))
            .await,
        202,
    )
    .await;
    json_of(
        merchant
            .convert_verified(&purchase(&ctx, "order-7", "249.00"))
            .await,
        200,
    )
    .await;
    let after = settled(|t| t["verifiedConversions"] == 1 && t["flaggedConversions"] == 0).await;
    assert_eq!(after["conversions"], 1, "{after}");
    assert_eq!(after["verifiedConversions"], 1, "{after}");
    assert_eq!(after["flaggedConversions"], 0, "{after}");
    assert_eq!(after["revenue"]["USD"], "249.00", "{after}");
    assert!(
        after["reversedRevenue"].get("USD").is_none(),
        "not a refund: {after}"
    );
}

/// Issue 29 (3): anonymous public submissions never spend the merchant's verified budget, and
/// addresses of one IPv6 /64 are one address.
#[tokio::test]
async fn public_conversions_do_not_spend_the_verified_budget_and_ipv6_groups_by_64() {
    let mut config = test_config();
    config.rate_limits.conversions = 3;
    config.rate_limits.conversions_per_address = 2;
    config.rate_limits.window_secs = 86_400;
    config.trusted_proxy = true;
    let app = spawn_full(config, None, Workers::Off).await;
    let ctx = clicked(&app, "acme").await;
    // Two addresses of one /64 share one budget of 2.
    let hops = [
        "2001:db8:1:2::1",
        "2001:db8:1:2:ffff::9",
        "2001:db8:1:2::abcd",
    ];
    let mut statuses = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        let body = purchase(&ctx, &format!("anon-{i}"), "1");
        let resp = app
            .convert_with_headers(&body, &[("x-forwarded-for", hop)])
            .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 429]);
    // Another /64 and an IPv4 address spend the handle's public budget to its end.
    let resp = app
        .convert_with_headers(
            &purchase(&ctx, "anon-x", "1"),
            &[("x-forwarded-for", "2001:db8:1:3::1")],
        )
        .await;
    assert_eq!(resp.status(), 202);
    let resp = app
        .convert_with_headers(
            &purchase(&ctx, "anon-y", "1"),
            &[("x-forwarded-for", "203.0.113.7")],
        )
        .await;
    let message = assert_error(resp, 429, "rate_limited").await;
    assert!(message.contains("handle acme"), "{message}");
    // The merchant's verified posts have a budget of their own.
    let merchant = app.as_role("acme", Role::Creator);
    for i in 0..3 {
        let resp = merchant
            .convert_verified(&purchase(&ctx, &format!("v-{i}"), "5"))
            .await;
        json_of(resp, 202).await;
    }
}

/// Issue 29 (4): a PAT with only `webhooks.write` sending many `DELETE`s of unknown webhooks
/// (404) cannot make the operator's link write, reversal or revoke 429.
#[tokio::test]
async fn a_credential_cannot_spend_the_handles_write_budget_on_requests_that_change_nothing() {
    let mut config = test_config();
    config.rate_limits.free = 5;
    config.rate_limits.window_secs = 86_400;
    let app = spawn_full(config, None, Workers::Off).await;
    let operator = app.as_role("acme", Role::Operator);
    let minted = json_of(
        operator
            .create_token(&json!({"name": "hooks", "scopes": ["webhooks.write"]}))
            .await,
        201,
    )
    .await;
    let pat = minted["token"].as_str().unwrap().to_owned();
    let pat_id = minted["tokenId"].as_str().unwrap().to_owned();
    let partner = app.with_token("acme", &pat);
    for i in 0..20 {
        let resp = partner.delete_webhook(&format!("wh_{i:032x}")).await;
        let status = resp.status().as_u16();
        assert!(status == 404 || status == 400, "{status}");
        assert_ne!(status, 429);
    }
    let ctx = clicked(&app, "acme").await;
    let resp = operator
        .put_link(
            "after",
            &json!({"destinationUrl": "https://shop.example.com/a"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let conv = json_of(
        operator.convert_verified(&purchase(&ctx, "o-1", "9")).await,
        202,
    )
    .await;
    let resp = operator
        .reverse(
            conv["conversionId"].as_str().unwrap(),
            &json!({"reason": "refund"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    // Spend the rest of the budget; revoking is still never refused.
    let mut last = 0;
    for i in 0..5 {
        let body = json!({"destinationUrl": "https://shop.example.com/b"});
        last = operator
            .put_link(&format!("fill-{i}"), &body)
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429, "the budget does run out");
    let resp = operator.revoke_token(&pat_id).await;
    assert!(resp.status().is_success(), "{}", resp.status());
}

async fn chain_post_from(app: &TestApp, route: &str, body: &Value, hop: &str) -> Response {
    app.client
        .post(app.url(&format!("/v2/public/chain/{route}")))
        .header("x-forwarded-for", hop)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn chain_resolve_from(app: &TestApp, handle: &str, hop: &str) -> Response {
    let body = json!({"handle": handle, "sessionId": "sess-1", "trigger": "checkout"});
    chain_post_from(app, "resolve", &body, hop).await
}

/// Issue 29 (6): the public chain routes serve only handles that exist, and one address cannot
/// spend a handle's budget.
#[tokio::test]
async fn public_chain_routes_need_an_existing_handle_and_limit_each_address() {
    let mut config = test_config();
    config.rate_limits.chain = 10;
    config.rate_limits.chain_per_address = 3;
    config.rate_limits.window_secs = 31_536_000;
    config.trusted_proxy = true;
    let app = spawn_full(config, None, Workers::Off).await;
    // A handle nobody used: nothing is accepted or stored for it.
    let resp = chain_resolve_from(&app, "ghost", "203.0.113.1").await;
    assert_error(resp, 404, "not_found").await;
    let signals = json!({"handle": "ghost", "sessionId": "sess-1",
        "signals": [{"type": "view"}]});
    assert_error(app.chain_signals(&signals).await, 404, "not_found").await;
    // Once its owner wrote a link, it exists.
    clicked(&app, "acme").await;
    for _ in 0..3 {
        assert_eq!(
            chain_resolve_from(&app, "acme", "2001:db8:9:9::1")
                .await
                .status(),
            200
        );
    }
    let resp = chain_resolve_from(&app, "acme", "2001:db8:9:9::2").await;
    let message = assert_error(resp, 429, "rate_limited").await;
    assert!(message.contains("client address"), "{message}");
    // The merchant's real sessions from other addresses are still served.
    assert_eq!(
        chain_resolve_from(&app, "acme", "198.51.100.4")
            .await
            .status(),
        200
    );
}

/// Issue 29 (6): a session id is no secret (the playbook's is `sess-1`), so a session belongs to
/// the network address that started it: a stranger can neither add to it nor read it back.
#[tokio::test]
async fn a_chain_session_is_bound_to_the_address_that_started_it() {
    let mut config = test_config();
    config.trusted_proxy = true;
    let app = spawn_full(config, None, Workers::Off).await;
    clicked(&app, "acme").await;
    let owner = "203.0.113.10";
    let stranger = "198.51.100.66";
    let signals = json!({"handle": "acme", "sessionId": "sess-1",
        "signals": [{"type": "view"}, {"type": "add_to_cart"}]});
    let resp = chain_post_from(&app, "signals", &signals, owner).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["totalSignals"], 2);
    // The stranger's append is refused and stores nothing.
    let message = assert_error(
        chain_post_from(&app, "signals", &signals, stranger).await,
        409,
        "conflict",
    )
    .await;
    assert!(message.contains("another client"), "{message}");
    let resolve = json!({"handle": "acme", "sessionId": "sess-1", "trigger": "checkout"});
    let seen = |resp: Response| async move {
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()["signalsConsidered"].clone()
    };
    // The stranger reads an empty session; the owner reads its own two signals.
    assert_eq!(
        seen(chain_post_from(&app, "resolve", &resolve, stranger).await).await,
        0
    );
    assert_eq!(
        seen(chain_post_from(&app, "resolve", &resolve, owner).await).await,
        2
    );
    let prefetch = json!({"handle": "acme", "sessionId": "sess-1", "triggers": ["checkout"]});
    let resp = chain_post_from(&app, "prefetch", &prefetch, stranger).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["decisions"][0]["signalsConsidered"], 0);
    // The owner goes on adding to it.
    let more = json!({"handle": "acme", "sessionId": "sess-1", "signals": [{"type": "view"}]});
    let resp = chain_post_from(&app, "signals", &more, owner).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["totalSignals"], 3);
}
