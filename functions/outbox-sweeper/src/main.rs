//! The outbox sweeper as a Lambda function, invoked by an EventBridge schedule (`rate(1 minute)`):
//! each invocation re-enqueues the committed events whose enqueue never happened, and carries on
//! the payout runs and status changes too large for their request. The conversions'
//! crash-safety guarantee depends on it in production.

// The sweeper's one future holds every path it carries on (events, payout jobs, provider sends
// and the credit notes of a payout given back), nested deeper than rustc's default layout limit.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; the one secret is the statements'
    // signing keys, since a payout run finished in the background seals its statements.
    let secrets = tenx_shared::runtime::workers::sweeper::SECRETS;
    let state = tenx_shared::runtime::aws::app_state_from_env(secrets).await?;
    tenx_shared::runtime::workers::sweeper::run(state).await
}
