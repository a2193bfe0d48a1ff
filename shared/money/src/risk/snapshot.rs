//! A partner's last assessment, kept beside the partner: what the accrual reads to hold a new
//! line above its plan's `holdAboveRisk` (ONE read per line), reassessed when older than
//! [`FRESH_FOR_MS`] so a burst of conversions does not reassess the partner once per line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PartnerRisk, RiskError};
use crate::domain::fraud_rules::FraudAction;
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
        Err(RiskError::UnknownPartner(_) | RiskError::NotFiring(_)) => Ok(Snapshot {
            score: 0,
            fired: Vec::new(),
            assessed_ms: now,
        }),
        Err(RiskError::Store(e)) => Err(e),
    }
}

/// The reasons a line is held for (`partner_risk_{signal}`): every fired signal when the score
/// is above the plan's `hold_above`, and each fired signal the program's `rules` hold on
/// (`hold_commissions`, or the stricter `hold_payouts`). A rule of `flag` never loosens the
/// plan's hold: the strictest of the two wins.
pub fn hold_reasons(
    snapshot: &Snapshot,
    hold_above: Option<u8>,
    rules: &BTreeMap<String, FraudAction>,
) -> Vec<String> {
    let above = hold_above.is_some_and(|a| snapshot.score > a);
    snapshot
        .fired
        .iter()
        .filter(|code| above || rules.get(*code) >= Some(&FraudAction::HoldCommissions))
        .map(|code| format!("partner_risk_{code}"))
        .collect()
}

/// The signals of `snapshot` whose rule holds the partner's payouts (`hold_payouts`).
pub fn payout_holds(snapshot: &Snapshot, rules: &BTreeMap<String, FraudAction>) -> Vec<String> {
    snapshot
        .fired
        .iter()
        .filter(|code| rules.get(*code) == Some(&FraudAction::HoldPayouts))
        .cloned()
        .collect()
}

/// The program's fraud rules (none without a program). Round trips: ONE read.
pub async fn rules(
    store: &dyn Store,
    handle: &Handle,
) -> Result<BTreeMap<String, FraudAction>, StoreError> {
    Ok(crate::programs::settings::get(store, handle)
        .await?
        .map(|p| p.fraud_rules)
        .unwrap_or_default())
}

/// Why `partner`'s payouts wait on its risk, if they do: the fired signals the program's rules
/// hold payouts on. Round trips: ONE read (the program); when a rule holds payouts, ONE read
/// ([`current`]), and a reassessment when the snapshot is stale or missing.
pub async fn payouts_held(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    rules: &BTreeMap<String, FraudAction>,
) -> Result<Vec<String>, StoreError> {
    if !rules.values().any(|a| *a == FraudAction::HoldPayouts) {
        return Ok(Vec::new());
    }
    Ok(payout_holds(&current(store, handle, partner).await?, rules))
}

/// The accrual's view of partner risk (`ledger::risk_holds`): the program's rules and the
/// partner's standing snapshot, and the reasons they give to hold a new line. Round trips: ONE
/// read (the program); when the plan or the program holds on risk, ONE read ([`current`]) and
/// a reassessment when the snapshot is stale or missing.
pub struct Holds;

#[async_trait::async_trait]
impl crate::ledger::risk_holds::RiskHolds for Holds {
    async fn reasons(
        &self,
        store: &dyn Store,
        handle: &Handle,
        partner: &PartnerId,
        hold_above: Option<u8>,
    ) -> Result<Vec<String>, StoreError> {
        let rules = rules(store, handle).await?;
        let by_rule = rules.values().any(|a| *a >= FraudAction::HoldCommissions);
        if hold_above.is_none() && !by_rule {
            return Ok(Vec::new());
        }
        let snapshot = current(store, handle, partner).await?;
        Ok(hold_reasons(&snapshot, hold_above, &rules))
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
        let none = BTreeMap::new();
        assert!(hold_reasons(&s, Some(60), &none).is_empty());
        assert!(hold_reasons(&s, None, &none).is_empty());
        assert_eq!(
            hold_reasons(&s, Some(59), &none),
            ["partner_risk_fast_conversions", "partner_risk_click_spike"]
        );
    }

    #[test]
    fn a_rule_holds_on_its_signal_alone_and_the_strictest_wins() {
        let s = Snapshot {
            score: 55,
            fired: vec!["paid_traffic".into(), "click_spike".into()],
            assessed_ms: 0,
        };
        let rule = |code: &str, a: FraudAction| BTreeMap::from([(code.to_owned(), a)]);
        let holds = rule("paid_traffic", FraudAction::HoldCommissions);
        assert_eq!(
            hold_reasons(&s, None, &holds),
            ["partner_risk_paid_traffic"]
        );
        assert!(payout_holds(&s, &holds).is_empty());
        // A flag does not loosen the plan's hold above a score.
        let flag = rule("paid_traffic", FraudAction::Flag);
        assert!(hold_reasons(&s, None, &flag).is_empty());
        assert_eq!(hold_reasons(&s, Some(50), &flag).len(), 2);
        // Holding payouts holds the new lines too.
        let payouts = rule("click_spike", FraudAction::HoldPayouts);
        assert_eq!(
            hold_reasons(&s, None, &payouts),
            ["partner_risk_click_spike"]
        );
        assert_eq!(payout_holds(&s, &payouts), ["click_spike"]);
        // A rule on a signal that did not fire holds nothing.
        let quiet = rule("shared_tax_id", FraudAction::HoldPayouts);
        assert!(hold_reasons(&s, None, &quiet).is_empty());
        assert!(payout_holds(&s, &quiet).is_empty());
    }
}
