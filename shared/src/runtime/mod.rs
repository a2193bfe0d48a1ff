//! Where the services run: the local server (`tenx serve`), the AWS wiring and provisioning, the
//! queue and stream workers, and the one place that assembles every consumer.

pub mod assembly;
pub mod aws;
pub mod local;
pub mod workers;
