//! Rules sync that leaves a consistent set, and how an X failure ends the producer: the
//! documented exit code (78 configuration or credentials, 69 unreachable), the summary written
//! even then, and the token in no output.

use serde_json::json;
use tweetpipe_tests::faults::sigterm;
use tweetpipe_tests::producer::{summary_of, SummaryFile};
use tweetpipe_tests::xmock::{MockX, Reply, Request};
use tweetpipe_tests::xrun::{
    all_output, finish, search_page, spawn, topic_len, tweet_line, x_producer, LIMIT, TOKEN,
};
use tweetpipe_tests::{wait_until, TestContext};

const RULES: &str = "/2/tweets/search/stream/rules";

fn posts(mock: &MockX) -> Vec<Request> {
    mock.seen(RULES).into_iter().filter(|r| r.method == "POST").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_sync_adds_before_it_deletes_handles_a_new_tag_and_leaves_other_tools_rules() {
    let ctx = TestContext::new("xrules").await.expect("context");
    let mock = MockX::start(|req, before| {
        if req.target.starts_with(RULES) {
            if req.method == "POST" {
                return Reply::json(200, json!({"meta": {"summary": {"valid": 1}}}));
            }
            // A transient outage first: retried, not fatal.
            if before.is_empty() {
                return Reply::json(503, json!({"title": "Service Unavailable"}));
            }
            return Reply::json(
                200,
                json!({"data": [
                    {"id": "1", "value": "old value", "tag": "tweetpipe:old"},
                    {"id": "2", "value": "#justinbieber", "tag": "tweetpipe:jb"},
                    {"id": "3", "value": "another tool's rule", "tag": "othertool"},
                    {"id": "4", "value": "kept", "tag": "tweetpipe:k"}
                ]}),
            );
        }
        Reply::Stream(vec![
            tweet_line("1900000000000000001", "tweetpipe:bieber"),
            tweetpipe_tests::xmock::Step::Silence,
        ])
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-stream", "--x-backoff-scale", "0.01"]).args([
        "--rule",
        "bieber: #justinbieber",
        "--rule",
        "k: kept",
        "--rule",
        "new: fresh",
    ]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the tweet", || async { topic_len(&topic).await >= 1 }).await;
    sigterm(&child);
    let s = summary_of(&finish(child).await, &summary);

    assert_eq!(mock.seen(RULES).iter().filter(|r| r.method == "GET").count(), 2, "the 503 retried once");
    let p = posts(&mock);
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(p[0].target.contains("dry_run=true"));
    assert!(p[0].body.contains("tweetpipe:bieber") && p[0].body.contains("tweetpipe:new"));
    assert!(
        p[1].body.contains("\"delete\"") && p[1].body.contains("\"2\""),
        "the re-tagged rule, just before"
    );
    assert!(!p[2].target.contains("dry_run") && p[2].body.contains("\"add\""));
    assert!(p[3].body.contains("\"delete\"") && p[3].body.contains("\"1\""), "stale rules last");
    assert!(!p.iter().any(|r| r.body.contains("\"3\"")), "another tool's rule is never deleted");
    assert!(!p.iter().any(|r| r.body.contains("\"kept\"")), "an unchanged rule is left alone");
    assert_eq!(s.x("x_tweets_rule_bieber"), 1, "counted under the tag without the prefix");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_rule_deletes_nothing_and_exits_78() {
    let ctx = TestContext::new("xrulebad").await.expect("context");
    let mock = MockX::start(|req, _| match req.method.as_str() {
        "GET" => Reply::json(200, json!({"data": [{"id": "1", "value": "old", "tag": "tweetpipe:old"}]})),
        _ => Reply::json(
            200,
            json!({"errors": [{"value": "bad((", "title": "UnprocessableEntity", "details": ["syntax"]}]}),
        ),
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-stream", "--rule", "bad(("]);
    let summary = SummaryFile::default();
    let out = finish(spawn(cmd, &summary)).await;
    assert_eq!(out.status.code(), Some(78), "{}", all_output(&out));
    assert!(all_output(&out).contains("bad(("), "the rule X refused is named");
    assert_eq!(posts(&mock).len(), 1, "only the dry run: nothing deleted");
    assert!(summary.read().is_some(), "the summary is written");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_unreachable_after_retries_exits_69_with_a_summary() {
    let ctx = TestContext::new("xrules503").await.expect("context");
    let mock = MockX::start(|req, _| {
        // A proxy's error page that echoes the request's credentials.
        Reply::json(
            503,
            json!({"echo": format!("Authorization: {}", req.authorization.clone().unwrap_or_default())}),
        )
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-stream", "--rule", "bieber", "--x-backoff-scale", "0.01"]);
    let summary = SummaryFile::default();
    let out = finish(spawn(cmd, &summary)).await;
    let log = all_output(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    assert_eq!(mock.seen(RULES).len(), 4, "a bounded number of attempts");
    assert!(summary.read().is_some(), "the summary is written");
    assert!(!log.contains(TOKEN) && log.contains("Bearer ***"), "the echoed token is redacted");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_x_rejects_exits_78_and_its_summary_counts_what_was_delivered() {
    let ctx = TestContext::new("xsearch400").await.expect("context");
    let mock = MockX::start(|req, _| {
        if req.target.contains("next_token=") {
            return Reply::json(400, json!({"title": "Invalid Request", "detail": "query too complex"}));
        }
        Reply::json(200, search_page(&["71", "72"], json!({"newest_id": "72", "next_token": "N"})))
    })
    .await;
    let checkpoint = std::env::temp_dir().join(format!("{}.checkpoint", ctx.topic));
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-search", "--query", "#justinbieber"]).arg("--checkpoint-file").arg(&checkpoint);
    let summary = SummaryFile::default();
    let out = finish(spawn(cmd, &summary)).await;
    assert_eq!(out.status.code(), Some(78), "{}", all_output(&out));
    let s = summary.read().expect("the summary is written");
    assert_eq!(s.count("tweets"), 2, "the tweets delivered before the failure");
    assert_eq!(s.x("x_tweets"), 2);
    assert!(!checkpoint.exists(), "an unfinished poll moves no checkpoint");
    ctx.cleanup().await;
}
