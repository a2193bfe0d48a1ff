//! `tenx serve` as a process: the helper that starts one, and what the process itself does
//! before serving (its malloc arenas bounded by re-executing itself).

use std::time::Duration;

use reqwest::Response;
use serde_json::Value;

/// A `tenx serve` child on a free loopback port with a fresh data dir and generated secrets;
/// killed when dropped.
pub(crate) struct Serve {
    pub(crate) child: std::process::Child,
    pub(crate) addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Serve {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"));
        cmd.args(["serve", "--addr", &addr.to_string(), "--data-dir"])
            .arg(dir.path())
            .args(args);
        for var in [
            "TENX_JWT_SECRET",
            "TENX_JWT_PUBLIC_KEY",
            "TENX_BACKEND",
            "TENX_LOCAL_SIGN_IN",
            "MALLOC_ARENA_MAX",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied())
            .env("TENX_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let child = cmd.spawn().expect("starting tenx serve");
        Serve {
            child,
            addr,
            _dir: dir,
        }
    }

    /// The line of its output that prints the sign-in URL (it ends when the server exits).
    pub(crate) fn sign_in_line(&mut self) -> String {
        use std::io::BufRead;
        let out = self.child.stdout.take().expect("stdout is piped");
        std::io::BufReader::new(out)
            .lines()
            .map(|line| line.unwrap())
            .find(|line| line.contains("?code="))
            .expect("tenx serve printed no sign-in URL")
    }

    pub(crate) async fn wait_up(&self, client: &reqwest::Client) {
        for _ in 0..300 {
            let health = client
                .get(format!("http://{}/healthz", self.addr))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("tenx serve did not come up on {}", self.addr);
    }

    pub(crate) async fn sign_in(&self, client: &reqwest::Client, body: &Value) -> Response {
        client
            .post(format!("http://{}/console/sign-in", self.addr))
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// The environment of a running process, from /proc.
fn environment(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[tokio::test]
async fn tenx_serve_runs_with_two_malloc_arenas_unless_the_operator_chose() {
    let client = tenx_shared::http_client::builder().build().unwrap();
    // Not set: the server re-executes itself (same pid, so the child we hold is the server)
    // with the bound set.
    let plain = Serve::start(&[], &[]);
    plain.wait_up(&client).await;
    let env = environment(plain.child.id());
    assert!(env.iter().any(|v| v == "MALLOC_ARENA_MAX=2"), "{env:?}");
    drop(plain);
    // Set by the operator: kept as it is.
    let chosen = Serve::start(&[], &[("MALLOC_ARENA_MAX", "4")]);
    chosen.wait_up(&client).await;
    let env = environment(chosen.child.id());
    assert!(env.iter().any(|v| v == "MALLOC_ARENA_MAX=4"), "{env:?}");
    assert!(!env.iter().any(|v| v == "MALLOC_ARENA_MAX=2"), "{env:?}");
}
