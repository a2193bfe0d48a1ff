//! 10x attribution: the shared library behind every Lambda function and the local server.
//!
//! The product's nouns first, one folder (or file) per service: links, clicks, campaigns,
//! conversions, customers, analytics, webhooks, chain, tokens, auth, and the money layer's
//! partners, plans, fx, ledger, plan changes and payouts. Beneath them `domain` (pure types and
//! rules), `platform` (the store, queue and stream seams with their embedded and AWS engines,
//! config, time, clients) and `kernel` (the application state, events, the outbox, rate
//! limits); above them `http` (one router per endpoint group) and `runtime` (the local server,
//! the Lambda wiring, the workers). `testing` is test support. `docs/architecture.md` maps it;
//! `scripts/check_layers.py` enforces the layers.

pub mod analytics;
pub mod auth;
pub mod campaigns;
pub mod chain;
pub mod claims;
pub mod clicks;
pub mod connectors;
pub mod conversions;
pub mod coupon_leaks;
pub mod customers;
pub mod domain;
pub mod domains;
pub mod embed;
pub mod fx;
pub mod http;
pub mod imports;
pub mod kernel;
pub mod ledger;
pub mod links;
pub mod mail;
pub mod messages;
pub mod partners;
pub mod payout_batches;
pub mod payout_methods;
pub mod payouts;
pub mod people;
pub mod plan_changes;
pub mod plans;
pub mod platform;
pub mod portal;
pub mod programs;
pub mod risk;
pub mod runtime;
pub mod search;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod webhooks;
pub mod weekly;
