//! `tenx serve` as a process: the helper that starts one, and what the process runs besides
//! its routes (the allocator's purging thread).

use reqwest::Response;
use serde_json::Value;

/// A `tenx serve` child on a free loopback port with a fresh data dir and generated secrets;
/// killed when dropped.
pub(crate) struct Serve {
    pub(crate) child: std::process::Child,
    pub(crate) addr: std::net::SocketAddr,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let mut serve = Serve::start_at(dir.path(), args, env);
        serve._dir = Some(dir);
        serve
    }

    /// [`Serve::start`] on the data dir `data_dir` (kept when the server stops).
    pub(crate) fn start_at(
        data_dir: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Serve {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"));
        cmd.args(["serve", "--addr", &addr.to_string(), "--data-dir"])
            .arg(data_dir)
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
            _dir: None,
        }
    }

    /// The `Set up: {url}` line's URL, `None` when it printed none (read once the server is up:
    /// the line is printed before it serves; the server is stopped to read its output whole).
    pub(crate) fn stop_and_set_up_url(mut self) -> Option<String> {
        use std::io::Read;
        let _ = self.child.kill();
        let mut out = String::new();
        let mut stdout = self.child.stdout.take().expect("stdout is piped");
        stdout.read_to_string(&mut out).unwrap();
        out.lines()
            .find_map(|l| l.strip_prefix("Set up: "))
            .map(str::to_owned)
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
        let what = format!("tenx serve to come up on {}", self.addr);
        crate::helpers::eventually_or(&what, || async {
            let health = client
                .get(format!("http://{}/healthz", self.addr))
                .send()
                .await;
            match health {
                Ok(r) if r.status() == 200 => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
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

    // On a fresh machine, no flags: the data dir is made as `tenx serve` makes it.
    let setup = |email: &str| {
        tenx()
            .args(["setup", "--admin", email, "--handle", "acme"])
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
    assert!(dir.path().join(".tenx/secrets.json").exists());
    let again = setup("ann@example.com");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"));
    let bad = setup("<svg>");
    assert!(!bad.status.success());
    // The token it prints now is one the server on that data dir accepts.
    let out = tenx().args(["token", "--handle", "acme"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    tenx_shared::platform::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `tenx serve` on a fresh data dir prints ONE `Set up:` line; its page makes the first admin of
/// the handle typed and signs them in, keeps what was typed when it is wrong, and is refused in
/// words once used; a server with its admin prints no such line.
#[tokio::test]
async fn a_data_dir_that_held_a_service_before_set_up_links_prints_none() {
    // What an earlier version left: data, people perhaps, and no record of a set-up begun.
    let client = no_redirects();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kept-by-an-earlier-version"), "").unwrap();
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    assert_eq!(server.stop_and_set_up_url(), None);
}

#[tokio::test]
async fn tenx_serve_on_a_fresh_data_dir_prints_a_one_time_set_up_link() {
    let client = no_redirects();
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    let port = server.addr.port();
    let url = server.stop_and_set_up_url().expect("a Set up: line");
    let prefix = format!("http://localhost:{port}/v2/auth/setup?token=tenx_l_");
    assert!(url.starts_with(&prefix), "{url}");
    let token = url.split_once("token=").unwrap().1.to_owned();

    // Started again (still nobody set up): a new link; the first one still works for its hour.
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    let base = format!("http://{}", server.addr);
    let page = client
        .get(format!("{base}/v2/auth/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Make me the admin"));

    let post = |form: Vec<(&'static str, String)>| {
        client
            .post(format!("{base}/v2/auth/setup"))
            .form(&form)
            .send()
    };
    let typed = |email: &str, handle: &str| {
        vec![
            ("token", token.clone()),
            ("email", email.to_owned()),
            ("handle", handle.to_owned()),
        ]
    };
    // A wrong email: the page again, what was typed kept, the error in words; nothing spent.
    let wrong = post(typed("ann-at-example", "acme")).await.unwrap();
    assert_eq!(wrong.status(), 400);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("value=\"ann-at-example\"") && html.contains("value=\"acme\""));
    assert!(html.contains("class=\"error\""), "{html}");

    let made = post(typed("ann@example.com", "acme")).await.unwrap();
    assert_eq!(made.status(), 303);
    assert_eq!(made.headers()["location"], "/");
    let cookie = made.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    assert!(session.starts_with("tenx_session=tenx_s_"), "{cookie}");
    let me: Value = client
        .get(format!("{base}/v2/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "ann@example.com");
    assert_eq!(me["memberships"][0]["handle"], "acme");
    assert_eq!(me["memberships"][0]["role"], "admin");

    // Used once: refused in words, by the page and by the API; nobody else is made admin.
    let again = post(typed("eve@example.com", "evil")).await.unwrap();
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("has its first admin already")
    );
    let page = client
        .get(format!("{base}/v2/auth/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("no longer works"));
    let json = client
        .post(format!("{base}/v2/auth/setup"))
        .json(&serde_json::json!({"token": token, "email": "eve@example.com", "handle": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 409);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_state", "{body}");
    // Nor is it a sign-in link.
    let as_sign_in = client
        .post(format!("{base}/v2/auth/email-link/verify"))
        .json(&serde_json::json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(as_sign_in.status(), 401);
    drop(server);
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    assert_eq!(server.stop_and_set_up_url(), None, "nor at the next start");
}

/// A link printed before `tenx setup --admin` made an admin is refused in words; a link that is
/// not one (garbage, expired, a sign-in link's shape) is refused too.
#[tokio::test]
async fn a_set_up_link_is_refused_once_an_admin_is_made_from_the_terminal() {
    let client = no_redirects();
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    let url = server.stop_and_set_up_url().expect("a Set up: line");
    let token = url.split_once("token=").unwrap().1.to_owned();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
        .args([
            "setup",
            "--admin",
            "bob@example.com",
            "--handle",
            "acme",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("TENX_BACKEND")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    let base = format!("http://{}", server.addr);
    let spend = |token: String| {
        client
            .post(format!("{base}/v2/auth/setup"))
            .json(
                &serde_json::json!({"token": token, "email": "eve@example.com", "handle": "other"}),
            )
            .send()
    };
    let refused = spend(token).await.unwrap();
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("first admin already"), "{message}");
    assert_eq!(server.stop_and_set_up_url(), None);
}

/// Before anyone is set up, a link that is not this server's is refused, changing nothing.
#[tokio::test]
async fn a_set_up_link_that_is_not_this_servers_is_refused_in_words() {
    let client = no_redirects();
    let server = Serve::start(&[], &[]);
    server.wait_up(&client).await;
    let base = format!("http://{}", server.addr);
    let forged = format!("tenx_l_{}", "A".repeat(43));
    for token in [forged.as_str(), "nonsense"] {
        let page = client
            .get(format!("{base}/v2/auth/setup?token={token}"))
            .send()
            .await
            .unwrap();
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("has expired or is not this server")
        );
        let r = client
            .post(format!("{base}/v2/auth/setup"))
            .json(
                &serde_json::json!({"token": token, "email": "eve@example.com", "handle": "acme"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Still nobody set up: the real link is printed.
    assert!(server.stop_and_set_up_url().is_some());
}

/// Two posts of one set-up link at once (a double click, two tabs): one admin, one session; the
/// other is refused in words. Two links of two starts raced the same way make one admin too.
#[tokio::test]
async fn set_up_links_spent_at_once_make_one_first_admin() {
    let client = no_redirects();
    let dir = tempfile::tempdir().unwrap();
    let mut links = Vec::new();
    for _ in 0..2 {
        let server = Serve::start_at(dir.path(), &[], &[]);
        server.wait_up(&client).await;
        let url = server.stop_and_set_up_url().expect("a Set up: line");
        links.push(url.split_once("token=").unwrap().1.to_owned());
    }
    let server = Serve::start_at(dir.path(), &[], &[]);
    server.wait_up(&client).await;
    let base = format!("http://{}", server.addr);
    let spend = |token: &str, email: &str, handle: &str| {
        client
            .post(format!("{base}/v2/auth/setup"))
            .json(&serde_json::json!({"token": token, "email": email, "handle": handle}))
            .send()
    };
    let (a, b, c) = tokio::join!(
        spend(&links[0], "ann@example.com", "acme"),
        spend(&links[0], "ann@example.com", "acme"),
        spend(&links[1], "bob@example.com", "globex"),
    );
    let mut statuses: Vec<u16> = [a, b, c]
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409, 409], "one first admin");
}
