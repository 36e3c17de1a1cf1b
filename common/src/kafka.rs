//! Kafka settings shared by the producer and the consumer, topic creation, and the names of the
//! headers tweetpipe writes.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;

use crate::redact::is_secret_property;

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

/// Connection settings for Kafka, shared by both binaries.
#[derive(Clone, clap::Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, comma-separated.
    #[arg(long = "brokers", env = "KAFKA_BOOTSTRAP_SERVERS", default_value = "localhost:9092")]
    pub brokers: String,

    /// Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,

    /// SASL username (sets sasl.username).
    #[arg(long, env = "KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,

    /// SASL password (sets sasl.password). Prefer the environment variable; never logged.
    #[arg(long, env = "KAFKA_SASL_PASSWORD", hide_env_values = true)]
    pub sasl_password: Option<secrecy::SecretString>,
}

impl fmt::Debug for KafkaArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let props: Vec<String> = self
            .properties
            .iter()
            .map(|(k, v)| if is_secret_property(k) { format!("{k}=***") } else { format!("{k}={v}") })
            .collect();
        f.debug_struct("KafkaArgs")
            .field("brokers", &self.brokers)
            .field("properties", &props)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .finish()
    }
}

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        // Never echo the value: it may be a password.
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

impl KafkaArgs {
    /// Settings for a local broker, for tests and tools.
    pub fn local(brokers: impl Into<String>) -> Self {
        Self { brokers: brokers.into(), properties: Vec::new(), sasl_username: None, sasl_password: None }
    }

    /// The same settings without consumer-only `-X` properties, for a producer the consumer
    /// runs beside its group client (librdkafka warns about properties that do not apply).
    pub fn for_producer(&self) -> Self {
        const CONSUMER_ONLY: &[&str] = &[
            "group.",
            "session.timeout.ms",
            "heartbeat.interval.ms",
            "max.poll.interval.ms",
            "auto.offset.reset",
            "enable.auto.",
            "auto.commit.",
            "partition.assignment.strategy",
            "fetch.",
            "isolation.level",
            "queued.",
            "enable.partition.eof",
            "check.crcs",
        ];
        let mut args = self.clone();
        args.properties.retain(|(k, _)| !CONSUMER_ONLY.iter().any(|c| k.starts_with(c)));
        args
    }

    /// Whether `-X group.protocol=consumer` selects Kafka 4's consumer-group protocol (KIP-848).
    pub fn kip848(&self) -> bool {
        self.properties
            .iter()
            .rfind(|(k, _)| k == "group.protocol")
            .is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("consumer"))
    }

    /// A client configuration with the brokers, credentials and `-X` properties applied; the
    /// caller's defaults go in first so that `-X` can override any of them. Under KIP-848 the
    /// broker assigns partitions and times sessions, and librdkafka refuses the classic
    /// protocol's settings, so defaults among them are left out.
    pub fn client_config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        use secrecy::ExposeSecret as _;
        const CLASSIC_GROUP_ONLY: &[&str] =
            &["partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"];
        let kip848 = self.kip848();
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (k, v) in defaults.iter().filter(|(k, _)| !(kip848 && CLASSIC_GROUP_ONLY.contains(k))) {
            config.set(*k, *v);
        }
        if let Some(user) = &self.sasl_username {
            config.set("sasl.username", user);
        }
        if let Some(password) = &self.sasl_password {
            config.set("sasl.password", password.expose_secret());
        }
        for (k, v) in &self.properties {
            config.set(k, v);
        }
        config
    }
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
pub async fn ensure_topics(kafka: &KafkaArgs, topics: &[&str], spec: TopicSpec) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        kafka.client_config(&[]).create().context("creating the Kafka admin client")?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, spec.partitions, TopicReplication::Fixed(spec.replication)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(&new, &opts).await.context("creating topics")?;
    for result in results {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let mut args = KafkaArgs::local("b:9092");
        args.properties.push(("sasl.password".into(), "hunter2".into()));
        args.properties.push(("security.protocol".into(), "SASL_SSL".into()));
        args.sasl_password = Some("s3cret".to_owned().into());
        let shown = format!("{args:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("SASL_SSL"));
    }

    #[test]
    fn producers_do_not_get_consumer_only_properties() {
        let mut args = KafkaArgs::local("b:9092");
        args.properties.push(("max.poll.interval.ms".into(), "8000".into()));
        args.properties.push(("security.protocol".into(), "SSL".into()));
        let keys: Vec<String> = args.for_producer().properties.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["security.protocol"]);
    }

    #[test]
    fn the_consumer_group_protocol_drops_classic_defaults() {
        let defaults = [("session.timeout.ms", "10000"), ("enable.auto.commit", "true")];
        let mut args = KafkaArgs::local("b:9092");
        assert_eq!(args.client_config(&defaults).get("session.timeout.ms"), Some("10000"));
        args.properties.push(("group.protocol".into(), "consumer".into()));
        let config = args.client_config(&defaults);
        assert_eq!(config.get("session.timeout.ms"), None);
        assert_eq!(config.get("enable.auto.commit"), Some("true"));
        assert_eq!(config.get("group.protocol"), Some("consumer"));
    }

    #[test]
    fn property_errors_do_not_echo_the_value() {
        let err = parse_property("sasl.passwordhunter2").expect_err("no '='");
        assert!(!err.contains("hunter2"));
        assert_eq!(parse_property("a=b=c"), Ok(("a".into(), "b=c".into())));
    }
}
