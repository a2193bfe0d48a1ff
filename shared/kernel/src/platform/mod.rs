//! Platform plumbing, below every service: the storage, queue, click-stream, mail, upload and
//! edge seams with their embedded engines (the AWS engines are `tenx-aws`'s, handed in as
//! [`engines::Engines`]), settings, time, the HTTP client, and the counters and decorator
//! wrapped around the seams.

pub mod config;
pub mod decorate;
pub mod dns;
pub mod edge;
pub mod engines;
pub mod http_client;
pub mod mail;
pub mod metrics;
pub mod op_counts;
pub mod pdf;
pub mod queue;
pub mod store;
pub mod stream;
pub mod time;
pub mod uploads;
