//! 10x attribution, a program: its settings, its commission plans and the currencies it pays in.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod fx;
pub mod plans;
pub mod programs;
pub mod test_mode;
#[doc(hidden)]
pub mod testing;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_identity::{mail, partners, people};
use tenx_kernel::{domain, kernel, platform};
use tenx_tracking::{campaigns, links};
