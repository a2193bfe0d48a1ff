//! The events worker's coupon sink: each `conversion.created` that named a coupon code is
//! recorded under its code, then each code the batch touched is checked against its program's
//! threshold (one report read per code per batch, not per sale).

use async_trait::async_trait;

use crate::domain::{CouponCode, Handle};
use crate::kernel::consume::EventSink;
use crate::kernel::events::{ConversionData, Event, EventType};
use crate::kernel::state::AppState;

pub struct CouponLeakSink;

#[async_trait]
impl EventSink for CouponLeakSink {
    fn name(&self) -> &'static str {
        "coupon_leaks"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        let mut touched: Vec<(Handle, CouponCode)> = Vec::new();
        for event in events {
            if event.kind != EventType::ConversionCreated {
                continue;
            }
            let c: ConversionData = event.payload()?;
            let Some(op) = super::uses::record(&event.handle, &c)? else {
                continue;
            };
            state.store.transact(vec![op]).await?;
            let code = c.coupon.map(|u| CouponCode::parse(&u.code));
            if let Some(Ok(code)) = code {
                let key = (event.handle.clone(), code);
                if !touched
                    .iter()
                    .any(|t| t.0 == key.0 && t.1.key() == key.1.key())
                {
                    touched.push(key);
                }
            }
        }
        for (handle, code) in touched {
            match super::report::alert(state.io(), &handle, &code).await {
                Ok(_) | Err(super::LeakError::NotFound(_)) => {}
                Err(super::LeakError::Store(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
