//! Platform plumbing, below every service: the storage, queue and click-stream seams (each with
//! its embedded and AWS engine), settings, time, the AWS and HTTP clients, and the counters and
//! decorator wrapped around the seams.

pub mod aws_client;
pub mod aws_errors;
pub mod config;
pub mod decorate;
pub mod dns;
pub mod edge;
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
