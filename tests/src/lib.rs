//! Helpers for the integration tests: a fresh topic, group and database per test, the real
//! binaries spawned as child processes, and waits on conditions with deadlines (never sleeps).
//!
//! Kafka and PostgreSQL come from [`fixture`]: the environment, the local stack, or containers;
//! the secured stack (`stack.sh up --secure`) from [`secure`], through its environment file.

//! [`producer`] runs the producer and reads its `--summary-json`; [`expect`] says what a
//! synthetic run must leave in the table; [`faults`] kills and signals processes and servers;
//! [`xmock`] is a scripted X API, [`xrun`] runs the producer against it.

pub mod consumer_summary;
pub mod expect;
pub mod faults;
pub mod fixture;
pub mod producer;
pub mod roles;
pub mod secure;
pub mod topics;
pub mod xmock;
pub mod xrun;

pub use consumer_summary::{consumer_summary, ConsumerSummary};
pub use topics::{create_topic, delete_topic, produce_records, RawRecord};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Headers as _, Message as _, OwnedMessage};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub fn brokers() -> String {
    fixture::endpoints().brokers.clone()
}

fn admin_database_url() -> String {
    fixture::endpoints().database_url.clone()
}

/// librdkafka settings for the local stack's brokers: every client the tests make starts here.
pub fn kafka_client() -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers());
    config
}

/// The real tweet files, when the test command says where they are.
pub fn corpus_dir() -> Option<PathBuf> {
    std::env::var_os("TWEETPIPE_CORPUS").map(PathBuf::from)
}

/// `len` letters and digits that compress badly (xorshift from `seed`), so that PostgreSQL
/// cannot squeeze them under its index limit.
pub fn incompressible(seed: u64, len: usize) -> String {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"[(x % 63) as usize])
        })
        .collect()
}

/// A path to one of the workspace's binaries, built by `cargo build --bins` before the tests.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/integration-<hash> -> target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: run `cargo build --bins` before the tests", path.display());
    path
}

/// One test's private names and database.
pub struct TestContext {
    pub topic: String,
    pub group: String,
    pub database: String,
    pub database_url: String,
    pub pool: PgPool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestContext {
    /// Fresh topic and group names and a fresh, empty database.
    pub async fn new(name: &str) -> anyhow::Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let suffix = format!("{name}_{}_{n}_{nanos}", std::process::id());
        let database = format!("tp_{suffix}").to_lowercase();
        let admin_url = admin_database_url();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&admin_url)
            .await
            .context("connecting to PostgreSQL: is the stack up? (deploy/local/stack.sh up)")?;
        sqlx::query(&format!("CREATE DATABASE \"{database}\"")).execute(&admin).await?;
        admin.close().await;
        let database_url = match admin_url.rfind('/') {
            Some(i) => format!("{}/{database}", &admin_url[..i]),
            None => bail!("DATABASE_URL has no database name"),
        };
        let pool = PgPoolOptions::new().max_connections(2).connect(&database_url).await?;
        Ok(Self { topic: format!("t_{suffix}"), group: format!("g_{suffix}"), database, database_url, pool })
    }

    /// `tweetpipe-producer` aimed at this test's topic.
    pub fn producer(&self) -> Command {
        let mut cmd = Command::new(bin("tweetpipe-producer"));
        cmd.env("KAFKA_BOOTSTRAP_SERVERS", brokers())
            .env("TWEETPIPE_TOPIC", &self.topic)
            .env("RUST_LOG", "warn");
        cmd
    }

    /// `tweetpipe-consumer run` in this test's group, against this test's database.
    pub fn consumer(&self) -> Command {
        let mut cmd = Command::new(bin("tweetpipe-consumer"));
        cmd.arg("run")
            .env("KAFKA_BOOTSTRAP_SERVERS", brokers())
            .env("TWEETPIPE_TOPIC", &self.topic)
            .env("TWEETPIPE_GROUP", &self.group)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "info");
        cmd
    }

    /// Rows in `tweets` (0 before the first consumer created the table).
    pub async fn row_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM tweets").fetch_one(&self.pool).await.unwrap_or(0)
    }

    /// Drops the database; called at the end of a passing test.
    pub async fn cleanup(self) {
        self.pool.close().await;
        if let Ok(admin) = PgPoolOptions::new().max_connections(1).connect(&admin_database_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database))
                .execute(&admin)
                .await;
        }
    }
}

