//! 10x attribution: the shared library behind every Lambda function and the local server.
//!
//! The product's nouns first, one folder (or file) per service: links, clicks, campaigns,
//! conversions, customers, analytics, webhooks, chain, tokens, auth, and the money layer's
//! partners, plans, fx, ledger, plan changes and payouts. Beneath them `domain` (pure types and
//! rules), `platform` (the store, queue and stream seams with their embedded engines, config,
//! time, clients), `aws` (the seams' AWS engines) and `kernel` (the application state, events, the outbox, rate
//! limits); above them `http` (one router per endpoint group) and `runtime` (the local server,
//! the Lambda wiring, the workers). `testing` is test support. `docs/architecture.md` maps it;
//! `scripts/check_layers.py` enforces the layers.

pub use tenx_api::http;
// The AWS engines (DynamoDB, SQS, Kinesis, SES, S3, the edges): only the runtime builds them.
pub use tenx_attribution::{attribute, conversions, coupon_leaks, customers, test_sales};
pub use tenx_aws as aws;
pub use tenx_identity::{chain, mail, messages, partners, people, tokens, webhooks};
pub use tenx_integrations::{connectors, imports};
pub use tenx_kernel::{auth, domain, kernel, platform};
pub use tenx_money::{
    claims, ledger, payout_batches, payout_methods, payout_providers, payouts, plan_changes, risk,
    test_books,
};
pub use tenx_portal::{embed, portal, weekly};
pub use tenx_programs::{fx, plans, programs, test_mode};
pub use tenx_tracking::{analytics, campaigns, clicks, domains, links, search};
pub mod runtime;
#[doc(hidden)]
pub mod testing;
// The conformance suites' macros, under the names the engines' tests call them by.
pub use tenx_kernel::{queue_checks, store_checks};
pub use tenx_tracking::stream_checks;
