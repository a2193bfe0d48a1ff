//! LM-01 … LM-03: chain signals, resolve and prefetch, per-handle rules, limits and concurrency.

use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;

/// The public chain routes serve only handles that exist: acme and beta get a link, as their
/// owners would have (the playbook's handles have links).
async fn with_links(app: TestApp) -> TestApp {
    for handle in ["acme", "beta"] {
        let body = json!({"destinationUrl": "https://shop.example.com/"});
        let status = app.put_link(handle, "home", body).await.status();
        assert_eq!(status, 201);
    }
    app
}

/// `POST {path}` for the tables that cover all three public chain routes.
async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    match path {
        "/v2/public/chain/signals" => app.chain_signals(body).await,
        "/v2/public/chain/resolve" => app.chain_resolve(body).await,
        "/v2/public/chain/prefetch" => app.chain_prefetch(body).await,
        _ => panic!("{path} is not a public chain route"),
    }
}

async fn signals(app: &TestApp, handle: &str, session: &str, signals: Value) -> reqwest::Response {
    app.chain_signals(&json!({"handle": handle, "sessionId": session, "signals": signals}))
        .await
}

async fn resolve(app: &TestApp, handle: &str, session: &str, trigger: &str) -> Value {
    let resp = app
        .chain_resolve(&json!({"handle": handle, "sessionId": session, "trigger": trigger}))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn prefetch(app: &TestApp, handle: &str, session: &str, triggers: Value) -> Value {
    let resp = app
        .chain_prefetch(&json!({"handle": handle, "sessionId": session, "triggers": triggers}))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn without_time(mut envelope: Value) -> Value {
    let at = envelope
        .as_object_mut()
        .and_then(|o| o.remove("evaluatedAt"))
        .expect("an envelope has evaluatedAt");
    let parsed = at
        .as_str()
        .and_then(tenx_shared::domain::time::parse_rfc3339);
    assert!(
        parsed.is_some() && at.as_str().is_some_and(|s| s.ends_with('Z')),
        "evaluatedAt is RFC 3339 UTC: {at}"
    );
    envelope
}

async fn put_rules(app: &TestApp, handle: &str, role: Role, body: &Value) -> reqwest::Response {
    app.as_role(handle, role).put_chain_rules(body).await
}

async fn get_rules(app: &TestApp, handle: &str) -> Value {
    let resp = app.as_role(handle, Role::Viewer).chain_rules().await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn lm01_to_lm03_as_in_the_playbook() {
    let app = with_links(spawn_app().await).await;
    // LM-01, the seed's body verbatim.
    let resp = app
        .chain_signals(&json!({"handle":"acme","sessionId":"sess-1","signals":[{"type":"view"}]}))
        .await;
    assert_eq!(resp.status(), 202);
    assert!(resp.headers().contains_key("x-ratelimit-limit"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"accepted": true, "sessionId": "sess-1", "totalSignals": 1})
    );

    // LM-02, the seed's body verbatim: a view without a purchase earns a cart reminder.
    let envelope = resolve(&app, "acme", "sess-1", "checkout").await;
    assert_eq!(
        without_time(envelope),
        json!({
            "handle": "acme",
            "sessionId": "sess-1",
            "trigger": "checkout",
            "decision": {"action": "send_message", "template": "cart-reminder",
                         "channel": "email", "delaySeconds": 3600},
            "ruleId": "checkout-view-reminder",
            "reason": "rule checkout-view-reminder (priority 30) matched: has view (1), lacks purchase",
            "signalsConsidered": 1
        })
    );

    // LM-03: one envelope per trigger, in the order asked.
    let body = prefetch(
        &app,
        "acme",
        "sess-1",
        json!(["checkout", "browse", "exit_intent"]),
    )
    .await;
    let decisions = body["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 3);
    let triggers: Vec<&str> = decisions
        .iter()
        .map(|d| d["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["checkout", "browse", "exit_intent"]);
    assert_eq!(decisions[0]["ruleId"], "checkout-view-reminder");
    assert_eq!(decisions[1]["ruleId"], Value::Null);
    assert_eq!(decisions[1]["decision"], json!({"action": "none"}));
    assert_eq!(decisions[1]["reason"], "no rule matched");
    assert_eq!(decisions[2]["ruleId"], "exit-intent-recent-view-offer");
    assert_eq!(decisions[2]["decision"]["channel"], "in_app");

    // A purchase flips checkout to suppress.
    let resp = signals(
        &app,
        "acme",
        "sess-1",
        json!([{"type": "Purchase", "data": {"orderId": "o-1"}}]),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["totalSignals"], 2);
    let envelope = resolve(&app, "acme", "sess-1", "CHECKOUT").await;
    assert_eq!(envelope["trigger"], "checkout");
    assert_eq!(envelope["decision"], json!({"action": "suppress"}));
    assert_eq!(envelope["ruleId"], "checkout-purchased-suppress");
    assert_eq!(envelope["signalsConsidered"], 2);
}

#[tokio::test]
async fn a_session_without_signals_gets_the_default_decision() {
    let app = with_links(spawn_app().await).await;
    let envelope = resolve(&app, "acme", "never-seen", "checkout").await;
    assert_eq!(
        without_time(envelope),
        json!({
            "handle": "acme", "sessionId": "never-seen", "trigger": "checkout",
            "decision": {"action": "none"}, "ruleId": null, "reason": "no rule matched",
            "signalsConsidered": 0
        })
    );
}

#[tokio::test]
async fn every_missing_field_is_a_400_naming_it() {
    let app = with_links(spawn_app().await).await;
    let cases = [
        (
            "/v2/public/chain/signals",
            json!({"sessionId": "s", "signals": [{"type": "view"}]}),
            "handle",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "signals": [{"type": "view"}]}),
            "sessionId",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s"}),
            "signals",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{}]}),
            "type",
        ),
        (
            "/v2/public/chain/resolve",
            json!({"sessionId": "s", "trigger": "checkout"}),
            "handle",
        ),
        (
            "/v2/public/chain/resolve",
            json!({"handle": "acme", "trigger": "checkout"}),
            "sessionId",
        ),
        (
            "/v2/public/chain/resolve",
            json!({"handle": "acme", "sessionId": "s"}),
            "trigger",
        ),
        (
            "/v2/public/chain/prefetch",
            json!({"sessionId": "s", "triggers": ["checkout"]}),
            "handle",
        ),
        (
            "/v2/public/chain/prefetch",
            json!({"handle": "acme", "triggers": ["checkout"]}),
            "sessionId",
        ),
        (
            "/v2/public/chain/prefetch",
            json!({"handle": "acme", "sessionId": "s"}),
            "triggers",
        ),
    ];
    for (path, body, field) in cases {
        let message = assert_error(post(&app, path, &body).await, 400, "invalid_request").await;
        assert!(
            message.contains(&format!("`{field}`")),
            "{path} {body}: {message:?} should name {field}"
        );
    }
    // Nothing was stored by the refused appends.
    let envelope = resolve(&app, "acme", "s", "checkout").await;
    assert_eq!(envelope["signalsConsidered"], 0);
}

