//! The fault suite: real processes, real servers killed and restarted, fresh names per scenario.
//!
//! Every scenario checks one invariant once consumers have drained: the table holds exactly
//! the acknowledged non-music tweets (one row per id, newest data), the dead-letter topic holds
//! exactly the bad inputs injected, and committed offsets never moved backwards. Scenarios run
//! one at a time (they kill shared servers) and print their figures.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use tweetpipe_producer::source::synthetic::{Generator, SyntheticSettings};
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::faults::{
    kafka_port, pg_port, serial, sigterm, stack, upsert_waiting_on_lock, wait_port_closed, Logged,
    OffsetWatcher,
};
use tweetpipe_tests::producer::{produce, spawn, summary_of, SummaryFile};
use tweetpipe_tests::{
    consumer_summary, read_topic, run, wait_output, wait_until, ConsumerSummary, TestContext,
};

mod hostile;

const LIMIT: Duration = Duration::from_secs(240);

/// One scenario's topic, database and synthetic stream.
struct Scenario {
    name: &'static str,
    ctx: TestContext,
    args: SyntheticSettings,
    started: Instant,
}

impl Scenario {
    async fn new(name: &'static str, count: u64, duplicate_share: f64, seed: u64) -> Self {
        let ctx = TestContext::new(name).await.expect("context");
        let args = SyntheticSettings::new(count, seed).duplicate_share(duplicate_share);
        Self { name, ctx, args, started: Instant::now() }
    }

    fn producer(&self, extra: &[&str]) -> Command {
        let mut cmd = self.ctx.producer();
        cmd.args(self.args.to_flags()).args(extra);
        cmd
    }

    /// Produces the whole stream and checks every message was acknowledged.
    fn produce(&self, extra: &[&str]) {
        let s = produce(&mut self.producer(extra), LIMIT);
        assert_eq!(s.count("tweets"), self.args.count);
        assert_eq!(s.count("failed"), 0);
    }

    fn consumer(&self, extra: &[&str]) -> Command {
        let mut cmd = self.ctx.consumer();
        cmd.args(extra);
        cmd
    }

    /// A consumer with `--exit-at-end`, run to completion.
    fn drain(&self) -> ConsumerSummary {
        consumer_summary(&run(&mut self.consumer(&["--exit-at-end"]), LIMIT))
    }

    fn expected(&self) -> HashMap<i64, (String, String, i64)> {
        expected_rows(&self.args)
    }

    async fn rows(&self) -> i64 {
        self.ctx.row_count().await
    }

    /// The invariant: exactly the expected rows with their newest data, and `dead_letters`
    /// records in the dead-letter topic.
    async fn check(&self, dead_letters: usize) {
        let got = table(&self.ctx).await;
        let want = self.expected();
        let missing = want.keys().filter(|id| !got.contains_key(id)).count();
        let extra = got.keys().filter(|id| !want.contains_key(id)).count();
        let stale = want.iter().filter(|(id, row)| got.get(id).is_some_and(|g| g != *row)).count();
        assert_eq!((missing, extra, stale), (0, 0, 0), "{}: rows missing, extra, not newest", self.name);
        let dlq = read_topic(&format!("{}.dlq", self.ctx.topic)).map(|m| m.len()).unwrap_or(0);
        assert_eq!(dlq, dead_letters, "{}: dead letters", self.name);
    }

    fn report(&self, figures: &str) {
        println!(
            "[fault] {}: {} tweets sent, {} rows expected; {figures}; {:.1}s in all",
            self.name,
            self.args.count,
            self.expected().len(),
            self.started.elapsed().as_secs_f64()
        );
    }

