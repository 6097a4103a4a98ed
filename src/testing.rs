//! Support for keyflow's own tests: a fresh database per test on every
//! backend, and a real server on an ephemeral port. Not part of the API.
#![doc(hidden)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::cli::Cli;
use crate::clock::{SharedClock, SystemClock};
use crate::crypto::master_key::MasterKey;
use crate::storage::{self, Backend, Store};

pub const POSTGRES_ENV: &str = "KEYFLOW_TEST_POSTGRES_URL";

/// A database that exists for one test and is removed afterwards.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    sqlite_dir: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir =
            std::env::temp_dir().join(format!("keyflow-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self {
            url: format!("sqlite://{}", dir.join("keyflow.db").display()),
            backend: Backend::Sqlite,
            sqlite_dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database when `KEYFLOW_TEST_POSTGRES_URL` is set.
    /// Under CI (`CI` set) its absence is a failure, never a silent skip.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var(POSTGRES_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests"
            );
            return None;
        };
        let name = format!("keyflow_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url = url::Url::parse(&admin).expect("postgres URL");
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            backend: Backend::Postgres,
            sqlite_dir: None,
            postgres: Some((admin, name)),
        })
    }

    /// SQLite always, PostgreSQL when configured.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    pub async fn store(&self) -> Arc<dyn Store> {
        storage::connect(&self.url).await.expect("open test store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.postgres.take() {
            // Drop runs outside any runtime guarantee, so use a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await
                    .map(|_| ())
                })
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

/// A running keyflow node.
pub struct TestServer {
    pub addr: SocketAddr,
    pub issuer: String,
    pub app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Starts a node on 127.0.0.1:0 against `db_url`. `args` are extra
    /// command-line flags; the issuer is the bound address unless given.
    pub async fn start(db_url: &str, master: [u8; 32], args: &[&str]) -> Self {
        Self::start_with_clock(db_url, master, args, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        db_url: &str,
        master: [u8; 32],
        args: &[&str],
        clock: SharedClock,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let issuer = format!("http://{addr}");
        let mut argv = vec!["keyflow", "--database-url", db_url, "serve"];
        if !args.contains(&"--issuer") {
            argv.extend(["--issuer", &issuer]);
        }
        argv.extend_from_slice(args);
        let settings = Cli::try_parse_from(argv)
            .expect("test args parse")
            .settings()
            .expect("test settings are valid");
        let issuer = settings.issuer.clone();
        let store = storage::connect(db_url).await.expect("open store");
        let app = App::new(settings, store, MasterKey::from_bytes(master), clock)
            .await
            .expect("app starts");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::server::run(Arc::clone(&app), listener, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            issuer,
            app,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful shutdown, waiting for the final flush.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server ran cleanly");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A log writer for a test's own subscriber: every line written, kept in
/// memory (`tracing_subscriber::fmt().with_writer(capture.writer())`).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// A writer factory whose writers all append here.
    pub fn writer(&self) -> impl Fn() -> LogCapture + use<> {
        let capture = self.clone();
        move || capture.clone()
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8(bytes).expect("log lines are UTF-8")
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
