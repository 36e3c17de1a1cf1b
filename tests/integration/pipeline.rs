//! The synthetic stream end to end, and a consumer killed mid-stream.

use std::time::Duration;

use tweetpipe_producer::source::synthetic::{Generator, SyntheticSettings};
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::producer::produce;
use tweetpipe_tests::{consumer_summary, create_topic, run, wait_output, wait_until, TestContext};

#[tokio::test(flavor = "multi_thread")]
async fn synthetic_stream_is_stored_once_per_id_without_music() {
    let ctx = TestContext::new("e2e").await.expect("context");
    let args = SyntheticSettings::new(3000, 11).duplicate_share(0.2).music_share(0.1);
    let produced = produce(ctx.producer().args(args.to_flags()), Duration::from_secs(120));
    assert_eq!(produced.count("tweets"), 3000);
    assert_eq!(produced.count("failed"), 0);

    let consumed = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), Duration::from_secs(180)));
    let expected = expected_rows(&args);
    let music_messages = Generator::new(&args).filter(|t| t.music).count() as u64;
    assert_eq!(table(&ctx).await, expected, "the table holds exactly the expected rows, newest metrics");
    assert_eq!(consumed.count("consumed"), 3000);
    assert_eq!(consumed.count("inserted"), expected.len() as u64);
    assert_eq!(consumed.count("filtered"), music_messages);
    assert_eq!(consumed.count("duplicates"), 3000 - expected.len() as u64 - music_messages);
    assert_eq!(consumed.count("dead_lettered"), 0);

    // Fields a user queries: v2 author fields, created_at, raw JSON, Kafka coordinates.
    let (missing_created, big_ids, raw_ok): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE created_at IS NULL), count(*) FILTER (WHERE id > 9007199254740993),
                count(*) FILTER (WHERE raw->'data'->>'id' = id::text AND format = 'v2' AND kafka_offset >= 0)
         FROM tweets",
    )
    .fetch_one(&ctx.pool)
    .await
    .expect("query");
    assert_eq!(missing_created, 0);
    assert_eq!(big_ids, expected.len() as i64, "ids above 2^53 arrive exactly");
    assert_eq!(raw_ok, expected.len() as i64);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_killed_mid_stream_loses_nothing_and_duplicates_nothing() {
    let ctx = TestContext::new("crash").await.expect("context");
    let args = SyntheticSettings::new(20_000, 5);
    produce(ctx.producer().args(args.to_flags()), Duration::from_secs(120));

    let mut victim = ctx
        .consumer()
        .args(["--batch-size", "250"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    wait_until(Duration::from_secs(120), "the first consumer to store some rows", || async {
        ctx.row_count().await >= 3000
    })
    .await;
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reaped");
    let before_restart = ctx.row_count().await;
    assert!(before_restart < 20_000, "killed mid-stream, not after the end");

    let child = ctx
        .consumer()
        .arg("--exit-at-end")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    consumer_summary(&wait_output(child, Duration::from_secs(180)));

    let expected = expected_rows(&args);
    assert_eq!(table(&ctx).await, expected);
    let (rows, distinct): (i64, i64) = sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM tweets")
        .fetch_one(&ctx.pool)
        .await
        .expect("q");
    assert_eq!(rows, distinct);
    // Exactly once: every message counted once, however much of the topic was read twice.
    let (seen,): (i64,) =
        sqlx::query_as("SELECT sum(seen)::int8 FROM ingest_counts").fetch_one(&ctx.pool).await.expect("q");
    assert_eq!(seen, 20_000, "ingest_counts.seen is the number of messages in the topic");
    println!("crash test: {before_restart} rows before the kill, {rows} after the restart");
    ctx.cleanup().await;
}

/// Adaptive linger: a batch closes when nothing more is waiting, never while messages are. Even
/// with no linger at all, a backlog (here one partition, fetched whole) fills every batch, so
/// low latency at a trickle costs no throughput under load.
#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_fills_every_batch_even_without_linger() {
    let ctx = TestContext::new("backlog").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let args = SyntheticSettings::new(100, 3).duplicate_share(0.0).music_share(0.0);
    produce(ctx.producer().args(args.to_flags()), Duration::from_secs(120));

    let flags = ["--exit-at-end", "--batch-size", "10", "--batch-linger", "0ms"];
    let consumed = consumer_summary(&run(ctx.consumer().args(flags), Duration::from_secs(120)));
    assert_eq!(consumed.count("consumed"), 100);
    assert_eq!(consumed.count("inserted"), 100);
    assert_eq!(consumed.count("batches"), 10, "every batch full: {}", consumed.0);
    ctx.cleanup().await;
}
