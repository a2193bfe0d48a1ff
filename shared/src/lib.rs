//! 10x attribution: the shared library behind every Lambda function and the local server.
//!
//! Layers: `domain` (pure), `store` and `queue` (seams with embedded and AWS implementations),
//! services (`links`, `outbox`, `ratelimit`, `tokens`), and `http` (one router per group).

pub mod analytics;
pub mod assembly;
pub mod auth;
pub mod aws;
pub mod aws_client;
pub mod aws_errors;
pub mod campaigns;
pub mod chain;
pub mod clicks;
pub mod commissions;
pub mod config;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(any(test, feature = "testing"))]
pub mod conformance_stream;
pub mod consume;
pub mod conversions;
pub mod customers;
pub mod decorate;
pub mod domain;
pub mod events;
pub mod handle_settings;
pub mod http;
pub mod http_client;
pub mod links;
pub mod local;
pub mod metrics;
#[cfg(feature = "op-counts")]
pub mod op_counts;
pub mod orphans;
pub mod outbox;
pub mod queue;
pub mod ratelimit;
pub mod state;
pub mod store;
pub mod stream;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod tokens;
pub mod webhooks;
pub mod workers;
