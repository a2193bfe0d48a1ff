//! 10x attribution, what partners and managers read without asking: the partner portal's and the embed's read models, the weekly digest.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod embed;
pub mod portal;
pub mod weekly;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_identity::{mail, messages, partners, people};
use tenx_kernel::{domain, kernel, platform};
use tenx_money::{claims, ledger, payouts};
use tenx_programs::{plans, programs};
use tenx_tracking::{analytics, campaigns, links};
