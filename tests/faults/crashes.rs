//! Processes and servers killed mid-stream: the consumer mid-transaction and between the
//! database commit and the offset commit, PostgreSQL, the Kafka broker.

use super::*;

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
    s.report(&format!(
        "{at_kill} rows at the kill; after restart {} duplicates, {} already applied (skipped)",
        restarted.count("duplicates"),
        restarted.count("already_applied")
    ));
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
    // The window the failpoint opens: the database holds a batch whose offsets Kafka never got.
    let ahead = s.database_ahead_of_kafka().await;
    assert!(ahead > 0, "the crash left messages applied in the database but uncommitted in Kafka");

    let restarted = s.drain();
    // Those messages are not applied again: whether the restart reads them and skips them
    // (`already_applied`) or seeks past them first depends on which partition's messages arrive
    // first; either way `check` holds every message counted exactly once in `ingest_counts`.
    s.check(0).await;
    watcher.assert_monotonic();
    let applied = restarted.count("already_applied");
    let dups = restarted.count("duplicates");
    s.report(&format!(
        "{at_crash} rows at the crash, {ahead} messages applied but not committed to Kafka; \
         after restart {dups} duplicates, {applied} read again and skipped"
    ));
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
