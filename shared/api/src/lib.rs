//! 10x attribution, the HTTP API: axum routers, one module per resource, each route declared once with its access rule.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod http;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_attribution::{attribute, conversions, coupon_leaks, customers, test_sales};
use tenx_identity::{chain, mail, messages, partners, people, tokens, webhooks};
use tenx_integrations::{connectors, imports};
use tenx_kernel::{auth, domain, kernel, platform};
use tenx_money::{
    claims, ledger, payout_batches, payout_methods, payout_providers, payouts, plan_changes, risk,
    test_books,
};
use tenx_portal::{embed, portal};
use tenx_programs::{fx, plans, programs, test_mode};
use tenx_tracking::{analytics, campaigns, clicks, domains, links, search};
