//! The mail worker as an SQS-triggered Lambda function (issue 59): each message is one try to
//! send one mail through SES; retries are re-enqueued with a delay by the worker itself, and
//! messages that could not be processed are reported as partial batch failures.

use std::sync::Arc;

use tenx_shared::mail::worker::SECRETS;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings, the AWS clients, the keyring that tags unsubscribe links
    // and the payout key that opens (and seals) the self-billing invoices the mails carry.
    let state = tenx_shared::runtime::aws::app_state_from_env(SECRETS).await?;
    let worker = tenx_shared::runtime::assembly::mail_worker(&state);
    tenx_shared::runtime::workers::lambda::run(Arc::new(worker)).await
}
