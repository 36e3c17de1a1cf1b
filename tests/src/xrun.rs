//! Running the producer against [`crate::xmock`]: its command, tweet lines to script, waiting
//! for it, and what it cost (peak resident memory, read from `/proc` while it runs).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::producer::SummaryFile;
use crate::xmock::{MockX, Step};
use crate::{read_topic, wait_output, TestContext};

/// The bearer token the X tests use.
pub const TOKEN: &str = "test-token-Zq81";
/// The longest any X test waits for anything.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A v2 filtered-stream line for tweet `id`, matched by the rule tagged `tag`.
pub fn tweet_line(id: &str, tag: &str) -> Step {
    let v = json!({
        "data": {"id": id, "text": format!("tweet {id} #justinbieber"), "author_id": "7",
                 "created_at": "2026-11-20T10:00:00.000Z"},
        "includes": {"users": [{"id": "7", "username": "belieber", "location": "Stratford"}]},
        "matching_rules": [{"id": "101", "tag": tag}]
    });
    Step::Bytes(format!("{v}\r\n").into_bytes())
}

/// A recent-search page of `ids` with `meta`.
pub fn search_page(ids: &[&str], meta: serde_json::Value) -> serde_json::Value {
    let data: Vec<_> =
        ids.iter().map(|id| json!({"id": id, "text": format!("search {id}"), "author_id": "7"})).collect();
    json!({"data": data, "includes": {"users": [{"id": "7", "username": "searcher"}]}, "meta": meta})
}

/// The producer aimed at `mock`, logging at info.
pub fn x_producer(ctx: &TestContext, mock: &MockX, token: &str) -> Command {
    let mut cmd = ctx.producer();
    cmd.env("X_API_BASE_URL", &mock.base_url).env("X_BEARER_TOKEN", token).env("RUST_LOG", "info");
    cmd
}

pub fn spawn(mut cmd: Command, summary: &SummaryFile) -> Child {
    summary.attach(&mut cmd).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn producer")
}

/// Waits for the producer to exit (failing the test past [`LIMIT`]).
pub async fn finish(child: Child) -> Output {
    tokio::task::spawn_blocking(move || wait_output(child, LIMIT)).await.expect("join")
}

/// Everything the process printed.
pub fn all_output(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `secs` seconds from now, as an `x-rate-limit-reset` value.
pub fn epoch_in(secs: u64) -> String {
    (SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() + secs).to_string()
}

/// Messages in `topic` so far.
pub async fn topic_len(topic: &str) -> usize {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || read_topic(&topic).map(|m| m.len()).unwrap_or(0)).await.unwrap_or(0)
}

/// The keys of every message in `topic`, sorted.
pub fn sorted_keys(topic: &str) -> Vec<String> {
    let mut keys: Vec<String> = read_topic(topic).expect("read").into_iter().filter_map(|m| m.key).collect();
    keys.sort();
    keys
}

/// The peak resident set of a running process (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is running");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    kb * 1024
}

/// The `since_id` in a search checkpoint file, if it is there.
pub fn checkpoint_since(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["since_id"].as_str().map(str::to_owned)
}
