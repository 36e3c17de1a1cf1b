//! Kafka settings shared by the producer and the consumer, topic creation, and the names of the
//! headers tweetpipe writes.
//!
//! [`KafkaSettings`] is what every module that talks to Kafka takes; [`args::KafkaArgs`] is the
//! command-line shape of the same settings, which only the binaries' `cli` modules use.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

pub mod args;
mod settings;

pub use settings::KafkaSettings;

/// Header naming the payload format (`v1.1` or `v2`).
pub const HEADER_FORMAT: &str = "tweetpipe.format";
/// Header naming where a message came from (`file:PATH`, `stdin`, `synthetic`, `x-stream`…).
pub const HEADER_SOURCE: &str = "tweetpipe.source";

/// Headers of a dead letter, modelled on Kafka Connect's `__connect.errors.*`.
pub mod dlq {
    /// Every dead-letter header starts with this.
    pub const PREFIX: &str = "tweetpipe.errors.";
    /// `producer` or `consumer`: which stage refused the record.
    pub const STAGE: &str = "tweetpipe.errors.stage";
    /// A short, stable error class, e.g. `invalid_json`, `db_permanent`.
    pub const CLASS: &str = "tweetpipe.errors.class";
    /// The human-readable reason.
    pub const MESSAGE: &str = "tweetpipe.errors.message";
    /// Producer: the input it came from (`file:PATH`, `stdin`…).
    pub const SOURCE: &str = "tweetpipe.errors.source";
    /// Producer: the 1-based line in that input.
    pub const LINE: &str = "tweetpipe.errors.line";
    /// Consumer: where the record was read from.
    pub const TOPIC: &str = "tweetpipe.errors.topic";
    pub const PARTITION: &str = "tweetpipe.errors.partition";
    pub const OFFSET: &str = "tweetpipe.errors.offset";
    /// Set when the value was cut to fit the dead-letter topic; holds the original size in bytes.
    pub const ORIGINAL_SIZE: &str = "tweetpipe.errors.original.size";
}

/// The dead-letter topic of `topic`.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// Prefix of the environment variables that set any other librdkafka property:
/// `TWEETPIPE_KAFKA_SSL_CERTIFICATE_LOCATION` -> `ssl.certificate.location` (`_` is a dot, `__`
/// an underscore). Not every `KAFKA_*` variable: KAFKA_PORT, KAFKA_HEAP_OPTS and friends belong
/// to brokers and scripts, and would become bogus or harmful client properties.
pub const ENV_PROPERTY_PREFIX: &str = "TWEETPIPE_KAFKA_";

/// The librdkafka properties named by `TWEETPIPE_KAFKA_*` variables.
pub fn env_properties(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut props: Vec<(String, String)> = vars
        .filter_map(|(k, v)| {
            let name = k.strip_prefix(ENV_PROPERTY_PREFIX)?;
            (!name.is_empty()).then(|| {
                (name.to_ascii_lowercase().replace("__", "\0").replace('_', ".").replace("\0", "_"), v)
            })
        })
        .collect();
    props.sort();
    props
}

/// The partition ids of `topic` (a blocking metadata request); an error when it does not exist.
pub fn partitions_of<C, X>(consumer: &C, topic: &str) -> anyhow::Result<Vec<i32>>
where
    C: rdkafka::consumer::Consumer<X>,
    X: rdkafka::consumer::ConsumerContext,
{
    let metadata =
        consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).context("reading topic metadata")?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        anyhow::bail!("topic {topic} does not exist or has no partitions");
    }
    Ok(partitions)
}

/// How to create topics that do not exist yet.
#[derive(Debug, Clone, Copy)]
pub struct TopicSpec {
    pub partitions: i32,
    pub replication: i32,
}

/// Creates each topic that does not exist; existing topics are left as they are.
pub async fn ensure_topics(kafka: &KafkaSettings, topics: &[&str], spec: TopicSpec) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        kafka.client_config(&[]).create().context("creating the Kafka admin client")?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, spec.partitions, TopicReplication::Fixed(spec.replication)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(&new, &opts).await;
    // Dropping an admin client joins its polling thread, which has just gone back to a 100 ms
    // wait: a tenth of a second on every process's start, spent off the caller's path instead.
    tokio::task::spawn_blocking(move || drop(admin));
    for result in results.context("creating topics")? {
        match result {
            Ok(name) => {
                tracing::info!(topic = %name, partitions = spec.partitions, "created topic")
            }
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => anyhow::bail!("cannot create topic {name}: {code}"),
        }
    }
    Ok(())
}
