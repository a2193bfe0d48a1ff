//! A commission as the API answers it and events carry it: money as decimal strings.

use crate::domain::time::Timestamp;
use serde::Serialize;

use crate::domain::{
    CampaignId, ClickId, CommissionId, ConversionId, Currency, PartnerId, PayoutId, SubIds,
};
use crate::kernel::emit::Emit;
use crate::kernel::events::{EventPayload, EventType, Payload};
use crate::ledger::model::{Commission, ConfidenceAtHold, Kind, Status};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommissionView {
    pub commission_id: CommissionId,
    pub kind: Kind,
    pub adjusts_commission_id: Option<CommissionId>,
    pub conversion_id: Option<ConversionId>,
    pub click_id: Option<ClickId>,
    pub click_day: Option<String>,
    pub event_type: Option<String>,
    pub sub_ids: SubIds,
    pub campaign_id: Option<CampaignId>,
    pub partner_id: PartnerId,
    pub amount: Option<String>,
    pub currency: Currency,
    pub value: Option<String>,
    pub value_currency: Option<Currency>,
    pub status: Status,
    pub reasons: Vec<String>,
    pub plan_version: Option<u64>,
    pub fx_rate: Option<String>,
    pub available_at: Timestamp,
    pub created_at: Timestamp,
    pub payout_id: Option<PayoutId>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub review_note: Option<String>,
    pub adjusted_by: Option<CommissionId>,
    pub confidence: Option<ConfidenceAtHold>,
    pub receipt: Option<String>,
    pub click_count: Option<i64>,
    /// The plan rule that paid it (index into the plan version's `rules`) and its tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_index: Option<u32>,
    /// Test money (a test mode sale's line): present only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl CommissionView {
    /// As its partner reads it: without the reasons about risk (`domain::words::about_risk`);
    /// a line held on them reads as held for a review.
    pub fn for_partner(mut self) -> Self {
        self.reasons
            .retain(|r| !crate::domain::words::about_risk(r));
        self
    }
}

impl From<&Commission> for CommissionView {
    fn from(c: &Commission) -> Self {
        CommissionView {
            commission_id: c.commission_id.clone(),
            kind: c.kind,
            adjusts_commission_id: c.adjusts_commission_id.clone(),
            conversion_id: c.conversion_id.clone(),
            click_id: c.click_id.clone(),
            click_day: c.click_day.clone(),
            event_type: c.event_type.clone(),
            sub_ids: c.sub_ids.clone(),
            campaign_id: c.campaign_id.clone(),
            partner_id: c.partner_id.clone(),
            amount: c.amount_minor.map(|m| c.currency.format(i128::from(m))),
            currency: c.currency,
            value: c.value.map(|v| v.normalize().to_string()),
            value_currency: c.value_currency,
            status: c.status,
            reasons: c.reasons.clone(),
            plan_version: c.plan_version,
            fx_rate: c.fx_rate.map(|r| r.normalize().to_string()),
            available_at: c.available_at.clone(),
            created_at: c.created_at.clone(),
            payout_id: c.payout_id.clone(),
            reviewed_by: c.reviewed_by.clone(),
            reviewed_at: c.reviewed_at.clone(),
            review_note: c.review_note.clone(),
            adjusted_by: c.adjusted_by.clone(),
            confidence: c.confidence.clone(),
            receipt: c.receipt.clone(),
            click_count: c.click_count,
            rule_index: c.rule_index,
            tier_index: c.tier_index,
            test: c.test,
        }
    }
}

/// The four commission events: each carries the line's view, nothing else (serialized as the
/// view alone: `untagged`).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum CommissionEvent {
    Created(CommissionView),
    Approved(CommissionView),
    Rejected(CommissionView),
    Reversed(CommissionView),
}

impl EventPayload for CommissionEvent {
    const TYPES: &'static [EventType] = &[
        EventType::CommissionCreated,
        EventType::CommissionApproved,
        EventType::CommissionRejected,
        EventType::CommissionReversed,
    ];
    fn event_type(&self) -> EventType {
        match self {
            CommissionEvent::Created(_) => EventType::CommissionCreated,
            CommissionEvent::Approved(_) => EventType::CommissionApproved,
            CommissionEvent::Rejected(_) => EventType::CommissionRejected,
            CommissionEvent::Reversed(_) => EventType::CommissionReversed,
        }
    }
}

/// The event `kind` (`CommissionEvent::Approved`, …) of line `c`, with an id derived from the
/// line and the type: a retry of the same change emits the same event.
pub fn event(kind: fn(CommissionView) -> CommissionEvent, c: &Commission) -> Emit {
    let payload = kind(CommissionView::from(c));
    Emit {
        id: c.commission_id.event_id(payload.event_type().as_str()),
        payload: Payload::of(&payload),
    }
}
