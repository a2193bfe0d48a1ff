//! A claim as stored under `H#{handle}#CLM` / `{claimId}` (a copy under the partner's
//! partition) and answered: what the partner claims, what 10x found, what it proposes, and the
//! merchant's signed decision once there is one.

use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{
    AttachmentId, CampaignId, ClaimId, ClickId, CommissionId, ConversionId, Currency, CustomerId,
    Handle, PartnerId,
};
use crate::kernel::events::{EventPayload, EventType};

/// Where a claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Approved,
    Denied,
}

impl Status {
    pub fn parse(raw: &str) -> Option<Status> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

/// What 10x proposes, or what the merchant decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
    Unsure,
}

/// The sale claimed: exactly one of an order (the idempotency key the merchant sent it with),
/// a conversion or a customer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_id: Option<ConversionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
}

impl Target {
    /// The sale's key among a partner's open claims (one open claim per sale and partner).
    pub fn key(&self) -> String {
        match (&self.order_id, &self.conversion_id, &self.customer_id) {
            (Some(o), _, _) => format!("order:{o}"),
            (_, Some(c), _) => format!("conversion:{c}"),
            (_, _, Some(c)) => format!("customer:{c}"),
            _ => String::new(),
        }
    }
}

/// What the partner brought.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// 10x's proposal: a verdict and its reasons, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    /// The reasons about risk (the sale's risk signals, the partner's own risk): the program's
    /// people read them, the partner never does ([`Claim::view_for_partner`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub for_managers: Vec<String>,
}

/// What the evidence found that a decision acts on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    /// The sale's conversion, when 10x saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_id: Option<ConversionId>,
    /// The partner the sale is credited to now (another partner: an approval reassigns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credited_partner_id: Option<PartnerId>,
    /// The claiming partner's campaign the claimed click was on (the plan an approval rates by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
    /// The claimed click (the evidence's ctx, verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<ClickId>,
}

/// The merchant's decision (or the program's rule, for an overdue claim), signed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub claim_id: ClaimId,
    pub handle: Handle,
    pub partner_id: PartnerId,
    pub decision: Verdict,
    pub reason: String,
    pub decided_at: Timestamp,
    pub decided_by: String,
    /// Decided by the program's rule at the deadline, not by a person.
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The line an approval wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_id: Option<CommissionId>,
    /// The other partner's line an approval reversed (a reassignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_commission_id: Option<CommissionId>,
    /// The buyer's binding moved by the approval, in words (absent: kept as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Compact JWS (the statement keys, `typ` `tenx-claim-decision+jws`) of the rest of this
    /// object in JCS form: `tenx verify` checks it.
    pub jws: String,
}

/// An image's type, as its bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageType {
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
}

impl ImageType {
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
        }
    }

    /// The type in words: "a PNG image".
    pub fn named(self) -> &'static str {
        match self {
            ImageType::Png => "a PNG image",
            ImageType::Jpeg => "a JPEG image",
        }
    }
}

/// One image of a claim ([`crate::claims::attachments`] checks and keeps it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub attachment_id: AttachmentId,
    pub content_type: ImageType,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub added_at: Timestamp,
}

/// One claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub claim_id: ClaimId,
    pub partner_id: PartnerId,
    pub status: Status,
    #[serde(flatten)]
    pub target: Target,
    pub occurred_at: Timestamp,
    #[serde(default)]
    pub evidence: Evidence,
    /// What the partner says the sale was (`amount` in `currency`, the program's), when it
    /// said: the manager reads it beside what 10x found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The images the partner added (screenshots of the order), oldest first
    /// ([`crate::claims::attachments`]); absent when none (a claim's stored bytes and its
    /// events stay as they were before claims carried images).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    pub opened_at: Timestamp,
    pub deadline_at: Timestamp,
    pub proposal: Proposal,
    #[serde(default)]
    pub found: Found,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The stored item's version (not part of the document).
    #[serde(skip)]
    pub version: u64,
}

impl Claim {
    /// A claim of `partner` on `conversion` that exists nowhere: what its sale's keys are.
    pub(crate) fn probe(partner: &PartnerId, conversion: &ConversionId) -> Claim {
        let at = Timestamp::from_millis(0);
        Claim {
            claim_id: ClaimId::new(),
            partner_id: partner.clone(),
            status: Status::Open,
            target: Target::default(),
            occurred_at: at.clone(),
            evidence: Evidence::default(),
            amount: None,
            currency: None,
            attachments: Vec::new(),
            opened_at: at.clone(),
            deadline_at: at,
            proposal: Proposal {
                verdict: Verdict::Unsure,
                reasons: Vec::new(),
                for_managers: Vec::new(),
            },
            found: Found {
                conversion_id: Some(conversion.clone()),
                ..Found::default()
            },
            decision: None,
            version: 0,
        }
    }

    /// The sale's key among the partner's open claims, however it was named: its conversion
    /// when 10x saw it.
    pub fn sale_key(&self) -> String {
        match &self.found.conversion_id {
            Some(id) => format!("conversion:{id}"),
            None => self.target.key(),
        }
    }

    /// As the program's people read it: the ctx token itself is not repeated (it is a bearer
    /// of the click), and the proposal's reasons (written to the partner) speak of the partner
    /// in the third person.
    pub fn view(&self) -> Claim {
        let mut v = self.kept();
        for r in &mut v.proposal.reasons {
            *r = third_person(r);
        }
        v
    }

    /// As a partner reads it: its reasons addressed to it, without the reasons about risk (a
    /// partner never reads its risk).
    pub fn view_for_partner(&self) -> Claim {
        let mut v = self.kept();
        v.proposal.for_managers.clear();
        v
    }

    fn kept(&self) -> Claim {
        let mut v = self.clone();
        if v.evidence.ctx.is_some() {
            v.evidence.ctx = Some("(kept)".into());
        }
        v
    }
}

/// A reason written to the partner ("your click") as its program reads it ("the partner's
/// click"): word by word, so "yours" and "you" inside other words are left alone.
pub fn third_person(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let said = match word.as_str() {
            "you" => "the partner",
            "You" => "The partner",
            "your" | "yours" => "the partner's",
            "Your" | "Yours" => "The partner's",
            other => other,
        };
        out.push_str(said);
        word.clear();
    };
    for c in reason.chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `claim.opened` and `claim.decided` carry the claim as the API answers it.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ClaimEvent {
    Opened(Claim),
    Decided(Claim),
}

impl EventPayload for ClaimEvent {
    const TYPES: &'static [EventType] = &[EventType::ClaimOpened, EventType::ClaimDecided];
    fn event_type(&self) -> EventType {
        match self {
            ClaimEvent::Opened(_) => EventType::ClaimOpened,
            ClaimEvent::Decided(_) => EventType::ClaimDecided,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::third_person;

    #[test]
    fn a_reason_to_the_partner_reads_in_the_third_person_for_its_program() {
        assert_eq!(
            third_person("No click of yours is in the evidence: nothing ties you to this buyer."),
            "No click of the partner's is in the evidence: nothing ties the partner to this buyer."
        );
        assert_eq!(
            third_person(
                "A signed click on your link youtube-deal came 2 minutes before the sale."
            ),
            "A signed click on the partner's link youtube-deal came 2 minutes before the sale."
        );
        assert_eq!(
            third_person("Your youth; layout"),
            "The partner's youth; layout"
        );
    }
}
