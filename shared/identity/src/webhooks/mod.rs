//! Webhooks: subscriptions, Standard Webhooks signatures, fan-out of events to a deliveries
//! queue, a delivery worker with delayed retries, the delivery log and notifications.
//!
//! Flow: an event on the events queue → [`fanout::WebhookFanout`] (an `EventSink`) enqueues one
//! [`delivery::DeliveryMessage`] per matching subscription → [`delivery::DeliveryWorker`] (the
//! deliveries queue's consumer) claims, signs, POSTs and records each attempt, re-enqueueing
//! failures with a delay. Test dispatches are events aimed at one subscription and take the same
//! path. Routes: `http::webhooks`.

mod claim;
pub mod delivery;
pub mod fanout;
pub mod health;
pub mod lifecycle;
pub mod limits;
pub mod log;
pub mod message;
pub mod postback;
pub mod recover;
pub mod repo;
pub mod retry;
pub mod send;
mod settle;
pub mod signing;
pub mod ssrf;
pub mod subscription;
