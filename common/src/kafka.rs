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

/// Prefix of the environment variables that set any other librdkafka property:
/// `TWEETPIPE_KAFKA_SSL_CERTIFICATE_LOCATION` -> `ssl.certificate.location` (`_` is a dot, `__`
/// an underscore). Not every `KAFKA_*` variable: KAFKA_PORT, KAFKA_HEAP_OPTS and friends belong
/// to brokers and scripts, and would become bogus or harmful client properties.
pub const ENV_PROPERTY_PREFIX: &str = "TWEETPIPE_KAFKA_";

/// Connection settings for Kafka, shared by both binaries. Precedence, lowest first: the
/// caller's defaults, `TWEETPIPE_KAFKA_*`, the named flags and variables below, `-X`.
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

    /// A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it.
    #[arg(long, env = "KAFKA_SASL_PASSWORD_FILE", value_name = "PATH", value_parser = read_secret_file)]
    pub sasl_password_file: Option<secrecy::SecretString>,

    /// security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL")]
    pub security_protocol: Option<String>,

    /// sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…
    #[arg(long, env = "KAFKA_SASL_MECHANISM")]
    pub sasl_mechanism: Option<String>,

    /// ssl.ca.location: the CA certificate(s) that signed the brokers' certificates.
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION", value_name = "PATH")]
    pub ssl_ca_location: Option<String>,

    /// `TWEETPIPE_KAFKA_*` properties, read when the command line is parsed.
    #[arg(skip = env_properties(std::env::vars()))]
    pub env_properties: Vec<(String, String)>,
}

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

fn read_secret_file(path: &str) -> Result<secrecy::SecretString, String> {
    // The error names the file and the reason, never its content.
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned().into())
}

impl fmt::Debug for KafkaArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let props: Vec<String> = self
            .env_properties
            .iter()
            .chain(&self.properties)
            .map(|(k, v)| if is_secret_property(k) { format!("{k}=***") } else { format!("{k}={v}") })
            .collect();
        f.debug_struct("KafkaArgs")
            .field("brokers", &self.brokers)
            .field("properties", &props)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .field("sasl_password_file", &self.sasl_password_file.as_ref().map(|_| "***"))
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("ssl_ca_location", &self.ssl_ca_location)
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
        Self {
            brokers: brokers.into(),
            properties: Vec::new(),
            sasl_username: None,
            sasl_password: None,
            sasl_password_file: None,
            security_protocol: None,
            sasl_mechanism: None,
            ssl_ca_location: None,
            env_properties: Vec::new(),
        }
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
        args.env_properties.retain(|(k, _)| !CONSUMER_ONLY.iter().any(|c| k.starts_with(c)));
        args
    }

    /// Whether `-X group.protocol=consumer` selects Kafka 4's consumer-group protocol (KIP-848).
    pub fn kip848(&self) -> bool {
        self.env_properties
            .iter()
            .chain(&self.properties)
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
        for (k, v) in defaults.iter().filter(|(k, _)| !(kip848 && CLASSIC_GROUP_ONLY.contains(k))) {
            config.set(*k, *v);
        }
        for (k, v) in &self.env_properties {
            config.set(k, v);
        }
        config.set("bootstrap.servers", &self.brokers);
        let named = [
            ("security.protocol", &self.security_protocol),
            ("sasl.mechanism", &self.sasl_mechanism),
            ("sasl.username", &self.sasl_username),
            ("ssl.ca.location", &self.ssl_ca_location),
        ];
        for (k, v) in named {
            if let Some(v) = v {
                config.set(k, v);
            }
        }
        if let Some(password) = self.sasl_password.as_ref().or(self.sasl_password_file.as_ref()) {
            config.set("sasl.password", password.expose_secret());
        }
        for (k, v) in &self.properties {
            config.set(k, v);
        }
        // librdkafka echoes values in its log and error lines: mask the secret ones there.
        // (`config_map` hides some of them; `get` reads the value set.)
        for k in config.config_map().into_keys().filter(|k| is_secret_property(k)) {
            crate::redact::remember(config.get(k).unwrap_or_default());
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
    fn environment_properties_follow_one_rule() {
        let vars = [
            ("TWEETPIPE_KAFKA_SSL_CERTIFICATE_LOCATION", "/c.pem"),
            ("TWEETPIPE_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET", "hunter2"),
            ("TWEETPIPE_KAFKA_A__B", "x"),
            ("KAFKA_PORT", "9092"),
            ("KAFKA_HEAP_OPTS", "-Xmx1g"),
            ("TWEETPIPE_KAFKA_", "ignored"),
        ];
        let props = env_properties(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let keys: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a_b", "sasl.oauthbearer.client.secret", "ssl.certificate.location"]);

        let mut args = KafkaArgs::local("b:9092");
        args.env_properties = props;
        args.security_protocol = Some("SASL_SSL".into());
        args.sasl_password_file = Some("from-file".to_owned().into());
        args.env_properties.push(("security.protocol".into(), "PLAINTEXT".into()));
        args.properties.push(("sasl.mechanism".into(), "PLAIN".into()));
        args.sasl_mechanism = Some("SCRAM-SHA-512".into());
        let config = args.client_config(&[("security.protocol", "SSL")]);
        assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(config.get("sasl.mechanism"), Some("PLAIN"), "-X wins");
        assert_eq!(config.get("sasl.password"), Some("from-file"));
        assert_eq!(config.get("ssl.certificate.location"), Some("/c.pem"));
        let echoed = "Invalid value hunter2 for sasl.oauthbearer.client.secret; from-file refused";
        assert_eq!(
            crate::redact::scrub(echoed),
            "Invalid value *** for sasl.oauthbearer.client.secret; *** refused"
        );
        assert!(!format!("{args:?}").contains("hunter2") && !format!("{args:?}").contains("from-file"));
    }

    #[test]
    fn password_files_lose_their_newline_and_errors_name_the_file() {
        let path = std::env::temp_dir().join(format!("tweetpipe-pw-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").expect("write");
        let read = read_secret_file(path.to_str().expect("utf-8"));
        std::fs::remove_file(&path).expect("remove");
        use secrecy::ExposeSecret as _;
        assert_eq!(read.expect("readable").expose_secret(), "s3cret");
        let err = read_secret_file("/nonexistent/pw").expect_err("missing");
        assert!(err.contains("/nonexistent/pw"), "{err}");
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
