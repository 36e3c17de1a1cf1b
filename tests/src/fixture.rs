//! Where the tests find Kafka and PostgreSQL, decided once per test binary:
//! 1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` when set;
//! 2. the local stack (`deploy/local/stack.sh up`) when it answers on localhost;
//! 3. otherwise, when a Docker engine answers, throwaway `apache/kafka` and `postgres`
//!    containers (the path for laptops with Docker; these machines have none);
//! 4. otherwise a clear failure saying how to start the local stack.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Endpoints {
    pub brokers: String,
    pub database_url: String,
}

const LOCAL_BROKERS: &str = "localhost:9092";
const LOCAL_DATABASE: &str = "postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe";

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
            return containers();
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts one Kafka and one PostgreSQL container for this test binary (removed when Docker's
/// `--rm` sees them stop; they are stopped by `docker stop` at the end of the run or left to
/// the next `docker container prune`).
fn containers() -> Endpoints {
    let (kafka_port, pg_port) = (free_port(), free_port());
    let run = |args: &[String]| {
        let out = Command::new("docker").args(args).output().expect("docker");
        assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "run".into(),
        "-d".into(),
        "--rm".into(),
        "-p".into(),
        format!("127.0.0.1:{kafka_port}:9092"),
        "-e".into(),
        "KAFKA_NODE_ID=1".into(),
        "-e".into(),
        "KAFKA_PROCESS_ROLES=broker,controller".into(),
        "-e".into(),
        "KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093".into(),
        "-e".into(),
        format!("KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:{kafka_port}"),
        "-e".into(),
        "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER".into(),
        "-e".into(),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
        "-e".into(),
        "KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093".into(),
        "-e".into(),
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1".into(),
        "-e".into(),
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0".into(),
        "apache/kafka:4.1.0".into(),
    ]);
    run(&[
        "run".into(),
        "-d".into(),
        "--rm".into(),
        "-p".into(),
        format!("127.0.0.1:{pg_port}:5432"),
        "-e".into(),
        "POSTGRES_USER=tweetpipe".into(),
        "-e".into(),
        "POSTGRES_PASSWORD=tweetpipe".into(),
        "-e".into(),
        "POSTGRES_DB=tweetpipe".into(),
        "postgres:15".into(),
    ]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(open(kafka_port) && open(pg_port)) {
        assert!(Instant::now() < deadline, "the Kafka and PostgreSQL containers did not come up");
        std::thread::sleep(Duration::from_millis(200));
    }
    Endpoints {
        brokers: format!("localhost:{kafka_port}"),
        database_url: format!("postgres://tweetpipe:tweetpipe@localhost:{pg_port}/tweetpipe"),
    }
}
