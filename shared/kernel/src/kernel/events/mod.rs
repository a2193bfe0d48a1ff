//! Events flowing through the events queue. The webhook body is the public part of the envelope
//! (`id`, `type`, `createdAt`, `handle`, `data`); `outbox` is internal bookkeeping.
//!
//! Every event is built from a typed payload ([`EventPayload`]): its type comes from the
//! payload, so no event can go out with data of another type's shape. The payloads several
//! services share live here, one file per family (`click`, `conversion`); a service's own
//! payloads live in its model (`ledger::view::CommissionEvent`, `payouts::model::PayoutEvent`,
//! `plans::notice::Notice`, `customers::CustomerView`, `programs::model`, `links::LinkEvent`,
//! `webhooks::lifecycle::WebhookTestData`, `payout_methods::model::PartnerUpdatedData`). Once
//! built, an event carries its payload as JSON: the outbox and the queues store exactly it, and
//! events stored before the payloads were typed read back as they always did.

mod click;
mod conversion;

pub use click::{ClickData, MAX_USER_AGENT_BYTES};
pub use conversion::money;
pub use conversion::{ConversionData, Reversal, ReversalData};

use crate::domain::time::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::{EventId, Handle, SubscriptionId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "link.clicked")]
    LinkClicked,
    #[serde(rename = "link.created")]
    LinkCreated,
    #[serde(rename = "link.updated")]
    LinkUpdated,
    #[serde(rename = "conversion.created")]
    ConversionCreated,
    #[serde(rename = "conversion.tested")]
    ConversionTested,
    #[serde(rename = "conversion.reversed")]
    ConversionReversed,
    #[serde(rename = "webhook.test")]
    WebhookTest,
    #[serde(rename = "commission.created")]
    CommissionCreated,
    #[serde(rename = "commission.approved")]
    CommissionApproved,
    #[serde(rename = "commission.rejected")]
    CommissionRejected,
    #[serde(rename = "commission.reversed")]
    CommissionReversed,
    #[serde(rename = "payout.created")]
    PayoutCreated,
    #[serde(rename = "payout.paid")]
    PayoutPaid,
    #[serde(rename = "payout.sent")]
    PayoutSent,
    #[serde(rename = "payout.failed")]
    PayoutFailed,
    #[serde(rename = "payout.returned")]
    PayoutReturned,
    #[serde(rename = "customer.bound")]
    CustomerBound,
    #[serde(rename = "plan.changed")]
    PlanChanged,
    #[serde(rename = "partner.applied")]
    PartnerApplied,
    #[serde(rename = "partner.approved")]
    PartnerApproved,
    #[serde(rename = "partner.updated")]
    PartnerUpdated,
    #[serde(rename = "claim.opened")]
    ClaimOpened,
    #[serde(rename = "claim.decided")]
    ClaimDecided,
    #[serde(rename = "coupon.leak_suspected")]
    CouponLeakSuspected,
}

