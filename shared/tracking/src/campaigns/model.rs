//! Campaigns as stored: goal types with their tracking presets, statuses, and the record.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, PartnerId, Slug};

/// What a campaign is for. Each goal fixes how conversions are tracked (the preset) and which
/// conversion `eventType` the merchant is expected to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GoalType {
    /// A partner sends visitors to a merchant; the merchant reports the click-out by webhook.
    AffiliateClickout,
    /// A form fill on the destination.
    LeadCapture,
    /// An order on a shop.
    Purchase,
    /// An app install attributed through the store redirect.
    AppInstall,
}

impl GoalType {
    pub const ALL: [GoalType; 4] = [
        GoalType::AffiliateClickout,
        GoalType::LeadCapture,
        GoalType::Purchase,
        GoalType::AppInstall,
    ];

    /// `(trackingPreset, conversionEvent)`.
    pub fn preset(self) -> (&'static str, &'static str) {
        match self {
            GoalType::AffiliateClickout => ("custom_webhook", "affiliate_click"),
            GoalType::LeadCapture => ("lead_form", "lead"),
            GoalType::Purchase => ("ecommerce", "purchase"),
            GoalType::AppInstall => ("mobile_app", "install"),
        }
    }
}

/// A campaign's lifecycle state. It is informational: the redirect serves the links of paused
/// and archived campaigns exactly like active ones (a partner's already-published link must
/// never break), and analytics keep counting them; only `ACTIVE` campaigns can be flagged as
/// stale by the confidence score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    Active,
    Paused,
    Archived,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Active => "ACTIVE",
            CampaignStatus::Paused => "PAUSED",
            CampaignStatus::Archived => "ARCHIVED",
        }
    }
}

/// A campaign as stored under `H#{handle}` / `C#{campaignId}` and returned by the API (plus
/// its primary link's `shortUrl`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub campaign_id: CampaignId,
    pub goal_type: GoalType,
    pub status: CampaignStatus,
    pub tracking_preset: String,
    pub conversion_event: String,
    pub primary_slug: Slug,
    /// The partner its commissions are owed to (one partner may own many campaigns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Every conversion of the campaign has its entry in the campaign's conversion index
    /// (`tenx_attribution::conversions::record::campaign_entry`, issue 57): true for a campaign created
    /// since the index exists, absent (false) on older ones, whose conversions before it have
    /// none (readers of the index scan the days for those).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conversion_index: bool,
}

impl Campaign {
    pub fn new(
        campaign_id: CampaignId,
        goal_type: GoalType,
        status: CampaignStatus,
        primary_slug: Slug,
        now: Timestamp,
    ) -> Self {
        let (preset, event) = goal_type.preset();
        Self {
            campaign_id,
            goal_type,
            status,
            tracking_preset: preset.to_owned(),
            conversion_event: event.to_owned(),
            primary_slug,
            partner_id: None,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
            conversion_index: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_types_parse_from_the_api_names_and_set_their_presets() {
        let table = [
            (
                "AFFILIATE_CLICKOUT",
                GoalType::AffiliateClickout,
                "custom_webhook",
                "affiliate_click",
            ),
            ("LEAD_CAPTURE", GoalType::LeadCapture, "lead_form", "lead"),
            ("PURCHASE", GoalType::Purchase, "ecommerce", "purchase"),
            ("APP_INSTALL", GoalType::AppInstall, "mobile_app", "install"),
        ];
        for (name, goal, preset, event) in table {
            let parsed: GoalType = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, goal);
            assert_eq!(goal.preset(), (preset, event));
        }
        assert_eq!(table.len(), GoalType::ALL.len());
        let err = serde_json::from_value::<GoalType>(serde_json::json!("BRAND_AWARENESS"));
        assert!(err.unwrap_err().to_string().contains("AFFILIATE_CLICKOUT"));
    }

    #[test]
    fn statuses_use_the_api_names() {
        for s in [
            CampaignStatus::Active,
            CampaignStatus::Paused,
            CampaignStatus::Archived,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(serde_json::from_value::<CampaignStatus>(serde_json::json!("active")).is_err());
    }

    #[test]
    fn a_new_campaign_carries_its_goal_preset() {
        let c = Campaign::new(
            CampaignId::parse("partner-alpha").unwrap(),
            GoalType::AffiliateClickout,
            CampaignStatus::Active,
            Slug::parse("deal-alpha").unwrap(),
            crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        );
        assert_eq!(c.tracking_preset, "custom_webhook");
        assert_eq!(c.conversion_event, "affiliate_click");
        assert_eq!(c.version, 1);
    }
}
