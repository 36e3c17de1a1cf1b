//! Deletions serialise with upserts (#25): a live group applies 20 000 deletions while a backfill
//! group (`--batch-size 50`) stores the same 20 000 ids from another topic, both at once, in
//! either order of start. No deleted tweet stays, and replaying every topic afterwards changes
//! nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use tweetpipe_tests::{consumer_summary, create_topic, produce_records, wait_output, RawRecord, TestContext};

const LIMIT: Duration = Duration::from_secs(300);
const BASE: u64 = 1_800_000_000_000_100_000;
const N: u64 = 20_000;

fn reader(ctx: &TestContext, topic: &str, group: &str, extra: &[&str]) -> Command {
    let mut cmd = ctx.consumer();
    cmd.env("TWEETPIPE_TOPIC", topic).env("TWEETPIPE_GROUP", group).env("RUST_LOG", "warn");
    cmd.arg("--exit-at-end").args(extra).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

async fn count(ctx: &TestContext, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&ctx.pool).await.expect(sql)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_tweet_never_stays_whichever_group_commits_first() {
    for live_first in [true, false] {
        let ctx = TestContext::new("delete_race").await.expect("context");
        let (deletions, backfill) = (format!("{}_live", ctx.topic), format!("{}_old", ctx.topic));
        create_topic(&deletions, 3, &[]).await.expect("topic");
        create_topic(&backfill, 3, &[]).await.expect("topic");
        let tombstones: Vec<RawRecord> = (BASE..BASE + N)
            .map(|id| RawRecord { key: Some(id.to_string().into_bytes()), ..RawRecord::default() })
            .collect();
        let tweets: Vec<RawRecord> = (BASE..BASE + N)
            .map(|id| {
                RawRecord::keyed(&id.to_string(), format!(r#"{{"data":{{"id":"{id}","text":"old {id}"}}}}"#))
            })
            .collect();
        produce_records(&deletions, &tombstones).await.expect("deletions");
        produce_records(&backfill, &tweets).await.expect("tweets");
        tweetpipe_consumer::db::migrate(&ctx.pool).await.expect("migrate");

        let live = reader(&ctx, &deletions, &format!("{}_live", ctx.group), &[]);
        let old = reader(&ctx, &backfill, &format!("{}_old", ctx.group), &["--batch-size", "50"]);
        let (mut first, mut second) = if live_first { (live, old) } else { (old, live) };
        let a = first.spawn().expect("spawn");
        let b = second.spawn().expect("spawn");
        consumer_summary(&wait_output(a, LIMIT));
        consumer_summary(&wait_output(b, LIMIT));

        let survivors = "SELECT count(*) FROM tweets t JOIN deleted_tweets d USING (id)";
        assert_eq!(count(&ctx, survivors).await, 0, "deleted tweets stayed (live group first: {live_first})");
        assert_eq!(count(&ctx, "SELECT count(*) FROM deleted_tweets").await, N as i64);
        assert_eq!(count(&ctx, "SELECT count(*) FROM tweets").await, 0);

        // Every topic replayed by new groups: nothing comes back, nothing changes.
        for (topic, group) in [(&backfill, "replay_old"), (&deletions, "replay_live")] {
            consumer_summary(&wait_output(
                reader(&ctx, topic, &format!("{}_{group}", ctx.group), &[]).spawn().expect("spawn"),
                LIMIT,
            ));
        }
        assert_eq!(
            count(&ctx, "SELECT count(*) FROM tweets").await,
            0,
            "a replay brought a deleted tweet back"
        );
        ctx.cleanup().await;
    }
}
