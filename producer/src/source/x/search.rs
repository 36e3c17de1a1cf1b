//! `--source x-search`: recent search, polled every `--interval`, following `next_token` pages.
//!
//! The newest id sent is kept in a checkpoint file (`--checkpoint-file`), written only after
//! Kafka acknowledged every tweet up to it; the next poll, and a restarted producer, ask X for
//! tweets after it (`since_id`), so a restart neither misses nor repeats a window.
//! `--start-time` runs one backfill from that time and exits.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc::Sender;
use tokio::sync::oneshot;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::envelope::{classify_value, Item};
use tweetpipe_model::id::parse_id_str;

use super::backoff::{Failure, XBackoff};
use super::client::{on_error_status, remaining, snippet, until_reset, AuthFailures, XClient};
use super::{bump, XCounters, XSettings, EXPANSIONS, TWEET_FIELDS, USER_FIELDS};
use crate::record::{Msg, Record};

/// The checkpoint file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The query it belongs to: a checkpoint of another query is ignored.
    pub query: String,
    /// The newest tweet id sent and acknowledged, as decimal digits.
    pub since_id: String,
}

impl Checkpoint {
    pub fn load(path: &Path, query: &str) -> anyhow::Result<Option<i64>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading checkpoint {}", path.display())),
        };
        let cp: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("checkpoint {} is not valid", path.display()))?;
        if cp.query != query {
            tracing::warn!(path = %path.display(), "checkpoint belongs to another query; starting afresh");
            return Ok(None);
        }
        Ok(Some(parse_id_str(&cp.since_id).with_context(|| format!("checkpoint {}", path.display()))?))
    }

    /// Writes atomically: a crash leaves the old checkpoint or the new one, never half of one.
    pub fn save(path: &Path, query: &str, since_id: i64) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        let cp = Checkpoint { query: query.to_owned(), since_id: since_id.to_string() };
        std::fs::write(&tmp, serde_json::to_vec(&cp)?)?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing checkpoint {}", path.display()))
    }
}

pub async fn run(
    args: &XSettings,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
    counters: &mut XCounters,
) -> anyhow::Result<()> {
    let query = args.query.clone().context("--source x-search needs --query")?;
    let client = XClient::new(args)?;
    let origin: Arc<str> = "x-search".into();
    let mut since =
        if args.start_time.is_some() { None } else { Checkpoint::load(&args.checkpoint_file, &query)? };
    let mut poller = Poller {
        client,
        args,
        origin,
        counters,
        backoff: XBackoff::new(args.backoff_scale),
        auth: AuthFailures { seen: 0, max: args.max_auth_failures },
    };
    loop {
        let Some(newest) = poller.poll(&query, since, tx, shutdown).await? else { return Ok(()) };
        if let Some(newest) = newest.filter(|n| Some(*n) > since) {
            // The checkpoint moves only once Kafka has every tweet up to it.
            let (reply, acked) = oneshot::channel();
            if tx.send(Msg::Flush(reply)).await.is_err() || !acked.await.unwrap_or(false) {
                if shutdown.is_cancelled() {
                    tracing::info!(since_id = ?since, "stopped before Kafka acknowledged the poll; checkpoint unchanged");
                    return Ok(());
                }
                anyhow::bail!("Kafka did not acknowledge the search results; checkpoint left at {since:?}");
            }
            Checkpoint::save(&args.checkpoint_file, &query, newest)?;
            tracing::info!(since_id = newest, "search checkpoint saved");
            since = Some(newest);
        }
        if args.start_time.is_some() {
            tracing::info!("backfill from --start-time done");
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(args.interval) => {}
            () = shutdown.cancelled() => return Ok(()),
        }
    }
}

struct Poller<'a> {
    client: XClient,
    args: &'a XSettings,
    origin: Arc<str>,
    counters: &'a mut XCounters,
    backoff: XBackoff,
    auth: AuthFailures,
}

impl Poller<'_> {
    /// One poll: every page after `since`. `Ok(None)` when stopped; otherwise the newest id seen.
    async fn poll(
        &mut self,
        query: &str,
        since: Option<i64>,
        tx: &Sender<Msg>,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<Option<i64>>> {
        let mut newest: Option<i64> = None;
        let mut next_token: Option<String> = None;
        let mut page_no = 0u64;
        loop {
            let mut params: Vec<(&str, String)> = vec![
                ("query", query.to_owned()),
                ("max_results", "100".to_owned()),
                ("tweet.fields", TWEET_FIELDS.to_owned()),
                ("expansions", EXPANSIONS.to_owned()),
                ("user.fields", USER_FIELDS.to_owned()),
            ];
            if let Some(s) = since {
                params.push(("since_id", s.to_string()));
            }
            if let Some(t) = self.args.start_time {
                params.push(("start_time", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            if let Some(t) = &next_token {
                params.push(("next_token", t.clone()));
            }
            let Some(page) = self.fetch(&params, shutdown).await? else { return Ok(None) };
            page_no += 1;
            bump(self.counters, "x_search_pages");
            if let Some(n) =
                page.pointer("/meta/newest_id").and_then(Value::as_str).and_then(|s| parse_id_str(s).ok())
            {
                newest = newest.max(Some(n));
            }
            next_token = page.pointer("/meta/next_token").and_then(Value::as_str).map(str::to_owned);
            for item in classify_value(page, None) {
                if let Item::Tweet(t) = &item {
                    newest = newest.max(Some(t.id));
                    bump(self.counters, "x_tweets");
                } else if matches!(item, Item::Control(_)) {
                    continue;
                }
                let record = Record { origin: self.origin.clone(), line: page_no, item };
                if tx.send(Msg::Record(record)).await.is_err() {
                    return Ok(None);
                }
            }
            if next_token.is_none() {
                return Ok(Some(newest));
            }
        }
    }

    /// GETs one page, waiting out rate limits and retrying errors on X's schedule.
    async fn fetch(
        &mut self,
        params: &[(&str, String)],
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<Value>> {
        loop {
            let sent = tokio::select! {
                r = self.client.get("/2/tweets/search/recent").query(params).send() => r,
                () = shutdown.cancelled() => return Ok(None),
            };
            let (failure, at_least) = match sent {
                Err(e) => {
                    tracing::warn!(error = %e, "search request failed");
                    (Failure::Network, None)
                }
                Ok(resp) if resp.status().is_success() => {
                    self.auth.seen = 0;
                    self.backoff.reset();
                    // Out of requests in this window: wait for the next one before asking again.
                    if remaining(resp.headers()) == Some(0) {
                        if let Some(wait) = until_reset(resp.headers()) {
                            bump(self.counters, "x_rate_limit_waits");
                            tracing::info!(
                                wait_s = wait.as_secs(),
                                "search rate limit reached; waiting for the reset"
                            );
                            let page: Value = resp.json().await.context("reading a search page")?;
                            tokio::select! {
                                () = tokio::time::sleep(wait) => {}
                                () = shutdown.cancelled() => {}
                            }
                            return Ok(Some(page));
                        }
                    }
                    return Ok(Some(resp.json().await.context("reading a search page")?));
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let reset = until_reset(resp.headers());
                    let body = snippet(resp).await;
                    on_error_status(status, reset, &body, &mut self.auth, self.counters, None)?
                }
            };
            let wait = self.backoff.next(failure).max(at_least.unwrap_or_default());
            tracing::info!(wait_ms = wait.as_millis() as u64, ?failure, "retrying the search");
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => return Ok(None),
            }
        }
    }
}
