//! Payouts sent through PayPal Payouts (issue 78), exactly once, against the local PayPal of
//! `scripts/provider_server.py`: a run hands a PayPal partner's payout over (`sending`), the
//! sweeper's step sends it (never the request); two workers racing, a redelivery, a lost
//! answer and a provider error send ONE batch (the provider's own counters say so); the payout
//! is `paid` only on PayPal's word, and a failed payment puts its lines back on the partner's
//! balance with the reason in words. Steps are driven by hand (`payouts::send::advance` at a
//! chosen time) so each fault lands where the test says.

use std::time::Duration;

use serde_json::{Value, json};
use tenx_shared::domain::{Handle, PayoutId};
use tenx_shared::http::auth::Role;
use tenx_shared::payouts::send::{self, Step};

use crate::helpers::{TestApp, eventually_or, header_str, json_of, spawn_with, test_config};
use crate::provider_server::ProviderServer;
use crate::scenario::{Program, seed_lines};
use crate::webhooks::{Receiver, subscribe};

const CLIENT: &str = "AbCdEf-local-client";
const SECRET: &str = "EFgh-local-secret-0000TaIl";

/// The app pointed at `server`, its sweeper quiet (the test takes each step), PayPal connected,
/// and partner `pub-one` paid by PayPal.
async fn paypal_app(server: &ProviderServer) -> TestApp {
    let app = spawn_with(paypal_config(server).await, None).await;
    let method = json!({"type": "paypal", "email": "one@example.com"});
    paypal_partner(&app, &method).await;
    app
}

/// The configuration pointing at `server` (which takes the program's PayPal credentials), its
/// sweeper quiet.
async fn paypal_config(server: &ProviderServer) -> tenx_shared::platform::config::Config {
    server
        .control(
            "config",
            Some(json!({"paypal_client_id": CLIENT, "paypal_client_secret": SECRET})),
        )
        .await;
    provider_config(server)
}

/// The configuration pointing PayPal and Stripe at `server`, its sweeper quiet (the test takes
/// each step).
fn provider_config(server: &ProviderServer) -> tenx_shared::platform::config::Config {
    let mut config = test_config();
    config.stripe_api_base = server.base.clone();
    config.paypal_api_base = server.base.clone();
    config.outbox_sweep_interval = Duration::from_secs(3_600);
    config.webhooks_allow_private = true;
    config
}

/// PayPal connected to `app`, and partner `pub-one` paid by `method` from the start.
async fn paypal_partner(app: &TestApp, method: &Value) {
    let admin = app.as_role("acme", Role::Admin);
    let paypal = json!({"clientId": CLIENT, "clientSecret": SECRET, "webhookId": "WH1"});
    let r = admin
        .send_json(reqwest::Method::PUT, "/payout-providers/paypal", &paypal)
        .await;
    json_of(r, 201).await;
    Program::on(app, "acme")
        .mailed_partner("pub-one", "Publisher One", "one@example.com")
        .await
        .payout_method("pub-one", method)
        .await;
}

/// A run paying `pub-one` 12.00 EUR: its payout, as the run answers it.
async fn run(app: &TestApp, key: &str) -> Value {
    seed_lines(app, "pub-one", 1, 1_200).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let made = json_of(op.run_payouts(key, &body).await, 201).await;
    made["payouts"][0].clone()
}

/// A run's one payout, sent to PayPal by a sweeper step: its id and PayPal's batch id.
async fn sent(app: &TestApp, key: &str) -> (String, String) {
    let id = run(app, key).await["payoutId"].as_str().unwrap().to_owned();
    let Step::Sent(batch) = step(app, &id, now()).await else {
        panic!("not sent")
    };
    (id, batch)
}

async fn payout(app: &TestApp, id: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    json_of(op.get(&format!("/payouts/{id}")).await, 200).await
}

async fn step(app: &TestApp, id: &str, at_ms: i64) -> Step {
    let state = app.state();
    let sender = tenx_shared::runtime::workers::sweeper::payout_sender(&state);
    let handle = Handle::parse("acme").unwrap();
    send::advance(sender, &handle, &PayoutId::parse(id).unwrap(), at_ms)
        .await
        .unwrap()
}

fn now() -> i64 {
    tenx_shared::platform::time::now_millis()
}

async fn paypal_counter(server: &ProviderServer, name: &str) -> i64 {
    server.counters().await["paypal"][name].as_i64().unwrap()
}

#[tokio::test]
async fn racing_workers_and_a_redelivery_send_one_batch_and_only_paypal_s_word_pays() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let hooks = Receiver::start().await;
    subscribe(&app, &hooks.url("/hooks"), &["payout.sent", "payout.paid"]).await;
    let made = run(&app, "run-1").await;
    assert_eq!(made["status"], "sending", "{made}");
    assert_eq!(made["provider"]["name"], "paypal");
    let id = made["payoutId"].as_str().unwrap().to_owned();
    // The request sent nothing: the money leaves from a worker.
    assert_eq!(paypal_counter(&server, "batches_created").await, 0);

    // Two workers at once: one takes the lease and sends, the other does nothing.
    let at = now();
    let (a, b) = tokio::join!(step(&app, &id, at), step(&app, &id, at));
    let sent = [&a, &b]
        .iter()
        .filter(|s| matches!(s, Step::Sent(_)))
        .count();
    assert_eq!(sent, 1, "{a:?} {b:?}");
    assert!(
        matches!(a, Step::Busy) || matches!(b, Step::Busy),
        "{a:?} {b:?}"
    );
    // A redelivery: the payment is at PayPal, so it is polled, not sent again.
    let again = step(&app, &id, at + 3_600_000).await;
    assert!(matches!(again, Step::Waiting(_)), "{again:?}");
    // Polled every few minutes, not every sweep.
    assert_eq!(step(&app, &id, at + 3_600_000 + 1_000).await, Step::Busy);
    assert_eq!(paypal_counter(&server, "batches_created").await, 1);

    let view = payout(&app, &id).await;
    assert_eq!(view["status"], "sending", "not paid before PayPal says so");
    let batch = view["provider"]["reference"].as_str().unwrap().to_owned();
    assert!(
        view["provider"]["state"]
            .as_str()
            .unwrap()
            .contains("PayPal"),
        "{view}"
    );

    let settled = json!({"status": "SUCCESS"});
    server
        .control(&format!("paypal/batches/{batch}/settle"), Some(settled))
        .await;
    // Polled again once its wait is over (the last poll found it pending).
    assert_eq!(
        step(&app, &id, at + 2 * 3_600_000).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    let view = payout(&app, &id).await;
    assert_eq!(view["status"], "paid", "{view}");
    assert_eq!(view["reference"], batch.as_str());
    // Settled: a later step finds nothing to do and sends nothing.
    assert_eq!(step(&app, &id, now() + 86_400_000).await, Step::Gone);
    assert_eq!(paypal_counter(&server, "batches_created").await, 1);

    let op = app.as_role("acme", Role::Operator);
    for action in ["payout.sending", "payout.sent", "payout.provider_paid"] {
        let log = json_of(op.get(&format!("/audit?action={action}")).await, 200).await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1, "{action}: {log}");
    }
    // The program's webhooks heard it sent, then paid: once each, despite the race.
    let heard: Vec<Value> = hooks
        .wait_for("/hooks", 2)
        .await
        .iter()
        .map(|c| serde_json::from_slice(&c.body).unwrap())
        .collect();
    let types: Vec<&str> = heard.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["payout.sent", "payout.paid"], "{heard:?}");
    assert_eq!(heard[0]["data"]["provider"]["reference"], batch.as_str());
    assert_eq!(hooks.distinct_ids("/hooks"), 2);
}

