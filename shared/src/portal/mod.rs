//! The partner portal's own services (issue 61): what a partner sees of its program, computed
//! once here so every screen (the portal, the console's partner view) shows the same figures.
//!
//! - [`summary`]: the partner's earnings over time, its balance and its next payout explained,
//!   by ONE reconciliation rule over its live lines.
//!
//! It owns no store key: it reads through the ledger, payouts and programs.

pub mod summary;
