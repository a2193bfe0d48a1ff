//! Creates what a fresh environment needs (`tenx setup`): the table (on-demand capacity, TTL on
//! `ttl`), both queues with their dead-letter queues and a redrive policy, and the click stream.
//! Idempotent:
//! existing resources are kept (and their TTL / redrive settings ensured).

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{AwsClients, AwsSettings};
use crate::aws::dynamo;
use crate::aws::errors::describe;
use crate::platform::queue::QueueName;
use crate::platform::queue::embedded::DEFAULT_MAX_RECEIVES;

/// How long to wait for a new table to become ACTIVE.
const TABLE_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Creates (or keeps) the table and queues of `settings`.
pub async fn provision(clients: &AwsClients, settings: &AwsSettings) -> anyhow::Result<()> {
    create_table(clients, &settings.table).await?;
    for queue in QueueName::ALL {
        create_queue(clients, settings, queue).await?;
    }
    create_stream(&clients.kinesis, &settings.click_stream).await
}

/// Shards of a new click stream (provisioned mode: `docs/architecture.md` says why).
pub(super) const CLICK_STREAM_SHARDS: i32 = 2;

/// Creates the click stream (or keeps it) and waits until it takes records.
async fn create_stream(kinesis: &aws_sdk_kinesis::Client, name: &str) -> anyhow::Result<()> {
    let created = kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(CLICK_STREAM_SHARDS)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(stream = name, "created Kinesis stream"),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_kinesis::operation::create_stream::CreateStreamError::is_resource_in_use_exception) =>
        {
            tracing::info!(stream = name, "Kinesis stream exists");
        }
        Err(e) => bail!(describe(&format!("creating stream {name}"), &e)),
    }
    let started = std::time::Instant::now();
    loop {
        let out = kinesis
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(describe("DescribeStreamSummary", &e)))?;
        let status = out
            .stream_description_summary()
            .map(|d| d.stream_status().clone());
        if status == Some(aws_sdk_kinesis::types::StreamStatus::Active) {
            return Ok(());
        }
        if started.elapsed() > TABLE_READY_TIMEOUT {
            bail!("stream {name} is still {status:?} after {TABLE_READY_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn create_table(clients: &AwsClients, table: &str) -> anyhow::Result<()> {
    let db = &clients.dynamodb;
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let created = db
        .create_table()
        .table_name(table)
        .attribute_definitions(attr(dynamo::PK)?)
        .attribute_definitions(attr(dynamo::SK)?)
        .key_schema(key(dynamo::PK, KeyType::Hash)?)
        .key_schema(key(dynamo::SK, KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table, "created DynamoDB table"),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(CreateTableError::ResourceInUseException(_))
            ) =>
        {
            tracing::info!(table, "DynamoDB table exists");
        }
        Err(e) => bail!(describe(&format!("creating table {table}"), &e)),
    }
    wait_until_active(db, table).await?;
    enable_ttl(db, table).await
}

async fn wait_until_active(db: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let out = db
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(describe("DescribeTable", &e)))?;
        let status = out.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if started.elapsed() > TABLE_READY_TIMEOUT {
            bail!("table {table} is still {status:?} after {TABLE_READY_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn enable_ttl(db: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
    let ttl = db
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(describe("DescribeTimeToLive", &e)))?;
    let enabled = ttl
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if !enabled {
        db.update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(dynamo::TTL)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(describe("UpdateTimeToLive", &e)))
            .with_context(|| format!("enabling TTL on {table}"))?;
    }
    Ok(())
}

async fn create_queue(
    clients: &AwsClients,
    settings: &AwsSettings,
    queue: QueueName,
) -> anyhow::Result<()> {
    let sqs = &clients.sqs;
    let dlq_name = settings.dead_letter_queue_name(queue);
    let dlq_url = create_named_queue(clients, &dlq_name).await?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(describe("GetQueueAttributes", &e)))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("SQS returned no ARN for {dlq_name}"))?;

    let name = settings.queue_name(queue);
    let url = create_named_queue(clients, &name).await?;
    // Set after creation, so re-running setup on an existing queue updates it.
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": DEFAULT_MAX_RECEIVES.to_string(),
    });
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(describe("SetQueueAttributes", &e)))
        .with_context(|| format!("setting the redrive policy of {name}"))?;
    tracing::info!(queue = %name, dead_letters = %dlq_name, "SQS queue ready");
    Ok(())
}

/// Creates a queue with default attributes (SQS returns the existing one's URL if it exists).
async fn create_named_queue(clients: &AwsClients, name: &str) -> anyhow::Result<String> {
    clients
        .sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(describe("CreateQueue", &e)))
        .with_context(|| format!("creating SQS queue {name}"))?
        .queue_url
        .with_context(|| format!("SQS returned no URL for {name}"))
}
