//! Recent search against a broken or hostile server: a `next_token` that repeats or cycles, a
//! bogus `meta.newest_id`, HTML, cut and endless pages, a rate-limit reset years ahead, a
//! `since_id` refused as too old. Every poll ends, nothing is skipped, and the checkpoint is the
//! newest tweet actually delivered.

use std::path::PathBuf;

use serde_json::json;
use tweetpipe_tests::faults::sigterm;
use tweetpipe_tests::producer::{summary_of, SummaryFile};
use tweetpipe_tests::xmock::{MockX, Reply, Request, Step};
use tweetpipe_tests::xrun::{
    all_output, checkpoint_since, epoch_in, finish, peak_rss, search_page, sorted_keys, spawn, x_producer,
    LIMIT, TOKEN,
};
use tweetpipe_tests::{wait_until, TestContext};

/// As for the stream: the baseline plus one page limit (8 MiB) and its parse, with room.
const PEAK_RSS_BOUND: u64 = 100 * 1024 * 1024;

const SEARCH: &str = "/2/tweets/search/recent";

fn checkpoint_path(ctx: &TestContext) -> PathBuf {
    std::env::temp_dir().join(format!("{}.checkpoint", ctx.topic))
}

fn searcher(ctx: &TestContext, mock: &MockX, checkpoint: &PathBuf) -> std::process::Command {
    let mut cmd = x_producer(ctx, mock, TOKEN);
    cmd.args(["--source", "x-search", "--query", "#justinbieber", "--interval", "1s"])
        .args(["--x-response-timeout", "1s"])
        .arg("--checkpoint-file")
        .arg(checkpoint);
    cmd
}

