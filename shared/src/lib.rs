//! 10x attribution: the shared library behind every Lambda function and the local server.
//!
//! Layers: `domain` (pure), `store` and `queue` (seams with embedded and AWS implementations),
//! services (`links`, `outbox`, `ratelimit`, `tokens`), and `http` (one router per group).

pub mod config;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod links;
pub mod local;
pub mod outbox;
pub mod queue;
pub mod ratelimit;
pub mod state;
pub mod store;
pub mod time;
pub mod tokens;
pub mod workers;
