//! Classifies failed AWS calls, for DynamoDB and SQS alike: transient failures (throttling,
//! 5xx, timeouts, connection errors: the SDK has already retried them with backoff) become
//! `Unavailable` (HTTP 503 with `retry-after`), caller mistakes become `Invalid`, the rest are
//! internal errors. A failed write is never reported as a success.

use std::error::Error;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What a failed call means for its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Overload or an outage: retrying later may succeed (→ 503).
    Transient,
    /// The request itself was rejected (a bug in the caller).
    Invalid,
    /// Anything else (missing table or queue, access denied, …).
    Permanent,
}

/// Error codes AWS uses for throttling and server-side trouble.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionInProgressException",
    // A single write that met a transaction in flight on its item: nothing was written. The
    // DynamoDB store retries it itself (`store::dynamo`); what outlasts that is an overload.
    "TransactionConflictException",
    "KmsThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
];

const INVALID_CODES: &[&str] = &[
    "ValidationException",
    "SerializationException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "MissingParameter",
    "InvalidMessageContents",
    "BatchRequestTooLong",
    "AWS.SimpleQueueService.BatchRequestTooLong",
    "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
];

/// Classifies a service error from its code and HTTP status.
pub fn classify_code(code: Option<&str>, status: Option<u16>) -> Failure {
    if code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        || status.is_some_and(|s| s == 429 || s >= 500)
    {
        Failure::Transient
    } else if code.is_some_and(|c| INVALID_CODES.contains(&c)) {
        Failure::Invalid
    } else {
        Failure::Permanent
    }
}

/// Classifies any SDK error (of any AWS service).
pub fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Failure {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ServiceError(ctx) => {
            classify_code(ctx.err().code(), Some(ctx.raw().status().as_u16()))
        }
        // A request the SDK could not even build is a bug in our code.
        SdkError::ConstructionFailure(_) => Failure::Invalid,
        _ => Failure::Permanent,
    }
}

/// A one-line description with the whole error chain (the SDK's `Display` says little).
pub fn describe<E>(what: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    match err {
        // The code and message say it all (the full context repeats the raw response).
        SdkError::ServiceError(ctx) => format!(
            "{what}: {}: {}",
            ctx.err().code().unwrap_or("unknown error"),
            ctx.err().message().unwrap_or("no message")
        ),
        other => format!("{what}: {}", DisplayErrorContext(other)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ConnectorError;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ProvisionedThroughputExceededException,
        ResourceNotFoundException, ThrottlingException,
    };
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn raw(status: u16) -> HttpResponse {
        HttpResponse::new(
            StatusCode::try_from(status).expect("status"),
            SdkBody::empty(),
        )
    }

    fn service(err: PutItemError, status: u16) -> SdkError<PutItemError, HttpResponse> {
        SdkError::service_error(err, raw(status))
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "TransactionConflictException",
        ] {
            assert_eq!(
                classify_code(Some(code), Some(400)),
                Failure::Transient,
                "{code}"
            );
        }
        assert_eq!(classify_code(None, Some(500)), Failure::Transient);
        assert_eq!(
            classify_code(Some("Whatever"), Some(503)),
            Failure::Transient
        );
        assert_eq!(classify_code(None, Some(429)), Failure::Transient);
        assert_eq!(
            classify_code(Some("ValidationException"), Some(400)),
            Failure::Invalid
        );
        assert_eq!(
            classify_code(Some("ResourceNotFoundException"), Some(400)),
            Failure::Permanent
        );
        assert_eq!(classify_code(None, None), Failure::Permanent);
    }

    #[test]
    fn sdk_errors_are_classified_by_kind_and_code() {
        let throttled = PutItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .build(),
                )
                .build(),
        );
        assert_eq!(classify(&service(throttled, 400)), Failure::Transient);
        let throttled = PutItemError::ThrottlingException(
            ThrottlingException::builder()
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code("ThrottlingException")
                        .build(),
                )
                .build(),
        );
        assert_eq!(classify(&service(throttled, 400)), Failure::Transient);
        let unhandled = PutItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("InternalServerError")
                .build(),
        );
        assert_eq!(classify(&service(unhandled, 500)), Failure::Transient);
        let missing =
            PutItemError::ResourceNotFoundException(ResourceNotFoundException::builder().build());
        assert_eq!(classify(&service(missing, 400)), Failure::Permanent);
        let failed = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        );
        assert_eq!(classify(&service(failed, 400)), Failure::Permanent);

        let timeout: SdkError<PutItemError, HttpResponse> = SdkError::timeout_error("timed out");
        assert_eq!(classify(&timeout), Failure::Transient);
        let refused: SdkError<PutItemError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert_eq!(classify(&refused), Failure::Transient);
        let garbled: SdkError<PutItemError, HttpResponse> =
            SdkError::response_error("truncated body", raw(200));
        assert_eq!(classify(&garbled), Failure::Transient);
        let unbuildable: SdkError<PutItemError, HttpResponse> =
            SdkError::construction_failure("missing table name");
        assert_eq!(classify(&unbuildable), Failure::Invalid);
        assert!(describe("put", &timeout).starts_with("put: "));
    }
}
