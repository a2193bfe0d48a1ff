//! The `campaigns` endpoint group as a Lambda function behind an API Gateway HTTP API (payload v2).

use tenx_shared::http::{Group, group_app};

const GROUP: Group = Group::Campaigns;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tenx_shared::runtime::aws::init_lambda_tracing();
    // Once per cold start: settings, only this group's secrets, the AWS clients.
    let state = tenx_shared::runtime::aws::app_state_from_env(GROUP).await?;
    lambda_http::run(group_app(GROUP, state)).await
}
