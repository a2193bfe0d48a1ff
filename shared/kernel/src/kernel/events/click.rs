//! `link.clicked`: what the redirect records for every click.

use serde::{Deserialize, Serialize};

use super::{EventPayload, EventType};
use crate::domain::{Attribution, BotReason, CampaignId, ClickId, SubIds};

/// The longest User-Agent a click keeps: real ones are a few hundred bytes.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// What the redirect records for every click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClickData {
    pub click_id: ClickId,
    pub slug: String,
    pub campaign_id: Option<CampaignId>,
    #[serde(flatten)]
    pub attribution: Attribution,
    pub bot: bool,
    /// Why the click is a bot's (`null` for a human). Absent in events recorded before it existed.
    #[serde(default)]
    pub bot_reason: Option<BotReason>,
    /// The link had expired: counted as a click, never as a qualified one.
    #[serde(default)]
    pub expired: bool,
    /// The partner's `sub1` … `sub5` from the short URL.
    #[serde(default)]
    pub sub_ids: SubIds,
    /// The console's "try the redirect", not a visitor: counted as a test click only, never in
    /// `clicks` or `qualifiedClicks`. Absent (false) on every visitor's click.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// The ad the click came from, when it says so (issue 83, `domain::ad_clicks`): the ad
    /// network's click-id parameter (`gclid`, never its value) or the ad server it was referred
    /// by. Absent on every other click.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_click: Option<String>,
    /// The visitor's User-Agent as sent (cut to [`MAX_USER_AGENT_BYTES`]), read for the OS and
    /// browser by the click's consumer, off the redirect's path. Absent when none was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The visitor's region (state, province) and city as a trusted edge named them (CloudFront's
    /// viewer headers, believed where its country is); absent otherwise. Never the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    pub destination_url: String,
    pub at: String,
}

impl EventPayload for ClickData {
    const TYPES: &'static [EventType] = &[EventType::LinkClicked];
    fn event_type(&self) -> EventType {
        EventType::LinkClicked
    }
}
