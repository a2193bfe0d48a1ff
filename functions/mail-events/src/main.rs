//! The mail feedback worker as an SQS-triggered Lambda function (issue 59): SES's events
//! (bounce, complaint, delivery) arrive through SNS on the mail-events queue; bounces and
//! complaints suppress their addresses and a bounce marks its mail `bounced`.

use std::sync::Arc;

use tenx_shared::mail::feedback::FeedbackWorker;
use tenx_shared::platform::config::Secrets;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings and the AWS clients; this worker holds no secret.
    let state = tenx_shared::runtime::aws::app_state_from_env(Secrets::NONE).await?;
    tenx_shared::runtime::workers::lambda::run(Arc::new(FeedbackWorker::new(state))).await
}
