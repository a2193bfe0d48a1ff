//! One signed webhook POST: SSRF-vet the endpoint (unless private endpoints are allowed), pin
//! the connection to the vetted address, send with a 10 s timeout, never follow redirects.
//!
//! HTTP clients are kept per (host, vetted address) in [`Clients`], so deliveries to one
//! endpoint reuse their connections (keep-alive) instead of a new client, TLS setup and TCP
//! connection per attempt. A client only ever connects to the address it was built for, so the
//! pinning holds: a host that resolves elsewhere on the next vet gets another client.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
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

/// The most clients kept; past it the cache starts over (idle connections are closed).
const MAX_CLIENTS: usize = 1024;

/// Reusable HTTP clients, one per (host, vetted address).
#[derive(Default)]
pub struct Clients {
    by_target: Mutex<HashMap<(String, SocketAddr), reqwest::Client>>,
}

impl Clients {
    /// The client for `url`'s host pinned to `addr`, built on first use.
    fn pinned(&self, url: &Url, addr: SocketAddr) -> Result<reqwest::Client, String> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let key = (host, addr);
        let mut clients = self
            .by_target
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = build_client(url, addr)?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

fn build_client(url: &Url, addr: SocketAddr) -> Result<reqwest::Client, String> {
    let mut builder = crate::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .user_agent(USER_AGENT)
        // A proxy would resolve the host itself, defeating the pinning below.
        .no_proxy();
    if let Some(Host::Domain(name)) = url.host() {
        // Connect to exactly the address vetted (DNS rebinding cannot swap it).
        builder = builder.resolve(name, addr);
    }
    builder
        .build()
        .map_err(|e| format!("HTTP client: {}", root_cause(&e)))
}

pub async fn post(
    clients: &Clients,
    allow_private: bool,
    request: SignedRequest<'_>,
) -> SendOutcome {
    timed(post_inner(clients, allow_private, request)).await
}

/// A postback: a GET of the rendered tracker URL (no body; `webhook-id` names the event, so a
/// tracker that dedupes can), with the same vetting, pinning and timeout as a webhook.
pub async fn get(clients: &Clients, allow_private: bool, url: &str, msg_id: &str) -> SendOutcome {
    timed(async {
        let (url, client) = vetted(clients, allow_private, url).await?;
        let sent = client.get(url).header("webhook-id", msg_id).send().await;
        answered(sent.map_err(|e| describe(&e))?).await
    })
    .await
}

async fn timed(
    attempt: impl Future<Output = Result<(u16, Option<String>), String>>,
) -> SendOutcome {
    let started = Instant::now();
    let result = attempt.await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
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

/// The URL, SSRF-vetted (unless private endpoints are allowed), and a client pinned to the
/// vetted address.
async fn vetted(
    clients: &Clients,
    allow_private: bool,
    raw: &str,
) -> Result<(Url, reqwest::Client), String> {
    let url = Url::parse(raw).map_err(|_| "the endpoint URL is invalid".to_owned())?;
    let resolver = SystemResolver {
        timeout: DNS_TIMEOUT,
    };
    let addr = ssrf::vet(&url, &resolver, allow_private)
        .await
        .map_err(|refusal| format!("endpoint refused: {refusal}"))?;
    let client = clients.pinned(&url, addr)?;
    Ok((url, client))
}

async fn post_inner(
    clients: &Clients,
    allow_private: bool,
    request: SignedRequest<'_>,
) -> Result<(u16, Option<String>), String> {
    let (url, client) = vetted(clients, allow_private, request.url).await?;
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
    answered(response).await
}

/// The status, and why a redirect counts as a failure.
async fn answered(response: reqwest::Response) -> Result<(u16, Option<String>), String> {
    let status = response.status();
    let error = if status.is_redirection() {
        Some("redirects are not followed; point the subscription at the final URL".to_owned())
    } else {
        None
    };
    drain(response).await;
    Ok((status.as_u16(), error))
}

/// Reads a small response body to its end, so the connection can carry the next delivery; a
/// larger one is dropped unread (the connection is closed instead). Only the status counts.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read <= MAX_DRAINED_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => return,
        }
    }
}

/// The most response bytes read to keep a connection.
const MAX_DRAINED_BYTES: usize = 64 * 1024;

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
