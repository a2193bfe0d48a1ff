//! A partner's last assessment, kept beside the partner: what the accrual reads to hold a new
//! line above its plan's `holdAboveRisk` (ONE read per line), reassessed when older than
//! [`FRESH_FOR_MS`] so a burst of conversions does not reassess the partner once per line.

use serde::{Deserialize, Serialize};

use super::{PartnerRisk, RiskError};
use crate::domain::{Handle, PartnerId};
use crate::platform::store::{Item, Store, StoreError, keys};

/// How long a snapshot stands for the partner (the console's read refreshes it too).
pub const FRESH_FOR_MS: i64 = 5 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub score: u8,
    /// The fired signals' codes (`click_spike`, …), strongest first.
    pub fired: Vec<String>,
    pub assessed_ms: i64,
}

/// Keeps `risk` as its partner's snapshot. Round trips: ONE write.
pub(crate) async fn keep(
    store: &dyn Store,
    handle: &Handle,
    risk: &PartnerRisk,
) -> Result<(), StoreError> {
    let snapshot = Snapshot {
        score: risk.score,
        fired: risk.fired().iter().map(|c| c.as_str().to_owned()).collect(),
        assessed_ms: crate::platform::time::now_millis(),
    };
    let (pk, sk) = keys::partner_risk(handle, &risk.partner_id);
    let item = Item::new(pk, sk, crate::platform::store::to_doc(&snapshot)?);
    crate::platform::store::put(store, item).await?;
    Ok(())
}

/// The partner's standing snapshot: the kept one while fresh, else a new assessment.
/// Round trips: ONE read; when stale or missing, an [`super::assess`].
pub async fn current(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Snapshot, StoreError> {
    let (pk, sk) = keys::partner_risk(handle, partner);
    let kept: Option<Snapshot> = store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()?;
    let now = crate::platform::time::now_millis();
    if let Some(s) = kept.filter(|s| now - s.assessed_ms < FRESH_FOR_MS) {
        return Ok(s);
    }
    match super::assess(store, handle, partner).await {
        Ok(risk) => Ok(Snapshot {
            score: risk.score,
            fired: risk.fired().iter().map(|c| c.as_str().to_owned()).collect(),
            assessed_ms: now,
        }),
        // A partner deleted since its line was earned: no risk to hold on.
        Err(RiskError::UnknownPartner(_)) => Ok(Snapshot {
            score: 0,
            fired: Vec::new(),
            assessed_ms: now,
        }),
        Err(RiskError::Store(e)) => Err(e),
    }
}

/// The reasons a line is held for under `hold_above` (`partner_risk_{signal}` per fired
/// signal), empty when the score is not above it.
pub fn hold_reasons(snapshot: &Snapshot, hold_above: u8) -> Vec<String> {
    if snapshot.score <= hold_above {
        return Vec::new();
    }
    snapshot
        .fired
        .iter()
        .map(|code| format!("partner_risk_{code}"))
        .collect()
}

/// The accrual's view of partner risk (`ledger::risk_holds`): the partner's standing snapshot
/// and the reasons it gives to hold a new line. Round trips: ONE read ([`current`]); a
/// reassessment when the snapshot is stale or missing.
pub struct Holds;

#[async_trait::async_trait]
impl crate::ledger::risk_holds::RiskHolds for Holds {
    async fn reasons(
        &self,
        store: &dyn Store,
        handle: &Handle,
        partner: &PartnerId,
        hold_above: u8,
    ) -> Result<Vec<String>, StoreError> {
        Ok(hold_reasons(
            &current(store, handle, partner).await?,
            hold_above,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_score_above_the_threshold_holds() {
        let s = Snapshot {
            score: 60,
            fired: vec!["fast_conversions".into(), "click_spike".into()],
            assessed_ms: 0,
        };
        assert!(hold_reasons(&s, 60).is_empty());
        assert_eq!(
            hold_reasons(&s, 59),
            ["partner_risk_fast_conversions", "partner_risk_click_spike"]
        );
    }
}
