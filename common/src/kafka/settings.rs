//! [`KafkaSettings`]: the one set of Kafka connection settings, and the librdkafka client
//! configuration built from it. Every module that talks to Kafka takes these; only the
//! binaries' command lines know [`super::args::KafkaArgs`], which becomes one of these once.

use std::fmt;

use rdkafka::config::ClientConfig;
use secrecy::SecretString;

use crate::redact::is_secret_property;

/// Where the brokers are and how to authenticate to them. Precedence when a client
/// configuration is built, lowest first: the caller's defaults, `TWEETPIPE_KAFKA_*`
/// ([`Self::env_properties`]), the named settings, `-X` ([`Self::properties`]).
#[derive(Clone)]
pub struct KafkaSettings {
    /// `bootstrap.servers`, comma-separated.
    pub brokers: String,
    /// `security.protocol`: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    pub security_protocol: Option<String>,
    /// `sasl.mechanism`: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…
    pub sasl_mechanism: Option<String>,
    /// `sasl.username`.
    pub sasl_username: Option<String>,
    /// `sasl.password`, whether it came from a variable, a flag or a file.
    pub sasl_password: Option<SecretString>,
    /// `ssl.ca.location`: the CA certificate(s) that signed the brokers' certificates.
    pub ssl_ca_location: Option<String>,
    /// The properties `TWEETPIPE_KAFKA_*` variables name ([`super::env_properties`]).
    pub env_properties: Vec<(String, String)>,
    /// `-X KEY=VALUE` properties, in the order given: they override everything else.
    pub properties: Vec<(String, String)>,
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `-X` and `TWEETPIPE_KAFKA_*` values are plain strings: a secret among them is masked
        // by its property's name.
        let props: Vec<String> = self
            .env_properties
            .iter()
            .chain(&self.properties)
            .map(|(k, v)| if is_secret_property(k) { format!("{k}=***") } else { format!("{k}={v}") })
            .collect();
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("properties", &props)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .finish()
    }
}

impl KafkaSettings {
    /// Settings for a local broker, for tests and tools.
    pub fn local(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
            env_properties: Vec::new(),
            properties: Vec::new(),
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
        let mut settings = self.clone();
        settings.properties.retain(|(k, _)| !CONSUMER_ONLY.iter().any(|c| k.starts_with(c)));
        settings.env_properties.retain(|(k, _)| !CONSUMER_ONLY.iter().any(|c| k.starts_with(c)));
        settings
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
        if let Some(password) = &self.sasl_password {
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

#[cfg(test)]
mod tests;
