//! Test support of the tracking crate: the kernel's failure-injection hooks and the click stream's
//! conformance suite (it reads the analytics rollups); named only by tests.

pub use tenx_kernel::testing::*;

pub mod conformance_stream;
