//! The web console (its page and assets, the local sign-in that answers 404 here, and "try the
//! redirect") as a Lambda function behind the /v2 API Gateway HTTP API (payload v2): one origin
//! with the API, so the console's Content-Security-Policy allows `connect-src 'self'` only.

use tenx_shared::http::{Group, group_app};

const GROUP: Group = Group::Console;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings, only this group's secrets, the AWS clients.
    let state = tenx_shared::runtime::aws::app_state_from_env(GROUP).await?;
    lambda_http::run(group_app(GROUP, state)).await
}
