//! Fan-out: every event becomes one first-attempt delivery message per active subscription of
//! its handle that wants it (or, for an event aimed at one subscription such as a test, that
//! subscription only). Idempotent by construction: a redelivered event enqueues the same
//! deliveries again, and the worker's attempt claim lets only one of each through.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use super::delivery::DeliveryMessage;
use super::repo;
use super::subscription::Subscription;
use crate::kernel::consume::EventSink;
use crate::kernel::events::Event;
use crate::kernel::state::AppState;
use crate::platform::queue::QueueName;

pub struct WebhookFanout;

#[async_trait]
impl EventSink for WebhookFanout {
    fn name(&self) -> &'static str {
        "webhook-fanout"
    }

    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        // One read per handle per batch, however many of its events the batch holds.
        let mut subscriptions: HashMap<&str, Vec<Subscription>> = HashMap::new();
        let mut messages = Vec::new();
        for event in events {
            if !subscriptions.contains_key(event.handle.as_str()) {
                let all = repo::list_all(state.store.as_ref(), &event.handle).await?;
                subscriptions.insert(event.handle.as_str(), all);
            }
            let target = event.target_subscription.as_ref();
            for sub in &subscriptions[event.handle.as_str()] {
                let wanted = match &sub.partner_id {
                    Some(partner) => super::postback::wants(sub, partner, event),
                    None => sub.receives(event.kind, target),
                };
                if wanted {
                    messages.push(
                        DeliveryMessage::first(event, &sub.subscription_id)
                            .to_message(Duration::ZERO),
                    );
                }
            }
        }
        if !messages.is_empty() {
            state.queue.send(QueueName::Deliveries, messages).await?;
        }
        Ok(())
    }
}
