//! The click stream's consumer as a Kinesis-triggered Lambda function: each shard's batch goes
//! through the webhook fan-out, then into the analytics counters with the shard's checkpoint,
//! so a retried or replayed batch counts nothing twice.

use std::sync::Arc;

use tenx_shared::platform::config::Secrets;
use tenx_shared::runtime::assembly::click_sinks;
use tenx_shared::runtime::workers::click_stream::ClickConsumer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; a worker holds no secret.
    let state = tenx_shared::runtime::aws::app_state_from_env(Secrets::NONE).await?;
    tenx_shared::runtime::workers::lambda::run_clicks(Arc::new(ClickConsumer::new(
        state,
        click_sinks(),
    )))
    .await
}
