//! What sends mail (issue 59): a sink of the events consumer, beside the webhook fan-out. Each
//! event of a kind that mails enqueues one message keyed by the event's id, so a redelivered
//! event (the consumer is at-least-once) finds its mail queued already and queues nothing more.
//!
//! - `partner.approved` → `partner_approved` to the partner: approved, a link to the program's
//!   page. The approval itself stages this mail, keyed by the same event, with `signInLink`
//!   (issue 61: a link that signs the contact in as the partner's owner, never a token), so this
//!   copy finds it queued already and sends nothing more; it mails only an event replayed
//!   without its approval's mail.
//! - `partner.applied`, `claim.opened`, `coupon.leak_suspected`: mail to the handle's admins,
//!   sent by the people room's sink (`people::admin_mail`), which knows who they are.
//! - `payout.paid` → `payout_sent` to the partner's address (its record's), with the statement,
//!   and its self-billing invoice as PDF when the program bills that way (`mail::attach`).
//! - `plan.changed` → `plan_notice` to the partner's address: the signed notice's summary, its
//!   30-day difference and the link to the partner's notices.
//! - `commission.created` → counted into the partner's digest of the day (`mail::digest`),
//!   mailed by the sweeper once the day is over.
//!
//! The event JSON is read by field (as the postback filter does): the sink reads events of
//! several rooms and imports none of them but `partners` (the partner's address).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{MailKind, Outgoing};
use crate::domain::email::Email;
use crate::domain::{Handle, PartnerId};
use crate::kernel::consume::EventSink;
use crate::kernel::events::{Event, EventType};
use crate::kernel::state::AppState;

pub struct MailSink;

#[async_trait]
impl EventSink for MailSink {
    fn name(&self) -> &'static str {
        "mail"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        let (commissions, others): (Vec<&Event>, Vec<&Event>) = events
            .iter()
            .partition(|e| e.kind == EventType::CommissionCreated);
        super::digest::count_many(state.io(), &commissions).await?;
        for event in others {
            let Some(mail) = outgoing(state, event).await? else {
                continue;
            };
            super::enqueue(state.io(), mail).await?;
        }
        Ok(())
    }
}

fn text<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// An address from an event, `None` (logged) when it is not one we send to.
fn address(event: &Event, raw: &str) -> Option<Email> {
    match Email::parse("email", raw) {
        Ok(e) => Some(e),
        Err(_) => {
            tracing::info!(event_id = %event.id, "no mail: the event names no usable address");
            None
        }
    }
}

/// The mail an event sends, if any.
async fn outgoing(state: &AppState, event: &Event) -> anyhow::Result<Option<Outgoing>> {
    let base = super::unsubscribe::public_base(&state.config);
    let handle = &event.handle;
    let d = &event.data;
    let (to, kind, data) = match event.kind {
        EventType::PartnerApproved => {
            let Some(to) = address(event, text(d, "email")) else {
                return Ok(None);
            };
            let data = json!({
                "partnerName": text(d, "name"),
                "programUrl": format!("{base}/programs/{handle}"),
                "shortUrl": text(d, "shortUrl"),
            });
            (to, MailKind::PartnerApproved, data)
        }
        EventType::PayoutPaid => {
            let Some(to) = partner_address(state, handle, text(d, "partnerId")).await? else {
                return Ok(None);
            };
            let payout = text(d, "payoutId");
            let data = json!({
                "partnerName": text(d, "partnerId"),
                "amount": text(d, "amount"),
                "currency": text(d, "currency"),
                "paidAt": text(d, "paidAt"),
                "reference": text(d, "reference"),
                "statementUrl": format!("{base}/v2/handles/{handle}/payouts/{payout}/statement"),
                // Its self-billing invoice rides along, when the program bills that way.
                (super::attach::INVOICE_OF): payout,
            });
            (to, MailKind::PayoutSent, data)
        }
        EventType::PlanChanged => {
            let Some(to) = partner_address(state, handle, text(d, "partnerId")).await? else {
                return Ok(None);
            };
            let diff = d.get("difference30d").cloned().unwrap_or(Value::Null);
            let partner = text(d, "partnerId");
            let data = json!({
                "partnerName": partner,
                "summary": text(d, "summary"),
                "effectiveAt": text(d, "effectiveAt"),
                "difference30d": diff.get("difference").cloned().unwrap_or(Value::Null),
                "currency": diff.get("currency").cloned().unwrap_or(Value::Null),
                "noticeUrl": format!("{base}/v2/handles/{handle}/partners/{partner}/notices"),
            });
            (to, MailKind::PlanNotice, data)
        }
        _ => return Ok(None),
    };
    Ok(Some(Outgoing {
        handle: Some(handle.clone()),
        to,
        kind,
        key: event.id.to_string(),
        data,
    }))
}

/// The partner's address, from its record (`None` when it has none).
async fn partner_address(
    state: &AppState,
    handle: &Handle,
    partner: &str,
) -> anyhow::Result<Option<Email>> {
    let Ok(id) = PartnerId::parse(partner) else {
        return Ok(None);
    };
    let found = crate::partners::get(state.store.as_ref(), handle, &id).await?;
    Ok(found
        .and_then(|p| p.email)
        .and_then(|e| Email::parse("email", &e).ok()))
}
