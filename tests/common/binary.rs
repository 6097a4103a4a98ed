//! The `keyflow` binary run as an operator runs it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyflow");

pub fn keyflow(dir: &Path, db_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("KEYFLOW_MASTER_KEY")
        .args(["--database-url", db_url, "--keys-dir", "keys"])
        .args(args)
        .output()
        .expect("run keyflow")
}

/// `keyflow` with `stdin` written to its standard input.
pub fn keyflow_stdin(dir: &Path, db_url: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env_remove("KEYFLOW_MASTER_KEY")
        .args(["--database-url", db_url, "--keys-dir", "keys"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keyflow");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `keyflow migrate`: what an operator runs (or `serve`) before any other
/// command, which refuses a database that is not set up.
pub fn set_up(dir: &Path, db_url: &str) -> Value {
    json_stdout(&keyflow(dir, db_url, &["migrate", "--json"]))
}

/// `keyflow workspace create --name NAME --json`, which must succeed.
pub fn create_workspace(dir: &Path, db_url: &str, name: &str) -> Value {
    json_stdout(&keyflow(
        dir,
        db_url,
        &["workspace", "create", "--name", name, "--json"],
    ))
}

/// Exactly one JSON object on stdout, nothing else there.
pub fn json_stdout(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "stdout: {stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v.is_object());
    v
}

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn serve(dir: &Path, db_url: &str, port: u16) -> Server {
    serve_with(dir, db_url, port, &[], None).await
}

/// `keyflow serve` with `extra` flags, under an open-file limit when given.
pub async fn serve_with(
    dir: &Path,
    db_url: &str,
    port: u16,
    extra: &[&str],
    open_files: Option<u32>,
) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut command = match open_files {
        Some(n) => {
            let mut c = Command::new("sh");
            c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
            c
        }
        None => Command::new(BIN),
    };
    let child = command
        .current_dir(dir)
        .env_remove("KEYFLOW_MASTER_KEY")
        .args([
            "--database-url",
            db_url,
            "--keys-dir",
            "keys",
            "serve",
            "--listen",
            &listen,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while http()
        .get(format!("http://{listen}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

/// SIGTERM, then the exit status and everything the server logged.
pub fn terminate(mut server: Server) -> (bool, String) {
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stderr = server.0.stderr.take().unwrap();
    let log: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    let status = server.0.wait().unwrap();
    (status.success(), log.join("\n"))
}