#[tokio::test]
async fn invalid_values_are_400s_naming_the_field() {
    let app = with_links(spawn_app().await).await;
    let cases = [
        (
            "/v2/public/chain/signals",
            json!({"handle": "Not A Handle", "sessionId": "s", "signals": [{"type": "view"}]}),
            "handle",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "a#b", "signals": [{"type": "view"}]}),
            "sessionId",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s".repeat(129), "signals": [{"type": "view"}]}),
            "sessionId",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{"type": "add to cart"}]}),
            "signals[0].type",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{"type": "view", "at": "soon"}]}),
            "signals[0].at",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{"type": "view", "at": "2999-01-01T00:00:00Z"}]}),
            "signals[0].at",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{"type": "view", "data": "x"}]}),
            "signals[0].data",
        ),
        (
            "/v2/public/chain/signals",
            json!({"handle": "acme", "sessionId": "s", "signals": [{"type": "view"}], "extra": 1}),
            "extra",
        ),
        (
            "/v2/public/chain/resolve",
            json!({"handle": "acme", "sessionId": "s", "trigger": ""}),
            "trigger",
        ),
        (
            "/v2/public/chain/prefetch",
            json!({"handle": "acme", "sessionId": "s", "triggers": ["checkout", "Checkout"]}),
            "triggers[1]",
        ),
    ];
    for (path, body, field) in cases {
        let message = assert_error(post(&app, path, &body).await, 400, "invalid_request").await;
        assert!(
            message.contains(field),
            "{path} {body}: {message:?} should name {field}"
        );
    }
}

