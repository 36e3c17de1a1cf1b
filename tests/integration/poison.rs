//! No poison pill (#17, consumer side): one bad message never stalls a partition, and SIGTERM
//! ends every state. Each test writes its messages straight into the topic, as a hostile or
//! buggy upstream would.

use std::process::Command;
use std::time::Duration;

use tweetpipe_tests::faults::{sigterm, upsert_waiting_on_lock, Logged};
use tweetpipe_tests::{
    bin, committed_and_ends, consumer_summary, create_topic, produce_records, read_topic, run, wait_output,
    wait_until, ConsumerSummary, RawRecord, TestContext,
};

const LIMIT: Duration = Duration::from_secs(120);

fn tweet(id: u64, text: &str) -> RawRecord {
    RawRecord::keyed(&id.to_string(), format!(r#"{{"data":{{"id":"{id}","text":"{text}"}}}}"#))
}

fn incompressible(len: usize) -> String {
    tweetpipe_tests::incompressible(0x9E37_79B9_7F4A_7C15, len)
}

async fn migrated(ctx: &TestContext) {
    let out = run(
        Command::new(bin("tweetpipe-consumer")).arg("migrate").env("DATABASE_URL", &ctx.database_url),
        LIMIT,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

async fn stored_ids(ctx: &TestContext) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM tweets ORDER BY id").fetch_all(&ctx.pool).await.expect("ids")
}

fn consumer_dead_letters(ctx: &TestContext) -> Vec<tweetpipe_tests::Read> {
    read_topic(&format!("{}.dlq", ctx.topic))
        .expect("dlq")
        .into_iter()
        .filter(|m| m.headers.get("tweetpipe.errors.stage").map(String::as_str) == Some("consumer"))
        .collect()
}

fn assert_committed_to_the_end(ctx: &TestContext) {
    for (p, (committed, end)) in committed_and_ends(&ctx.topic, &ctx.group).expect("offsets") {
        assert_eq!(committed, end, "partition {p} committed to its end");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn records_postgres_refuses_for_program_limits_are_isolated_not_retried_forever() {
    let ctx = TestContext::new("limits").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    // 54000: an index row larger than the btree limit (tweets_username_idx).
    let long_name = format!(
        r#"{{"data":{{"id":"1800000000000000002","text":"long name","author_id":"7"}},"includes":{{"users":[{{"id":"7","username":"{}"}}]}}}}"#,
        incompressible(6000)
    );
    // 54001: nesting deeper than jsonb's stack allows, in a field the parsers skip.
    let deep = format!(
        r#"{{"data":{{"id":"1800000000000000003","text":"deep","skipped":{}{}}}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    produce_records(
        &ctx.topic,
        &[
            tweet(1800000000000000001, "good before"),
            RawRecord::keyed("1800000000000000002", long_name),
            RawRecord::keyed("1800000000000000003", deep),
            tweet(1800000000000000004, "good after"),
        ],
    )
    .await
    .expect("produce");

    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(s.outcome(), "drained");
    assert_eq!(stored_ids(&ctx).await, [1800000000000000001, 1800000000000000004]);
    let dead = consumer_dead_letters(&ctx);
    let mut reasons: Vec<(String, String)> = dead
        .iter()
        .map(|m| {
            (m.headers["tweetpipe.errors.offset"].clone(), m.headers["tweetpipe.errors.message"].clone())
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(dead.iter().all(|m| m.headers["tweetpipe.errors.class"] == "db_rejected"));
    assert!(reasons[0].0 == "1" && reasons[0].1.starts_with("SQLSTATE 54000"), "{reasons:?}");
    assert!(reasons[1].0 == "2" && reasons[1].1.starts_with("SQLSTATE 54001"), "{reasons:?}");
    assert_eq!(s.dead_lettered("db_rejected"), 2);
    assert_committed_to_the_end(&ctx);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_cut_to_fit_and_spoofed_headers_renamed() {
    let ctx = TestContext::new("dlq_fit").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    // A dead-letter topic that refuses anything over 300 kB.
    create_topic(&format!("{}.dlq", ctx.topic), 1, &[("max.message.bytes", "300000")]).await.expect("dlq");
    let mut spoofed = RawRecord::keyed("1800000000000000021", "{not json");
    spoofed.headers = vec![
        ("tweetpipe.errors.class".into(), b"fake".to_vec()),
        ("tweetpipe.errors.stage".into(), b"producer".to_vec()),
    ];
    produce_records(
        &ctx.topic,
        &[
            RawRecord::keyed("1800000000000000020", vec![b'x'; 600_000]),
            spoofed,
            tweet(1800000000000000022, "good"),
        ],
    )
    .await
    .expect("produce");
    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(s.count("dead_lettered"), 2);
    assert_eq!(s.count("dead_letters_lost"), 0);
    let dead = read_topic(&format!("{}.dlq", ctx.topic)).expect("dlq");
    assert_eq!(dead.len(), 2);
    let big = dead.iter().find(|m| m.offset == 0).expect("the big one");
    assert_eq!(big.value.len(), 64 * 1024, "cut to the documented limit");
    assert_eq!(big.headers["tweetpipe.errors.original.size"], "600000");
    let spoof = dead.iter().find(|m| m.offset == 1).expect("the spoofed one");
    assert_eq!(spoof.headers["tweetpipe.errors.class"], "invalid_json");
    assert_eq!(spoof.headers["tweetpipe.errors.stage"], "consumer");
    assert_eq!(spoof.headers["tweetpipe.errors.original.class"], "fake");
    assert_eq!(spoof.headers["tweetpipe.errors.original.stage"], "producer");
    assert_eq!(stored_ids(&ctx).await, [1800000000000000022]);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_the_broker_refuses_for_good_is_counted_lost_not_retried() {
    let ctx = TestContext::new("dlq_lost").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    create_topic(&format!("{}.dlq", ctx.topic), 1, &[("max.message.bytes", "2000")]).await.expect("dlq");
    produce_records(
        &ctx.topic,
        &[RawRecord::keyed("1800000000000000030", vec![b'{'; 100_000]), tweet(1800000000000000031, "good")],
    )
    .await
    .expect("produce");
    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!((s.count("dead_lettered"), s.count("dead_letters_lost")), (1, 1));
    assert_eq!(stored_ids(&ctx).await, [1800000000000000031]);
    assert_committed_to_the_end(&ctx);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_that_are_not_the_tweets_id_are_dead_lettered_and_counted() {
    let ctx = TestContext::new("keys").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let value = |id: u64| format!(r#"{{"data":{{"id":"{id}","text":"t"}}}}"#).into_bytes();
    produce_records(
        &ctx.topic,
        &[
            RawRecord::keyed("123", value(1800000000000000456)),
            RawRecord { value: Some(value(1800000000000000457)), ..RawRecord::default() },
            RawRecord::keyed("1800000000000000458", value(1800000000000000458)),
            // A deletion whose key is no tweet id.
            RawRecord { key: Some(b"not-an-id".to_vec()), ..RawRecord::default() },
        ],
    )
    .await
    .expect("produce");
    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(s.count("key_mismatches"), 2);
    assert_eq!(s.dead_lettered("invalid_tombstone"), 1);
    assert_eq!(stored_ids(&ctx).await, [1800000000000000458]);
    let mut classes: Vec<String> =
        consumer_dead_letters(&ctx).iter().map(|m| m.headers["tweetpipe.errors.class"].clone()).collect();
    classes.sort();
    assert_eq!(classes, ["invalid_tombstone", "key_mismatch", "key_mismatch"]);
    ctx.cleanup().await;
}

/// SIGTERM, then the exit within `--drain-timeout` plus a second (and a little for the process
/// itself to start and leave on a busy machine).
fn stops_promptly(consumer: Logged, drain_secs: u64) -> (std::process::Output, ConsumerSummary) {
    sigterm(&consumer.child);
    let log = consumer.log.clone();
    let waited = std::panic::catch_unwind(move || {
        wait_output(consumer.child, Duration::from_secs(drain_secs + 1 + 2))
    });
    let out = waited.unwrap_or_else(|_| {
        panic!("no exit in time; log:\n{}", std::fs::read_to_string(log).unwrap_or_default())
    });
    let summary = ConsumerSummary::of(&out);
    (out, summary)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_start_up_retries_against_an_unreachable_broker() {
    let ctx = TestContext::new("term_startup").await.expect("context");
    let mut cmd = ctx.consumer();
    cmd.env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1").args(["--exit-at-end", "--drain-timeout", "1"]);
    let consumer = Logged::spawn(cmd, "term_startup");
    wait_until(LIMIT, "start-up to wait for the broker", || async {
        consumer.log_text().contains("checking Kafka")
    })
    .await;
    let (out, summary) = stops_promptly(consumer, 1);
    assert_eq!(out.status.code(), Some(3), "stopped before the end of the topic: not a success");
    assert_eq!(summary.outcome(), "stopped");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_database_retries_and_exit_at_end_then_fails() {
    let ctx = TestContext::new("term_db").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    migrated(&ctx).await;
    produce_records(&ctx.topic, &[tweet(1800000000000000041, "a"), tweet(1800000000000000042, "b")])
        .await
        .expect("produce");
    let mut tx = ctx.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE tweets IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await.expect("lock");
    let mut cmd = ctx.consumer();
    cmd.args(["--exit-at-end", "--drain-timeout", "2", "--statement-timeout", "600"]);
    let consumer = Logged::spawn(cmd, "term_db");
    wait_until(LIMIT, "an upsert waiting on the lock", || upsert_waiting_on_lock(&ctx)).await;
    let (out, summary) = stops_promptly(consumer, 2);
    tx.rollback().await.expect("unlock");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!((summary.outcome(), summary.count("consumed")), ("stopped", 0));
    let committed: i64 =
        committed_and_ends(&ctx.topic, &ctx.group).expect("offsets").values().map(|(c, _)| (*c).max(0)).sum();
    assert_eq!(committed, 0, "nothing committed for the abandoned batch");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_dead_letter_retries() {
    let ctx = TestContext::new("term_dlq").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let mut cmd = ctx.consumer();
    cmd.args(["--drain-timeout", "1"]);
    produce_records(&ctx.topic, &[tweet(1800000000000000051, "good")]).await.expect("produce");
    let consumer = Logged::spawn(cmd, "term_dlq");
    wait_until(LIMIT, "the consumer to store the first tweet", || async { ctx.row_count().await == 1 }).await;
    // The dead-letter topic disappears (and the broker creates none): the send can only wait.
    tweetpipe_tests::delete_topic(&format!("{}.dlq", ctx.topic)).await.expect("delete dlq");
    produce_records(&ctx.topic, &[RawRecord::keyed("1800000000000000052", "{not json")])
        .await
        .expect("produce");
    wait_until(LIMIT, "the dead letter to be under way", || async {
        consumer.log_text().contains("dead-lettering record")
    })
    .await;
    let (out, summary) = stops_promptly(consumer, 1);
    assert!(out.status.success(), "a SIGTERM without --exit-at-end is a clean stop");
    assert_eq!(summary.outcome(), "stopped");
    let committed: i64 =
        committed_and_ends(&ctx.topic, &ctx.group).expect("offsets").values().map(|(c, _)| (*c).max(0)).sum();
    assert_eq!(committed, 1, "the record whose dead letter was not acknowledged is not committed");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_start_up_retries_against_an_unreachable_database() {
    let ctx = TestContext::new("term_db_startup").await.expect("context");
    let mut cmd = ctx.consumer();
    // Nothing listens there: connection refused, retried as an outage.
    cmd.env("DATABASE_URL", "postgres://tweetpipe:tweetpipe@127.0.0.1:1/tweetpipe").args([
        "--exit-at-end",
        "--drain-timeout",
        "1",
    ]);
    let consumer = Logged::spawn(cmd, "term_db_startup");
    wait_until(LIMIT, "start-up to wait for the database", || async {
        consumer.log_text().contains("127.0.0.1:1/tweetpipe: not possible yet")
    })
    .await;
    let (out, summary) = stops_promptly(consumer, 1);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(summary.outcome(), "stopped");
    ctx.cleanup().await;
}
