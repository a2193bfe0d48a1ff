//! Runs a [`BatchHandler`] as an SQS-triggered Lambda function, reporting partial batch failures
//! so one bad message does not redeliver the whole batch.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::consume::BatchHandler;
use crate::queue::Received;

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
