//! Logging: `tracing` to stderr, human-readable or JSON lines. Summaries go to stdout, so a
//! pipeline can keep them apart from the log.

use tracing_subscriber::{fmt, EnvFilter};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber. The level comes from `RUST_LOG` (default `info`, with
/// librdkafka's and sqlx's chatter kept at `warn`).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,sqlx=warn"));
    use std::io::IsTerminal as _;
    // Colours only for a person at a terminal; files and log collectors get plain text.
    let builder =
        fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    // A second init (tests that run a binary's `main` logic twice) is not an error worth dying for.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
