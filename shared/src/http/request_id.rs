//! Every response carries `x-request-id`; error bodies repeat it. The id lives in a task-local
//! for the duration of the request so `ApiError` can render it without threading it through.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

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
        .unwrap_or_else(|| format!("req_{}", uuid::Uuid::now_v7().simple()))
}

pub async fn middleware(request: Request, next: Next) -> Response {
    let id = choose(request.headers().get(&X_REQUEST_ID));
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
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
}
