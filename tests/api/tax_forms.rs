//! Tax forms a partner signs and a program accepts, and self-billing invoices: only the partner
//! signs (the server stamps the time, a change unsigns it); the program accepts a signed form or
//! sends it back in words, mailed; `requireTaxProfile: "accepted"` holds payouts until then
//! while `true` keeps meaning "given"; a paid payout's invoice is a PDF in the partner's name,
//! numbered per partner without gaps (racing invoices get two numbers), its figures the
//! statement's (read back with `pdftotext`), reverse-charged between two member states, carried
//! by the payout's mail; a credit note cancels an invoice once per payout, numbered in a series
//! of its own (racing notes get two numbers); the 1099-NEC threshold of a year is the program's
//! when it sets one.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::endpoints::As;
use crate::helpers::*;
use crate::payout_batches::{DE_IBAN, run, sepa};
use crate::scenario::{Program, partners, seed_amounts};

const FR_VAT: &str = "FR40303265045";

async fn put_tax(who: &As<'_>, partner: &str, body: &Value) -> reqwest::Response {
    who.send_json(
        Method::PUT,
        &format!("/partners/{partner}/tax-profile"),
        body,
    )
    .await
}

async fn review(who: &As<'_>, partner: &str, step: &str, body: &Value) -> reqwest::Response {
    who.send_json(
        Method::POST,
        &format!("/partners/{partner}/tax-profile/{step}"),
        body,
    )
    .await
}

fn w9(signer: Option<&str>) -> Value {
    let mut body = json!({"form": "w9", "legalName": "Jane Doe LLC", "country": "US",
        "taxId": "12-3456789", "address": "1 Main St, Springfield, IL 62701"});
    if let Some(name) = signer {
        body["certification"] = json!({"signedName": name});
    }
    body
}

