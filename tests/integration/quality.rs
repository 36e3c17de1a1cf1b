//! Data quality and compliance: content duplicates, filter rules, deletions, pseudonyms and
//! the tweet count, on constructed cases and on the real files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tweetpipe_tests::producer::Produced;
use tweetpipe_tests::{consumer_summary, corpus_dir, run, ConsumerSummary, TestContext};

const LIMIT: Duration = Duration::from_secs(180);

fn write_lines(ctx: &TestContext, name: &str, lines: &[Value]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}.jsonl", ctx.topic));
    let mut f = std::fs::File::create(&path).expect("file");
    for l in lines {
        writeln!(f, "{l}").expect("write");
    }
    path
}

fn produce(ctx: &TestContext, files: &[PathBuf]) -> Produced {
    let mut p = ctx.producer();
    // One partition: content links follow the order tweets arrive in, which Kafka keeps only
    // within a partition (README, "Data quality and compliance").
    p.args(["--partitions", "1"]);
    for f in files {
        p.arg("--source").arg(format!("file:{}", f.display()));
    }
    tweetpipe_tests::producer::produce(&mut p, LIMIT)
}

fn consume(ctx: &TestContext, extra: &[&str]) -> ConsumerSummary {
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end").args(extra), LIMIT))
}

fn v2(id: u64, text: &str, author: &str) -> Value {
    json!({"data": {"id": id.to_string(), "text": text, "author_id": "5"},
           "includes": {"users": [{"id": "5", "username": author, "location": "Lisbon"}]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn content_duplicates_are_linked_to_the_first_tweet() {
    let ctx = TestContext::new("content").await.expect("context");
    let file = write_lines(
        &ctx,
        "content",
        &[
            v2(1_700_000_000_000_000_010, "Big news about the tour https://t.co/abc", "a"),
            v2(1_700_000_000_000_000_020, "RT @a: Big news about the tour", "b"),
            v2(1_700_000_000_000_000_030, "big   NEWS about the tour @friend", "c"),
            v2(1_700_000_000_000_000_040, "Big news about the tour!", "d"),
        ],
    );
    produce(&ctx, &[file]);
    // The first two in one batch, the rest in the next: links work within and across batches.
    let s = consume(&ctx, &["--dedup", "content", "--batch-size", "2"]);
    assert_eq!(s.count("content_duplicates"), 2);
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, duplicate_of FROM tweets ORDER BY id")
        .fetch_all(&ctx.pool)
        .await
        .expect("rows");
    assert_eq!(
        rows,
        [
            (1_700_000_000_000_000_010, None),
            (1_700_000_000_000_000_020, Some(1_700_000_000_000_000_010)),
            (1_700_000_000_000_000_030, Some(1_700_000_000_000_000_010)),
            (1_700_000_000_000_000_040, None),
        ],
        "stored, not discarded, and linked to the first; punctuation is content"
    );

    if let Some(dir) = corpus_dir() {
        // 15 retweets with one identical text (SOURCES.md): 14 link to the earliest.
        let real = TestContext::new("content_real").await.expect("context");
        produce(&real, &[dir.join("v1.1/tweepy-cassettes/statuses_retweets_266367358078169089.json")]);
        let s = consume(&real, &["--dedup", "content"]);
        assert_eq!(s.count("content_duplicates"), 14);
        let (rows, linked, first): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*), count(duplicate_of), count(*) FILTER (WHERE duplicate_of = (SELECT min(id) FROM tweets))
             FROM tweets",
        )
        .fetch_one(&real.pool)
        .await
        .expect("q");
        assert_eq!((rows, linked, first), (15, 14, 14));
        real.cleanup().await;
    }
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_rules_drop_or_flag_and_count_per_rule() {
    let ctx = TestContext::new("filters").await.expect("context");
    let file = write_lines(
        &ctx,
        "filters",
        &[
            v2(1_700_000_000_000_001_001, "new MUSIC friday", "a"),
            v2(1_700_000_000_000_001_002, "dance practice #KPOP", "a"),
            v2(1_700_000_000_000_001_003, "kpop without the hash", "a"),
            v2(1_700_000_000_000_001_004, "a musical evening", "a"),
            v2(1_700_000_000_000_001_005, "Spoiler: the END", "a"),
        ],
    );
    produce(&ctx, &[file]);
    let rules = std::env::temp_dir().join(format!("{}.rules", ctx.topic));
    std::fs::write(&rules, "# the rules of this test\n#kpop\nspoiler\n").expect("rules");
    let flagged = consume(&ctx, &["--filter-mode", "flag", "--filter-file", rules.to_str().expect("path")]);
    assert_eq!(flagged.count("flagged"), 3);
    assert_eq!(flagged.0["by_rule"]["music"], 1);
    assert_eq!(flagged.0["by_rule"]["#kpop"], 1);
    assert_eq!(flagged.0["by_rule"]["spoiler"], 1);
    let marks: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT id, matched_rule FROM tweets ORDER BY id")
        .fetch_all(&ctx.pool)
        .await
        .expect("q");
    let marks: Vec<Option<&str>> = marks.iter().map(|(_, m)| m.as_deref()).collect();
    assert_eq!(marks, [Some("music"), Some("#kpop"), None, None, Some("spoiler")]);

    // The same topic in drop mode, into another database.
    let dropping = TestContext::new("filters_drop").await.expect("context");
    let mut c = ctx.consumer();
    c.env("TWEETPIPE_GROUP", &dropping.group).env("DATABASE_URL", &dropping.database_url).args([
        "--exit-at-end",
        "--filter-term",
        "music,#kpop,spoiler",
    ]);
    let dropped = consumer_summary(&run(&mut c, LIMIT));
    assert_eq!(dropped.count("filtered"), 3);
    assert_eq!(dropping.row_count().await, 2);
    let _ = std::fs::remove_file(rules);
    dropping.cleanup().await;
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deletions_remove_rows_for_good_and_the_count_keeps_track() {
    let ctx = TestContext::new("deletes").await.expect("context");
    let keep = v2(1_700_000_000_000_002_001, "stays", "a");
    let gone = v2(1_700_000_000_000_002_002, "will be deleted", "a");
    let first = write_lines(
        &ctx,
        "first",
        &[keep.clone(), gone.clone(), v2(1_700_000_000_000_002_003, "#music", "a")],
    );
    produce(&ctx, &[first]);
    consume(&ctx, &[]);
    assert_eq!(ctx.row_count().await, 2);

    // X deletes it (a v1.1 delete notice); then an old copy is replayed.
    let notice = json!({"delete": {"status": {"id": 1_700_000_000_000_002_002u64, "id_str": "1700000000000002002", "user_id": 5}}});
    let second = write_lines(&ctx, "second", &[notice, gone]);
    let produced = produce(&ctx, &[second]);
    assert_eq!(produced.count("deletes"), 1);
    let tombstones = tweetpipe_tests::read_topic(&ctx.topic).expect("read");
    assert!(tombstones.iter().any(|m| m.value.is_empty() && m.key.as_deref() == Some("1700000000000002002")));
    let s = consume(&ctx, &[]);
    assert_eq!(s.count("deleted"), 1);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tweets").fetch_all(&ctx.pool).await.expect("q");
    assert_eq!(ids, [1_700_000_000_000_002_001], "deleted, and the replayed copy did not bring it back");

    let (total, text) = tweetpipe_tests::stats_total(&ctx.database_url, "hour");
    // seen, unique, duplicates, content, filtered, flagged, deleted, dead
    assert_eq!(total, [5, 1, 1, 0, 1, 0, 1, 0], "{text}");
    let view: i64 = sqlx::query_scalar("SELECT sum(seen)::int8 FROM tweet_counts_daily")
        .fetch_one(&ctx.pool)
        .await
        .expect("view");
    assert_eq!(view, 5);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pseudonyms_leave_no_cleartext_in_the_row() {
    let Some(dir) = corpus_dir() else {
        println!("TWEETPIPE_CORPUS is not set: nothing to pseudonymise");
        return;
    };
    let ctx = TestContext::new("pseudo").await.expect("context");
    let files = [dir.join("v1.1/tweepy-cassettes/home_timeline.json"), dir.join("v2/twarc-csv/brexit.jsonl")];
    // An independent reading of the names and places in the files.
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("file");
        for doc in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(v) = serde_json::from_str::<Value>(doc) else { continue };
            collect_user_fields(&v, &mut secrets);
        }
    }
    secrets.retain(|s| s.len() >= 4);
    assert!(secrets.len() > 20);
    produce(&ctx, &files);
    let mut c = ctx.consumer();
    c.env("TWEETPIPE_PSEUDONYM_KEY", "a test key that is long enough")
        .args(["--exit-at-end", "--pseudonymize"]);
    consumer_summary(&run(&mut c, LIMIT));

    let rows: Vec<StoredUser> = sqlx::query_as("SELECT author_id, username, location, raw::text FROM tweets")
        .fetch_all(&ctx.pool)
        .await
        .expect("q");
    assert!(rows.len() > 100);
    for (_, username, location, raw) in &rows {
        for field in [username.as_deref(), location.as_deref()].into_iter().flatten() {
            assert!(field.starts_with("p_"), "{field}");
        }
        // Every user field left in the raw JSON is a pseudonym, and no original value remains
        // in a user field or a column. (A name in the tweet's own text is content, not profile.)
        let mut stored_fields = BTreeSet::new();
        collect_user_fields(&serde_json::from_str(raw).expect("raw json"), &mut stored_fields);
        let clear: Vec<&String> =
            stored_fields.iter().filter(|f| !f.starts_with("p_") && !f.is_empty()).collect();
        assert!(clear.is_empty(), "cleartext user fields in the raw JSON: {clear:?}");
        let leaks: Vec<&String> = secrets
            .iter()
            .filter(|s| {
                stored_fields.contains(*s)
                    || username.as_deref() == Some(s.as_str())
                    || location.as_deref() == Some(s.as_str())
            })
            .collect();
        assert!(leaks.is_empty(), "cleartext left in a row: {leaks:?}");
    }
    // One author, one pseudonym.
    let mut by_author: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (author, username, _, _) in rows {
        if let (Some(a), Some(u)) = (author, username) {
            by_author.entry(a).or_default().insert(u);
        }
    }
    assert!(by_author.values().all(|names| names.len() == 1));
    assert!(by_author.len() > 10);
    ctx.cleanup().await;
}

/// author_id, username, location, raw JSON.
type StoredUser = (Option<i64>, Option<String>, Option<String>, String);

fn collect_user_fields(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            let is_user = map.contains_key("username") || map.contains_key("screen_name");
            for (k, child) in map {
                if is_user && ["username", "screen_name", "name", "location"].contains(&k.as_str()) {
                    if let Some(s) = child.as_str() {
                        out.insert(s.to_owned());
                    }
                } else {
                    collect_user_fields(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_user_fields(i, out)),
        _ => {}
    }
}
