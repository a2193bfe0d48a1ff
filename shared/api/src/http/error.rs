//! One error type for every route, rendered as the API envelope
//! `{"error": {"code", "message", "requestId"}}`. 5xx details are logged, never shown.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::domain::DomainError;
use crate::http::current_request;
use crate::kernel::ratelimit::{Limited, Quota, RateLimitError};
use crate::kernel::state::Unconfigured;
use crate::platform::queue::QueueError;
use crate::platform::store::StoreError;

/// Every error code the API answers (the envelope's `code`), each with its one status. The
/// list is the contract: `openapi.yaml`'s `ErrorCode` and `docs/api.md` name the same codes
/// (`tests/api/openapi.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidCtx,
    InvalidSignature,
    Unauthorized,
    Forbidden,
    /// A cookie-authenticated write without its `x-csrf-token` (issue 60).
    Csrf,
    InsufficientRole,
    InsufficientScope,
    VerificationRequired,
    NotFound,
    MethodNotAllowed,
    Conflict,
    InvalidState,
    IdempotencyKeyReused,
    LinkExpired,
    PreconditionFailed,
    PayloadTooLarge,
    RateLimited,
    Internal,
    Unavailable,
    /// A custom domain's TXT record was not found (issue 64).
    NotVerified,
    /// An admin of a handle that requires passkeys of its admins has none yet (issue 60).
    PasskeyRequired,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 22] = [
        Self::InvalidRequest,
        Self::InvalidCtx,
        Self::InvalidSignature,
        Self::Unauthorized,
        Self::Forbidden,
        Self::Csrf,
        Self::InsufficientRole,
        Self::InsufficientScope,
        Self::VerificationRequired,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::InvalidState,
        Self::IdempotencyKeyReused,
        Self::LinkExpired,
        Self::PreconditionFailed,
        Self::PayloadTooLarge,
        Self::RateLimited,
        Self::Internal,
        Self::Unavailable,
        Self::NotVerified,
        Self::PasskeyRequired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidCtx => "invalid_ctx",
            Self::InvalidSignature => "invalid_signature",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf",
            Self::InsufficientRole => "insufficient_role",
            Self::InsufficientScope => "insufficient_scope",
            Self::VerificationRequired => "verification_required",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::InvalidState => "invalid_state",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::LinkExpired => "link_expired",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::NotVerified => "not_verified",
            Self::PasskeyRequired => "passkey_required",
        }
    }

    /// The one HTTP status this code is answered with.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest | Self::InvalidCtx | Self::InvalidSignature => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::Csrf
            | Self::InsufficientRole
            | Self::InsufficientScope
            | Self::VerificationRequired
            | Self::PasskeyRequired => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict
            | Self::InvalidState
            | Self::IdempotencyKeyReused
            | Self::NotVerified => StatusCode::CONFLICT,
            Self::LinkExpired => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Extra response headers (retry-after, rate-limit headers).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// What went wrong on our side (5xx only): logged once, with the request id, when the
    /// response is rendered; never shown to the client.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            headers: Vec::new(),
            cause: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} was not found."))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// A status change the record's state does not allow (API.md: `409 invalid_state`).
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidState, message)
    }

    pub fn invalid_ctx(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidCtx, message)
    }

    /// A server-side failure: the detail goes to the log, the client sees a generic sentence.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorCode::Internal,
            "An internal error occurred; retry later or contact support with the request id.",
        );
        e.cause = Some(detail.to_string());
        e
    }

    /// [`ApiError::internal`] for an error value: the cause chain is kept for the log.
    pub fn internal_error(error: &(dyn std::error::Error + 'static)) -> Self {
        Self::internal(cause_chain(error))
    }

    /// The backing store or queue is overloaded after retries: the client should retry.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorCode::Unavailable,
            "The service is temporarily overloaded; retry after the indicated delay.",
        )
        .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        e.cause = Some(detail.to_string());
        e
    }

    /// `409 conflict` with `retry-after` (seconds).
    pub fn retry_later(message: impl Into<String>, retry_after_secs: i64) -> Self {
        Self::conflict(message).with_header(
            http::header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PreconditionFailed, message)
    }

    /// Logs a server-side failure once, inside the request's span (which carries the id).
    fn log(&self) {
        let cause = self.cause.as_deref().unwrap_or("-");
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(status = self.status.as_u16(), cause, "backend unavailable");
        } else if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                request_id = %current_request::id(),
                cause,
                "request failed"
            );
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// An error and its sources, outermost first: `a: b: c`.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "requestId": current_request::id(),
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::invalid_request(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::unavailable(e),
            StoreError::BadCursor(_) => {
                ApiError::invalid_request("cursor: not a cursor returned by this API.")
            }
            other => ApiError::internal_error(&other),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Unavailable(_) => ApiError::unavailable(e),
            other => ApiError::internal_error(&other),
        }
    }
}

impl From<Unconfigured> for ApiError {
    fn from(e: Unconfigured) -> Self {
        ApiError::internal_error(&e)
    }
}

impl From<crate::people::acting::OwnPartner> for ApiError {
    fn from(e: crate::people::acting::OwnPartner) -> Self {
        ApiError::forbidden(e.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::Unauthorized(_) => ApiError::unauthorized(message),
            AuthError::ForeignHandle(_) => ApiError::forbidden(message),
            AuthError::InsufficientRole(_) => ApiError::new(ErrorCode::InsufficientRole, message),
            AuthError::InsufficientScope(_) => ApiError::new(ErrorCode::InsufficientScope, message),
            AuthError::NotConfigured => ApiError::internal(message),
            AuthError::Store(e) => e.into(),
        }
    }
}

impl From<RateLimitError> for ApiError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited(limited) => limited.into(),
            RateLimitError::Store(e) => e.into(),
        }
    }
}

/// `429 rate_limited` with `retry-after` and the `x-ratelimit-*` headers.
impl From<Limited> for ApiError {
    fn from(e: Limited) -> Self {
        let mut error = ApiError::new(ErrorCode::RateLimited, e.to_string());
        error.headers = quota_headers(&e.quota);
        error.with_header(http::header::RETRY_AFTER, HeaderValue::from(e.retry_after))
    }
}

/// The `x-ratelimit-*` headers of a quota.
pub fn quota_headers(quota: &Quota) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(quota.limit),
        ),
        (
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(quota.remaining.max(0)),
        ),
        (
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(quota.reset),
        ),
    ]
}

/// Puts a quota's headers on a response (replacing any the handler set).
pub fn apply_quota(quota: &Quota, response: &mut Response) {
    for (name, value) in quota_headers(quota) {
        response.headers_mut().insert(name, value);
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
