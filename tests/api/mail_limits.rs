//! The hourly mail limits (issue 59): per handle and per recipient, configurable; over either a
//! mail waits `queued` (the admins' list says why) and goes out once the hour allows. The clock
//! is the service's (moved by the test), never slept on.

use std::time::Duration;

use serde_json::json;
use tenx_shared::domain::email::Email;
use tenx_shared::http::auth::Role;
use tenx_shared::mail::{MailId, MailKind, MailStatus, Outgoing};

use crate::helpers::{acme, spawn_with_failing_queue_config, test_config};

fn note(to: &str, key: &str) -> Outgoing {
    Outgoing {
        handle: Some(acme()),
        to: Email::parse("to", to).unwrap(),
        kind: MailKind::Message,
        key: key.into(),
        data: json!({"from": "Acme", "body": "hello"}),
    }
}

async fn status(app: &crate::helpers::TestApp, id: &MailId) -> (MailStatus, Option<String>) {
    let (rec, _) = tenx_shared::mail::get(app.store.as_ref(), Some(&acme()), id.as_str())
        .await
        .unwrap()
        .expect("the record");
    (rec.status, rec.error)
}

/// Moves the service's clock to one minute past the next hour, so a test's sends share an hour.
fn start_of_an_hour() {
    let now = tenx_shared::platform::time::now_millis();
    let to_next = 3_600_000 - now.rem_euclid(3_600_000) + 60_000;
    tenx_shared::platform::time::advance(Duration::from_millis(to_next as u64));
}

/// Two mails an hour per recipient, three per handle: the third to one address waits, the
/// handle's fourth waits; both are `queued` in `GET …/mail` with the reason in words, stay
/// queued when the queue brings them back within the hour, and go out in the next hour.
#[tokio::test]
async fn over_an_hourly_limit_mail_waits_queued_and_goes_out_when_the_hour_allows() {
    let mut config = test_config();
    config.mail.per_handle_hour = 3;
    config.mail.per_recipient_hour = 2;
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    let state = app.state();
    start_of_an_hour();
    let mut ids = Vec::new();
    for (to, key) in [
        ("ann@example.org", "a1"),
        ("ann@example.org", "a2"),
        ("ann@example.org", "a3"),
        ("bo@example.org", "b1"),
        ("cy@example.org", "c1"),
    ] {
        ids.push(
            tenx_shared::mail::enqueue(state.io(), note(to, key))
                .await
                .unwrap(),
        );
        app.deliver_mail().await;
    }
    let waits = Some("waits for the hourly mail limit".to_owned());
    assert_eq!(status(&app, &ids[0]).await.0, MailStatus::Sent);
    assert_eq!(status(&app, &ids[1]).await.0, MailStatus::Sent);
    assert_eq!(
        status(&app, &ids[2]).await,
        (MailStatus::Queued, waits.clone()),
        "the recipient's third"
    );
    assert_eq!(
        status(&app, &ids[3]).await.0,
        MailStatus::Sent,
        "another address"
    );
    assert_eq!(
        status(&app, &ids[4]).await,
        (MailStatus::Queued, waits.clone()),
        "the handle's fourth"
    );
    assert_eq!(app.sent_mail().len(), 3);

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
    let queued: Vec<&serde_json::Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "queued")
        .collect();
    assert_eq!(queued.len(), 2, "{listed}");
    assert!(
        queued
            .iter()
            .all(|m| m["error"] == "waits for the hourly mail limit"),
        "{listed}"
    );

    // Brought back within the hour (the queue's delay is capped at 15 minutes): still waiting.
    tenx_shared::platform::time::advance(Duration::from_secs(15 * 60));
    for id in [&ids[2], &ids[4]] {
        assert!(tenx_shared::testing::mail::deliver_due(&state, Some(&acme()), id.as_str()).await);
        assert_eq!(status(&app, id).await, (MailStatus::Queued, waits.clone()));
    }
    assert_eq!(app.sent_mail().len(), 3);

    // The next hour: both go out, once.
    tenx_shared::platform::time::advance(Duration::from_secs(3600));
    for id in [&ids[2], &ids[4]] {
        assert!(tenx_shared::testing::mail::deliver_due(&state, Some(&acme()), id.as_str()).await);
        assert_eq!(status(&app, id).await, (MailStatus::Sent, None));
    }
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 5);
    assert_eq!(sent.iter().filter(|m| m.to == "ann@example.org").count(), 3);
}

