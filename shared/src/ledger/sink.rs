//! The ledger's sink in the events worker: `conversion.created` accrues a commission,
//! `conversion.reversed` writes its linked line; every other event is not the ledger's. `risk`
//! answers the accrual's hold on partner risk (`runtime::assembly` passes `risk::Holds`).

use async_trait::async_trait;

use crate::kernel::consume::EventSink;
use crate::kernel::events::{ConversionData, Event, EventType, ReversalData};
use crate::kernel::state::AppState;
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::{accrue, reversal};

pub struct CommissionsSink {
    pub risk: &'static dyn RiskHolds,
}

#[async_trait]
impl EventSink for CommissionsSink {
    fn name(&self) -> &'static str {
        "commissions"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        // One read of a campaign's confidence per day for the batch, not one per conversion.
        let mut confidence = crate::ledger::confidence::Memo::default();
        for event in events {
            match event.kind {
                EventType::ConversionCreated => {
                    let data: ConversionData = event.payload()?;
                    let at = (&event.handle, &mut confidence);
                    accrue::accrue_in(state.io(), self.risk, at, &data).await?;
                }
                EventType::ConversionReversed => {
                    let data: ReversalData = event.payload()?;
                    reversal::apply(state.io(), self.risk, &event.handle, &data).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
