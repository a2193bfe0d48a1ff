//! Mail (issue 59): the outbox of the mail room on either backend, the embedded engine's
//! Maildir, once per event, a cut between the send and its record, the sweeper, retries.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tenx_shared::domain::email::Email;
use tenx_shared::mail::{MailKind, MailStatus, Outgoing};
use tenx_shared::platform::mail::{Mailer, Outcome, RawMail};

use crate::helpers::{
    acme, spawn_app, spawn_with_failing_queue, spawn_with_failing_queue_config, test_config,
};

fn sign_in(to: &str, key: &str) -> Outgoing {
    Outgoing {
        handle: Some(acme()),
        to: Email::parse("to", to).unwrap(),
        kind: MailKind::SignIn,
        key: key.into(),
        data: json!({ "link": format!("https://console.example/v2/auth/email-link/verify?token={key}") }),
    }
}

async fn record(
    app: &crate::helpers::TestApp,
    id: &tenx_shared::mail::MailId,
) -> tenx_shared::mail::MailRecord {
    tenx_shared::mail::get(app.store.as_ref(), Some(&acme()), id.as_str())
        .await
        .unwrap()
        .expect("the record")
        .0
}

/// The record once the worker finished it (polling, up to 20 s: the app's workers run).
async fn finished(
    app: &crate::helpers::TestApp,
    id: &tenx_shared::mail::MailId,
) -> tenx_shared::mail::MailRecord {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rec = record(app, id).await;
        if rec.status.is_final() || std::time::Instant::now() > deadline {
            return rec;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A queued mail is sent by the worker, once per event: the same event again answers the same
/// id and sends nothing more; a test reads the sign-in link out of the mail.
#[tokio::test]
async fn a_mail_is_sent_once_per_event_and_its_link_read_back() {
    let app = spawn_app().await;
    let state = app.state();
    let id = tenx_shared::mail::enqueue(state.io(), sign_in("ann@example.org", "t1"))
        .await
        .unwrap();
    let again = tenx_shared::mail::enqueue(state.io(), sign_in("ann@example.org", "t1"))
        .await
        .unwrap();
    assert_eq!(id, again, "the same event, the same mail");
    let sent = app.wait_for_mail(1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = &sent[0];
    assert_eq!(mail.to, "ann@example.org");
    assert_eq!(mail.kind, "sign_in");
    assert_eq!(mail.subject, "Sign in to acme");
    assert!(
        mail.message_id.starts_with(id.as_str()),
        "{}",
        mail.message_id
    );
    assert_eq!(
        mail.list_unsubscribe, None,
        "sign-in mail has no unsubscribe"
    );
    assert_eq!(
        mail.link("https://console.example/").as_deref(),
        Some("https://console.example/v2/auth/email-link/verify?token=t1")
    );
    // The HTML escapes every value (`/` as `&#x2f;`), which a browser reads back as written.
    let html = mail.html.replace("&#x2f;", "/");
    assert!(
        html.contains("href=\"https://console.example/v2/auth/email-link/verify?token=t1\""),
        "{html}"
    );
    let rec = finished(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Sent);
    assert_eq!(rec.attempts, 1);
    // A second event is a second mail.
    tenx_shared::mail::enqueue(state.io(), sign_in("ann@example.org", "t2"))
        .await
        .unwrap();
    assert_eq!(app.wait_for_mail(2).await.len(), 2);
}

/// The answer of a send is lost (the record after it fails): the next try sends once more with
/// the same Message-ID (the Maildir keeps one file), records it sent, and never sends it again.
#[tokio::test]
async fn a_send_whose_record_failed_is_sent_once_more_with_the_same_message_id() {
    let (app, switch) = spawn_with_failing_queue().await;
    let state = app.state();
    let id = tenx_shared::mail::enqueue(state.io(), sign_in("bo@example.org", "cut"))
        .await
        .unwrap();
    // The limits' counters pass, the outcome's transaction fails: sent, not recorded.
    switch.fail_transacts_after(1, 1);
    assert_eq!(app.deliver_mail().await, 1);
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1, "sent before the cut");
    let rec = record(&app, &id).await;
    assert_eq!(
        (rec.status, rec.attempts),
        (MailStatus::Queued, 1),
        "{rec:?}"
    );
    // While the claim's lease runs, nobody sends it.
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(record(&app, &id).await.attempts, 1);
    tenx_shared::platform::time::advance(tenx_shared::mail::worker::LEASE + Duration::from_secs(1));
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(
        (rec.status, rec.attempts, rec.unanswered),
        (MailStatus::Sent, 2, 1),
        "{rec:?}"
    );
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1, "one file for one Message-ID");
    assert_eq!(sent[0].message_id, rec.message_id.clone().unwrap());
    // Sent is final: a duplicate message sends nothing.
    tenx_shared::mail::sweep::sweep(state.io(), Duration::ZERO)
        .await
        .unwrap();
    let body = json!({"handle": "acme", "mailId": id.as_str()}).to_string();
    state
        .queue
        .send(
            tenx_shared::platform::queue::QueueName::Mail,
            vec![tenx_shared::platform::queue::OutMessage::now(body)],
        )
        .await
        .unwrap();
    let engine = Counting::new(Outcome::Sent { provider_id: None });
    let counted = state.clone().with_mailer(engine.clone());
    tenx_shared::testing::mail::deliver_mail(&counted).await;
    assert_eq!(
        engine.sends(),
        0,
        "a mail recorded sent is never sent again"
    );
}

/// Two sends whose answers were both lost: no third copy; the mail is `failed`, visibly.
#[tokio::test]
async fn a_second_lost_answer_ends_the_mail_failed_without_a_third_send() {
    let (app, switch) = spawn_with_failing_queue().await;
    let state = app.state();
    let id = tenx_shared::mail::enqueue(state.io(), sign_in("cy@example.org", "cut2"))
        .await
        .unwrap();
    let engine = Counting::new(Outcome::Sent { provider_id: None });
    let counted = state.clone().with_mailer(engine.clone());
    for _ in 0..2 {
        switch.fail_transacts_after(1, 1);
        tenx_shared::testing::mail::deliver_mail(&counted).await;
        tenx_shared::platform::time::advance(
            tenx_shared::mail::worker::LEASE + Duration::from_secs(1),
        );
    }
    tenx_shared::testing::mail::deliver_mail(&counted).await;
    assert_eq!(engine.sends(), 2, "the first and one more, never a third");
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Failed, "{rec:?}");
    assert!(rec.error.unwrap().contains("may have arrived"));
}

