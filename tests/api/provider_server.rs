//! The local Stripe Connect and PayPal Payouts (`scripts/provider_server.py`, docs/providers.md)
//! on a free loopback port, one per test so its counters and faults are the test's own; stopped
//! when dropped (its stdin closes), as the SMTP and DNS servers of the mail and domain tests.
//! It needs Python 3 and the `openssl` command (`scripts/provider_server.sh --install`): a test
//! fails, never skips, without them.

use serde_json::Value;

pub(crate) struct ProviderServer {
    child: std::process::Child,
    pub(crate) base: String,
}

impl ProviderServer {
    pub(crate) fn start() -> Self {
        use std::io::BufRead;
        let python = std::env::var("TENX_PROVIDER_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/provider_server.py");
        let mut child = std::process::Command::new(&python)
            .args([script, "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{python} could not start the provider server ({e}): run scripts/provider_server.sh --install")
            });
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the provider server did not start: {line:?}"));
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A control call (`POST /_control/{path}` with `body`, or a `GET` without one).
    pub(crate) async fn control(&self, path: &str, body: Option<Value>) -> Value {
        let client = tenx_shared::platform::http_client::builder()
            .build()
            .unwrap();
        let url = format!("{}/_control/{path}", self.base);
        let request = match body {
            Some(b) => client.post(url).json(&b),
            None => client.get(url),
        };
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// `GET /_control/counters`.
    pub(crate) async fn counters(&self) -> Value {
        self.control("counters", None).await
    }
}

impl Drop for ProviderServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
