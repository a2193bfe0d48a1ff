//! Marks the handles with events in a week (`weekly`): a sink of the events consumer. One
//! put-if-absent per handle and week in a batch (a batch of one handle's events is one write);
//! a mark already there (or done) is left as it is.

use async_trait::async_trait;
use serde_json::json;

use crate::kernel::consume::EventSink;
use crate::kernel::events::Event;
use crate::kernel::state::AppState;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

pub struct WeeklySink;

#[async_trait]
impl EventSink for WeeklySink {
    fn name(&self) -> &'static str {
        "weekly"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        let mut marks: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                let day = e.created_at.datetime().date();
                (
                    super::monday_of(day).to_string(),
                    e.handle.as_str().to_owned(),
                )
            })
            .collect();
        marks.sort();
        marks.dedup();
        let expires = crate::platform::time::now_millis() / 1000 + super::KEEP_DAYS * 86_400;
        for (monday, handle) in marks {
            let item =
                Item::new(keys::weekly_pk(&monday), handle, json!({})).expiring_at(Some(expires));
            match state
                .store
                .write(WriteOp::Put {
                    item,
                    cond: Cond::Absent,
                })
                .await
            {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
