//! The ledger's sink in the events worker: `conversion.created` accrues a commission (a
//! batch's together: `accrue_many`), and so does `conversion.tested` while the handle's test
//! mode is on (test money: `ledger::accrue::terms`),
//! `conversion.reversed` writes its linked line; every other event is not the ledger's. `risk`
//! answers the accrual's hold on partner risk (`runtime::assembly` passes `risk::Holds`).

use async_trait::async_trait;

use crate::domain::Handle;
use crate::kernel::consume::EventSink;
use crate::kernel::events::{ConversionData, Event, EventType, ReversalData};
use crate::kernel::state::AppState;
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::{accrue_many, reversal};

pub struct CommissionsSink {
    pub risk: &'static dyn RiskHolds,
    /// Campaigns' confidences, read once per campaign and day for 30 s of batches.
    pub confidence: crate::ledger::confidence::Kept,
}

#[async_trait]
impl EventSink for CommissionsSink {
    fn name(&self) -> &'static str {
        "commissions"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        // One read of a campaign's confidence per day for 30 s of batches, not one per
        // conversion.
        let (since, mut confidence) = self.confidence.take();
        // The batch's conversions first, accrued together per handle (a reversal accrues its
        // conversion first if it overtook it, so the order between the two does not matter).
        let mut created: Vec<(&Handle, ConversionData)> = Vec::new();
        for event in events {
            if matches!(
                event.kind,
                EventType::ConversionCreated | EventType::ConversionTested
            ) {
                created.push((&event.handle, event.payload()?));
            }
        }
        for handle in handles(&created) {
            let mine: Vec<&ConversionData> = created
                .iter()
                .filter(|(h, _)| *h == handle)
                .map(|(_, c)| c)
                .collect();
            let at = (handle, &mut confidence);
            accrue_many::accrue_many(state.io(), self.risk, at, &mine).await?;
        }
        for event in events {
            if event.kind == EventType::ConversionReversed {
                let data: ReversalData = event.payload()?;
                reversal::apply(state.io(), self.risk, &event.handle, &data).await?;
            }
        }
        self.confidence.keep((since, confidence));
        Ok(())
    }
}

/// The distinct handles of `created`, in order of first appearance.
fn handles<'a>(created: &[(&'a Handle, ConversionData)]) -> Vec<&'a Handle> {
    let mut out: Vec<&Handle> = Vec::new();
    for (h, _) in created {
        if !out.contains(h) {
            out.push(h);
        }
    }
    out
}
