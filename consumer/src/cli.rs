//! Flags and environment variables, with defaults that work against the local stack. The only
//! module that knows the command line: each command's flags become its settings
//! ([`crate::settings`]) here, once, and every module below takes those.

use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};
use tweetpipe_common::duration;
use tweetpipe_common::kafka::args::KafkaArgs;
use tweetpipe_common::telemetry::LogFormat;

mod settings;

#[derive(Debug, Parser)]
#[command(
    name = "tweetpipe-consumer",
    version,
    about = "De-duplicate tweets from Kafka, drop music tweets, upsert the rest into PostgreSQL."
)]
pub struct Cli {
    /// Log line format.
    #[arg(long, env = "TWEETPIPE_LOG_FORMAT", default_value_t, value_parser = log_format(), global = true)]
    #[arg(help_heading = "Output")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--log-format`: one of [`LogFormat::ALL`] by name, each described in `--help`.
fn log_format() -> impl TypedValueParser<Value = LogFormat> {
    let names = LogFormat::ALL.map(|format| PossibleValue::new(format.name()).help(format.description()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<LogFormat>())
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Join the consumer group and store tweets (runs migrations first, unless --no-migrate).
    Run(RunArgs),
    /// Check what `run` with the same flags and environment needs (brokers, credentials, topic,
    /// the group's position, PostgreSQL, TLS, migrations), a line per step, within --timeout.
    /// Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong.
    Check(CheckArgs),
    /// Apply the database migrations and exit (or print them with --print-sql).
    Migrate(MigrateArgs),
    /// Move a group's committed offsets back (or forward) to replay a topic. A dry run unless
    /// --execute; refuses while the group has active members.
    Replay(ReplayArgs),
    /// The tweet count: seen, stored, duplicates, filtered (music), deleted, overall and per
    /// hour or day.
    Stats(StatsArgs),
}

/// `tweetpipe-consumer check`: the flags of `run`, and how long the check may take.
#[derive(Debug, Clone, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,

    /// How long the whole check may take (it does not wait out start-up retries).
    #[arg(long, env = "TWEETPIPE_CHECK_TIMEOUT", default_value = "10s", value_parser = duration::secs, value_name = "DURATION")]
    #[arg(help_heading = "Check")]
    pub(crate) timeout: Duration,
}

/// `tweetpipe-consumer migrate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,

    /// Print the embedded migrations' SQL, in the order they apply, and exit without
    /// connecting (for a DBA to review or apply).
    #[arg(long = "print-sql")]
    pub(crate) print_sql: bool,
}

/// `tweetpipe-consumer replay`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "to_datetime", "to_offsets"])))]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub(crate) kafka: KafkaArgs,

    /// Where the group's offsets live beside Kafka's (members resume from the database's).
    #[command(flatten)]
    #[command(next_help_heading = "Database")]
    pub(crate) database: DatabaseArgs,

    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    pub(crate) topic: String,

    #[arg(long, env = "TWEETPIPE_GROUP", default_value = "tweetpipe")]
    pub(crate) group: String,

    /// `earliest`: the start of every partition.
    #[arg(long, value_parser = ["earliest"])]
    pub(crate) to: Option<String>,

    /// The first offset at or after this time (RFC 3339), per partition; the end when later.
    #[arg(long = "to-datetime", value_name = "RFC3339")]
    pub(crate) to_datetime: Option<chrono::DateTime<chrono::Utc>>,

    /// Explicit offsets, `PARTITION:OFFSET,…`.
    #[arg(long = "to-offsets", value_name = "P:O,…")]
    pub(crate) to_offsets: Option<String>,

    /// Commit the targets. Without it, only print what would happen.
    #[arg(long)]
    pub(crate) execute: bool,
}

/// How duplicates are recognised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Dedup {
    #[default]
    Id,
    Content,
}

/// `tweetpipe-consumer stats`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Database")]
    pub(crate) database: DatabaseArgs,

    /// Rows per hour or per day (the total comes first either way).
    #[arg(long, value_parser = ["hour", "day"], default_value = "day")]
    pub(crate) by: String,
}

/// Where a fresh group starts (`run --from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartAt {
    Earliest,
    Datetime(chrono::DateTime<chrono::Utc>),
}

