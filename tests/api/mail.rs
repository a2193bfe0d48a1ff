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

/// The record once the worker finished it (the app's workers run).
async fn finished(
    app: &crate::helpers::TestApp,
    id: &tenx_shared::mail::MailId,
) -> tenx_shared::mail::MailRecord {
    crate::helpers::eventually_or("the mail's record to be final", || async {
        let rec = record(app, id).await;
        if rec.status.is_final() {
            Ok(rec)
        } else {
            Err(format!("{:?} after {} attempts", rec.status, rec.attempts))
        }
    })
    .await
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

/// The admin's view: `GET …/mail` newest first with its status in words, the suppressions and
/// their removal; the one-click unsubscribe: a GET shows a page and changes nothing, the POST
/// turns the kind off (the next mail of it is `suppressed`), a forged token is refused.
#[tokio::test]
async fn admins_see_the_mail_and_a_recipient_unsubscribes_in_one_click() {
    use tenx_shared::http::auth::Role;
    let (app, _switch) = spawn_with_failing_queue().await;
    let state = app.state();
    let admin = app.token(&["acme"], Role::Admin);
    let payout = |key: &str| Outgoing {
        handle: Some(acme()),
        to: Email::parse("to", "gil@example.org").unwrap(),
        kind: MailKind::PayoutSent,
        key: key.into(),
        data: json!({"partnerName": "<script>Gil</script>", "amount": "1234.5", "currency": "EUR",
            "statementUrl": "https://console.example/s/1"}),
    };
    tenx_shared::mail::enqueue(state.io(), payout("p1"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = &app.sent_mail()[0];
    assert_eq!(mail.subject, "Your payout of €1,234.50 was sent");
    assert!(!mail.html.contains("<script>"), "escaped: {}", mail.html);
    assert_eq!(
        mail.list_unsubscribe_post.as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let link = mail.list_unsubscribe.clone().expect("List-Unsubscribe");
    let link = link.trim_matches(['<', '>']).to_owned();
    let path = link
        .split_once("/v2/")
        .map(|(_, p)| format!("/v2/{p}"))
        .unwrap();

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
    assert_eq!(listed["items"][0]["status"], "sent", "{listed}");
    assert_eq!(listed["items"][0]["kind"], "payout_sent");
    assert_eq!(
        listed["items"][0]["subject"],
        "Your payout of €1,234.50 was sent"
    );
    let operator = app.token(&["acme"], Role::Operator);
    let refused = app
        .client
        .get(app.url("/v2/handles/acme/mail"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "admins only");

    // A GET (a scanner following the link) changes nothing.
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    tenx_shared::mail::enqueue(state.io(), payout("p2"))
        .await
        .unwrap();
    app.deliver_mail().await;
    assert_eq!(app.sent_mail().len(), 2, "still subscribed after the GET");
    // A forged token is refused in the envelope.
    let forged = path.replace("token=", "token=x");
    let resp = app.client.post(app.url(&forged)).send().await.unwrap();
    crate::helpers::assert_error(resp, 400, "invalid_request").await;
    // The one-click POST turns payout mail off for this address with acme.
    let done = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let id = tenx_shared::mail::enqueue(state.io(), payout("p3"))
        .await
        .unwrap();
    app.deliver_mail().await;
    assert_eq!(app.sent_mail().len(), 2, "no mail after unsubscribing");
    assert_eq!(record(&app, &id).await.status, MailStatus::Suppressed);

    // Suppressions: listed and lifted by an admin.
    tenx_shared::mail::suppressions::suppress_op(
        Some(&acme()),
        "hal@example.org",
        tenx_shared::mail::suppressions::Reason::Bounced,
        None,
    )
    .map(|op| async { app.store.write(op).await.unwrap() })
    .unwrap()
    .await;
    let url = app.url("/v2/handles/acme/mail/suppressions");
    let listed: serde_json::Value = app
        .client
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["email"], "hal@example.org", "{listed}");
    assert_eq!(listed["items"][0]["reason"], "bounced");
    let gone = app
        .client
        .delete(format!("{url}?email=hal@example.org"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let again = app
        .client
        .delete(format!("{url}?email=hal@example.org"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(again, 404, "not_found").await;
    let bad = app
        .client
        .delete(format!("{url}?email=%3Cscript%3E"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(bad, 400, "invalid_request").await;
}

/// Branding: validated when set (an https logo, #rrggbb, an address), then used by the mail.
#[tokio::test]
async fn branding_is_validated_and_brands_the_mail() {
    use tenx_shared::http::auth::Role;
    let (app, _switch) = spawn_with_failing_queue().await;
    let admin = app.token(&["acme"], Role::Admin);
    let url = app.url("/v2/handles/acme/branding");
    for (body, field) in [
        (
            json!({"name": "Acme", "logoUrl": "http://x.example/l.png"}),
            "logoUrl",
        ),
        (json!({"name": "Acme", "color": "red"}), "color"),
        (
            json!({"name": "Acme", "replyTo": "not an address"}),
            "replyTo",
        ),
        (json!({"name": ""}), "name"),
    ] {
        let resp = app
            .client
            .put(&url)
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = crate::helpers::assert_error(resp, 400, "invalid_request").await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let body = json!({"name": "Acme Shoes", "logoUrl": "https://acme.example/logo.png", "color": "#AA3300", "replyTo": "help@acme.example"});
    let resp = app
        .client
        .put(&url)
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got: serde_json::Value = app
        .client
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["color"], "#aa3300");
    tenx_shared::mail::enqueue(app.state().io(), sign_in("ivy@example.org", "b1"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = &app.sent_mail()[0];
    assert_eq!(mail.subject, "Sign in to Acme Shoes");
    assert_eq!(mail.reply_to.as_deref(), Some("help@acme.example"));
    assert!(mail.html.contains("#aa3300"));
}

/// `payout.paid` mails the partner's address (its record's) the amount, the reference and the
/// statement's link; the same event applied twice (an at-least-once consumer) mails once.
#[tokio::test]
async fn a_paid_payout_mails_its_partner_once() {
    use tenx_shared::http::auth::Role;
    use tenx_shared::kernel::consume::EventSink;
    use tenx_shared::kernel::events::{Event, EventType};
    let (app, _switch) = spawn_with_failing_queue().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "jo", "name": "Jo", "email": "jo@example.org"});
    let created = op.create_partner(&body).await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let paid = Event::untyped(
        EventType::PayoutPaid,
        &acme(),
        json!({"payoutId": "pay_0195570b8d3e7f1a2b4c6d8e0f1a2b3c", "partnerId": "jo",
            "amount": "14.00", "currency": "USD", "paidAt": "2026-11-26T10:00:00Z",
            "reference": "SEPA-1", "status": "paid"}),
    );
    let state = app.state();
    let sink = tenx_shared::mail::sink::MailSink;
    sink.apply(&state, std::slice::from_ref(&paid))
        .await
        .unwrap();
    sink.apply(&state, std::slice::from_ref(&paid))
        .await
        .unwrap();
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1, "once per event");
    let mail = &sent[0];
    assert_eq!(
        (mail.kind.as_str(), mail.to.as_str()),
        ("payout_sent", "jo@example.org")
    );
    assert_eq!(mail.subject, "Your payout of $14.00 was sent");
    assert!(mail.text.contains("Reference: SEPA-1"), "{}", mail.text);
    assert!(mail.text.contains("26 November 2026"), "{}", mail.text);
    assert!(
        mail.text
            .contains("/v2/handles/acme/payouts/pay_0195570b8d3e7f1a2b4c6d8e0f1a2b3c/statement")
    );
}

/// SES v2 on the emulator (moto, the AWS backend's runs only: it is about one engine): the mail
/// goes out as one raw message, read back through moto's own API (`/moto-api/data.json`, the
/// `ses` backend's `RawMessage`s) with its Message-ID and kind; a sender SES has not verified
/// is refused for good: the mail is `suppressed` with SES's words, nothing sent.
#[tokio::test]
async fn ses_sends_the_raw_message_and_a_refusal_suppresses() {
    if !crate::helpers::on_aws() {
        return;
    }
    let endpoint = crate::helpers::aws_endpoint();
    let domain = format!(
        "m{}.example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let client = tenx_shared::platform::http_client::builder()
        .build()
        .unwrap();
    let made = client
        .post(format!("{endpoint}/v2/email/identities"))
        .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x")
        .json(&json!({"EmailIdentity": domain}))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.text().await.unwrap());
    let mut config = test_config();
    config.mail.url = Some(tenx_shared::platform::mail::MailUrl::Ses {
        endpoint: Some(endpoint.clone()),
    });
    config.mail.from = Some(format!("mail@{domain}"));
    let (app, _switch) = spawn_with_failing_queue_config(config.clone()).await;
    let state = app.state();
    let to = format!("kim-{}@example.org", uuid::Uuid::new_v4().simple());
    let id = tenx_shared::mail::enqueue(state.io(), sign_in(&to, "ses-1"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Sent, "{rec:?}");
    assert!(
        rec.provider_id.is_some(),
        "SES's message id kept (its bounces name it)"
    );
    let data = moto_data(&client, &endpoint).await;
    let message_id = rec.message_id.clone().unwrap();
    let sent: Vec<&serde_json::Value> = data["ses"]["RawMessage"]
        .as_array()
        .expect("moto's sent messages")
        .iter()
        .filter(|m| m["raw_data"].as_str().unwrap_or("").contains(&message_id))
        .collect();
    assert_eq!(sent.len(), 1, "one message for one event");
    let raw = sent[0]["raw_data"].as_str().unwrap();
    let read = tenx_shared::platform::mail::read_message(raw.as_bytes()).unwrap();
    assert_eq!(
        (read.kind.as_str(), read.to.as_str()),
        ("sign_in", to.as_str())
    );
    assert_eq!(sent[0]["source"], format!("mail@{domain}"));

    // Another sender, never verified: SES rejects the message for good.
    let mut refused = config;
    refused.mail.from = Some("mail@unverified.example.net".into());
    let (other, _s) = spawn_with_failing_queue_config(refused).await;
    let id = tenx_shared::mail::enqueue(other.state().io(), sign_in(&to, "ses-2"))
        .await
        .unwrap();
    other.deliver_mail().await;
    let rec = record(&other, &id).await;
    assert_eq!(rec.status, MailStatus::Suppressed, "{rec:?}");
    assert!(rec.error.unwrap().contains("SES refused it"));
}

/// SES's bounce event, as SNS delivers it to the mail-events queue: the address is suppressed
/// (listed with the server's words), the message becomes `bounced`, and the next mail to the
/// address is not sent; the same event again changes nothing more.
#[tokio::test]
async fn an_ses_bounce_through_sns_suppresses_the_address_and_marks_the_mail_bounced() {
    let (app, _switch) = spawn_with_failing_queue().await;
    let state = app.state();
    let mut mail = sign_in("lou@example.org", "bounce-1");
    mail.kind = MailKind::Message;
    mail.data = json!({"from": "Acme", "body": "hello"});
    let id = tenx_shared::mail::enqueue(state.io(), mail.clone())
        .await
        .unwrap();
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Sent);
    let message_id = rec.message_id.unwrap();
    assert!(
        message_id.contains(".acme@"),
        "the handle rides in the Message-ID: {message_id}"
    );
    let ses = json!({
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "lou@example.org", "action": "failed",
                "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": "2026-11-26T10:00:00.000Z", "feedbackId": "0100-feedback"},
        "mail": {"timestamp": "2026-11-26T09:59:58.000Z", "source": "mail@localhost.localdomain",
            "messageId": "0100018c-ses-id", "destination": ["lou@example.org"],
            "commonHeaders": {"messageId": format!("<{message_id}>"), "subject": "A message from Acme"}}
    });
    let sns = json!({
        "Type": "Notification",
        "MessageId": "6f1c9a0e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:tenx-MailEvents",
        "Message": ses.to_string(),
        "Timestamp": "2026-11-26T10:00:01.000Z",
        "SignatureVersion": "1"
    });
    for _ in 0..2 {
        state
            .queue
            .send(
                tenx_shared::platform::queue::QueueName::MailEvents,
                vec![tenx_shared::platform::queue::OutMessage::now(
                    sns.to_string(),
                )],
            )
            .await
            .unwrap();
        tenx_shared::testing::mail::deliver_mail_events(&state).await;
    }
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Bounced, "{rec:?}");
    assert_eq!(rec.error.as_deref(), Some("smtp; 550 5.1.1 user unknown"));
    let listed = tenx_shared::mail::suppressions::list(app.store.as_ref(), &acme())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0].reason,
        tenx_shared::mail::suppressions::Reason::Bounced
    );
    mail.key = "bounce-2".into();
    let next = tenx_shared::mail::enqueue(state.io(), mail).await.unwrap();
    app.deliver_mail().await;
    assert_eq!(record(&app, &next).await.status, MailStatus::Suppressed);
    assert_eq!(
        app.sent_mail().len(),
        1,
        "nothing more sent to a bounced address"
    );
}

/// A real SMTP server (aiosmtpd, `scripts/smtp_server.py`) on a free loopback port, in `mode`,
/// writing what it receives to a directory; stopped when dropped (its stdin closes).
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    received: tempfile::TempDir,
}

impl SmtpServer {
    fn start(mode: &str) -> Self {
        use std::io::BufRead;
        let python = std::env::var("TENX_SMTP_PYTHON").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/smtp/bin/python").to_owned()
        });
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} is missing: run scripts/smtp_server.sh (it installs aiosmtpd from PyPI)"
        );
        let received = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp_server.py");
        let mut child = std::process::Command::new(python)
            .args([script, mode, received.path().to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting the SMTP server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Self {
            child,
            port,
            received,
        }
    }

    fn url(&self) -> tenx_shared::platform::mail::MailUrl {
        tenx_shared::platform::mail::MailUrl::parse(&format!("smtp://127.0.0.1:{}", self.port))
            .unwrap()
    }

    /// What the server received, each message's text.
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.received.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

async fn smtp_app(server: &SmtpServer) -> crate::helpers::TestApp {
    let mut config = test_config();
    config.mail.url = Some(server.url());
    config.mail.retry_base = Duration::ZERO;
    config.mail.attempts = 3;
    spawn_with_failing_queue_config(config).await.0
}

/// SMTP against a real server: the message arrives once with its Message-ID, kind and both
/// parts; a server that answers 550 suppresses the address; one that drops the connection is
/// retried, then the mail is `failed` with the error in words, never lost.
#[tokio::test]
async fn smtp_sends_to_a_real_server_and_handles_refusals_and_drops() {
    let server = SmtpServer::start("accept");
    let app = smtp_app(&server).await;
    let id = tenx_shared::mail::enqueue(app.state().io(), sign_in("max@example.org", "smtp-1"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Sent, "{rec:?}");
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let read = tenx_shared::platform::mail::read_message(got[0].as_bytes()).unwrap();
    assert_eq!(read.message_id, rec.message_id.unwrap());
    assert_eq!(
        (read.kind.as_str(), read.to.as_str()),
        ("sign_in", "max@example.org")
    );
    assert!(read.text.contains("token=smtp-1") && read.html.contains("token=smtp-1"));

    let refusing = SmtpServer::start("refuse");
    let app = smtp_app(&refusing).await;
    let id = tenx_shared::mail::enqueue(app.state().io(), sign_in("nia@example.org", "smtp-2"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(rec.status, MailStatus::Suppressed, "{rec:?}");
    assert!(
        rec.error.as_deref().unwrap_or("").contains("550"),
        "{rec:?}"
    );
    let listed = tenx_shared::mail::suppressions::list(app.store.as_ref(), &acme())
        .await
        .unwrap();
    assert_eq!(listed[0].email, "nia@example.org");
    assert_eq!(
        listed[0].reason,
        tenx_shared::mail::suppressions::Reason::Refused
    );

    let dropping = SmtpServer::start("drop");
    let app = smtp_app(&dropping).await;
    let id = tenx_shared::mail::enqueue(app.state().io(), sign_in("oz@example.org", "smtp-3"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let rec = record(&app, &id).await;
    assert_eq!(
        (rec.status, rec.attempts),
        (MailStatus::Failed, 3),
        "{rec:?}"
    );
    assert!(
        rec.error.as_deref().unwrap_or("").starts_with("not sent"),
        "{rec:?}"
    );
    assert!(dropping.messages().is_empty());
}

/// A day of 500 new commissions is one digest mail to the partner, sent once the day is over:
/// its count and total add up, a redelivered event is counted once, and sweeping again sends
/// nothing more.
#[tokio::test]
async fn five_hundred_commissions_of_a_day_are_one_digest_mail() {
    use tenx_shared::http::auth::Role;
    use tenx_shared::kernel::consume::EventSink;
    use tenx_shared::kernel::events::{Event, EventType};
    let (app, _switch) = spawn_with_failing_queue().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "pia", "name": "Pia", "email": "pia@example.org"});
    assert_eq!(op.create_partner(&body).await.status(), 201);
    let state = app.state();
    let events: Vec<Event> = (0..500)
        .map(|i| {
            Event::untyped(
                EventType::CommissionCreated,
                &acme(),
                json!({"commissionId": format!("com_{i}"), "partnerId": "pia",
                    "amount": "1.25", "currency": "USD", "status": "pending"}),
            )
        })
        .collect();
    let sink = tenx_shared::mail::sink::MailSink;
    for batch in events.chunks(100) {
        sink.apply(&state, batch).await.unwrap();
    }
    sink.apply(&state, &events[..3]).await.unwrap();
    let base = format!("http://{}", app.config.redirect_domain);
    let today = tenx_shared::platform::time::now().date();
    let swept = tenx_shared::mail::digest::sweep(state.io(), today, &base)
        .await
        .unwrap();
    assert_eq!(swept, 0, "not before the day is over");
    let tomorrow = today.next_day().unwrap();
    let swept = tenx_shared::mail::digest::sweep(state.io(), tomorrow, &base)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(
        tenx_shared::mail::digest::sweep(state.io(), tomorrow, &base)
            .await
            .unwrap(),
        0
    );
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1, "one mail for 500 commissions");
    assert_eq!(sent[0].kind, "commission_digest");
    assert_eq!(sent[0].to, "pia@example.org");
    assert_eq!(sent[0].subject, "500 new commissions from acme");
    assert!(sent[0].text.contains("$625.00"), "{}", sent[0].text);
}

/// `plan.changed` mails the partner the signed notice's words, its 30-day difference and the
/// link to its notices, once per notice.
#[tokio::test]
async fn a_plan_change_mails_its_notice_to_the_partner() {
    use tenx_shared::http::auth::Role;
    use tenx_shared::kernel::consume::EventSink;
    use tenx_shared::kernel::events::{Event, EventType};
    let (app, _switch) = spawn_with_failing_queue().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "quin", "name": "Quin", "email": "quin@example.org"});
    assert_eq!(op.create_partner(&body).await.status(), 201);
    let notice = Event::untyped(
        EventType::PlanChanged,
        &acme(),
        json!({"noticeId": "ntc_1", "partnerId": "quin", "planVersion": 3,
            "effectiveAt": "2026-12-01T00:00:00Z",
            "summary": "Was: 10 % of the value. Now: 15 % of the value.",
            "difference30d": {"currency": "EUR", "difference": "10.00", "actual": "20.00",
                "draft": "30.00", "conversions": 1, "from": "2026-10-27", "to": "2026-11-26"}}),
    );
    let sink = tenx_shared::mail::sink::MailSink;
    let state = app.state();
    sink.apply(&state, std::slice::from_ref(&notice))
        .await
        .unwrap();
    sink.apply(&state, std::slice::from_ref(&notice))
        .await
        .unwrap();
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];
    assert_eq!(mail.kind, "plan_notice");
    assert_eq!(
        mail.subject,
        "Your commission plan with acme changes on 1 December 2026"
    );
    assert!(
        mail.text.contains("Now: 15 % of the value."),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("€10.00 more"), "{}", mail.text);
    assert!(mail.text.contains("/v2/handles/acme/partners/quin/notices"));
}

/// The `path?query` of the first link in `text` that contains `route`.
fn link_path(text: &str, route: &str) -> String {
    let start = text.find(route).expect("the link");
    let end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '>')
        .map_or(text.len(), |n| start + n);
    text[start..end].to_owned()
}

/// Ria's payout method as an admin reads it.
async fn ria_method(app: &crate::helpers::TestApp) -> serde_json::Value {
    let admin = app.as_role("acme", tenx_shared::http::auth::Role::Admin);
    admin.payout_method("ria").await.json().await.unwrap()
}

/// `payout_method_changed` (issue 59): a change of payout details mails the partner's address
/// as it was at the change (an address changed right after does not get it), once; its "this
/// was not me" link shows a page on `GET` and changes nothing; a forged token, or one of
/// another keyring or another kind, is refused and changes nothing; the `POST` freezes the
/// partner's payouts: a batch leaves them out with `payout_method_disputed` in words, even once
/// the change is confirmed, until an admin (not an operator) unfreezes; then they go in.
#[tokio::test]
async fn a_payout_change_mails_the_old_address_and_this_was_not_me_freezes_payouts() {
    use crate::payout_batches::{DE_IBAN, ids, op, run, sepa};
    use crate::scenario::seed_amounts;
    use tenx_shared::http::auth::Role;
    let (app, _switch) = spawn_with_failing_queue().await;
    let operator = op(&app);
    let admin = app.as_role("acme", Role::Admin);
    let body = json!({"partnerId": "ria", "name": "Ria", "email": "ria@example.org"});
    assert_eq!(operator.create_partner(&body).await.status(), 201);
    let settings = json!({"debtorName": "ACME GmbH", "debtorIban": DE_IBAN});
    assert_eq!(admin.put_payout_settings(&settings).await.status(), 200);
    let first = operator
        .put_payout_method("ria", &sepa("Ria", DE_IBAN))
        .await;
    assert_eq!(first.status(), 201);
    app.deliver_mail().await;
    assert!(app.sent_mail().is_empty(), "a first setting is no change");

    let changed = operator
        .put_payout_method("ria", &sepa("Mallory", "FR14 2004 1010 0505 0001 3M02 606"))
        .await;
    assert_eq!(changed.status(), 200);
    let moved = json!({"email": "mallory@example.org"});
    assert_eq!(operator.update_partner("ria", &moved).await.status(), 200);
    app.deliver_mail().await;
    app.deliver_mail().await;
    let sent = app.sent_mail();
    // Each change once, to the address Ria had: her details', and her address's own.
    let mut told: Vec<(&str, &str)> = sent
        .iter()
        .map(|m| (m.kind.as_str(), m.to.as_str()))
        .collect();
    told.sort_unstable();
    assert_eq!(
        told,
        [
            ("partner_email_changed", "ria@example.org"),
            ("payout_method_changed", "ria@example.org")
        ],
        "once each: {sent:?}"
    );
    let mail = sent
        .iter()
        .find(|m| m.kind == "payout_method_changed")
        .unwrap();
    assert_eq!(mail.subject, "Your payout method with acme was changed");
    assert!(
        mail.text.contains("to a SEPA bank account"),
        "{}",
        mail.text
    );
    let path = link_path(&mail.text, "/v2/public/payout-dispute?token=");

    // A GET (a scanner) shows the button and changes nothing.
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("This was not me"));
    assert!(ria_method(&app).await.get("disputed").is_none());
    // Forged, foreign and other-kind tokens are refused and change nothing.
    let token = path.split_once("token=").unwrap().1;
    let (payload, tag) = token.split_once('~').unwrap();
    let foreign_keys =
        tenx_shared::domain::CtxKeyring::parse(&tenx_shared::domain::CtxKeyring::generate_spec())
            .unwrap();
    let foreign = tenx_shared::mail::dispute::token(
        &foreign_keys,
        &tenx_shared::mail::dispute::verify(app.state().ctx_keys().unwrap(), token).unwrap(),
    );
    let unsubscribe = mail.list_unsubscribe.clone().unwrap();
    let unsubscribe = unsubscribe
        .split_once("token=")
        .unwrap()
        .1
        .trim_end_matches('>');
    let other_partner = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"h":"acme","p":"other"}"#,
    );
    for bad in [
        format!("{other_partner}~{tag}"),
        format!("{payload}~{}", tag.replace(|c: char| c != 'A', "A")),
        foreign,
        unsubscribe.to_owned(),
        "not-a-token".to_owned(),
    ] {
        let url = app.url(&format!("/v2/public/payout-dispute?token={bad}"));
        let resp = app.client.post(url).send().await.unwrap();
        crate::helpers::assert_error(resp, 400, "invalid_request").await;
    }
    assert!(
        ria_method(&app).await.get("disputed").is_none(),
        "nothing frozen"
    );

    // The POST freezes; a second changes nothing more.
    for _ in 0..2 {
        let done = app.client.post(app.url(&path)).send().await.unwrap();
        assert_eq!(done.status(), 200);
    }
    assert!(ria_method(&app).await["disputed"]["at"].is_string());
    let audit = tenx_shared::payout_methods::changes(
        app.store.as_ref(),
        &acme(),
        &tenx_shared::domain::PartnerId::parse("ria").unwrap(),
        10,
    )
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["disputed", "changed"], "audited once");

    // Confirmed or not, the batch leaves Ria out, in words.
    let bea = crate::payout_batches::second_manager(&app);
    assert_eq!(bea.confirm_payout_method("ria").await.status(), 200);
    let sol = json!({"partnerId": "sol", "name": "Sol"});
    assert_eq!(operator.create_partner(&sol).await.status(), 201);
    let sol_method = operator
        .put_payout_method("sol", &sepa("Sol", DE_IBAN))
        .await;
    assert_eq!(sol_method.status(), 201);
    seed_amounts(&app, "ria", "EUR", &[1500]).await;
    seed_amounts(&app, "sol", "EUR", &[700]).await;
    let payouts = run(&app, "run-1").await;
    let payout = payouts[&("ria".into(), "EUR".into())].clone();
    let batch = operator
        .create_batch("b-1", &json!({"method": "sepa"}))
        .await;
    assert_eq!(batch.status(), 201);
    let batch: serde_json::Value = batch.json().await.unwrap();
    assert_eq!(
        ids(&batch),
        [payouts[&("sol".into(), "EUR".into())].clone()]
    );
    assert_eq!(batch["excluded"][0]["partnerId"], "ria", "{batch}");
    assert_eq!(batch["excluded"][0]["reason"], "payout_method_disputed");
    let words = batch["excluded"][0]["words"].as_str().unwrap();
    assert!(words.contains("was not theirs"), "{words}");
    assert!(words.contains("until an admin lifts the freeze"), "{words}");
    let named = json!({"method": "sepa", "payoutIds": [payout]});
    let named = operator.create_batch("b-2", &named).await;
    let named = crate::payout_batches::error_message(named, 400).await;
    assert!(named.contains("payout_method_disputed"), "{named}");

    // Only an admin unfreezes, once; then the payout goes in.
    let refused = operator.unfreeze_payout_method("ria").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(admin.unfreeze_payout_method("ria").await.status(), 200);
    let again = admin.unfreeze_payout_method("ria").await;
    crate::helpers::assert_error(again, 409, "invalid_state").await;
    let batch = operator
        .create_batch("b-3", &json!({"method": "sepa"}))
        .await;
    let batch: serde_json::Value = batch.json().await.unwrap();
    assert_eq!(ids(&batch), [payout], "{batch}");
    app.deliver_mail().await;
    assert_eq!(app.sent_mail().len(), 2, "still one mail of each change");
}