#[tokio::test]
async fn a_lost_answer_and_a_provider_error_are_resent_as_the_same_batch() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let id = run(&app, "run-1").await["payoutId"]
        .as_str()
        .unwrap()
        .to_owned();
    // PayPal makes the batch, then the connection closes without an answer.
    let lost = json!({"route": "POST /v1/payments/payouts", "fault": "lost_answer", "count": 1});
    server.control("faults", Some(lost)).await;
    let at = now();
    let first = step(&app, &id, at).await;
    assert!(matches!(first, Step::Retry(_)), "{first:?}");
    assert_eq!(paypal_counter(&server, "batches_created").await, 1);
    // The manager reads why it has not left: PayPal did not answer, tried again by itself.
    let waiting = payout(&app, &id).await["waiting"].clone();
    assert_eq!(
        (&waiting["state"], &waiting["attempts"]),
        (&json!("retrying"), &json!(1)),
        "{waiting}"
    );
    assert!(waiting.get("reason").is_none(), "{waiting}");
    assert!(
        waiting["words"].as_str().unwrap().contains("PayPal"),
        "{waiting}"
    );
    // The retry waits its turn.
    assert_eq!(step(&app, &id, at + 1_000).await, Step::Busy);
    // Then a 500: tried again later.
    let error = json!({"route": "POST /v1/payments/payouts", "fault": "500", "count": 1});
    server.control("faults", Some(error)).await;
    let second = step(&app, &id, at + 120_000).await;
    assert!(matches!(second, Step::Retry(_)), "{second:?}");
    // The resend is refused as a duplicate, linking the batch made the first time: recorded.
    let third = step(&app, &id, at + 600_000).await;
    let Step::Sent(batch) = third else {
        panic!("{third:?}")
    };
    assert_eq!(paypal_counter(&server, "batches_created").await, 1);
    assert_eq!(
        paypal_counter(&server, "duplicate_batches_refused").await,
        1
    );
    assert_eq!(
        payout(&app, &id).await["provider"]["reference"],
        batch.as_str()
    );
}

#[tokio::test]
async fn a_failed_payment_puts_the_amount_back_with_the_reason_in_words() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let hooks = Receiver::start().await;
    subscribe(&app, &hooks.url("/hooks"), &["payout.failed"]).await;
    let (id, batch) = sent(&app, "run-1").await;
    let failed = json!({"status": "FAILED", "error": "RECEIVER_ACCOUNT_LOCKED"});
    server
        .control(&format!("paypal/batches/{batch}/settle"), Some(failed))
        .await;
    let settled = step(&app, &id, now()).await;
    assert_eq!(
        settled,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Failed)
    );
    let view = payout(&app, &id).await;
    assert_eq!(view["status"], "failed", "{view}");
    let heard = hooks.wait_for("/hooks", 1).await;
    let failed: Value = serde_json::from_slice(&heard[0].body).unwrap();
    assert_eq!(failed["type"], "payout.failed");
    assert_eq!(failed["data"]["reason"], view["reason"]);
    assert!(
        view["reason"]
            .as_str()
            .unwrap()
            .contains("PayPal account is locked"),
        "{view}"
    );
    // The 12.00 is back on the balance: the next run pays it again (a new payout, the failed
    // one's statement untouched).
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let again = json_of(op.run_payouts("run-2", &body).await, 201).await;
    let next = &again["payouts"][0];
    assert_eq!(next["amount"], "12.00", "{again}");
    assert_ne!(next["payoutId"], id.as_str());
    assert_eq!(payout(&app, &id).await["status"], "failed");
    // The partner is told, in words, once (its subject is written when the worker sends it).
    let admin = app.as_role("acme", Role::Admin);
    let returned = eventually_or("the payout_returned mail sent", || async {
        let mail = json_of(admin.get("/mail").await, 200).await;
        let returned: Vec<Value> = mail["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "payout_returned")
            .cloned()
            .collect();
        if returned.iter().all(|m| m["subject"].is_string()) && !returned.is_empty() {
            Ok(returned)
        } else {
            Err(format!("{returned:?}"))
        }
    })
    .await;
    assert_eq!(returned.len(), 1, "{returned:?}");
    assert_eq!(returned[0]["to"], "one@example.com");
    let subject = returned[0]["subject"].as_str().unwrap_or_default();
    assert!(subject.contains("did not reach you"), "{returned:?}");
}

#[tokio::test]
async fn a_method_changed_before_the_first_attempt_sends_nothing() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let id = run(&app, "run-1").await["payoutId"]
        .as_str()
        .unwrap()
        .to_owned();
    let op = app.as_role("acme", Role::Operator);
    let other = json!({"type": "paypal", "email": "someone-else@example.com"});
    json_of(op.put_payout_method("pub-one", &other).await, 200).await;
    let settled = step(&app, &id, now()).await;
    assert_eq!(
        settled,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Failed)
    );
    let view = payout(&app, &id).await;
    assert!(
        view["reason"]
            .as_str()
            .unwrap()
            .contains("changed its payout method"),
        "{view}"
    );
    assert_eq!(paypal_counter(&server, "batches_created").await, 0);
}

/// Waits for the payout to reach `status`.
async fn until_status(app: &TestApp, id: &str, status: &str) -> Value {
    eventually_or(&format!("payout {id} to become {status}"), || async {
        let view = payout(app, id).await;
        if view["status"] == status {
            Ok(view)
        } else {
            Err(view.to_string())
        }
    })
    .await
}

