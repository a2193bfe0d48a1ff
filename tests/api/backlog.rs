//! Issue 58: a backlog is visible and falls to zero. Conversions accepted while no consumer runs
//! wait in the outbox (each confirmed by the queue, which holds its message) and in the events
//! queue; the sweeper leaves them to the queue instead of re-sending them; once the consumers
//! run, `tenx status`'s backlog falls to zero and the funnel's freshness clears.

use std::time::Duration;

use serde_json::json;
use tenx_shared::http::auth::Role;
use tenx_shared::kernel::backlog::{self, Backlog};
use tenx_shared::runtime::local::{LocalRuntime, Workers};

use crate::helpers::*;
use crate::scenario::{human_ctx, one_partner};

const CONVERSIONS: usize = 12;

async fn backlog_of(app: &TestApp) -> Backlog {
    backlog::read(app.store.as_ref(), app.queue.as_ref())
        .await
        .expect("the backlog reads")
}

#[tokio::test]
async fn a_backlog_is_shown_waiting_then_falls_to_zero_without_being_multiplied() {
    let app = spawn_app_without_workers().await;
    one_partner(
        &app,
        &json!({"currency": "USD", "rules": [{"eventType": "purchase", "percent": "10"}]}),
    )
    .await;
    for i in 0..CONVERSIONS {
        let ctx = human_ctx(&app, "acme", "/deal").await;
        let body = json!({"ctx": ctx, "idempotencyKey": format!("order-{i}"), "eventType": "purchase", "value": 10, "currency": "USD"});
        json_of(app.convert(&body).await, 202).await;
    }
    let waiting = backlog_of(&app).await;
    assert!(waiting.pending >= CONVERSIONS as u64, "{waiting:?}");
    assert_eq!(
        waiting.not_enqueued, 0,
        "the queue took every one: {waiting:?}"
    );
    let queued = waiting.events_queue.expect("the queue tells its depth");
    assert!(
        queued.waiting + queued.in_flight >= CONVERSIONS as u64,
        "{waiting:?}"
    );
    assert!(waiting.oldest.is_some() && !waiting.is_clear());
    let lines = backlog::describe(&waiting);
    assert!(lines[0].contains("events wait to be counted"), "{lines:?}");

    // The sweeper leaves what the queue holds: nothing re-sent, the queue not multiplied.
    let swept = tenx_shared::kernel::outbox::sweep_counted(
        app.store.as_ref(),
        app.queue.as_ref(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!((swept.waiting as u64, swept.resent), (waiting.pending, 0));
    let after_sweep = backlog_of(&app).await.events_queue.unwrap();
    assert_eq!(
        after_sweep.waiting + after_sweep.in_flight,
        queued.waiting + queued.in_flight
    );

    // The consumers start: the backlog drains to zero, and the funnel is no longer behind.
    let runtime = LocalRuntime::start(
        app.config.clone(),
        app.store.clone(),
        app.queue.clone(),
        Some(app.clicks.clone()),
        Workers::On,
    )
    .unwrap();
    let mut now = backlog_of(&app).await;
    for _ in 0..600 {
        if now.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = backlog_of(&app).await;
    }
    assert_eq!((now.pending, now.dead_letters), (0, 0), "{now:?}");
    assert_eq!(
        backlog::describe(&now)[0],
        "Every accepted event is counted: nothing waits."
    );
    // The funnel's freshness (its look kept 5 s) clears once the clicks are counted too.
    let viewer = app.as_role("acme", Role::Viewer);
    let mut funnel = serde_json::Value::Null;
    for _ in 0..300 {
        funnel = json_of(viewer.analytics("").await, 200).await;
        if funnel["freshness"]["pendingSince"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        funnel["freshness"]["pendingSince"],
        serde_json::Value::Null,
        "{funnel}"
    );
    runtime.shutdown();
}
