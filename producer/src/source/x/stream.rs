//! `--source x-stream`: the filtered stream, kept connected.
//!
//! Lines end with `\r\n` (tweet text may hold `\n`, never `\r`); a blank line is a keep-alive.
//! A disconnect notice or a clean close means "reconnect now"; silence longer than
//! `--stream-timeout` means the connection is dead. Errors back off on X's schedule
//! ([`super::backoff`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc::Sender;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::dead_letter::Class;
use tweetpipe_model::envelope::{classify_bytes, Item, Reject};

use super::backoff::{Failure, XBackoff};
use super::client::{on_error_status, snippet, until_reset, AuthFailures, XClient};
use super::{bump, rules, XCounters, XSettings, EXPANSIONS, TWEET_FIELDS, USER_FIELDS};
use crate::record::{Msg, Record};

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// X said to reconnect (an operational-disconnect line or similar).
    Disconnect,
    /// The server closed the response; `healthy` if anything arrived first.
    Closed { healthy: bool },
    /// Neither data nor keep-alive within the stream timeout.
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
    let wanted = args.wanted_rules()?;
    if wanted.is_empty() {
        tracing::warn!("no --rule given: streaming with the rules already set on the app");
    } else {
        rules::sync(&client, &wanted).await?;
    }
    let origin: Arc<str> = "x-stream".into();
    let path = format!(
        "/2/tweets/search/stream?tweet.fields={TWEET_FIELDS}&expansions={EXPANSIONS}&user.fields={USER_FIELDS}"
    );
    let stall = args.stream_timeout;
    let mut backoff = XBackoff::new(args.backoff_scale);
    let mut auth = AuthFailures { seen: 0, max: args.max_auth_failures };
    let mut line_no = 0u64;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        bump(counters, "x_connections");
        let sent = tokio::select! {
            r = client.get(&path).send() => r,
            () = shutdown.cancelled() => return Ok(()),
        };
        let (failure, at_least) = match sent {
            Err(e) => {
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
                };
                match conn.read(resp, stall, shutdown).await {
                    Ended::Stopped => return Ok(()),
                    Ended::Disconnect => {
                        bump(counters, "x_reconnects_disconnect");
                        continue;
                    }
                    Ended::Closed { healthy: true } => {
                        bump(counters, "x_reconnects_closed");
                        continue;
                    }
                    // A close before anything arrived, again and again, must not spin.
                    Ended::Closed { healthy: false } | Ended::Broken => {
                        bump(counters, "x_reconnects_network");
                        (Failure::Network, None)
                    }
                    Ended::Stalled => {
                        bump(counters, "x_reconnects_stall");
                        tracing::warn!(timeout_s = stall.as_secs(), "stream silent; reconnecting");
                        (Failure::Network, None)
                    }
                }
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let reset = until_reset(resp.headers());
                let body = snippet(resp).await;
                on_error_status(status, reset, &body, &mut auth, counters, Some("x_reconnects_http"))?
            }
        };
        let wait = backoff.next(failure).max(at_least.unwrap_or_default());
        tracing::info!(wait_ms = wait.as_millis() as u64, ?failure, "reconnecting to the stream");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => return Ok(()),
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
}

impl Connection<'_> {
    async fn read(&mut self, mut resp: reqwest::Response, stall: Duration, shutdown: &Shutdown) -> Ended {
        let mut buf: Vec<u8> = Vec::new();
        let mut healthy = false;
        let opened = Instant::now();
        loop {
            let chunk = tokio::select! {
                c = tokio::time::timeout(stall, resp.chunk()) => c,
                () = shutdown.cancelled() => return Ended::Stopped,
            };
            let bytes = match chunk {
                Err(_) => return self.end(Ended::Stalled, &buf).await,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "stream broke");
                    return self.end(Ended::Broken, &buf).await;
                }
                Ok(Ok(None)) => {
                    tracing::info!(open_s = opened.elapsed().as_secs(), "stream closed by the server");
                    return self.end(Ended::Closed { healthy }, &buf).await;
                }
                Ok(Ok(Some(bytes))) => bytes,
            };
            buf.extend_from_slice(&bytes);
            while let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = buf.drain(..pos + 2).take(pos).collect();
                healthy = true;
                self.backoff.reset();
                if let Some(end) = self.line(&line).await {
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
                    for tag in rule_tags(&t.payload) {
                        bump(self.counters, &format!("x_tweets_rule_{tag}"));
                    }
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

    /// Ends the connection; a partial line left in the buffer is dead-lettered, not dropped.
    async fn end(&mut self, how: Ended, rest: &[u8]) -> Ended {
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

/// The tags of the rules a stream line matched.
fn rule_tags(payload: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Vec::new() };
    v.get("matching_rules")
        .and_then(Value::as_array)
        .map(|rules| {
            rules.iter().filter_map(|r| r.get("tag").and_then(Value::as_str)).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}
