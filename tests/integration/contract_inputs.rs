//! The input side of the contract (#25): settings that would break a guarantee and topic names
//! Kafka refuses are configuration errors (exit 78, naming the setting); the producer and the
//! consumer refuse at parse time, with a parse class, whatever PostgreSQL could not store,
//! in any field; a message is stored only under its canonical key; no secret in any output;
//! the producer's summary is right after SIGTERM on stdin.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tweetpipe_tests::faults::sigterm;
use tweetpipe_tests::producer::{produce, summary_of, SummaryFile};
use tweetpipe_tests::{
    bin, brokers, consumer_summary, create_topic, produce_records, read_topic, run, wait_output, wait_until,
    RawRecord, TestContext,
};

const LIMIT: Duration = Duration::from_secs(120);
/// A configuration error is reported at once: no broker is waited for.
const PROMPTLY: Duration = Duration::from_secs(30);

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A binary's command line, against the local broker and an unreachable database (no test
/// here gets as far as the database).
fn command(binary: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin(binary));
    cmd.args(args)
        .env("KAFKA_BOOTSTRAP_SERVERS", brokers())
        .env("TWEETPIPE_TOPIC", "tweetpipe-contract-inputs")
        .env("DATABASE_URL", "postgres://tweetpipe:tweetpipe@127.0.0.1:1/tweetpipe")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

fn assert_configuration_error(cmd: &mut Command, names: &str) {
    let out = run(cmd, PROMPTLY);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(78), "{cmd:?}\n{all}");
    assert!(all.contains(names), "the error names {names}:\n{all}");
}

