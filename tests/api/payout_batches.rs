//! Issue 46: payout methods (validated, masked, sealed at rest, a change audited and held until
//! confirmed) and payout batches (SEPA pain.001.001.03 validated against the ISO 20022 schema,
//! PayPal and Wise CSV; exactly once by key; a payout in at most one live batch; mark-paid
//! moves the ledger as single payouts do; cancel frees the payouts).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tenx_shared::domain::{Handle, PartnerId};
use tenx_shared::http::auth::Role;

use crate::commissions::no_drift;
use crate::endpoints::As;
use crate::helpers::*;
use crate::scenario::{partners, seed_amounts};

pub(crate) const DE_IBAN: &str = "DE89 3704 0044 0532 0130 00";
const GB_IBAN: &str = "GB82 WEST 1234 5698 7654 32";
const FR_IBAN: &str = "FR14 2004 1010 0505 0001 3M02 606";

pub(crate) fn op(app: &TestApp) -> As<'_> {
    app.as_role("acme", Role::Operator)
}

/// Another operator of acme than [`op`] (a JWT of another subject): who confirms the changes
/// of payout details [`op`] makes, since whoever made a change never confirms it.
pub(crate) fn second_manager(app: &TestApp) -> As<'_> {
    let token = token_of_subject("bea", &["acme"], Role::Operator, now() + 3600);
    app.with_token("acme", &token)
}

pub(crate) fn sepa(name: &str, iban: &str) -> Value {
    json!({"type": "sepa", "accountName": name, "iban": iban})
}

/// A payout run over everything available: payout id by (partner, currency).
pub(crate) async fn run(app: &TestApp, key: &str) -> BTreeMap<(String, String), String> {
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let got = json_of(op(app).run_payouts(key, &body).await, 201).await;
    got["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            ((s("partnerId"), s("currency")), s("payoutId"))
        })
        .collect()
}

pub(crate) async fn error_message(resp: reqwest::Response, status: u16) -> String {
    let body = json_of(resp, status).await;
    body["error"]["message"].as_str().unwrap().to_owned()
}

