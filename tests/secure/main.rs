//! tweetpipe against production-shaped infrastructure (`deploy/local/stack.sh up --secure`):
//! three brokers speaking only SASL_SSL, replication factor 3 with min.insync.replicas=2, and a
//! PostgreSQL server that accepts only TLS. Every process here is configured by the stack's
//! environment file alone, as a user would be. Scenarios run one at a time (they kill brokers).
//!
//! Skipped, with a message, only when `.stack/secure/env` does not exist.

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tweetpipe_producer::source::synthetic::{Generator, SyntheticSettings};
use tweetpipe_tests::expect::expected_rows;
use tweetpipe_tests::faults::{serial, sigterm, Logged};
use tweetpipe_tests::secure::{env_file, stack_secure, SecureContext, SecureEnv};
use tweetpipe_tests::{corpus_dir, count, run, summary, wait_output, wait_until};

const LIMIT: Duration = Duration::from_secs(240);
/// A configuration error must end the process well within this.
const FAIL_FAST: Duration = Duration::from_secs(60);

fn secure_env() -> Option<SecureEnv> {
    let env = SecureEnv::load();
    if env.is_none() {
        eprintln!(
            "skipped: {} does not exist; start the secured stack with `deploy/local/stack.sh up --secure`",
            env_file().display()
        );
    }
    env
}

fn synthetic(count: u64, seed: u64) -> SyntheticSettings {
    SyntheticSettings::new(count, seed)
}

/// Asserts the table holds exactly the non-music tweets of `args`, each with its newest data.
async fn assert_table_exact(ctx: &SecureContext, args: &SyntheticSettings, what: &str) {
    let got = ctx.table().await;
    let want = expected_rows(args);
    let missing = want.keys().filter(|id| !got.contains_key(id)).count();
    let extra = got.keys().filter(|id| !want.contains_key(id)).count();
    let stale = want.iter().filter(|(id, row)| got.get(id).is_some_and(|g| g != *row)).count();
    assert_eq!((missing, extra, stale), (0, 0, 0), "{what}: rows missing, extra, not newest");
}

