//! Bad input reaches the dead-letter topic with its reason; the good input around it is stored.

use std::io::Write as _;
use std::time::Duration;

use tweetpipe_tests::{consumer_summary, produce_raw, read_topic, run, TestContext};

#[tokio::test(flavor = "multi_thread")]
async fn bad_lines_are_dead_lettered_and_good_lines_around_them_stored() {
    let ctx = TestContext::new("dlq").await.expect("context");
    let lines: Vec<&[u8]> = vec![
        br#"{"data":{"id":"1700000000000000001","text":"good one","author_id":"9"},"includes":{"users":[{"id":"9","username":"nine"}]}}"#,
        br#"{"data":{"id":"1700000000000000002","te"#,
        br#"{"created_at":"Thu Nov 08 02:31:41 +0000 2012","id":1700000000000000003,"id_str":"1700000000000000003","text":"good v1","user":{"screen_name":"v1user","location":"Oslo"},"retweet_count":4}"#,
        b"\xff\xfe not utf-8 \xc3\x28",
        br#"{"data":{"text":"no id at all"}}"#,
        br#"{"id":99999999999999999999,"text":"overflowing id"}"#,
        br#"{"hello":"not a tweet"}"#,
        b"",
        br#"{"id":"1170025343920402432","action":"delete","created_at":"2019-09-06T17:25:54.667Z","reason":"protected"}"#,
        br#"{"data":{"id":"1700000000000000004","text":"good again"}}"#,
        br#"{"delete":{"status":{"id":-5,"id_str":"-5","user_id":1}}}"#,
    ];
    let dir = std::env::temp_dir().join(format!("{}.jsonl", ctx.topic));
    let mut file = std::fs::File::create(&dir).expect("temp file");
    for l in &lines {
        file.write_all(l).expect("write");
        file.write_all(b"\r\n").expect("write");
    }
    drop(file);

    let produced = tweetpipe_tests::producer::produce(
        ctx.producer().arg("--source").arg(format!("file:{}", dir.display())),
        Duration::from_secs(120),
    );
    assert_eq!(produced.count("tweets"), 3);
    assert_eq!(produced.count("dead_lettered"), 6);
    assert_eq!(produced.dead_letters("invalid_delete"), 1, "a deletion without a usable id");
    assert_eq!(produced.count("control"), 1, "a keep-alive");
    assert_eq!(produced.count("deletes"), 1, "the compliance delete event, as a tombstone");

    let dlq = read_topic(&format!("{}.dlq", ctx.topic)).expect("read dlq");
    let mut found: Vec<(String, String, String)> = dlq
        .iter()
        .map(|m| {
            (
                m.headers["tweetpipe.errors.line"].clone(),
                m.headers["tweetpipe.errors.class"].clone(),
                m.headers["tweetpipe.errors.stage"].clone(),
            )
        })
        .collect();
    found.sort_by_key(|(line, _, _)| line.parse::<u32>().unwrap_or(0));
    let want: Vec<(String, String, String)> = [
        ("2", "invalid_json"),
        ("4", "invalid_utf8"),
        ("5", "missing_id"),
        ("6", "invalid_id"),
        ("7", "unknown_shape"),
        ("11", "invalid_delete"),
    ]
    .iter()
    .map(|(l, c)| (l.to_string(), c.to_string(), "producer".to_string()))
    .collect();
    assert_eq!(found, want);
    for m in &dlq {
        let line: usize = m.headers["tweetpipe.errors.line"].parse().expect("line number");
        assert_eq!(m.value, lines[line - 1], "the dead letter holds the input line itself");
        assert!(!m.headers["tweetpipe.errors.message"].is_empty());
        assert!(m.headers["tweetpipe.errors.source"].starts_with("file:"));
    }

    // Records that only the consumer can refuse: injected straight into the topic.
    produce_raw(
        &ctx.topic,
        &[
            (Some("5"), b"{this is not json"),
            (
                Some("1700000000000000005"),
                br#"{"data":{"id":"1700000000000000005","text":"NUL \u0000 inside"}}"#,
            ),
            (
                Some("1700000000000000006"),
                br#"{"data":{"id":"1700000000000000006","text":"after the poison"}}"#,
            ),
        ],
    )
    .await
    .expect("inject");

    let consumed = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), Duration::from_secs(180)));
    assert_eq!(consumed.count("dead_lettered"), 2);
    assert_eq!(consumed.count("deleted"), 1);
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM tweets ORDER BY id").fetch_all(&ctx.pool).await.expect("q");
    ids.sort();
    assert_eq!(ids, [1700000000000000001, 1700000000000000003, 1700000000000000004, 1700000000000000006]);
    let (user, location): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT username, location FROM tweets WHERE id = 1700000000000000003")
            .fetch_one(&ctx.pool)
            .await
            .expect("q");
    assert_eq!((user.as_deref(), location.as_deref()), (Some("v1user"), Some("Oslo")));

    let consumer_dlq: Vec<_> = read_topic(&format!("{}.dlq", ctx.topic))
        .expect("read dlq")
        .into_iter()
        .filter(|m| m.headers.get("tweetpipe.errors.stage").map(String::as_str) == Some("consumer"))
        .collect();
    let mut classes: Vec<&str> =
        consumer_dlq.iter().map(|m| m.headers["tweetpipe.errors.class"].as_str()).collect();
    classes.sort();
    assert_eq!(classes, ["invalid_json", "nul_character"]);
    for m in &consumer_dlq {
        assert_eq!(m.headers["tweetpipe.errors.topic"], ctx.topic);
        assert!(m.headers["tweetpipe.errors.offset"].parse::<i64>().is_ok());
    }
    let _ = std::fs::remove_file(dir);
    ctx.cleanup().await;
}
