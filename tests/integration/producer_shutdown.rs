//! SIGTERM ends every producer state within `--flush-timeout` plus a second: reading an input
//! that stays open (a FIFO, stdin), start-up retries against a broker that is not there, and a
//! final flush to a broker that never answers. What was read before the signal is delivered.

use std::io::Write as _;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::producer::{summary_of, SummaryFile};
use tweetpipe_tests::{read_topic, wait_output, wait_until, TestContext};

const LIMIT: Duration = Duration::from_secs(120);
const FLUSH_SECS: u64 = 3;
/// The promise: gone within the flush timeout and a second of SIGTERM.
const AFTER_SIGTERM: Duration = Duration::from_secs(FLUSH_SECS + 1);

fn stream_line(id: u64) -> String {
    format!(r#"{{"data":{{"id":"{id}","text":"tweet {id}"}}}}"#)
}

async fn topic_len(topic: &str) -> usize {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || read_topic(&topic).map(|m| m.len()).unwrap_or(0)).await.unwrap_or(0)
}

async fn stop(child: Child) -> Output {
    sigterm(&child);
    tokio::task::spawn_blocking(move || wait_output(child, AFTER_SIGTERM)).await.expect("join")
}

fn producer(ctx: &TestContext, source: &str) -> Command {
    let mut cmd = ctx.producer();
    cmd.args(["--source", source, "--flush-timeout", &FLUSH_SECS.to_string()]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_reading_a_fifo_that_stays_open_delivers_what_was_read_and_exits() {
    let ctx = TestContext::new("fifo").await.expect("context");
    let fifo = std::env::temp_dir().join(format!("{}.fifo", ctx.topic));
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let summary = SummaryFile::default();
    let mut cmd = producer(&ctx, &format!("file:{}", fifo.display()));
    let child = summary
        .attach(&mut cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn producer");
    // The writer end stays open for the whole test: the producer never sees the input end.
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).expect("open the FIFO");
    for id in 1..=20u64 {
        writeln!(writer, "{}", stream_line(1_950_000_000_000_000_000 + id)).expect("write");
    }
    writer.flush().expect("flush");
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the 20 tweets in Kafka", || async { topic_len(&topic).await >= 20 }).await;
    // Keyed by id, and without lineage headers unless `--lineage-headers` asks for them.
    let messages = read_topic(&ctx.topic).expect("read");
    assert!(messages
        .iter()
        .all(|m| m.key.as_deref().is_some_and(|k| k.starts_with("195")) && m.headers.is_empty()));

    let out = stop(child).await;
    drop(writer);
    let s = summary_of(&out, &summary);
    assert_eq!(s.count("tweets"), 20, "everything read before the signal is delivered");
    assert_eq!(s.count("failed"), 0);
    assert_eq!(s.0["interrupted"], true);
    let _ = std::fs::remove_file(&fifo);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_reading_stdin_that_stays_open_exits() {
    let ctx = TestContext::new("stdin_open").await.expect("context");
    let summary = SummaryFile::default();
    let mut cmd = producer(&ctx, "stdin");
    let mut child = summary
        .attach(&mut cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn producer");
    let mut stdin = child.stdin.take().expect("stdin");
    for id in 1..=5u64 {
        writeln!(stdin, "{}", stream_line(1_950_000_000_000_001_000 + id)).expect("write");
    }
    stdin.flush().expect("flush");
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the 5 tweets in Kafka", || async { topic_len(&topic).await >= 5 }).await;

    let out = stop(child).await;
    drop(stdin);
    let s = summary_of(&out, &summary);
    assert_eq!(s.count("tweets"), 5);
    ctx.cleanup().await;
}

/// A port nothing listens on: connections are refused at once, again and again.
fn unreachable(cmd: &mut Command) -> &mut Command {
    cmd.env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9").env("RUST_LOG", "info")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_start_up_retries_against_an_absent_broker_exits() {
    let ctx = TestContext::new("no_broker").await.expect("context");
    let mut cmd = producer(&ctx, "synthetic");
    unreachable(&mut cmd);
    let producer = Logged::spawn(cmd, &format!("{}-startup", ctx.topic));
    // Signalled during the first attempt, which alone could take the admin client's 30 s.
    wait_until(LIMIT, "the start-up attempt in the log", || {
        let starting = producer.log_text().contains("checking Kafka");
        async move { starting }
    })
    .await;

    let out = stop(producer.child).await;
    assert!(!out.status.success(), "start-up did not complete: not a success");
    let log = std::fs::read_to_string(&producer.log).unwrap_or_default();
    assert!(log.contains("interrupted by shutdown"), "{log}");
    let _ = std::fs::remove_file(&producer.log);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_the_broker_never_answers_gives_up_the_flush_in_time_and_says_so() {
    let ctx = TestContext::new("no_flush").await.expect("context");
    let summary = SummaryFile::default();
    let mut cmd = producer(&ctx, "synthetic");
    // The broker answers (the start-up check passes) but the topic does not exist and is never
    // created (the stack disables auto-creation): no message is ever acknowledged.
    cmd.args(["--create-topics", "false", "--count", "1000000", "--rate", "2000"]).env("RUST_LOG", "info");
    let log = std::env::temp_dir().join(format!("{}-flush.log", ctx.topic));
    let child = summary
        .attach(&mut cmd)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn producer");
    wait_until(LIMIT, "the synthetic source to start", || {
        let reading = std::fs::read_to_string(&log).unwrap_or_default().contains("reading");
        async move { reading }
    })
    .await;

    let out = stop(child).await;
    assert!(!out.status.success(), "undelivered messages make a failure");
    let s = summary.read().expect("the summary is written even when deliveries failed");
    assert!(s.count("failed") > 0, "{}", s.0);
    assert_eq!(s.count("tweets"), 0);
    let _ = std::fs::remove_file(&log);
    ctx.cleanup().await;
}
