//! The X API v2 sources: the filtered stream (`--source x-stream`) and recent search
//! (`--source x-search`), built to run unattended: rules synced at start, reconnects on X's
//! documented schedule, rate limits honoured, and a search checkpoint that survives restarts.

pub mod backoff;
pub mod client;
pub mod rules;
pub mod search;
pub mod stream;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use secrecy::{ExposeSecret as _, SecretString};

/// What the consumer stores, asked for on every request.
pub const TWEET_FIELDS: &str =
    "created_at,public_metrics,lang,entities,note_tweet,referenced_tweets,author_id,geo";
pub const EXPANSIONS: &str = "author_id,referenced_tweets.id,geo.place_id";
pub const USER_FIELDS: &str = "username,location";

/// Settings of the X sources.
#[derive(Clone, Args)]
pub struct XArgs {
    /// Base URL of the X API; tests and proxies point it elsewhere.
    #[arg(long = "api-base-url", env = "X_API_BASE_URL", default_value = "https://api.x.com")]
    pub api_base_url: String,

    /// App-only bearer token; set X_BEARER_TOKEN instead of passing it on a command line.
    #[arg(long = "bearer-token", env = "X_BEARER_TOKEN", hide = true, hide_env_values = true)]
    pub bearer_token: Option<SecretString>,

    /// File holding the bearer token (a mounted Kubernetes Secret). The token can also come from
    /// the X_BEARER_TOKEN environment variable. It is never printed.
    #[arg(long = "bearer-token-file", env = "X_BEARER_TOKEN_FILE", value_name = "PATH")]
    pub bearer_token_file: Option<PathBuf>,

    /// Filtered-stream rule (repeatable): `VALUE`, or `TAG: VALUE` to tag it,
    /// e.g. `--rule 'jb: #justinbieber -is:retweet'`.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,

    /// File of filtered-stream rules, one per line in `--rule` syntax; `#` starts a comment.
    #[arg(long = "rules-file", env = "TWEETPIPE_X_RULES_FILE", value_name = "PATH")]
    pub rules_file: Option<PathBuf>,

    /// Seconds with neither data nor keep-alive after which the stream counts as dead.
    #[arg(
        long = "stream-timeout",
        env = "TWEETPIPE_X_STREAM_TIMEOUT",
        default_value_t = 20,
        value_name = "SECONDS"
    )]
    pub stream_timeout_secs: u64,

    /// Recent-search query (`--source x-search`).
    #[arg(long, env = "TWEETPIPE_X_QUERY")]
    pub query: Option<String>,

    /// Seconds between recent-search polls.
    #[arg(long = "interval", env = "TWEETPIPE_X_INTERVAL", default_value_t = 60, value_name = "SECONDS")]
    pub interval_secs: u64,

    /// One-off backfill: search from this time (RFC 3339, at most 7 days back), then exit.
    #[arg(long = "start-time", env = "TWEETPIPE_X_START_TIME", value_name = "RFC3339")]
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,

    /// Where recent search keeps the newest id it sent, so a restart neither misses nor repeats.
    #[arg(
        long = "checkpoint-file",
        env = "TWEETPIPE_X_CHECKPOINT",
        default_value = "x-search.checkpoint",
        value_name = "PATH"
    )]
    pub checkpoint_file: PathBuf,

    /// Consecutive 401/403 answers before giving up with an error.
    #[arg(long = "max-auth-failures", env = "TWEETPIPE_X_MAX_AUTH_FAILURES", default_value_t = 3)]
    pub max_auth_failures: u32,

    /// Shrinks every reconnect delay (for tests of the real schedule); 1 in production.
    #[arg(long = "x-backoff-scale", hide = true, default_value_t = 1.0)]
    pub backoff_scale: f64,
}

impl std::fmt::Debug for XArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XArgs")
            .field("api_base_url", &self.api_base_url)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("bearer_token_file", &self.bearer_token_file)
            .field("rules", &self.rules)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl XArgs {
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

/// Counts one event in the summary and on `/metrics` (`tweetpipe_<name>_total`; per-rule
/// counts as `tweetpipe_x_tweets_by_rule_total{tag}`).
pub fn bump(counters: &mut XCounters, name: &str) {
    *counters.entry(name.to_owned()).or_default() += 1;
    match name.strip_prefix("x_tweets_rule_") {
        Some(tag) => {
            metrics::counter!("tweetpipe_x_tweets_by_rule_total", "tag" => tag.to_owned()).increment(1)
        }
        None => metrics::counter!(format!("tweetpipe_{name}_total")).increment(1),
    }
}
