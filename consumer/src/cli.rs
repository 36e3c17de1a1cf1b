//! Flags and environment variables, with defaults that work against the local stack.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tweetpipe_common::duration;
use tweetpipe_common::kafka::KafkaArgs;
use tweetpipe_common::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "tweetpipe-consumer",
    version,
    about = "De-duplicate tweets from Kafka, drop music tweets, upsert the rest into PostgreSQL."
)]
pub struct Cli {
    /// Log line format.
    #[arg(long, value_enum, env = "TWEETPIPE_LOG_FORMAT", default_value_t, global = true)]
    #[arg(help_heading = "Output")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Join the consumer group and store tweets (runs migrations first).
    Run(RunArgs),
    /// Check what `run` with the same flags and environment needs (brokers, credentials, topic,
    /// the group's position, PostgreSQL, TLS, migrations), a line per step, within --timeout.
    /// Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong.
    Check(CheckArgs),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Move a group's committed offsets back (or forward) to replay a topic. A dry run unless
    /// --execute; refuses while the group has active members.
    Replay(ReplayArgs),
    /// The tweet count: seen, stored, duplicates, filtered (music), deleted, overall and per
    /// hour or day.
    Stats(StatsArgs),
}

/// `tweetpipe-consumer check`: the flags of `run`, and how long the check may take.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// How long the whole check may take (it does not wait out start-up retries).
    #[arg(long, env = "TWEETPIPE_CHECK_TIMEOUT", default_value = "10s", value_parser = duration::secs, value_name = "DURATION")]
    #[arg(help_heading = "Check")]
    pub timeout: Duration,
}

/// `tweetpipe-consumer replay`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "to_datetime", "to_offsets"])))]
pub struct ReplayArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub kafka: KafkaArgs,

    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    pub topic: String,

    #[arg(long, env = "TWEETPIPE_GROUP", default_value = "tweetpipe")]
    pub group: String,

    /// `earliest`: the start of every partition.
    #[arg(long, value_parser = ["earliest"])]
    pub to: Option<String>,

    /// The first offset at or after this time (RFC 3339), per partition; the end when later.
    #[arg(long = "to-datetime", value_name = "RFC3339")]
    pub to_datetime: Option<chrono::DateTime<chrono::Utc>>,

    /// Explicit offsets, `PARTITION:OFFSET,…`.
    #[arg(long = "to-offsets", value_name = "P:O,…")]
    pub to_offsets: Option<String>,

    /// Commit the targets. Without it, only print what would happen.
    #[arg(long)]
    pub execute: bool,
}

/// How duplicates are recognised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Dedup {
    #[default]
    Id,
    Content,
}

/// `tweetpipe-consumer stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Database")]
    pub database: DatabaseArgs,

    /// Rows per hour or per day (the total comes first either way).
    #[arg(long, value_parser = ["hour", "day"], default_value = "day")]
    pub by: String,
}

/// Where a fresh group starts (`run --from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
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
pub struct DatabaseArgs {
    /// PostgreSQL URL. Prefer the environment variable: the password is never printed.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        hide_env_values = true,
        hide_default_value = true,
        default_value = "postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe",
        help = "PostgreSQL URL [default: the local stack's postgres://tweetpipe:***@localhost:5432/tweetpipe]"
    )]
    pub database_url: secrecy::SecretString,

    /// Database connections in the pool.
    #[arg(long, env = "TWEETPIPE_DB_POOL_SIZE", default_value_t = 4)]
    pub db_pool_size: u32,

    /// Longest a single statement may run (lock waits included), e.g. `30s`. Keep it well below
    /// the consumer's max.poll.interval.ms: a statement that hangs longer is cancelled, retried,
    /// and the consumer stays in its group meanwhile.
    #[arg(
        long = "statement-timeout",
        env = "TWEETPIPE_STATEMENT_TIMEOUT",
        default_value = "30s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub statement_timeout: Duration,

    /// How long start-up keeps retrying an unreachable database, e.g. `5m`.
    #[arg(
        long = "db-connect-timeout",
        env = "TWEETPIPE_DB_CONNECT_TIMEOUT",
        default_value = "5m",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub db_connect_timeout: Duration,
}

impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use secrecy::ExposeSecret as _;
        f.debug_struct("DatabaseArgs")
            .field("database_url", &tweetpipe_common::redact::redact_url(self.database_url.expose_secret()))
            .field("db_pool_size", &self.db_pool_size)
            .finish()
    }
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub kafka: KafkaArgs,

    #[command(flatten)]
    #[command(next_help_heading = "Database")]
    pub database: DatabaseArgs,

    /// Topic to consume; records that cannot be stored go to `<topic>.dlq`.
    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    #[arg(help_heading = "Kafka")]
    pub topic: String,

    /// Consumer group: processes in one group share the topic's partitions.
    #[arg(long, env = "TWEETPIPE_GROUP", default_value = "tweetpipe")]
    #[arg(help_heading = "Kafka")]
    pub group: String,

    /// Most messages written in one database transaction.
    #[arg(long, env = "TWEETPIPE_BATCH_SIZE", default_value_t = 3000)]
    #[arg(help_heading = "Batching")]
    pub batch_size: usize,

    /// Lanes writing at once, each its own transaction on its own connection (keep it below
    /// `--db-pool-size`): a batch's rows are split over them by tweet id, and each lane moves on
    /// to the next batch as soon as its part is written. 1 with `--dedup content`.
    #[arg(long, env = "TWEETPIPE_DB_WRITERS", default_value_t = 2)]
    #[arg(help_heading = "Database")]
    pub db_writers: usize,

    /// How long a batch gathers messages after its first, e.g. `2ms` [default: 2ms]; after that
    /// it closes as soon as no more messages are waiting (at once when full). 0: close on an
    /// empty queue.
    #[arg(long = "batch-linger", env = "TWEETPIPE_BATCH_LINGER", value_parser = duration::millis, value_name = "DURATION")]
    #[arg(help_heading = "Batching")]
    pub batch_linger: Option<Duration>,

    /// The old spelling of --batch-linger (bare milliseconds), kept for one release.
    #[arg(long = "batch-linger-ms", env = "TWEETPIPE_BATCH_LINGER_MS", hide = true, value_parser = duration::millis)]
    pub batch_linger_ms: Option<Duration>,

    /// Recently stored ids kept in memory to spare the database hot duplicates.
    #[arg(long, env = "TWEETPIPE_DEDUP_CACHE", default_value_t = 200_000)]
    #[arg(help_heading = "Processing")]
    pub dedup_cache: usize,

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
    pub filter_terms: Vec<String>,

    /// A file of further filter terms, one a line (`# ` or `//` start a comment).
    #[arg(long = "filter-file", env = "TWEETPIPE_FILTER_FILE", value_name = "PATH")]
    #[arg(help_heading = "Processing")]
    pub filter_file: Option<std::path::PathBuf>,

    /// `drop` matched tweets, or `flag` them (stored, with the rule in `matched_rule`).
    #[arg(long = "filter-mode", env = "TWEETPIPE_FILTER_MODE", default_value_t)]
    #[arg(help_heading = "Processing")]
    pub filter_mode: tweetpipe_model::filter::FilterMode,

    /// `id`: one row per tweet id. `content`: also link tweets whose normalised text repeats an
    /// earlier tweet's (retweets, copy-paste spam) to it in `duplicate_of`.
    #[arg(long, env = "TWEETPIPE_DEDUP", value_enum, default_value_t)]
    #[arg(help_heading = "Processing")]
    pub dedup: Dedup,

    /// Replace usernames, display names and locations with keyed pseudonyms (HMAC-SHA256) before
    /// anything is stored. The key comes from TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file.
    #[arg(long, env = "TWEETPIPE_PSEUDONYMIZE")]
    #[arg(help_heading = "Processing")]
    pub pseudonymize: bool,

    /// File holding the pseudonym key (a mounted Secret).
    #[arg(long = "pseudonym-key-file", env = "TWEETPIPE_PSEUDONYM_KEY_FILE", value_name = "PATH")]
    #[arg(help_heading = "Processing")]
    pub pseudonym_key_file: Option<std::path::PathBuf>,

    /// The pseudonym key itself; set TWEETPIPE_PSEUDONYM_KEY rather than a flag.
    #[arg(long = "pseudonym-key", env = "TWEETPIPE_PSEUDONYM_KEY", hide = true, hide_env_values = true)]
    pub pseudonym_key: Option<secrecy::SecretString>,

    /// Consume until every assigned partition reaches the end seen at start, commit, and exit.
    #[arg(long, env = "TWEETPIPE_EXIT_AT_END")]
    #[arg(help_heading = "Kafka")]
    pub exit_at_end: bool,

    /// Where a group without committed offsets starts: `earliest` or an RFC 3339 time. Partitions
    /// the group has already committed resume from there (a restarted backfill Job goes on).
    #[arg(long, env = "TWEETPIPE_FROM", value_parser = parse_from, value_name = "earliest|RFC3339")]
    #[arg(help_heading = "Kafka")]
    pub from: Option<StartAt>,

    /// Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    #[arg(help_heading = "Metrics")]
    pub http_addr: Option<std::net::SocketAddr>,

    /// On SIGTERM, how long the in-flight batch may take to finish and commit, e.g. `20s`.
    #[arg(
        long = "drain-timeout",
        env = "TWEETPIPE_DRAIN_TIMEOUT",
        default_value = "20s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    #[arg(help_heading = "Batching")]
    pub drain_timeout: Duration,

    /// How often one write may fail with a transient error while the database answers other
    /// statements before it is treated as a problem of the data (isolated and dead-lettered).
    /// An unreachable database is waited for however long it takes.
    #[arg(long = "db-retry-limit", env = "TWEETPIPE_DB_RETRY_LIMIT", default_value_t = 10)]
    #[arg(help_heading = "Database")]
    pub db_retry_limit: u32,

    /// Also write the run's summary (the JSON line printed last on stdout) to this file.
    #[arg(long = "summary-json", env = "TWEETPIPE_SUMMARY_JSON", value_name = "PATH")]
    #[arg(help_heading = "Output")]
    pub summary_json: Option<std::path::PathBuf>,
}

