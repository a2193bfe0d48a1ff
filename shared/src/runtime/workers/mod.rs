//! Queue consumers, and the click stream's (`clicks`). Each is a [`BatchHandler`]: given a batch of received messages it returns
//! the ones that failed. The same handler runs as an SQS-triggered Lambda (partial batch
//! failures, `ReportBatchItemFailures`) and, locally, inside `tenx serve` as a polling task.

pub mod click_stream;
pub mod events;
pub mod lambda;
pub mod local;
pub mod sweeper;

pub use crate::kernel::consume::BatchHandler;
