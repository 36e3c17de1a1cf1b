//! The filtered stream against a broken or hostile server: one that never answers, answers with
//! endless bodies, trickles, echoes the token back, sends a line that never ends, disconnects in
//! a loop or sets its rate-limit reset years ahead. Each costs a bounded reconnect, bounded
//! memory and bounded requests; the tweets around the trouble are all delivered.

use std::time::Duration;

use serde_json::json;
use tweetpipe_tests::faults::sigterm;
use tweetpipe_tests::producer::{summary_of, SummaryFile};
use tweetpipe_tests::xmock::{MockX, Reply, Step};
use tweetpipe_tests::xrun::{
    all_output, epoch_in, finish, peak_rss, sorted_keys, spawn, topic_len, tweet_line, x_producer, LIMIT,
    TOKEN,
};
use tweetpipe_tests::{read_topic, wait_until, TestContext};

/// Peak resident memory the producer may reach in these tests (`--max-line-bytes` 1 MB): its
/// baseline (librdkafka, the runtime) plus a few line buffers, far below the hundreds of MB a
/// server could push before the limits.
const PEAK_RSS_BOUND: u64 = 100 * 1024 * 1024;

fn stream_requests(mock: &MockX) -> usize {
    mock.seen("/2/tweets/search/stream?").len()
}

