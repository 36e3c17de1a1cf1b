//! Exit codes, sysexits style, so that an operator (or Kubernetes) can tell a wrong setting from
//! an outage without reading the log: 78 for configuration and credentials, 69 for a server
//! still unreachable after start-up's retries, 2 for usage (clap), 1 for anything else.

use std::process::ExitCode;

/// `EX_CONFIG`: wrong password, unknown CA, a server refusing TLS, a bad property.
pub const CONFIG: u8 = 78;
/// `EX_UNAVAILABLE`: the server never answered within the start-up patience.
pub const UNAVAILABLE: u8 = 69;

/// What kind of failure ended the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Config,
    Unavailable,
}

/// An error that knows its class; put it at the bottom of an `anyhow` chain (context may be
/// added on top) and [`code`] finds it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Classified {
    pub class: Class,
    message: String,
}

impl Classified {
    /// A configuration or credential error. `message` must name the problem and hold no secret.
    pub fn config(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Self { class: Class::Config, message: message.into() })
    }

    /// A server still unreachable after start-up's retries.
    pub fn unavailable(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Self { class: Class::Unavailable, message: message.into() })
    }
}

/// The class of `e`: the first [`Classified`] in its chain; an invalid Kafka client
/// configuration (unknown property, bad value) is a configuration error too.
pub fn class_of(e: &anyhow::Error) -> Option<Class> {
    e.chain().find_map(|cause| {
        if let Some(c) = cause.downcast_ref::<Classified>() {
            return Some(c.class);
        }
        match cause.downcast_ref::<rdkafka::error::KafkaError>() {
            Some(
                rdkafka::error::KafkaError::ClientConfig(..) | rdkafka::error::KafkaError::ClientCreation(_),
            ) => Some(Class::Config),
            _ => None,
        }
    })
}

/// Logs `e` and returns its exit code.
pub fn report(e: &anyhow::Error) -> ExitCode {
    tracing::error!("{e:#}");
    match class_of(e) {
        Some(Class::Config) => ExitCode::from(CONFIG),
        Some(Class::Unavailable) => ExitCode::from(UNAVAILABLE),
        None => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests;
