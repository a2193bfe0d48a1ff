//! A ledger line's kind and status, and what the running balances and the indexes see of a
//! line ([`Placed`]): the few fields that say where its amount and its entries belong. Kept
//! apart from the line itself so `running` and `index` need not know the whole line.

use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, CommissionId, Currency, CustomerId, PartnerId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Conversion,
    ClickDay,
    Adjustment,
    Clawback,
    Manual,
    /// A milestone bonus (issue 47): once per partner, campaign, rule and month.
    Bonus,
    /// A partner's claim approved (issue 63): one line per claim.
    Claim,
    /// A past commission imported from the tool a merchant left (issue 64), with its status
    /// there: a paid one is `paid` here, never paid again by a payout run.
    Imported,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Held,
    Approved,
    Rejected,
    Capped,
    Paid,
}

impl Kind {
    /// Its wire name (`conversion`, `click_day`, …), also its index value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Conversion => "conversion",
            Kind::ClickDay => "click_day",
            Kind::Adjustment => "adjustment",
            Kind::Clawback => "clawback",
            Kind::Manual => "manual",
            Kind::Bonus => "bonus",
            Kind::Claim => "claim",
            Kind::Imported => "imported",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

impl Status {
    pub fn parse(raw: &str) -> Option<Status> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

/// Where a line belongs in the running balances and the indexes.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'a> {
    pub id: &'a CommissionId,
    pub kind: Kind,
    pub partner: &'a PartnerId,
    pub campaign: Option<&'a CampaignId>,
    pub status: Status,
    /// The amount in minor units (0 while unknown).
    pub minor: i128,
    pub in_payout: bool,
    pub currency: Currency,
    /// The customer whose conversion the line pays (its commissions are totalled per customer).
    pub customer: Option<&'a CustomerId>,
    /// The slug of the link the line's sale came through (its earnings per link).
    pub link: Option<&'a str>,
    /// Test money: its own balances and indexes (`ledger::index::of_test`).
    pub test: bool,
}
