//! 10x attribution, what comes from other tools: the Stripe and Shopify connectors, imports from files and from other platforms.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod connectors;
pub mod imports;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_attribution::{conversions, customers};
use tenx_identity::{partners, people};
use tenx_kernel::{domain, kernel, platform};
use tenx_money::{ledger, payout_methods};
use tenx_tracking::{campaigns, links};