fn parse_from(s: &str) -> Result<StartAt, String> {
    if s == "earliest" {
        return Ok(StartAt::Earliest);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| StartAt::Datetime(t.with_timezone(&chrono::Utc)))
        .map_err(|_| "expected `earliest` or an RFC 3339 time such as 2021-04-01T00:00:00Z".to_owned())
}

/// Where the database is.
#[derive(Clone, Args)]
pub(crate) struct DatabaseArgs {
    /// PostgreSQL URL. Prefer the environment variable: the password is never printed.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        hide_env_values = true,
        hide_default_value = true,
        default_value = "postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe",
        help = "PostgreSQL URL [default: the local stack's postgres://tweetpipe:***@localhost:5432/tweetpipe]"
    )]
    pub(crate) database_url: secrecy::SecretString,

    /// Database connections in the pool.
    #[arg(long, env = "TWEETPIPE_DB_POOL_SIZE", default_value_t = 4)]
    pub(crate) db_pool_size: u32,

    /// Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as
    /// in PostgreSQL. Keep it well below the consumer's max.poll.interval.ms: a statement that
    /// hangs longer is cancelled, retried, and the consumer stays in its group meanwhile.
    #[arg(
        long = "statement-timeout",
        env = "TWEETPIPE_STATEMENT_TIMEOUT",
        default_value = "30s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub(crate) statement_timeout: Duration,

    /// How long connecting may take, retries of an unreachable database included, e.g. `5m`.
    #[arg(
        long = "db-connect-timeout",
        env = "TWEETPIPE_DB_CONNECT_TIMEOUT",
        default_value = "5m",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub(crate) db_connect_timeout: Duration,
}

