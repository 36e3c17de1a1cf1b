//! Shared pieces of tweetpipe: the tweet model and its parsers, the music rule, and the plumbing
//! both binaries need.
//!
//! # Layout
//! - [`id`]: tweet ids, read as exact 64-bit integers (never through a float).
//! - [`envelope`]: the producer's side: turn any input document (v1.1 statuses, v2 pages, v2
//!   stream lines) into one Kafka message per tweet, control notices, or rejects with a reason.
//! - [`tweet`]: the consumer's side: one Kafka message in, one flat [`tweet::Tweet`] record out.
//!   [`v2_line`] is its fast path for v2 stream lines.
//! - [`music`]: the rule that drops music tweets; [`filter`]: named filter rules built on it.
//! - [`content`]: text fingerprints for content de-duplication. [`pseudonym`]: keyed pseudonyms.
//! - [`kafka`]: Kafka client settings shared by both binaries, topic creation, header names.
//!   [`kafka_preflight`]: the start-up check that tells a wrong password or CA from an outage.
//! - [`exit`]: exit codes (78 configuration, 69 unavailable) and the error class behind them.
//! - [`telemetry`]: logging set-up.
//! - [`observe`]: `/healthz`, `/readyz` and Prometheus `/metrics`; [`metrics_catalog`]: every
//!   series with its HELP text, `build_info`, counters started at zero.
//! - [`redact`]: keeping passwords out of logs and errors. [`retry`]: start-up patience.
//! - [`backoff`]: the one retry schedule. [`dead_letter`]: the one dead-letter type and its headers.
//! - [`shutdown`]: the one shutdown token, cancelled by SIGTERM / Ctrl-C.

pub mod backoff;
pub mod content;
pub mod dead_letter;
pub mod envelope;
pub mod exit;
pub mod filter;
pub mod id;
pub mod kafka;
pub mod kafka_preflight;
pub mod metrics_catalog;
pub mod music;
pub mod observe;
pub mod pseudonym;
pub mod redact;
pub mod retry;
pub mod shutdown;
pub mod telemetry;
pub mod tweet;
pub mod v2_line;

/// The two payload formats tweetpipe understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// X API v1.1 status objects, as they came.
    V1,
    /// X API v2, in filtered-stream line shape: `{"data": {...}, "includes": {...}}`.
    V2,
}

impl Format {
    /// The value of the format header and of the `format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::V1 => "v1.1",
            Format::V2 => "v2",
        }
    }
}