#[tokio::test]
async fn over_limit_requests_are_refused_whole() {
    let mut config = test_config();
    config.chain_max_session_signals = 5;
    let app = with_links(spawn_with(config, None).await).await;
    let views = |n: usize| Value::Array((0..n).map(|_| json!({"type": "view"})).collect());

    // Per request: 1 to 50 signals.
    let message = assert_error(
        signals(&app, "acme", "big", views(51)).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("signals") && message.contains("50"),
        "{message}"
    );
    let message = assert_error(
        signals(&app, "acme", "big", views(0)).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.contains("signals"), "{message}");

    // Per session: the limit (5 here) is never exceeded and never silently truncated.
    let message = assert_error(
        signals(&app, "acme", "s1", views(6)).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.contains("at most 5 signals"), "{message}");
    let resp = signals(&app, "acme", "s1", views(3)).await;
    assert_eq!(resp.status(), 202);
    let message = assert_error(
        signals(&app, "acme", "s1", views(3)).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("at most 5 signals") && message.contains("holds 3"),
        "{message}"
    );
    let resp = signals(&app, "acme", "s1", views(2)).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["totalSignals"], 5);
    assert_error(
        signals(&app, "acme", "s1", views(1)).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(
        resolve(&app, "acme", "s1", "checkout").await["signalsConsidered"],
        5
    );
    // Another session of the same handle has its own budget.
    assert_eq!(signals(&app, "acme", "s2", views(5)).await.status(), 202);

    // Data size: at most 2 KiB of JSON per signal.
    let big = json!([{"type": "view", "data": {"blob": "x".repeat(2048)}}]);
    let message = assert_error(
        signals(&app, "acme", "s3", big).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("signals[0].data") && message.contains("2048"),
        "{message}"
    );

    // Prefetch: 1 to 20 triggers.
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    for triggers in [json!(many), json!([])] {
        let resp = app
            .chain_prefetch(&json!({"handle": "acme", "sessionId": "s1", "triggers": triggers}))
            .await;
        let message = assert_error(resp, 400, "invalid_request").await;
        assert!(
            message.contains("triggers") && message.contains("20"),
            "{message}"
        );
    }
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let body = prefetch(&app, "acme", "s1", json!(twenty)).await;
    assert_eq!(body["decisions"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn decisions_are_deterministic_and_prefetch_equals_resolve() {
    let app = with_links(spawn_app().await).await;
    let resp = signals(
        &app,
        "acme",
        "det",
        json!([{"type": "view"}, {"type": "add_to_cart", "data": {"sku": "a"}}, {"type": "view"}]),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let triggers = ["checkout", "browse", "exit_intent", "unknown"];
    let first: Vec<Value> =
        futures::future::join_all(triggers.iter().map(|t| resolve(&app, "acme", "det", t)))
            .await
            .into_iter()
            .map(without_time)
            .collect();
    let second: Vec<Value> =
        futures::future::join_all(triggers.iter().map(|t| resolve(&app, "acme", "det", t)))
            .await
            .into_iter()
            .map(without_time)
            .collect();
    assert_eq!(first, second, "same signals and rules, same envelopes");
    assert_eq!(first[0]["ruleId"], "checkout-cart-reminder");

    let body = prefetch(&app, "acme", "det", json!(triggers)).await;
    let decisions = body["decisions"].as_array().unwrap();
    let instant = &decisions[0]["evaluatedAt"];
    assert!(
        decisions.iter().all(|d| &d["evaluatedAt"] == instant),
        "one instant"
    );
    let prefetched: Vec<Value> = decisions.iter().cloned().map(without_time).collect();
    assert_eq!(
        prefetched, first,
        "prefetch equals resolve for each trigger"
    );
}

#[tokio::test]
async fn fifty_concurrent_appends_to_one_session_are_all_recorded() {
    let app = with_links(spawn_app().await).await;
    // Each append retried on a 503 as a client would (`retrying_overload`): a 503 wrote
    // nothing, so every one of the 50 is still recorded exactly once.
    let responses = futures::future::join_all((0..50).map(|i| {
        let app = &app;
        crate::helpers::retrying_overload(move || {
            signals(
                app,
                "acme",
                "busy",
                json!([{"type": "view", "data": {"i": i}}]),
            )
        })
    }))
    .await;
    let mut totals = Vec::new();
    for resp in responses {
        assert_eq!(resp.status(), 202);
        let body: Value = resp.json().await.unwrap();
        totals.push(body["totalSignals"].as_i64().unwrap());
    }
    assert!(totals.iter().all(|t| (1..=50).contains(t)), "{totals:?}");
    assert_eq!(totals.iter().max(), Some(&50));
    let envelope = resolve(&app, "acme", "busy", "checkout").await;
    assert_eq!(envelope["signalsConsidered"], 50);
    let resp = signals(&app, "acme", "busy", json!([{"type": "view"}])).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["totalSignals"], 51);
}

fn custom_rules() -> Value {
    json!({"rules": [
        {"ruleId": "vip-sms", "trigger": "checkout", "priority": 1,
         "conditions": [{"atLeast": {"type": "view", "count": 2}}],
         "decision": {"action": "send_message", "channel": "sms", "template": "Come back, {{name}}!",
                      "delaySeconds": 60}},
        {"ruleId": "fresh-view", "trigger": "checkout", "priority": 2,
         "conditions": [{"withinSeconds": {"type": "view", "seconds": 600}}],
         "decision": {"action": "suppress"}}
    ]})
}

#[tokio::test]
async fn custom_rules_replace_the_defaults_for_that_handle_only() {
    let app = with_links(spawn_app().await).await;
    let defaults = get_rules(&app, "acme").await;
    assert_eq!(defaults["source"], "default");
    assert_eq!(defaults["version"], 0);
    assert!(defaults["rules"].as_array().unwrap().len() >= 3);

    let resp = put_rules(&app, "acme", Role::Creator, &custom_rules()).await;
    assert_eq!(resp.status(), 200);
    let stored: Value = resp.json().await.unwrap();
    assert_eq!(stored["source"], "custom");
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["handle"], "acme");
    assert_eq!(stored["rules"], custom_rules()["rules"]);
    assert_eq!(get_rules(&app, "acme").await, stored);
    assert_eq!(
        get_rules(&app, "beta").await,
        defaults
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("handle".into(), json!("beta"));
                Value::Object(o)
            })
            .unwrap()
    );

    // An old view (2 h ago) matches neither custom rule; the defaults would have said remind.
    let two_hours_ago = tenx_shared::domain::time::unix_to_rfc3339(now() - 7200);
    for handle in ["acme", "beta"] {
        let resp = signals(
            &app,
            handle,
            "s",
            json!([{"type": "view", "at": two_hours_ago}]),
        )
        .await;
        assert_eq!(resp.status(), 202);
    }
    let acme = resolve(&app, "acme", "s", "checkout").await;
    assert_eq!(acme["ruleId"], Value::Null);
    assert_eq!(acme["decision"], json!({"action": "none"}));
    let beta = resolve(&app, "beta", "s", "checkout").await;
    assert_eq!(beta["ruleId"], "checkout-view-reminder");

    // A fresh view makes the window rule match; a second view makes the priority-1 rule win.
    signals(&app, "acme", "s2", json!([{"type": "view"}])).await;
    assert_eq!(
        resolve(&app, "acme", "s2", "checkout").await["ruleId"],
        "fresh-view"
    );
    signals(&app, "acme", "s", json!([{"type": "view"}])).await;
    let acme = resolve(&app, "acme", "s", "checkout").await;
    assert_eq!(acme["ruleId"], "vip-sms");
    assert_eq!(
        acme["decision"],
        json!({"action": "send_message", "template": "Come back, {{name}}!", "channel": "sms", "delaySeconds": 60})
    );
    assert_eq!(
        acme["reason"],
        "rule vip-sms (priority 1) matched: at least 2 view (2)"
    );
    // Same session id, other handle: its own session, untouched by acme's appends.
    let beta = resolve(&app, "beta", "s", "checkout").await;
    assert_eq!(beta["signalsConsidered"], 1);
    assert_eq!(beta["ruleId"], "checkout-view-reminder");

    // Replacing again bumps the version; an empty set means "never message".
    let resp = put_rules(&app, "acme", Role::Operator, &json!({"rules": []})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["version"], 2);
    assert_eq!(
        resolve(&app, "acme", "s", "checkout").await["ruleId"],
        Value::Null
    );
}

