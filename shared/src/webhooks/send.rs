//! One signed webhook POST: SSRF-vet the endpoint (unless private endpoints are allowed), pin
//! the connection to the vetted address, send with a 10 s timeout, never follow redirects.

use std::time::{Duration, Instant};

use url::{Host, Url};

use super::ssrf::{self, SystemResolver};

/// The whole request, connect included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
pub const USER_AGENT: &str = "tenx-webhooks/1";

/// What one attempt produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOutcome {
    /// The endpoint's status, when it answered at all.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why the attempt failed, when the status code alone does not say.
    pub error: Option<String>,
}

impl SendOutcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }

    /// `410 Gone`: the receiver asks us to stop.
    pub fn gone(&self) -> bool {
        self.status_code == Some(410)
    }
}

/// A signed message, ready to send.
pub struct SignedRequest<'a> {
    pub url: &'a str,
    pub msg_id: &'a str,
    pub timestamp: i64,
    pub signature: String,
    pub body: &'a str,
}

pub async fn post(allow_private: bool, request: SignedRequest<'_>) -> SendOutcome {
    let started = Instant::now();
    let result = post_inner(allow_private, request).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((code, error)) => SendOutcome {
            status_code: Some(code),
            duration_ms,
            error,
        },
        Err(error) => SendOutcome {
            status_code: None,
            duration_ms,
            error: Some(error),
        },
    }
}

async fn post_inner(
    allow_private: bool,
    request: SignedRequest<'_>,
) -> Result<(u16, Option<String>), String> {
    let url = Url::parse(request.url).map_err(|_| "the endpoint URL is invalid".to_owned())?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .user_agent(USER_AGENT)
        // A proxy would resolve the host itself, defeating the pinning below.
        .no_proxy();
    let resolver = SystemResolver {
        timeout: DNS_TIMEOUT,
    };
    let addr = ssrf::vet(&url, &resolver, allow_private)
        .await
        .map_err(|refusal| format!("endpoint refused: {refusal}"))?;
    if let Some(Host::Domain(name)) = url.host() {
        // Connect to exactly the address vetted above (DNS rebinding cannot swap it).
        builder = builder.resolve(name, addr);
    }
    let client = builder
        .build()
        .map_err(|e| format!("HTTP client: {}", root_cause(&e)))?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", request.msg_id)
        .header("webhook-timestamp", request.timestamp.to_string())
        .header("webhook-signature", request.signature)
        .body(request.body.to_owned())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    let error = if status.is_redirection() {
        Some("redirects are not followed; point the subscription at the final URL".to_owned())
    } else {
        None
    };
    Ok((status.as_u16(), error))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out after {} s", SEND_TIMEOUT.as_secs())
    } else if e.is_connect() {
        format!("connection failed: {}", root_cause(e))
    } else {
        format!("request failed: {}", root_cause(e))
    }
}

/// The innermost error message (e.g. "Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
