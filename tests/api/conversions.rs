//! AT-05 (submit a conversion) and AT-06 (replay it): exactly-once conversions, their idempotency
//! records, the crash-safe fan-out and the per-handle conversions limit.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use tenx_shared::conversions::idempotency::{IdempotencyRecord, Status};
use tenx_shared::domain::{CtxKeyring, IdempotencyKey};
use tenx_shared::kernel::events::{ConversionData, Event};
use tenx_shared::platform::queue::QueueName;
use tenx_shared::platform::store::{Cond, Item, Query, SkRange, WriteOp, keys};
use tenx_shared::runtime::assembly::sinks;
use tenx_shared::runtime::local::Workers;
use tenx_shared::runtime::workers::BatchHandler;
use tenx_shared::runtime::workers::events::EventsWorker;

use crate::helpers::*;
use crate::scenario::IPHONE;

/// Creates `handle/launch` and clicks it like a phone coming from a newsletter: returns the ctx.
async fn click_for_ctx(app: &TestApp, handle: &str) -> String {
    let body = json!({"destinationUrl": "https://example.com/product", "routingRules": []});
    let status = app.put_link(handle, "launch", body).await.status();
    assert!(status == 201 || status == 200, "{status}");
    let resp = app
        .click(
            handle,
            "/launch?utm_source=newsletter",
            &[
                ("user-agent", IPHONE),
                ("cloudfront-viewer-country", "DE"),
                ("referer", "https://news.example.com/issue-7"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    query_param(header_str(resp.headers(), "location"), "ctx").expect("a ctx for a human visitor")
}

async fn post(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v2/public/conversions"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_ok(app: &TestApp, body: &Value, status: u16) -> Value {
    let resp = post(app, body).await;
    assert_eq!(resp.status().as_u16(), status, "for {body}");
    assert!(resp.headers().contains_key("x-request-id"));
    resp.json().await.unwrap()
}

fn purchase(ctx: &str, key: &str) -> Value {
    json!({
        "ctx": ctx,
        "idempotencyKey": key,
        "eventType": "purchase",
        "value": 24.99,
        "currency": "USD",
        "metadata": {"orderId": "789", "items": [1, 2]}
    })
}

/// Every message on the events queue right now, parsed (acked, so they are gone).
async fn drain_events(app: &TestApp) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        let msgs = app
            .queue
            .receive(QueueName::Events, 10, Duration::from_secs(30))
            .await
            .unwrap();
        if msgs.is_empty() {
            return all;
        }
        for m in msgs {
            app.queue.ack(QueueName::Events, &m.receipt).await.unwrap();
            all.push(serde_json::from_str(&m.body).unwrap());
        }
    }
}

fn conversion_events(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.kind.as_str().starts_with("conversion."))
        .collect()
}

/// Every pending outbox entry (events committed and not yet cleared by a consumer).
async fn outbox_events(app: &TestApp) -> Vec<Event> {
    let mut all = Vec::new();
    for shard in 0..keys::OUTBOX_SHARDS {
        let (pk, _) = keys::outbox(shard, 0, "");
        let page = app
            .store
            .query(Query {
                pk,
                range: SkRange::All,
                limit: 1000,
                after: None,
                descending: false,
            })
            .await
            .unwrap();
        all.extend(page.items.iter().map(|i| i.parse::<Event>().unwrap()));
    }
    all
}

async fn stored_conversion(app: &TestApp, handle: &str, id: &str) -> Option<ConversionData> {
    let id = tenx_shared::domain::ConversionId::parse(id).unwrap();
    let day = tenx_shared::analytics::days::day_of_unix(id.unix_millis() / 1000);
    let (pk, sk) = keys::conversion(
        &tenx_shared::domain::Handle::parse(handle).unwrap(),
        &day,
        id.as_str(),
    );
    let item = app.store.get(&pk, &sk).await.unwrap()?;
    Some(item.parse().unwrap())
}

async fn stored_record(
    app: &TestApp,
    handle: &str,
    key: &str,
) -> Option<(IdempotencyRecord, Item)> {
    let (pk, sk) = keys::idempotency(
        &tenx_shared::domain::Handle::parse(handle).unwrap(),
        &IdempotencyKey::parse(key).unwrap(),
    );
    let item = app.store.get(&pk, &sk).await.unwrap()?;
    Some((item.parse().unwrap(), item))
}

