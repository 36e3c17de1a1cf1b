//! Several consumers in one group share a topic's partitions.

use std::time::Duration;

use tweetpipe_producer::cli::SyntheticArgs;
use tweetpipe_tests::{committed_and_ends, count, summary, wait_output, TestContext};

use tweetpipe_tests::expect::{expected_rows, synthetic_flags, table};

#[tokio::test(flavor = "multi_thread")]
async fn three_consumers_on_six_partitions_equal_one_consumer() {
    let ctx = TestContext::new("three").await.expect("context");
    let args = SyntheticArgs { count: 6000, rate: 0.0, duplicate_share: 0.15, music_share: 0.05, seed: 3 };
    summary(&tweetpipe_tests::run(
        ctx.producer().args(synthetic_flags(&args)).args(["--partitions", "6"]),
        Duration::from_secs(120),
    ));

    let children: Vec<_> = (0..3)
        .map(|_| {
            ctx.consumer()
                .args(["--exit-at-end", "--batch-size", "300"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let consumed: u64 = children
        .into_iter()
        .map(|c| count(&summary(&wait_output(c, Duration::from_secs(240))), "consumed"))
        .sum();
    assert!(consumed >= 6000, "every message consumed at least once ({consumed})");

    let offsets = committed_and_ends(&ctx.topic, &ctx.group).expect("offsets");
    assert_eq!(offsets.len(), 6);
    for (p, (committed, end)) in &offsets {
        assert_eq!(committed, end, "partition {p} consumed to its end");
    }

    // The same topic through one consumer, into a database of its own.
    let single = TestContext::new("one").await.expect("context");
    let mut one = ctx.consumer();
    one.env("TWEETPIPE_GROUP", &single.group).env("DATABASE_URL", &single.database_url).arg("--exit-at-end");
    summary(&tweetpipe_tests::run(&mut one, Duration::from_secs(240)));

    let three = table(&ctx).await;
    assert_eq!(three, table(&single).await, "three consumers store what one stores");
    assert_eq!(three, expected_rows(&args));
    ctx.cleanup().await;
    single.cleanup().await;
}