/// Keep-alives every 200 ms for a minute: a healthy, quiet connection.
fn keep_alives() -> Vec<Step> {
    (0..300).flat_map(|_| [Step::Pause(Duration::from_millis(200)), Step::Bytes(b"\r\n".to_vec())]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_headers_endless_error_bodies_echoed_tokens_and_trickles_each_cost_one_reconnect() {
    let ctx = TestContext::new("xhang").await.expect("context");
    let mock = MockX::start(|req, before| {
        let n = before.iter().filter(|r| r.target.starts_with("/2/tweets/search/stream?")).count();
        match n {
            0 => Reply::Hang,
            1 => Reply::Chunked { status: 503, headers: vec![], steps: vec![Step::Endless(vec![b'e'; 64 * 1024])] },
            // A proxy that echoes the request headers into its error page.
            2 => Reply::json(
                502,
                json!({"error": "bad gateway", "request": format!("authorization: {}", req.authorization.clone().unwrap_or_default())}),
            ),
            // A line trickled a byte every 100 ms: progress, but never a whole line.
            3 => {
                let partial = br#"{"data":{"id":"1900000000000000777","text":"never finished"#;
                Reply::Stream(
                    partial
                        .iter()
                        .flat_map(|b| [Step::Bytes(vec![*b]), Step::Pause(Duration::from_millis(100))])
                        .collect(),
                )
            }
            _ => {
                let mut steps = vec![tweet_line("1900000000000000001", "tweetpipe:jb")];
                steps.extend(keep_alives());
                Reply::Stream(steps)
            }
        }
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-stream", "--stream-timeout", "1s", "--x-response-timeout", "1s"]).args([
        "--x-backoff-scale",
        "0.02",
        "--max-line-bytes",
        "1000000",
    ]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the tweet after the trouble in Kafka", || async { topic_len(&topic).await >= 1 })
        .await;
    let peak = peak_rss(child.id());
    eprintln!("producer peak RSS: {} MiB", peak >> 20);
    sigterm(&child);
    let out = finish(child).await;
    let log = all_output(&out);
    let s = summary_of(&out, &summary);

    assert_eq!(stream_requests(&mock), 5, "one reconnect per failure");
    assert!(log.contains("no response headers within"), "the hang is named in the log");
    assert_eq!(s.x("x_reconnects_http"), 2, "the 503 with an endless body and the 502");
    assert_eq!(s.x("x_reconnects_network"), 1, "the server that never answered");
    assert_eq!(s.x("x_reconnects_stall"), 1, "the trickle that never finished a line");
    assert!(peak < PEAK_RSS_BOUND, "peak RSS {peak} bytes against an endless error body");
    // The trickled fragment is dead-lettered, the tweet after it delivered once.
    assert_eq!(sorted_keys(&ctx.topic), ["1900000000000000001"]);
    let dlq = read_topic(&format!("{}.dlq", ctx.topic)).expect("dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].headers["tweetpipe.errors.class"], "truncated_stream_line");
    assert!(!log.contains(TOKEN), "the echoed token never reaches the log");
    assert!(!log.to_ascii_lowercase().contains("bearer test"), "nor does the echoed header");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_never_ends_is_cut_dead_lettered_and_the_stream_resyncs_in_bounded_memory() {
    let ctx = TestContext::new("xendless").await.expect("context");
    let mock = MockX::start(|_, before| {
        let first = before.iter().all(|r| !r.target.starts_with("/2/tweets/search/stream?"));
        if !first {
            return Reply::Stream(keep_alives());
        }
        let mut steps = vec![tweet_line("1900000000000000001", "tweetpipe:jb")];
        // A 3 MB line (three times the limit), ended: the stream must pick up after it.
        steps.extend((0..48).map(|_| Step::Bytes(vec![b'x'; 64 * 1024])));
        steps.push(Step::Bytes(b"\r\n".to_vec()));
        steps.push(tweet_line("1900000000000000002", "tweetpipe:jb"));
        // Then a line that never ends.
        steps.push(Step::Endless(vec![b'y'; 64 * 1024]));
        Reply::Stream(steps)
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    cmd.args(["--source", "x-stream", "--stream-timeout", "5s", "--max-line-bytes", "1000000"]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "both tweets in Kafka", || async { topic_len(&topic).await >= 2 }).await;
    // The unending line keeps coming; 200 MB of it must not grow the producer.
    wait_until(LIMIT, "200 MB of the endless line sent", || async { mock.bytes_sent() >= 200 << 20 }).await;
    let peak = peak_rss(child.id());
    eprintln!("producer peak RSS: {} MiB", peak >> 20);
    sigterm(&child);
    let out = finish(child).await;
    let s = summary_of(&out, &summary);

    assert!(peak < PEAK_RSS_BOUND, "peak RSS {peak} bytes after a 200 MB line");
    assert_eq!(sorted_keys(&ctx.topic), ["1900000000000000001", "1900000000000000002"]);
    let dlq = read_topic(&format!("{}.dlq", ctx.topic)).expect("dlq");
    let classes: Vec<&str> = dlq.iter().map(|m| m.headers["tweetpipe.errors.class"].as_str()).collect();
    assert_eq!(classes, ["oversized", "oversized"], "the long line and the endless one, once each");
    assert!(dlq.iter().all(|m| m.value.len() <= 64 * 1024), "a dead letter keeps only the line's start");
    assert_eq!(s.x("x_oversized_lines"), 2);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_only_says_disconnect_is_reconnected_to_on_a_growing_schedule() {
    let ctx = TestContext::new("xloop").await.expect("context");
    let notice = json!({"errors": [{"title": "operational-disconnect",
        "type": "https://api.twitter.com/2/problems/operational-disconnect"}]});
    let mock = MockX::start(move |_, _| {
        Reply::Stream(vec![
            Step::Bytes(b"\r\n".to_vec()),
            Step::Bytes(format!("{notice}\r\n").into_bytes()),
            Step::Close,
        ])
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    // Network schedule ×0.2: 50 ms, 100 ms, 150 ms, … between connections.
    cmd.args(["--source", "x-stream", "--x-backoff-scale", "0.2"]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    wait_until(LIMIT, "eight connections", || async { stream_requests(&mock) >= 8 }).await;
    sigterm(&child);
    let s = summary_of(&finish(child).await, &summary);

    // Keep-alives and notices are no progress: the delays grow (50+100+…+350 ms = 1.4 s for
    // seven waits) instead of a reconnect loop of hundreds a second.
    let streams = mock.seen("/2/tweets/search/stream?");
    let span = streams[7].at.duration_since(streams[0].at);
    assert!(span >= Duration::from_millis(1300), "8 connections within {span:?}");
    // The seventh wait is 350 ms: a sleep never ends early, so the gap is at least that, however
    // late the first one ran on a loaded machine (a margin over the first gap would fail then).
    let gap = |i: usize| streams[i + 1].at.duration_since(streams[i].at);
    assert!(gap(6) >= Duration::from_millis(340), "the schedule grows: {:?} then {:?}", gap(0), gap(6));
    assert!(s.x("x_reconnects_disconnect") >= 7);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_reset_years_ahead_is_waited_for_the_window_at_most() {
    let ctx = TestContext::new("xreset").await.expect("context");
    let mock = MockX::start(|_, before| {
        if before.is_empty() {
            return Reply::Json {
                status: 429,
                headers: vec![("x-rate-limit-reset".into(), epoch_in(10 * 365 * 24 * 3600))],
                body: json!({"title": "Too Many Requests"}).to_string(),
            };
        }
        let mut steps = vec![tweet_line("1900000000000000001", "tweetpipe:jb")];
        steps.extend(keep_alives());
        Reply::Stream(steps)
    })
    .await;
    let mut cmd = x_producer(&ctx, &mock, TOKEN);
    // ×0.002: the 15-minute cap becomes 1.8 s, the header's ten years stay ten years.
    cmd.args(["--source", "x-stream", "--x-backoff-scale", "0.002"]);
    let summary = SummaryFile::default();
    let child = spawn(cmd, &summary);
    let topic = ctx.topic.clone();
    wait_until(LIMIT, "the tweet after the rate limit", || async { topic_len(&topic).await >= 1 }).await;
    sigterm(&child);
    let out = finish(child).await;
    let log = all_output(&out);
    let s = summary_of(&out, &summary);
    assert_eq!(s.x("x_rate_limit_waits"), 1);
    assert!(log.contains("further away than any rate-limit window"), "the odd header is logged");
    ctx.cleanup().await;
}