/// Asserts the topic holds every payload of `args` exactly once.
fn assert_topic_exact(ctx: &SecureContext, args: &SyntheticSettings, what: &str) {
    let mut in_topic = ctx.env.values(&ctx.topic).expect("read the topic");
    let mut sent: Vec<Vec<u8>> = Generator::new(args).map(|t| t.payload).collect();
    assert_eq!(in_topic.len(), sent.len(), "{what}: messages in the topic");
    in_topic.sort();
    sent.sort();
    assert!(in_topic == sent, "{what}: the topic holds each tweet exactly once");
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn s1_whole_pipeline_over_sasl_ssl_and_tls() {
    let Some(env) = secure_env() else { return };
    let _serial = serial().await;
    stack_secure("up", None);
    let ctx = SecureContext::new(&env, "pipeline").await.expect("context");
    let args = synthetic(20_000, 7);

    let mut producer = ctx.producer();
    producer.args(args.to_flags()).args(["--partitions", "3"]);
    let produced = summary(&run(&mut producer, LIMIT));
    assert_eq!((count(&produced, "tweets"), count(&produced, "failed")), (args.count, 0));
    let replicas = ctx.env.replicas(&ctx.topic).expect("metadata");
    assert_eq!(replicas, [3, 3, 3], "the cluster's default replication factor applies");

    let drained = summary(&run(ctx.consumer("run").arg("--exit-at-end"), LIMIT));
    assert_eq!(count(&drained, "consumed"), args.count);
    assert_table_exact(&ctx, &args, "after the first drain").await;

    let described = run(ctx.producer().args(["topic", "describe"]), LIMIT);
    let shown = text(&described);
    assert!(described.status.success(), "topic describe:\n{shown}");
    assert!(shown.contains(&ctx.group), "describe names the group:\n{shown}");

    // A replay of the whole topic, and a backfill into a fresh group: the same table.
    let replay = run(ctx.consumer("replay").args(["--to", "earliest", "--execute"]), LIMIT);
    assert!(replay.status.success(), "replay:\n{}", text(&replay));
    let again = summary(&run(ctx.consumer("run").arg("--exit-at-end"), LIMIT));
    assert_eq!(count(&again, "consumed"), args.count, "the replay re-read everything");
    let mut backfill = ctx.consumer("run");
    backfill
        .args(["--from", "earliest", "--exit-at-end"])
        .env("TWEETPIPE_GROUP", format!("{}-backfill", ctx.group));
    let backfilled = summary(&run(&mut backfill, LIMIT));
    assert_eq!(count(&backfilled, "consumed"), args.count, "the backfill read the whole topic");
    assert_table_exact(&ctx, &args, "after replay and backfill").await;

    // The real tweet files, when the test command says where they are.
    if let Some(dir) = corpus_dir() {
        let corpus = SecureContext::new(&env, "corpus").await.expect("context");
        let mut producer = corpus.producer();
        let mut files = 0;
        for sub in ["v1.1/tweepy-cassettes", "v2/tweepy-cassettes"] {
            for entry in std::fs::read_dir(dir.join(sub)).into_iter().flatten().flatten() {
                producer.arg("--source").arg(format!("file:{}", entry.path().display()));
                files += 1;
            }
        }
        assert!(files > 0, "no corpus files under {}", dir.display());
        let produced = summary(&run(&mut producer, LIMIT));
        assert_eq!(count(&produced, "failed"), 0);
        let in_topic = corpus.env.message_count(&corpus.topic).expect("count") as u64;
        let drained = summary(&run(corpus.consumer("run").arg("--exit-at-end"), LIMIT));
        assert_eq!(count(&drained, "consumed"), in_topic, "every corpus message consumed");
        assert_eq!(count(&drained, "dead_lettered"), 0);
        let rows = corpus.row_count().await as u64;
        assert!(rows > 0 && rows == count(&drained, "inserted"), "corpus rows {rows}: {drained:?}");
        println!("[secure] corpus: {files} files, {in_topic} messages, {rows} rows over SASL_SSL + TLS");
        corpus.cleanup().await;
    }
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s2_leader_failover_with_a_consumer_killed_meanwhile() {
    let Some(env) = secure_env() else { return };
    let _serial = serial().await;
    stack_secure("up", None);
    let ctx = SecureContext::new(&env, "failover").await.expect("context");
    let args = synthetic(120_000, 31);
    let mut create = ctx.producer();
    create.args(["--source", "synthetic", "--count", "0", "--partitions", "6", "--replication-factor", "3"]);
    summary(&run(&mut create, LIMIT));

    let first = Logged::spawn(ctx.consumer("run"), "secure-failover-first");
    let producer = ctx
        .producer()
        .args(args.to_flags())
        .args(["--rate", "15000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the producer");
    wait_until(LIMIT, "20k tweets in the topic", || async {
        ctx.env.message_count(&ctx.topic).is_ok_and(|n| n >= 20_000)
    })
    .await;

    let leader = ctx.env.leader_of(&ctx.topic, 0).expect("a leader");
    let node = format!("kafka-{leader}");
    stack_secure("kill", Some(&node));
    let mut first = first;
    first.child.kill().expect("SIGKILL the first consumer");
    let _ = first.child.wait();
    let second = Logged::spawn(ctx.consumer("run"), "secure-failover-second");
    wait_until(LIMIT, "another replica leading partition 0", || async {
        ctx.env.leader_of(&ctx.topic, 0).is_ok_and(|l| l != leader)
    })
    .await;
    stack_secure("up", Some(&node));

    let produced = summary(&wait_output(producer, LIMIT));
    assert_eq!((count(&produced, "tweets"), count(&produced, "failed")), (args.count, 0));
    assert_topic_exact(&ctx, &args, "across the leader change");
    let want = expected_rows(&args).len() as i64;
    wait_until(LIMIT, "every row stored", || async { ctx.row_count().await >= want }).await;
    sigterm(&second.child);
    let log = second.log_text();
    assert!(wait_output(second.child, LIMIT).status.success(), "second consumer:\n{log}");
    summary(&run(ctx.consumer("run").arg("--exit-at-end"), LIMIT));
    assert_table_exact(&ctx, &args, "after the failover").await;
    println!(
        "[secure] failover: {} tweets, leader kafka-{leader} of partition 0 SIGKILLed and back",
        args.count
    );
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_two_brokers_down_the_producer_waits_and_loses_nothing() {
    let Some(env) = secure_env() else { return };
    let _serial = serial().await;
    stack_secure("up", None);
    let ctx = SecureContext::new(&env, "insync").await.expect("context");
    let args = synthetic(5_000, 47);
    let mut create = ctx.producer();
    create.args(["--source", "synthetic", "--count", "0", "--partitions", "6", "--replication-factor", "3"]);
    summary(&run(&mut create, LIMIT));

    stack_secure("kill", Some("kafka-2"));
    stack_secure("kill", Some("kafka-3"));
    let log = std::env::temp_dir().join(format!("secure-insync-{}.log", std::process::id()));
    let producer = ctx
        .producer()
        .args(args.to_flags())
        .args(["--create-topics", "false", "--flush-timeout", "240"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn the producer");
    let mut producer = producer;
    // The producer has read all its input and is flushing: it now waits on the brokers alone.
    wait_until(LIMIT, "the producer flushing its whole input", || async {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("all input read; flushing"))
    })
    .await;
    // …and tries the brokers that are away. (Not necessarily logged after the flush began:
    // librdkafka logs a broker's repeated identical failure once, and that may come first.)
    let away: Vec<String> =
        env.get("KAFKA_BOOTSTRAP_SERVERS").split(',').skip(1).map(|b| format!("{b}/")).collect();
    assert_eq!(away.len(), 2, "three brokers");
    wait_until(LIMIT, "the producer trying a broker that is down", || async {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().any(|l| l.contains("Connection refused") && away.iter().any(|b| l.contains(b.as_str())))
    })
    .await;
    assert!(producer.try_wait().expect("status").is_none(), "the producer must not finish with one broker");
    // Partitions whose leader is down cannot be asked; those that can have acknowledged nothing.
    if let Ok(stored) = ctx.env.message_count(&ctx.topic) {
        assert_eq!(stored, 0, "nothing is acknowledged below min.insync.replicas");
    }

    assert!(producer.try_wait().expect("status").is_none(), "still waiting when a broker returns");
    stack_secure("up", Some("kafka-2"));
    let produced = summary(&wait_output(producer, LIMIT));
    assert_eq!((count(&produced, "tweets"), count(&produced, "failed")), (args.count, 0));
    assert_topic_exact(&ctx, &args, "after a broker returned");
    stack_secure("up", None);
    let _ = std::fs::remove_file(&log);
    ctx.cleanup().await;
}

/// Runs `cmd`, expecting a configuration error: exit 78 within [`FAIL_FAST`], `needle` in the
/// output. Returns the output for the secrets check.
fn fails_with_config_error(mut cmd: Command, needle: &str, what: &str) -> String {
    let out = run(cmd.env("RUST_LOG", "info"), FAIL_FAST);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(78), "{what}: exit code\n{shown}");
    assert!(
        shown.to_lowercase().contains(needle),
        "{what}: the message names the problem ({needle})\n{shown}"
    );
    shown
}

#[tokio::test(flavor = "multi_thread")]
async fn s4_wrong_credentials_and_certificates_fail_fast_and_print_no_secret() {
    let Some(env) = secure_env() else { return };
    let _serial = serial().await;
    stack_secure("up", None);
    let ctx = SecureContext::new(&env, "refused").await.expect("context");
    let dir = std::env::temp_dir().join(format!("secure-other-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let other_ca = dir.join("ca.crt");
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=unknown CA"])
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let other_ca = other_ca.display().to_string();
    let wrong = "wrong-password-4711";
    let produce = |key: &str, value: &str| {
        let mut cmd = ctx.producer();
        cmd.args(["--source", "synthetic", "--count", "10"]).env(key, value);
        cmd
    };
    let url = env.get("DATABASE_URL");
    let [_, pg_password] = <[String; 2]>::try_from(env.passwords()).expect("two passwords");
    let migrate = |url: String| {
        let mut cmd = ctx.consumer("migrate");
        cmd.env("DATABASE_URL", url);
        cmd
    };

    let mut outputs = vec![
        fails_with_config_error(
            produce("KAFKA_SASL_PASSWORD", wrong),
            "authentication failed",
            "wrong SASL password",
        ),
        fails_with_config_error(
            produce("KAFKA_SSL_CA_LOCATION", &other_ca),
            "certificate verify failed",
            "Kafka, unknown CA",
        ),
        fails_with_config_error(
            produce("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
            "security protocol",
            "Kafka, plaintext against SASL_SSL",
        ),
        fails_with_config_error(
            migrate(url.replacen(&format!(":{pg_password}@"), &format!(":{wrong}@"), 1)),
            "authentication failed",
            "wrong database password",
        ),
        fails_with_config_error(
            migrate(url.replace(env.get("KAFKA_SSL_CA_LOCATION"), &other_ca)),
            "certificate verify failed",
            "PostgreSQL, unknown CA",
        ),
        fails_with_config_error(
            migrate(url.replace("sslmode=verify-full", "sslmode=disable")),
            "refused",
            "PostgreSQL, plaintext against a TLS-only server",
        ),
    ];

    // An outage is not a configuration error: a server that never answers is 69, after retries.
    let unreachable = format!(
        "postgres://tweetpipe@127.0.0.1:1/tweetpipe?sslmode=verify-full&sslrootcert={}&password={pg_password}",
        env.get("KAFKA_SSL_CA_LOCATION")
    );
    let mut outage = migrate(unreachable);
    outage.env("TWEETPIPE_DB_CONNECT_TIMEOUT", "3").env("RUST_LOG", "info");
    let out = run(&mut outage, FAIL_FAST);
    outputs.push(text(&out));
    assert_eq!(out.status.code(), Some(69), "unreachable database:\n{}", text(&out));

    for bin in ["tweetpipe-producer", "tweetpipe-consumer"] {
        let mut help = env.command(bin);
        outputs.push(text(&run(help.arg("--help"), FAIL_FAST)));
    }
    outputs.push(text(&run(env.command("tweetpipe-consumer").args(["run", "--help"]), FAIL_FAST)));

    let all = outputs.join("\n");
    for secret in env.passwords().iter().map(String::as_str).chain([wrong]) {
        assert!(!all.contains(secret), "a password appeared in the output:\n{all}");
    }
    let shown: BTreeSet<&str> =
        all.lines().filter(|l| l.contains("ERROR") && !l.contains("librdkafka")).collect();
    println!(
        "[secure] refused as configuration errors:\n{}",
        shown.into_iter().collect::<Vec<_>>().join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
    ctx.cleanup().await;
}
