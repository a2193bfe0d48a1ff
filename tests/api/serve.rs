//! `tenx serve` as a process: the helper that starts one, and what the process runs besides
//! its routes (the allocator's purging thread).

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

/// The names of a running process's threads, from /proc.
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|task| std::fs::read_to_string(task.unwrap().path().join("comm")).unwrap())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn tenx_serve_allocates_with_jemalloc_and_its_purging_thread() {
    // The allocator's options are built in (`.cargo/config.toml`): its background thread, which
    // hands freed pages back to the kernel, runs in the server without any setting.
    let client = tenx_shared::platform::http_client::builder()
        .build()
        .unwrap();
    let server = Serve::start(&[], &[]);
    server.wait_up(&client).await;
    let names = thread_names(server.child.id());
    assert!(
        names.iter().any(|n| n.starts_with("jemalloc_bg")),
        "{names:?}"
    );
}

/// `tenx token` outside a data dir says where it looked and refuses (issue 60: it made a new
/// `./.tenx` and printed a token the server refused); `tenx setup --admin` makes the first admin
/// of a handle in the data dir's store, once.
#[test]
fn tenx_token_refuses_outside_a_data_dir_and_setup_makes_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let tenx = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"));
        cmd.current_dir(dir.path())
            .env_remove("TENX_JWT_SECRET")
            .env_remove("TENX_DATA_DIR")
            .env_remove("TENX_BACKEND")
            .env("RUST_BACKTRACE", "0");
        cmd
    };
    let out = tenx().args(["token", "--handle", "acme"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no data dir at") && err.contains(".tenx"),
        "{err}"
    );
    assert!(
        !dir.path().join(".tenx").exists(),
        "no new data dir was made"
    );

    std::fs::create_dir(dir.path().join(".tenx")).unwrap();
    let setup = |email: &str| {
        tenx()
            .args([
                "setup",
                "--admin",
                email,
                "--handle",
                "acme",
                "--backend",
                "embedded",
            ])
            .output()
            .unwrap()
    };
    let out = setup("ann@example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is an admin of acme"));
    let again = setup("ann@example.com");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"));
    let bad = setup("<svg>");
    assert!(!bad.status.success());
}
