//! What the mail room stores and answers: a message's record, its kind and status, and the
//! mail queue's message.

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::time::Timestamp;

/// What a message is (`X-Tenx-Kind`, the words of the contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    SignIn,
    Invitation,
    PartnerApproved,
    ApplicationReceived,
    CommissionDigest,
    PayoutSent,
    PlanNotice,
    PayoutMethodChanged,
    WeeklySummary,
    Message,
    ClaimOpened,
    ClaimDecided,
    /// A custom domain's daily re-check failed (issue 64).
    DomainFailing,
    /// A coupon code's sales look leaked (issue 63's `coupon.leak_suspected`), to the admins.
    CouponLeak,
    /// The program sent the partner's tax profile back with its reason.
    TaxProfileNeedsFix,
    /// A payout sent through Stripe or PayPal that failed or came back: the amount is back on
    /// the partner's balance (issue 78).
    PayoutReturned,
    /// An application the program turned down, with the reason its manager typed.
    ApplicationRejected,
    /// A manager changed the partner's email address: to the address it had.
    PartnerEmailChanged,
}

impl MailKind {
    pub const ALL: [MailKind; 18] = [
        MailKind::SignIn,
        MailKind::Invitation,
        MailKind::PartnerApproved,
        MailKind::ApplicationReceived,
        MailKind::CommissionDigest,
        MailKind::PayoutSent,
        MailKind::PlanNotice,
        MailKind::PayoutMethodChanged,
        MailKind::WeeklySummary,
        MailKind::Message,
        MailKind::ClaimOpened,
        MailKind::ClaimDecided,
        MailKind::DomainFailing,
        MailKind::CouponLeak,
        MailKind::TaxProfileNeedsFix,
        MailKind::PayoutReturned,
        MailKind::ApplicationRejected,
        MailKind::PartnerEmailChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::SignIn => "sign_in",
            MailKind::Invitation => "invitation",
            MailKind::PartnerApproved => "partner_approved",
            MailKind::ApplicationReceived => "application_received",
            MailKind::CommissionDigest => "commission_digest",
            MailKind::PayoutSent => "payout_sent",
            MailKind::PlanNotice => "plan_notice",
            MailKind::PayoutMethodChanged => "payout_method_changed",
            MailKind::WeeklySummary => "weekly_summary",
            MailKind::Message => "message",
            MailKind::ClaimOpened => "claim_opened",
            MailKind::ClaimDecided => "claim_decided",
            MailKind::DomainFailing => "domain_failing",
            MailKind::CouponLeak => "coupon_leak",
            MailKind::TaxProfileNeedsFix => "tax_profile_needs_fix",
            MailKind::PayoutReturned => "payout_returned",
            MailKind::ApplicationRejected => "application_rejected",
            MailKind::PartnerEmailChanged => "partner_email_changed",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a recipient may turn it off (and the message carries `List-Unsubscribe`): every
    /// kind but the ones a person asked for themselves.
    pub fn unsubscribable(self) -> bool {
        !matches!(self, MailKind::SignIn | MailKind::Invitation)
    }
}

/// Where a message stands (`GET …/mail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting to be sent: new, retried after a temporary failure, or held by a limit.
    Queued,
    Sent,
    /// Not sent: the address is suppressed (bounced, complained, refused for good) or its
    /// recipient turned this kind off.
    Suppressed,
    /// Not sent after every try (its last error says why).
    Failed,
    /// Sent, and the receiving server bounced it later (SES's bounce event).
    Bounced,
}

impl MailStatus {
    /// Whether the worker is done with it.
    pub fn is_final(self) -> bool {
        !matches!(self, MailStatus::Queued)
    }
}

/// One message's record: what to send, and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailRecord {
    pub mail_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Handle>,
    pub to: String,
    pub kind: MailKind,
    pub key: String,
    pub data: serde_json::Value,
    pub status: MailStatus,
    pub created_at: Timestamp,
    /// Sends started (an answer lost counts too).
    #[serde(default)]
    pub attempts: u32,
    /// Sends whose answer was lost (the worker died, or its record failed, after sending): the
    /// next try is the one more copy allowed; a second loss ends the message as `failed`.
    #[serde(default)]
    pub unanswered: u32,
    /// A send is under way until then (unix ms; 0: none): a worker that finds it later knows
    /// that send's answer was lost.
    #[serde(default)]
    pub sending_until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `{mailId}@{domain}`, without angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The engine's own id (SES's), which its bounce events name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// The last failure or the reason it waits or was not sent, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its log entry's sort key (the listing) and pending entry's (the sweeper).
    pub created_ms: i64,
}

/// A message's line in `GET …/mail`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailView {
    pub mail_id: String,
    pub message_id: String,
    pub to: String,
    pub kind: MailKind,
    pub subject: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub status: MailStatus,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The mail queue's message: which record to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Handle>,
    pub mail_id: String,
}
