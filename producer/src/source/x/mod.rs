//! The X API v2 sources: the filtered stream (`--source x-stream`) and recent search
//! (`--source x-search`), built to run unattended: rules synced at start, reconnects on X's
//! documented schedule, rate limits honoured, and a search checkpoint that survives restarts.

pub mod backoff;
pub mod client;
pub mod rules;
pub mod search;
pub mod stream;
pub mod stream_lines;

use std::collections::BTreeMap;
use std::path::PathBuf;

use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};

/// What the consumer stores, asked for on every request.
pub const TWEET_FIELDS: &str =
    "created_at,public_metrics,lang,entities,note_tweet,referenced_tweets,author_id,geo";
pub const EXPANSIONS: &str = "author_id,referenced_tweets.id,geo.place_id";
pub const USER_FIELDS: &str = "username,location";

/// Settings of the X sources, built from the command line once (`cli::XArgs`) or by hand.
#[derive(Clone)]
pub struct XSettings {
    /// Base URL of the X API; tests and proxies point it elsewhere.
    pub api_base_url: String,
    /// The bearer token, when given directly (X_BEARER_TOKEN).
    pub bearer_token: Option<SecretString>,
    /// A file holding the bearer token (a mounted Secret); wins over `bearer_token`.
    pub bearer_token_file: Option<PathBuf>,
    /// Filtered-stream rules in `--rule` syntax.
    pub rules: Vec<String>,
    /// A file of further rules, one a line.
    pub rules_file: Option<PathBuf>,
    /// Silence after which the stream counts as dead.
    pub stream_timeout: Duration,
    /// The recent-search query.
    pub query: Option<String>,
    /// Time between recent-search polls.
    pub interval: Duration,
    /// One-off backfill from this time.
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Where recent search keeps the newest id it sent.
    pub checkpoint_file: PathBuf,
    /// Consecutive 401/403 answers before giving up.
    pub max_auth_failures: u32,
    /// Shrinks every reconnect delay (tests of the real schedule); 1 in production.
    pub backoff_scale: f64,
    /// Deadline for connecting, for response headers, and between the bytes of a body.
    pub response_timeout: Duration,
    /// Longest stream line; a longer one is cut and dead-lettered as `oversized`.
    pub max_line_bytes: usize,
    /// Tag prefix marking the stream rules this producer manages (and may delete).
    pub rule_tag_prefix: String,
}

impl std::fmt::Debug for XSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XSettings")
            .field("api_base_url", &self.api_base_url)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.bearer_token_file)
            .field("rules", &self.rules)
            .field("query", &self.query)
            .field("response_timeout", &self.response_timeout)
            .field("rule_tag_prefix", &self.rule_tag_prefix)
            .finish_non_exhaustive()
    }
}

impl XSettings {
    /// The bearer token, from the file when one is given, else from X_BEARER_TOKEN.
    pub fn token(&self) -> anyhow::Result<SecretString> {
        if let Some(path) = &self.bearer_token_file {
            let raw = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the bearer token file {}", path.display()))?;
            let token = raw.trim().to_owned();
            anyhow::ensure!(!token.is_empty(), "the bearer token file {} is empty", path.display());
            return Ok(token.into());
        }
        match &self.bearer_token {
            Some(t) if !t.expose_secret().trim().is_empty() => Ok(t.expose_secret().trim().to_owned().into()),
            _ => anyhow::bail!("no X bearer token: set X_BEARER_TOKEN or --bearer-token-file"),
        }
    }

    /// The configured rules, from `--rule` and `--rules-file`.
    pub fn wanted_rules(&self) -> anyhow::Result<Vec<rules::Rule>> {
        let mut lines: Vec<String> = self.rules.clone();
        if let Some(path) = &self.rules_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the rules file {}", path.display()))?;
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
        Ok(lines.iter().map(|l| rules::Rule::parse(l)).collect())
    }
}

/// Counters of an X source, printed with the summary (`x_connections`, `x_reconnects_http`, …).
pub type XCounters = BTreeMap<String, u64>;

/// Adds one source's counters to the run's.
pub fn merge(total: &mut XCounters, counters: XCounters) {
    for (name, n) in counters {
        *total.entry(name).or_default() += n;
    }
}

/// Counts one event in the summary and on `/metrics` (`tweetpipe_<name>_total`; per-rule
/// counts as `tweetpipe_x_tweets_by_rule_total{tag}`, reconnects as
/// `tweetpipe_x_reconnects_total{reason}`).
pub fn bump(counters: &mut XCounters, name: &str) {
    *counters.entry(name.to_owned()).or_default() += 1;
    if let Some(tag) = name.strip_prefix("x_tweets_rule_") {
        metrics::counter!("tweetpipe_x_tweets_by_rule_total", "tag" => tag.to_owned()).increment(1)
    } else if let Some(reason) = name.strip_prefix("x_reconnects_") {
        metrics::counter!("tweetpipe_x_reconnects_total", "reason" => reason.to_owned()).increment(1)
    } else {
        metrics::counter!(format!("tweetpipe_{name}_total")).increment(1)
    }
}
