//! Tools of the fault suite: killing and restarting the stack's servers, signalling processes,
//! and watching that committed offsets never move backwards.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{committed_and_ends, TestContext};

/// Scenarios kill shared servers, so they run one at a time whatever `--test-threads` says.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    // tokio's mutex: held across awaits, and not poisoned by a failing scenario.
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn stack_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/local/stack.sh")
}

/// Runs `deploy/local/stack.sh <args>` and asserts it succeeded.
pub fn stack(args: &[&str]) {
    let out = Command::new("bash").arg(stack_script()).args(args).output().expect("stack.sh");
    assert!(out.status.success(), "stack.sh {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// The stack's ports, as `deploy/local/stack.sh` reads them (`KAFKA_PORT`, `PG_PORT`).
fn port_from_env(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|p| p.parse().ok()).unwrap_or(default)
}

pub fn kafka_port() -> u16 {
    port_from_env("KAFKA_PORT", 9092)
}

pub fn pg_port() -> u16 {
    port_from_env("PG_PORT", 5432)
}

pub fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// Waits until nothing listens on `port` any more.
pub fn wait_port_closed(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while port_open(port) {
        assert!(Instant::now() < deadline, "port {port} still open after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM, as Kubernetes does before the grace period ends.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}

/// A consumer whose log goes to a file, to be read after it ends.
pub struct Logged {
    pub child: Child,
    pub log: PathBuf,
}

impl Logged {
    pub fn spawn(mut cmd: Command, name: &str) -> Self {
        let log = std::env::temp_dir().join(format!("{name}-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = cmd.stdout(Stdio::piped()).stderr(file).spawn().expect("spawn");
        Self { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The address the process logged it serves `/healthz` and `/metrics` on (started with
    /// `--http-addr 127.0.0.1:0`), waited for up to `limit`.
    pub async fn served_addr(&self, limit: Duration) -> String {
        let mut addr = String::new();
        crate::wait_until(limit, "the metrics server address in the log", || {
            let found =
                self.log_text().lines().find(|l| l.contains("serving /healthz")).and_then(|l| {
                    l.split_whitespace().find_map(|w| w.strip_prefix("addr=")).map(str::to_owned)
                });
            if let Some(a) = found {
                addr = a;
            }
            let ok = !addr.is_empty();
            async move { ok }
        })
        .await;
        addr
    }
}

/// Samples the group's committed offsets in the background and remembers any that went down.
pub struct OffsetWatcher {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<String>>,
}

impl OffsetWatcher {
    pub fn start(ctx: &TestContext) -> Self {
        let (topic, group) = (ctx.topic.clone(), ctx.group.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut last: BTreeMap<i32, i64> = BTreeMap::new();
            let mut problems = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                // A broker that is down cannot be asked; the next sample will be.
                if let Ok(now) = committed_and_ends(&topic, &group) {
                    for (p, (committed, _)) in now {
                        let before = last.entry(p).or_insert(committed);
                        if committed < *before {
                            problems.push(format!("partition {p}: committed {before} then {committed}"));
                        }
                        *before = (*before).max(committed);
                    }
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            problems
        });
        Self { stop, handle }
    }

    /// Stops sampling; fails the test if any committed offset moved backwards.
    pub fn assert_monotonic(self) {
        self.stop.store(true, Ordering::Relaxed);
        let problems = self.handle.join().expect("watcher");
        assert!(problems.is_empty(), "committed offsets moved backwards: {problems:?}");
    }
}

/// Whether one of the consumer's upserts is waiting for a lock in this test's database.
pub async fn upsert_waiting_on_lock(ctx: &TestContext) -> bool {
    sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND wait_event_type = 'Lock'
           AND (query LIKE '%INSERT INTO tweets%' OR query LIKE 'COPY tweets %')",
    )
    .fetch_one(&ctx.pool)
    .await
    .unwrap_or(0)
        > 0
}
