//! One sample of every kind (issue 59), with the fields and links its sender writes: what
//! `tenx mail preview` renders to HTML files (the screenshots in `docs/mail/` are of those) and
//! what `tests/api/mail_kinds.rs` sends through the worker to follow every link of every kind.
//! The links are absolute to `base`, built as the senders build them (`sign_in`, the sinks,
//! `digest`, `messages::post`, `claims::decide`, `domains::recheck`, `people::admin_mail`); the
//! sign-in and invitation tokens are samples (a real one is random and stored hashed).

use serde_json::{Value, json};

use super::MailKind;
use crate::domain::Handle;

/// The partner the samples are about.
pub const PARTNER: &str = "ana";

/// Every kind once, in [`MailKind::ALL`]'s order, with its template's fields.
pub fn samples(base: &str, handle: &Handle) -> Vec<(MailKind, Value)> {
    MailKind::ALL
        .into_iter()
        .map(|kind| (kind, sample(kind, base, handle)))
        .collect()
}

fn sample(kind: MailKind, base: &str, h: &Handle) -> Value {
    let p = PARTNER;
    let sign_in = format!("{base}/v2/auth/email-link/verify?token=tenx_l_sample");
    match kind {
        MailKind::SignIn => json!({ "link": sign_in }),
        MailKind::Invitation => {
            json!({ "link": sign_in, "inviter": "Ada Admin", "role": "operator" })
        }
        MailKind::PartnerApproved => json!({
            "partnerName": "Ana Lima", "programUrl": format!("{base}/programs/{h}"),
            "shortUrl": format!("{base}/ana"),
        }),
        MailKind::ApplicationReceived | MailKind::ApplicationRejected => application(kind, base, h),
        MailKind::CommissionDigest => json!({
            "partnerName": "Ana Lima", "count": 12, "day": "2026-11-25",
            "totals": [{"amount": "1234.50", "currency": "EUR"}, {"amount": "86.20", "currency": "USD"}],
            "commissionsUrl": format!("{base}/portal/{h}#commissions"),
        }),
        MailKind::PayoutSent => json!({
            "partnerName": "Ana Lima", "amount": "1234.50", "currency": "EUR",
            "method": "SEPA transfer", "paidAt": "2026-11-26T10:00:00Z", "reference": "TENX-2026-11-0042",
            "statementUrl": format!("{base}/v2/handles/{h}/payouts/pay_0195570b8d3e7f1a2b4c6d8e0f1a2b3c/statement"),
        }),
        MailKind::PlanNotice => json!({
            "partnerName": "Ana Lima", "effectiveAt": "2026-12-26T00:00:00Z",
            "summary": "Sales of Running shoes earn 12% instead of 10%; the first tier starts at 0.",
            "difference30d": "48.10", "currency": "EUR",
            "noticeUrl": format!("{base}/v2/handles/{h}/partners/{p}/notices"),
        }),
        MailKind::PayoutReturned => json!({
            "partnerName": "Ana Lima", "amount": "1234.50", "currency": "EUR",
            "reason": "PayPal could not pay it (the partner's PayPal account is locked).",
            "portalUrl": format!("{base}/portal/{h}"),
        }),
        MailKind::PartnerEmailChanged => json!({
            "partnerName": "Ana Lima", "changedAt": "2026-11-26T11:30:00Z",
            "portalUrl": format!("{base}/portal/{h}"),
        }),
        MailKind::PayoutMethodChanged => json!({
            "partnerId": p, "partnerName": "Ana Lima", "changedAt": "2026-11-26T11:30:00Z",
            "method": "a SEPA transfer",
        }),
        MailKind::WeeklySummary => json!({
            "from": "2026-11-16", "to": "2026-11-22", "clicks": 12840, "conversions": 312,
            "commissions": [{"amount": "2480.00", "currency": "EUR"}],
            "payouts": [{"amount": "1900.00", "currency": "EUR"}], "openClaims": 2,
            "consoleUrl": format!("{base}/?handle={h}"),
        }),
        MailKind::Message => json!({
            "from": "Acme Shoes", "subject": "Double commission this week",
            "body": "Every sale of the winter collection earns twice until Sunday.",
            "replyUrl": format!("{base}/portal/{h}#messages"),
        }),
        MailKind::ClaimOpened => json!({
            "partnerName": p, "orderId": "A-1001", "deadlineAt": "2026-12-10T10:00:00Z",
            "claimUrl": format!("{base}/?handle={h}#/commissions"),
        }),
        MailKind::ClaimDecided => json!({
            "partnerName": "Ana Lima", "orderId": "A-1001", "decision": "approve",
            "reason": "The order came from your newsletter.",
            "claimUrl": format!("{base}/portal/{h}"),
        }),
        MailKind::DomainFailing => json!({
            "domain": "go.acme.example", "recordName": "_tenx.go.acme.example",
            "recordValue": "tenx-verify=3f9a1c", "graceEnds": "2026-12-03T00:00:00Z",
            "domainsUrl": format!("{base}/?handle={h}#domains"),
        }),
        MailKind::TaxProfileNeedsFix => json!({
            "partnerName": "Ana Lima",
            "reason": "The legal name must be the one on your tax registration.",
            "portalUrl": format!("{base}/portal/{h}#tax"),
        }),
        MailKind::CouponLeak => json!({
            "code": "ANA20", "partnerName": p, "score": 82, "threshold": 60,
            "conversions": 40, "withoutClick": 31,
            "reportUrl": format!("{base}/?handle={h}#/partners"),
        }),
    }
}

/// An application's mails: the team's when it arrives, the applicant's when it is turned down.
fn application(kind: MailKind, base: &str, h: &Handle) -> Value {
    if kind == MailKind::ApplicationRejected {
        return json!({
            "applicantName": "Ana Lima",
            "reason": "We look for blogs about running; yours is about cycling.",
            "programUrl": format!("{base}/programs/{h}"),
        });
    }
    json!({
        "applicantName": "Ana Lima", "applicantEmail": "ana@example.org",
        "appliedAt": "2026-11-26T09:12:00Z", "message": "I review running shoes on my blog.",
        "reviewUrl": format!("{base}/?handle={h}#/program"),
    })
}
