//! The events consumer: applies each event to every [`EventSink`] (analytics counters, webhook
//! fan-out), then clears the events' outbox entries. Sinks dedupe by event id, so a redelivered
//! batch changes nothing twice.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::Instrument;

use crate::kernel::consume::{BatchHandler, EventSink};
use crate::kernel::events::Event;
use crate::kernel::state::AppState;
use crate::platform::queue::{QueueName, Received};

pub struct EventsWorker {
    pub state: AppState,
    pub sinks: Vec<Arc<dyn EventSink>>,
}

#[async_trait]
impl BatchHandler for EventsWorker {
    fn queue(&self) -> QueueName {
        QueueName::Events
    }

    async fn handle(&self, batch: Vec<Received>) -> Vec<String> {
        // The event ids are known once the bodies are parsed: `apply` records them.
        let span = tracing::info_span!(
            "events_batch",
            size = batch.len(),
            event_ids = tracing::field::Empty
        );
        self.apply(batch).instrument(span).await
    }
}

impl EventsWorker {
    /// Every sink on `events`, side by side: each writes only its own items and dedupes by
    /// event id, and what one adds to the outbox (a commission's event, a leak alert) comes back
    /// as a later batch, so none waits on another's writes. A batch then costs its slowest
    /// sink's round trips, not their sum (issue 58: 4.4 s for 25 events under faults, 1.9 s of
    /// it the ledger's). Every sink runs to its end even when one fails (the batch is then
    /// retried event by event, and the sinks that did apply skip what they applied).
    async fn apply_sinks(&self, events: &[Event]) -> anyhow::Result<()> {
        let runs = self.sinks.iter().map(|sink| {
            sink.apply(&self.state, events)
                .instrument(tracing::info_span!("event_sink", sink = sink.name()))
        });
        let results = futures::future::join_all(runs).await;
        for (sink, result) in self.sinks.iter().zip(results) {
            result.map_err(|e| e.context(format!("event sink {}", sink.name())))?;
        }
        Ok(())
    }

    /// Applies every readable event of the batch to every sink (each event's id is logged with
    /// any failure), then clears their outbox entries.
    async fn apply(&self, batch: Vec<Received>) -> Vec<String> {
        let mut failed = Vec::new();
        let mut events = Vec::with_capacity(batch.len());
        let mut ids = Vec::with_capacity(batch.len());
        for msg in batch {
            match serde_json::from_str::<Event>(&msg.body) {
                Ok(e) => {
                    events.push(e);
                    ids.push((msg.message_id, msg.receive_count));
                }
                Err(e) => {
                    // Left to fail until the queue dead-letters it, where it stays visible.
                    tracing::error!(message_id = %msg.message_id, error = %e, "unreadable event");
                    failed.push(msg.message_id);
                }
            }
        }
        if events.is_empty() {
            return failed;
        }
        let event_ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        tracing::Span::current().record("event_ids", tracing::field::debug(&event_ids));
        if let Err(e) = self.apply_sinks(&events).await {
            // One poison event must not hold back its batch: each event alone (the sinks dedupe
            // by event id, so what the batch applied is not applied twice), and only those that
            // still fail go back to the queue (after 10 receives: its dead-letter queue).
            tracing::warn!(error = %e, "event sinks failed on the batch; applying each event alone");
            let mut applied = Vec::with_capacity(events.len());
            let mut applied_ids = Vec::with_capacity(events.len());
            for (event, (id, receives)) in events.into_iter().zip(ids) {
                match self.apply_sinks(std::slice::from_ref(&event)).await {
                    Ok(()) => {
                        applied.push(event);
                        applied_ids.push((id, receives));
                    }
                    Err(e) => {
                        tracing::error!(event_id = %event.id, message_id = %id, receives, error = %e, "event failed; left to the queue's retries and dead letters");
                        self.last_delivery(&event, receives, &e).await;
                        failed.push(id);
                    }
                }
            }
            (events, ids) = (applied, applied_ids);
        }
        failed.extend(self.clear(&events, ids).await);
        failed
    }

    /// Clears the applied events' outbox entries, concurrently (the embedded store commits them
    /// together). A clear that fails leaves its message to be delivered again (answered as
    /// failed): the sinks dedupe it, and its entry is cleared then, so an applied event never
    /// holds the outbox (and the funnel's `pendingSince`) until the queue forgets it.
    async fn clear(&self, events: &[Event], ids: Vec<(String, u32)>) -> Vec<String> {
        let clears = events.iter().map(|e| async move {
            match crate::kernel::outbox::clear(e) {
                Some(op) => self.state.store.write(op).await.map(drop),
                None => Ok(()),
            }
        });
        let mut failed = Vec::new();
        for (result, (id, _)) in futures::future::join_all(clears).await.into_iter().zip(ids) {
            if let Err(e) = result {
                tracing::warn!(error = %e, message_id = %id, "clearing an outbox entry failed; the message is delivered again");
                failed.push(id);
            }
        }
        failed
    }

