//! The secured stack (`deploy/local/stack.sh up --secure`) as the tests see it: only through its
//! environment file `.stack/secure/env`, as a user would. Every Kafka client and database
//! connection here takes its settings from that file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::bin;

/// Where `stack.sh up --secure` writes the environment file.
pub fn env_file() -> PathBuf {
    let stack = std::env::var_os("TWEETPIPE_STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.stack"));
    stack.join("secure/env")
}

/// The variables of the environment file.
#[derive(Clone)]
pub struct SecureEnv {
    pub vars: BTreeMap<String, String>,
}

impl SecureEnv {
    /// The environment file, or `None` when the secured stack was never started here.
    pub fn load() -> Option<Self> {
        let text = std::fs::read_to_string(env_file()).ok()?;
        let vars = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        Some(Self { vars })
    }

    pub fn get(&self, key: &str) -> &str {
        self.vars.get(key).map(String::as_str).unwrap_or_else(|| panic!("{key} missing from the env file"))
    }

    /// The secrets a test checks never appear in any output.
    pub fn passwords(&self) -> Vec<String> {
        let url = self.get("DATABASE_URL");
        let pg = url.split("://").nth(1).and_then(|r| r.split('@').next()).and_then(|u| u.split(':').nth(1));
        vec![self.get("KAFKA_SASL_PASSWORD").to_owned(), pg.expect("a password in DATABASE_URL").to_owned()]
    }

    /// A Kafka client configuration from the file's settings.
    pub fn kafka_config(&self) -> ClientConfig {
        let mut config = crate::kafka_client();
        config
            .set("bootstrap.servers", self.get("KAFKA_BOOTSTRAP_SERVERS"))
            .set("security.protocol", self.get("KAFKA_SECURITY_PROTOCOL"))
            .set("sasl.mechanism", self.get("KAFKA_SASL_MECHANISM"))
            .set("sasl.username", self.get("KAFKA_SASL_USERNAME"))
            .set("sasl.password", self.get("KAFKA_SASL_PASSWORD"))
            .set("ssl.ca.location", self.get("KAFKA_SSL_CA_LOCATION"));
        config
    }

    /// `DATABASE_URL` with another database name, its TLS parameters kept.
    pub fn database_url(&self, database: &str) -> String {
        let url = self.get("DATABASE_URL");
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let host = &base[..base.rfind('/').expect("a database in DATABASE_URL")];
        format!("{host}/{database}?{query}")
    }

    /// A command with exactly the file's settings for Kafka and PostgreSQL.
    pub fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(bin(name));
        for (k, _) in std::env::vars() {
            if k.starts_with("KAFKA_") || k.starts_with("TWEETPIPE_KAFKA_") || k.starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(&self.vars).env("RUST_LOG", "warn");
        cmd
    }

    /// The broker id (1-3, `kafka-N` in stack.sh) leading `partition` of `topic`.
    pub fn leader_of(&self, topic: &str, partition: i32) -> anyhow::Result<i32> {
        let consumer: BaseConsumer = self.kafka_config().create()?;
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let leader = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .find(|p| p.id() == partition)
            .map(|p| p.leader());
        match leader {
            Some(l) if l >= 0 => Ok(l),
            _ => bail!("{topic}/{partition} has no leader"),
        }
    }

    /// The partitions of `topic` with their replica counts.
    pub fn replicas(&self, topic: &str) -> anyhow::Result<Vec<usize>> {
        let consumer: BaseConsumer = self.kafka_config().create()?;
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        Ok(metadata.topics().iter().flat_map(|t| t.partitions()).map(|p| p.replicas().len()).collect())
    }

