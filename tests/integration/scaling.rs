//! Several consumers in one group share a topic's partitions.

use std::time::Duration;

use tweetpipe_producer::source::synthetic::SyntheticSettings;
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::producer::{produce, spawn, summary_of, SummaryFile};
use tweetpipe_tests::{committed_and_ends, consumer_summary, wait_output, TestContext};

#[tokio::test(flavor = "multi_thread")]
async fn three_consumers_on_six_partitions_equal_one_consumer() {
    let ctx = TestContext::new("three").await.expect("context");
    let args = SyntheticSettings::new(6000, 3).duplicate_share(0.15);
    produce(ctx.producer().args(args.to_flags()).args(["--partitions", "6"]), Duration::from_secs(120));

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
        .map(|c| consumer_summary(&wait_output(c, Duration::from_secs(240))).count("consumed"))
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
    consumer_summary(&tweetpipe_tests::run(&mut one, Duration::from_secs(240)));

    let three = table(&ctx).await;
    assert_eq!(three, table(&single).await, "three consumers store what one stores");
    assert_eq!(three, expected_rows(&args));
    ctx.cleanup().await;
    single.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consumers_scale_one_three_six_a_seventh_idles_and_added_partitions_are_picked_up() {
    scale_one_three_six(&[]).await;
}

/// The same under Kafka 4's consumer-group protocol (KIP-848), where the broker assigns.
#[tokio::test(flavor = "multi_thread")]
async fn consumers_scale_the_same_under_the_kip848_group_protocol() {
    scale_one_three_six(&["-X", "group.protocol=consumer"]).await;
}

/// 1 → 3 → 6 members each owning partitions, a seventh idling, partitions added while tweets
/// flow: the table equals one consumer's. `protocol` goes to every consumer.
async fn scale_one_three_six(protocol: &[&str]) {
    use tweetpipe_tests::faults::{sigterm, Logged};
    use tweetpipe_tests::{owned_partitions, wait_until};
    const LIMIT: Duration = Duration::from_secs(240);

    let ctx =
        TestContext::new(if protocol.is_empty() { "scale" } else { "scale848" }).await.expect("context");
    let consumer = || {
        let mut cmd = ctx.consumer();
        cmd.args(protocol);
        cmd
    };
    let args = SyntheticSettings { rate: 2000.0, ..SyntheticSettings::new(40_000, 61) };
    let mut create = ctx.producer();
    create.args(["topic", "create", "--partitions", "6"]);
    let created = tweetpipe_tests::run(&mut create, LIMIT);
    assert!(created.status.success());
    let summary_file = SummaryFile::default();
    let producer = spawn(ctx.producer().args(args.to_flags()), &summary_file);

    let mut members: Vec<Logged> = Vec::new();
    for (target, name) in [(1, "one"), (3, "three"), (6, "six")] {
        while members.len() < target {
            members.push(Logged::spawn(consumer(), &format!("{}_{name}_{}", ctx.group, members.len())));
        }
        // Every member owns partitions, and together they own all six exactly once.
        wait_until(LIMIT, &format!("{target} members sharing the partitions"), || async {
            let owned: Vec<Vec<i32>> =
                members.iter().filter_map(|m| owned_partitions(&m.log_text())).collect();
            let mut all: Vec<i32> = owned.iter().flatten().copied().collect();
            all.sort();
            owned.len() == target && owned.iter().all(|o| !o.is_empty()) && all == [0, 1, 2, 3, 4, 5]
        })
        .await;
    }
    // A seventh member has nothing to do, and does no harm.
    let seventh = Logged::spawn(consumer(), &format!("{}_seventh", ctx.group));
    wait_until(LIMIT, "the seventh member to join", || async {
        seventh.log_text().contains("joined consumer group")
    })
    .await;

    // Partitions added while tweets flow: new keys land there, and a member consumes them.
    let mut grow = ctx.producer();
    grow.args(["topic", "add-partitions", "--to", "8"]);
    assert!(tweetpipe_tests::run(&mut grow, LIMIT).status.success());
    // A producer started now sees eight partitions whatever the first one has left to send (it
    // may be done already when members joined slowly), so new keys surely land in 6 and 7.
    let late = SyntheticSettings::new(4000, 62);
    assert_eq!(produce(ctx.producer().args(late.to_flags()), LIMIT).count("failed"), 0);
    wait_until(LIMIT, "tweets in the new partitions, consumed", || async {
        let o = committed_and_ends(&ctx.topic, &ctx.group).unwrap_or_default();
        [6, 7].iter().all(|p| o.get(p).is_some_and(|(committed, end)| *end > 0 && *committed > 0))
    })
    .await;
    summary_of(&wait_output(producer, LIMIT), &summary_file);

    let mut want = expected_rows(&args);
    want.extend(expected_rows(&late));
    wait_until(LIMIT, "every row stored", || async { ctx.row_count().await == want.len() as i64 }).await;
    assert!(
        owned_partitions(&seventh.log_text()).unwrap_or_default().len() <= 2,
        "with 8 partitions and 7 members nobody owns more than 2"
    );
    members.push(seventh);
    for m in &members {
        sigterm(&m.child);
    }
    for m in members {
        let out = wait_output(m.child, LIMIT);
        assert!(out.status.success(), "{}", std::fs::read_to_string(&m.log).unwrap_or_default());
    }
    consumer_summary(&tweetpipe_tests::run(consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(table(&ctx).await, want, "the table equals a single consumer's");
    let offsets = committed_and_ends(&ctx.topic, &ctx.group).expect("offsets");
    assert_eq!(offsets.len(), 8);
    for (p, (committed, end)) in offsets {
        assert_eq!(committed, end, "partition {p} consumed to its end");
    }
    ctx.cleanup().await;
}