impl EventType {
    pub const ALL: [EventType; 24] = [
        EventType::LinkClicked,
        EventType::LinkCreated,
        EventType::LinkUpdated,
        EventType::ConversionCreated,
        EventType::ConversionTested,
        EventType::ConversionReversed,
        EventType::WebhookTest,
        EventType::CommissionCreated,
        EventType::CommissionApproved,
        EventType::CommissionRejected,
        EventType::CommissionReversed,
        EventType::PayoutCreated,
        EventType::PayoutPaid,
        EventType::PayoutSent,
        EventType::PayoutFailed,
        EventType::PayoutReturned,
        EventType::CustomerBound,
        EventType::PlanChanged,
        EventType::PartnerApplied,
        EventType::PartnerApproved,
        EventType::PartnerUpdated,
        EventType::ClaimOpened,
        EventType::ClaimDecided,
        EventType::CouponLeakSuspected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LinkClicked => "link.clicked",
            EventType::LinkCreated => "link.created",
            EventType::LinkUpdated => "link.updated",
            EventType::ConversionCreated => "conversion.created",
            EventType::ConversionTested => "conversion.tested",
            EventType::ConversionReversed => "conversion.reversed",
            EventType::WebhookTest => "webhook.test",
            EventType::CommissionCreated => "commission.created",
            EventType::CommissionApproved => "commission.approved",
            EventType::CommissionRejected => "commission.rejected",
            EventType::CommissionReversed => "commission.reversed",
            EventType::PayoutCreated => "payout.created",
            EventType::PayoutPaid => "payout.paid",
            EventType::PayoutSent => "payout.sent",
            EventType::PayoutFailed => "payout.failed",
            EventType::PayoutReturned => "payout.returned",
            EventType::CustomerBound => "customer.bound",
            EventType::PlanChanged => "plan.changed",
            EventType::PartnerApplied => "partner.applied",
            EventType::PartnerApproved => "partner.approved",
            EventType::PartnerUpdated => "partner.updated",
            EventType::ClaimOpened => "claim.opened",
            EventType::ClaimDecided => "claim.decided",
            EventType::CouponLeakSuspected => "coupon.leak_suspected",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where an event's outbox entry lives, so the consumer can clear it once the event is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxKey {
    pub pk: String,
    pub sk: String,
    /// How many times the sweeper has re-sent the event (not the first enqueue).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sweeps: u32,
    /// Epoch ms before which the sweeper leaves the entry alone: its backoff, or, once the
    /// queue confirmed taking the event, [`crate::kernel::outbox::QUEUE_HOLD`] later.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_sweep_at: i64,
    /// Epoch ms when the events queue last confirmed taking the event (0: never confirmed:
    /// its send failed, or the process died between the commit and the send).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub enqueued_at: i64,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// Why serializing an event cannot fail: it is strings, numbers, derived structs and a
/// `serde_json::Value` (whose map keys are strings).
const INFALLIBLE: &str = "an event is always serializable";

/// A typed event payload: the only way to build an [`Event`]. The event's type is the
/// payload's own, so a payload of one shape cannot be sent as a type of another: there is no
/// constructor taking a type and loose JSON (outside tests), and `Event` has a private field,
/// so no struct literal either. The compiler checks it; no test is needed.
pub trait EventPayload: Serialize {
    /// Every type a payload of this shape goes out as (one, or a family sharing the shape).
    const TYPES: &'static [EventType];
    /// The one this payload goes out as: one of [`Self::TYPES`].
    fn event_type(&self) -> EventType;
}

/// A typed payload serialized with its type, for code that carries events of several types
/// before it knows their handle (`kernel::emit::Emit`). Built only from an [`EventPayload`].
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    kind: EventType,
    data: serde_json::Value,
}

impl Payload {
    pub fn of<P: EventPayload>(payload: &P) -> Self {
        let kind = payload.event_type();
        debug_assert!(
            P::TYPES.contains(&kind),
            "{} outside its TYPES",
            kind.as_str()
        );
        Self {
            kind,
            data: serde_json::to_value(payload).expect(INFALLIBLE),
        }
    }

    pub fn kind(&self) -> EventType {
        self.kind
    }
}

// A private field, not `#[non_exhaustive]`: that would keep struct literals out of other
// crates only, this keeps them out of every module but this one.
#[allow(clippy::manual_non_exhaustive)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Stable id: consumers dedupe on it, webhooks send it as `webhook-id`.
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub created_at: Timestamp,
    pub handle: Handle,
    /// The payload as JSON, exactly as sent and stored (typed reads: [`Event::payload`]).
    pub data: serde_json::Value,
    /// Only this subscription receives the event (webhook tests and re-sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_subscription: Option<SubscriptionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxKey>,
    /// Keeps struct literals out: an event is built from a typed payload.
    #[serde(skip)]
    sealed: (),
}

