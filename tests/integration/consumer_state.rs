//! The consumer's state on `/metrics` while the database refuses to write: paused, retrying,
//! and back to normal once it writes again.

use std::time::Duration;

use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::{http_get, summary, wait_output, wait_until, TestContext};

const LIMIT: Duration = Duration::from_secs(120);

/// The value of the series `line_start` (name and labels as rendered), if present.
fn value(body: &str, line_start: &str) -> Option<f64> {
    body.lines().find(|l| l.starts_with(line_start))?.rsplit(' ').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_blocked_on_the_database_shows_paused_and_retrying_then_recovers() {
    let ctx = TestContext::new("consumer_state").await.expect("context");
    // A one-second statement timeout turns a locked table into a transient error, retried.
    let mut cmd = ctx.consumer();
    cmd.args(["--http-addr", "127.0.0.1:0", "--statement-timeout", "1"]);
    let consumer = Logged::spawn(cmd, "consumer-state");
    let addr = consumer.served_addr(LIMIT).await;
    let metrics = |addr: &str| http_get(addr, "/metrics").map(|(_, body)| body).unwrap_or_default();
    // Started at zero, before anything happened.
    let body = metrics(&addr);
    assert_eq!(value(&body, "tweetpipe_consumer_paused "), Some(0.0), "{body}");
    assert_eq!(value(&body, "tweetpipe_db_retries_total{kind=\"transient\"} "), Some(0.0), "{body}");
    assert!(body.contains("# HELP tweetpipe_consumer_paused "), "{body}");

    // The migrations ran before /metrics was served, so the table exists: lock it.
    let mut lock = ctx.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE tweets IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.expect("lock");
    summary(&tweetpipe_tests::run(
        ctx.producer().args(["--source", "synthetic", "--count", "200", "--seed", "91"]),
        LIMIT,
    ));
    wait_until(LIMIT, "the consumer paused, with database retries counted", || async {
        let body = metrics(&addr);
        value(&body, "tweetpipe_consumer_paused ") == Some(1.0)
            && value(&body, "tweetpipe_db_retries_total{kind=\"transient\"} ").is_some_and(|n| n >= 1.0)
    })
    .await;
    // (Not counted through the pool: a query on the locked table would wait too.)
    assert_eq!(
        value(&metrics(&addr), "tweetpipe_inserted_total "),
        Some(0.0),
        "nothing written while locked"
    );

    lock.rollback().await.expect("unlock");
    wait_until(LIMIT, "resumed, every message consumed, the commit latency observed", || async {
        let body = metrics(&addr);
        value(&body, "tweetpipe_consumer_paused ") == Some(0.0)
            && value(&body, "tweetpipe_consumed_total ").is_some_and(|n| n >= 200.0)
            && value(&body, "tweetpipe_db_commit_seconds_count ").is_some_and(|n| n >= 1.0)
    })
    .await;
    assert!(ctx.row_count().await > 0);
    sigterm(&consumer.child);
    assert!(wait_output(consumer.child, LIMIT).status.success());
    ctx.cleanup().await;
}
