//! Every response carries `x-request-id`; error bodies repeat it, and every log line of the
//! request carries it through the request's span (`request` with `request_id`, `method`,
//! `path`, `handle` once authorized, `status`). On Lambda the id is API Gateway's request id, so
//! a client's id, our logs and API Gateway's access logs name the same request. The id also
//! lives in a task-local so `ApiError` can render it without threading it through.
//!
//! The middleware also catches a handler's panic (the release profile unwinds): the client gets
//! a 500 in the error envelope with the request id, the panic is logged once through
//! `ApiError`'s log line, and the server (or warm Lambda sandbox) keeps serving.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use futures::FutureExt;
use lambda_http::request::RequestContext;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The current request's id, or an empty string outside a request.
pub fn current() -> String {
    crate::http::current_request::id()
}

/// A caller-supplied id is kept when it is short and plain (for tracing across systems);
/// otherwise a fresh one is generated.
fn choose(incoming: Option<&HeaderValue>) -> String {
    incoming
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            (1..=128).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| crate::domain::prefixed::RequestId::new().to_string())
}

/// API Gateway's request id, when the request came through it (Lambda).
fn gateway_request_id(request: &Request) -> Option<String> {
    match request.extensions().get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.request_id.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

pub async fn middleware(request: Request, next: Next) -> Response {
    let id = gateway_request_id(&request)
        .unwrap_or_else(|| choose(request.headers().get(&X_REQUEST_ID)));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        // The route pattern (`/v2/handles/{handle}/links/{slug}`), for grouping; absent on 404s.
        route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        handle = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let run = crate::http::current_request::scope(id.clone(), async move {
        // The handler's state is dropped with its future: nothing half-written is reused.
        match AssertUnwindSafe(next.run(request)).catch_unwind().await {
            Ok(response) => response,
            Err(panic) => panicked(panic.as_ref()),
        }
    });
    let mut response = run.instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// The 500 answered for a panicking handler; `ApiError` logs it once with the request id.
fn panicked(panic: &(dyn Any + Send)) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string payload)");
    crate::http::error::ApiError::internal(format_args!("handler panicked: {message}"))
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tower::ServiceExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// The log lines written on this thread while the guard lives.
    fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    async fn get(app: &axum::Router, path: &str) -> (u16, String, serde_json::Value) {
        let response = app
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let id = response.headers()[&X_REQUEST_ID]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (
            status,
            id,
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    /// Issue 28 (5): a panicking handler answers 500 in the error envelope with the request id,
    /// is logged once with that id and the panic's message, and the router keeps serving.
    #[tokio::test(flavor = "current_thread")]
    async fn a_panicking_handler_answers_500_and_the_router_keeps_serving() {
        let (captured, _guard) = capture_logs();
        async fn boom() -> &'static str {
            panic!("kaboom in a handler")
        }
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(boom))
            .route("/ok", axum::routing::get(|| async { "{}" }))
            .layer(axum::middleware::from_fn(middleware));

        let (status, id, body) = get(&app, "/boom").await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["requestId"], id.as_str());
        let log = captured.text();
        let failures = failure_lines(&log);
        assert_eq!(failures.len(), 1, "logged once: {log}");
        assert!(failures[0].contains(&id), "no request id: {}", failures[0]);
        assert!(
            failures[0].contains("kaboom in a handler"),
            "{}",
            failures[0]
        );

        for _ in 0..2 {
            assert_eq!(get(&app, "/ok").await.0, 200, "still serving");
        }
        let (status, second, _) = get(&app, "/boom").await;
        assert_eq!(status, 500);
        assert_ne!(second, id, "each panic answers its own request id");
    }

    /// The log lines `ApiError` writes for a 5xx.
    fn failure_lines(log: &str) -> Vec<&str> {
        log.lines()
            .filter(|l| l.contains("request failed"))
            .collect()
    }

    #[test]
    fn keeps_plain_ids_and_replaces_odd_ones() {
        assert_eq!(
            choose(Some(&HeaderValue::from_static("abc-123"))),
            "abc-123"
        );
        assert!(choose(Some(&HeaderValue::from_static("has space"))).starts_with("req_"));
        assert!(choose(None).starts_with("req_"));
        let long = "a".repeat(129);
        assert!(choose(Some(&HeaderValue::from_str(&long).unwrap())).starts_with("req_"));
    }

    /// A 500's request id (the one the client sees in the body and header) is in the log line
    /// that records the failure, together with its cause.
    #[tokio::test]
    async fn a_500_is_logged_once_with_its_request_id_and_cause() {
        let (captured, _guard) = capture_logs();

        let failing = || async {
            crate::http::error::ApiError::internal_error(&std::io::Error::other("disk on fire"))
        };
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(failing))
            .layer(axum::middleware::from_fn(middleware));
        let (status, id, body) = get(&app, "/boom").await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["requestId"], id.as_str());
        let log = captured.text();
        let failures = failure_lines(&log);
        assert_eq!(failures.len(), 1, "logged once: {log}");
        assert!(
            failures[0].contains(&id),
            "no request id in {:?}",
            failures[0]
        );
        assert!(
            failures[0].contains("disk on fire"),
            "no cause in {:?}",
            failures[0]
        );
        assert!(
            failures[0].contains("path=/boom"),
            "no span fields in {:?}",
            failures[0]
        );
    }
}
