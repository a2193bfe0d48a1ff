//! Mail in the handle's locale (issue 59): a branding setting, validated where it is set, and
//! used for the amounts and dates of the mail the worker renders.

use serde_json::json;
use tenx_shared::domain::email::Email;
use tenx_shared::http::auth::Role;
use tenx_shared::mail::{MailKind, Outgoing};

use crate::helpers::{acme, spawn_with_failing_queue};

fn payout(key: &str) -> Outgoing {
    Outgoing {
        handle: Some(acme()),
        to: Email::parse("to", "lu@example.org").unwrap(),
        kind: MailKind::PayoutSent,
        key: key.into(),
        data: json!({"partnerName": "Lu", "amount": "1234.5", "currency": "EUR",
            "paidAt": "2026-03-05T10:00:00Z", "statementUrl": "https://console.example/s/1"}),
    }
}

/// The sent message of the mail `id` (the Message-ID starts with it).
pub(crate) fn sent(
    app: &crate::helpers::TestApp,
    id: &tenx_shared::mail::MailId,
) -> tenx_shared::testing::mail::SentMail {
    app.sent_mail()
        .into_iter()
        .find(|m| m.message_id.starts_with(id.as_str()))
        .unwrap_or_else(|| panic!("no mail {id} was sent"))
}

/// English until set; an unknown locale is refused naming the field and the ones there are;
/// `de` and `fr` write the next mail's amount and date their way (subject, text and HTML).
#[tokio::test]
async fn the_handle_locale_writes_amounts_and_dates_and_an_unknown_one_is_refused() {
    let (app, _switch) = spawn_with_failing_queue().await;
    let admin = app.token(&["acme"], Role::Admin);
    let url = app.url("/v2/handles/acme/branding");
    let put = |body: serde_json::Value| app.client.put(&url).bearer_auth(&admin).json(&body).send();
    let io = app.state();

    let id = tenx_shared::mail::enqueue(io.io(), payout("en"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = sent(&app, &id);
    assert_eq!(mail.subject, "Your payout of €1,234.50 was sent");
    assert!(mail.text.contains("on 5 March 2026"), "{}", mail.text);

    for bad in ["xx", "", "english", "de-AT", "DE"] {
        let resp = put(json!({"name": "Acme", "locale": bad})).await.unwrap();
        let message = crate::helpers::assert_error(resp, 400, "invalid_request").await;
        assert!(message.contains("locale"), "{bad}: {message}");
        assert!(message.contains("en, de, fr"), "{bad}: {message}");
    }

    let resp = put(json!({"name": "Acme", "locale": "de"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    let got: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(got["locale"], "de");
    let id = tenx_shared::mail::enqueue(io.io(), payout("de"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = sent(&app, &id);
    assert_eq!(mail.subject, "Your payout of 1.234,50\u{a0}€ was sent");
    assert!(mail.text.contains("on 5. März 2026"), "{}", mail.text);
    assert!(mail.html.contains("lang=\"de\""), "{}", mail.html);

    let resp = put(json!({"name": "Acme", "locale": "fr"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    let id = tenx_shared::mail::enqueue(io.io(), payout("fr"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = sent(&app, &id);
    assert_eq!(
        mail.subject,
        "Your payout of 1\u{202f}234,50\u{a0}€ was sent"
    );
    assert!(mail.text.contains("on 5 mars 2026"), "{}", mail.text);

    // Absent again: English.
    let resp = put(json!({"name": "Acme"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    let id = tenx_shared::mail::enqueue(io.io(), payout("back"))
        .await
        .unwrap();
    app.deliver_mail().await;
    let mail = sent(&app, &id);
    assert_eq!(mail.subject, "Your payout of €1,234.50 was sent");
}
