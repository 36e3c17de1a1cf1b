//! The runtime plumbing both binaries share. The tweet model and its rules live in the pure
//! `tweetpipe-model` crate; this one holds what touches Kafka, HTTP, signals and logs.
//!
//! # Layout
//! - [`kafka`]: Kafka client settings shared by both binaries ([`kafka::KafkaSettings`]; their
//!   command-line shape, [`kafka::args::KafkaArgs`], is for the binaries' `cli` modules only),
//!   topic creation, header names.
//!   [`kafka_preflight`]: the start-up check that tells a wrong password or CA from an outage.
//!   [`kafka_guards`]: settings and topic names refused as configuration errors.
//! - [`duration`]: duration flags (`20s`, `200ms`; bare numbers in the old unit).
//! - [`check`]: the shared part of `check` (a line per step; the Kafka steps).
//! - [`exit`]: exit codes (78 configuration, 69 unavailable) and the error class behind them.
//! - [`telemetry`]: logging set-up.
//! - [`observe`]: `/healthz`, `/readyz` and Prometheus `/metrics`; [`metrics_catalog`]: every
//!   series with its HELP text, `build_info`, counters started at zero; [`process_metrics`]:
//!   CPU, memory and open files from `/proc/self`.
//! - [`redact`]: keeping passwords out of logs and errors. [`retry`]: the one retry driver (start-up patience).
//! - [`backoff`]: the one retry schedule. [`dead_letter`]: the one dead-letter type and its headers.
//! - [`shutdown`]: the one shutdown token, cancelled by SIGTERM / Ctrl-C.

pub mod backoff;
pub mod check;
pub mod dead_letter;
pub mod duration;
pub mod exit;
pub mod kafka;
pub mod kafka_guards;
pub mod kafka_preflight;
pub mod metrics_catalog;
pub mod observe;
pub mod process_metrics;
pub mod redact;
pub mod retry;
pub mod shutdown;
pub mod telemetry;
