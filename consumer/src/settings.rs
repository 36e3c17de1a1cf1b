//! What each command needs, decided once from the command line ([`crate::cli`]) and checked
//! before anything starts: settings → [`validate`](DatabaseSettings::validate) → build. Every
//! module below the command line takes these, never flags. A setting that can never work is a
//! configuration error (exit 78) naming it, and secrets stay wrapped: no `Debug`, error or log
//! line shows them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions as _;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::kafka::KafkaSettings;
use tweetpipe_model::filter::FilterMode;

/// Where the database is and how the consumer talks to it.
#[derive(Clone)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_size: u32,
    /// Longest a statement may run; zero means no limit, as `statement_timeout = 0` does.
    pub statement_timeout: Duration,
    /// The whole connect, retries and the pool's first connection included.
    pub connect_timeout: Duration,
}

/// A database the settings can reach: the connect options and how to name it in messages.
#[derive(Debug, Clone)]
pub struct Database {
    pub options: PgConnectOptions,
    /// `postgres://user@host:port/database`: never the password.
    pub shown: String,
}

impl DatabaseSettings {
    /// The connect options, or a configuration error naming what is wrong. The URL is shown
    /// without its userinfo: a password holding an unencoded `/` or `@` breaks the URL's
    /// structure, and any part of it could then be taken for the host or the path.
    pub fn validate(&self) -> anyhow::Result<Database> {
        let url = self.url.expose_secret();
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("postgres" | "postgresql")) {
            return Err(Classified::config(format!(
                "DATABASE_URL must be a postgres:// URL, not {}",
                without_userinfo(url)
            )));
        }
        // sqlx's parse errors can quote the URL, password included: report ours instead.
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            let reason = match e {
                sqlx::Error::Configuration(cause) if !quotes_userinfo(&cause.to_string(), url) => {
                    format!(": {cause}")
                }
                _ => String::new(),
            };
            Classified::config(format!("DATABASE_URL is not valid ({}){reason}", without_userinfo(url)))
        })?;
        if self.pool_size == 0 {
            return Err(Classified::config("--db-pool-size must be at least 1"));
        }
        if self.connect_timeout.is_zero() {
            return Err(Classified::config("--db-connect-timeout must be longer than zero"));
        }
        let shown = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        let statement_timeout = match self.statement_timeout.as_millis() {
            0 => "0".to_owned(),
            ms => format!("{}ms", ms.max(1)),
        };
        let options = options
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(10))
            // A member stopped mid-transaction (a zombie: SIGSTOP, a frozen VM) would hold its
            // rows and its partitions' offsets locked for as long as it is stopped, and the
            // partitions' new owner would wait on them: PostgreSQL ends such a transaction.
            .options([
                ("statement_timeout", statement_timeout),
                ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION.to_owned()),
            ])
            .application_name("tweetpipe-consumer");
        Ok(Database { options, shown })
    }
}

/// How long a transaction may sit idle (between statements) before PostgreSQL ends it: far
/// longer than a batch's pause between statements, about a session timeout of a stopped member.
const IDLE_IN_TRANSACTION: &str = "20s";

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &without_userinfo(self.url.expose_secret()))
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// `scheme://***@host…`: everything up to the last `@` is userinfo (a password may hold
/// characters that end the authority early), so all of it goes; no `://`, nothing is shown.
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "***".to_owned() };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => format!("{scheme}://{rest}"),
    }
}

/// Whether `message` quotes any part of `url`'s userinfo (a parser may echo what it choked on).
fn quotes_userinfo(message: &str, url: &str) -> bool {
    let userinfo = url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(u, _)| u);
    userinfo.is_some_and(|u| u.split([':', '/', '@']).any(|part| part.len() >= 3 && message.contains(part)))
}

/// The pseudonym key's source.
#[derive(Clone)]
pub enum PseudonymKey {
    File(PathBuf),
    Value(SecretString),
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Value(_) => f.write_str("Value(***)"),
        }
    }
}

/// `tweetpipe-consumer run`.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub kafka: KafkaSettings,
    pub database: DatabaseSettings,
    /// Apply the migrations before consuming (off when a hook or a DBA applies them).
    pub migrate: bool,
    pub topic: String,
    pub group: String,
    pub batch_size: usize,
    pub db_writers: usize,
    pub batch_linger: Duration,
    pub dedup_cache: usize,
    pub filter_terms: Vec<String>,
    pub filter_file: Option<PathBuf>,
    pub filter_mode: FilterMode,
    /// `--dedup content`: link repeated texts to their first tweet.
    pub link_content: bool,
    /// Pseudonymise with this key (`--pseudonymize`).
    pub pseudonym_key: Option<PseudonymKey>,
    pub exit_at_end: bool,
    /// Seed a fresh group's start at this time (`--from` with a time).
    pub seed_from: Option<chrono::DateTime<chrono::Utc>>,
    pub http_addr: Option<std::net::SocketAddr>,
    pub drain_timeout: Duration,
    pub summary_json: Option<PathBuf>,
}

impl RunSettings {
    /// Everything a run can know is wrong before it connects anywhere.
    pub fn validate(&self) -> anyhow::Result<Database> {
        let config = |m: &str| Err(Classified::config(m.to_owned()));
        if self.batch_size == 0 {
            return config("--batch-size must be at least 1");
        }
        if self.db_writers == 0 {
            return config("--db-writers must be at least 1");
        }
        if self.topic.is_empty() || self.group.is_empty() {
            return config("--topic and --group must not be empty");
        }
        self.database.validate()
    }
}

/// `tweetpipe-consumer check`.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub run: RunSettings,
    /// How long the whole check may take.
    pub timeout: Duration,
}

/// `tweetpipe-consumer replay`.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    pub kafka: KafkaSettings,
    pub database: DatabaseSettings,
    pub topic: String,
    pub group: String,
    pub target: Target,
    /// Commit the plan; without it, only print it.
    pub execute: bool,
}

/// `tweetpipe-consumer stats`.
#[derive(Debug, Clone)]
pub struct StatsSettings {
    pub database: DatabaseSettings,
    /// Rows per day, else per hour.
    pub by_day: bool,
}

#[cfg(test)]
mod tests;

/// Where to move the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Earliest,
    Datetime(chrono::DateTime<chrono::Utc>),
    Offsets(BTreeMap<i32, i64>),
}

impl Target {
    /// `PARTITION:OFFSET,…` (`--to-offsets`).
    pub fn offsets(spec: &str) -> anyhow::Result<Self> {
        let mut offsets = BTreeMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (p, o) = pair.split_once(':').with_context(|| format!("{pair:?} is not PARTITION:OFFSET"))?;
            offsets.insert(
                p.trim().parse().with_context(|| format!("bad partition in {pair:?}"))?,
                o.trim().parse().with_context(|| format!("bad offset in {pair:?}"))?,
            );
        }
        anyhow::ensure!(!offsets.is_empty(), "--to-offsets needs at least one PARTITION:OFFSET");
        Ok(Self::Offsets(offsets))
    }
}
