//! The start-up check both binaries run before their Kafka clients: reach a broker with the
//! exact settings those clients use, and tell a configuration error from an outage.
//!
//! librdkafka retries everything forever, a wrong password or an unknown CA included, and only
//! says so through its error callback. Here those errors end the process within seconds with
//! [`crate::exit::CONFIG`]; a broker that is merely down is waited for (start-up patience) and
//! then reported as [`crate::exit::UNAVAILABLE`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, NoCustomPartitioner, Producer as _, ProducerContext};
use rdkafka::ClientConfig;

use crate::exit::Classified;
use crate::kafka::KafkaSettings;
use crate::retry::STARTUP_PATIENCE;
use crate::shutdown::Shutdown;

/// A protocol mismatch ("connecting to a SSL listener?") can also be a broker closing a socket
/// as it restarts: only a repeated one is a configuration error.
const MISMATCHES_BEFORE_FATAL: u32 = 3;

/// What the error callback saw.
#[derive(Default)]
struct Seen {
    /// A wrong password or an untrusted certificate: fatal at once.
    credentials: Option<String>,
    /// Repeated protocol mismatches: fatal unless a broker answers all the same.
    protocol: Option<String>,
    mismatches: u32,
    last: Option<String>,
}

#[derive(Default)]
struct Probe {
    seen: Mutex<Seen>,
}

/// Whether a librdkafka error is a configuration error, and how to name it.
pub fn config_fault(code: Option<RDKafkaErrorCode>, reason: &str) -> Option<&'static str> {
    let lower = reason.to_ascii_lowercase();
    match code {
        Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
            Some("authentication failed (check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD and the mechanism)")
        }
        Some(RDKafkaErrorCode::UnsupportedSASLMechanism | RDKafkaErrorCode::IllegalSASLState) => {
            Some("SASL mechanism refused by the broker (check KAFKA_SASL_MECHANISM)")
        }
        _ if lower.contains("certificate verify failed") => {
            Some("TLS certificate verify failed (check KAFKA_SSL_CA_LOCATION and the broker's certificate)")
        }
        // Other TLS failures (a reset during the handshake) can be a broker going away: they
        // count as protocol mismatches, fatal only when repeated.
        _ => None,
    }
}

/// A connection the broker closed at once, before or right after the handshake: what a
/// plaintext client sees at a TLS listener ("… in state APIVERSION_QUERY"), and a TLS client
/// without SASL at a SASL_SSL one. A broker going away closes connections that lived longer.
fn is_protocol_mismatch(reason: &str) -> bool {
    if reason.contains("incorrect security.protocol") || reason.contains("wrong version number") {
        return true;
    }
    let closed =
        ["closed by peer", "SSL transport error", "SSL handshake failed", "Broken pipe", "reset by peer"];
    if !closed.iter().any(|c| reason.contains(c)) {
        return false;
    }
    let Some(after) = reason.split("(after ").nth(1) else { return false };
    let Some((ms, state)) = after.split_once("ms in state ") else { return false };
    !state.starts_with("CONNECT") && ms.trim().parse::<u64>().is_ok_and(|ms| ms < 1000)
}

impl Probe {
    fn saw(&self, code: Option<RDKafkaErrorCode>, reason: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(what) = config_fault(code, reason) {
            seen.credentials.get_or_insert_with(|| format!("{what}: {reason}"));
        } else if is_protocol_mismatch(reason) {
            seen.mismatches += 1;
            if seen.mismatches >= MISMATCHES_BEFORE_FATAL && seen.protocol.is_none() {
                seen.protocol = Some(format!(
                    "the brokers close every connection at once: they expect another security protocol (check KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_MECHANISM): {reason}"
                ));
            }
        }
        seen.last = Some(reason.to_owned());
    }
}

impl ClientContext for Probe {
    fn error(&self, error: KafkaError, reason: &str) {
        self.saw(error.rdkafka_error_code(), reason);
    }

    // librdkafka tells of a connection closed during the handshake only in its log.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", "librdkafka: {fac} {message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", "librdkafka: {fac} {message}"),
        }
        if fac == "FAIL" {
            self.saw(None, message);
        }
    }
}

impl ProducerContext<NoCustomPartitioner> for Probe {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Checks that `kafka` holds no setting [`crate::kafka_guards`] refuses, and that its brokers
/// can be reached and accept its credentials: `Ok(true)`
/// once a metadata request succeeds, `Ok(false)` when `shutdown` came first, a classified
/// error otherwise (see the module docs).
pub async fn check(kafka: &KafkaSettings, shutdown: &Shutdown) -> anyhow::Result<bool> {
    crate::kafka_guards::check_settings(kafka)?;
    let config = kafka.for_producer().client_config(&[]);
    tracing::info!("checking Kafka: brokers reachable, credentials and certificates accepted");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut task = tokio::task::spawn_blocking(move || check_with(config, STARTUP_PATIENCE, &flag));
    tokio::select! {
        done = &mut task => done.context("the Kafka check panicked")?.map(|()| true),
        () = shutdown.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            let _ = task.await;
            Ok(false)
        }
    }
}

/// The blocking check, with an explicit configuration and patience; gives up when `stop` is set.
pub fn check_with(config: ClientConfig, patience: Duration, stop: &AtomicBool) -> anyhow::Result<()> {
    let client: BaseProducer<Probe> = config
        .create_with_context(Probe::default())
        .map_err(|e| Classified::config(format!("invalid Kafka client configuration: {e}")))?;
    let deadline = Instant::now() + patience;
    let mut next_warning = Instant::now() + Duration::from_secs(10);
    while !stop.load(Ordering::Relaxed) {
        // Serves the error callbacks already queued, without waiting: every process starts
        // with this check, and two 100 ms waits here were a tenth of a short drain.
        client.poll(Duration::ZERO);
        // Never past the deadline: `check` promises an answer within its timeout.
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(100), Duration::from_secs(2));
        let fetched = client.client().fetch_metadata(None, wait);
        // A failure's cause (a refused handshake, bad credentials) arrives as a callback, maybe
        // just after: worth waiting for only then.
        let answered = fetched.as_ref().is_ok_and(|m| !m.brokers().is_empty());
        client.poll(if answered { Duration::ZERO } else { Duration::from_millis(100) });
        let seen = client.context().seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fatal) = &seen.credentials {
            return Err(Classified::config(format!("Kafka: {fatal}")));
        }
        match fetched {
            // A broker answered with these settings: connections closed elsewhere were brokers
            // going away, not a wrong protocol.
            Ok(metadata) if !metadata.brokers().is_empty() => return Ok(()),
            result => {
                if let Some(fatal) = &seen.protocol {
                    return Err(Classified::config(format!("Kafka: {fatal}")));
                }
                let why = seen.last.clone().or_else(|| result.err().map(|e| e.to_string()));
                let why = why.unwrap_or_else(|| "no broker in the metadata".to_owned());
                if Instant::now() >= deadline {
                    return Err(Classified::unavailable(format!(
                        "Kafka not reachable after {}: {why}",
                        crate::duration::human(patience)
                    )));
                }
                if Instant::now() >= next_warning {
                    tracing::warn!(error = %why, "Kafka not reachable yet");
                    next_warning = Instant::now() + Duration::from_secs(10);
                }
            }
        }
    }
    anyhow::bail!("stopped before Kafka was reachable")
}

#[cfg(test)]
mod tests;
