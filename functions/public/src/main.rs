//! The `public` endpoint group as a Lambda function (API Gateway / function URL events).

use tenx_shared::http::{group_app, Group};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tenx_shared::aws::init_lambda_tracing();
    let state = tenx_shared::aws::app_state_from_env().await?;
    lambda_http::run(group_app(Group::Public, state)).await
}
