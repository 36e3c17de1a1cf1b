//! The consumer's two write paths — `UNNEST` array parameters and binary `COPY` through a
//! staging table — fed the same batches, leave identical tables and report identical outcomes:
//! re-deliveries, older and newer copies, unknown (NULL) metrics, hashtags, unicode, large raw
//! messages, content links and honoured deletions.

use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use serde_json::json;
use sqlx::PgPool;
use tweetpipe_consumer::db::row::{Outcome, Row};
use tweetpipe_consumer::db::{self, copy_upsert, unnest};
use tweetpipe_model::tweet::Tweet;
use tweetpipe_model::Format;
use tweetpipe_tests::faults::upsert_waiting_on_lock;
use tweetpipe_tests::{wait_until, TestContext};

/// A tweet with the given counts (None: unknown).
fn row(id: i64, retweets: Option<i64>, likes: Option<i64>, text: &str, offset: i64) -> Row {
    let raw = json!({"data": {"id": id.to_string(), "text": text}, "includes": {"users": []}}).to_string();
    Row::new(
        Tweet {
            id,
            format: Format::V2,
            author_id: Some(id * 10),
            username: Some(format!("user{id}")),
            created_at: Some(Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()),
            text: text.to_owned(),
            retweet_count: retweets,
            like_count: likes,
            reply_count: None,
            quote_count: Some(1),
            location: None,
            lang: Some("en".into()),
            hashtags: Vec::new(),
            is_retweet: false,
            retweeted_text: None,
            invalid_metrics: 0,
        },
        raw,
        (id % 3) as i32,
        offset,
        id,
        None,
    )
}

/// Writes `rows` through one path, in a transaction of its own.
async fn write(pool: &PgPool, rows: &[Row], link: bool, copy: bool) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outcome = if copy {
        copy_upsert::write(&mut tx, rows, link).await?
    } else {
        unnest::write(&mut tx, rows, link).await?
    };
    tx.commit().await?;
    Ok(outcome)
}

fn batches() -> Vec<(Vec<Row>, bool)> {
    let mut first = vec![
        row(1, Some(5), Some(10), "plain", 0),
        row(2, None, None, "nothing known", 1),
        row(3, Some(0), Some(0), "zero is known", 2),
    ];
    // Unicode everywhere, hashtags, an unset username and date, a flag rule.
    let mut unicode = row(4, Some(1), None, "ｍｕｓｉｃ? 🎶 «ünïcödé» 日本語 \\ \" \t", 3);
    unicode.tweet.hashtags =
        vec!["日本".into(), "emoji🎶".into(), "a,b".into(), "q\"uote".into(), "NULL".into()];
    unicode.tweet.username = None;
    unicode.tweet.created_at = None;
    unicode.tweet.location = Some("São Paulo".into());
    unicode.matched_rule = Some("rule-ü".into());
    first.push(unicode);
    // A raw message far over PostgreSQL's TOAST threshold.
    let mut large = row(5, Some(2), Some(2), "large", 4);
    large.raw = json!({"data": {"id": "5", "text": "large", "padding": "x".repeat(300_000)}}).to_string();
    first.push(large);
    // Before 2000 and a retweet.
    let mut old = row(6, Some(7), Some(7), "old", 5);
    old.tweet.created_at = Some(Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 58).unwrap());
    old.tweet.is_retweet = true;
    first.push(old);
    // A stored row X deleted (see `prepare`): never written.
    first.push(row(99, Some(1), Some(1), "deleted", 6));

    let second = vec![
        row(1, Some(5), Some(10), "plain", 10), // re-delivery: nothing changes
        row(3, Some(0), Some(0), "zero is known", 11), // re-delivery of zeros
        row(6, Some(3), Some(1), "old, older copy", 12), // an older copy: lower counts lose
        row(2, Some(4), Some(3), "now known", 13), // known beats unknown
        {
            // The username and date the stored copy lacked; unknown counts change nothing.
            let mut r = row(4, None, None, "ｍｕｓｉｃ? 🎶 later", 14);
            r.tweet.hashtags = vec!["後".into()];
            r
        },
        row(7, Some(1), None, "new in the second batch", 15),
        row(1000, Some(9), Some(9), "stored with NULL retweets before", 16),
    ];

    // --dedup content: 21 and 22 share 20's fingerprint (20 stored in this batch, 22 after 21).
    let mut third = Vec::new();
    for (id, offset) in [(20, 20), (21, 21), (22, 22)] {
        let mut r = row(id, Some(1), Some(1), "same text", offset);
        r.content_hash = 777;
        third.push(r);
    }
    let mut later = row(23, None, None, "same text, later", 23);
    later.content_hash = 777;
    vec![(first, false), (second, false), (third, true), (vec![later], true)]
}

/// Migrations, one deletion, and a row stored with an unknown retweet count.
async fn prepare(pool: &PgPool) {
    db::migrate(pool).await.expect("migrate");
    sqlx::query("INSERT INTO deleted_tweets (id) VALUES (99)").execute(pool).await.expect("deletion");
    sqlx::query(
        "INSERT INTO tweets (id, text, retweet_count, like_count, format, raw, kafka_partition, kafka_offset)
         VALUES (1000, 'stored with NULL retweets before', NULL, 9, 'v2', '{}', 0, 0)",
    )
    .execute(pool)
    .await
    .expect("a row with an unknown count");
}

/// The table as text, ordered by id; `touched` says whether an update happened after insert.
async fn table(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT (to_jsonb(t) - 'ingested_at' - 'updated_at'
                 || jsonb_build_object('touched', updated_at > ingested_at))::text
         FROM tweets t ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("table")
}

/// id, retweet_count, like_count, username, duplicate_of, updated after insert, raw's length.
type Fact = (i64, Option<i64>, Option<i64>, Option<String>, Option<i64>, bool, i32);

