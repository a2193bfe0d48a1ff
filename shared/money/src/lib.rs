//! 10x attribution, money: the exactly-once ledger, plan changes, risk, claims (they move a ledger line), payout methods and tax profiles, payouts with their statements, payout batches and bank files.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod claims;
pub mod ledger;
pub mod payout_batches;
pub mod payout_methods;
pub mod payout_providers;
pub mod payouts;
pub mod plan_changes;
pub mod risk;
pub mod test_books;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_attribution::{conversions, customers};
use tenx_identity::{mail, partners, people, tokens};
use tenx_kernel::{domain, kernel, platform};
use tenx_programs::{fx, plans, programs, test_mode};
use tenx_tracking::{analytics, campaigns};