fn searches_before(before: &[Request]) -> usize {
    before.iter().filter(|r| r.target.starts_with(SEARCH)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeating_next_token_ends_the_poll_and_the_checkpoint_is_the_newest_delivered_tweet() {
    let ctx = TestContext::new("xtokens").await.expect("context");
    let mock = MockX::start(|req, _| {
        if req.target.contains("since_id=") {
            return Reply::json(200, json!({"meta": {"result_count": 0}}));
        }
        // A page claiming a newest id far beyond its tweets, then a token cycle A → B → A.
        let (ids, next) = if req.target.contains("next_token=A") {
            (vec!["30"], "B")
        } else if req.target.contains("next_token=B") {
            (vec!["29"], "A")
        } else {
            (vec!["32", "31"], "A")
        };
        Reply::json(200, search_page(&ids, json!({"newest_id": "9000000000000000000", "next_token": next})))
    })
    .await;
    let checkpoint = checkpoint_path(&ctx);
    let summary = SummaryFile::default();
    let child = spawn(searcher(&ctx, &mock, &checkpoint), &summary);
    wait_until(LIMIT, "the checkpoint", || async { checkpoint_since(&checkpoint).is_some() }).await;
    wait_until(LIMIT, "the next poll", || async {
        mock.seen(SEARCH).iter().any(|r| r.target.contains("since_id="))
    })
    .await;
    sigterm(&child);
    let s = summary_of(&finish(child).await, &summary);

    assert_eq!(checkpoint_since(&checkpoint).as_deref(), Some("32"), "not the page's bogus newest_id");
    let searches = mock.seen(SEARCH);
    let first_poll = searches.iter().take_while(|r| !r.target.contains("since_id=")).count();
    assert_eq!(first_poll, 3, "the first page, A, B: then A again ends the poll");
    assert!(searches.iter().any(|r| r.target.contains("since_id=32")));
    assert_eq!(s.x("x_search_repeated_tokens"), 1);
    assert_eq!(sorted_keys(&ctx.topic), ["29", "30", "31", "32"], "each tweet once");
    let _ = std::fs::remove_file(&checkpoint);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pages_are_retried_then_the_poll_abandoned_without_moving_the_checkpoint() {
    let ctx = TestContext::new("xbadpage").await.expect("context");
    let mock = MockX::start(|req, before| {
        let n = searches_before(before);
        if n == 0 {
            // A rate-limit reset ten years ahead: waited for the (scaled) window at most.
            return Reply::Json {
                status: 429,
                headers: vec![("x-rate-limit-reset".into(), epoch_in(10 * 365 * 24 * 3600))],
                body: json!({"title": "Too Many Requests"}).to_string(),
            };
        }
        if !req.target.contains("next_token=P") {
            return Reply::json(
                200,
                search_page(&["52", "51"], json!({"newest_id": "52", "next_token": "P"})),
            );
        }
        let html =
            |status| Reply::Json { status, headers: vec![], body: "<html><body>Oops</body></html>".into() };
        match n {
            // The first poll's second page fails four ways.
            2 => html(200),
            3 => Reply::Stream(vec![Step::Bytes(br#"{"data":[{"id":"50","te"#.to_vec()), Step::Cut]),
            4 => Reply::Stream(vec![
                Step::Bytes(b"{\"data\":[".to_vec()),
                Step::Endless(vec![b' '; 64 * 1024]),
            ]),
            // Never answering: the response deadline (1 s) ends the wait.
            5 => Reply::Hang,
            _ => Reply::json(200, search_page(&["50"], json!({"newest_id": "50"}))),
        }
    })
    .await;
    let checkpoint = checkpoint_path(&ctx);
    let mut cmd = searcher(&ctx, &mock, &checkpoint);
    // ×0.002: retries in milliseconds, the 15-minute rate-limit cap 1.8 s.
    cmd.args(["--x-backoff-scale", "0.002"]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    wait_until(LIMIT, "the abandoned poll's successor to finish", || async {
        checkpoint_since(&checkpoint).is_some()
    })
    .await;
    let peak = peak_rss(child.id());
    eprintln!("producer peak RSS: {} MiB", peak >> 20);
    sigterm(&child);
    let out = finish(child).await;
    let s = summary_of(&out, &summary);
    assert!(all_output(&out).contains("no response headers within"), "the hang is named in the log");

    assert_eq!(checkpoint_since(&checkpoint).as_deref(), Some("52"));
    let searches = mock.seen(SEARCH);
    assert!(searches.len() >= 8, "the 429, page 1, four bad page 2s, then the next poll's two pages");
    assert!(
        !searches[6].target.contains("since_id"),
        "the abandoned poll moved nothing: {}",
        searches[6].target
    );
    assert_eq!(s.x("x_search_polls_abandoned"), 1);
    assert_eq!(s.x("x_search_bad_pages"), 3, "HTML, cut and oversized");
    assert_eq!(s.x("x_rate_limit_waits"), 1);
    assert!(peak < PEAK_RSS_BOUND, "peak RSS {peak} bytes against an endless page");
    // Nothing lost: page 1 twice (the abandoned poll and its retry), page 2 once.
    assert_eq!(sorted_keys(&ctx.topic), ["50", "51", "51", "52", "52"]);
    let _ = std::fs::remove_file(&checkpoint);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_since_id_older_than_the_window_falls_back_to_the_window_start() {
    let ctx = TestContext::new("xsince").await.expect("context");
    let checkpoint = checkpoint_path(&ctx);
    std::fs::write(&checkpoint, json!({"query": "#justinbieber", "since_id": "5"}).to_string())
        .expect("write");
    let mock = MockX::start(|req, _| {
        if req.target.contains("since_id=5&") || req.target.ends_with("since_id=5") {
            return Reply::json(
                400,
                json!({"errors": [{"parameters": {"since_id": ["5"]},
                    "message": "Invalid 'since_id':'5'. 'since_id' must be a tweet id created after 2026-11-27T00:00:00Z."}],
                    "title": "Invalid Request"}),
            );
        }
        if req.target.contains("since_id=") {
            return Reply::json(200, json!({"meta": {"result_count": 0}}));
        }
        Reply::json(200, search_page(&["61"], json!({"newest_id": "61"})))
    })
    .await;
    let summary = SummaryFile::default();
    let child = spawn(searcher(&ctx, &mock, &checkpoint), &summary);
    wait_until(LIMIT, "the checkpoint to move", || async {
        checkpoint_since(&checkpoint).as_deref() == Some("61")
    })
    .await;
    sigterm(&child);
    let s = summary_of(&finish(child).await, &summary);
    assert_eq!(s.x("x_search_since_id_refused"), 1);
    let searches = mock.seen(SEARCH);
    assert!(searches[0].target.contains("since_id=5"));
    assert!(!searches[1].target.contains("since_id"), "the retry searches the whole window");
    assert_eq!(sorted_keys(&ctx.topic), ["61"]);
    let _ = std::fs::remove_file(&checkpoint);
    ctx.cleanup().await;
}
