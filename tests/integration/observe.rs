//! `/healthz`, `/readyz` and `/metrics` of a running consumer, and the producer's counters.

use std::time::Duration;

use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::{http_get, wait_output, wait_until, TestContext};

const LIMIT: Duration = Duration::from_secs(120);

fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_consumer_is_healthy_ready_and_its_counters_move() {
    let ctx = TestContext::new("observe").await.expect("context");
    tweetpipe_tests::producer::produce(
        ctx.producer().args(["--source", "synthetic", "--count", "2000", "--seed", "71"]),
        LIMIT,
    );
    let mut cmd = ctx.consumer();
    cmd.args(["--http-addr", "127.0.0.1:0"]);
    let consumer = Logged::spawn(cmd, "observe");
    let addr = consumer.served_addr(LIMIT).await;
    assert_eq!(http_get(&addr, "/healthz").expect("healthz").0, 200);
    wait_until(LIMIT, "ready (partitions assigned)", || async {
        http_get(&addr, "/readyz").is_ok_and(|r| r.0 == 200)
    })
    .await;
    wait_until(LIMIT, "the consumed counter to reach 2000", || async {
        http_get(&addr, "/metrics").is_ok_and(|(_, body)| metric(&body, "tweetpipe_consumed_total") >= 2000.0)
    })
    .await;
    let (_, body) = http_get(&addr, "/metrics").expect("metrics");
    assert!(metric(&body, "tweetpipe_inserted_total") > 0.0);
    assert!(metric(&body, "tweetpipe_filter_dropped_total") > 0.0);
    assert!(body.contains("tweetpipe_batch_seconds_bucket"));
    // Every stored message's age (produce → committed) is observed.
    wait_until(LIMIT, "a record age for each of the 2000 messages", || async {
        http_get(&addr, "/metrics")
            .is_ok_and(|(_, body)| metric(&body, "tweetpipe_record_age_seconds_count") >= 2000.0)
    })
    .await;

    // More tweets: the counters move.
    tweetpipe_tests::producer::produce(
        ctx.producer().args(["--source", "synthetic", "--count", "500", "--seed", "72"]),
        LIMIT,
    );
    wait_until(LIMIT, "the consumed counter to move", || async {
        http_get(&addr, "/metrics").is_ok_and(|(_, body)| metric(&body, "tweetpipe_consumed_total") >= 2500.0)
    })
    .await;
    wait_until(LIMIT, "the lag gauge", || async {
        http_get(&addr, "/metrics").is_ok_and(|(_, body)| body.contains("tweetpipe_consumer_lag{"))
    })
    .await;
    sigterm(&consumer.child);
    assert!(wait_output(consumer.child, LIMIT).status.success());
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_producer_counts_what_it_delivered() {
    let ctx = TestContext::new("observe_producer").await.expect("context");
    let mut cmd = ctx.producer();
    // The bound address is logged at info.
    cmd.env("RUST_LOG", "info");
    // Slow enough to still be running when the counter is read.
    cmd.args(["--source", "synthetic", "--count", "100000", "--rate", "500", "--http-addr", "127.0.0.1:0"]);
    let producer = Logged::spawn(cmd, "observe_producer");
    let addr = producer.served_addr(LIMIT).await;
    wait_until(LIMIT, "the produced counter to reach 200", || async {
        http_get(&addr, "/metrics").is_ok_and(|(_, body)| metric(&body, "tweetpipe_produced_total") >= 200.0)
    })
    .await;
    sigterm(&producer.child);
    let _ = wait_output(producer.child, LIMIT);
    ctx.cleanup().await;
}
