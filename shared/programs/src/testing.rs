//! Test support of the programs crate (named only by tests): a commission plan from its JSON, as
//! the API takes it, for the unit tests of every crate that rates or words by one.

use crate::domain::CampaignId;
use crate::domain::time::Timestamp;
use crate::plans::model::{Plan, PlanSpec};

/// Version 1 of campaign `alpha`'s plan, `json` validated as a save validates it (30 days of
/// attribution window); panics on a plan the API would refuse.
pub fn plan(json: serde_json::Value) -> Plan {
    serde_json::from_value::<PlanSpec>(json)
        .unwrap()
        .validate(30)
        .unwrap()
        .versioned(
            CampaignId::parse("alpha").unwrap(),
            1,
            Timestamp::literal("2026-11-01T00:00:00Z"),
            "t".into(),
        )
}
