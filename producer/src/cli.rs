//! Flags and environment variables. Every setting has both, with defaults that work against the
//! local stack (`deploy/local/stack.sh up`). This is the only module that knows about the
//! command line: [`ProduceArgs::settings`] turns it, once, into the settings each component
//! owns ([`crate::Settings`]), and components are built from those.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};
use secrecy::SecretString;
use tweetpipe_common::duration;
use tweetpipe_common::kafka::args::KafkaArgs;
use tweetpipe_common::kafka::TopicSpec;
use tweetpipe_common::telemetry::LogFormat;

use crate::sink::SinkSettings;
use crate::source::synthetic::SyntheticSettings;
use crate::source::x::XSettings;
use crate::source::{SourceSettings, SourceSpec};
use crate::Settings;

mod topic;

#[derive(Debug, Parser)]
#[command(
    name = "tweetpipe-producer",
    version,
    about = "Push raw tweets into Kafka, keyed by tweet id.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// Log line format.
    #[arg(long, env = "TWEETPIPE_LOG_FORMAT", default_value_t, value_parser = log_format(), global = true)]
    #[arg(help_heading = "Output")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) produce: ProduceArgs,
}

/// `--log-format`: one of [`LogFormat::ALL`] by name, each described in `--help`.
fn log_format() -> impl TypedValueParser<Value = LogFormat> {
    let names = LogFormat::ALL.map(|format| PossibleValue::new(format.name()).help(format.description()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<LogFormat>())
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of a variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// Create, describe and grow the topic (partitions bound how many consumers can work).
    #[command(subcommand)]
    Topic(topic::TopicCommand),
    /// Write synthetic v2 stream lines to a file (or stdout) instead of Kafka: test and
    /// benchmark input for `--source file:PATH`.
    Generate(GenerateArgs),
    /// Check the configuration a run with these flags would use (brokers, credentials, topic,
    /// the X token), a line per step, within --timeout. Exit 0 ok, 69 a server unreachable,
    /// 78 configuration or credentials wrong.
    Check(CheckArgs),
}

/// `tweetpipe-producer check`: the producing flags, and how long the check may take.
#[derive(Debug, Clone, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) produce: ProduceArgs,

    /// How long the whole check may take (it does not wait out start-up retries).
    #[arg(long, env = "TWEETPIPE_CHECK_TIMEOUT", default_value = "10s", value_parser = duration::secs, value_name = "DURATION")]
    #[arg(help_heading = "Check")]
    pub(crate) timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Synthetic")]
    pub(crate) synthetic: SyntheticArgs,

    /// Where the JSON lines go; `-` for stdout.
    #[arg(long, default_value = "-")]
    #[arg(help_heading = "Output")]
    pub(crate) out: std::path::PathBuf,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ProduceArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub(crate) kafka: KafkaArgs,

    /// Topic to produce to; dead letters go to `<topic>.dlq`.
    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    #[arg(help_heading = "Kafka")]
    pub(crate) topic: String,

    /// Where tweets come from, read in order (repeatable): `file:PATH` (JSON lines or one JSON
    /// document; `.gz` too), `stdin`, `synthetic`, `x-stream` (the X filtered stream) or
    /// `x-search` (X recent search). Required: the producer never makes up input itself.
    #[arg(long = "source", value_name = "SOURCE", required = true, value_parser = SourceSpec::parse)]
    #[arg(env = "TWEETPIPE_SOURCE")]
    #[arg(help_heading = "Source")]
    pub(crate) source: Vec<SourceSpec>,

    #[command(flatten)]
    #[command(next_help_heading = "Synthetic")]
    pub(crate) synthetic: SyntheticArgs,

    #[command(flatten)]
    #[command(next_help_heading = "X API")]
    pub(crate) x: XArgs,

    /// Partitions for topics this run creates (it never changes existing topics).
    #[arg(long, env = "TWEETPIPE_PARTITIONS", default_value_t = 6)]
    #[arg(help_heading = "Topic creation")]
    pub(crate) partitions: i32,

    /// Replication factor for topics this run creates (-1: the broker's default).
    #[arg(long, env = "TWEETPIPE_REPLICATION_FACTOR", default_value_t = -1, allow_hyphen_values = true)]
    #[arg(help_heading = "Topic creation")]
    pub(crate) replication_factor: i32,

    /// Create the topic and its dead-letter topic when missing.
    #[arg(long, env = "TWEETPIPE_CREATE_TOPICS", default_value_t = true, action = ArgAction::Set)]
    #[arg(help_heading = "Topic creation")]
    pub(crate) create_topics: bool,

    /// Largest tweet message; a larger one is dead-lettered (cut short) with reason `oversized`.
    #[arg(long, env = "TWEETPIPE_MAX_MESSAGE_BYTES", default_value_t = 1_000_000)]
    #[arg(help_heading = "Kafka")]
    pub(crate) max_message_bytes: usize,

    /// Longest input line (or document) read into memory; longer ones are dead-lettered.
    #[arg(long, env = "TWEETPIPE_MAX_LINE_BYTES", default_value_t = 64 * 1024 * 1024)]
    #[arg(help_heading = "Source")]
    pub(crate) max_line_bytes: usize,

    /// How long the final flush may wait for outstanding deliveries, e.g. `30s`.
    #[arg(
        long = "flush-timeout",
        env = "TWEETPIPE_FLUSH_TIMEOUT",
        default_value = "30s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    #[arg(help_heading = "Kafka")]
    pub(crate) flush_timeout: Duration,

    /// Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    #[arg(help_heading = "Metrics")]
    pub(crate) http_addr: Option<std::net::SocketAddr>,

    /// Add lineage headers to every tweet and deletion: `tweetpipe.format`, `tweetpipe.source`
    /// and `tweetpipe.source.line`. Off by default: librdkafka keeps each header as its own
    /// allocation, which costs a fifth to a half of the producer's throughput on small tweets.
    #[arg(long, env = "TWEETPIPE_LINEAGE_HEADERS")]
    #[arg(help_heading = "Kafka")]
    pub(crate) lineage_headers: bool,

    /// Messages buffered between the readers and Kafka: single records from the X API and the
    /// generator, batches of up to 256 from files and stdin.
    #[arg(long, hide = true, default_value_t = 16)]
    pub(crate) channel_capacity: usize,

    /// Also write the summary as one JSON object to this file (for scripts and tests).
    #[arg(long = "summary-json", env = "TWEETPIPE_SUMMARY_JSON", value_name = "FILE")]
    #[arg(help_heading = "Output")]
    pub(crate) summary_json: Option<PathBuf>,
}

