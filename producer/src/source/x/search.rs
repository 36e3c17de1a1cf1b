//! `--source x-search`: recent search, polled every `--interval`, following `next_token` pages.
//!
//! The checkpoint (`--checkpoint-file`) is the newest tweet id this producer delivered (never
//! what a page's `meta.newest_id` claims), written once Kafka acknowledged the whole poll, to a
//! temporary file that is synced and then renamed over the old one. The next poll, and a
//! restarted producer, ask X for tweets after it (`since_id`).
//!
//! A poll always ends: a `next_token` seen before in the same poll ends it (counted as
//! `x_search_repeated_tokens`); a page that cannot be fetched or read (an HTML answer, a cut or
//! oversized body, a server error) is retried on X's schedule up to [`ATTEMPTS`] times, then the
//! poll is abandoned (`x_search_polls_abandoned`) and the checkpoint stays where it was, so the
//! next poll asks for the same window again (some tweets may be sent twice; none skipped). A
//! `since_id` X refuses (older than its search window) is dropped with a warning, and the poll
//! starts again from the beginning of the window. `--start-time` runs one backfill and exits.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc::Sender;
use tokio::sync::oneshot;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::envelope::{classify_value, Item};
use tweetpipe_model::id::parse_id_str;

use super::backoff::{Failure, XBackoff, ATTEMPTS};
use super::client::{on_error_status, remaining, until_reset, AuthFailures, XClient};
use super::{bump, XCounters, XSettings, EXPANSIONS, TWEET_FIELDS, USER_FIELDS};
use crate::record::{Msg, Record};

/// The largest search page read: 100 tweets with their expansions are well under 1 MiB.
pub const PAGE_LIMIT: usize = 8 * 1024 * 1024;

/// The checkpoint file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The query it belongs to: a checkpoint of another query is ignored.
    pub query: String,
    /// The newest tweet id sent and acknowledged, as decimal digits.
    pub since_id: String,
}

impl Checkpoint {
    /// The saved `since_id`; a checkpoint that cannot be read is a configuration error (78).
    pub fn load(path: &Path, query: &str) -> anyhow::Result<Option<i64>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Classified::config(format!("reading checkpoint {}: {e}", path.display()))),
        };
        let bad = |e: String| Classified::config(format!("checkpoint {} is not valid: {e}", path.display()));
        let cp: Checkpoint = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if cp.query != query {
            tracing::warn!(path = %path.display(), "checkpoint belongs to another query; starting afresh");
            return Ok(None);
        }
        Ok(Some(parse_id_str(&cp.since_id).map_err(|e| bad(format!("{e:?}")))?))
    }

    /// Writes durably: a temporary file, synced, renamed over the old one, and the directory
    /// synced, so a crash or power loss leaves the old checkpoint or the new one.
    pub fn save(path: &Path, query: &str, since_id: i64) -> anyhow::Result<()> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension("tmp");
        let cp = Checkpoint { query: query.to_owned(), since_id: since_id.to_string() };
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&serde_json::to_vec(&cp)?)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().with_context(|| format!("writing checkpoint {}", path.display()))
    }
}

/// How a poll ended.
enum Poll {
    /// Every page read; the newest tweet id delivered, if any.
    Done(Option<i64>),
    /// A page could not be had; the checkpoint must not move.
    Abandoned,
    Stopped,
}

/// What fetching one page gave.
enum Fetched {
    Page(Value),
    /// Failed [`ATTEMPTS`] times.
    Failed(String),
    /// X refused the `since_id` (older than its search window).
    SinceRefused(String),
    Stopped,
}

