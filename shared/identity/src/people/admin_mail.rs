//! Mail to a handle's admins (issue 59): a sink of the events consumer beside the mail room's
//! own. It lives here, not in `mail`, because the admins are the people room's (a handle's
//! members with the admin role) and the people room already sends through the mail room.
//!
//! - `partner.applied` → `application_received`: a new application to review;
//! - `claim.opened` → `claim_opened` (issue 63): a partner claims a commission;
//! - `coupon.leak_suspected` → `coupon_leak` (issue 63): a code's sales look leaked.
//!
//! One mail per admin per event, keyed by the event's id and the address, so a redelivered event
//! (the consumer is at-least-once) queues nothing more. Each is a kind an admin may turn off
//! (their preferences, the mail's one-click unsubscribe). A handle without an admin with an
//! address (a team not set up, JWTs only) is mailed at its branding's `replyTo`, if set.
//!
//! The event JSON is read by field (as the mail room's sink does): no import of the claims or
//! coupon rooms.

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::domain::Handle;
use crate::domain::email::Email;
use crate::kernel::consume::EventSink;
use crate::kernel::events::{Event, EventType};
use crate::kernel::state::AppState;
use crate::mail::{MailKind, Outgoing};
use crate::platform::store::{Store, StoreError};

pub struct AdminMailSink;

#[async_trait]
impl EventSink for AdminMailSink {
    fn name(&self) -> &'static str {
        "admin_mail"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        for event in events {
            let Some((kind, data)) = mail_of(state, event) else {
                continue;
            };
            let store = state.store.as_ref();
            for to in recipients(store, &event.handle).await? {
                let mail = Outgoing {
                    handle: Some(event.handle.clone()),
                    key: format!("{}#{}", event.id, to.as_str()),
                    to,
                    kind,
                    data: data.clone(),
                };
                crate::mail::enqueue(state.io(), mail).await?;
            }
        }
        Ok(())
    }
}

/// Who gets a handle's admin mail: its admins' addresses, else its branding's `replyTo`.
/// Round trips: ONE query of the members (a few), and ONE read when there is no admin.
pub async fn recipients(store: &dyn Store, handle: &Handle) -> Result<Vec<Email>, StoreError> {
    let mut to: Vec<Email> = super::memberships::list(store, handle)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Admin)
        .filter_map(|m| Email::parse("email", &m.email).ok())
        .collect();
    to.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    to.dedup_by(|a, b| a.as_str().eq_ignore_ascii_case(b.as_str()));
    if to.is_empty() {
        let reply_to = crate::mail::branding::get(store, handle)
            .await?
            .and_then(|b| b.reply_to)
            .and_then(|r| Email::parse("replyTo", &r).ok());
        to.extend(reply_to);
    }
    Ok(to)
}

fn text<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The kind and the template's fields an event mails the admins, if any.
fn mail_of(state: &AppState, event: &Event) -> Option<(MailKind, Value)> {
    let base = crate::mail::unsubscribe::public_base(&state.config);
    let handle = &event.handle;
    let d = &event.data;
    match event.kind {
        EventType::PartnerApplied => {
            let email = match text(d, "email") {
                "" => text(d, "emailMasked"),
                e => e,
            };
            Some((
                MailKind::ApplicationReceived,
                json!({
                    "applicantName": text(d, "name"),
                    "applicantEmail": email,
                    "appliedAt": event.created_at.as_str(),
                    "message": text(d, "message"),
                    "reviewUrl": format!("{base}/?handle={handle}#/program"),
                }),
            ))
        }
        EventType::ClaimOpened => Some((
            MailKind::ClaimOpened,
            json!({
                "partnerName": text(d, "partnerId"),
                "orderId": d.get("orderId").and_then(Value::as_str),
                "deadlineAt": text(d, "deadlineAt"),
                "claimUrl": format!("{base}/?handle={handle}#/commissions"),
            }),
        )),
        EventType::CouponLeakSuspected => Some((
            MailKind::CouponLeak,
            json!({
                "code": text(d, "code"),
                "partnerName": text(d, "partnerId"),
                "score": d.get("score").cloned().unwrap_or(Value::Null),
                "threshold": d.get("threshold").cloned().unwrap_or(Value::Null),
                "conversions": d.get("conversions").cloned().unwrap_or(Value::Null),
                "withoutClick": d.get("withoutClick").cloned().unwrap_or(Value::Null),
                "reportUrl": format!("{base}/?handle={handle}#/partners"),
            }),
        )),
        _ => None,
    }
}
