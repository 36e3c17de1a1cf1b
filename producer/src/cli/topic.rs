//! `tweetpipe-producer topic …`: the flags of the topic commands, and the settings each
//! becomes ([`crate::topic::TopicTask`]).

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use tweetpipe_common::exit::Classified;
use tweetpipe_common::kafka::args::KafkaArgs;

use crate::exporter::ExporterSettings;
use crate::topic::{retention_ms, TopicTarget, TopicTask};

#[derive(Debug, Subcommand)]
pub(crate) enum TopicCommand {
    /// Create the topic and its dead-letter topic.
    Create(TopicCreateArgs),
    /// Partitions, leaders, high watermarks, and each group's committed offsets and lag.
    Describe(TopicArgs),
    /// Grow the topic to N partitions (Kafka cannot shrink a topic).
    AddPartitions(AddPartitionsArgs),
    /// Serve /metrics with each consumer group's lag, read from the brokers (runs until SIGTERM).
    Exporter(ExporterArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct TopicArgs {
    #[command(flatten)]
    #[command(next_help_heading = "Kafka")]
    pub(crate) kafka: KafkaArgs,

    #[arg(long, env = "TWEETPIPE_TOPIC", default_value = "tweets")]
    #[arg(help_heading = "Kafka")]
    pub(crate) topic: String,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct TopicCreateArgs {
    #[command(flatten)]
    pub(crate) topic: TopicArgs,

    #[arg(long, default_value_t = 6)]
    pub(crate) partitions: i32,

    /// Replication factor (-1: the broker's default).
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    pub(crate) replication_factor: i32,

    /// How long Kafka keeps messages: `7d`, `12h`, `90m`, milliseconds, or `forever`.
    #[arg(long)]
    pub(crate) retention: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct AddPartitionsArgs {
    #[command(flatten)]
    pub(crate) topic: TopicArgs,

    /// The new total number of partitions.
    #[arg(long)]
    pub(crate) to: usize,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ExporterArgs {
    #[command(flatten)]
    pub(crate) kafka: KafkaArgs,

    /// The topic to follow. Without it, every topic the groups have committed offsets on.
    #[arg(long, env = "TWEETPIPE_TOPIC")]
    pub(crate) topic: Option<String>,

    /// Consumer group to watch (repeatable, or comma-separated in the environment variable).
    #[arg(long = "group", env = "TWEETPIPE_GROUP", value_delimiter = ',', required = true)]
    pub(crate) groups: Vec<String>,

    /// Time between two rounds of reading offsets: `5s`, `1m`, `500ms`.
    #[arg(long, env = "TWEETPIPE_EXPORTER_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub(crate) interval: Duration,

    /// Serve /healthz, /readyz and /metrics here (port 0 picks a free port, logged).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    pub(crate) http_addr: SocketAddr,
}

impl TopicArgs {
    fn target(&self) -> TopicTarget {
        TopicTarget { kafka: self.kafka.settings(), topic: self.topic.clone() }
    }
}

impl TopicCommand {
    /// The command's settings; a retention that cannot be read is a configuration error.
    pub(crate) fn task(&self) -> anyhow::Result<TopicTask> {
        Ok(match self {
            Self::Create(args) => TopicTask::Create {
                target: args.topic.target(),
                partitions: args.partitions,
                replication_factor: args.replication_factor,
                retention_ms: match &args.retention {
                    Some(r) => {
                        Some(retention_ms(r).map_err(|e| Classified::config(format!("--retention: {e:#}")))?)
                    }
                    None => None,
                },
            },
            Self::Describe(args) => TopicTask::Describe(args.target()),
            Self::AddPartitions(args) => {
                TopicTask::AddPartitions { target: args.topic.target(), to: args.to }
            }
            Self::Exporter(args) => TopicTask::Exporter(ExporterSettings {
                kafka: args.kafka.settings(),
                topic: args.topic.clone().filter(|t| !t.is_empty()),
                groups: args.groups.clone(),
                interval: args.interval,
                http_addr: args.http_addr,
            }),
        })
    }
}
