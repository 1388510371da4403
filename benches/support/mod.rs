//! What the HTTP benchmarks (`load`, `soak`) share: the release server as
//! a child process, clients signed in through the log-in form, and the
//! latency figures they print. Each bench uses part of it.
#![allow(dead_code)]

use reqwest::StatusCode;
use rocket::tokio;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `qmtrack` binary this bench was built with, on `data_dir` and `database_url`.
pub fn qmtrack_command(data_dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qmtrack"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATA_DIR", data_dir)
        .env("QMTRACK_DATABASE_URL", database_url)
        .env("QMTRACK_LOG", "warn")
        .env("ROCKET_LOG_LEVEL", "off");
    command
}

/// Adds a user with a known password; false if it could not (for example
/// because an earlier run added the same one).
pub fn add_user(mut command: Command, email: &str, name: &str, role: &str, password: &str) -> bool {
    let mut add = command
        .args([
            "user",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run qmtrack user add");
    if let Some(stdin) = add.stdin.as_mut() {
        use std::io::Write;
        let _ = writeln!(stdin, "{password}");
    }
    add.wait().is_ok_and(|status| status.success())
}

/// The server, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `qmtrack serve` from `command` on a free port and waits for `/healthz`.
pub async fn start(mut command: Command) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = command
        .arg("serve")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start qmtrack serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{}/healthz", server.base)).send().await {
            if res.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server did not answer /healthz within two minutes");
}

pub fn csrf_in(body: &str) -> Option<String> {
    let start = body.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

/// A client with its own cookie jar, signed in through the log-in form,
/// and its session's CSRF token (one per session, good for every form).
pub async fn signed_in(base: &str, email: &str, password: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .build()
        .expect("client");
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("login page");
    let token = csrf_in(&page).expect("a CSRF token on /login");
    let res = client
        .post(format!("{base}/login"))
        .form(&[("csrf_token", token.as_str()), ("email", email), ("password", password)])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} could not sign in");
    let home = client
        .get(format!("{base}/account"))
        .send()
        .await
        .expect("GET /account")
        .text()
        .await
        .unwrap_or_default();
    let csrf = csrf_in(&home).unwrap_or_default();
    (client, csrf)
}

/// Latencies and failures of one route (or kind of request).
#[derive(Default, Clone)]
pub struct RouteStats {
    pub latencies: Vec<Duration>,
    pub server_errors: usize,
    pub other_failures: usize,
    pub bytes: usize,
}

impl RouteStats {
    pub fn merge(&mut self, other: RouteStats) {
        self.latencies.extend(other.latencies);
        self.server_errors += other.server_errors;
        self.other_failures += other.other_failures;
        self.bytes += other.bytes;
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