impl ProduceArgs {
    /// The settings of every component, decided here once.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            topics: self
                .create_topics
                .then_some(TopicSpec { partitions: self.partitions, replication: self.replication_factor }),
            sink: SinkSettings {
                kafka: self.kafka.settings(),
                topic: self.topic.clone(),
                max_message_bytes: self.max_message_bytes,
                flush_timeout: self.flush_timeout,
                lineage_headers: self.lineage_headers,
            },
            sources: SourceSettings {
                specs: self.source.clone(),
                max_line_bytes: self.max_line_bytes,
                synthetic: self.synthetic.settings(),
                // The stream's lines obey the same limit as a file's.
                x: XSettings { max_line_bytes: self.max_line_bytes, ..self.x.settings() },
            },
            http_addr: self.http_addr,
            channel_capacity: self.channel_capacity.max(1),
            summary_json: self.summary_json.clone(),
        }
    }
}

/// The synthetic source: a seeded generator of realistic v2 stream lines.
#[derive(Debug, Clone, Args)]
pub(crate) struct SyntheticArgs {
    /// Messages the synthetic source emits (re-sent duplicates included).
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_COUNT", default_value_t = 10_000)]
    pub(crate) count: u64,

    /// Messages per second; 0 means as fast as Kafka takes them.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_RATE", default_value_t = 0.0)]
    pub(crate) rate: f64,

    /// Share of messages that re-send an earlier tweet (often with newer metrics).
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_DUPLICATE_SHARE", default_value_t = 0.1)]
    pub(crate) duplicate_share: f64,

    /// Share of new tweets that mention music.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_MUSIC_SHARE", default_value_t = 0.05)]
    pub(crate) music_share: f64,

    /// Seed: the same seed gives the same tweets.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_SEED", default_value_t = 42)]
    pub(crate) seed: u64,

    /// Stamp each new tweet's `created_at` with the moment it is generated (to millisecond
    /// precision), so `row committed - created_at` measures end-to-end latency.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_WALL_CLOCK")]
    pub(crate) wall_clock: bool,
}

impl SyntheticArgs {
    pub(crate) fn settings(&self) -> SyntheticSettings {
        SyntheticSettings {
            count: self.count,
            rate: self.rate,
            duplicate_share: self.duplicate_share,
            music_share: self.music_share,
            seed: self.seed,
            wall_clock: self.wall_clock,
        }
    }
}

/// The X sources' flags.
#[derive(Clone, Args)]
pub(crate) struct XArgs {
    /// Base URL of the X API; tests and proxies point it elsewhere.
    #[arg(long = "api-base-url", env = "X_API_BASE_URL", default_value = "https://api.x.com")]
    pub(crate) api_base_url: String,