/// The defaults (documented in docs/mail.md and docs/configuration.md): a broadcast to 200
/// partners fits the handle's hour (1,000), and one address gets its 20th mail of the hour but
/// not a 21st. (`messages::a_broadcast_to_a_group_of_200_is_mailed_once_to_each` sends such a
/// broadcast end to end under these defaults.)
#[tokio::test]
async fn the_default_limits_let_a_broadcast_to_200_partners_out_and_stop_a_loop() {
    let config = test_config();
    let settings = config.mail.clone();
    assert_eq!(
        (settings.per_handle_hour, settings.per_recipient_hour),
        (1000, 20)
    );
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    start_of_an_hour();
    let now = tenx_shared::platform::time::now_millis();
    let store = app.store.as_ref();
    let admit = |to: String| {
        let settings = settings.clone();
        async move {
            tenx_shared::mail::limits::admit(store, &settings, Some(&acme()), &to, now)
                .await
                .unwrap()
        }
    };
    for i in 0..200 {
        assert_eq!(
            admit(format!("p{i}@partners.example")).await,
            Ok(()),
            "partner {i}"
        );
    }
    for i in 1..20 {
        assert_eq!(admit("loop@example.org".into()).await, Ok(()), "mail {i}");
    }
    let next_hour = (now.div_euclid(3_600_000) + 1) * 3_600_000;
    assert_eq!(admit("loop@example.org".into()).await, Ok(()), "the 20th");
    assert_eq!(
        admit("loop@example.org".into()).await,
        Err(next_hour),
        "the 21st waits"
    );
}

/// `tenx status`'s mail lines: mail not finished is counted `queued`, mail that ended `failed`
/// (here after its one try) is counted failed, both in words beside the mail queue's depth.
#[tokio::test]
async fn tenx_status_counts_queued_and_failed_mail() {
    use tenx_shared::platform::mail::Outcome;
    let mut config = test_config();
    config.mail.retry_base = Duration::ZERO;
    config.mail.attempts = 1;
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    let state = app.state();
    let census = || tenx_shared::mail::census::read(app.store.as_ref(), state.queue.as_ref());
    let c = census().await.unwrap();
    assert_eq!((c.queued, c.failed), (0, 0));
    let lines = tenx_shared::mail::census::describe(&c);
    assert_eq!(lines[0], "No mail waits to be sent.");
    assert_eq!(lines[1], "No mail failed in the last 30 days.");

    for key in ["f1", "f2"] {
        tenx_shared::mail::enqueue(state.io(), note("dee@example.org", key))
            .await
            .unwrap();
    }
    let c = census().await.unwrap();
    assert_eq!((c.queued, c.failed), (2, 0));
    assert!(c.oldest_queued.is_some());
    let down = crate::mail::Counting::new(Outcome::Temporary("connection dropped".into()));
    tenx_shared::testing::mail::deliver_mail(&state.clone().with_mailer(down.clone())).await;
    assert_eq!(down.sends(), 2);
    tenx_shared::mail::enqueue(state.io(), note("dee@example.org", "q1"))
        .await
        .unwrap();
    let c = census().await.unwrap();
    assert_eq!((c.queued, c.failed), (1, 2), "{c:?}");
    let lines = tenx_shared::mail::census::describe(&c);
    assert!(lines[0].starts_with("1 mail waits to be sent"), "{lines:?}");
    assert!(
        lines[1].starts_with("2 mails failed in the last 30 days"),
        "{lines:?}"
    );
    assert!(lines[2].starts_with("The mail queue holds"), "{lines:?}");
}
