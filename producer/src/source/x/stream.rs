//! `--source x-stream`: the filtered stream, kept connected.
//!
//! Lines end with `\r\n` (tweet text may hold `\n`, never `\r`); a blank line is a keep-alive.
//! The stream is dead when no complete line (a keep-alive counts) arrives within
//! `--stream-timeout`: a trickle of bytes that never finishes a line is a stall too. Lines
//! longer than `--max-line-bytes` are cut and dead-lettered ([`super::stream_lines`]). Every
//! reconnect waits on X's schedule ([`super::backoff`]); only a delivered tweet or a connection
//! that stayed up past [`STABLE_CONNECTION`] starts the schedule over.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::dead_letter::Class;
use tweetpipe_model::envelope::{classify_bytes, Item, Reject};

use super::backoff::{Failure, XBackoff, STABLE_CONNECTION};
use super::client::{on_error_status, until_reset, AuthFailures, XClient};
use super::stream_lines::{Piece, Splitter};
use super::{bump, rules, XCounters, XSettings, EXPANSIONS, TWEET_FIELDS, USER_FIELDS};
use crate::record::{Msg, Record};

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// X said to reconnect (an operational-disconnect line or similar).
    Disconnect,
    /// The server closed the response.
    Closed,
    /// No complete line within the stream timeout.
    Stalled,
    /// The connection broke.
    Broken,
    /// Shutdown was asked for.
    Stopped,
}

pub async fn run(
    args: &XSettings,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
    counters: &mut XCounters,
) -> anyhow::Result<()> {
    let client = XClient::new(args)?;
    let wanted = args.wanted_rules().map_err(|e| Classified::config(format!("{e:#}")))?;
    let mut backoff = XBackoff::new(args.backoff_scale);
    if wanted.is_empty() {
        tracing::warn!("no --rule given: streaming with the rules already set on the app");
    } else {
        let sync = rules::Sync { client: &client, prefix: &args.rule_tag_prefix, backoff: &mut backoff };
        if sync.run(&wanted, shutdown).await?.is_none() {
            return Ok(());
        }
    }
    let origin: Arc<str> = "x-stream".into();
    let path = format!(
        "/2/tweets/search/stream?tweet.fields={TWEET_FIELDS}&expansions={EXPANSIONS}&user.fields={USER_FIELDS}"
    );
    let mut auth = AuthFailures { seen: 0, max: args.max_auth_failures };
    let mut line_no = 0u64;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        bump(counters, "x_connections");
        let sent = tokio::select! {
            r = client.send(client.get(&path)) => r,
            () = shutdown.cancelled() => return Ok(()),
        };
        let (failure, at_least) = match sent {
            Err(e) => {
                bump(counters, "x_reconnects_network");
                tracing::warn!(error = %e, "stream connection failed");
                (Failure::Network, None)
            }
            Ok(resp) if resp.status().is_success() => {
                auth.seen = 0;
                tracing::info!("stream connected");
                let mut conn = Connection {
                    tx,
                    origin: &origin,
                    counters,
                    backoff: &mut backoff,
                    line_no: &mut line_no,
                    splitter: Splitter::new(args.max_line_bytes),
                    max_line_bytes: args.max_line_bytes,
                    prefix: &args.rule_tag_prefix,
                };
                let ended = conn.read(resp, args.stream_timeout, shutdown).await;
                let reason = match ended {
                    Ended::Stopped => return Ok(()),
                    Ended::Disconnect => "disconnect",
                    Ended::Closed => "closed",
                    Ended::Broken => "network",
                    Ended::Stalled => {
                        tracing::warn!(
                            timeout_ms = args.stream_timeout.as_millis() as u64,
                            "stream stalled; reconnecting"
                        );
                        "stall"
                    }
                };
                bump(counters, &format!("x_reconnects_{reason}"));
                (Failure::Network, None)
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let reset = until_reset(resp.headers());
                let body = client.error_body(resp).await;
                on_error_status(status, reset, &body, &mut auth, counters, Some("x_reconnects_http"))?
            }
        };
        let wait = backoff.next_at_least(failure, at_least);
        tracing::info!(wait_ms = wait.as_millis() as u64, ?failure, "reconnecting to the stream");
        if !tweetpipe_common::shutdown::sleep(shutdown, wait).await {
            return Ok(());
        }
    }
}

/// One open stream response.
struct Connection<'a> {
    tx: &'a Sender<Msg>,
    origin: &'a Arc<str>,
    counters: &'a mut XCounters,
    backoff: &'a mut XBackoff,
    line_no: &'a mut u64,
    splitter: Splitter,
    max_line_bytes: usize,
    /// The managed rules' tag prefix, left out of the per-rule counters.
    prefix: &'a str,
}

