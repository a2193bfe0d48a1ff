//! Runs a [`BatchHandler`] as an SQS-triggered Lambda function, reporting partial batch failures
//! so one bad message does not redeliver the whole batch.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::kernel::consume::BatchHandler;
use crate::platform::queue::Received;
use crate::platform::stream::StreamRecord;
use crate::runtime::workers::click_stream::ClickConsumer;
use aws_lambda_events::event::kinesis::KinesisEvent;

/// Converts the SQS event into the handler's batch type.
pub fn batch_from_event(event: SqsEvent) -> Vec<Received> {
    event
        .records
        .into_iter()
        .map(|r| Received {
            message_id: r.message_id.unwrap_or_default(),
            receipt: r.receipt_handle.unwrap_or_default(),
            body: r.body.unwrap_or_default(),
            receive_count: r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
        })
        .collect()
}

/// One invocation: the handler's failures become `batchItemFailures`.
pub async fn handle_event(handler: &dyn BatchHandler, event: SqsEvent) -> SqsBatchResponse {
    let failed = handler.handle(batch_from_event(event)).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// The Lambda entry point of a queue worker.
pub async fn run(handler: Arc<dyn BatchHandler>) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handler = handler.clone();
        async move {
            Ok::<_, lambda_runtime::Error>(handle_event(handler.as_ref(), event.payload).await)
        }
    }))
    .await
}

/// A Kinesis batch as each shard's records, in order. The shard is the part of `eventID`
/// before the `:` (`shardId-000000000000:4959…`).
pub fn shard_batches(event: KinesisEvent) -> Vec<(String, Vec<StreamRecord>)> {
    let mut shards: Vec<(String, Vec<StreamRecord>)> = Vec::new();
    for r in event.records {
        let id = r.event_id.unwrap_or_default();
        let shard = id
            .split_once(':')
            .map_or(id.as_str(), |(s, _)| s)
            .to_owned();
        let record = StreamRecord {
            sequence: r.kinesis.sequence_number,
            data: String::from_utf8_lossy(&r.kinesis.data.0).into_owned(),
        };
        match shards.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, records)) => records.push(record),
            None => shards.push((shard, vec![record])),
        }
    }
    shards
}

/// The Lambda entry point of the click stream's consumer. A failed batch fails the invocation:
/// the event source mapping retries it whole, and the checkpoint skips what was counted.
pub async fn run_clicks(consumer: Arc<ClickConsumer>) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| {
        let consumer = consumer.clone();
        async move {
            for (shard, records) in shard_batches(event.payload) {
                consumer
                    .apply(&shard, records)
                    .await
                    .map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))?;
            }
            Ok::<(), lambda_runtime::Error>(())
        }
    }))
    .await
}
