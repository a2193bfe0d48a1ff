//! A click's attribution: where the visitor came from and on what. Fixed at the click, signed
//! into the ctx, and copied whole onto the conversion, so analytics breaks conversions down the
//! same way as clicks without a lookup.

use serde::{Deserialize, Serialize};

use super::Device;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    /// Two letters from the verified edge, else `unknown`.
    pub country: String,
    pub device: Device,
    pub source: String,
    /// Referrer host or `direct` (`unknown` in tokens minted before it existed).
    #[serde(default = "unknown")]
    pub referrer: String,
    /// `new-mobile`, `returning-desktop`, … or `bot`.
    #[serde(default = "unknown")]
    pub segment: String,
    /// The A/B test variant the visit was sent to (`{index}@{periodStartMillis}`,
    /// `domain::variants::tag`); absent when the link has no test, a rule took the visit, or the
    /// visitor is a bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

fn unknown() -> String {
    "unknown".to_owned()
}

impl Attribution {
    /// Nothing known: a customer bound by hand, with no click behind it (issue 44).
    pub fn unknown() -> Self {
        Self {
            country: unknown(),
            device: Device::Other,
            source: unknown(),
            referrer: unknown(),
            segment: unknown(),
            variant: None,
        }
    }
}