    async fn wait_rows(&self, at_least: i64, what: &str) {
        wait_until(LIMIT, what, || async { self.rows().await >= at_least }).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn f1a_consumer_killed_mid_transaction() {
    let _serial = serial().await;
    let s = Scenario::new("kill_mid_tx", 100_000, 0.1, 21).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let mut victim = Logged::spawn(s.consumer(&["--batch-size", "500"]), "kill_mid_tx");
    s.wait_rows(10_000, "some rows stored").await;

    // Hold a lock that makes the consumer's next upsert wait inside its transaction.
    let mut tx = s.ctx.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE tweets IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await.expect("lock");
    wait_until(LIMIT, "an upsert waiting on the lock", || upsert_waiting_on_lock(&s.ctx)).await;
    victim.child.kill().expect("SIGKILL");
    victim.child.wait().expect("reaped");
    tx.rollback().await.expect("unlock");
    let at_kill = s.rows().await;

    let restarted = s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!("{at_kill} rows at the kill, {} re-read as duplicates", restarted.count("duplicates")));
}

#[tokio::test(flavor = "multi_thread")]
async fn f1b_consumer_dies_between_database_commit_and_offset_commit() {
    let _serial = serial().await;
    let s = Scenario::new("kill_after_commit", 100_000, 0.1, 22).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let mut crashing = s.consumer(&["--batch-size", "1000"]);
    crashing.env("TWEETPIPE_FAILPOINT", "after-db-commit@20");
    let out = run(&mut crashing, LIMIT);
    assert!(!out.status.success(), "the failpoint aborts the consumer");
    assert!(String::from_utf8_lossy(&out.stderr).contains("failpoint after-db-commit@20"));
    let at_crash = s.rows().await;
    assert!(at_crash > 0);

    let restarted = s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    let dups = restarted.count("duplicates");
    s.report(&format!("{at_crash} rows at the crash, {dups} duplicates re-read after restart"));
}

#[tokio::test(flavor = "multi_thread")]
async fn f2_postgres_killed_while_consumers_write() {
    let _serial = serial().await;
    let s = Scenario::new("kill_postgres", 100_000, 0.1, 23).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let mut consumers: Vec<Logged> = (0..2)
        .map(|i| Logged::spawn(s.consumer(&["--batch-size", "500"]), &format!("kill_pg_{i}")))
        .collect();
    s.wait_rows(20_000, "some rows stored").await;

    stack(&["kill", "postgres"]);
    wait_port_closed(pg_port(), Duration::from_secs(30));
    let down = Instant::now();
    stack(&["up"]);
    let back = down.elapsed();
    let want = s.expected().len() as i64;
    s.wait_rows(want, "every row after the restart").await;
    let recovered = down.elapsed();

    for c in &consumers {
        sigterm(&c.child);
    }
    for c in consumers.drain(..) {
        let log = c.log_text();
        let out = wait_output(c.child, LIMIT);
        assert!(out.status.success(), "consumer exit after SIGTERM:\n{log}");
    }
    s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!(
        "postgres back after {:.1}s, all rows stored {:.1}s after the kill",
        back.as_secs_f64(),
        recovered.as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f3_kafka_killed_while_producer_and_consumers_run() {
    let _serial = serial().await;
    let s = Scenario::new("kill_kafka", 100_000, 0.1, 24).await;
    // Create the topic first, so the consumer can join before the producer starts.
    let mut empty = s.ctx.producer();
    empty.args(["--source", "synthetic", "--count", "0"]);
    produce(&mut empty, LIMIT);
    let watcher = OffsetWatcher::start(&s.ctx);
    let consumer = Logged::spawn(s.consumer(&["--batch-size", "500"]), "kill_kafka");
    let producer_summary = SummaryFile::default();
    let producer = spawn(&mut s.producer(&["--rate", "15000"]), &producer_summary);
    s.wait_rows(5_000, "some rows stored").await;

    stack(&["kill", "kafka"]);
    wait_port_closed(kafka_port(), Duration::from_secs(30));
    let down = Instant::now();
    stack(&["up"]);
    let back = down.elapsed();

    let produced = summary_of(&wait_output(producer, LIMIT), &producer_summary);
    assert_eq!(produced.count("tweets"), s.args.count, "every send acknowledged");
    assert_eq!(produced.count("failed"), 0);
    // Exactly once in the topic: the same multiset of payloads the generator made.
    let mut in_topic: Vec<Vec<u8>> =
        read_topic(&s.ctx.topic).expect("read").into_iter().map(|m| m.value).collect();
    let mut sent: Vec<Vec<u8>> = Generator::new(&s.args).map(|t| t.payload).collect();
    assert_eq!(in_topic.len(), sent.len(), "no send lost or doubled by the broker restart");
    in_topic.sort();
    sent.sort();
    assert!(in_topic == sent, "the topic holds each acknowledged send exactly once");

    let want = s.expected().len() as i64;
    s.wait_rows(want, "every row after the broker restart").await;
    sigterm(&consumer.child);
    let log = consumer.log_text();
    assert!(wait_output(consumer.child, LIMIT).status.success(), "consumer exit:\n{log}");
    s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!(
        "kafka back after {:.1}s; all rows stored {:.1}s after the kill",
        back.as_secs_f64(),
        down.elapsed().as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f4_rebalance_storm() {
    let _serial = serial().await;
    let s = Scenario::new("storm", 100_000, 0.1, 25).await;
    let mut empty = s.ctx.producer();
    empty.args(["--source", "synthetic", "--count", "0", "--partitions", "12"]);
    produce(&mut empty, LIMIT);
    let watcher = OffsetWatcher::start(&s.ctx);
    let producer_summary = SummaryFile::default();
    let producer = spawn(&mut s.producer(&["--rate", "8000"]), &producer_summary);

    // The storm's schedule: every 1.5 s a member joins or leaves (SIGTERM), 2 to 4 at a time.
    let mut members: Vec<Logged> = Vec::new();
    let mut changes = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1500));
    for step in 0..10u32 {
        tick.tick().await;
        let join = members.len() < 2 || (members.len() < 4 && step % 3 != 2);
        if join {
            members.push(Logged::spawn(s.consumer(&["--batch-size", "300"]), &format!("storm_{step}")));
        } else {
            let leaving = members.remove((step as usize) % members.len());
            wait_until(LIMIT, "the member to join", || async {
                leaving.log_text().contains("joined consumer group")
            })
            .await;
            sigterm(&leaving.child);
            let out = wait_output(leaving.child, LIMIT);
            assert!(
                out.status.success(),
                "member {} left cleanly ({:?}):\n{}",
                leaving.log.display(),
                out.status,
                leaving_log(&leaving.log)
            );
        }
        changes += 1;
    }
    summary_of(&wait_output(producer, LIMIT), &producer_summary);
    for m in &members {
        wait_until(LIMIT, "the member to join", || async { m.log_text().contains("joined consumer group") })
            .await;
        sigterm(&m.child);
    }
    for m in members {
        let out = wait_output(m.child, LIMIT);
        assert!(
            out.status.success(),
            "member {} left cleanly ({:?}):\n{}",
            m.log.display(),
            out.status,
            leaving_log(&m.log)
        );
    }
    s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!("{changes} membership changes on 12 partitions"));
}

fn leaving_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn f5_database_stall_longer_than_max_poll_interval() {
    let _serial = serial().await;
    let s = Scenario::new("db_stall", 100_000, 0.1, 26).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let consumer = Logged::spawn(
        s.consumer(&[
            "--batch-size",
            "500",
            "--statement-timeout",
            "2",
            "-X",
            "max.poll.interval.ms=8000",
            "-X",
            "session.timeout.ms=6000",
        ]),
        "db_stall",
    );
    s.wait_rows(5_000, "some rows stored").await;
    let mut tx = s.ctx.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE tweets IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await.expect("lock");
    wait_until(LIMIT, "an upsert waiting on the lock", || upsert_waiting_on_lock(&s.ctx)).await;
    // The fault itself: the table stays locked for 2.5 × max.poll.interval.ms.
    let stall = Duration::from_secs(20);
    tokio::time::sleep(stall).await;
    tx.rollback().await.expect("unlock");

    let want = s.expected().len() as i64;
    s.wait_rows(want, "every row after the stall").await;
    sigterm(&consumer.child);
    let log = consumer.log_text();
    assert!(wait_output(consumer.child, LIMIT).status.success());
    assert!(log.contains("partitions paused"), "the consumer paused while the database stalled:\n{log}");
    // Until it was asked to stop, nothing was taken away from it.
    let before_stop = log.split("SIGTERM received").next().unwrap_or_default();
    assert!(
        !before_stop.contains("partitions revoked") && !before_stop.contains("maximum poll interval"),
        "the consumer never lost its partitions:\n{log}"
    );
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!(
        "table locked {}s with max.poll.interval.ms=8000; stayed in the group",
        stall.as_secs()
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f6_duplicates_with_different_snapshots_and_a_full_replay() {
    let _serial = serial().await;
    let s = Scenario::new("snapshots", 100_000, 0.5, 27).await;
    s.produce(&[]);
    let first = consumer_summary(&run(&mut s.consumer(&["--exit-at-end", "--batch-size", "100"]), LIMIT));
    s.check(0).await;
    let checksum =
        "SELECT md5(string_agg(id::text || username || text || retweet_count || coalesce(like_count, -1) \
                    || updated_at::text, ',' ORDER BY id)) FROM tweets";
    let before: String = sqlx::query_scalar(checksum).fetch_one(&s.ctx.pool).await.expect("checksum");

    // Replay the whole topic in a new group: every copy, older ones included, arrives again.
    let mut replay = s.consumer(&["--exit-at-end"]);
    replay.env("TWEETPIPE_GROUP", format!("{}_replay", s.ctx.group));
    let again = consumer_summary(&run(&mut replay, LIMIT));
    let after: String = sqlx::query_scalar(checksum).fetch_one(&s.ctx.pool).await.expect("checksum");
    assert_eq!(before, after, "a full replay changes nothing");
    assert_eq!(again.count("upserted"), 0);
    assert_eq!(again.count("duplicates") + again.count("filtered"), s.args.count);
    s.check(0).await;
    s.report(&format!(
        "{} updates with newer metrics on the first pass; replay: 0 rows changed, {} duplicates",
        first.count("updated"),
        again.count("duplicates")
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f7_poison_input() {
    let _serial = serial().await;
    let s = Scenario::new("poison", 0, 0.0, 28).await;
    // An operator's CHECK constraint gives the database a record it refuses.
    let migrate = run(
        Command::new(tweetpipe_tests::bin("tweetpipe-consumer"))
            .arg("migrate")
            .env("DATABASE_URL", &s.ctx.database_url),
        LIMIT,
    );
    assert!(migrate.status.success());
    sqlx::query("ALTER TABLE tweets ADD CONSTRAINT operator_rule CHECK (text <> 'refused by the operator')")
        .execute(&s.ctx.pool)
        .await
        .expect("constraint");

    let good = |id: u64, text: &str| format!(r#"{{"data":{{"id":"{id}","text":"{text}"}}}}"#).into_bytes();
    let huge =
        format!(r#"{{"data":{{"id":"1800000000000000009","text":"{}"}}}}"#, "x".repeat(10 * 1024 * 1024));
    let lines: Vec<Vec<u8>> = vec![
        good(1800000000000000001, "good before"),
        br#"{"data":{"id":"1800000000000000002","text":"trunc"#.to_vec(),
        b"\xc3\x28 not utf-8 \xff".to_vec(),
        br#"{"data":{"id":"1800000000000000003","text":"NUL \u0000 inside"}}"#.to_vec(),
        huge.into_bytes(),
        br#"{"data":{"text":"missing id"}}"#.to_vec(),
        br#"{"data":{"id":"12abc","text":"non-numeric id"}}"#.to_vec(),
        br#"{"data":{"id":"99999999999999999999","text":"overflowing id"}}"#.to_vec(),
        br#"{"data":{"id":"1800000000000000004","text":"a lone surrogate \ud800 here"}}"#.to_vec(),
        br#"{"kind":"not a tweet"}"#.to_vec(),
        good(1800000000000000005, "refused by the operator"),
        good(1800000000000000006, "good after"),
    ];
    let path = std::env::temp_dir().join(format!("{}.jsonl", s.ctx.topic));
    let mut f = std::fs::File::create(&path).expect("file");
    for l in &lines {
        f.write_all(l).expect("write");
        f.write_all(b"\n").expect("write");
    }
    drop(f);
    let mut producer = s.ctx.producer();
    producer.arg("--source").arg(format!("file:{}", path.display()));
    let produced = produce(&mut producer, LIMIT);
    let drained = s.drain();
    let _ = std::fs::remove_file(&path);

    let mut classes: Vec<(String, String)> = read_topic(&format!("{}.dlq", s.ctx.topic))
        .expect("dlq")
        .into_iter()
        .map(|m| (m.headers["tweetpipe.errors.stage"].clone(), m.headers["tweetpipe.errors.class"].clone()))
        .collect();
    classes.sort();
    let mut want: Vec<(String, String)> = [
        ("producer", "invalid_json"),
        ("producer", "invalid_utf8"),
        ("producer", "oversized"),
        ("producer", "missing_id"),
        ("producer", "invalid_id"),
        ("producer", "invalid_id"),
        ("producer", "invalid_json"),
        ("producer", "unknown_shape"),
        ("consumer", "nul_character"),
        ("consumer", "db_rejected"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(classes, want);
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM tweets ORDER BY id").fetch_all(&s.ctx.pool).await.expect("ids");
    assert_eq!(ids, [1800000000000000001, 1800000000000000006]);
    s.report(&format!(
        "{} lines: {} produced, {} dead-lettered by the producer, {} by the consumer",
        lines.len(),
        produced.count("tweets"),
        produced.count("dead_lettered"),
        drained.count("dead_lettered")
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f8_sigterm_mid_stream() {
    let _serial = serial().await;
    let s = Scenario::new("sigterm", 100_000, 0.1, 29).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let consumer = Logged::spawn(s.consumer(&["--batch-size", "500"]), "sigterm");
    s.wait_rows(20_000, "some rows stored").await;
    sigterm(&consumer.child);
    let asked = Instant::now();
    // The drain deadline is 20 s; the pod's grace period is longer.
    let out = wait_output(consumer.child, Duration::from_secs(30));
    let took = asked.elapsed();
    let first = consumer_summary(&out);
    let handled = first.count("consumed");
    // A clean stop commits everything it handled: the group's offsets add up to exactly that.
    let committed: i64 = tweetpipe_tests::committed_and_ends(&s.ctx.topic, &s.ctx.group)
        .expect("offsets")
        .values()
        .map(|(c, _)| (*c).max(0))
        .sum();
    assert_eq!(committed as u64, handled, "every handled message committed at SIGTERM");
    let rows_at_stop = s.rows().await;

    let second = s.drain();
    s.check(0).await;
    assert_eq!(
        handled + second.count("consumed"),
        s.args.count,
        "after the restart nothing is read twice and nothing is skipped"
    );
    watcher.assert_monotonic();
    s.report(&format!(
        "{rows_at_stop} rows at SIGTERM, exit after {:.2}s, {handled} messages handled before it",
        took.as_secs_f64()
    ));
}
