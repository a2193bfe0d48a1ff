//! 10x attribution, attribution: conversions exactly once, customers and their bindings, coupon leaks.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod attribute;
pub mod conversions;
pub mod coupon_leaks;
pub mod customers;
pub mod test_sales;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_identity::partners;
use tenx_kernel::{domain, kernel, platform};
use tenx_programs::{plans, programs, test_mode};
use tenx_tracking::{analytics, campaigns, clicks, links};