impl RunArgs {
    /// `--batch-linger`, else the old `--batch-linger-ms`, else 2 ms.
    pub fn batch_linger(&self) -> Duration {
        self.batch_linger.or(self.batch_linger_ms).unwrap_or(Duration::from_millis(2))
    }

    pub fn drain_timeout(&self) -> Duration {
        self.drain_timeout
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn run_args(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["tweetpipe-consumer", "run"].iter().chain(args)).expect("valid flags");
        match cli.command {
            Command::Run(run) => run,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn durations_take_units_and_the_old_bare_units() {
        let new = run_args(&["--batch-linger", "50ms", "--drain-timeout", "1m", "--statement-timeout", "2s"]);
        assert_eq!(new.batch_linger(), Duration::from_millis(50));
        assert_eq!(new.drain_timeout(), Duration::from_secs(60));
        assert_eq!(new.database.statement_timeout, Duration::from_secs(2));
        let old =
            run_args(&["--batch-linger-ms", "150", "--drain-timeout", "7", "--db-connect-timeout", "1"]);
        assert_eq!(old.batch_linger(), Duration::from_millis(150));
        assert_eq!(old.drain_timeout(), Duration::from_secs(7));
        assert_eq!(old.database.db_connect_timeout, Duration::from_secs(1));
        assert!(Cli::try_parse_from(["tweetpipe-consumer", "run", "--drain-timeout", "soon"]).is_err());
    }

    #[test]
    fn check_takes_the_run_flags() {
        let cli = Cli::try_parse_from([
            "tweetpipe-consumer",
            "check",
            "--group=backfill",
            "-X",
            "group.protocol=consumer",
            "--batch-linger=200ms",
            "--timeout",
            "3s",
        ])
        .expect("the chart's init container command line");
        let Command::Check(check) = cli.command else { panic!("not check") };
        assert_eq!((check.run.group.as_str(), check.timeout), ("backfill", Duration::from_secs(3)));
    }
}