impl Connection<'_> {
    async fn read(&mut self, mut resp: reqwest::Response, stall: Duration, shutdown: &Shutdown) -> Ended {
        let opened = Instant::now();
        let mut stable = false;
        let mut last_line = Instant::now();
        let mut pieces = Vec::new();
        loop {
            if !stable && opened.elapsed() >= STABLE_CONNECTION {
                stable = true;
                self.backoff.reset();
            }
            let chunk = tokio::select! {
                c = tokio::time::timeout_at(last_line + stall, resp.chunk()) => c,
                () = shutdown.cancelled() => return Ended::Stopped,
            };
            let bytes = match chunk {
                Err(_) => return self.end(Ended::Stalled).await,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "stream broke");
                    return self.end(Ended::Broken).await;
                }
                Ok(Ok(None)) => {
                    tracing::info!(open_s = opened.elapsed().as_secs(), "stream closed by the server");
                    return self.end(Ended::Closed).await;
                }
                Ok(Ok(Some(bytes))) => bytes,
            };
            self.splitter.push(&bytes, &mut pieces);
            if !pieces.is_empty() {
                last_line = Instant::now();
            }
            for piece in pieces.drain(..) {
                let end = match piece {
                    Piece::Line(line) => self.line(&line).await,
                    Piece::Oversized(head) => {
                        self.oversized(head).await;
                        None
                    }
                };
                if let Some(end) = end {
                    return end;
                }
            }
        }
    }

    /// Handles one complete line; `Some` when it ends the connection.
    async fn line(&mut self, line: &[u8]) -> Option<Ended> {
        *self.line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            bump(self.counters, "x_keep_alives");
            return None;
        }
        for item in classify_bytes(line) {
            match item {
                Item::Tweet(t) => {
                    bump(self.counters, "x_tweets");
                    for tag in rule_tags(&t.payload, self.prefix) {
                        bump(self.counters, &format!("x_tweets_rule_{tag}"));
                    }
                    // Real progress: the reconnect schedule starts over.
                    self.backoff.reset();
                    self.send(Item::Tweet(t)).await;
                }
                Item::Delete(id) => self.send(Item::Delete(id)).await,
                Item::Control(kind @ ("operational_disconnect" | "disconnect")) => {
                    tracing::warn!(kind, "X asked to reconnect");
                    return Some(Ended::Disconnect);
                }
                Item::Control(kind) => {
                    bump(self.counters, &format!("x_control_{kind}"));
                    tracing::info!(kind, line = %String::from_utf8_lossy(line).chars().take(300).collect::<String>(), "stream notice");
                }
                Item::Reject(mut r) => {
                    r.payload.get_or_insert_with(|| line.to_vec());
                    self.send(Item::Reject(r)).await;
                }
            }
        }
        None
    }

    /// A line cut at the limit: dead-lettered with its first bytes.
    async fn oversized(&mut self, head: Vec<u8>) {
        *self.line_no += 1;
        bump(self.counters, "x_oversized_lines");
        let message = format!(
            "stream line longer than the limit of {} bytes (kept the first {} bytes; the rest skipped to the next line)",
            self.max_line_bytes,
            head.len()
        );
        tracing::warn!(line = *self.line_no, limit = self.max_line_bytes, "oversized stream line cut");
        let reject = Reject { payload: Some(head), ..Reject::new(Class::Oversized, message) };
        self.send(Item::Reject(reject)).await;
    }

    /// Ends the connection; a partial line left in the buffer is dead-lettered, not dropped.
    async fn end(&mut self, how: Ended) -> Ended {
        let rest = self.splitter.rest();
        if !rest.iter().all(u8::is_ascii_whitespace) {
            bump(self.counters, "x_truncated_lines");
            let reject = Reject {
                payload: Some(rest.to_vec()),
                ..Reject::new(Class::TruncatedStreamLine, "the connection ended in the middle of a line")
            };
            *self.line_no += 1;
            self.send(Item::Reject(reject)).await;
        }
        how
    }

    async fn send(&mut self, item: Item) {
        let record = Record { origin: self.origin.clone(), line: *self.line_no, item };
        // A closed channel means the sink is gone (shutdown); nothing left to do with the item.
        let _ = self.tx.send(Msg::Record(record)).await;
    }
}

/// The tags of the rules a stream line matched, without this producer's tag prefix.
fn rule_tags(payload: &[u8], prefix: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Vec::new() };
    v.get("matching_rules")
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r.get("tag").and_then(Value::as_str))
                .map(|t| rules::shown_tag(t, prefix))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