#[tokio::test(flavor = "multi_thread")]
async fn unnest_and_copy_leave_identical_tables() {
    let unnest = TestContext::new("paths_unnest").await.expect("context");
    let copy = TestContext::new("paths_copy").await.expect("context");
    prepare(&unnest.pool).await;
    prepare(&copy.pool).await;

    for (i, (rows, link)) in batches().into_iter().enumerate() {
        let a: Outcome = write(&unnest.pool, &rows, link, false).await.expect("unnest write");
        let b: Outcome = write(&copy.pool, &rows, link, true).await.expect("copy write");
        assert_eq!(a, b, "batch {i}: the two paths report different outcomes");
        // Each path used one of its pool's connections; the tables must agree after every batch.
        assert_eq!(table(&unnest.pool).await, table(&copy.pool).await, "after batch {i}");
    }
    // The same batches again: a replay changes nothing on either path.
    for (rows, link) in batches() {
        let a = write(&unnest.pool, &rows, link, false).await.expect("unnest replay");
        let b = write(&copy.pool, &rows, link, true).await.expect("copy replay");
        assert_eq!(a, b);
        assert_eq!((a.inserted, a.updated), (0, 0), "a replay wrote something");
    }
    let rows = table(&copy.pool).await;
    assert_eq!(rows, table(&unnest.pool).await);

    // And what the rows say, so that agreeing on a wrong table would fail too.
    let facts: Vec<Fact> = sqlx::query_as(
        "SELECT id, retweet_count, like_count, username, duplicate_of, updated_at > ingested_at,
                octet_length(raw::text)
         FROM tweets ORDER BY id",
    )
    .fetch_all(&copy.pool)
    .await
    .expect("facts");
    let by_id = |id: i64| facts.iter().find(|f| f.0 == id).unwrap_or_else(|| panic!("tweet {id} missing"));
    assert!(facts.iter().all(|f| f.0 != 99), "a deleted tweet came back");
    assert_eq!((by_id(1).1, by_id(1).2, by_id(1).5), (Some(5), Some(10), false), "a re-delivery updated 1");
    assert_eq!((by_id(3).1, by_id(3).2), (Some(0), Some(0)), "a known zero is kept");
    assert_eq!((by_id(6).1, by_id(6).2, by_id(6).5), (Some(7), Some(7), false), "an older copy won");
    assert_eq!((by_id(2).1, by_id(2).2), (Some(4), Some(3)), "known counts did not replace unknown");
    assert_eq!(by_id(4).3.as_deref(), Some("user4"), "the missing username was not filled in");
    assert_eq!(by_id(1000).1, Some(9), "a known retweet count did not replace NULL");
    assert_eq!(by_id(2).2, Some(3));
    assert!(by_id(5).6 > 300_000, "the large raw message was cut");
    assert_eq!(
        [by_id(20).4, by_id(21).4, by_id(22).4, by_id(23).4],
        [None, Some(20), Some(20), Some(20)],
        "content links"
    );
    let tags: Vec<String> = sqlx::query_scalar("SELECT unnest(hashtags) FROM tweets WHERE id = 4")
        .fetch_all(&copy.pool)
        .await
        .expect("tags");
    // The second copy of 4 ranks lower (its retweet count is unknown): it adds its username but
    // the winner's text and hashtags stay.
    assert_eq!(tags, ["日本", "emoji🎶", "a,b", "q\"uote", "NULL"]);
    let unknown: Option<i64> = sqlx::query_scalar("SELECT like_count FROM tweets WHERE id = 7")
        .fetch_one(&copy.pool)
        .await
        .expect("7");
    assert_eq!(unknown, None, "an unknown count was stored as a number");

    unnest.cleanup().await;
    copy.cleanup().await;
}

/// The `COPY` of a batch's new tweets races another writer storing one of them (another group
/// member during a rebalance, a replay in another group): the unique index refuses the `COPY`,
/// and the batch is written the staged way instead, the newer copy winning, nothing refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_tweet_stored_meanwhile_by_another_writer_takes_the_upsert() {
    let ctx = TestContext::new("paths_race").await.expect("context");
    db::migrate(&ctx.pool).await.expect("migrate");
    let other_pool =
        PgPool::connect_with((*ctx.pool.connect_options()).clone()).await.expect("another writer");
    // The other writer has stored an older copy of tweet 7 but not committed yet: the batch's
    // look-up of stored ids does not see it.
    let mut other = other_pool.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO tweets (id, text, retweet_count, like_count, format, raw, kafka_partition, kafka_offset)
         VALUES (7, 'older', 1, 1, 'v2', '{}', 0, 0)",
    )
    .execute(&mut *other)
    .await
    .expect("the other writer's row");
    let rows = vec![row(7, Some(5), Some(10), "newer", 1), row(8, Some(1), Some(1), "new", 2)];
    let pool = ctx.pool.clone();
    let write = tokio::spawn(async move { write(&pool, &rows, false, true).await });
    wait_until(Duration::from_secs(60), "the batch's COPY waiting for the other writer", || {
        upsert_waiting_on_lock(&ctx)
    })
    .await;
    other.commit().await.expect("the other writer commits");

    let outcome = write.await.expect("joined").expect("written, not refused");
    assert_eq!((outcome.inserted, outcome.updated), (1, 1), "8 new, 7 updated by the newer copy");
    let facts: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("SELECT id, retweet_count, text FROM tweets ORDER BY id")
            .fetch_all(&ctx.pool)
            .await
            .expect("facts");
    assert_eq!(facts, [(7, Some(5), "newer".to_owned()), (8, Some(1), "new".to_owned())]);
    other_pool.close().await;
    ctx.cleanup().await;
}
