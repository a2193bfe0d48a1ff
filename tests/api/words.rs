//! What a manager or a partner reads in their mail and in the files a manager downloads is in
//! words: no code (`ACTIVE`, `no_payout_method`), no raw id (`com_…`), no RFC 3339 time, no
//! amount with one decimal (`€49.9`), no machine word (JWT, HTTP). The same rules as the
//! console's screens (`scripts/browser_words.py`).
//!
//! Mail: every kind, with its sender's fields, through the worker; then a program's own flow
//! (an application, its approval, a rejection mailed with its reason, a message, a paid payout
//! of €49.90), each mail as it is sent.
//!
//! Files (the audit log, the funnel, a payout's statement, the tax profiles, the year-end
//! 1099-NEC): the rule for a CSV a manager downloads. Its columns named in words (the 1099-NEC
//! file's "Recipient Name") are read by a person: every cell in words. Its documented columns
//! named as the API names fields (`actorType`, `updatedAt`) are a merchant's engineer's and a
//! spreadsheet formula's: ids, codes and RFC 3339 times are their values, as in the API. A
//! column of codes a person needs to read (the actor's kind, the tax form) has its words in a
//! `…Words` column after every documented one, and those are checked as words.

use regex::Regex;
use reqwest::Method;
use serde_json::json;
use tenx_shared::domain::email::Email;
use tenx_shared::http::auth::Role;
use tenx_shared::mail::{MailKind, Outgoing};
use tenx_shared::testing::mail::SentMail;

use crate::helpers::*;
use crate::payout_batches::run;
use crate::programs::{apply_ok, program};
use crate::scenario::seed_amounts as seed;