#[test]
fn settings_that_break_a_guarantee_are_refused_by_flag_and_environment() {
    // (binary, command, property, value): each run, check, given by -X and by the environment.
    let cases = [
        ("tweetpipe-consumer", &["run"][..], "enable.auto.offset.store", "true"),
        ("tweetpipe-consumer", &["run"][..], "enable.auto.commit", "false"),
        ("tweetpipe-consumer", &["check"][..], "enable.auto.commit", "true"),
        ("tweetpipe-consumer", &["run"][..], "acks", "1"),
        ("tweetpipe-producer", &["--source", "stdin"][..], "acks", "1"),
        ("tweetpipe-producer", &["--source", "stdin"][..], "enable.idempotence", "false"),
        ("tweetpipe-producer", &["check", "--source", "stdin"][..], "acks", "0"),
        ("tweetpipe-producer", &["--source", "stdin"][..], "enable.auto.offset.store", "true"),
    ];
    for (binary, args, key, value) in cases {
        let mut flag = command(binary, args);
        flag.args(["-X", &format!("{key}={value}")]);
        assert_configuration_error(&mut flag, &format!("-X {key}"));

        let var = format!("TWEETPIPE_KAFKA_{}", key.replace('.', "_").to_ascii_uppercase());
        let mut env = command(binary, args);
        env.env(&var, value);
        assert_configuration_error(&mut env, &var);
    }
    // What the guarantees need may be said out loud.
    let out =
        run(&mut command("tweetpipe-producer", &["check", "--source", "stdin", "-X", "acks=all"]), PROMPTLY);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn topic_names_kafka_refuses_are_configuration_errors_in_run_and_check() {
    let long = "t".repeat(250);
    for topic in ["bad topic!", "..", long.as_str()] {
        for (binary, args) in [
            ("tweetpipe-producer", &["--source", "stdin"][..]),
            ("tweetpipe-producer", &["check", "--source", "stdin"][..]),
            ("tweetpipe-consumer", &["run"][..]),
            ("tweetpipe-consumer", &["check"][..]),
        ] {
            let mut cmd = command(binary, args);
            cmd.env("TWEETPIPE_TOPIC", topic);
            assert_configuration_error(&mut cmd, "not a topic name Kafka accepts");
        }
    }
}

/// Lines PostgreSQL could not store whole, in fields nobody reads, and documents that are two
/// shapes at once, with the class each gets.
const REFUSED: &[(&str, &str)] = &[
    (r#"{"data":{"id":"1601","text":"x","y":1e400}}"#, "invalid_json"),
    (r#"{"data":{"id":"1602","text":"x","y":1e400},"z":1}"#, "invalid_json"),
    (r#"{"data":{"id":"1603","text":"x","junk":1e-20000}}"#, "invalid_json"),
    (r#"{"data":{"id":"1604","text":"x"},"junk":1e1000000}"#, "invalid_json"),
    (r#"{"data":{"id":"1605","text":"x"},"x":"\ud800"}"#, "invalid_json"),
    (r#"{"data":{"id":"1606","text":"x"},"m":{"\udc00":1}}"#, "invalid_json"),
    (r#"{"data":{"id":"122","text":"x"},"statuses":[]}"#, "ambiguous_shape"),
    (r#"{"data":{"id":"123","text":"x"},"statuses":[{"id_str":"124","text":"y"}]}"#, "ambiguous_shape"),
];

#[tokio::test(flavor = "multi_thread")]
async fn the_producer_refuses_what_postgresql_cannot_store_and_ambiguous_shapes() {
    let ctx = TestContext::new("inputs_producer").await.expect("context");
    let good = r#"{"data":{"id":"1607","text":"kept","y":1e-300}}"#;
    let input = std::env::temp_dir().join(format!("{}.jsonl", ctx.topic));
    let lines: Vec<&str> = REFUSED.iter().map(|(line, _)| *line).chain([good]).collect();
    std::fs::write(&input, lines.join("\n")).expect("input");
    let s = produce(ctx.producer().args(["--source", &format!("file:{}", input.display())]), LIMIT);
    let _ = std::fs::remove_file(&input);
    assert_eq!((s.count("lines"), s.count("tweets")), (lines.len() as u64, 1), "{}", s.0);
    assert_eq!(s.dead_letters("invalid_json"), 6, "{}", s.0);
    assert_eq!(s.dead_letters("ambiguous_shape"), 2, "{}", s.0);
    let dead = read_topic(&format!("{}.dlq", ctx.topic)).expect("dlq");
    let mut got: Vec<(String, String)> = dead
        .iter()
        .map(|m| {
            (String::from_utf8_lossy(&m.value).into_owned(), m.headers["tweetpipe.errors.class"].clone())
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> =
        REFUSED.iter().map(|(l, c)| (l.to_string(), c.to_string())).collect();
    want.sort();
    assert_eq!(got, want, "each refused line dead-lettered whole, with its class");

    let c = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(c.count("consumed"), 1);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tweets").fetch_all(&ctx.pool).await.expect("ids");
    assert_eq!(ids, [1607]);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consumer_refuses_the_same_at_parse_time_and_only_canonical_keys() {
    let ctx = TestContext::new("inputs_consumer").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let mut records: Vec<RawRecord> = REFUSED
        .iter()
        .map(|(line, _)| {
            let id = line.split(r#""id":""#).nth(1).and_then(|r| r.split('"').next()).expect("id");
            RawRecord::keyed(id, line.as_bytes())
        })
        .collect();
    records.extend([
        // Id 301 under a key that is not its canonical form: another key to Kafka.
        RawRecord::keyed("0000301", r#"{"data":{"id":"301","text":"zeros"}}"#),
        RawRecord { key: Some(b"0000302".to_vec()), ..RawRecord::default() },
        RawRecord::keyed("1608", r#"{"data":{"id":"1608","text":"kept"}}"#),
    ]);
    produce_records(&ctx.topic, &records).await.expect("produce");

    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(s.dead_lettered("invalid_json"), 6, "{}", s.0);
    assert_eq!(s.dead_lettered("ambiguous_shape"), 2, "{}", s.0);
    assert_eq!(s.dead_lettered("key_mismatch"), 1, "{}", s.0);
    assert_eq!(s.dead_lettered("invalid_tombstone"), 1, "{}", s.0);
    assert_eq!(s.dead_lettered("db_rejected"), 0, "refused at parse time, not by PostgreSQL: {}", s.0);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tweets").fetch_all(&ctx.pool).await.expect("ids");
    assert_eq!(ids, [1608]);
    ctx.cleanup().await;
}

const SECRET: &str = "Xs3cretV4lueN0bodySees";

#[test]
fn secret_properties_never_show_in_any_output() {
    let targets = [
        ("tweetpipe-consumer", &["run", "--exit-at-end"][..], false),
        ("tweetpipe-consumer", &["check"][..], false),
        ("tweetpipe-producer", &["--source", "stdin"][..], true),
        ("tweetpipe-producer", &["check", "--source", "stdin"][..], false),
    ];
    for (binary, args, has_summary) in targets {
        for by_flag in [true, false] {
            let mut cmd = command(binary, args);
            // This build of librdkafka cannot use the property, and says so with its value.
            if by_flag {
                cmd.args(["-X", &format!("sasl.oauthbearer.client.secret={SECRET}")]);
            } else {
                cmd.env("TWEETPIPE_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET", SECRET);
            }
            cmd.env("TWEETPIPE_KAFKA_SSL_KEY_PASSWORD", SECRET).env("RUST_LOG", "debug");
            let summary = SummaryFile::default();
            if has_summary {
                summary.attach(&mut cmd);
            }
            let out = run(&mut cmd, PROMPTLY);
            let mut all = text(&out);
            all.push_str(&summary.read().map(|s| s.0.to_string()).unwrap_or_default());
            assert_eq!(out.status.code(), Some(78), "{cmd:?}\n{all}");
            assert!(all.contains("sasl.oauthbearer.client.secret"), "the error names the property:\n{all}");
            assert!(!all.contains(SECRET), "the secret leaked from {cmd:?}:\n{all}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_after_sigterm_on_stdin_counts_the_lines_read() {
    let ctx = TestContext::new("inputs_stdin").await.expect("context");
    let summary = SummaryFile::default();
    let mut cmd = ctx.producer();
    cmd.args(["--source", "stdin", "--flush-timeout", "3"]);
    let mut child = summary
        .attach(&mut cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn producer");
    let mut stdin = child.stdin.take().expect("stdin");
    for id in [1_950_000_000_000_002_001u64, 1_950_000_000_000_002_002] {
        writeln!(stdin, r#"{{"data":{{"id":"{id}","text":"t"}}}}"#).expect("write");
    }
    stdin.flush().expect("flush");
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the 2 tweets in Kafka", || {
        let topic = topic.clone();
        async move {
            let read = tokio::task::spawn_blocking(move || read_topic(&topic).map(|m| m.len()).unwrap_or(0));
            read.await.unwrap_or(0) >= 2
        }
    })
    .await;
    sigterm(&child);
    let out =
        tokio::task::spawn_blocking(move || wait_output(child, Duration::from_secs(10))).await.expect("join");
    drop(stdin);
    let s = summary_of(&out, &summary);
    assert_eq!((s.count("lines"), s.count("tweets")), (2, 2), "{}", s.0);
    assert_eq!(s.0["interrupted"], true);
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.contains("lines=2 tweets=2"), "{line}");
    ctx.cleanup().await;
}
