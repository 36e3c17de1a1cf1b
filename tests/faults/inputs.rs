//! What arrives: duplicates with different snapshots and a full replay, poison input, and a
//! SIGTERM mid-stream.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn f6_duplicates_with_different_snapshots_and_a_full_replay() {
    let _serial = serial().await;
    let s = Scenario::new("snapshots", 100_000, 0.5, 27).await;
    s.produce(&[]);
    let first = consumer_summary(&run(&mut s.consumer(&["--exit-at-end", "--batch-size", "100"]), LIMIT));
    s.check(0).await;
    let checksum =
        "SELECT md5(string_agg(id::text || username || text || retweet_count || coalesce(like_count, -1) \
                    || updated_at::text, ',' ORDER BY id)) FROM tweets";
    let before: String = sqlx::query_scalar(checksum).fetch_one(&s.ctx.pool).await.expect("checksum");

    // Replay the whole topic in a new group: every copy, older ones included, arrives again.
    let mut replay = s.consumer(&["--exit-at-end"]);
    replay.env("TWEETPIPE_GROUP", format!("{}_replay", s.ctx.group));
    let again = consumer_summary(&run(&mut replay, LIMIT));
    let after: String = sqlx::query_scalar(checksum).fetch_one(&s.ctx.pool).await.expect("checksum");
    assert_eq!(before, after, "a full replay changes nothing");
    assert_eq!(again.count("upserted"), 0);
    assert_eq!(again.count("duplicates") + again.count("filtered"), s.args.count);
    s.check(0).await;
    s.report(&format!(
        "{} updates with newer metrics on the first pass; replay: 0 rows changed, {} duplicates",
        first.count("updated"),
        again.count("duplicates")
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f7_poison_input() {
    let _serial = serial().await;
    let s = Scenario::new("poison", 0, 0.0, 28).await;
    // An operator's CHECK constraint gives the database a record it refuses.
    let migrate = run(
        Command::new(tweetpipe_tests::bin("tweetpipe-consumer"))
            .arg("migrate")
            .env("DATABASE_URL", &s.ctx.database_url),
        LIMIT,
    );
    assert!(migrate.status.success());
    sqlx::query("ALTER TABLE tweets ADD CONSTRAINT operator_rule CHECK (text <> 'refused by the operator')")
        .execute(&s.ctx.pool)
        .await
        .expect("constraint");

    let good = |id: u64, text: &str| format!(r#"{{"data":{{"id":"{id}","text":"{text}"}}}}"#).into_bytes();
    let huge =
        format!(r#"{{"data":{{"id":"1800000000000000009","text":"{}"}}}}"#, "x".repeat(10 * 1024 * 1024));
    let lines: Vec<Vec<u8>> = vec![
        good(1800000000000000001, "good before"),
        br#"{"data":{"id":"1800000000000000002","text":"trunc"#.to_vec(),
        b"\xc3\x28 not utf-8 \xff".to_vec(),
        br#"{"data":{"id":"1800000000000000003","text":"NUL \u0000 inside"}}"#.to_vec(),
        huge.into_bytes(),
        br#"{"data":{"text":"missing id"}}"#.to_vec(),
        br#"{"data":{"id":"12abc","text":"non-numeric id"}}"#.to_vec(),
        br#"{"data":{"id":"99999999999999999999","text":"overflowing id"}}"#.to_vec(),
        br#"{"data":{"id":"1800000000000000004","text":"a lone surrogate \ud800 here"}}"#.to_vec(),
        br#"{"kind":"not a tweet"}"#.to_vec(),
        good(1800000000000000005, "refused by the operator"),
        good(1800000000000000006, "good after"),
    ];
    let path = std::env::temp_dir().join(format!("{}.jsonl", s.ctx.topic));
    let mut f = std::fs::File::create(&path).expect("file");
    for l in &lines {
        f.write_all(l).expect("write");
        f.write_all(b"\n").expect("write");
    }
    drop(f);
    let mut producer = s.ctx.producer();
    producer.arg("--source").arg(format!("file:{}", path.display()));
    let produced = produce(&mut producer, LIMIT);
    let drained = s.drain();
    let _ = std::fs::remove_file(&path);

    let mut classes: Vec<(String, String)> = read_topic(&format!("{}.dlq", s.ctx.topic))
        .expect("dlq")
        .into_iter()
        .map(|m| (m.headers["tweetpipe.errors.stage"].clone(), m.headers["tweetpipe.errors.class"].clone()))
        .collect();
    classes.sort();
    let mut want: Vec<(String, String)> = [
        ("producer", "invalid_json"),
        ("producer", "invalid_utf8"),
        ("producer", "oversized"),
        ("producer", "missing_id"),
        ("producer", "invalid_id"),
        ("producer", "invalid_id"),
        ("producer", "invalid_json"),
        ("producer", "unknown_shape"),
        ("consumer", "nul_character"),
        ("consumer", "db_rejected"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(classes, want);
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM tweets ORDER BY id").fetch_all(&s.ctx.pool).await.expect("ids");
    assert_eq!(ids, [1800000000000000001, 1800000000000000006]);
    s.report(&format!(
        "{} lines: {} produced, {} dead-lettered by the producer, {} by the consumer",
        lines.len(),
        produced.count("tweets"),
        produced.count("dead_lettered"),
        drained.count("dead_lettered")
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn f8_sigterm_mid_stream() {
    let _serial = serial().await;
    let s = Scenario::new("sigterm", 100_000, 0.1, 29).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let consumer = Logged::spawn(s.consumer(&["--batch-size", "500"]), "sigterm");
    s.wait_rows(20_000, "some rows stored").await;
    sigterm(&consumer.child);
    let asked = Instant::now();
    // The drain deadline is 20 s; the pod's grace period is longer.
    let out = wait_output(consumer.child, Duration::from_secs(30));
    let took = asked.elapsed();
    let first = consumer_summary(&out);
    let handled = first.count("consumed");
    // A clean stop commits everything it handled: the group's offsets add up to exactly that.
    let committed: i64 = tweetpipe_tests::committed_and_ends(&s.ctx.topic, &s.ctx.group)
        .expect("offsets")
        .values()
        .map(|(c, _)| (*c).max(0))
        .sum();
    assert_eq!(committed as u64, handled, "every handled message committed at SIGTERM");
    let rows_at_stop = s.rows().await;

    let second = s.drain();
    s.check(0).await;
    assert_eq!(
        handled + second.count("consumed"),
        s.args.count,
        "after the restart nothing is read twice and nothing is skipped"
    );
    watcher.assert_monotonic();
    s.report(&format!(
        "{rows_at_stop} rows at SIGTERM, exit after {:.2}s, {handled} messages handled before it",
        took.as_secs_f64()
    ));
}
