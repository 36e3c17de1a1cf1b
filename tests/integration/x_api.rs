//! The X API sources against a scripted local server: rules sync, stream reconnects on X's
//! schedule, rate limits, recent search with pages, `since_id` and a checkpoint that survives a
//! restart, and a wrong token.

use std::time::Duration;

use serde_json::json;
use tweetpipe_tests::faults::sigterm;
use tweetpipe_tests::producer::{summary_of, SummaryFile};
use tweetpipe_tests::xmock::{MockX, Reply, Step};
use tweetpipe_tests::xrun::{
    epoch_in, finish, search_page as page, spawn, topic_len, tweet_line as line, x_producer as producer,
    LIMIT, TOKEN,
};
use tweetpipe_tests::{read_topic, wait_until, TestContext};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_stream_syncs_rules_reconnects_on_schedule_and_delivers_each_tweet() {
    let ctx = TestContext::new("xstream").await.expect("context");
    let mock = MockX::start(|req, before| {
        if req.authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(401, json!({"title": "Unauthorized"}));
        }
        if req.target.starts_with("/2/tweets/search/stream/rules") {
            return match req.method.as_str() {
                "GET" => Reply::json(
                    200,
                    json!({"data": [
                    {"id": "100", "value": "stale rule", "tag": "tweetpipe:old"},
                    {"id": "101", "value": "#justinbieber -is:retweet", "tag": "tweetpipe:jb"}
                ], "meta": {"result_count": 2}}),
                ),
                _ => Reply::json(200, json!({"meta": {"summary": {"valid": 1}}})),
            };
        }
        let n = before.iter().filter(|r| r.target.starts_with("/2/tweets/search/stream?")).count();
        match n {
            // A healthy connection, then X asks to reconnect.
            0 => Reply::Stream(vec![
                Step::Bytes(b"\r\n".to_vec()),
                line("1900000000000000001", "tweetpipe:jb"),
                Step::Bytes(b"\r\n".to_vec()),
                line("1900000000000000002", "tweetpipe:jb"),
                Step::Bytes(
                    format!(
                        "{}\r\n",
                        json!({"errors": [{"title": "operational-disconnect",
                        "type": "https://api.twitter.com/2/problems/operational-disconnect"}]})
                    )
                    .into_bytes(),
                ),
                Step::Silence,
            ]),
            // A tweet, then the connection drops in the middle of a line.
            1 => Reply::Stream(vec![
                line("1900000000000000003", "tweetpipe:"),
                Step::Bytes(br#"{"data":{"id":"1900000000000000099","te"#.to_vec()),
                Step::Close,
            ]),
            2 => Reply::json(503, json!({"title": "Service Unavailable"})),
            3 => Reply::Json {
                status: 429,
                headers: vec![("x-rate-limit-reset".into(), epoch_in(2))],
                body: json!({"title": "Too Many Requests"}).to_string(),
            },
            // A tweet, then silence: the client must notice within --stream-timeout.
            4 => Reply::Stream(vec![line("1900000000000000004", "tweetpipe:jb"), Step::Silence]),
            // The first tweet again (a second delivery is a second message), then a healthy,
            // quiet connection: keep-alives only.
            5 => {
                let mut steps = vec![line("1900000000000000001", "tweetpipe:jb")];
                for _ in 0..600 {
                    steps.push(Step::Pause(Duration::from_millis(300)));
                    steps.push(Step::Bytes(b"\r\n".to_vec()));
                }
                Reply::Stream(steps)
            }
            _ => Reply::json(500, json!({"title": "the test expected no further connection"})),
        }
    })
    .await;

    let mut cmd = producer(&ctx, &mock, TOKEN);
    cmd.args([
        "--source",
        "x-stream",
        "--rule",
        "jb: #justinbieber -is:retweet",
        "--rule",
        "bieber",
        "--stream-timeout",
        "1",
        "--x-backoff-scale",
        "0.05",
        "--lineage-headers",
    ]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "five tweets in Kafka", || async { topic_len(&topic).await >= 5 }).await;
    sigterm(&child);
    let out = finish(child).await;
    let s = summary_of(&out, &summary);

    // Kafka: each delivered tweet once per delivery, keyed by id, in stream-line shape.
    let messages = read_topic(&ctx.topic).expect("read");
    let mut keys: Vec<String> = messages.iter().filter_map(|m| m.key.clone()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "1900000000000000001",
            "1900000000000000001",
            "1900000000000000002",
            "1900000000000000003",
            "1900000000000000004"
        ]
    );
    for m in &messages {
        let v: serde_json::Value = serde_json::from_slice(&m.value).expect("json");
        assert_eq!(v["data"]["id"].as_str(), m.key.as_deref());
        assert!(v["matching_rules"].is_array() && v["includes"]["users"].is_array());
        assert_eq!(m.headers["tweetpipe.source"], "x-stream");
        assert_eq!(m.headers["tweetpipe.format"], "v2");
        assert!(m.headers["tweetpipe.source.line"].parse::<u64>().is_ok_and(|n| n > 0));
    }
    let dlq = read_topic(&format!("{}.dlq", ctx.topic)).expect("dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].headers["tweetpipe.errors.class"], "truncated_stream_line");

    // Rules: the missing one validated with dry_run, then added; then the stale one deleted.
    let posts: Vec<_> =
        mock.seen("/2/tweets/search/stream/rules").into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 3);
    assert!(posts[0].target.contains("dry_run=true") && posts[0].body.contains("\"bieber\""));
    assert!(!posts[1].target.contains("dry_run") && posts[1].body.contains("\"add\""));
    assert!(posts[2].body.contains("\"delete\"") && posts[2].body.contains("\"100\""));
    assert!(
        !posts.iter().any(|p| p.body.contains("#justinbieber")),
        "a rule already there is kept, not re-added"
    );

    // The reconnect schedule (delays scaled by 0.05; the 429 reset is absolute).
    let streams = mock.seen("/2/tweets/search/stream?");
    assert_eq!(streams.len(), 6);
    assert!(streams[0].target.contains("tweet.fields=created_at,public_metrics"));
    assert!(streams[0].target.contains("expansions=author_id,referenced_tweets.id,geo.place_id"));
    let gap = |i: usize| streams[i + 1].at.duration_since(streams[i].at).as_secs_f64();
    assert!(gap(0) < 1.0, "after a disconnect notice: at once ({:.2}s)", gap(0));
    assert!(gap(1) < 1.0, "after a clean close of a healthy connection: at once ({:.2}s)", gap(1));
    assert!((0.2..3.0).contains(&gap(2)), "after a 503: 5 s × 0.05 ({:.2}s)", gap(2));
    assert!((1.0..10.0).contains(&gap(3)), "after a 429: not before x-rate-limit-reset ({:.2}s)", gap(3));
    assert!((0.9..5.0).contains(&gap(4)), "after silence: the 1 s stream timeout ({:.2}s)", gap(4));

    assert_eq!(s.x("x_reconnects_disconnect"), 1);
    assert_eq!(s.x("x_reconnects_closed"), 1);
    assert_eq!(s.x("x_reconnects_http"), 1);
    assert_eq!(s.x("x_rate_limit_waits"), 1);
    assert_eq!(s.x("x_reconnects_stall"), 1);
    assert!(s.x("x_keep_alives") >= 2);
    assert_eq!(s.x("x_tweets"), 5);
    assert_eq!(s.x("x_tweets_rule_jb"), 4);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(TOKEN), "the token never shows");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_a_clear_error_after_a_bounded_number_of_tries() {
    let ctx = TestContext::new("xauth").await.expect("context");
    let mock =
        MockX::start(|_, _| Reply::json(401, json!({"title": "Unauthorized", "detail": "bad token"}))).await;
    let mut cmd = producer(&ctx, &mock, "the-wrong-token-77");
    cmd.args(["--source", "x-stream", "--max-auth-failures", "3", "--x-backoff-scale", "0.01"]);
    let summary = SummaryFile::default();
    let out = finish(spawn(cmd, &summary)).await;
    assert_eq!(out.status.code(), Some(78), "a refused token is a configuration error");
    assert!(summary.read().is_some(), "the summary is written on failure too");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("X refused the bearer token 3 times"), "{stderr}");
    assert!(!stderr.contains("the-wrong-token-77"));
    assert_eq!(mock.seen("/2/tweets/search/stream?").len(), 3);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_search_follows_pages_and_resumes_from_its_checkpoint() {
    let ctx = TestContext::new("xsearch").await.expect("context");
    let mock = MockX::start(move |_, before| {
        let n = before.len();
        match n {
            0 => Reply::json(
                200,
                page(
                    &["1900000000000000300", "1900000000000000299"],
                    json!({"newest_id": "1900000000000000300", "result_count": 2, "next_token": "p2"}),
                ),
            ),
            // The last request of this window: the client must wait for the reset.
            1 => Reply::Json {
                status: 200,
                headers: vec![
                    ("x-rate-limit-remaining".into(), "0".into()),
                    ("x-rate-limit-reset".into(), epoch_in(1)),
                ],
                body: page(
                    &["1900000000000000298"],
                    json!({"newest_id": "1900000000000000298", "result_count": 1}),
                )
                .to_string(),
            },
            2 => Reply::json(
                200,
                page(
                    &["1900000000000000301"],
                    json!({"newest_id": "1900000000000000301", "result_count": 1}),
                ),
            ),
            _ => Reply::json(200, json!({"meta": {"result_count": 0}})),
        }
    })
    .await;
    let checkpoint = std::env::temp_dir().join(format!("{}.checkpoint", ctx.topic));
    let run_once = |expect: usize, summary: &SummaryFile| {
        let mut cmd = producer(&ctx, &mock, TOKEN);
        cmd.args(["--source", "x-search", "--query", "#justinbieber", "--interval", "1"])
            .arg("--checkpoint-file")
            .arg(&checkpoint);
        let child = spawn(cmd, summary);
        let topic = ctx.topic.clone();
        async move {
            wait_until(LIMIT, "search results in Kafka", || async { topic_len(&topic).await >= expect })
                .await;
            child
        }
    };
    let summary = SummaryFile::default();
    let child = run_once(4, &summary).await;
    // The checkpoint is written once Kafka has acknowledged the poll's tweets.
    wait_until(LIMIT, "the checkpoint at the newest id", || async {
        std::fs::read_to_string(&checkpoint).is_ok_and(|c| c.contains("1900000000000000301"))
    })
    .await;
    sigterm(&child);
    let first = summary_of(&finish(child).await, &summary);
    assert_eq!(first.x("x_rate_limit_waits"), 1);

    let searches = mock.seen("/2/tweets/search/recent");
    assert!(!searches[0].target.contains("since_id"));
    assert!(searches[1].target.contains("next_token=p2"));
    assert!(searches[2].target.contains("since_id=1900000000000000300"), "{}", searches[2].target);

    // A restarted producer asks only for what came after the checkpoint.
    let before_restart = mock.seen("/2/tweets/search/recent").len();
    let child = run_once(4, &summary).await;
    wait_until(LIMIT, "a search after the restart", || async {
        mock.seen("/2/tweets/search/recent").len() > before_restart
    })
    .await;
    sigterm(&child);
    summary_of(&finish(child).await, &summary);
    let after = &mock.seen("/2/tweets/search/recent")[before_restart];
    assert!(after.target.contains("since_id=1900000000000000301"), "{}", after.target);

    let mut keys: Vec<String> =
        read_topic(&ctx.topic).expect("read").into_iter().filter_map(|m| m.key).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["1900000000000000298", "1900000000000000299", "1900000000000000300", "1900000000000000301"]
    );
    let _ = std::fs::remove_file(&checkpoint);
    ctx.cleanup().await;
}
