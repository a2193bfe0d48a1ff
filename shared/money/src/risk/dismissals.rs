//! A manager's dismissal of a partner signal (issue 83): "looked at, it is fine", with a reason.
//! Kept under `H#{handle}#RISKDIS` / `{partnerId}#{code}` with the evidence it was dismissed on
//! (the signal's examples then); the signal stays quiet while everything it finds was in that
//! evidence, and fires again on new evidence (another partner on the same account, another
//! paid click, another refund). A dismissed signal counts for nothing: not in the score, not in
//! the snapshot the accrual and the payout batches hold on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::signals::{Dismissed, Signal, SignalCode};
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 500;

/// A dismissal as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dismissal {
    pub code: SignalCode,
    /// The signal's examples when it was dismissed: the evidence that does not fire it again.
    pub evidence: Vec<String>,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

fn sk(partner: &PartnerId, code: SignalCode) -> String {
    format!("{partner}#{}", code.as_str())
}

/// The partner's dismissals, by signal. Round trips: ONE query.
pub async fn of_partner(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<BTreeMap<SignalCode, Dismissal>, StoreError> {
    let q = Query::prefix(keys::risk_dismissals_pk(handle), format!("{partner}#"), 100);
    let (items, _): (Vec<Dismissal>, _) = store.query(q).await?.parsed()?;
    Ok(items.into_iter().map(|d| (d.code, d)).collect())
}

/// Quiets each fired signal whose every example was in its dismissal's evidence.
pub fn apply(signals: &mut [Signal], dismissals: &BTreeMap<SignalCode, Dismissal>) {
    for s in signals.iter_mut().filter(|s| s.fired) {
        let Some(d) = dismissals.get(&s.code) else {
            continue;
        };
        if s.examples.iter().all(|e| d.evidence.contains(e)) {
            s.fired = false;
            s.dismissed = Some(Dismissed {
                reason: d.reason.clone(),
                by: d.by.clone(),
                at: d.at.clone(),
            });
        }
    }
}

/// The reason as given: 1 to [`MAX_REASON_CHARS`] characters, not only spaces.
pub fn reason(raw: Option<&str>) -> Option<String> {
    let r = raw?.trim();
    (!r.is_empty() && r.chars().count() <= MAX_REASON_CHARS && !r.chars().any(char::is_control))
        .then(|| r.to_owned())
}

/// Keeps the dismissal of `signal` (replacing an earlier one of it) with its audit entry.
/// Round trips: ONE transaction.
pub(crate) async fn keep(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    signal: &Signal,
    reason: String,
    by: &str,
) -> Result<(), StoreError> {
    let d = Dismissal {
        code: signal.code,
        evidence: signal.examples.clone(),
        reason,
        by: by.to_owned(),
        at: crate::platform::time::timestamp(),
    };
    let put = WriteOp::Put {
        item: Item::new(
            keys::risk_dismissals_pk(handle),
            sk(partner, signal.code),
            to_doc(&d)?,
        ),
        cond: Cond::None,
    };
    let target = format!("partner {partner} ({})", signal.code.as_str());
    crate::kernel::audit::write(store, put, handle, "risk_signal.dismissed", &target).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(examples: &[&str]) -> Signal {
        let mut s = Signal::new(
            SignalCode::PaidTraffic,
            examples.len() as u64,
            true,
            String::new(),
            examples.iter().map(|e| (*e).to_owned()).collect(),
        );
        s.fired = true;
        s
    }

    #[test]
    fn a_dismissal_quiets_the_same_evidence_and_new_evidence_fires_again() {
        let d = Dismissal {
            code: SignalCode::PaidTraffic,
            evidence: vec!["click a".into(), "click b".into()],
            reason: "Their ads were approved".into(),
            by: "ana".into(),
            at: Timestamp::from_millis(0),
        };
        let all = BTreeMap::from([(SignalCode::PaidTraffic, d)]);
        let mut same = [fired(&["click b"])];
        apply(&mut same, &all);
        assert!(!same[0].fired);
        assert_eq!(
            same[0].dismissed.as_ref().unwrap().reason,
            "Their ads were approved"
        );
        let mut more = [fired(&["click c", "click b"])];
        apply(&mut more, &all);
        assert!(more[0].fired && more[0].dismissed.is_none());
        assert_eq!(reason(Some("  ok ")), Some("ok".into()));
        assert_eq!(reason(Some("   ")), None);
        assert_eq!(reason(Some(&"x".repeat(501))), None);
        assert_eq!(reason(None), None);
    }
}
