//! The Lambda bundle, tested as Lambda runs it: every file in `events/` replayed through its
//! function's handler (API Gateway events through lambda_http's own request type and adapter,
//! SQS and scheduled events through the workers' Lambda handlers), `template.yaml` checked
//! against the routers, the access table and the actions each function was seen to perform, and
//! the least-privilege cold start (functions without authenticated routes hold no JWT secret),
//! and the public conversion's client address (API Gateway's `sourceIp`, never a header).

// The workspace's cast lints guard money and time in the service; a test's small constants and
// counters are not either, and `try_from(..).unwrap()` on each would only add noise.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod client_address;
mod least_privilege;
mod replay;
mod support;
mod template;