// The settings hide the password; the flags show the same way.
impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.settings().fmt(f)
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub(crate) kafka: KafkaArgs,

    #[command(flatten)]
    #[command(next_help_heading = "Database")]
    pub(crate) database: DatabaseArgs,

    /// Do not apply the migrations (a pre-install hook or a DBA applies them): the database
    /// role then needs only SELECT, INSERT, UPDATE and DELETE on the tables.
    #[arg(long = "no-migrate")]
    pub(crate) no_migrate: bool,

    /// `false` is --no-migrate, for the environment.
    #[arg(long = "migrate", env = "TWEETPIPE_MIGRATE", default_value_t = true, action = ArgAction::Set, hide = true)]
    pub(crate) migrate: bool,

    /// Topic to consume; records that cannot be stored go to `<topic>.dlq`.
    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    #[arg(help_heading = "Kafka")]
    pub(crate) topic: String,

    /// Consumer group: processes in one group share the topic's partitions.
    #[arg(long, env = "TWEETPIPE_GROUP", default_value = "tweetpipe")]
    #[arg(help_heading = "Kafka")]
    pub(crate) group: String,

    /// Most messages written in one database transaction.
    #[arg(long, env = "TWEETPIPE_BATCH_SIZE", default_value_t = 3000)]
    #[arg(help_heading = "Batching")]
    pub(crate) batch_size: usize,

    /// Lanes writing at once, each its own transaction on its own connection (keep it below
    /// `--db-pool-size`): a batch's rows are split over them by tweet id, and each lane moves on
    /// to the next batch as soon as its part is written. 1 with `--dedup content`.
    #[arg(long, env = "TWEETPIPE_DB_WRITERS", default_value_t = 2)]
    #[arg(help_heading = "Database")]
    pub(crate) db_writers: usize,

    /// How long a batch gathers messages after its first, e.g. `2ms` [default: 2ms]; after that
    /// it closes as soon as no more messages are waiting (at once when full). 0: close on an
    /// empty queue.
    #[arg(long = "batch-linger", env = "TWEETPIPE_BATCH_LINGER", value_parser = duration::millis, value_name = "DURATION")]
    #[arg(help_heading = "Batching")]
    pub(crate) batch_linger: Option<Duration>,

    /// The old spelling of --batch-linger (bare milliseconds), kept for one release.
    #[arg(long = "batch-linger-ms", env = "TWEETPIPE_BATCH_LINGER_MS", hide = true, value_parser = duration::millis)]
    pub(crate) batch_linger_ms: Option<Duration>,

    /// Recently stored ids kept in memory to spare the database hot duplicates.
    #[arg(long, env = "TWEETPIPE_DEDUP_CACHE", default_value_t = 200_000)]
    #[arg(help_heading = "Processing")]
    pub(crate) dedup_cache: usize,

    /// Filter rules: words, phrases or `#hashtags` (comma-separated or repeated). The default
    /// drops music tweets.
    #[arg(
        long = "filter-term",
        visible_alias = "music-term",
        env = "TWEETPIPE_FILTER_TERMS",
        value_delimiter = ',',
        default_value = "music"
    )]
    #[arg(help_heading = "Processing")]
    pub(crate) filter_terms: Vec<String>,

    /// A file of further filter terms, one a line (`# ` or `//` start a comment).
    #[arg(long = "filter-file", env = "TWEETPIPE_FILTER_FILE", value_name = "PATH")]
    #[arg(help_heading = "Processing")]
    pub(crate) filter_file: Option<std::path::PathBuf>,

    /// `drop` matched tweets, or `flag` them (stored, with the rule in `matched_rule`).
    #[arg(long = "filter-mode", env = "TWEETPIPE_FILTER_MODE", default_value_t)]
    #[arg(help_heading = "Processing")]
    pub(crate) filter_mode: tweetpipe_model::filter::FilterMode,

    /// `id`: one row per tweet id. `content`: also link tweets whose normalised text repeats an
    /// earlier tweet's (retweets, copy-paste spam) to it in `duplicate_of`.
    #[arg(long, env = "TWEETPIPE_DEDUP", value_enum, default_value_t)]
    #[arg(help_heading = "Processing")]
    pub(crate) dedup: Dedup,

    /// Replace usernames, display names and locations with keyed pseudonyms (HMAC-SHA256) before
    /// anything is stored. The key comes from TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file.
    #[arg(long, env = "TWEETPIPE_PSEUDONYMIZE")]
    #[arg(help_heading = "Processing")]
    pub(crate) pseudonymize: bool,

    /// File holding the pseudonym key (a mounted Secret).
    #[arg(long = "pseudonym-key-file", env = "TWEETPIPE_PSEUDONYM_KEY_FILE", value_name = "PATH")]
    #[arg(help_heading = "Processing")]
    pub(crate) pseudonym_key_file: Option<std::path::PathBuf>,

    /// The pseudonym key itself; set TWEETPIPE_PSEUDONYM_KEY rather than a flag.
    #[arg(long = "pseudonym-key", env = "TWEETPIPE_PSEUDONYM_KEY", hide = true, hide_env_values = true)]
    pub(crate) pseudonym_key: Option<secrecy::SecretString>,

    /// Consume until every assigned partition reaches the end seen at start, commit, and exit.
    #[arg(long, env = "TWEETPIPE_EXIT_AT_END")]
    #[arg(help_heading = "Kafka")]
    pub(crate) exit_at_end: bool,

    /// Where a group without committed offsets starts: `earliest` or an RFC 3339 time. Partitions
    /// the group has already committed resume from there (a restarted backfill Job goes on).
    #[arg(long, env = "TWEETPIPE_FROM", value_parser = parse_from, value_name = "earliest|RFC3339")]
    #[arg(help_heading = "Kafka")]
    pub(crate) from: Option<StartAt>,

    /// Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    #[arg(help_heading = "Metrics")]
    pub(crate) http_addr: Option<std::net::SocketAddr>,

    /// On SIGTERM, how long the in-flight batch may take to finish and commit, e.g. `20s`.
    #[arg(
        long = "drain-timeout",
        env = "TWEETPIPE_DRAIN_TIMEOUT",
        default_value = "20s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    #[arg(help_heading = "Batching")]
    pub(crate) drain_timeout: Duration,

    /// Ignored, kept so that existing configurations still start: an outage is now waited out
    /// however long it lasts and never dead-lettered (docs/write-contract.md).
    #[arg(long = "db-retry-limit", env = "TWEETPIPE_DB_RETRY_LIMIT", hide = true)]
    pub(crate) db_retry_limit: Option<u32>,

    /// Also write the run's summary (the JSON line printed last on stdout) to this file.
    #[arg(long = "summary-json", env = "TWEETPIPE_SUMMARY_JSON", value_name = "PATH")]
    #[arg(help_heading = "Output")]
    pub(crate) summary_json: Option<std::path::PathBuf>,
}

#[cfg(test)]
mod tests;