#[tokio::test]
async fn only_the_partner_signs_and_a_change_unsigns_it() {
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let op = app.as_role("acme", Role::Operator);

    // Given without a signature: a draft.
    let draft = json_of(put_tax(&one, "pub-one", &w9(None)).await, 200).await;
    assert_eq!(
        (&draft["status"], &draft["certification"]),
        (&json!("draft"), &Value::Null)
    );
    // Signed: submitted, the time the server's, the signer's name as typed (a person for an
    // entity); the version moves on.
    let before = tenx_shared::platform::time::now_millis();
    let signed = json_of(put_tax(&one, "pub-one", &w9(Some(" Jane Doe "))).await, 200).await;
    assert_eq!(signed["status"], "submitted", "{signed}");
    assert_eq!(signed["certification"]["signedName"], "Jane Doe");
    let at = signed["certification"]["signedAt"].as_str().unwrap();
    assert!(tenx_shared::domain::time::rfc3339_millis(at).unwrap() >= before - 1000);
    assert!(signed["version"].as_u64() > draft["version"].as_u64());
    // The signature is sealed with the profile: nothing of it in the stored item's sealed part
    // opens without the keys, and the item holds no tax id.
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let partner = tenx_shared::domain::PartnerId::parse("pub-one").unwrap();
    let (pk, sk) = tenx_shared::platform::store::keys::tax_profile(&handle, &partner);
    let raw = serde_json::to_string(&app.store.get(&pk, &sk).await.unwrap().unwrap().doc).unwrap();
    assert!(!raw.contains("123456789"), "{raw}");
    // The same profile sent again changes nothing; a change unsigns it.
    let same = json_of(put_tax(&one, "pub-one", &w9(None)).await, 200).await;
    assert_eq!(same["status"], "submitted");
    let mut moved = w9(None);
    moved["address"] = json!("2 Oak Ave, Springfield, IL 62701");
    let changed = json_of(put_tax(&one, "pub-one", &moved).await, 200).await;
    assert_eq!(
        (&changed["status"], &changed["certification"]),
        (&json!("draft"), &Value::Null)
    );

    // The program may correct details, never sign them; a signature needs a name.
    let m = assert_error(
        put_tax(&op, "pub-two", &w9(Some("Op"))).await,
        403,
        "forbidden",
    )
    .await;
    assert!(m.contains("Only the partner signs"), "{m}");
    let m = assert_error(
        put_tax(&one, "pub-one", &w9(Some("  "))).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(m.starts_with("certification.signedName"), "{m}");
    // A profile that fails its checks is refused before any signature.
    let mut bad = w9(Some("Jane Doe"));
    bad["taxId"] = json!("666-45-6789");
    let m = assert_error(put_tax(&one, "pub-one", &bad).await, 400, "invalid_request").await;
    assert!(m.starts_with("taxId"), "{m}");
    let audit = app.as_role("acme", Role::Admin);
    let certified = json_of(audit.get("/audit?action=tax_profile.certified").await, 200).await;
    assert_eq!(certified["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_program_accepts_a_signed_form_or_sends_it_back_in_words() {
    let app = spawn_app().await;
    partners(&app, &["pub-one"]).await;
    let op = app.as_role("acme", Role::Operator);
    let email = json!({"email": "one@partner.example"});
    json_of(op.update_partner("pub-one", &email).await, 200).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    // Before any form: nothing to review, said with the partner's name.
    for (step, body) in [
        ("accept", json!({})),
        ("request-fix", json!({"reason": "Sign it."})),
    ] {
        let m = assert_error(
            review(&op, "pub-one", step, &body).await,
            409,
            "invalid_state",
        )
        .await;
        assert!(
            m.contains("Partner pub-one has not sent a tax form yet"),
            "{step}: {m}"
        );
    }
    json_of(put_tax(&one, "pub-one", &w9(None)).await, 200).await;

    // Unsigned: not accepted, in words. Unknown: 404. A partner does not review.
    let m = assert_error(
        review(&op, "pub-one", "accept", &json!({})).await,
        409,
        "invalid_state",
    )
    .await;
    assert!(m.contains("has not signed"), "{m}");
    assert_error(
        review(&op, "pub-nobody", "accept", &json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        review(&one, "pub-one", "accept", &json!({})).await.status(),
        403
    );

    // Sent back with a reason: needs_fix, the reason shown, the partner mailed.
    let reason = "The legal name must be the one on your IRS letter.";
    let back = json_of(
        review(&op, "pub-one", "request-fix", &json!({"reason": reason})).await,
        200,
    )
    .await;
    assert_eq!(
        (&back["status"], &back["fixReason"]),
        (&json!("needs_fix"), &json!(reason))
    );
    let mine = json_of(one.get("/partners/pub-one/tax-profile").await, 200).await;
    assert_eq!(mine["fixReason"], reason);
    let sent = app.wait_for_mail(1).await;
    let mail = sent
        .iter()
        .find(|m| m.kind == "tax_profile_needs_fix")
        .expect("the partner is mailed");
    assert_eq!(mail.to, "one@partner.example");
    assert!(mail.text.contains(reason), "{}", mail.text);
    assert_error(
        review(&op, "pub-one", "request-fix", &json!({"reason": " "})).await,
        400,
        "invalid_request",
    )
    .await;

    // Fixed and signed: accepted; the reason is gone.
    let signed = json_of(put_tax(&one, "pub-one", &w9(Some("Jane Doe"))).await, 200).await;
    assert_eq!(signed["status"], "submitted");
    assert!(signed.get("fixReason").is_none(), "{signed}");
    let ok = json_of(review(&op, "pub-one", "accept", &json!({})).await, 200).await;
    assert_eq!(ok["status"], "accepted");
    let admin = app.as_role("acme", Role::Admin);
    for action in ["tax_profile.accepted", "tax_profile.fix_requested"] {
        let a = json_of(admin.get(&format!("/audit?action={action}")).await, 200).await;
        assert_eq!(a["items"].as_array().unwrap().len(), 1, "{action}");
    }
}

#[tokio::test]
async fn an_accepting_program_holds_payouts_until_the_form_is_accepted() {
    let app = spawn_app().await;
    partners(&app, &["pub-one"]).await;
    let admin = app.as_role("acme", Role::Admin);
    let settings = json!({"debtorName": "ACME GmbH", "debtorIban": DE_IBAN});
    json_of(admin.put_payout_settings(&settings).await, 200).await;
    // `true` is answered as what it always meant; a word it does not know is refused.
    let given = json!({"name": "Acme partners", "requireTaxProfile": true});
    let put = json_of(admin.put_program(&given).await, 201).await;
    assert_eq!(put["requireTaxProfile"], "given");
    let odd = json!({"name": "Acme partners", "requireTaxProfile": "signed"});
    assert_error(admin.put_program(&odd).await, 400, "invalid_request").await;
    let accepted = json!({"name": "Acme partners", "requireTaxProfile": "accepted"});
    let put = json_of(admin.put_program(&accepted).await, 200).await;
    assert_eq!(put["requireTaxProfile"], "accepted");

    let op = app.as_role("acme", Role::Operator);
    json_of(
        op.put_payout_method("pub-one", &sepa("Holder", DE_IBAN))
            .await,
        201,
    )
    .await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let vat = json!({"form": "eu_vat", "legalName": "One GmbH", "country": "DE",
        "vatId": "DE136695976", "certification": {"signedName": "Ana One"}});
    json_of(put_tax(&one, "pub-one", &vat).await, 200).await;
    seed_amounts(&app, "pub-one", "EUR", &[1000]).await;
    let payouts = run(&app, "run-1").await;
    let pid = payouts[&("pub-one".into(), "EUR".into())].clone();
    // Signed is not accepted: nothing to batch, the reason named.
    let m = crate::payout_batches::error_message(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        400,
    )
    .await;
    assert!(
        m.contains(&format!("{pid} (payout_tax_profile_not_accepted)")),
        "{m}"
    );
    json_of(review(&op, "pub-one", "accept", &json!({})).await, 200).await;
    let next = json_of(
        op.create_batch("b-2", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(crate::payout_batches::ids(&next), [pid], "{next}");
}

/// Self-billing on, with the merchant's legal details (a German VAT number).
pub(crate) async fn self_billing(app: &TestApp) {
    let admin = app.as_role("acme", Role::Admin);
    let program = json!({"name": "Acme partners", "selfBilling": {"enabled": true,
        "legalName": "Acme GmbH", "address": "Hauptstr. 1, 10115 Berlin",
        "vatId": "DE136695976"}});
    json_of(admin.put_program(&program).await, 201).await;
    let brand = json!({"name": "Acme Shoes", "color": "#aa3300"});
    json_of(admin.send_json(Method::PUT, "/branding", &brand).await, 200).await;
}

/// A paid payout of `lines` (EUR cents) for `partner`: its id.
async fn paid_payout(app: &TestApp, partner: &str, key: &str, lines: &[i64]) -> String {
    seed_amounts(app, partner, "EUR", lines).await;
    let pid = run(app, key).await[&(partner.into(), "EUR".into())].clone();
    let op = app.as_role("acme", Role::Operator);
    let paid = op
        .settle_payout(&pid, "mark-paid", &json!({"reference": key}))
        .await;
    json_of(paid, 200).await;
    pid
}

async fn invoice(who: &As<'_>, pid: &str) -> reqwest::Response {
    who.get(&format!("/payouts/{pid}/invoice?format=pdf")).await
}

/// The PDF's text, as `pdftotext -layout` reads it (Debian's poppler-utils).
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed: scripts/test.sh installs it");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_paid_payout_has_an_invoice_in_the_partners_name_with_the_statements_figures() {
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let op = app.as_role("acme", Role::Operator);
    seed_amounts(&app, "pub-one", "EUR", &[1250, 4999]).await;
    let pid = run(&app, "run-1").await[&("pub-one".into(), "EUR".into())].clone();

    // Before it is paid, and before self-billing is on and accepted: 409 in words.
    let m = assert_error(invoice(&op, &pid).await, 409, "invalid_state").await;
    assert!(m.contains("once the payout is paid"), "{m}");
    let paid = op
        .settle_payout(&pid, "mark-paid", &json!({"reference": "SEPA-1"}))
        .await;
    json_of(paid, 200).await;
    let m = assert_error(invoice(&op, &pid).await, 409, "invalid_state").await;
    assert!(m.contains("turn self-billing on"), "{m}");
    self_billing(&app).await;
    let m = assert_error(invoice(&op, &pid).await, 409, "invalid_state").await;
    assert!(m.contains("has not accepted self-billing"), "{m}");
    // Only the partner accepts.
    let accept = "/partners/pub-one/self-billing/accept";
    let m = assert_error(
        op.send_json(Method::POST, accept, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert!(m.contains("Only the partner"), "{m}");
    let state = json_of(one.get("/partners/pub-one/self-billing").await, 200).await;
    assert_eq!(
        (&state["enabled"], &state["accepted"]),
        (&json!(true), &json!(false))
    );
    assert!(
        state["agreement"]
            .as_str()
            .unwrap()
            .contains("self-billing")
    );
    json_of(one.send_json(Method::POST, accept, &json!({})).await, 200).await;
    // Paid before the agreement: no self-billing invoice, in words; the next one paid has one.
    let m = assert_error(invoice(&op, &pid).await, 409, "invalid_state").await;
    assert!(
        m.contains("paid before the partner accepted self-billing"),
        "{m}"
    );
    let pid = paid_payout(&app, "pub-one", "run-2", &[1250, 4999]).await;
    let vat = json!({"form": "eu_vat", "legalName": "Une SARL", "country": "FR",
        "vatId": FR_VAT, "address": "1 rue de la Paix, 75002 Paris"});
    json_of(put_tax(&one, "pub-one", &vat).await, 200).await;

    // The partner reads its own invoice; another partner's is 404 to it.
    let resp = invoice(&one, &pid).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "application/pdf"
    );
    assert_eq!(
        header_str(resp.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    let text = pdf_text(&resp.bytes().await.unwrap());
    let two = crate::scenario::as_partner(&app, "acme", "pub-two").await;
    assert_error(invoice(&two, &pid).await, 404, "not_found").await;
    assert_error(
        op.get(&format!("/payouts/{pid}/invoice?format=csv")).await,
        400,
        "invalid_request",
    )
    .await;

    // Its figures are the statement's: each line's id and amount, the total.
    let statement = json_of(op.statement(&pid, "json").await, 200).await;
    for line in statement["lines"].as_array().unwrap() {
        let (id, amount) = (
            line["commissionId"].as_str().unwrap(),
            line["amount"].as_str().unwrap(),
        );
        let row = text
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id}: {text}"));
        assert!(row.contains(amount) && row.contains("EUR"), "{row}");
    }
    let total = text
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .unwrap();
    assert!(total.contains("62.49") && total.contains("EUR"), "{total}");
    // Its parties, number, branding and the reverse charge (France to Germany).
    for words in [
        "Acme Shoes",
        "Self-billing invoice",
        "pub-one-00001",
        "Une SARL",
        FR_VAT,
        "1 rue de la Paix, 75002 Paris",
        "Acme GmbH",
        "DE136695976",
        "Reverse charge: VAT is to be accounted for by the customer",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    // Asked again: the same invoice, the same number; a later profile change edits nothing.
    let renamed = json!({"form": "eu_vat", "legalName": "Une Autre SARL", "country": "FR",
        "vatId": FR_VAT});
    json_of(put_tax(&one, "pub-one", &renamed).await, 200).await;
    let again = invoice(&op, &pid).await;
    assert_eq!(
        header_str(again.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    let text = pdf_text(&again.bytes().await.unwrap());
    assert!(
        text.contains("Une SARL") && !text.contains("Autre"),
        "{text}"
    );
}

#[tokio::test]
async fn payouts_of_one_partner_paid_at_once_take_invoice_numbers_in_payment_order_never_one_twice()
{
    const AT_ONCE: usize = 6;
    let app = spawn_app().await;
    partners(&app, &["pub-one"]).await;
    self_billing(&app).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let accept = "/partners/pub-one/self-billing/accept";
    json_of(one.send_json(Method::POST, accept, &json!({})).await, 200).await;
    let mut pids = Vec::new();
    for (i, cents) in [100, 200, 300, 400, 500, 600].into_iter().enumerate() {
        seed_amounts(&app, "pub-one", "EUR", &[cents]).await;
        pids.push(run(&app, &format!("run-{i}")).await[&("pub-one".into(), "EUR".into())].clone());
    }
    let op = app.as_role("acme", Role::Operator);
    // Every payout marked paid at the same moment: each takes its number as it is paid.
    let bodies: Vec<Value> = pids
        .iter()
        .map(|pid| json!({"reference": format!("SEPA-{pid}")}))
        .collect();
    let paid = futures::future::join_all(
        pids.iter()
            .zip(&bodies)
            .map(|(pid, body)| op.settle_payout(pid, "mark-paid", body)),
    )
    .await;
    for r in paid {
        json_of(r, 200).await;
    }
    // Asked for later, in any order, all at once: each payout's number is the one it took.
    let asked = futures::future::join_all(pids.iter().rev().map(|pid| invoice(&op, pid))).await;
    let mut numbered = Vec::new();
    for (pid, r) in pids.iter().rev().zip(asked) {
        assert_eq!(r.status(), 200);
        let number = header_str(r.headers(), "x-invoice-number").to_owned();
        let view = json_of(op.get(&format!("/payouts/{pid}")).await, 200).await;
        let paid_at = view["paidAt"].as_str().unwrap().to_owned();
        numbered.push((number, paid_at));
    }
    numbered.sort();
    let numbers: Vec<&str> = numbered.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<String> = (1..=AT_ONCE).map(|n| format!("pub-one-{n:05}")).collect();
    assert_eq!(numbers, expected, "one each, none twice, no gap");
    // In payment order: each number's payment is no earlier than the one before it.
    let times: Vec<_> = numbered
        .iter()
        .map(|(_, t)| tenx_shared::domain::time::parse_rfc3339(t).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{numbered:?}");
    // The invoice asked twice at once is one; a payout paid later takes the next number.
    let (a, b) = tokio::join!(invoice(&op, &pids[0]), invoice(&op, &pids[0]));
    assert_eq!(
        header_str(a.headers(), "x-invoice-number"),
        header_str(b.headers(), "x-invoice-number")
    );
    let later = paid_payout(&app, "pub-one", "run-later", &[700]).await;
    let r = invoice(&op, &later).await;
    assert_eq!(
        header_str(r.headers(), "x-invoice-number"),
        format!("pub-one-{:05}", AT_ONCE + 1)
    );
    let log = json_of(op.get("/audit?action=invoice.issued").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), AT_ONCE + 1, "{log}");
}

#[tokio::test]
async fn racing_credit_notes_get_one_per_payout_numbered_in_their_own_series() {
    use tenx_shared::domain::{Handle, PayoutId};
    use tenx_shared::payouts::credit_note;
    let app = spawn_app().await;
    partners(&app, &["pub-one"]).await;
    self_billing(&app).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let accept = "/partners/pub-one/self-billing/accept";
    json_of(one.send_json(Method::POST, accept, &json!({})).await, 200).await;
    let a = paid_payout(&app, "pub-one", "run-a", &[100]).await;
    let b = paid_payout(&app, "pub-one", "run-b", &[200]).await;
    let never = paid_payout(&app, "pub-one", "run-c", &[300]).await;
    let op = app.as_role("acme", Role::Operator);
    for pid in [&a, &b] {
        assert_eq!(invoice(&op, pid).await.status(), 200);
    }
    let state = app.state();
    let store = state.store.as_ref();
    let handle = Handle::parse("acme").unwrap();
    let payout = |id: &str| {
        let id = PayoutId::parse(id).unwrap();
        let handle = handle.clone();
        async move {
            tenx_shared::payouts::get(store, &handle, &id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (pa, pb, pc) = (payout(&a).await, payout(&b).await, payout(&never).await);
    let why = "PayPal reversed the payment.";
    // Two returns at once get two numbers in order; the same return told twice at once, one note.
    let (na, nb, na2) = tokio::join!(
        credit_note::issue_if_invoiced(store, &handle, &pa, why),
        credit_note::issue_if_invoiced(store, &handle, &pb, why),
        credit_note::issue_if_invoiced(store, &handle, &pa, why),
    );
    let number = |n: Result<Option<credit_note::CreditNoteRecord>, _>| match n {
        Ok(Some(r)) => (r.number, r.invoice_number),
        other => panic!("{:?}", other.map(|o| o.map(|r| r.number))),
    };
    let (na, nb, na2) = (number(na), number(nb), number(na2));
    assert_eq!(na, na2);
    let mut got = [na.0.clone(), nb.0.clone()];
    got.sort();
    assert_eq!(got, ["pub-one-CN-00001", "pub-one-CN-00002"]);
    let mut cancels = [na.1, nb.1];
    cancels.sort();
    assert_eq!(cancels, ["pub-one-00001", "pub-one-00002"]);
    let log = json_of(op.get("/audit?action=invoice.credited").await, 200).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
    // Invoices and notes keep to their own partition: the team's invitations still list.
    let admin = app.as_role("acme", Role::Admin);
    json_of(admin.get("/members/invitations").await, 200).await;
    // A payout never invoiced has nothing to cancel: no note, and none asked for by the API.
    let none = credit_note::issue_if_invoiced(store, &handle, &pc, why).await;
    assert!(none.unwrap().is_none());
    let m = assert_error(
        op.get(&format!("/payouts/{never}/credit-note?format=pdf"))
            .await,
        409,
        "invalid_state",
    )
    .await;
    assert!(m.contains("was not given back"), "{m}");
    // The notes read back by the API, each its own number, its invoice unchanged.
    let resp = op
        .get(&format!("/payouts/{b}/credit-note?format=pdf"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header_str(resp.headers(), "x-invoice-number"), nb.0);
    let text = pdf_text(&resp.bytes().await.unwrap());
    assert!(text.contains("-2.00") && text.contains(&nb.0), "{text}");
}

#[tokio::test]
async fn the_paid_mail_carries_the_invoice_when_the_program_bills_itself() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    Program::on(&app, "acme")
        .mailed_partner("pub-one", "Partner pub-one", "pub-one@example.org")
        .await
        .mailed_partner("pub-two", "Partner pub-two", "pub-two@example.org")
        .await;
    self_billing(&app).await;
    // pub-one accepted self-billing; pub-two did not, so its mail goes alone.
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let accept = "/partners/pub-one/self-billing/accept";
    json_of(one.send_json(Method::POST, accept, &json!({})).await, 200).await;
    seed_amounts(&app, "pub-one", "EUR", &[1250, 4999]).await;
    seed_amounts(&app, "pub-two", "EUR", &[700]).await;
    let pids = run(&app, "run-1").await;
    for pid in pids.values() {
        let paid = op
            .settle_payout(pid, "mark-paid", &json!({"reference": "SEPA-1"}))
            .await;
        json_of(paid, 200).await;
    }
    let payout_mails = |all: &[tenx_shared::testing::mail::SentMail]| {
        all.iter().filter(|m| m.kind == "payout_sent").count()
    };
    let sent = eventually_or("two payout_sent mails", || async {
        let sent = app.sent_mail();
        if payout_mails(&sent) >= 2 {
            Ok(sent)
        } else {
            let kinds: Vec<&str> = sent.iter().map(|m| m.kind.as_str()).collect();
            Err(format!("{kinds:?}"))
        }
    })
    .await;
    let mail_to = |to: &str| {
        sent.iter()
            .find(|m| m.kind == "payout_sent" && m.to == to)
            .unwrap_or_else(|| panic!("no payout mail to {to}: {sent:?}"))
    };
    let with = mail_to("pub-one@example.org");
    assert_eq!(with.files.len(), 1, "{}", with.raw);
    let file = &with.files[0];
    assert_eq!(
        (file.name.as_str(), file.content_type.as_str()),
        ("invoice-pub-one-00001.pdf", "application/pdf")
    );
    // The attached invoice is the one the API answers, its figures the statement's.
    let text = pdf_text(&file.bytes);
    let pid = &pids[&("pub-one".into(), "EUR".into())];
    let resp = invoice(&op, pid).await;
    assert_eq!(
        header_str(resp.headers(), "x-invoice-number"),
        "pub-one-00001"
    );
    assert_eq!(text, pdf_text(&resp.bytes().await.unwrap()));
    let total = text
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .unwrap();
    assert!(total.contains("62.49") && total.contains("EUR"), "{total}");
    assert!(
        text.contains("Self-billing invoice") && text.contains("Acme GmbH"),
        "{text}"
    );
    // Its words say the invoice is attached, by its name.
    let said = "Your self-billing invoice for this payout is attached: invoice-pub-one-00001.pdf.";
    assert!(with.text.contains(said), "{}", with.text);
    // Without the partner's acceptance there is no invoice to carry: the mail goes alone, and
    // says nothing of one.
    let without = mail_to("pub-two@example.org");
    assert!(without.files.is_empty(), "{}", without.raw);
    assert!(!without.text.is_empty());
    assert!(!without.text.contains("invoice"), "{}", without.text);
}

#[tokio::test]
async fn the_year_end_1099_nec_lists_us_payees_over_the_threshold_for_admins_only() {
    let app = spawn_app().await;
    partners(&app, &["pub-us", "pub-low", "pub-de"]).await;
    let op = app.as_role("acme", Role::Operator);
    let us = |name: &str, tin: &str| {
        json!({"form": "w9", "legalName": name, "country": "US", "taxId": tin,
            "address": "1 Main St, Springfield, IL 62701"})
    };
    json_of(
        put_tax(&op, "pub-us", &us("Jane Doe", "123-45-6789")).await,
        200,
    )
    .await;
    json_of(
        put_tax(&op, "pub-low", &us("Low Earner", "12-3456789")).await,
        200,
    )
    .await;
    let foreign = json!({"form": "w8ben", "legalName": "Hans Weg", "country": "DE"});
    json_of(put_tax(&op, "pub-de", &foreign).await, 200).await;
    // $2,100.00 in two lines (over $600 and $2,000 alike), $500.00, and a foreign payee's $3,000.
    seed_amounts(&app, "pub-us", "USD", &[150_000, 60_000]).await;
    seed_amounts(&app, "pub-low", "USD", &[50_000]).await;
    seed_amounts(&app, "pub-de", "USD", &[300_000]).await;
    for (_, pid) in run(&app, "run-1").await {
        let paid = op
            .settle_payout(&pid, "mark-paid", &json!({"reference": "ACH-1"}))
            .await;
        json_of(paid, 200).await;
    }
    let year = tenx_shared::platform::time::now().year();
    let path = format!("/tax-reports/1099-nec?year={year}");

    // An operator does not read tax ids; an admin does, as CSV, never cached, audited.
    assert_eq!(op.get(&path).await.status(), 403);
    let admin = app.as_role("acme", Role::Admin);
    let resp = admin.get(&path).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header_str(resp.headers(), "cache-control"), "no-store");
    let csv = resp.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[0].starts_with("Tax Year,Recipient Name,Recipient TIN"),
        "{csv}"
    );
    assert_eq!(
        rows[1],
        format!(
            "{year},Jane Doe,123456789,\"1 Main St, Springfield, IL 62701\",US,pub-us,2100.00,1"
        )
    );
    let audit = json_of(admin.get("/audit?action=tax_reports.exported").await, 200).await;
    assert_eq!(
        audit["items"][0]["target"],
        format!("1099-NEC {year}: 1 payee")
    );

    // Each payee's Copy B, as PDF: box 1 as the CSV says, the TIN cut to its last four.
    let resp = admin
        .get(&format!("{path}&format=pdf&partnerId=pub-us"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header_str(resp.headers(), "content-type"),
        "application/pdf"
    );
    let text = pdf_text(&resp.bytes().await.unwrap());
    for words in [
        "Form 1099-NEC",
        "Copy B",
        "Jane Doe",
        "***-**-6789",
        "$2100.00",
        "pub-us",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(!text.contains("123456789"), "{text}");
    // Bad asks, in words.
    for bad in [
        "/tax-reports/1099-nec".to_owned(),
        "/tax-reports/1099-nec?year=1999".to_owned(),
        format!("{path}&format=xlsx"),
    ] {
        assert_error(admin.get(&bad).await, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_program_s_own_threshold_of_a_year_moves_who_is_listed_in_whole_cents_only() {
    let app = spawn_app().await;
    partners(&app, &["pub-us"]).await;
    let op = app.as_role("acme", Role::Operator);
    let w9 = json!({"form": "w9", "legalName": "Jane Doe", "country": "US",
        "taxId": "123-45-6789", "address": "1 Main St, Springfield, IL 62701"});
    json_of(put_tax(&op, "pub-us", &w9).await, 200).await;
    // $1,500.00: over the $600 of 2025, under the law's $2,000 of 2026 and later.
    seed_amounts(&app, "pub-us", "USD", &[150_000]).await;
    for (_, pid) in run(&app, "run-1").await {
        let paid = op
            .settle_payout(&pid, "mark-paid", &json!({"reference": "ACH-1"}))
            .await;
        json_of(paid, 200).await;
    }
    let year = tenx_shared::platform::time::now().year();
    let path = format!("/tax-reports/1099-nec?year={year}");
    let admin = app.as_role("acme", Role::Admin);
    let rows = |csv: String| csv.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    let csv = admin.get(&path).await.text().await.unwrap();
    assert!(
        rows(csv.clone()).is_empty(),
        "under the law's $2,000: {csv}"
    );

    // The program's own figure of that year, in whole cents: the payee is at it, so listed.
    let own = json!({"name": "Acme partners",
        "form1099NecThresholds": {year.to_string(): 150_000}});
    let saved = json_of(admin.put_program(&own).await, 201).await;
    assert_eq!(saved["form1099NecThresholds"][year.to_string()], 150_000);
    let csv = admin.get(&path).await.text().await.unwrap();
    let listed = rows(csv.clone());
    assert_eq!(listed.len(), 1, "{csv}");
    assert!(listed[0].contains("pub-us,1500.00,1"), "{csv}");
    // Another year keeps the law's figure; a float, a string, a negative amount or a key that
    // is not a year is refused by name, and the saved figure stays.
    for (bad, field) in [
        (json!({"2027": 2100.5}), "form1099NecThresholds.2027"),
        (json!({"2027": 210_000.0}), "form1099NecThresholds.2027"),
        (json!({"2027": "210000"}), "form1099NecThresholds.2027"),
        (json!({"2027": -1}), "form1099NecThresholds.2027"),
        (json!({"twenty": 1}), "form1099NecThresholds.twenty"),
        (json!(600), "form1099NecThresholds"),
    ] {
        let body = json!({"name": "Acme partners", "form1099NecThresholds": bad});
        let m = assert_error(admin.put_program(&body).await, 400, "invalid_request").await;
        assert!(m.starts_with(field), "{field}: {m}");
    }
    let program = json_of(admin.get("/program").await, 200).await;
    assert_eq!(program["form1099NecThresholds"][year.to_string()], 150_000);
}
