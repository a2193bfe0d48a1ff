//! The imports worker as an SQS-triggered Lambda function (issue 64): each message is one import,
//! written a few chunks at a time from its stored cursor; an import with more left is queued
//! again, and a message whose work failed comes back and resumes at the cursor.

use std::sync::Arc;

use tenx_shared::imports::worker::ImportWorker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings, the AWS clients and the keyrings a program's rows are
    // written with (its partners' PayPal emails sealed, its customers' emails digested).
    let secrets = tenx_shared::imports::keyrings::SECRETS;
    let state = tenx_shared::runtime::aws::app_state_from_env(secrets).await?;
    tenx_shared::runtime::workers::lambda::run(Arc::new(ImportWorker::new(state))).await
}