pub async fn run(
    args: &XSettings,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
    counters: &mut XCounters,
) -> anyhow::Result<()> {
    let query = args.query.clone().ok_or_else(|| Classified::config("--source x-search needs --query"))?;
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
        match poller.poll(&query, &mut since, tx, shutdown).await? {
            Poll::Stopped => return Ok(()),
            Poll::Abandoned => {
                bump(poller.counters, "x_search_polls_abandoned");
                tracing::warn!(since_id = ?since, "search poll abandoned; checkpoint unchanged, the next poll asks again");
            }
            Poll::Done(newest) => {
                if let Some(newest) = newest.filter(|n| Some(*n) > since) {
                    // The checkpoint moves only once Kafka has every tweet up to it.
                    let (reply, acked) = oneshot::channel();
                    if tx.send(Msg::Flush(reply)).await.is_err() || !acked.await.unwrap_or(false) {
                        if shutdown.is_cancelled() {
                            tracing::info!(since_id = ?since, "stopped before Kafka acknowledged the poll; checkpoint unchanged");
                            return Ok(());
                        }
                        anyhow::bail!(
                            "Kafka did not acknowledge the search results; checkpoint left at {since:?}"
                        );
                    }
                    Checkpoint::save(&args.checkpoint_file, &query, newest)?;
                    tracing::info!(since_id = newest, "search checkpoint saved");
                    since = Some(newest);
                }
                if args.start_time.is_some() {
                    tracing::info!("backfill from --start-time done");
                    return Ok(());
                }
            }
        }
        if !tweetpipe_common::shutdown::sleep(shutdown, args.interval).await {
            return Ok(());
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
    /// One poll: every page after `since` (cleared when X refuses it).
    async fn poll(
        &mut self,
        query: &str,
        since: &mut Option<i64>,
        tx: &Sender<Msg>,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Poll> {
        let mut newest: Option<i64> = None;
        let mut next_token: Option<String> = None;
        let mut tokens_seen: HashSet<String> = HashSet::new();
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
            let page = match self.fetch(&params, since.is_some(), shutdown).await? {
                Fetched::Page(page) => page,
                Fetched::Stopped => return Ok(Poll::Stopped),
                Fetched::Failed(why) => {
                    tracing::warn!(page = page_no + 1, error = %why, "search page failed");
                    return Ok(Poll::Abandoned);
                }
                Fetched::SinceRefused(body) => {
                    bump(self.counters, "x_search_since_id_refused");
                    tracing::warn!(since_id = ?since, x_said = %body, "X refused the checkpoint's since_id (older than its search window); searching from the start of the window");
                    *since = None;
                    next_token = None;
                    tokens_seen.clear();
                    continue;
                }
            };
            page_no += 1;
            bump(self.counters, "x_search_pages");
            next_token = page.pointer("/meta/next_token").and_then(Value::as_str).map(str::to_owned);
            for item in classify_value(page, None) {
                let id = match &item {
                    Item::Tweet(t) => Some(t.id),
                    Item::Control(_) => continue,
                    _ => None,
                };
                let record = Record { origin: self.origin.clone(), line: page_no, item };
                if tx.send(Msg::Record(record)).await.is_err() {
                    return Ok(Poll::Stopped);
                }
                if let Some(id) = id {
                    // Only what was handed to the sink counts for the checkpoint.
                    newest = newest.max(Some(id));
                    bump(self.counters, "x_tweets");
                }
            }
            match &next_token {
                None => return Ok(Poll::Done(newest)),
                Some(t) if !tokens_seen.insert(t.clone()) => {
                    bump(self.counters, "x_search_repeated_tokens");
                    tracing::warn!(
                        pages = page_no,
                        "X repeated a next_token within one poll; ending the poll"
                    );
                    return Ok(Poll::Done(newest));
                }
                Some(_) => {}
            }
        }
    }

    /// GETs one page, waiting out rate limits and retrying failures on X's schedule.
    async fn fetch(
        &mut self,
        params: &[(&str, String)],
        has_since: bool,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Fetched> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let sent = tokio::select! {
                r = self.client.send(self.client.get("/2/tweets/search/recent").query(params)) => r,
                () = shutdown.cancelled() => return Ok(Fetched::Stopped),
            };
            let (failure, at_least) = match sent {
                Err(e) => {
                    last = e;
                    (Failure::Network, None)
                }
                Ok(mut resp) if resp.status().is_success() => {
                    self.auth.seen = 0;
                    // Out of requests in this window: wait for the next one before asking again.
                    let pause =
                        (remaining(resp.headers()) == Some(0)).then(|| until_reset(resp.headers())).flatten();
                    match self.page(&mut resp).await {
                        Ok(page) => {
                            self.backoff.reset();
                            if let Some(wait) = pause {
                                let wait = wait.min(self.backoff.rate_limit_cap());
                                bump(self.counters, "x_rate_limit_waits");
                                tracing::info!(
                                    wait_ms = wait.as_millis() as u64,
                                    "search rate limit reached; waiting for the reset"
                                );
                                tweetpipe_common::shutdown::sleep(shutdown, wait).await;
                            }
                            return Ok(Fetched::Page(page));
                        }
                        Err(e) => {
                            bump(self.counters, "x_search_bad_pages");
                            last = e;
                            (Failure::Network, None)
                        }
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let reset = until_reset(resp.headers());
                    let body = self.client.error_body(resp).await;
                    if status == 400 && has_since && body.contains("since_id") {
                        return Ok(Fetched::SinceRefused(body));
                    }
                    last = format!("HTTP {status}: {body}");
                    on_error_status(status, reset, &body, &mut self.auth, self.counters, None)?
                }
            };
            if attempt == ATTEMPTS {
                break;
            }
            let wait = self.backoff.next_at_least(failure, at_least);
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, ?failure, "retrying the search page");
            if !tweetpipe_common::shutdown::sleep(shutdown, wait).await {
                return Ok(Fetched::Stopped);
            }
        }
        Ok(Fetched::Failed(last))
    }

    /// Reads a page body within [`PAGE_LIMIT`]: it must be a JSON object.
    async fn page(&self, resp: &mut reqwest::Response) -> Result<Value, String> {
        let body = self.client.body(resp, PAGE_LIMIT).await.map_err(|e| e.to_string())?;
        match serde_json::from_slice::<Value>(&body) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err("the page is not a JSON object".to_owned()),
            Err(e) => Err(format!("the page is not JSON ({e})")),
        }
    }
}