/// The queue refused the enqueue after the record committed: the mail is durable, and the
/// sweeper hands it to the queue once it is older than the outbox's minimum age.
#[tokio::test]
async fn a_mail_the_queue_never_took_is_swept_to_it() {
    let (app, switch) = spawn_with_failing_queue().await;
    let state = app.state();
    switch.fail_next(1);
    let id = tenx_shared::mail::enqueue(state.io(), sign_in("di@example.org", "swept"))
        .await
        .unwrap();
    assert_eq!(app.deliver_mail().await, 0, "nothing on the queue");
    let min_age = state.config.outbox_min_age;
    assert_eq!(
        tenx_shared::mail::sweep::sweep(state.io(), min_age)
            .await
            .unwrap(),
        0,
        "too young"
    );
    tenx_shared::platform::time::advance(min_age + Duration::from_secs(1));
    assert_eq!(
        tenx_shared::mail::sweep::sweep(state.io(), min_age)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tenx_shared::mail::sweep::sweep(state.io(), min_age)
            .await
            .unwrap(),
        0,
        "confirmed"
    );
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(record(&app, &id).await.status, MailStatus::Sent);
    assert_eq!(app.sent_mail().len(), 1);
}

/// A server that keeps failing for now: retried with backoff, then `failed` after the last try,
/// never lost; one that refuses for good: `suppressed`, and the address is suppressed, so a
/// later mail to it is not sent either.
#[tokio::test]
async fn temporary_failures_end_failed_and_a_permanent_one_suppresses_the_address() {
    let mut config = test_config();
    config.mail.retry_base = Duration::ZERO;
    config.mail.attempts = 3;
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    let state = app.state();
    let down = Counting::new(Outcome::Temporary("connection dropped".into()));
    let failing = state.clone().with_mailer(down.clone());
    let id = tenx_shared::mail::enqueue(state.io(), sign_in("ed@example.org", "down"))
        .await
        .unwrap();
    tenx_shared::testing::mail::deliver_mail(&failing).await;
    assert_eq!(down.sends(), 3, "three tries");
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Failed, "{rec:?}");
    assert_eq!(rec.error.as_deref(), Some("connection dropped"));

    let refused = Counting::new(Outcome::Permanent("550 no such user".into()));
    let refusing = state.clone().with_mailer(refused.clone());
    let mut digest = sign_in("fay@example.org", "gone");
    digest.kind = MailKind::Message;
    digest.data = json!({"from": "Acme", "body": "hi"});
    let id = tenx_shared::mail::enqueue(state.io(), digest.clone())
        .await
        .unwrap();
    tenx_shared::testing::mail::deliver_mail(&refusing).await;
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Suppressed, "{rec:?}");
    let listed = tenx_shared::mail::suppressions::list(app.store.as_ref(), &acme())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].email, "fay@example.org");
    digest.key = "again".into();
    let id = tenx_shared::mail::enqueue(state.io(), digest)
        .await
        .unwrap();
    tenx_shared::testing::mail::deliver_mail(&refusing).await;
    assert_eq!(refused.sends(), 1, "no mail to a suppressed address");
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Suppressed);
    assert!(rec.error.unwrap().contains("suppressed"), "in words");
}

/// An engine that answers one outcome and counts its sends.
pub(crate) struct Counting {
    outcome: Outcome,
    sends: std::sync::atomic::AtomicUsize,
}

impl Counting {
    pub(crate) fn new(outcome: Outcome) -> Arc<Self> {
        Arc::new(Self {
            outcome,
            sends: Default::default(),
        })
    }

    pub(crate) fn sends(&self) -> usize {
        self.sends.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl Mailer for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    async fn send(&self, _mail: &RawMail) -> Outcome {
        self.sends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.outcome.clone()
    }
}
