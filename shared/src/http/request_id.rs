//! Every response carries `x-request-id`; error bodies repeat it, and every log line of the
//! request carries it through the request's span (`request` with `request_id`, `method`,
//! `path`, `handle` once authorized, `status`). On Lambda the id is API Gateway's request id, so
//! a client's id, our logs and API Gateway's access logs name the same request. The id also
//! lives in a task-local so `ApiError` can render it without threading it through.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current request's id, or an empty string outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
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
    let run = REQUEST_ID.scope(id.clone(), next.run(request));
    let mut response = run.instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
        use std::sync::{Arc, Mutex};
        use tower::ServiceExt;

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
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let failing = || async {
            crate::http::error::ApiError::internal_error(&std::io::Error::other("disk on fire"))
        };
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(failing))
            .layer(axum::middleware::from_fn(middleware));
        let response = app
            .oneshot(
                axum::http::Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let id = response.headers()[&X_REQUEST_ID]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["requestId"], id.as_str());
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let failures: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("request failed"))
            .collect();
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