    /// App-only bearer token; set X_BEARER_TOKEN instead of passing it on a command line.
    #[arg(long = "bearer-token", env = "X_BEARER_TOKEN", hide = true, hide_env_values = true)]
    pub(crate) bearer_token: Option<SecretString>,

    /// File holding the bearer token (a mounted Kubernetes Secret). The token can also come from
    /// the X_BEARER_TOKEN environment variable. It is never printed.
    #[arg(long = "bearer-token-file", env = "X_BEARER_TOKEN_FILE", value_name = "PATH")]
    pub(crate) bearer_token_file: Option<PathBuf>,

    /// Filtered-stream rule (repeatable): `VALUE`, or `TAG: VALUE` to tag it,
    /// e.g. `--rule 'jb: #justinbieber -is:retweet'`.
    #[arg(long = "rule", value_name = "RULE")]
    pub(crate) rules: Vec<String>,

    /// File of filtered-stream rules, one per line in `--rule` syntax; `#` starts a comment.
    #[arg(long = "rules-file", env = "TWEETPIPE_X_RULES_FILE", value_name = "PATH")]
    pub(crate) rules_file: Option<PathBuf>,

    /// Silence (neither data nor keep-alive) after which the stream counts as dead, e.g. `20s`.
    #[arg(
        long = "stream-timeout",
        env = "TWEETPIPE_X_STREAM_TIMEOUT",
        default_value = "20s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub(crate) stream_timeout: Duration,

    /// Recent-search query (`--source x-search`).
    #[arg(long, env = "TWEETPIPE_X_QUERY")]
    pub(crate) query: Option<String>,

    /// Time between recent-search polls, e.g. `60s`.
    #[arg(
        long = "interval",
        env = "TWEETPIPE_X_INTERVAL",
        default_value = "60s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub(crate) interval: Duration,

    /// One-off backfill: search from this time (RFC 3339, at most 7 days back), then exit.
    #[arg(long = "start-time", env = "TWEETPIPE_X_START_TIME", value_name = "RFC3339")]
    pub(crate) start_time: Option<chrono::DateTime<chrono::Utc>>,

    /// Where recent search keeps the newest id it sent, so a restart neither misses nor repeats.
    #[arg(
        long = "checkpoint-file",
        env = "TWEETPIPE_X_CHECKPOINT",
        default_value = "x-search.checkpoint",
        value_name = "PATH"
    )]
    pub(crate) checkpoint_file: PathBuf,

    /// Consecutive 401/403 answers before giving up with an error.
    #[arg(long = "max-auth-failures", env = "TWEETPIPE_X_MAX_AUTH_FAILURES", default_value_t = 3)]
    pub(crate) max_auth_failures: u32,

    /// Deadline for each X request: connecting, the response headers, and any gap between the
    /// bytes of a body (search pages, rules, error bodies), e.g. `30s`. A stream's body is
    /// governed by --stream-timeout instead.
    #[arg(
        long = "x-response-timeout",
        env = "TWEETPIPE_X_RESPONSE_TIMEOUT",
        default_value = "30s",
        value_parser = duration::secs,
        value_name = "DURATION"
    )]
    pub(crate) response_timeout: Duration,

    /// Tag prefix of the stream rules this producer manages: it tags the rules it adds with it,
    /// and deletes only rules whose tag starts with it (other tools' rules are left alone).
    #[arg(long = "rule-tag-prefix", env = "TWEETPIPE_X_RULE_TAG_PREFIX", default_value = "tweetpipe:")]
    pub(crate) rule_tag_prefix: String,

    /// Shrinks every reconnect delay (for tests of the real schedule); 1 in production.
    #[arg(long = "x-backoff-scale", hide = true, default_value_t = 1.0)]
    pub(crate) backoff_scale: f64,
}

// The settings redact the token; the flags show the same way.
impl std::fmt::Debug for XArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.settings().fmt(f)
    }
}

impl XArgs {
    pub(crate) fn settings(&self) -> XSettings {
        XSettings {
            api_base_url: self.api_base_url.clone(),
            bearer_token: self.bearer_token.clone(),
            bearer_token_file: self.bearer_token_file.clone(),
            rules: self.rules.clone(),
            rules_file: self.rules_file.clone(),
            stream_timeout: self.stream_timeout.max(Duration::from_secs(1)),
            query: self.query.clone(),
            interval: self.interval.max(Duration::from_secs(1)),
            start_time: self.start_time,
            checkpoint_file: self.checkpoint_file.clone(),
            max_auth_failures: self.max_auth_failures,
            backoff_scale: self.backoff_scale,
            response_timeout: self.response_timeout.max(Duration::from_millis(100)),
            max_line_bytes: 64 * 1024 * 1024,
            rule_tag_prefix: self.rule_tag_prefix.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