pub(crate) fn ids(batch: &Value) -> Vec<String> {
    let mut v: Vec<String> = batch["payoutIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn payout_methods_are_validated_masked_sealed_and_a_partner_sets_only_its_own() {
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let op = op(&app);
    for (body, field) in [
        (
            sepa("Ann", "DE88 3704 0044 0532 0130 00"),
            "iban: the check digits",
        ),
        (
            sepa("Ann", "DE89 3704 0044 0532 0130 0"),
            "iban: a DE IBAN has 22",
        ),
        (
            json!({"type": "sepa", "accountName": "Ann", "iban": DE_IBAN, "bic": "DEUT"}),
            "bic:",
        ),
        (
            json!({"type": "sepa", "accountName": "Ann", "iban": DE_IBAN, "bic": "BNPAFRPP"}),
            "bic:",
        ),
        (
            json!({"type": "sepa", "iban": DE_IBAN}),
            "accountName: is required",
        ),
        (json!({"type": "paypal", "email": "not-an-email"}), "email:"),
        (
            json!({"type": "paypal", "email": "a b@example.com"}),
            "email:",
        ),
        (
            json!({"type": "wise", "email": "ann@example.com"}),
            "accountName:",
        ),
        (
            json!({"type": "paypal", "email": "a@example.com", "iban": DE_IBAN}),
            "iban: is not a field",
        ),
        (json!({"type": "cheque"}), "type:"),
    ] {
        let message = error_message(op.put_payout_method("pub-one", &body).await, 400).await;
        assert!(message.starts_with(field), "{body}: {message}");
    }
    assert_eq!(op.payout_method("pub-one").await.status(), 404);

    // The first setting: 201, masked; the details are sealed in the store.
    let body =
        json!({"type": "sepa", "accountName": "Ann Example", "iban": DE_IBAN, "bic": "deutdeff"});
    let set = json_of(op.put_payout_method("pub-one", &body).await, 201).await;
    assert_eq!(set["iban"], "DE89 **** **** 3000");
    assert_eq!(
        (set["type"].as_str(), set["bic"].as_str()),
        (Some("sepa"), Some("DEUTDEFF"))
    );
    assert_eq!(
        set["pendingConfirmation"], false,
        "a first setting is no change"
    );
    let read = json_of(op.payout_method("pub-one").await, 200).await;
    assert!(!read.to_string().contains("0532013000"), "{read}");
    let (pk, sk) = tenx_shared::platform::store::keys::payout_method(
        &Handle::parse("acme").unwrap(),
        &PartnerId::parse("pub-one").unwrap(),
    );
    let raw = app.store.get(&pk, &sk).await.unwrap().expect("stored");
    let stored = serde_json::to_string(&raw.doc).unwrap();
    assert!(!stored.contains("370400440532013000"), "sealed: {stored}");
    assert!(stored.contains("\"sealed\":\"v1."), "{stored}");
    // Setting the same details again changes nothing.
    let again = json_of(op.put_payout_method("pub-one", &body).await, 200).await;
    assert_eq!(again["pendingConfirmation"], false);

    // A partner token: its own method, never another's.
    let token = crate::scenario::partner_token(&app, "acme", "pub-two").await;
    let me = app.with_token("acme", &token);
    let mine = json!({"type": "paypal", "email": "Two@Example.COM"});
    let set = json_of(me.put_payout_method("pub-two", &mine).await, 201).await;
    assert_eq!(set["email"], "T***@example.com");
    json_of(me.payout_method("pub-two").await, 200).await;
    assert_eq!(me.payout_method("pub-one").await.status(), 404);
    let theirs = me
        .put_payout_method("pub-one", &sepa("Mallory", GB_IBAN))
        .await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(me.confirm_payout_method("pub-two").await.status(), 403);
    let still = json_of(op.payout_method("pub-one").await, 200).await;
    assert_eq!(
        still["accountName"], "Ann Example",
        "pub-one's method untouched"
    );
}

#[tokio::test]
async fn a_change_of_details_is_audited_sent_and_held_out_of_batches_until_confirmed() {
    use crate::webhooks::{Receiver, subscribe, webhook_config};
    let app = spawn_with(webhook_config(100), None).await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&app, &receiver.url("/updated"), &["partner.updated"]).await;
    let admin = app.as_role("acme", Role::Admin);
    let settings = json!({"debtorName": "ACME GmbH", "debtorIban": DE_IBAN});
    json_of(admin.put_payout_settings(&settings).await, 200).await;
    let op = op(&app);
    for p in ["pub-one", "pub-two"] {
        json_of(op.put_payout_method(p, &sepa("First", DE_IBAN)).await, 201).await;
    }
    seed_amounts(&app, "pub-one", "EUR", &[1000]).await;
    seed_amounts(&app, "pub-two", "EUR", &[2000]).await;
    let payouts = run(&app, "run-1").await;
    let one = payouts[&("pub-one".into(), "EUR".into())].clone();

    // A partner changes its IBAN with its own token: a change.
    let token = crate::scenario::partner_token(&app, "acme", "pub-one").await;
    let me = app.with_token("acme", &token);
    let changed = json_of(
        me.put_payout_method("pub-one", &sepa("Taken Over", FR_IBAN))
            .await,
        200,
    )
    .await;
    assert_eq!(changed["pendingConfirmation"], true, "{changed}");
    assert_eq!(changed["change"]["previous"]["iban"], "DE89 **** **** 3000");
    assert_eq!(changed["iban"], "FR14 **** **** 2606");
    let got = receiver.wait_for("/updated", 1).await;
    got[0].assert_signed_with(&secret);
    let event = got[0].json();
    assert_eq!(event["type"], "partner.updated");
    assert_eq!(event["data"]["partnerId"], "pub-one");
    assert_eq!(event["data"]["previous"]["iban"], "DE89 **** **** 3000");
    assert_eq!(event["data"]["current"]["iban"], "FR14 **** **** 2606");
    assert!(!event.to_string().contains("0532013000"));
    let audit = tenx_shared::payout_methods::changes(
        app.store.as_ref(),
        &Handle::parse("acme").unwrap(),
        &PartnerId::parse("pub-one").unwrap(),
        10,
    )
    .await
    .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].by.is_empty()),
        ("changed", false)
    );

    // The batch leaves pub-one out, saying why; pub-two goes in.
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(
        ids(&batch),
        [payouts[&("pub-two".into(), "EUR".into())].clone()]
    );
    assert_eq!(
        batch["excluded"],
        json!([{"payoutId": one, "partnerId": "pub-one", "reason": "payout_method_unconfirmed",
            "words": "The partner's payout details changed in the last 24 hours and no manager confirmed the change."}])
    );
    let named = op
        .create_batch("b-2", &json!({"method": "sepa", "payoutIds": [one]}))
        .await;
    let message = error_message(named, 400).await;
    assert!(message.contains("payout_method_unconfirmed"), "{message}");

    // A manager confirms: it goes in.
    let confirmed = json_of(op.confirm_payout_method("pub-one").await, 200).await;
    assert_eq!(confirmed["pendingConfirmation"], false);
    assert_eq!(op.confirm_payout_method("pub-one").await.status(), 409);
    let batch = json_of(
        op.create_batch("b-3", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(ids(&batch), std::slice::from_ref(&one));

    // Unconfirmed, a change stops holding after 24 hours.
    json_of(
        op.put_payout_method("pub-two", &sepa("Moved", GB_IBAN))
            .await,
        200,
    )
    .await;
    seed_amounts(&app, "pub-two", "EUR", &[3000]).await;
    let later = run(&app, "run-2").await;
    let two = later[&("pub-two".into(), "EUR".into())].clone();
    let held = op.create_batch("b-4", &json!({"method": "sepa"})).await;
    assert!(
        error_message(held, 400)
            .await
            .contains("payout_method_unconfirmed")
    );
    tenx_shared::platform::time::advance(Duration::from_secs(24 * 3600 + 60));
    let op = app.as_role("acme", Role::Operator);
    let batch = json_of(
        op.create_batch("b-4", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(ids(&batch), [two]);
}

/// The SEPA batch end to end: the file validates against the ISO 20022 schema and pays the
/// payouts to the minor unit; exactly once by key; a payout in one live batch at a time; paid
/// as single payouts are; canceled, its payouts go into another batch.
#[tokio::test]
async fn a_sepa_batch_validates_pays_exactly_and_holds_each_payout_once() {
    let app = spawn_app().await;
    partners(
        &app,
        &["pub-eur", "pub-usd", "pub-none", "pub-manual", "pub-late"],
    )
    .await;
    let op = op(&app);
    let no_settings = op.create_batch("early", &json!({"method": "sepa"})).await;
    assert!(
        error_message(no_settings, 409)
            .await
            .starts_with("payout-settings:")
    );
    let admin = app.as_role("acme", Role::Admin);
    let settings =
        json!({"debtorName": "ACME Zoë & Co", "debtorIban": DE_IBAN, "debtorBic": "DEUTDEFF"});
    let saved = json_of(admin.put_payout_settings(&settings).await, 200).await;
    assert_eq!(saved["debtorIban"], "DE89 **** **** 3000");
    assert_eq!(
        op.put_payout_settings(&settings).await.status(),
        403,
        "admin only"
    );
    for (p, body) in [
        (
            "pub-eur",
            json!({"type": "sepa", "accountName": "Zoë Müller", "iban": FR_IBAN, "bic": "BNPAFRPP"}),
        ),
        ("pub-usd", sepa("Us Dollar", GB_IBAN)),
        ("pub-late", sepa("Late", DE_IBAN)),
        ("pub-manual", json!({"type": "manual"})),
    ] {
        json_of(op.put_payout_method(p, &body).await, 201).await;
    }
    seed_amounts(&app, "pub-eur", "EUR", &[1001, 2002, 3]).await;
    seed_amounts(&app, "pub-usd", "USD", &[500]).await;
    seed_amounts(&app, "pub-usd", "EUR", &[777]).await;
    seed_amounts(&app, "pub-none", "EUR", &[100]).await;
    seed_amounts(&app, "pub-manual", "EUR", &[100]).await;
    let p = run(&app, "run-1").await;
    let pay = |partner: &str, c: &str| p[&(partner.to_owned(), c.to_owned())].clone();

    let nothing = op.create_batch("empty", &json!({"method": "paypal"})).await;
    assert!(
        error_message(nothing, 400)
            .await
            .starts_with("method: no payout")
    );
    let usd = op
        .create_batch(
            "usd",
            &json!({"method": "sepa", "payoutIds": [pay("pub-usd", "USD")]}),
        )
        .await;
    let message = error_message(usd, 400).await;
    assert!(
        message.starts_with("payoutIds[0]:") && message.contains("EUR only"),
        "{message}"
    );

    let body = json!({"method": "sepa", "executionDate": "2099-01-02"});
    let batch = json_of(op.create_batch("sepa-1", &body).await, 201).await;
    let bid = batch["batchId"].as_str().unwrap().to_owned();
    assert!(bid.starts_with("bat_"));
    let mut want = vec![pay("pub-eur", "EUR"), pay("pub-usd", "EUR")];
    want.sort();
    assert_eq!(ids(&batch), want);
    assert_eq!(batch["totals"], json!({"EUR": "37.83"}));
    assert_eq!(batch["status"], "open");
    let mut excluded: Vec<(String, String)> = batch["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["partnerId"].as_str().unwrap().into(),
                e["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    excluded.sort();
    assert_eq!(
        excluded,
        [
            ("pub-manual".into(), "manual".into()),
            ("pub-none".into(), "no_payout_method".into()),
            ("pub-usd".into(), "currency_not_supported".into()),
        ]
    );
    // The same key and body: the same batch; another body: refused.
    let again = json_of(op.create_batch("sepa-1", &body).await, 200).await;
    assert_eq!(again["batchId"], bid.as_str());
    let reused = op.create_batch("sepa-1", &json!({"method": "sepa"})).await;
    assert_eq!(
        json_of(reused, 409).await["error"]["code"],
        "idempotency_key_reused"
    );

    check_sepa_file(&app, &bid, &[30.06, 7.77]).await;

    // A payout in a live batch: another batch naming it is refused, nothing written.
    seed_amounts(&app, "pub-late", "EUR", &[4242]).await;
    let late = run(&app, "run-2").await[&("pub-late".to_owned(), "EUR".to_owned())].clone();
    let clash = json!({"method": "sepa", "payoutIds": [late, pay("pub-eur", "EUR")]});
    let message = error_message(op.create_batch("clash", &clash).await, 409).await;
    assert!(
        message.contains(&pay("pub-eur", "EUR")) && message.contains(&bid),
        "{message}"
    );
    let only_late = json!({"method": "sepa", "payoutIds": [late]});
    let second = json_of(op.create_batch("late", &only_late).await, 201).await;
    let second_id = second["batchId"].as_str().unwrap().to_owned();
    let listed = json_of(op.list_batches().await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    // A batched payout is not settled on its own.
    let single = op
        .settle_payout(&late, "mark-paid", &json!({"reference": "x"}))
        .await;
    assert_eq!(json_of(single, 409).await["error"]["code"], "invalid_state");

    // Paid in one step: every payout paid with the batch's reference, the balances moved.
    let paid_body = json!({"reference": "SEPA-2026-11-25"});
    let paid = json_of(op.settle_batch(&bid, "mark-paid", &paid_body).await, 200).await;
    assert_eq!(paid["status"], "paid");
    for id in &want {
        let payout = json_of(op.get(&format!("/payouts/{id}")).await, 200).await;
        assert_eq!(
            (payout["status"].as_str(), payout["reference"].as_str()),
            (Some("paid"), Some("SEPA-2026-11-25"))
        );
    }
    let balances = json_of(op.balances("partnerId=pub-eur").await, 200).await;
    assert_eq!(balances["items"][0]["paid"], "30.06");
    no_drift(&app).await;
    json_of(op.settle_batch(&bid, "mark-paid", &paid_body).await, 200).await;
    no_drift(&app).await;
    assert_eq!(
        op.settle_batch(&bid, "cancel", &json!({"reason": "x"}))
            .await
            .status(),
        409
    );

    // Canceled: its payout is free again.
    let canceled = json_of(
        op.settle_batch(&second_id, "cancel", &json!({"reason": "wrong date"}))
            .await,
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(op.batch_file(&second_id, "").await.status(), 409);
    let third = json_of(op.create_batch("late-again", &only_late).await, 201).await;
    assert_eq!(ids(&third), [late]);
}

/// The file: valid pain.001.001.03 (xmllint against the official XSD, fetched by
/// scripts/sepa_schema.sh), its control sum and amounts the payouts'.
async fn check_sepa_file(app: &TestApp, batch: &str, amounts: &[f64]) {
    let resp = op(app).batch_file(batch, "").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "application/xml; charset=utf-8"
    );
    let xml = resp.text().await.unwrap();
    assert!(
        !xml.contains("DE89 "),
        "the file holds full IBANs, unmasked"
    );
    assert!(
        xml.contains("<IBAN>FR1420041010050500013M02606</IBAN>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Nm>Zoe Muller</Nm>") && xml.contains("<Nm>ACME Zoe + Co</Nm>"),
        "{xml}"
    );
    let sum: f64 = amounts.iter().sum();
    assert!(
        xml.contains(&format!(
            "<NbOfTxs>{}</NbOfTxs><CtrlSum>{sum:.2}</CtrlSum>",
            amounts.len()
        )),
        "{xml}"
    );
    for a in amounts {
        assert!(
            xml.contains(&format!("<InstdAmt Ccy=\"EUR\">{a:.2}</InstdAmt>")),
            "{a}: {xml}"
        );
    }
    assert!(xml.contains("<ReqdExctnDt>2099-01-02</ReqdExctnDt>"));
    validate_against_xsd(&xml);
}

pub(crate) fn validate_against_xsd(xml: &str) {
    let xsd = std::env::var("TENX_SEPA_XSD").unwrap_or_else(|_| {
        format!(
            "{}/.venv/sepa/pain.001.001.03.xsd",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    assert!(
        std::path::Path::new(&xsd).exists(),
        "{xsd} is missing: run scripts/sepa_schema.sh (it fetches the schema from PyPI's sepaxml)"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.xml");
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", &xsd])
        .arg(&file)
        .output()
        .expect("xmllint is missing: run scripts/sepa_schema.sh (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "the file does not validate:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn paypal_and_wise_batches_render_their_csv_in_several_currencies() {
    let app = spawn_app().await;
    partners(&app, &["pay-a", "pay-b", "wise-a"]).await;
    let op = op(&app);
    for (p, body) in [
        ("pay-a", json!({"type": "paypal", "email": "a@example.com"})),
        ("pay-b", json!({"type": "paypal", "email": "b@example.com"})),
        // A name that a spreadsheet would run as a formula.
        (
            "wise-a",
            json!({"type": "wise", "email": "w@example.com", "accountName": "=Wanda, \"W\" Ltd"}),
        ),
    ] {
        json_of(op.put_payout_method(p, &body).await, 201).await;
    }
    seed_amounts(&app, "pay-a", "EUR", &[1050]).await;
    seed_amounts(&app, "pay-a", "USD", &[99]).await;
    seed_amounts(&app, "pay-b", "USD", &[100_000]).await;
    seed_amounts(&app, "pay-b", "JPY", &[1200]).await;
    seed_amounts(&app, "wise-a", "GBP", &[1234]).await;
    seed_amounts(&app, "wise-a", "EUR", &[5]).await;
    let p = run(&app, "run").await;
    let pay = |partner: &str, c: &str| p[&(partner.to_owned(), c.to_owned())].clone();

    let batch = json_of(
        op.create_batch("pp", &json!({"method": "paypal"})).await,
        201,
    )
    .await;
    assert_eq!(
        batch["totals"],
        json!({"EUR": "10.50", "JPY": "1200", "USD": "1000.99"})
    );
    let bid = batch["batchId"].as_str().unwrap();
    let message = error_message(op.batch_file(bid, "").await, 400).await;
    assert!(
        message.starts_with("currency:") && message.contains("EUR, JPY, USD"),
        "{message}"
    );
    let usd = op.batch_file(bid, "currency=USD").await;
    assert_eq!(usd.status(), 200);
    assert_eq!(
        header_str(usd.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    let mut rows: Vec<String> = usd
        .text()
        .await
        .unwrap()
        .split_terminator("\r\n")
        .map(String::from)
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            format!(
                "a@example.com,0.99,USD,pay-a,Payout {} statement 2,PAYPAL",
                pay("pay-a", "USD")
            ),
            format!(
                "b@example.com,1000.00,USD,pay-b,Payout {} statement 2,PAYPAL",
                pay("pay-b", "USD")
            ),
        ],
        "each partner's USD payout is its second statement (EUR or JPY first)"
    );
    let jpy = op
        .batch_file(bid, "currency=JPY")
        .await
        .text()
        .await
        .unwrap();
    assert!(jpy.starts_with("b@example.com,1200,JPY,pay-b,"), "{jpy}");

    let wise = json_of(
        op.create_batch("wise", &json!({"method": "wise"})).await,
        201,
    )
    .await;
    assert_eq!(wise["totals"], json!({"EUR": "0.05", "GBP": "12.34"}));
    let csv = op
        .batch_file(wise["batchId"].as_str().unwrap(), "")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency"
    );
    let mut body = lines[1..].to_vec();
    body.sort();
    let gbp = format!(
        "\"'=Wanda, \"\"W\"\" Ltd\",w@example.com,{},PRIVATE,target,12.34,GBP,GBP",
        pay("wise-a", "GBP")
    );
    let eur = format!(
        "\"'=Wanda, \"\"W\"\" Ltd\",w@example.com,{},PRIVATE,target,0.05,EUR,EUR",
        pay("wise-a", "EUR")
    );
    let mut want = vec![gbp, eur];
    want.sort();
    assert_eq!(body, want, "{csv}");
}

/// Mark-paid cut halfway (a failed transaction after the first payout): `503`, the balances
/// exact; the repeat pays the rest, each payout once, and a further repeat changes nothing.
#[tokio::test]
async fn a_batch_mark_paid_cut_halfway_is_finished_by_its_repeat() {
    let (app, switch) = spawn_with_failing_queue().await;
    partners(&app, &["pub-a", "pub-b", "pub-c"]).await;
    let op = op(&app);
    for p in ["pub-a", "pub-b", "pub-c"] {
        let body = json!({"type": "paypal", "email": format!("{p}@example.com")});
        json_of(op.put_payout_method(p, &body).await, 201).await;
        seed_amounts(&app, p, "EUR", &[1234, 1]).await;
    }
    run(&app, "run").await;
    // A creation cut at its claims: 503, nothing claimed; the same key then makes the batch.
    switch.fail_transacts_after(0, 1);
    let cut = op.create_batch("all", &json!({"method": "paypal"})).await;
    assert_eq!(cut.status(), 503);
    let batch = json_of(
        op.create_batch("all", &json!({"method": "paypal"})).await,
        201,
    )
    .await;
    assert_eq!(
        batch["excluded"],
        json!([]),
        "nothing held by a batch never made"
    );
    let bid = batch["batchId"].as_str().unwrap();
    assert_eq!(batch["totals"], json!({"EUR": "37.05"}));
    // One payout's status and its lines go through, then the next payout's write fails.
    switch.fail_transacts_after(2, 1);
    let body = json!({"reference": "PP-1"});
    assert_eq!(op.settle_batch(bid, "mark-paid", &body).await.status(), 503);
    no_drift(&app).await;
    let paid = json_of(op.settle_batch(bid, "mark-paid", &body).await, 200).await;
    assert_eq!(paid["status"], "paid");
    for p in ["pub-a", "pub-b", "pub-c"] {
        let b = json_of(op.balances(&format!("partnerId={p}")).await, 200).await;
        let row = &b["items"][0];
        assert_eq!(
            (row["approved"].as_str(), row["paid"].as_str()),
            (Some("0.00"), Some("12.35")),
            "{p}"
        );
    }
    json_of(op.settle_batch(bid, "mark-paid", &body).await, 200).await;
    no_drift(&app).await;
    let other = op
        .settle_batch(bid, "mark-paid", &json!({"reference": "PP-2"}))
        .await;
    assert!(error_message(other, 409).await.starts_with("reference:"));
}

/// PayPal at `email`.
fn paypal(email: &str) -> Value {
    json!({"type": "paypal", "email": email})
}

/// Whoever changes a partner's payout details never confirms the change: Ana, an operator,
/// sends pub-one's payouts to another PayPal account from her session and is refused
/// confirming it there and through a token she minted, in words; a batch leaves the payout
/// out as unconfirmed; another manager confirms, and it goes in.
#[tokio::test]
async fn whoever_changes_a_partners_payout_details_never_confirms_the_change() {
    use crate::money_rule::{by_token, money_token};
    use crate::partner_users::Browser;
    use reqwest::Method;
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let op = op(&app);
    for p in ["pub-one", "pub-two"] {
        let first = paypal(&format!("{p}@example.org"));
        json_of(op.put_payout_method(p, &first).await, 201).await;
    }
    crate::people::member(&app, "ana@acme.example", Role::Operator).await;
    let (cookie, csrf) = crate::people::sign_in(&app, "ana@acme.example").await;
    let ana = Browser {
        app: &app,
        cookie,
        csrf,
        act_as: None,
    };
    let path = "/v2/handles/acme/partners/pub-one/payout-method";
    let moved = paypal("mallory@example.org");
    let changed = json_of(ana.send(Method::PUT, path, Some(&moved)).await, 200).await;
    assert_eq!(changed["pendingConfirmation"], true, "{changed}");
    let token = money_token(&ana).await;

    let refused = ana.post(&format!("{path}/confirm"), &json!({})).await;
    let message = assert_error(refused, 403, "forbidden").await;
    assert!(message.contains("another manager confirms"), "{message}");
    let confirm = "/partners/pub-one/payout-method/confirm".to_owned();
    let through_token = by_token(&app, &token, &(Method::POST, confirm, json!({}), None)).await;
    assert_error(through_token, 403, "forbidden").await;

    seed_amounts(&app, "pub-one", "EUR", &[1000]).await;
    seed_amounts(&app, "pub-two", "EUR", &[2000]).await;
    let payouts = run(&app, "run-1").await;
    let (one, two) = (
        payouts[&("pub-one".into(), "EUR".into())].clone(),
        payouts[&("pub-two".into(), "EUR".into())].clone(),
    );
    let method = json!({"method": "paypal"});
    let batch = json_of(op.create_batch("b-1", &method).await, 201).await;
    assert_eq!(ids(&batch), std::slice::from_ref(&two));
    assert_eq!(batch["excluded"][0]["payoutId"], json!(one), "{batch}");
    assert_eq!(batch["excluded"][0]["reason"], "payout_method_unconfirmed");
    let still = json_of(op.payout_method("pub-one").await, 200).await;
    assert_eq!(still["pendingConfirmation"], true, "{still}");

    // Another manager confirms: it goes in.
    let confirmed = json_of(op.confirm_payout_method("pub-one").await, 200).await;
    assert_eq!(confirmed["pendingConfirmation"], false, "{confirmed}");
    let batch = json_of(op.create_batch("b-2", &method).await, 201).await;
    assert_eq!(ids(&batch), [one]);
}
