//! The partner portal's own services (issue 61): what a partner sees of its program, computed
//! once here so every screen (the portal, the console's partner view) shows the same figures.
//!
//! - [`summary`]: the partner's earnings over time, its balance and its next payout explained,
//!   by ONE reconciliation rule over its live lines.
//! - [`links`]: the partner's own links, to the destinations its program allows, under a
//!   quota (the one key it owns: `H#{handle}#PLQ` / `{partner}`, the quota's counter).
//! - [`terms`]: the plan's terms in words, per campaign of the partner's, now and to come.
//! - [`traffic`]: its clicks and conversions and its top links, over the summary's window,
//!   from counters (the funnel's and the ledger's earnings per link).
//! - [`explain`]: one commission's proof in words: the sale, the plan version, the rule.
//!
//! Otherwise it reads through the ledger, payouts and programs.

pub mod dashboard;
pub mod explain;
pub mod links;
pub mod summary;
pub mod terms;
pub mod traffic;
