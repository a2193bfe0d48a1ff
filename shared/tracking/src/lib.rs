//! 10x attribution, tracking: links and their routing, campaigns, the visit (clicks, ctx, bots), analytics and custom domains.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod analytics;
pub mod campaigns;
pub mod clicks;
pub mod domains;
pub mod links;
pub mod search;
#[doc(hidden)]
pub mod testing;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_identity::{mail, partners};
use tenx_kernel::{domain, kernel, platform};