    /// On the queue's last delivery of an event that still fails, its outbox entry moves to the
    /// dead letters (the event named, an error log and a metric), as the queue's message does
    /// next: the dead letter is visible in `tenx status` and the funnel is not left waiting on
    /// it (issue 58).
    async fn last_delivery(&self, event: &Event, receives: u32, error: &anyhow::Error) {
        if receives < crate::platform::queue::MAX_RECEIVES {
            return;
        }
        let why = format!("failed on the queue's last delivery: {error:#}");
        if let Err(e) =
            crate::kernel::outbox::dead_letter_event(self.state.store.as_ref(), event, &why).await
        {
            tracing::warn!(event_id = %event.id, error = %e, "dead-lettering the outbox entry failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::kernel::events::EventType;
    use crate::platform::config::Secrets;

    /// Records the events it applies; refuses any batch holding the poisoned event.
    struct Picky {
        poison: String,
        applied: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl EventSink for Picky {
        fn name(&self) -> &'static str {
            "picky"
        }
        async fn apply(&self, _: &AppState, events: &[Event]) -> anyhow::Result<()> {
            if events.iter().any(|e| e.id.as_str() == self.poison) {
                anyhow::bail!("cannot apply {}", self.poison);
            }
            let mut applied = self.applied.lock().unwrap();
            applied.extend(events.iter().map(|e| e.id.to_string()));
            Ok(())
        }
    }

    /// Issue 28: a poison event in the middle of a batch goes back to the queue alone (toward
    /// its dead letters); the events around it are applied, each once.
    #[tokio::test]
    async fn a_poison_event_fails_alone_and_the_rest_of_its_batch_is_applied() {
        let store = Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let queue = Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory());
        let config = crate::platform::config::Config::from_env().expect("config");
        let state = crate::aws::app_state(config, store, queue, Secrets::NONE).expect("state");
        let handle = crate::domain::Handle::parse("acme").unwrap();
        let events: Vec<Event> = (0..3)
            .map(|_| Event::untyped(EventType::LinkCreated, &handle, serde_json::json!({})))
            .collect();
        let sink = Arc::new(Picky {
            poison: events[1].id.to_string(),
            applied: Mutex::default(),
        });
        let worker = EventsWorker {
            state,
            sinks: vec![sink.clone()],
        };
        let batch = events
            .iter()
            .enumerate()
            .map(|(i, e)| Received {
                message_id: format!("m{i}"),
                receipt: format!("r{i}"),
                body: e.to_json(),
                receive_count: 1,
            })
            .collect();
        assert_eq!(
            worker.handle(batch).await,
            ["m1"],
            "only the poison is retried"
        );
        let applied = sink.applied.lock().unwrap().clone();
        assert_eq!(
            applied,
            [events[0].id.to_string(), events[2].id.to_string()]
        );
    }

    /// Issue 58: on the queue's last delivery, an event that still fails leaves a visible dead
    /// letter (its outbox entry moved, the event named), never an entry pending forever; one
    /// delivered before its last is left to the queue's retries, its entry kept.
    #[tokio::test]
    async fn the_last_delivery_of_a_failing_event_dead_letters_its_outbox_entry() {
        use crate::platform::store::{Store, keys};
        let store = Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let queue = Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory());
        let config = crate::platform::config::Config::from_env().expect("config");
        let state =
            crate::aws::app_state(config, store.clone(), queue, Secrets::NONE).expect("state");
        let handle = crate::domain::Handle::parse("acme").unwrap();
        let mut events: Vec<Event> = (0..2)
            .map(|_| Event::untyped(EventType::LinkCreated, &handle, serde_json::json!({})))
            .collect();
        let ops = events
            .iter_mut()
            .map(crate::kernel::outbox::record)
            .collect();
        store.transact(ops).await.unwrap();
        let sink = Arc::new(Picky {
            poison: events[0].id.to_string(),
            applied: Mutex::default(),
        });
        let worker = EventsWorker {
            state,
            sinks: vec![sink],
        };
        let delivery = |e: &Event, receive_count: u32| Received {
            message_id: format!("m{receive_count}"),
            receipt: "r".into(),
            body: e.to_json(),
            receive_count,
        };
        let key = events[0].outbox.clone().unwrap();
        let last = crate::platform::queue::MAX_RECEIVES;
        assert_eq!(
            worker
                .handle(vec![delivery(&events[0], last - 1)])
                .await
                .len(),
            1
        );
        assert!(
            store.get(&key.pk, &key.sk).await.unwrap().is_some(),
            "retried, kept"
        );
        assert_eq!(
            worker.handle(vec![delivery(&events[0], last)]).await.len(),
            1
        );
        assert!(
            store.get(&key.pk, &key.sk).await.unwrap().is_none(),
            "no longer pending"
        );
        let dead = store
            .get(keys::OUTBOX_DEAD_PK, &key.sk)
            .await
            .unwrap()
            .expect("a dead letter");
        assert_eq!(dead.doc["id"], events[0].id.to_string(), "the event named");
        // The applied one is cleared.
        assert!(
            worker
                .handle(vec![delivery(&events[1], 1)])
                .await
                .is_empty()
        );
        let other = events[1].outbox.clone().unwrap();
        assert!(store.get(&other.pk, &other.sk).await.unwrap().is_none());
    }
}
