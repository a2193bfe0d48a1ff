//! The outbox sweeper as a Lambda function, invoked by an EventBridge schedule (`rate(1 minute)`):
//! each invocation re-enqueues the committed events whose enqueue never happened. The conversions'
//! crash-safety guarantee depends on it in production.

use tenx_shared::platform::config::Secrets;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; the sweeper holds no secret.
    let state = tenx_shared::runtime::aws::app_state_from_env(Secrets::NONE).await?;
    tenx_shared::runtime::workers::sweeper::run(state).await
}