#[tokio::test]
async fn rule_writes_are_validated_and_role_checked() {
    let app = with_links(spawn_app().await).await;
    let rule = |id: &str, priority: i64, decision: Value| json!({"ruleId": id, "trigger": "checkout", "priority": priority, "conditions": [], "decision": decision});
    let suppress = json!({"action": "suppress"});
    let cases = [
        (json!({}), "rules"),
        (
            json!({"rules": [rule("a", 1, suppress.clone()), rule("a", 2, suppress.clone())]}),
            "rules[1].ruleId",
        ),
        (
            json!({"rules": [rule("a", 1, suppress.clone()), rule("b", 1, suppress.clone())]}),
            "rules[1].priority",
        ),
        (
            json!({"rules": [rule("a", 1, json!({"action": "shout"}))]}),
            "rules[0].decision.action",
        ),
        (
            json!({"rules": [rule("a", 1, json!({"action": "send_message", "channel": "fax", "template": "t"}))]}),
            "rules[0].decision.channel",
        ),
        (
            json!({"rules": [rule("a", 1, json!({"action": "send_message", "channel": "email", "template": "x".repeat(201)}))]}),
            "rules[0].decision.template",
        ),
        (
            json!({"rules": [rule("a", 1, json!({"action": "send_message", "channel": "email"}))]}),
            "rules[0].decision.template",
        ),
        (
            json!({"rules": (0..101).map(|i| rule(&format!("r{i}"), i, suppress.clone())).collect::<Vec<_>>()}),
            "rules",
        ),
        (
            json!({"rules": [{"ruleId": "a", "trigger": "checkout", "priority": 1,
                           "conditions": [{"sometimes": "view"}], "decision": suppress.clone()}]}),
            "rules[0].conditions[0]",
        ),
    ];
    for (body, field) in cases {
        let message = assert_error(
            put_rules(&app, "acme", Role::Creator, &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(
            message.contains(field),
            "{body}: {message:?} should name {field}"
        );
    }
    assert_eq!(
        get_rules(&app, "acme").await["source"],
        "default",
        "nothing was stored"
    );

    let ok = json!({"rules": [rule("a", 1, suppress.clone())]});
    assert_error(
        put_rules(&app, "acme", Role::Viewer, &ok).await,
        403,
        "insufficient_role",
    )
    .await;
    let anonymous = app.without_token("acme");
    let resp = anonymous.put_chain_rules(&ok).await;
    assert_error(resp, 401, "unauthorized").await;
    let resp = app
        .with_token("acme", &app.token(&["beta"], Role::Admin))
        .put_chain_rules(&ok)
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = anonymous.chain_rules().await;
    assert_error(resp, 401, "unauthorized").await;
    assert_eq!(get_rules(&app, "acme").await["source"], "default");
}

#[tokio::test]
async fn public_chain_routes_are_rate_limited_per_handle() {
    let mut config = test_config();
    config.rate_limits.chain = 3;
    // One window for the whole test, so a window boundary cannot reset the count mid-test.
    config.rate_limits.window_secs = 31_536_000;
    let app = with_links(spawn_with(config, None).await).await;
    for _ in 0..3 {
        resolve(&app, "acme", "s", "checkout").await;
    }
    let resp = app
        .chain_prefetch(&json!({"handle": "acme", "sessionId": "s", "triggers": ["checkout"]}))
        .await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, 429, "rate_limited").await;
    // Another handle has its own budget.
    resolve(&app, "beta", "s", "checkout").await;
}
