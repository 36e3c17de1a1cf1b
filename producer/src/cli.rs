//! Flags and environment variables. Every setting has both, with defaults that work against the
//! local stack (`deploy/local/stack.sh up`).

use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};
use tweetpipe_common::kafka::KafkaArgs;
use tweetpipe_common::telemetry::LogFormat;

use crate::source::SourceSpec;

#[derive(Debug, Parser)]
#[command(
    name = "tweetpipe-producer",
    version,
    about = "Push raw tweets into Kafka, keyed by tweet id.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Log line format.
    #[arg(long, value_enum, env = "TWEETPIPE_LOG_FORMAT", default_value_t, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub produce: ProduceArgs,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of a variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Create, describe and grow the topic (partitions bound how many consumers can work).
    #[command(subcommand)]
    Topic(TopicCommand),
    /// Write synthetic v2 stream lines to a file (or stdout) instead of Kafka: test and
    /// benchmark input for `--source file:PATH`.
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub synthetic: SyntheticArgs,

    /// Where the JSON lines go; `-` for stdout.
    #[arg(long, default_value = "-")]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create the topic and its dead-letter topic.
    Create(TopicCreateArgs),
    /// Partitions, leaders, high watermarks, and each group's committed offsets and lag.
    Describe(TopicArgs),
    /// Grow the topic to N partitions (Kafka cannot shrink a topic).
    AddPartitions(AddPartitionsArgs),
    /// Serve /metrics with each consumer group's lag, read from the brokers (runs until SIGTERM).
    Exporter(crate::exporter::ExporterArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TopicArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    pub topic: String,
}

#[derive(Debug, Clone, Args)]
pub struct TopicCreateArgs {
    #[command(flatten)]
    pub topic: TopicArgs,

    #[arg(long, default_value_t = 6)]
    pub partitions: i32,

    /// Replication factor (-1: the broker's default).
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    pub replication_factor: i32,

    /// How long Kafka keeps messages: `7d`, `12h`, `90m`, milliseconds, or `forever`.
    #[arg(long)]
    pub retention: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AddPartitionsArgs {
    #[command(flatten)]
    pub topic: TopicArgs,

    /// The new total number of partitions.
    #[arg(long)]
    pub to: usize,
}

#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    /// Topic to produce to; dead letters go to `<topic>.dlq`.
    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    pub topic: String,

    /// Where tweets come from, read in order (repeatable): `file:PATH` (JSON lines or one JSON
    /// document; `.gz` too), `stdin`, `synthetic`, `x-stream` (the X filtered stream) or
    /// `x-search` (X recent search).
    #[arg(long = "source", value_name = "SOURCE", default_value = "synthetic", value_parser = SourceSpec::parse)]
    pub source: Vec<SourceSpec>,

    #[command(flatten)]
    pub synthetic: SyntheticArgs,

    #[command(flatten)]
    pub x: crate::x::XArgs,

    /// Partitions for topics this run creates (it never changes existing topics).
    #[arg(long, env = "TWEETPIPE_PARTITIONS", default_value_t = 6)]
    pub partitions: i32,

    /// Replication factor for topics this run creates (-1: the broker's default).
    #[arg(long, env = "TWEETPIPE_REPLICATION_FACTOR", default_value_t = -1, allow_hyphen_values = true)]
    pub replication_factor: i32,

    /// Create the topic and its dead-letter topic when missing.
    #[arg(long, env = "TWEETPIPE_CREATE_TOPICS", default_value_t = true, action = ArgAction::Set)]
    pub create_topics: bool,

    /// Largest tweet message; a larger one is dead-lettered (cut short) with reason `oversized`.
    #[arg(long, env = "TWEETPIPE_MAX_MESSAGE_BYTES", default_value_t = 1_000_000)]
    pub max_message_bytes: usize,

    /// Longest input line (or document) read into memory; longer ones are dead-lettered.
    #[arg(long, env = "TWEETPIPE_MAX_LINE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_line_bytes: usize,

    /// How long the final flush may wait for outstanding deliveries, in seconds.
    #[arg(
        long = "flush-timeout",
        env = "TWEETPIPE_FLUSH_TIMEOUT",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub flush_timeout_secs: u64,

    /// Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    pub http_addr: Option<std::net::SocketAddr>,

    /// Records buffered between the readers and Kafka.
    #[arg(long, hide = true, default_value_t = 4096)]
    pub channel_capacity: usize,
}

impl ProduceArgs {
    pub fn sources(&self) -> Vec<SourceSpec> {
        self.source.clone()
    }

    pub fn flush_timeout(&self) -> Duration {
        Duration::from_secs(self.flush_timeout_secs)
    }
}

/// The synthetic source: a seeded generator of realistic v2 stream lines.
#[derive(Debug, Clone, Args)]
pub struct SyntheticArgs {
    /// Messages the synthetic source emits (re-sent duplicates included).
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_COUNT", default_value_t = 10_000)]
    pub count: u64,

    /// Messages per second; 0 means as fast as Kafka takes them.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_RATE", default_value_t = 0.0)]
    pub rate: f64,

    /// Share of messages that re-send an earlier tweet (often with newer metrics).
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_DUPLICATE_SHARE", default_value_t = 0.1)]
    pub duplicate_share: f64,

    /// Share of new tweets that mention music.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_MUSIC_SHARE", default_value_t = 0.05)]
    pub music_share: f64,

    /// Seed: the same seed gives the same tweets.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Stamp each new tweet's `created_at` with the moment it is generated (to millisecond
    /// precision), so `row committed - created_at` measures end-to-end latency.
    #[arg(long, env = "TWEETPIPE_SYNTHETIC_WALL_CLOCK")]
    pub wall_clock: bool,
}