#[tokio::test]
async fn at05_accepts_a_conversion_and_at06_dedupes_its_replay() {
    let app = spawn_app().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let context: Value = app
        .client
        .get(app.url(&format!("/v2/public/context?ctx={ctx}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // AT-05: the first submission is accepted.
    let first = post_ok(&app, &purchase(&ctx, "txn-2026-02-25-order-789"), 202).await;
    assert_eq!(first["accepted"], true);
    assert_eq!(first["deduped"], false);
    let id = first["conversionId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cnv_"), "{id}");
    assert_eq!(first["clickId"], context["clickId"]);
    assert_eq!(first["campaignId"], Value::Null);
    assert_eq!(first["eventType"], "purchase");
    assert_eq!(first["value"], 24.99);
    assert_eq!(first["currency"], "USD");
    assert_eq!(first["test"], false);
    let received = first["receivedAt"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(received, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );

    // AT-06: the same key and payload again, also with the value written differently.
    for replay in [
        purchase(&ctx, "txn-2026-02-25-order-789"),
        json!({
            "ctx": ctx, "idempotencyKey": "txn-2026-02-25-order-789", "eventType": "purchase",
            "value": "24.990", "currency": "USD", "metadata": {"items": [1, 2], "orderId": "789"}
        }),
    ] {
        let again = post_ok(&app, &replay, 200).await;
        let mut expected = first.clone();
        expected["deduped"] = json!(true);
        assert_eq!(again, expected, "the original response, marked deduped");
    }

    // The conversion record carries the click's dimensions from the ctx.
    let c = stored_conversion(&app, "acme", &id).await.expect("stored");
    assert_eq!(c.idempotency_key.as_str(), "txn-2026-02-25-order-789");
    assert_eq!(c.click_id.as_str(), context["clickId"].as_str().unwrap());
    assert_eq!(c.value.unwrap().to_string(), "24.99");
    let a = &c.attribution;
    assert_eq!((a.country.as_str(), a.device.as_str()), ("DE", "mobile"));
    assert_eq!(a.source, "newsletter");
    assert_eq!(a.referrer, "news.example.com");
    assert_eq!(a.segment, "new-mobile");
    assert_eq!(c.metadata.unwrap()["orderId"], "789");
    assert!(!c.test);

    // The idempotency record: completed, with the response, kept 365 days.
    let (record, item) = stored_record(&app, "acme", "txn-2026-02-25-order-789")
        .await
        .unwrap();
    assert_eq!(record.status, Status::Completed);
    assert_eq!(record.response.unwrap().conversion_id.as_str(), id);
    assert_eq!(record.payload_hash.len(), 64);
    assert_eq!(item.expires_at, Some(record.expires_at));
    assert!(record.expires_at > now() + 364 * 86_400, "kept a year");
    assert!(record.expires_at <= now() + 365 * 86_400);
}

#[tokio::test]
async fn the_same_key_with_another_payload_is_refused() {
    let app = spawn_app().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let first = post_ok(&app, &purchase(&ctx, "order-1"), 202).await;
    let mut changed = purchase(&ctx, "order-1");
    changed["value"] = json!(25.00);
    let msg = assert_error(post(&app, &changed).await, 409, "idempotency_key_reused").await;
    assert!(msg.contains("order-1"), "{msg}");
    let mut test_flag = purchase(&ctx, "order-1");
    test_flag["test"] = json!(true);
    assert_error(post(&app, &test_flag).await, 409, "idempotency_key_reused").await;
    // A ctx of another click is another payload too.
    let other_ctx = click_for_ctx(&app, "acme").await;
    assert_error(
        post(&app, &purchase(&other_ctx, "order-1")).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    // The original stands.
    let again = post_ok(&app, &purchase(&ctx, "order-1"), 200).await;
    assert_eq!(again["conversionId"], first["conversionId"]);
    assert_eq!(again["value"], 24.99);
}

#[tokio::test]
async fn keys_are_scoped_to_the_ctx_handle() {
    let app = spawn_app().await;
    let acme = click_for_ctx(&app, "acme").await;
    let globex = click_for_ctx(&app, "globex").await;
    let a = post_ok(&app, &purchase(&acme, "order-1"), 202).await;
    let g = post_ok(&app, &purchase(&globex, "order-1"), 202).await;
    assert_ne!(a["conversionId"], g["conversionId"]);
    assert!(stored_record(&app, "acme", "order-1").await.is_some());
    assert!(stored_record(&app, "globex", "order-1").await.is_some());
    let a_id = a["conversionId"].as_str().unwrap();
    assert!(stored_conversion(&app, "globex", a_id).await.is_none());
}

#[tokio::test]
async fn an_invalid_ctx_is_refused_and_nothing_is_recorded() {
    let app = spawn_app_without_workers().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let _ = drain_events(&app).await;

    // Flip the MAC's first character: all six of its bits are significant (the last one's low
    // bits are base64 padding, where a change reads as malformed, not as a bad signature).
    let mac_at = ctx.rfind('.').unwrap() + 1;
    let flipped = if ctx[mac_at..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{flipped}{}", &ctx[..mac_at], &ctx[mac_at + 1..]);
    let claims = |expires_at: i64| tenx_shared::testing::launch_claims(now() - 100, expires_at);
    // Signed with the app's own keyring, so only the expiry is wrong.
    let expired = CtxKeyring::parse(&app.config.ctx_keys)
        .unwrap()
        .sign(&claims(now() - 10));
    let foreign = CtxKeyring::parse(&CtxKeyring::generate_spec())
        .unwrap()
        .sign(&claims(now() + 600));
    for (bad, why) in [
        (Some(tampered.as_str()), "signature"),
        (Some(&ctx[..ctx.len() / 2]), "malformed"),
        (Some("garbage"), "malformed"),
        (Some(foreign.as_str()), "signature"),
        (Some(expired.as_str()), "expired"),
        (Some(""), "required"),
        (None, "required"),
    ] {
        let mut body = purchase("", "order-1");
        match bad {
            Some(t) => body["ctx"] = json!(t),
            None => {
                body.as_object_mut().unwrap().remove("ctx");
            }
        }
        let msg = assert_error(post(&app, &body).await, 400, "invalid_ctx").await;
        assert!(msg.contains(why), "{why}: {msg}");
    }
    assert!(stored_record(&app, "acme", "order-1").await.is_none());
    assert!(conversion_events(&drain_events(&app).await).is_empty());
    // The key is still free for a valid ctx.
    post_ok(&app, &purchase(&ctx, "order-1"), 202).await;
}

#[tokio::test]
async fn every_bad_field_is_named() {
    let app = spawn_app().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let base = purchase(&ctx, "order-1");
    let with = |field: &str, v: Value| {
        let mut b = base.clone();
        b[field] = v;
        b
    };
    let without = |field: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("idempotencyKey"), "idempotencyKey"),
        (with("idempotencyKey", json!("")), "idempotencyKey"),
        (with("idempotencyKey", json!("has space")), "idempotencyKey"),
        (with("idempotencyKey", json!("a#b")), "idempotencyKey"),
        (
            with("idempotencyKey", json!("k".repeat(256))),
            "idempotencyKey",
        ),
        (with("idempotencyKey", json!(42)), "idempotencyKey"),
        (without("eventType"), "eventType"),
        (with("eventType", json!("")), "eventType"),
        (with("eventType", json!("e".repeat(65))), "eventType"),
        (with("eventType", json!("sign up")), "eventType"),
        (with("value", json!(-1)), "value"),
        (with("value", json!("-0.5")), "value"),
        (with("value", json!(0.0000001)), "value"),
        (with("value", json!("1234567890123456")), "value"),
        (with("value", json!("1e3")), "value"),
        (with("value", json!("ten")), "value"),
        (with("value", json!(true)), "value"),
        (with("value", json!({"amount": 1})), "value"),
        (without("currency"), "currency"),
        (with("currency", json!("usd")), "currency"),
        (with("currency", json!("ABC")), "currency"),
        (with("currency", json!("US")), "currency"),
        (with("currency", json!(840)), "currency"),
        (with("test", json!("yes")), "test"),
        (with("metadata", json!([1, 2])), "metadata"),
        (with("metadata", json!("note")), "metadata"),
        (
            with("metadata", json!({"blob": "x".repeat(4096)})),
            "metadata",
        ),
        (with("ctx", json!(123)), "ctx"),
        (with("extra", json!(1)), "extra"),
    ];
    for (body, field) in cases {
        let msg = assert_error(post(&app, &body).await, 400, "invalid_request").await;
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // Malformed JSON and a wrong content type.
    let resp = app
        .client
        .post(app.url("/v2/public/conversions"))
        .header("content-type", "application/json")
        .body("{\"ctx\": ")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_request").await;
    let resp = app
        .client
        .post(app.url("/v2/public/conversions"))
        .header("content-type", "text/plain")
        .body(base.to_string())
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_request").await;
    // Nothing was recorded by any of them; the key is still free.
    assert!(stored_record(&app, "acme", "order-1").await.is_none());
    // Minimal bodies are fine: no value, no currency, no metadata.
    let minimal = json!({"ctx": ctx, "idempotencyKey": "signup-1", "eventType": "signup"});
    let r = post_ok(&app, &minimal, 202).await;
    assert_eq!(
        (r["value"].clone(), r["currency"].clone()),
        (Value::Null, Value::Null)
    );
    // The value may be a decimal string; it comes back as the same exact number.
    let mut as_string = with("value", json!("1999.5"));
    as_string["idempotencyKey"] = json!("order-2");
    assert_eq!(post_ok(&app, &as_string, 202).await["value"], 1999.5);
}

/// A hundred copies of one submission at once. The per-click limit (30 a minute) admits some;
/// the rest are refused by it, and a refused copy is still answered as a replay when the key is
/// already recorded. A refused copy that reads the key before the winner's transaction commits
/// cannot know it is a duplicate: it gets the 429 (with `retry-after`), and its retry replays.
#[tokio::test]
async fn a_hundred_concurrent_submissions_yield_one_conversion_and_one_event() {
    let app = spawn_app_without_workers().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let _ = drain_events(&app).await;
    let body = purchase(&ctx, "order-race");
    let responses = join_all((0..100).map(|_| async {
        let resp = post(&app, &body).await;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().contains_key("retry-after");
        (status, retry_after, resp.json::<Value>().await.unwrap())
    }))
    .await;
    let count = |status: u16| responses.iter().filter(|r| r.0 == status).count();
    let statuses: Vec<u16> = responses.iter().map(|r| r.0).collect();
    assert_eq!(count(202), 1, "exactly one 202: {statuses:?}");
    assert_eq!(count(202) + count(200) + count(429), 100, "{statuses:?}");
    let accepted = &responses.iter().find(|r| r.0 == 202).unwrap().2;
    let id = accepted["conversionId"].as_str().unwrap();
    assert_eq!(accepted["deduped"], false);
    for (status, retry_after, body) in &responses {
        match status {
            200 => {
                assert_eq!(body["conversionId"], id);
                assert_eq!(body["deduped"], true);
            }
            429 => {
                assert!(retry_after, "a refusal says when to retry");
                assert_eq!(body["error"]["code"], "rate_limited");
            }
            _ => {}
        }
    }
    // Once the winner has committed, a copy refused by the limit is a replay again.
    let retried = post_ok(&app, &body, 200).await;
    assert_eq!(
        (
            retried["conversionId"].as_str(),
            retried["deduped"].as_bool()
        ),
        (Some(id), Some(true))
    );

    // One conversion record: the winner's. Each conversion record is written in one transaction
    // with exactly one outbox entry, so one conversion entry in the outbox means one record.
    assert!(stored_conversion(&app, "acme", id).await.is_some());
    let pending = outbox_events(&app).await;
    let pending_conversions = conversion_events(&pending);
    assert_eq!(pending_conversions.len(), 1);
    assert_eq!(pending_conversions[0].data["conversionId"], id);

    // One fan-out event on the queue.
    let events = drain_events(&app).await;
    let conversions = conversion_events(&events);
    assert_eq!(conversions.len(), 1, "one conversion.created event");
    assert_eq!(conversions[0].kind.as_str(), "conversion.created");
    let data: ConversionData = serde_json::from_value(conversions[0].data.clone()).unwrap();
    assert_eq!(data.conversion_id.as_str(), id);
    assert_eq!(data.value.unwrap().to_string(), "24.99");
    assert_eq!(conversions[0].id, pending_conversions[0].id);
}

#[tokio::test]
async fn a_fan_out_lost_between_commit_and_enqueue_is_swept_exactly_once() {
    let (app, switch) = spawn_with_failing_queue().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let _ = drain_events(&app).await;

    // The process "dies" after the commit: the enqueue that follows it fails.
    switch.fail_next(1);
    let first = post_ok(&app, &purchase(&ctx, "order-crash"), 202).await;
    assert_eq!(
        switch.remaining(),
        0,
        "the conversion's enqueue was the one that failed"
    );
    assert!(
        conversion_events(&drain_events(&app).await).is_empty(),
        "nothing reached the queue"
    );
    // A replay is answered from the record and does not enqueue either.
    post_ok(&app, &purchase(&ctx, "order-crash"), 200).await;
    assert!(conversion_events(&drain_events(&app).await).is_empty());

    // The sweeper finds the committed event and delivers it.
    let swept =
        tenx_shared::kernel::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
            .await
            .unwrap();
    assert!(swept >= 1);
    let msgs = app
        .queue
        .receive(QueueName::Events, 10, Duration::from_secs(30))
        .await
        .unwrap();
    let events: Vec<Event> = msgs
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    let conversions = conversion_events(&events);
    assert_eq!(conversions.len(), 1);
    assert_eq!(conversions[0].data["conversionId"], first["conversionId"]);

    // The events consumer applies the batch and clears the outbox entries.
    let state = app.state();
    let worker = EventsWorker {
        state,
        sinks: sinks(),
    };
    let failed = worker.handle(msgs.clone()).await;
    assert!(failed.is_empty(), "every event applied: {failed:?}");
    for m in &msgs {
        app.queue.ack(QueueName::Events, &m.receipt).await.unwrap();
    }
    assert!(
        conversion_events(&outbox_events(&app).await).is_empty(),
        "outbox cleared"
    );

    // Sweeping again sends nothing: the conversion reached the stream exactly once.
    let swept =
        tenx_shared::kernel::outbox::sweep(app.store.as_ref(), app.queue.as_ref(), Duration::ZERO)
            .await
            .unwrap();
    assert_eq!(swept, 0);
    assert!(drain_events(&app).await.is_empty());
}

#[tokio::test]
async fn a_key_past_its_retention_is_accepted_anew() {
    let mut config = test_config();
    config.idempotency_retention = Duration::from_secs(1);
    let app = spawn_with(config, None).await;
    let ctx = click_for_ctx(&app, "acme").await;
    let first = post_ok(&app, &purchase(&ctx, "order-old"), 202).await;
    // The record was written before this instant with an expiry of (write time + 1 s), in whole
    // seconds; past this deadline it has certainly expired, however slow the machine is. (Reading
    // the record first would race its own expiry on a loaded machine.)
    let deadline = now() + 1;
    while now() <= deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(stored_record(&app, "acme", "order-old").await.is_none());
    let second = post_ok(&app, &purchase(&ctx, "order-old"), 202).await;
    assert_eq!(second["deduped"], false);
    assert_ne!(second["conversionId"], first["conversionId"]);
    // Conversions themselves are never expired.
    for c in [&first, &second] {
        let id = c["conversionId"].as_str().unwrap();
        assert!(stored_conversion(&app, "acme", id).await.is_some());
    }
}

#[tokio::test]
async fn test_conversions_are_accepted_deduped_and_emitted_as_tested() {
    let app = spawn_app_without_workers().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let _ = drain_events(&app).await;
    let mut body = purchase(&ctx, "order-test");
    body["test"] = json!(true);
    let first = post_ok(&app, &body, 202).await;
    assert_eq!(first["test"], true);
    let again = post_ok(&app, &body, 200).await;
    assert_eq!(again["conversionId"], first["conversionId"]);
    assert_eq!(again["deduped"], true);
    let events = drain_events(&app).await;
    let conversions = conversion_events(&events);
    assert_eq!(conversions.len(), 1);
    assert_eq!(conversions[0].kind.as_str(), "conversion.tested");
    assert_eq!(conversions[0].data["test"], true);
    let id = first["conversionId"].as_str().unwrap();
    assert!(stored_conversion(&app, "acme", id).await.unwrap().test);
}

#[tokio::test]
async fn the_conversions_limit_answers_429_and_replays_spend_nothing() {
    let mut config = test_config();
    config.rate_limits.conversions = 2;
    // A long window, so the test cannot straddle a window boundary.
    config.rate_limits.window_secs = 86_400;
    let app = spawn_full(config, None, Workers::Off).await;
    let ctx = click_for_ctx(&app, "acme").await;
    let _ = drain_events(&app).await;
    post_ok(&app, &purchase(&ctx, "order-1"), 202).await;
    // Replays are answered before the limit is looked at, and are not counted.
    for _ in 0..3 {
        post_ok(&app, &purchase(&ctx, "order-1"), 200).await;
    }
    post_ok(&app, &purchase(&ctx, "order-2"), 202).await;

    let resp = post(&app, &purchase(&ctx, "order-3")).await;
    let headers = resp.headers().clone();
    assert_error(resp, 429, "rate_limited").await;
    assert_eq!(header_str(&headers, "x-ratelimit-limit"), "2");
    assert_eq!(header_str(&headers, "x-ratelimit-remaining"), "0");
    let reset: i64 = header_str(&headers, "x-ratelimit-reset").parse().unwrap();
    assert!(reset > now());
    let retry: i64 = header_str(&headers, "retry-after").parse().unwrap();
    assert!(retry >= 1);
    // The refused submission left nothing behind: no record, no event.
    assert!(stored_record(&app, "acme", "order-3").await.is_none());
    assert_eq!(conversion_events(&drain_events(&app).await).len(), 2);
    // Still a replay after the limit is reached.
    post_ok(&app, &purchase(&ctx, "order-2"), 200).await;
    // Another handle has its own budget.
    let other = click_for_ctx(&app, "globex").await;
    post_ok(&app, &purchase(&other, "order-3"), 202).await;
}

#[tokio::test]
async fn in_progress_records_block_until_abandoned() {
    let app = spawn_app().await;
    let ctx = click_for_ctx(&app, "acme").await;
    let seed = |key: &str, until_ms: i64| {
        let record = IdempotencyRecord {
            status: Status::InProgress,
            payload_hash: "0".repeat(64),
            response: None,
            expires_at: now() + 3600,
            in_progress_expires_at_ms: Some(until_ms),
        };
        let (pk, sk) = keys::idempotency(&acme(), &IdempotencyKey::parse(key).unwrap());
        WriteOp::Put {
            item: Item::new(pk, sk, serde_json::to_value(record).unwrap())
                .with_version(1)
                .expiring_at(Some(now() + 3600)),
            cond: Cond::Absent,
        }
    };
    let now_ms = now() * 1000;
    app.store
        .write(seed("held", now_ms + 3_600_000))
        .await
        .unwrap();
    app.store
        .write(seed("abandoned", now_ms - 1_000))
        .await
        .unwrap();

    let resp = post(&app, &purchase(&ctx, "held")).await;
    let retry: i64 = header_str(resp.headers(), "retry-after").parse().unwrap();
    assert!(retry >= 1);
    let msg = assert_error(resp, 409, "conflict").await;
    assert!(msg.contains("retry"), "{msg}");

    let r = post_ok(&app, &purchase(&ctx, "abandoned"), 202).await;
    let (record, item) = stored_record(&app, "acme", "abandoned").await.unwrap();
    assert_eq!(record.status, Status::Completed);
    assert_eq!(item.version, 2, "overwritten with a version-checked put");
    assert_eq!(
        record.response.unwrap().conversion_id.as_str(),
        r["conversionId"].as_str().unwrap()
    );
    post_ok(&app, &purchase(&ctx, "abandoned"), 200).await;
}
