//! Every kind of mail (issue 59) sent through the worker with its sender's fields
//! (`mail::preview::samples`), each link of each mail followed as a reader's browser (or a mail
//! scanner) would: every link answers (a page, or the API's envelope asking for the reader's
//! credential), never a 404 or a 5xx, and following them changes nothing. The screenshots of
//! the same samples at 390 px are `scripts/mail_screenshots.py`'s (docs/mail/).

use serde_json::json;
use tenx_shared::domain::email::Email;
use tenx_shared::mail::{MailKind, MailStatus, Outgoing};

use crate::helpers::{acme, spawn_with_failing_queue_config, test_config};

const BASE: &str = "https://mail.example";

/// The hrefs of an HTML part (the template escapes `/` and `&`).
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x2f;", "/").replace("&amp;", "&"))
        .collect()
}

/// A link's path and query on the test's server (every link is absolute to one origin).
fn on_app(link: &str) -> String {
    let url = url::Url::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

#[tokio::test]
async fn every_kind_is_sent_and_each_of_its_links_answers_a_get_that_changes_nothing() {
    // Every kind twice to one address: over the default 20 an hour.
    let mut config = test_config();
    config.mail.per_recipient_hour = 100;
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    let state = app.state();
    let samples = tenx_shared::mail::preview::samples(BASE, &acme());
    assert_eq!(samples.len(), MailKind::ALL.len(), "a sample of every kind");
    let to = Email::parse("to", "ana@example.org").unwrap();
    let mut ids = Vec::new();
    for (kind, data) in &samples {
        let mail = Outgoing {
            handle: Some(acme()),
            to: to.clone(),
            kind: *kind,
            key: format!("preview-{}", kind.as_str()),
            data: data.clone(),
        };
        ids.push(tenx_shared::mail::enqueue(state.io(), mail).await.unwrap());
    }
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), samples.len(), "every kind sent");

    let mut answers = Vec::new();
    for mail in &sent {
        let links = hrefs(&mail.html);
        assert!(!links.is_empty(), "{}: no link", mail.kind);
        for link in links {
            assert!(
                link.starts_with(BASE) || link.contains("/v2/public/"),
                "{}: {link} is not absolute to the handle's console or portal",
                mail.kind
            );
            let path = on_app(&link);
            // Twice: a link that did something on a GET would answer otherwise the second time.
            let first = app.client.get(app.url(&path)).send().await.unwrap();
            let status = first.status().as_u16();
            let again = app.client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(again.status().as_u16(), status, "{}: {path}", mail.kind);
            assert!(
                status == 200 || status == 401,
                "{}: GET {path} answered {status}",
                mail.kind
            );
            answers.push((mail.kind.clone(), path, status));
        }
    }
    // The pages a reader lands on answer 200: the console, the portal, the program's page, the
    // sign-in page, the unsubscribe and the "this was not me" pages. The API's own resources
    // (a statement, the notices, the commissions) ask for the reader's credential.
    for (kind, path, status) in &answers {
        let page = !path.starts_with("/v2/handles/");
        assert_eq!(*status == 200, page, "{kind}: {path} answered {status}");
    }
    let unsubscribes = answers
        .iter()
        .filter(|(_, p, _)| p.starts_with("/v2/public/unsubscribe"))
        .count();
    let unsubscribable = MailKind::ALL.iter().filter(|k| k.unsubscribable()).count();
    assert_eq!(unsubscribes, unsubscribable, "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|(_, p, _)| p.starts_with("/v2/public/payout-dispute")),
        "{answers:?}"
    );

    // Nothing changed: every kind mails again (no preference turned off by a GET).
    for (kind, data) in &samples {
        let mail = Outgoing {
            handle: Some(acme()),
            to: to.clone(),
            kind: *kind,
            key: format!("again-{}", kind.as_str()),
            data: data.clone(),
        };
        ids.push(tenx_shared::mail::enqueue(state.io(), mail).await.unwrap());
    }
    app.deliver_mail().await;
    for id in &ids {
        let (rec, _) = tenx_shared::mail::get(app.store.as_ref(), Some(&acme()), id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            rec.status,
            MailStatus::Sent,
            "{:?}: {:?}",
            rec.kind,
            rec.error
        );
    }
    // Nor was a payout frozen by the "this was not me" page.
    let method = app
        .client
        .get(app.url("/v2/handles/acme/partners/ana/payout-method"))
        .bearer_auth(app.token(&["acme"], tenx_shared::http::auth::Role::Admin))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = method.json().await.unwrap_or(json!({}));
    assert!(body.get("disputed").is_none(), "{body}");
}