/// moto's dump of every backend (`/moto-api/data.json`). It serializes all of moto's state at
/// once, so while other tests create tables and queues on the same server it can answer an
/// error instead of JSON: read it again (a read, never the thing under test).
async fn moto_data(client: &reqwest::Client, endpoint: &str) -> serde_json::Value {
    crate::helpers::eventually_or("moto's data.json to answer JSON", || async {
        let resp = client
            .get(format!("{endpoint}/moto-api/data.json"))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        match serde_json::from_str(&body) {
            Ok(data) if status.is_success() => Ok(data),
            _ => Err(format!(
                "{status}: {}",
                body.chars().take(300).collect::<String>()
            )),
        }
    })
    .await
}

/// `partner_email_changed`: a manager's change of a partner's address mails the address it
/// had, in words, with the partner's portal; the new address is not told of it, and a change
/// of the name alone mails nothing.
#[tokio::test]
async fn a_managers_change_of_a_partners_address_is_mailed_to_the_address_it_had() {
    use tenx_shared::http::auth::Role;
    let (app, _switch) = spawn_with_failing_queue().await;
    let operator = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "ria", "name": "Ria", "email": "ria@example.org"});
    assert_eq!(operator.create_partner(&body).await.status(), 201);
    let renamed = json!({"name": "Ria R."});
    assert_eq!(operator.update_partner("ria", &renamed).await.status(), 200);
    app.deliver_mail().await;
    assert!(app.sent_mail().is_empty(), "a new name tells nobody");

    let moved = json!({"email": "mallory@example.org"});
    assert_eq!(operator.update_partner("ria", &moved).await.status(), 200);
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), 1, "once: {sent:?}");
    let mail = &sent[0];
    assert_eq!(
        (mail.kind.as_str(), mail.to.as_str()),
        ("partner_email_changed", "ria@example.org")
    );
    assert_eq!(
        mail.subject,
        "The email address of your partner account with acme was changed"
    );
    assert!(mail.text.contains("Hello Ria R.,"), "{}", mail.text);
    assert!(mail.text.contains("before the change"), "{}", mail.text);
    assert!(mail.text.contains("/portal/acme"), "{}", mail.text);
}