/// Runs a command to completion, failing the test if it takes longer than `limit`.
pub fn run(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    wait_output(child, limit)
}

/// Waits for a spawned child, killing it and failing the test past `limit`. Its output is read
/// while it runs, so a chatty child never blocks on a full pipe.
pub fn wait_output(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            let out = rx.recv().expect("reaped").expect("output");
            panic!(
                "process did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Asserts success and returns the `key=value` pairs of the summary line on stdout.
pub fn summary(out: &Output) -> BTreeMap<String, String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().rev().find(|l| l.contains(" summary: ")).expect("a summary line");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn count(summary: &BTreeMap<String, String>, key: &str) -> u64 {
    summary.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {key} in {summary:?}"))
}

/// Polls `check` until it returns true or `limit` passes.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A message read back from Kafka, with its headers as strings.
#[derive(Debug, Clone)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// Reads every message of `topic` up to its current high watermarks, without a group.
pub fn read_topic(topic: &str) -> anyhow::Result<Vec<Read>> {
    let consumer: BaseConsumer = kafka_client().set("group.id", "tweetpipe-tests-reader").create()?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions: Vec<i32> =
        metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    let mut tpl = TopicPartitionList::new();
    let mut remaining = 0i64;
    let mut ends = BTreeMap::new();
    for p in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *p, timeout)?;
        ends.insert(*p, high);
        remaining += high - low;
        tpl.add_partition_offset(topic, *p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while remaining > 0 {
        if Instant::now() > deadline {
            bail!("read {} of {topic}, {remaining} still missing", out.len());
        }
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else { continue };
        let msg: OwnedMessage = msg?.detach();
        if msg.offset() < ends[&msg.partition()] {
            remaining -= 1;
        }
        let headers = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Read {
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            value: msg.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    Ok(out)
}

/// Committed offsets of `group` on `topic`, and the topic's high watermarks, per partition.
pub fn committed_and_ends(topic: &str, group: &str) -> anyhow::Result<BTreeMap<i32, (i64, i64)>> {
    let consumer: BaseConsumer = kafka_client().set("group.id", group).create()?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())) {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, timeout)?;
    let mut out = BTreeMap::new();
    for e in committed.elements() {
        let (_, high) = consumer.fetch_watermarks(topic, e.partition(), timeout)?;
        let c = match e.offset() {
            Offset::Offset(o) => o,
            _ => -1,
        };
        out.insert(e.partition(), (c, high));
    }
    Ok(out)
}

/// Produces raw values straight to a topic (bypassing the producer's checks), keyed as given.
pub async fn produce_raw(topic: &str, records: &[(Option<&str>, &[u8])]) -> anyhow::Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = kafka_client().create()?;
    for (key, value) in records {
        let mut rec: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).payload(*value);
        if let Some(k) = key {
            rec = rec.key(*k);
        }
        producer.send(rec, Duration::from_secs(30)).await.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// A plain HTTP GET on loopback: (status, body).
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let status = raw.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// The partitions a consumer owns now, from the last assignment line of its log.
pub fn owned_partitions(log: &str) -> Option<Vec<i32>> {
    let line =
        log.lines().rev().find(|l| l.contains("partitions assigned") || l.contains("partitions revoked"))?;
    let set = line.split("now={").nth(1)?.split('}').next()?;
    Some(set.split(',').filter_map(|p| p.trim().parse().ok()).collect())
}

/// `tweetpipe-consumer stats --by <by>` on a database: its total line as numbers (seen, unique,
/// duplicates, content, filtered, flagged, deleted, dead), and the whole output for messages.
pub fn stats_total(database_url: &str, by: &str) -> (Vec<u64>, String) {
    let out = run(
        Command::new(bin("tweetpipe-consumer")).args(["stats", "--by", by]).env("DATABASE_URL", database_url),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "stats failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let total = text
        .lines()
        .find(|l| l.starts_with("total"))
        .expect("a total line")
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().expect("a number"))
        .collect();
    (total, text)
}
