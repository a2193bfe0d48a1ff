//! Failure-injection hooks and conformance suites for tests (compiled in every build, named only
//! by tests): the kernel's and the tracking crate's, re-exported, and the suites that span every
//! context (the golden events, the stored times, mail).

pub use tenx_kernel::testing::*;
pub use tenx_tracking::testing::conformance_stream;

#[cfg(test)]
mod golden_events;
pub mod mail;
#[cfg(test)]
mod stored_times;
