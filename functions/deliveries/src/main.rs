//! The webhook delivery worker as an SQS-triggered Lambda function: each message is one signed
//! attempt; failures are re-enqueued with a delay by the worker itself, and messages that could
//! not be processed are reported as partial batch failures.

use std::sync::Arc;

use tenx_shared::platform::config::Secrets;
use tenx_shared::webhooks::delivery::DeliveryWorker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; a worker holds no secret.
    let state = tenx_shared::runtime::aws::app_state_from_env(Secrets::NONE).await?;
    tenx_shared::runtime::workers::lambda::run(Arc::new(DeliveryWorker::new(state))).await
}