/// Why an event's data could not be read as a payload type.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("a {0} event does not carry this payload")]
    OtherType(&'static str),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl Event {
    /// A new event of `payload`'s type, with a fresh id, stamped now.
    pub fn new<P: EventPayload>(handle: &Handle, payload: &P) -> Self {
        Self::of(handle, Payload::of(payload))
    }

    /// A new event of a payload typed earlier.
    pub fn of(handle: &Handle, payload: Payload) -> Self {
        Self {
            id: EventId::new(),
            kind: payload.kind,
            created_at: crate::platform::time::timestamp(),
            handle: handle.clone(),
            data: payload.data,
            target_subscription: None,
            outbox: None,
            sealed: (),
        }
    }

    /// An event of any type with any data: tests' malformed and poison events only.
    pub fn untyped(kind: EventType, handle: &Handle, data: serde_json::Value) -> Self {
        Self {
            kind,
            data,
            ..Self::of(handle, Payload::of(&Untyped))
        }
    }

    /// The data as the payload type `P`, when the event is of one of `P`'s types. Reading is as
    /// tolerant as each payload's `Deserialize` (fields added later have defaults).
    pub fn payload<P: EventPayload + DeserializeOwned>(&self) -> Result<P, PayloadError> {
        if !P::TYPES.contains(&self.kind) {
            return Err(PayloadError::OtherType(self.kind.as_str()));
        }
        // Read in place: a copy of the data first would clone every map and string in it.
        Ok(P::deserialize(&self.data)?)
    }

    /// The event as a queue message body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect(INFALLIBLE)
    }

    /// The event as a stored document (its outbox entry).
    pub fn to_doc(&self) -> serde_json::Value {
        serde_json::to_value(self).expect(INFALLIBLE)
    }

    /// The body a webhook endpoint receives.
    pub fn webhook_body(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "createdAt": self.created_at,
            "handle": self.handle,
            "data": self.data,
        })
    }
}

/// A stand-in payload for [`Event::untyped`].
#[derive(Serialize)]
struct Untyped;

impl EventPayload for Untyped {
    const TYPES: &'static [EventType] = &[EventType::LinkCreated];
    fn event_type(&self) -> EventType {
        EventType::LinkCreated
    }
}

/// The JSON of an [`Event`] (without target or outbox) serialized straight from typed data, with
/// no intermediate `serde_json::Value`: the redirect builds one per click.
/// `P` is a derived payload struct (string keys): see [`INFALLIBLE`].
pub fn event_json<P: EventPayload>(id: &str, handle: &str, data: &P) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Borrowed<'a, T> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: EventType,
        created_at: &'a str,
        handle: &'a str,
        data: &'a T,
    }
    let created_at = crate::platform::time::now_rfc3339();
    let event = Borrowed {
        id,
        kind: data.event_type(),
        created_at: &created_at,
        handle,
        data,
    };
    serde_json::to_string(&event).expect(INFALLIBLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClickId, Device};

    #[test]
    fn typed_event_json_reads_back_as_the_event_built_from_a_value() {
        let click = ClickData {
            click_id: ClickId::new(),
            slug: "spring".into(),
            campaign_id: None,
            attribution: crate::domain::Attribution {
                country: "DE".into(),
                device: Device::Mobile,
                source: "instagram".into(),
                referrer: "direct".into(),
                segment: "new-mobile".into(),
                variant: None,
            },
            bot: false,
            bot_reason: None,
            expired: false,
            sub_ids: Default::default(),
            test: false,
            ad_click: None,
            user_agent: None,
            region: None,
            city: None,
            destination_url: "https://example.com/?a=\"b\"".into(),
            at: "2026-11-21T09:00:00.000Z".into(),
        };
        let id = EventId::new();
        let json = event_json(id.as_str(), "acme", &click);
        let read: Event = serde_json::from_str(&json).unwrap();
        let mut expected = Event::new(&crate::domain::Handle::parse("acme").unwrap(), &click);
        expected.id = id;
        expected.created_at = read.created_at.clone();
        assert_eq!(read, expected);
        assert!(crate::domain::time::parse_rfc3339(&read.created_at).is_some());
        assert_eq!(read.payload::<ClickData>().unwrap(), click);
        assert!(matches!(
            read.payload::<ConversionData>(),
            Err(PayloadError::OtherType("link.clicked"))
        ));
    }
}