/// What a person never reads, each with what it is.
fn forbidden() -> Vec<(Regex, &'static str)> {
    let ids = "clk|cnv|evt|rcv|req|rev|com|pay|bat|tok|wh|app|imp|usr|inv|pk|ses|ntc|msg|brd|clm\
               |att|run|upl|cus|wc|cc|ml|cli|sie|acct";
    [
        (r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", "an UPPER_SNAKE code"),
        (r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", "a snake_case code"),
        (
            r"\b[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b",
            "a camelCase field name",
        ),
        (&format!(r"\b(?:{ids})_[0-9A-Za-z]{{6,}}"), "a raw id"),
        (r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", "an RFC 3339 time"),
        (
            r"\b\d{4}-\d{2}-\d{2}(?:[^T\d]|$)",
            "a machine's date (2026-11-28)",
        ),
        (
            r"[€$£¥]\s?-?\d[\d,]*\.\d\b|\b\d[\d,]*\.\d\s?(?:EUR|USD|GBP)\b",
            "an amount with one decimal",
        ),
        (
            r"\b(?:JWT|sessionStorage|localStorage|RFC|HTTP|JSON|null|undefined|NaN)\b",
            "a machine word",
        ),
    ]
    .into_iter()
    .map(|(p, what)| (Regex::new(p).unwrap(), what))
    .collect()
}

/// What looks like a code but is copied whole: an address (a link's query and path are not
/// words of ours), an email address, a DNS record's name (`_tenx.go.acme.example`).
fn copied() -> Regex {
    Regex::new(
        r"(?:https?://|[a-z0-9-]+\.[a-z0-9.-]+/)\S*|\S+@\S+\.\S+|\b_[a-z0-9-]+(?:\.[a-z0-9-]+)+\b",
    )
    .unwrap()
}

/// Each forbidden thing in `text`: (what, the match, its line).
fn findings(text: &str) -> Vec<String> {
    let text = copied().replace_all(text, " ");
    let rules = forbidden();
    let mut found = Vec::new();
    for line in text.lines() {
        for (re, what) in &rules {
            if let Some(m) = re.find(line) {
                found.push(format!("{what} {:?} in {:?}", m.as_str(), line.trim()));
            }
        }
    }
    found
}

/// An HTML part's text as a reader sees it: tags out, entities read.
fn html_text(html: &str) -> String {
    let no_style = Regex::new(r"(?s)<(style|head)[^>]*>.*?</(style|head)>").unwrap();
    let tags = Regex::new(r"<[^>]+>").unwrap();
    let no_style = no_style.replace_all(html, " ");
    let text = tags.replace_all(&no_style, "\n");
    text.replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
}

/// Fails naming every mail that speaks code, in which part.
fn assert_mail_in_words(sent: &[SentMail]) {
    let mut bad = Vec::new();
    for m in sent {
        for (part, text) in [
            ("subject", m.subject.clone()),
            ("text", m.text.clone()),
            ("html", html_text(&m.html)),
        ] {
            bad.extend(
                findings(&text)
                    .into_iter()
                    .map(|f| format!("{} ({part}): {f}", m.kind)),
            );
        }
    }
    assert!(
        bad.is_empty(),
        "mail a person reads speaks code:\n{}",
        bad.join("\n")
    );
}

/// The kinds a partner (or an applicant) reads: never a word of its risk.
const PARTNER_KINDS: [&str; 11] = [
    "partner_approved",
    "partner_email_changed",
    "application_rejected",
    "commission_digest",
    "payout_sent",
    "plan_notice",
    "payout_method_changed",
    "claim_decided",
    "tax_profile_needs_fix",
    "payout_returned",
    "message",
];

fn assert_no_risk_to_partners(sent: &[SentMail]) {
    let risk = Regex::new(r"(?i)\b(?:risk|fraud|signal|score|suspicious)").unwrap();
    for m in sent
        .iter()
        .filter(|m| PARTNER_KINDS.contains(&m.kind.as_str()))
    {
        let text = format!("{}\n{}", m.subject, m.text);
        assert!(
            !risk.is_match(&text),
            "{} tells a partner its risk: {text}",
            m.kind
        );
    }
}

#[tokio::test]
async fn every_kind_of_mail_reads_in_words() {
    let mut config = test_config();
    config.mail.per_recipient_hour = 100;
    let (app, _switch) = spawn_with_failing_queue_config(config).await;
    let state = app.state();
    let samples = tenx_shared::mail::preview::samples("https://mail.example", &acme());
    let to = Email::parse("to", "ana@example.org").unwrap();
    for (kind, data) in &samples {
        let mail = Outgoing {
            handle: Some(acme()),
            to: to.clone(),
            kind: *kind,
            key: format!("words-{}", kind.as_str()),
            data: data.clone(),
        };
        tenx_shared::mail::enqueue(state.io(), mail).await.unwrap();
    }
    app.deliver_mail().await;
    let sent = app.sent_mail();
    assert_eq!(sent.len(), MailKind::ALL.len(), "every kind sent");
    assert_mail_in_words(&sent);
    assert_no_risk_to_partners(&sent);
}

/// The mail of `kind` once it is sent (the workers send it).
async fn mail_of(app: &TestApp, kind: &str) -> SentMail {
    eventually(&format!("a {kind} mail"), || async {
        app.sent_mail().into_iter().find(|m| m.kind == kind)
    })
    .await
}

/// A program's flow as a manager runs it: what it mails, as sent; returns the approved
/// partner's id and its paid payout's.
async fn a_programs_flow(app: &TestApp) -> (String, String) {
    program(app, "acme", json!({})).await;
    let admin = app.as_role("acme", Role::Admin);
    let brand = json!({"name": "Acme Shoes", "replyTo": "partners@acme.example"});
    json_of(admin.send_json(Method::PUT, "/branding", &brand).await, 200).await;
    let op = app.as_role("acme", Role::Operator);
    let jane = apply_ok(app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let approved = json_of(op.approve_application(&jane).await, 200).await;
    let partner = approved["partnerId"].as_str().unwrap().to_owned();
    let joe = apply_ok(app, "acme", "joe@shoes.example", "203.0.113.2").await;
    let body = json!({"reason": "We look for running blogs.", "mailApplicant": true});
    json_of(op.reject_application(&joe, &body).await, 200).await;
    let message = json!({"body": "Welcome to the program!"});
    let path = format!("/partners/{partner}/messages");
    json_of(op.send_json(Method::POST, &path, &message).await, 201).await;
    // A sale's commission of €49.90 paid: the amount a one-decimal format would show as €49.9.
    seed(app, &partner, "EUR", &[4990]).await;
    let pid = run(app, "words-run").await[&(partner.clone(), "EUR".into())].clone();
    let paid = op
        .settle_payout(&pid, "mark-paid", &json!({"reference": "SEPA-2026-11"}))
        .await;
    json_of(paid, 200).await;
    (partner, pid)
}

#[tokio::test]
async fn a_programs_mail_reads_in_words() {
    let app = spawn_with(crate::programs::config(), None).await;
    a_programs_flow(&app).await;
    let mut sent = Vec::new();
    for kind in [
        "application_received",
        "partner_approved",
        "application_rejected",
        "message",
        "payout_sent",
    ] {
        sent.push(mail_of(&app, kind).await);
    }
    let paid = &sent[4];
    assert_eq!(paid.subject, "Your payout of €49.90 was sent");
    assert_mail_in_words(&sent);
    assert_no_risk_to_partners(&sent);
}

/// A CSV's rows, headers first.
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    r.records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A header named as the API names its fields (`actorType`, `commissionsPaid_EUR`): a
/// documented machine column.
fn machine_column(header: &str) -> bool {
    Regex::new(r"^[a-z][A-Za-z0-9]*(?:_[A-Z]{3})?$")
        .unwrap()
        .is_match(header)
        && !header.ends_with("Words")
}

/// The file's person-read columns (headers in words and `…Words` columns) hold words; each
/// of `coded` (machine columns of codes) has its `…Words` column.
fn assert_csv_in_words(name: &str, body: &str, coded: &[&str]) {
    let rows = csv_rows(body);
    assert!(rows.len() > 1, "{name}: no row: {body}");
    let headers = &rows[0];
    for code in coded {
        let words = format!("{code}Words");
        assert!(
            headers.contains(&words),
            "{name}: {code} has no {words} column: {headers:?}"
        );
    }
    let mut bad = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if machine_column(header) {
            continue;
        }
        // A `…Words` column is named as the API names fields (its header is documented); a
        // column named in words is read by its header too.
        if !header.ends_with("Words") {
            bad.extend(findings(header).into_iter().map(|f| format!("header: {f}")));
        }
        for row in &rows[1..] {
            let cell = row.get(i).map_or("", String::as_str);
            bad.extend(findings(cell).into_iter().map(|f| format!("{header}: {f}")));
        }
    }
    assert!(bad.is_empty(), "{name} speaks code:\n{}", bad.join("\n"));
}

async fn download(who: &crate::endpoints::As<'_>, rest: &str) -> String {
    let got = who.get(rest).await;
    assert_eq!(got.status(), 200, "{rest}");
    got.text().await.unwrap()
}

#[tokio::test]
async fn every_file_a_manager_downloads_reads_in_words() {
    let app = spawn_with(crate::programs::config(), None).await;
    let (partner, pid) = a_programs_flow(&app).await;
    let admin = app.as_role("acme", Role::Admin);
    let audit = download(&admin, "/audit/export").await;
    assert_csv_in_words("the audit log", &audit, &["actorType", "action"]);
    let funnel = download(&admin, "/analytics/export").await;
    assert_csv_in_words("the funnel", &funnel, &["status", "confidenceReasons"]);
    let statement = download(&admin, &format!("/payouts/{pid}/statement?format=csv")).await;
    assert_csv_in_words("the statement", &statement, &["kind"]);
    let profile = json!({"form": "w9", "legalName": "Jane Doe", "country": "US",
        "taxId": "123-45-6789", "address": "1 Main St, Springfield"});
    let path = format!("/partners/{partner}/tax-profile");
    let put = admin.send_json(Method::PUT, &path, &profile).await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    let tax = download(&admin, "/tax-profiles/export").await;
    assert_csv_in_words("the tax profiles", &tax, &["form"]);
    // The year-end 1099-NEC file: a US payee paid $2,100.00 this year.
    seed(&app, &partner, "USD", &[210_000]).await;
    let op = app.as_role("acme", Role::Operator);
    let usd = run(&app, "words-run-usd").await[&(partner.clone(), "USD".into())].clone();
    let paid = op
        .settle_payout(&usd, "mark-paid", &json!({"reference": "ACH-2026-11"}))
        .await;
    json_of(paid, 200).await;
    let year = tenx_shared::platform::time::now().year();
    let nec = download(&admin, &format!("/tax-reports/1099-nec?year={year}")).await;
    assert!(nec.contains("2100.00"), "{nec}");
    assert_csv_in_words("the 1099-NEC", &nec, &[]);
}