    /// Messages of `topic` up to its high watermarks (the sum; an error while a broker is away).
    pub fn message_count(&self, topic: &str) -> anyhow::Result<i64> {
        let consumer: BaseConsumer = self.kafka_config().create()?;
        let timeout = Duration::from_secs(5);
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        let mut n = 0;
        for p in metadata.topics().iter().flat_map(|t| t.partitions()) {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), timeout)?;
            n += high - low;
        }
        Ok(n)
    }

    /// Every value in `topic`, read without a group up to the current high watermarks.
    pub fn values(&self, topic: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        let consumer: BaseConsumer =
            self.kafka_config().set("group.id", "tweetpipe-tests-secure").create()?;
        let timeout = Duration::from_secs(10);
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        let mut tpl = TopicPartitionList::new();
        let mut ends = BTreeMap::new();
        let mut remaining = 0;
        for p in metadata.topics().iter().flat_map(|t| t.partitions()) {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), timeout)?;
            ends.insert(p.id(), high);
            remaining += high - low;
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while remaining > 0 {
            if Instant::now() > deadline {
                bail!("read {} of {topic}, {remaining} still missing", out.len());
            }
            // Errors here are librdkafka's news about a broker that is away: it goes on fetching.
            let Some(Ok(msg)) = consumer.poll(Duration::from_millis(500)) else { continue };
            if msg.offset() < ends[&msg.partition()] {
                remaining -= 1;
                out.push(msg.payload().unwrap_or_default().to_vec());
            }
        }
        Ok(out)
    }
}

/// Runs `deploy/local/stack.sh <command> --secure [node]` and asserts it succeeded.
pub fn stack_secure(command: &str, node: Option<&str>) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/local/stack.sh");
    let out =
        Command::new("bash").arg(script).args([command, "--secure"]).args(node).output().expect("stack.sh");
    assert!(
        out.status.success(),
        "stack.sh {command} --secure {node:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One scenario's topic, group and fresh database on the secured stack.
pub struct SecureContext {
    pub env: SecureEnv,
    pub topic: String,
    pub group: String,
    pub database: String,
    pub database_url: String,
    pub pool: PgPool,
}

impl SecureContext {
    pub async fn new(env: &SecureEnv, name: &str) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let suffix = format!("{name}_{}_{nanos}", std::process::id());
        let database = format!("tps_{suffix}").to_lowercase();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect(env.get("DATABASE_URL"))
            .await
            .context("connecting to the secured PostgreSQL over TLS")?;
        sqlx::query(&format!("CREATE DATABASE \"{database}\"")).execute(&admin).await?;
        admin.close().await;
        let database_url = env.database_url(&database);
        let pool = PgPoolOptions::new().max_connections(2).connect(&database_url).await?;
        Ok(Self {
            env: env.clone(),
            topic: format!("st_{suffix}"),
            group: format!("sg_{suffix}"),
            database,
            database_url,
            pool,
        })
    }

    /// `tweetpipe-producer` aimed at this scenario's topic.
    pub fn producer(&self) -> Command {
        let mut cmd = self.env.command("tweetpipe-producer");
        cmd.env("TWEETPIPE_TOPIC", &self.topic);
        cmd
    }

    /// `tweetpipe-consumer <sub>` on this scenario's topic, group and database.
    pub fn consumer(&self, sub: &str) -> Command {
        let mut cmd = self.env.command("tweetpipe-consumer");
        cmd.arg(sub)
            .env("TWEETPIPE_TOPIC", &self.topic)
            .env("TWEETPIPE_GROUP", &self.group)
            .env("DATABASE_URL", &self.database_url);
        cmd
    }

    pub async fn row_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM tweets").fetch_one(&self.pool).await.unwrap_or(0)
    }

    /// The table as `id -> (username, text, retweet_count)`.
    pub async fn table(&self) -> std::collections::HashMap<i64, (String, String, i64)> {
        let rows: Vec<(i64, Option<String>, String, i64)> =
            sqlx::query_as("SELECT id, username, text, retweet_count FROM tweets")
                .fetch_all(&self.pool)
                .await
                .expect("query");
        rows.into_iter().map(|(id, u, t, r)| (id, (u.unwrap_or_default(), t, r))).collect()
    }

    pub async fn cleanup(self) {
        self.pool.close().await;
        if let Ok(admin) = PgPoolOptions::new().max_connections(1).connect(self.env.get("DATABASE_URL")).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database))
                .execute(&admin)
                .await;
        }
    }
}