/// A batch made at PayPal by someone else (another tool of the merchant's), under a
/// `sender_batch_id` that names no payout of 10x: its events reach the endpoint too.
async fn foreign_batch(server: &ProviderServer) -> String {
    let client = tenx_shared::platform::http_client::builder()
        .build()
        .unwrap();
    let token: Value = client
        .post(format!("{}/v1/oauth2/token", server.base))
        .basic_auth(CLIENT, Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let batch = json!({
        "sender_batch_header": {"sender_batch_id": "other-tool-7", "recipient_type": "EMAIL"},
        "items": [{"amount": {"value": "5.00", "currency": "EUR"}, "receiver": "x@example.com"}],
    });
    let made: Value = client
        .post(format!("{}/v1/payments/payouts", server.base))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    made["batch_header"]["payout_batch_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn paypal_s_verified_webhook_pays_once_and_a_forged_or_foreign_one_changes_nothing() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let hook = json!({"provider": "paypal", "webhook_id": "WH1",
                      "url": app.url("/v2/public/integrations/paypal/acme")});
    server.control("webhooks", Some(hook)).await;
    // Every event delivered twice, and held to be delivered newest first.
    let faults = json!({"provider": "paypal", "duplicate": 10, "out_of_order": 2});
    server.control("webhooks/faults", Some(faults)).await;
    let (id, batch) = sent(&app, "run-1").await;
    let settled = json!({"status": "SUCCESS"});
    server
        .control(&format!("paypal/batches/{batch}/settle"), Some(settled))
        .await;
    server.control("webhooks/flush", Some(json!({}))).await;
    // Paid by the webhook alone: no step polls here.
    let view = until_status(&app, &id, "paid").await;
    assert_eq!(view["reference"], batch.as_str());
    let op = app.as_role("acme", Role::Operator);
    let log = json_of(op.get("/audit?action=payout.provider_paid").await, 200).await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "paid once, whatever the deliveries: {log}");
    assert_eq!(
        items[0]["actor"],
        json!({"type": "provider", "id": "paypal"})
    );

    // A foreign batch's events are verified, logged and ignored.
    let other = foreign_batch(&server).await;
    let done = json!({"status": "SUCCESS"});
    server
        .control(&format!("paypal/batches/{other}/settle"), Some(done))
        .await;
    server.control("webhooks/flush", Some(json!({}))).await;
    // The foreign events' deliveries answered (each is verified with PayPal first: slower on
    // the AWS engine's emulator than a fixed pause).
    let deliveries = until_deliveries(&server, |all| all.len() >= 4).await;
    let attempts = deliveries.as_array().unwrap();
    assert!(attempts.len() >= 4, "{deliveries}");
    for a in attempts {
        assert_eq!(a["status"], 200, "{a}");
    }

    // Deliveries without PayPal's headers, or naming a certificate PayPal does not serve, are
    // refused before PayPal is asked: the program's PayPal app spends no call on them.
    let tokens = || async { server.counters().await["paypal"]["tokens_issued"].as_i64() };
    let tokens_before = tokens().await;
    let body = json!({"event_type": "PAYMENT.PAYOUTS-ITEM.FAILED",
                      "resource": {"sender_batch_id": id, "transaction_status": "FAILED"}});
    for (n, cert) in [
        None,
        Some("https://paypal.com.example.net/v1/notifications/certs/CERT"),
        Some("http://api.paypal.com/v1/notifications/certs/CERT"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut request = app
            .client
            .post(app.url("/v2/public/integrations/paypal/acme"))
            .json(&body);
        if let Some(cert) = cert {
            request = request
                .header("paypal-transmission-id", format!("refused-{n}"))
                .header("paypal-transmission-time", "2026-11-27T10:00:00Z")
                .header("paypal-transmission-sig", "AAAA")
                .header("paypal-cert-url", cert)
                .header("paypal-auth-algo", "SHA256withRSA");
        }
        let refused = request.send().await.unwrap();
        crate::helpers::assert_error(refused, 400, "invalid_signature").await;
    }
    // PayPal's verifications asked about a transmission id (its requests' log).
    let verifications_of = |transmission: &'static str| {
        let server = &server;
        async move {
            let requests = server.control("requests", None).await;
            let all = requests.as_array().unwrap().iter();
            all.filter(|r| {
                r["route"] == "POST /v1/notifications/verify-webhook-signature"
                    && r["body"]
                        .as_str()
                        .is_some_and(|b| b.contains(&format!("\"{transmission}\"")))
            })
            .count()
        }
    };
    for n in ["refused-1", "refused-2"] {
        assert_eq!(verifications_of(n).await, 0, "PayPal never asked about {n}");
    }

    // A forged delivery (headers PayPal never sent) is refused and changes nothing; PayPal
    // is asked once, with the token the process keeps.
    let forged = app
        .client
        .post(app.url("/v2/public/integrations/paypal/acme"))
        .header("paypal-transmission-id", "not-sent-by-paypal")
        .header("paypal-transmission-time", "2026-11-27T10:00:00Z")
        .header("paypal-transmission-sig", "AAAA")
        .header(
            "paypal-cert-url",
            "https://api.paypal.com/v1/notifications/certs/CERT",
        )
        .header("paypal-auth-algo", "SHA256withRSA")
        .json(&json!({"event_type": "PAYMENT.PAYOUTS-ITEM.FAILED",
                      "resource": {"sender_batch_id": id, "transaction_status": "FAILED"}}))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(forged, 400, "invalid_signature").await;
    assert_eq!(payout(&app, &id).await["status"], "paid");
    assert_eq!(verifications_of("not-sent-by-paypal").await, 1);
    assert_eq!(
        tokens().await,
        tokens_before,
        "with the token the process keeps"
    );
    // A handle without PayPal connected answers exactly the same.
    let elsewhere = app
        .client
        .post(app.url("/v2/public/integrations/paypal/other-co"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(elsewhere, 400, "invalid_signature").await;
}

/// Waits until `pred` holds of the provider server's webhook deliveries (each answered).
async fn until_deliveries(server: &ProviderServer, pred: impl Fn(&[Value]) -> bool) -> Value {
    eventually_or("the deliveries", || async {
        let deliveries = server.control("webhooks/deliveries", None).await;
        if pred(deliveries.as_array().unwrap()) {
            Ok(deliveries)
        } else {
            Err(deliveries.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn a_returned_payout_s_invoice_is_cancelled_by_one_credit_note_however_often_it_is_told() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    crate::tax_forms::self_billing(&app).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let accept = "/partners/pub-one/self-billing/accept";
    json_of(
        one.send_json(reqwest::Method::POST, accept, &json!({}))
            .await,
        200,
    )
    .await;
    let hook = json!({"provider": "paypal", "webhook_id": "WH1",
                      "url": app.url("/v2/public/integrations/paypal/acme")});
    server.control("webhooks", Some(hook)).await;
    let (id, batch) = sent(&app, "run-1").await;
    let settle = format!("paypal/batches/{batch}/settle");
    server
        .control(&settle, Some(json!({"status": "SUCCESS"})))
        .await;
    until_status(&app, &id, "paid").await;
    let op = app.as_role("acme", Role::Operator);
    let (invoice, note) = (
        format!("/payouts/{id}/invoice?format=pdf"),
        format!("/payouts/{id}/credit-note?format=pdf"),
    );
    let first = op.get(&invoice).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        header_str(first.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    assert!(first.headers().get("x-credit-note-number").is_none());
    // Paid and not given back: no credit note, in words.
    let m = crate::helpers::assert_error(op.get(&note).await, 409, "invalid_state").await;
    assert!(m.contains("was not given back"), "{m}");

    // PayPal refunds the payment after it was paid, and says so twice.
    let twice = json!({"provider": "paypal", "duplicate": 1});
    server.control("webhooks/faults", Some(twice)).await;
    server
        .control(&settle, Some(json!({"status": "REFUNDED"})))
        .await;
    until_deliveries(&server, |all| {
        all.iter()
            .filter(|d| d["type"] == "PAYMENT.PAYOUTS-ITEM.REFUNDED" && d["status"] == 200)
            .count()
            >= 2
    })
    .await;
    let log = json_of(op.get("/audit?action=invoice.credited").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let resp = op.get(&note).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "application/pdf"
    );
    assert_eq!(
        header_str(resp.headers(), "x-invoice-number"),
        "pub-one-CN-00001"
    );
    let text = crate::tax_forms::pdf_text(&resp.bytes().await.unwrap());
    // The invoice is unchanged and names its credit note; the note cancels it, amounts negated.
    let again = op.get(&invoice).await;
    assert_eq!(
        header_str(again.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    assert_eq!(
        header_str(again.headers(), "x-credit-note-number"),
        "pub-one-CN-00001"
    );
    let statement = json_of(op.statement(&id, "json").await, 200).await;
    for line in statement["lines"].as_array().unwrap() {
        let lid = line["commissionId"].as_str().unwrap();
        let row = text
            .lines()
            .find(|l| l.contains(lid))
            .unwrap_or_else(|| panic!("{lid}: {text}"));
        let negated = format!("-{}", line["amount"].as_str().unwrap());
        assert!(row.contains(&negated) && row.contains("EUR"), "{row}");
    }
    let total = text
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .unwrap();
    assert!(total.contains("-12.00") && total.contains("EUR"), "{total}");
    for words in [
        "Acme Shoes",
        "Self-billing credit note",
        "pub-one-CN-00001",
        "Cancels invoice",
        "pub-one-00001",
        "Acme GmbH",
        "Publisher One",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    // The partner reads its own; a credit note is a PDF only.
    assert_eq!(one.get(&note).await.status(), 200);
    crate::helpers::assert_error(
        op.get(&format!("/payouts/{id}/credit-note?format=csv"))
            .await,
        400,
        "invalid_request",
    )
    .await;
}

const STRIPE_KEY: &str = "sk_test_51PayoutsLocalAccount0000SeCrEt";
const STRIPE_HOOK: &str = "whsec_local0000000000000000SiGn";

/// `Stripe-Signature` for `body` at `t`, as Stripe signs it.
fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// The app with Stripe connected and `pub-two` onboarded through Stripe's link: its payout
/// method is its Express account.
async fn stripe_app(server: &ProviderServer) -> TestApp {
    server
        .control("config", Some(json!({"stripe_api_key": STRIPE_KEY})))
        .await;
    let app = spawn_with(provider_config(server), None).await;
    let admin = app.as_role("acme", Role::Admin);
    let stripe = json!({"secretKey": STRIPE_KEY, "webhookSecret": STRIPE_HOOK});
    let r = admin
        .send_json(reqwest::Method::PUT, "/payout-providers/stripe", &stripe)
        .await;
    json_of(r, 201).await;
    Program::on(&app, "acme")
        .mailed_partner("pub-two", "Publisher Two", "two@example.com")
        .await;
    app
}

#[tokio::test]
async fn a_partner_onboards_with_stripe_and_is_paid_by_one_transfer_even_after_stripe_forgets_the_key()
 {
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let op = app.as_role("acme", Role::Operator);
    // An account id is never typed.
    let typed = json!({"type": "stripe_connect"});
    let message = crate::helpers::assert_error(
        op.put_payout_method("pub-two", &typed).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(message.contains("onboarding"), "{message}");
    let status_path = "/partners/pub-two/payout-method/stripe-connect";
    let early = op.get(status_path).await;
    crate::helpers::assert_error(early, 409, "invalid_state").await;

    let onboarding = op
        .send_empty(reqwest::Method::POST, &format!("{status_path}/onboarding"))
        .await;
    let link = json_of(onboarding, 200).await;
    let missing = json_of(op.get(status_path).await, 200).await;
    assert_eq!(missing["state"], "details_missing", "{missing}");
    assert_eq!(missing["isPayoutMethod"], false);
    // The partner follows the link: Stripe sends it back to the product's own origin.
    let browser = tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = browser
        .get(link["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("{}/portal/acme?stripe=return", app.origin())
    );
    let done = json_of(op.get(status_path).await, 200).await;
    assert_eq!(done["state"], "payouts_enabled", "{done}");
    assert_eq!(done["isPayoutMethod"], true);
    assert!(
        done["words"].as_str().unwrap().contains("Connected"),
        "{done}"
    );
    let method = json_of(op.get("/partners/pub-two/payout-method").await, 200).await;
    assert_eq!(method["type"], "stripe_connect", "{method}");
    assert!(
        method["account"].as_str().unwrap().starts_with("acct_…"),
        "{method}"
    );

    seed_lines(&app, "pub-two", 1, 1_200).await;
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let made = json_of(op.run_payouts("run-1", &body).await, 201).await;
    let id = made["payouts"][0]["payoutId"].as_str().unwrap().to_owned();
    assert_eq!(made["payouts"][0]["provider"]["name"], "stripe", "{made}");

    // Stripe makes the transfer; the answer is lost.
    let lost = json!({"route": "POST /v1/transfers", "fault": "lost_answer", "count": 1});
    server.control("faults", Some(lost)).await;
    let at = now();
    assert!(matches!(step(&app, &id, at).await, Step::Retry(_)));
    // A day later Stripe has forgotten the key: the resend looks the transfer up by its group.
    server
        .control("stripe/idempotency/expire", Some(json!({})))
        .await;
    let Step::Sent(transfer) = step(&app, &id, at + 86_400_000).await else {
        panic!("not recorded")
    };
    let counters = server.counters().await;
    assert_eq!(counters["stripe"]["transfers_created"], 1, "{counters}");
    let requests = server.control("requests", None).await;
    let posts: Vec<&Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"] == "POST /v1/transfers")
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "no second POST after the lookup: {requests}"
    );
    assert_eq!(posts[0]["idempotency_key"], id.as_str());
    // Paid on Stripe's word (the poll finds the transfer, not reversed).
    let paid = step(&app, &id, now()).await;
    assert_eq!(
        paid,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    let view = payout(&app, &id).await;
    assert_eq!(view["status"], "paid");
    assert_eq!(view["reference"], transfer.as_str());

    // Later Stripe reverses the transfer, and says so twice: the payout stays paid with its
    // signed statement, and its 12.00 is back on the partner's balance as one new line.
    let hooks = Receiver::start().await;
    subscribe(&app, &hooks.url("/hooks"), &["payout.returned"]).await;
    let hook = json!({"provider": "stripe", "secret": STRIPE_HOOK,
                      "url": app.url("/v2/public/integrations/stripe-connect/acme")});
    server.control("webhooks", Some(hook)).await;
    let twice = json!({"provider": "stripe", "duplicate": 1});
    server.control("webhooks/faults", Some(twice)).await;
    server
        .control(
            &format!("stripe/transfers/{transfer}/reverse"),
            Some(json!({})),
        )
        .await;
    let line_id = PayoutId::parse(&id).unwrap().returned_line_id();
    let path = format!("/commissions/{line_id}");
    let line = eventually_or("the returned line", || async {
        let line = op.get(&path).await;
        match line.status().as_u16() {
            200 => Ok(line),
            status => Err(format!("{status}: {}", line.text().await.unwrap())),
        }
    })
    .await;
    let line = json_of(line, 200).await;
    assert_eq!(
        (&line["amount"], &line["status"], &line["partnerId"]),
        (&json!("12.00"), &json!("approved"), &json!("pub-two")),
        "{line}"
    );
    assert!(
        line["reasons"][0].as_str().unwrap().contains("reversed"),
        "{line}"
    );
    // Both deliveries answered (the line can be read before the server's answer to the first
    // reaches the provider, and the copy comes after it).
    let answered = |all: &[Value]| {
        all.iter()
            .filter(|d| d["type"] == "transfer.reversed" && d["status"] == 200)
            .count()
    };
    until_deliveries(&server, |all| answered(all) >= 2).await;
    let manual = json_of(
        op.get("/commissions?partnerId=pub-two&kind=manual&status=approved")
            .await,
        200,
    )
    .await;
    assert_eq!(manual["items"].as_array().unwrap().len(), 1, "{manual}");
    assert_eq!(payout(&app, &id).await["status"], "paid");
    let log = json_of(op.get("/audit?action=payout.provider_returned").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    // The program's webhooks heard it given back once, however often Stripe said so.
    let heard = hooks.wait_for("/hooks", 1).await;
    let event: Value = serde_json::from_slice(&heard[0].body).unwrap();
    assert_eq!(event["type"], "payout.returned", "{event}");
    assert_eq!(event["data"]["payoutId"], id.as_str());
    assert_eq!(
        event["data"]["status"], "paid",
        "the payout stays paid: {event}"
    );
    assert!(
        event["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("reversed"),
        "{event}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hooks.captured("/hooks").len(), 1, "one delivery, one event");
}

/// `pub-two` onboarded through Stripe's link, then a run's payout of 12.00 EUR to it handed to
/// Stripe: its id.
async fn stripe_payout(app: &TestApp) -> String {
    let op = app.as_role("acme", Role::Operator);
    let status_path = "/partners/pub-two/payout-method/stripe-connect";
    let onboarding = op
        .send_empty(reqwest::Method::POST, &format!("{status_path}/onboarding"))
        .await;
    let link = json_of(onboarding, 200).await;
    let browser = tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = browser.get(link["url"].as_str().unwrap()).send().await;
    assert_eq!(back.unwrap().status(), 302);
    let done = json_of(op.get(status_path).await, 200).await;
    assert_eq!(done["isPayoutMethod"], true, "{done}");
    seed_lines(app, "pub-two", 1, 1_200).await;
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let made = json_of(op.run_payouts("run-1", &body).await, 201).await;
    assert_eq!(made["payouts"][0]["status"], "sending", "{made}");
    made["payouts"][0]["payoutId"].as_str().unwrap().to_owned()
}

/// [`stripe_payout`] paid by one transfer (a poll confirms it), and Stripe's events posted to
/// `app` from then on: the payout's id and the transfer's.
async fn paid_through_stripe(server: &ProviderServer, app: &TestApp) -> (String, String) {
    let id = stripe_payout(app).await;
    let Step::Sent(transfer) = step(app, &id, now()).await else {
        panic!("not sent")
    };
    assert_eq!(
        step(app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    let hook = json!({"provider": "stripe", "secret": STRIPE_HOOK,
                      "url": app.url("/v2/public/integrations/stripe-connect/acme")});
    server.control("webhooks", Some(hook)).await;
    (id, transfer)
}

/// Stripe reverses `amount` (minor units) of `transfer`, from its side.
async fn reverse(server: &ProviderServer, transfer: &str, amount: i64) {
    let path = format!("stripe/transfers/{transfer}/reverse");
    server.control(&path, Some(json!({"amount": amount}))).await;
}

/// The amounts of `pub-two`'s lines credited back so far (its approved manual lines: the one
/// the payout paid is paid), smallest first, once `n` deliveries of `transfer.reversed` are
/// answered.
async fn credited_back(app: &TestApp, server: &ProviderServer, n: usize) -> Vec<String> {
    until_deliveries(server, |all| {
        all.iter()
            .filter(|d| d["type"] == "transfer.reversed" && d["status"] == 200)
            .count()
            >= n
    })
    .await;
    let op = app.as_role("acme", Role::Operator);
    let manual = json_of(
        op.get("/commissions?partnerId=pub-two&kind=manual&status=approved")
            .await,
        200,
    )
    .await;
    let mut amounts: Vec<String> = manual["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap().to_owned())
        .collect();
    // Written alike ("4.00", "12.00"): the shorter is the smaller.
    amounts.sort_by_key(|a| (a.len(), a.clone()));
    amounts
}

#[tokio::test]
async fn a_transfer_reversed_in_part_credits_back_each_part_once_and_returns_the_payout_when_whole()
{
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let hooks = Receiver::start().await;
    subscribe(&app, &hooks.url("/hooks"), &["payout.returned"]).await;
    let (id, transfer) = paid_through_stripe(&server, &app).await;
    // Stripe reverses 4.00 of the 12.00, and says so twice.
    let twice = json!({"provider": "stripe", "duplicate": 1});
    server.control("webhooks/faults", Some(twice)).await;
    reverse(&server, &transfer, 400).await;
    assert_eq!(credited_back(&app, &server, 2).await, ["4.00"]);
    let op = app.as_role("acme", Role::Operator);
    let line = PayoutId::parse(&id).unwrap().returned_line_id();
    let line = json_of(op.get(&format!("/commissions/{line}")).await, 200).await;
    let reason = line["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("4.00 EUR of the 12.00 EUR of payout #1 is back on the balance"),
        "{line}"
    );
    assert_eq!(payout(&app, &id).await["status"], "paid");
    // The partner reads how much came back.
    let admin = app.as_role("acme", Role::Admin);
    let subject = eventually_or("the partial return's mail sent", || async {
        let mail = json_of(admin.get("/mail").await, 200).await;
        let subjects: Vec<Value> = mail["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "payout_returned")
            .map(|m| m["subject"].clone())
            .collect();
        match subjects.as_slice() {
            [Value::String(s)] => Ok(s.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(subject, "€4.00 of your payout of €12.00 came back");

    // Stripe reverses the other 8.00: the payout is given back whole, and heard so once.
    reverse(&server, &transfer, 800).await;
    assert_eq!(credited_back(&app, &server, 3).await, ["4.00", "8.00"]);
    assert_eq!(payout(&app, &id).await["status"], "paid", "as signed");
    let heard = hooks.wait_for("/hooks", 1).await;
    let event: Value = serde_json::from_slice(&heard[0].body).unwrap();
    assert_eq!(
        (&event["type"], &event["data"]["payoutId"]),
        (&json!("payout.returned"), &json!(id)),
        "{event}"
    );
    let log = json_of(op.get("/audit?action=payout.provider_returned").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hooks.captured("/hooks").len(), 1, "returned once");
}

#[tokio::test]
async fn two_reversals_told_out_of_order_credit_back_the_same_total() {
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let (_, transfer) = paid_through_stripe(&server, &app).await;
    // Both reversals' events delivered twice, all four copies held, then delivered newest first.
    let faults = json!({"provider": "stripe", "duplicate": 2, "out_of_order": 4});
    server.control("webhooks/faults", Some(faults)).await;
    reverse(&server, &transfer, 400).await;
    reverse(&server, &transfer, 800).await;
    let reversals = |all: &[Value]| -> Vec<Value> {
        all.iter()
            .filter(|d| d["type"] == "transfer.reversed")
            .cloned()
            .collect()
    };
    let deliveries = until_deliveries(&server, |all| reversals(all).len() >= 4).await;
    let told = reversals(deliveries.as_array().unwrap());
    let first = told[0]["body"].as_str().unwrap();
    assert!(
        first.contains("\"amount_reversed\":1200"),
        "the whole reversal is told first: {first}"
    );
    assert_eq!(credited_back(&app, &server, 4).await, ["12.00"]);
}

/// Stripe connected to `app` with `key` (the webhook's secret as before).
async fn connect_stripe(app: &TestApp, key: &str) {
    let admin = app.as_role("acme", Role::Admin);
    let stripe = json!({"secretKey": key, "webhookSecret": STRIPE_HOOK});
    let r = admin
        .send_json(reqwest::Method::PUT, "/payout-providers/stripe", &stripe)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn a_payout_whose_answer_was_lost_waits_out_a_disconnection_and_a_rolled_key_and_is_paid_once()
 {
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let id = stripe_payout(&app).await;
    // Stripe makes the transfer; the answer is lost.
    let lost = json!({"route": "POST /v1/transfers", "fault": "lost_answer", "count": 1});
    server.control("faults", Some(lost)).await;
    let mut at = now();
    assert!(matches!(step(&app, &id, at).await, Step::Retry(_)));
    // The admin disconnects Stripe; then the key is rolled at Stripe and the old one connected
    // again: neither says anything of the transfer, so the payout waits, its line held.
    let admin = app.as_role("acme", Role::Admin);
    let gone = admin
        .send_empty(reqwest::Method::DELETE, "/payout-providers/stripe")
        .await;
    assert!(gone.status().is_success(), "{}", gone.status());
    const ROLLED: &str = "sk_test_51PayoutsLocalAccount0000RoLLeD";
    let rolled = json!({"stripe_api_key": ROLLED});
    server.control("config", Some(rolled)).await;
    for reconnect in [None, Some(STRIPE_KEY)] {
        if let Some(key) = reconnect {
            connect_stripe(&app, key).await;
        }
        at += 3_600_000;
        let waits = step(&app, &id, at).await;
        let Step::Retry(words) = waits else {
            panic!("{waits:?}")
        };
        assert!(words.contains("it is not failed"), "{words}");
        let view = payout(&app, &id).await;
        assert_eq!(view["status"], "sending", "{view}");
        assert_eq!(view["waiting"]["words"], words.as_str(), "{view}");
        let op = app.as_role("acme", Role::Operator);
        let lines = json_of(op.get("/commissions?partnerId=pub-two").await, 200).await;
        for line in lines["items"].as_array().unwrap() {
            assert_eq!(line["payoutId"], id.as_str(), "still the payout's: {line}");
        }
    }
    // The rolled key connected: the resend looks the transfer up and records it, and sends no
    // second one (the first one's idempotency key was the old API key's).
    connect_stripe(&app, ROLLED).await;
    at += 3_600_000;
    let Step::Sent(transfer) = step(&app, &id, at).await else {
        panic!("not found")
    };
    assert_eq!(
        step(&app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    assert_eq!(payout(&app, &id).await["reference"], transfer.as_str());
    let counters = server.counters().await;
    assert_eq!(counters["stripe"]["transfers_created"], 1, "{counters}");
}

#[tokio::test]
async fn a_stripe_webhook_is_applied_only_with_its_signature_and_only_for_a_payout_being_sent() {
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let url = app.url("/v2/public/integrations/stripe-connect/acme");
    let event = json!({"id": "evt_1", "type": "transfer.created",
                       "data": {"object": {"id": "tr_1", "metadata": {"payout": "pay_unknown"}}}})
    .to_string();
    let t = now() / 1000;
    let post = |signature: String, body: String| {
        app.client
            .post(url.clone())
            .header("stripe-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Signed with another secret, or too old: refused.
    let forged = post(
        stripe_signature("whsec_someone_else_0000000", t, &event),
        event.clone(),
    );
    crate::helpers::assert_error(forged.await.unwrap(), 400, "invalid_signature").await;
    let stale = post(
        stripe_signature(STRIPE_HOOK, t - 600, &event),
        event.clone(),
    );
    crate::helpers::assert_error(stale.await.unwrap(), 400, "invalid_signature").await;
    // Signed, about no payout being sent: logged and ignored.
    let fine = post(stripe_signature(STRIPE_HOOK, t, &event), event.clone());
    assert_eq!(fine.await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_payout_the_program_holds_stays_pending_and_is_sent_once_the_hold_ends() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    // The program pays only partners who gave their tax details; pub-one gave none.
    let admin = app.as_role("acme", Role::Admin);
    let mut program = json!({"name": "Acme partners", "applications": "open",
        "requireTaxProfile": "given"});
    json_of(admin.put_program(&program).await, 201).await;
    let made = run(&app, "run-1").await;
    assert_eq!(made["status"], "pending", "held, not handed over: {made}");
    let id = made["payoutId"].as_str().unwrap().to_owned();
    let at = now();
    // The hold is judged again an hour later, not every sweep; still held, nothing is sent.
    assert_eq!(step(&app, &id, at).await, Step::Busy);
    let held = step(&app, &id, at + 3_600_000 + 1_000).await;
    let Step::Waiting(why) = held else {
        panic!("{held:?}")
    };
    assert!(why.contains("tax"), "{why}");
    assert_eq!(payout(&app, &id).await["status"], "pending");
    held_is_told_to_the_manager_only(&app, &id).await;
    assert_eq!(paypal_counter(&server, "batches_created").await, 0);

    // The program stops asking: the next judgement hands the payout over and sends it, once,
    // however many workers step at once.
    program.as_object_mut().unwrap().remove("requireTaxProfile");
    json_of(admin.put_program(&program).await, 200).await;
    let later = at + 3 * 3_600_000;
    let (a, b) = tokio::join!(step(&app, &id, later), step(&app, &id, later));
    let sent = [&a, &b]
        .iter()
        .filter(|s| matches!(s, Step::Sent(_)))
        .count();
    assert_eq!(sent, 1, "{a:?} {b:?}");
    assert_eq!(paypal_counter(&server, "batches_created").await, 1);
    let view = payout(&app, &id).await;
    assert_eq!(
        (&view["status"], &view["provider"]["name"]),
        (&json!("sending"), &json!("paypal"))
    );
    assert!(view.get("waiting").is_none(), "sent: nothing waits: {view}");
    let op = app.as_role("acme", Role::Operator);
    for action in ["payout.held", "payout.sending", "payout.sent"] {
        let log = json_of(op.get(&format!("/audit?action={action}")).await, 200).await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1, "{action}: {log}");
    }
}

/// The manager reads why the payout is held, as a code and in words, in the list and alone;
/// the partner reads its payout pending, with no word of a hold.
async fn held_is_told_to_the_manager_only(app: &TestApp, id: &str) {
    let one = payout(app, id).await;
    let waiting = &one["waiting"];
    assert_eq!(
        (&waiting["state"], &waiting["reason"]),
        (&json!("held"), &json!("payout_tax_profile_missing")),
        "{one}"
    );
    assert!(
        waiting["words"].as_str().unwrap().contains("tax"),
        "{waiting}"
    );
    assert!(waiting["nextCheckAt"].is_string(), "{waiting}");
    let op = app.as_role("acme", Role::Operator);
    let list = json_of(op.get("/payouts").await, 200).await;
    assert_eq!(list["items"][0]["waiting"], *waiting, "{list}");
    let partner = crate::scenario::as_partner(app, "acme", "pub-one").await;
    for path in ["/payouts".to_owned(), format!("/payouts/{id}")] {
        let seen = json_of(partner.get(&path).await, 200).await;
        assert!(!seen.to_string().contains("waiting"), "{path}: {seen}");
        assert!(!seen.to_string().contains("tax"), "{path}: {seen}");
    }
}

/// The partner's method as the manager reads it, once it is `stripe_connect` (Stripe's event
/// is delivered in the background).
async fn until_stripe_method(app: &TestApp, partner: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let path = format!("/partners/{partner}/payout-method");
    eventually_or(
        &format!("{partner}'s method to become its Stripe account"),
        || async {
            let r = op.get(&path).await;
            let status = r.status().as_u16();
            if status != 200 {
                return Err(format!("{status}: {}", r.text().await.unwrap()));
            }
            let method = json_of(r, 200).await;
            if method["type"] == "stripe_connect" {
                Ok(method)
            } else {
                Err(method.to_string())
            }
        },
    )
    .await
}

#[tokio::test]
async fn stripe_s_account_updated_makes_the_account_the_method_and_its_state_is_kept_in_words() {
    let server = ProviderServer::start();
    let app = stripe_app(&server).await;
    let hook = json!({"provider": "stripe", "secret": STRIPE_HOOK,
                      "url": app.url("/v2/public/integrations/stripe-connect/acme")});
    server.control("webhooks", Some(hook)).await;
    let twice = json!({"provider": "stripe", "duplicate": 1});
    server.control("webhooks/faults", Some(twice)).await;
    let op = app.as_role("acme", Role::Operator);
    let status_path = "/partners/pub-two/payout-method/stripe-connect";
    let onboarding = op
        .send_empty(reqwest::Method::POST, &format!("{status_path}/onboarding"))
        .await;
    let link = json_of(onboarding, 200).await;
    // The partner finishes Stripe's onboarding and never comes back to the portal: Stripe's
    // event (delivered twice) alone makes the account its payout method, once.
    let browser = tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let done = browser.get(link["url"].as_str().unwrap()).send().await;
    assert_eq!(done.unwrap().status(), 302);
    let method = until_stripe_method(&app, "pub-two").await;
    assert!(
        method["account"].as_str().unwrap().starts_with("acct_…"),
        "{method}"
    );
    let log = json_of(op.get("/audit?action=payout_method.set").await, 200).await;
    let set = log["items"].as_array().unwrap().len();
    assert_eq!(set, 1, "one change of method for two deliveries: {log}");
    let answered = |all: &[Value]| {
        all.iter()
            .filter(|d| d["type"] == "account.updated" && d["status"] == 200)
            .count()
    };
    let deliveries = until_deliveries(&server, |all| answered(all) >= 2).await;
    let all = deliveries.as_array().unwrap();
    assert_eq!(answered(all), 2, "{deliveries}");
    let log = json_of(op.get("/audit?action=payout_method.set").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");

    // Stripe restricts the account; then Stripe cannot be asked: the status says what
    // Stripe's last event said, in words.
    let state = server.control("state", None).await;
    let account = state["accounts"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap();
    let why = json!({"disabled_reason": "requirements.past_due",
                     "currently_due": ["individual.verification.document"]});
    server
        .control(&format!("stripe/accounts/{account}/restrict"), Some(why))
        .await;
    let down = json!({"route": "GET /v1/accounts/{id}", "fault": "500", "count": 100});
    server.control("faults", Some(down)).await;
    let told = eventually_or("the account's state to be restricted", || async {
        let told = json_of(op.get(status_path).await, 200).await;
        if told["state"] == "restricted" {
            Ok(told)
        } else {
            Err(told.to_string())
        }
    })
    .await;
    let words = told["words"].as_str().unwrap();
    assert!(words.contains("requirements past due"), "{told}");
    assert_eq!(told["isPayoutMethod"], true, "{told}");

    // An account.updated about an account 10x did not make for the partner it names changes
    // nothing.
    let foreign = json!({"id": "evt_x", "type": "account.updated", "created": now() / 1000,
        "account": "acct_someone_else",
        "data": {"object": {"id": "acct_someone_else", "object": "account",
            "details_submitted": true, "payouts_enabled": true,
            "requirements": {"disabled_reason": null, "currently_due": []},
            "metadata": {"partner": "pub-two", "handle": "acme"}}}})
    .to_string();
    let t = now() / 1000;
    let r = app
        .client
        .post(app.url("/v2/public/integrations/stripe-connect/acme"))
        .header(
            "stripe-signature",
            stripe_signature(STRIPE_HOOK, t, &foreign),
        )
        .header("content-type", "application/json")
        .body(foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = json_of(op.get(status_path).await, 200).await;
    assert_eq!(after, told, "unchanged by a foreign account's event");
}

#[tokio::test]
async fn a_partner_paid_by_payer_id_is_sent_to_it_as_paypal_id_and_a_wrong_id_is_named() {
    let server = ProviderServer::start();
    let app = spawn_with(paypal_config(&server).await, None).await;
    paypal_partner(&app, &json!({"type": "paypal", "payerId": "7ZQ4L8NWK2M3P"})).await;
    let op = app.as_role("acme", Role::Operator);
    let method = json_of(op.get("/partners/pub-one/payout-method").await, 200).await;
    assert_eq!(
        (&method["type"], &method["payerId"]),
        (&json!("paypal"), &json!("…2M3P")),
        "{method}"
    );
    assert!(method.get("email").is_none(), "{method}");
    // A payer ID that is not one is refused in words, the field named; nothing changes.
    for (body, words) in [
        (
            json!({"type": "paypal", "payerId": "7zq4l8nwk2m3p"}),
            "capital letters",
        ),
        (
            json!({"type": "paypal", "payerId": "7ZQ4L8NWK2M"}),
            "13 capital letters and digits",
        ),
        (
            json!({"type": "paypal", "payerId": "one@example.com"}),
            "is an email",
        ),
        (
            json!({"type": "paypal", "payerId": "7ZQ4L8NWK2M3P", "email": "one@example.com"}),
            "not both",
        ),
        (json!({"type": "paypal"}), "payer ID"),
    ] {
        let m = crate::helpers::assert_error(
            op.put_payout_method("pub-one", &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(m.contains(words), "{body}: {m}");
    }
    let (id, batch) = sent(&app, "run-1").await;
    // PayPal was asked to pay the account by its payer ID (and took it: its check of a
    // PAYPAL_ID receiver is the local server's).
    let requests = server.control("requests", None).await;
    let sent: Vec<Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/v1/payments/payouts")
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(sent.len(), 1, "{requests}");
    let item = &sent[0]["items"][0];
    assert_eq!(
        (&item["recipient_type"], &item["receiver"]),
        (&json!("PAYPAL_ID"), &json!("7ZQ4L8NWK2M3P")),
        "{item}"
    );
    assert_eq!(
        sent[0]["sender_batch_header"]["recipient_type"],
        "PAYPAL_ID"
    );
    let settle = format!("paypal/batches/{batch}/settle");
    server
        .control(&settle, Some(json!({"status": "SUCCESS"})))
        .await;
    assert_eq!(
        step(&app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
}

/// Whether the partner's `payout_returned` mail of payout `id` is recorded (as the manager's
/// mail log lists it).
async fn returned_mail_of(app: &TestApp, partner_email: &str) -> usize {
    let admin = app.as_role("acme", Role::Admin);
    let mail = json_of(admin.get("/mail").await, 200).await;
    mail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "payout_returned" && m["to"] == partner_email)
        .count()
}

#[tokio::test]
async fn a_crash_right_after_a_payout_fails_or_comes_back_loses_no_partner_mail() {
    let server = ProviderServer::start();
    let config = paypal_config(&server).await;
    let (app, switch) = crate::helpers::spawn_with_failing_queue_config(config).await;
    let method = json!({"type": "paypal", "email": "one@example.com"});
    paypal_partner(&app, &method).await;
    let state = app.state();
    let handle = Handle::parse("acme").unwrap();

    // PayPal fails the payment; the process dies right after the failure is recorded: every
    // later transaction fails, and the queue takes nothing.
    let (id, batch) = sent(&app, "run-1").await;
    let failed = json!({"status": "FAILED", "error": "RECEIVER_ACCOUNT_LOCKED"});
    server
        .control(&format!("paypal/batches/{batch}/settle"), Some(failed))
        .await;
    switch.fail_transacts_after(1, 1_000);
    switch.fail_next(1_000);
    let sender = tenx_shared::runtime::workers::sweeper::payout_sender(&state);
    let pid = PayoutId::parse(&id).unwrap();
    let cut = send::advance(sender, &handle, &pid, now()).await;
    assert!(cut.is_err(), "the crash cut the step: {cut:?}");
    assert_eq!(payout(&app, &id).await["status"], "failed");
    switch.fail_transacts_after(0, 0);
    switch.fail_next(0);
    // The mail was recorded by the failure's own transaction.
    assert_eq!(returned_mail_of(&app, "one@example.com").await, 1);
    // The step carried on again finishes the lines and tells nobody twice.
    assert_eq!(
        step(&app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Failed)
    );

    // A paid payout PayPal gives back later: the process dies right after the amount is back.
    let (id, batch) = sent(&app, "run-2").await;
    server
        .control(
            &format!("paypal/batches/{batch}/settle"),
            Some(json!({"status": "SUCCESS"})),
        )
        .await;
    assert_eq!(
        step(&app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    let paid = tenx_shared::payouts::get(
        state.store.as_ref(),
        &handle,
        &PayoutId::parse(&id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    switch.fail_transacts_after(1, 1_000);
    switch.fail_next(1_000);
    let why = "PayPal refunded the payment.";
    let io = (state.io(), "https://app.example");
    let credited = tenx_shared::payouts::returned::credit_back(io, &handle, &paid, why).await;
    switch.fail_transacts_after(0, 0);
    switch.fail_next(0);
    assert!(credited.unwrap(), "credited once");
    assert_eq!(returned_mail_of(&app, "one@example.com").await, 2);
    // Nothing reached the queue: the mail sweeper hands both over, and both are sent, once.
    tenx_shared::mail::sweep::sweep(state.io(), Duration::ZERO)
        .await
        .unwrap();
    app.deliver_mail().await;
    let sent: Vec<_> = app
        .sent_mail()
        .into_iter()
        .filter(|m| m.kind == "payout_returned")
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|m| m.to == "one@example.com"));
    assert!(
        sent.iter()
            .any(|m| m.text.contains("PayPal refunded the payment.")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_held_payout_is_only_cancelled_by_hand_and_mark_paid_or_failed_are_refused_in_words() {
    let server = ProviderServer::start();
    let app = paypal_app(&server).await;
    let admin = app.as_role("acme", Role::Admin);
    let program = json!({"name": "Acme partners", "applications": "open",
        "requireTaxProfile": "given"});
    json_of(admin.put_program(&program).await, 201).await;
    let made = run(&app, "run-1").await;
    assert_eq!(made["status"], "pending", "held: {made}");
    let id = made["payoutId"].as_str().unwrap().to_owned();
    let op = app.as_role("acme", Role::Operator);
    for (action, body) in [
        ("mark-paid", json!({"reference": "BANK-1"})),
        ("mark-failed", json!({"reason": "bounced"})),
    ] {
        let m = crate::helpers::assert_error(
            op.settle_payout(&id, action, &body).await,
            409,
            "invalid_state",
        )
        .await;
        assert!(
            m.contains("PayPal sends it once the program's hold on it ends")
                && m.contains("Cancel it"),
            "{action}: {m}"
        );
    }
    assert_eq!(payout(&app, &id).await["status"], "pending");
    let canceled = op
        .settle_payout(&id, "cancel", &json!({"reason": "paid another way"}))
        .await;
    let canceled = json_of(canceled, 200).await;
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    // Its dispatch goes at the next step: nothing is ever sent.
    assert_eq!(step(&app, &id, now() + 3 * 3_600_000).await, Step::Gone);
    assert_eq!(paypal_counter(&server, "batches_created").await, 0);
    // Being sent, nothing is settled by hand either.
    let mut open = program.clone();
    open.as_object_mut().unwrap().remove("requireTaxProfile");
    json_of(admin.put_program(&open).await, 200).await;
    let sending = run(&app, "run-2").await;
    assert_eq!(sending["status"], "sending", "{sending}");
    let sid = sending["payoutId"].as_str().unwrap();
    for (action, body) in [
        ("mark-paid", json!({"reference": "BANK-1"})),
        ("mark-failed", json!({"reason": "bounced"})),
        ("cancel", json!({"reason": "no"})),
    ] {
        let m = crate::helpers::assert_error(
            op.settle_payout(sid, action, &body).await,
            409,
            "invalid_state",
        )
        .await;
        assert!(m.contains("being sent through PayPal"), "{action}: {m}");
    }
}

#[tokio::test]
async fn an_invoice_first_asked_for_after_its_payout_came_back_names_its_credit_note() {
    let server = ProviderServer::start();
    // No workers: no paid mail asks for the invoice before the test does.
    let config = paypal_config(&server).await;
    let (app, _switch) = crate::helpers::spawn_with_failing_queue_config(config).await;
    let method = json!({"type": "paypal", "email": "one@example.com"});
    paypal_partner(&app, &method).await;
    crate::tax_forms::self_billing(&app).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let accept = "/partners/pub-one/self-billing/accept";
    json_of(
        one.send_json(reqwest::Method::POST, accept, &json!({}))
            .await,
        200,
    )
    .await;
    let (id, batch) = sent(&app, "run-1").await;
    let settle = format!("paypal/batches/{batch}/settle");
    server
        .control(&settle, Some(json!({"status": "SUCCESS"})))
        .await;
    assert_eq!(
        step(&app, &id, now()).await,
        Step::Settled(tenx_shared::payouts::PayoutStatus::Paid)
    );
    // Given back before anyone asked for the invoice: nothing to cancel yet.
    let state = app.state();
    let handle = Handle::parse("acme").unwrap();
    let pid = PayoutId::parse(&id).unwrap();
    let paid = tenx_shared::payouts::get(state.store.as_ref(), &handle, &pid)
        .await
        .unwrap()
        .unwrap();
    let why = "PayPal refunded the payment.";
    let io = (state.io(), "https://app.example");
    assert!(
        tenx_shared::payouts::returned::credit_back(io, &handle, &paid, why)
            .await
            .unwrap()
    );
    // The partner's first ask makes the invoice, and names the note that cancels it.
    let resp = one.get(&format!("/payouts/{id}/invoice?format=pdf")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    assert_eq!(
        header_str(resp.headers(), "x-credit-note-number"),
        "pub-one-CN-00001"
    );
    let note = one
        .get(&format!("/payouts/{id}/credit-note?format=pdf"))
        .await;
    assert_eq!(note.status(), 200);
    let text = crate::tax_forms::pdf_text(&note.bytes().await.unwrap());
    assert!(text.contains("PayPal refunded the payment."), "{text}");
    assert!(text.contains("-12.00"), "{text}");
}
