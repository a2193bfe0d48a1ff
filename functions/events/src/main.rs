//! The events consumer as an SQS-triggered Lambda function: every batch of events goes through
//! every sink of `assembly::sinks()` (the analytics aggregator, webhook fan-out); a batch a
//! sink could not apply is reported as failed and redelivered, and sinks dedupe by event id.

use std::sync::Arc;

use tenx_shared::platform::config::Secrets;
use tenx_shared::runtime::assembly::sinks;
use tenx_shared::runtime::workers::events::EventsWorker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; a worker holds no secret.
    let state = tenx_shared::runtime::aws::app_state_from_env(Secrets::NONE).await?;
    tenx_shared::runtime::workers::lambda::run(Arc::new(EventsWorker {
        state,
        sinks: sinks(),
    }))
    .await
}
