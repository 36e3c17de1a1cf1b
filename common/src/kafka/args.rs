//! [`KafkaArgs`]: the Kafka flags and variables both binaries flatten into their command lines.
//! The command-line shape only: a binary's `cli` module turns it into [`KafkaSettings`] once,
//! with [`KafkaArgs::settings`], and nothing below the command line sees it.

use std::fmt;

use super::{env_properties, KafkaSettings};

/// Connection settings for Kafka, shared by both binaries. Precedence, lowest first: the
/// caller's defaults, `TWEETPIPE_KAFKA_*`, the named flags and variables below, `-X`.
#[derive(Clone, clap::Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, comma-separated.
    #[arg(long = "brokers", env = "KAFKA_BOOTSTRAP_SERVERS", default_value = "localhost:9092")]
    brokers: String,

    /// Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,

    /// SASL username (sets sasl.username).
    #[arg(long, env = "KAFKA_SASL_USERNAME")]
    sasl_username: Option<String>,

    /// SASL password (sets sasl.password). Prefer the environment variable; never logged.
    #[arg(long, env = "KAFKA_SASL_PASSWORD", hide_env_values = true)]
    sasl_password: Option<secrecy::SecretString>,

    /// A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it.
    #[arg(long, env = "KAFKA_SASL_PASSWORD_FILE", value_name = "PATH", value_parser = read_secret_file)]
    sasl_password_file: Option<secrecy::SecretString>,

    /// security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL")]
    security_protocol: Option<String>,

    /// sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…
    #[arg(long, env = "KAFKA_SASL_MECHANISM")]
    sasl_mechanism: Option<String>,

    /// ssl.ca.location: the CA certificate(s) that signed the brokers' certificates.
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION", value_name = "PATH")]
    ssl_ca_location: Option<String>,

    /// `TWEETPIPE_KAFKA_*` properties, read when the command line is parsed.
    #[arg(skip = env_properties(std::env::vars()))]
    env_properties: Vec<(String, String)>,
}

impl KafkaArgs {
    /// The settings these flags and variables give.
    pub fn settings(&self) -> KafkaSettings {
        KafkaSettings {
            brokers: self.brokers.clone(),
            security_protocol: self.security_protocol.clone(),
            sasl_mechanism: self.sasl_mechanism.clone(),
            sasl_username: self.sasl_username.clone(),
            // The one password: KAFKA_SASL_PASSWORD (or the flag) wins over the file.
            sasl_password: self.sasl_password.clone().or_else(|| self.sasl_password_file.clone()),
            ssl_ca_location: self.ssl_ca_location.clone(),
            env_properties: self.env_properties.clone(),
            properties: self.properties.clone(),
        }
    }
}

// The settings hide the password and secret properties; the flags show the same way.
impl fmt::Debug for KafkaArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.settings().fmt(f)
    }
}

fn read_secret_file(path: &str) -> Result<secrecy::SecretString, String> {
    // The error names the file and the reason, never its content.
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned().into())
}

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        // Never echo the value: it may be a password.
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

#[cfg(test)]
mod tests;
