//! Replaying a topic: dry runs change nothing, a live group is refused, an executed replay
//! re-reads everything as duplicates and leaves the table as it was; backfill groups start
//! where `--from` says.

use std::process::Command;
use std::time::Duration;

use tweetpipe_producer::source::synthetic::SyntheticSettings;
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::producer::produce;
use tweetpipe_tests::{
    bin, committed_and_ends, consumer_summary, owned_partitions, run, wait_until, TestContext,
};

const LIMIT: Duration = Duration::from_secs(180);

fn replay(ctx: &TestContext, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(bin("tweetpipe-consumer"));
    cmd.arg("replay")
        .args(["--topic", &ctx.topic, "--group", &ctx.group])
        .args(args)
        .env("KAFKA_BOOTSTRAP_SERVERS", tweetpipe_tests::brokers())
        .env("DATABASE_URL", &ctx.database_url);
    run(&mut cmd, LIMIT)
}

async fn checksum(ctx: &TestContext) -> String {
    sqlx::query_scalar(
        "SELECT md5(string_agg(id::text || text || retweet_count || updated_at::text, ',' ORDER BY id)) FROM tweets",
    )
    .fetch_one(&ctx.pool)
    .await
    .expect("checksum")
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_is_safe_by_default_and_leaves_the_table_unchanged() {
    let ctx = TestContext::new("replay").await.expect("context");
    let early = SyntheticSettings::new(3000, 41);
    let late = SyntheticSettings::new(2000, 42);
    produce(ctx.producer().args(early.to_flags()), LIMIT);
    let after_early = committed_and_ends(&ctx.topic, &ctx.group).expect("ends");
    // Everything produced from here on carries a later timestamp.
    let cut = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    produce(ctx.producer().args(late.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    let before = checksum(&ctx).await;
    let committed = committed_and_ends(&ctx.topic, &ctx.group).expect("offsets");

    // A dry run prints the plan and changes nothing.
    let dry = replay(&ctx, &["--to", "earliest"]);
    assert!(dry.status.success());
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains("messages to re-read: 5000"), "{text}");
    assert!(text.contains("dry run"));
    assert_eq!(committed_and_ends(&ctx.topic, &ctx.group).expect("offsets"), committed);

    // A datetime resolves to the first offset at or after it: where the late batch begins.
    let by_time = replay(&ctx, &["--to-datetime", &cut]);
    let text = String::from_utf8_lossy(&by_time.stdout).into_owned();
    for (p, (_, end_of_early)) in &after_early {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&p.to_string()))
            .expect("partition row");
        // partition, database, kafka, target, …
        let target: i64 = row.split_whitespace().nth(3).and_then(|t| t.parse().ok()).expect("target");
        assert_eq!(target, *end_of_early, "partition {p}: {row}");
    }

    // With a member in the group, --execute is refused.
    let member = Logged::spawn(ctx.consumer(), "replay_member");
    wait_until(LIMIT, "the member to own partitions", || async {
        owned_partitions(&member.log_text()).is_some_and(|p| !p.is_empty())
    })
    .await;
    let refused = replay(&ctx, &["--to", "earliest", "--execute"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("active member"));
    sigterm(&member.child);
    let out = tweetpipe_tests::wait_output(member.child, LIMIT);
    assert!(out.status.success());

    let done = replay(&ctx, &["--to", "earliest", "--execute"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    for (p, (c, _)) in committed_and_ends(&ctx.topic, &ctx.group).expect("offsets") {
        assert_eq!(c, 0, "partition {p} rewound");
    }
    // Members resume from the database's offsets: those moved too.
    let resumes: Vec<(i32, i64)> =
        sqlx::query_as("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1")
            .bind(&ctx.group)
            .fetch_all(&ctx.pool)
            .await
            .expect("q");
    assert!(!resumes.is_empty() && resumes.iter().all(|(_, o)| *o == 0), "database rewound: {resumes:?}");
    let again = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(again.count("consumed"), 5000);
    assert_eq!(again.count("upserted"), 0);
    assert_eq!(again.count("duplicates") + again.count("filtered"), 5000, "re-read tweets are duplicates");
    assert_eq!(checksum(&ctx).await, before, "a full replay leaves the table unchanged");

    // Backfill groups next to the live one: from the start, and from the cut.
    let full = TestContext::new("backfill_all").await.expect("context");
    let mut job = ctx.consumer();
    job.env("TWEETPIPE_GROUP", &full.group).env("DATABASE_URL", &full.database_url).args([
        "--from",
        "earliest",
        "--exit-at-end",
    ]);
    consumer_summary(&run(&mut job, LIMIT));
    assert_eq!(table(&full).await, table(&ctx).await);

    let recent = TestContext::new("backfill_cut").await.expect("context");
    let mut job = ctx.consumer();
    job.env("TWEETPIPE_GROUP", &recent.group).env("DATABASE_URL", &recent.database_url).args([
        "--from",
        &cut,
        "--exit-at-end",
    ]);
    consumer_summary(&run(&mut job, LIMIT));
    assert_eq!(table(&recent).await, expected_rows(&late), "only what came after --from");
    ctx.cleanup().await;
    full.cleanup().await;
    recent.cleanup().await;
}
