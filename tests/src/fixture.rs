//! Where the tests find Kafka and PostgreSQL, decided once per test binary:
//! 1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` when set;
//! 2. the local stack (`deploy/local/stack.sh up`) when it answers on localhost;
//! 3. otherwise, when a Docker engine answers, `apache/kafka` and `postgres` containers started
//!    with testcontainers, kept for the whole test binary and removed when it exits, however it
//!    exits (see [`Held`]); these machines have no Docker engine, so this path is never taken
//!    here;
//! 4. otherwise a clear failure saying how to start the local stack.

use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use testcontainers_modules::kafka::apache::{Kafka, KAFKA_PORT};
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use testcontainers_modules::testcontainers::{Container, ImageExt};

pub struct Endpoints {
    pub brokers: String,
    pub database_url: String,
}

const LOCAL_BROKERS: &str = "localhost:9092";
const LOCAL_DATABASE: &str = "postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe";
/// The versions of deploy/compose: what a laptop with Docker runs anyway.
const KAFKA_TAG: &str = "4.1.0";
const POSTGRES_TAG: &str = "15";

pub fn endpoints() -> &'static Endpoints {
    static ENDPOINTS: OnceLock<Endpoints> = OnceLock::new();
    ENDPOINTS.get_or_init(|| {
        let brokers = std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok();
        let database_url = std::env::var("DATABASE_URL").ok();
        if brokers.is_some() || database_url.is_some() || open(9092) {
            return Endpoints {
                brokers: brokers.unwrap_or_else(|| LOCAL_BROKERS.to_owned()),
                database_url: database_url.unwrap_or_else(|| LOCAL_DATABASE.to_owned()),
            };
        }
        if docker_answers() {
            // testcontainers' blocking runner has its own runtime, which cannot start inside
            // the test's: start the containers from a plain thread.
            return std::thread::spawn(containers).join().expect("starting the test containers");
        }
        panic!(
            "no Kafka on localhost:9092 and no Docker engine: start the local stack with \
             `deploy/local/stack.sh up` (or set KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL)"
        );
    })
}

fn open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

fn docker_answers() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Containers are removed when the last handle drops, but statics never drop: this binary keeps
/// its containers for all its tests, and a reaper process removes them once it has gone, the
/// way testcontainers' Ryuk does elsewhere. The reaper reads a pipe only this process holds, so
/// it wakes on any exit (end of the tests, a panic, Ctrl-C, SIGKILL) and ignores the signals a
/// terminal sends the whole process group.
struct Held {
    _kafka: Container<Kafka>,
    _postgres: Container<Postgres>,
    /// Holds the write end of the reaper's stdin; never waited for: it outlives this process.
    _reaper: std::process::Child,
}

static HELD: Mutex<Option<Held>> = Mutex::new(None);

fn reaper(ids: &[&str]) -> std::process::Child {
    Command::new("sh")
        .args(["-c", "trap '' INT TERM HUP; cat >/dev/null; docker rm -f -v \"$@\" >/dev/null", "reaper"])
        .args(ids)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("starting the container reaper")
}

fn containers() -> Endpoints {
    let kafka = Kafka::default()
        .with_jvm_image()
        .with_tag(KAFKA_TAG)
        .with_env_var("KAFKA_NODE_ID", "1")
        .with_env_var("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_env_var("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env_var("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .start()
        .expect("starting the Kafka container");
    let postgres = Postgres::default()
        .with_user("tweetpipe")
        .with_password("tweetpipe")
        .with_db_name("tweetpipe")
        .with_tag(POSTGRES_TAG)
        .start()
        .expect("starting the PostgreSQL container");
    let host = kafka.get_host().expect("the Docker host").to_string();
    let kafka_port = kafka.get_host_port_ipv4(KAFKA_PORT).expect("Kafka's port");
    let pg_port = postgres.get_host_port_ipv4(5432).expect("PostgreSQL's port");
    let endpoints = Endpoints {
        brokers: format!("{host}:{kafka_port}"),
        database_url: format!("postgres://tweetpipe:tweetpipe@{host}:{pg_port}/tweetpipe"),
    };
    let reaper = reaper(&[kafka.id(), postgres.id()]);
    *HELD.lock().expect("held containers") =
        Some(Held { _kafka: kafka, _postgres: postgres, _reaper: reaper });
    endpoints
}
