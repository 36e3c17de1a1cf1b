//! Logging: `tracing` to stderr, human-readable or JSON lines. Summaries go to stdout, so a
//! pipeline can keep them apart from the log. Every line passes [`crate::redact::scrub`] on
//! its way out: librdkafka's lines and errors may echo secret property values.

use std::io::Write;

use tracing_subscriber::{fmt, EnvFilter};

/// stderr, with remembered secrets masked. The formatter writes each event in one call.
struct Scrubbed;

impl Write for Scrubbed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(crate::redact::scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How log lines are written. Named on the command line by [`LogFormat::name`]; the binaries'
/// `cli` modules offer [`LogFormat::ALL`] and parse the choice with [`str::parse`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [LogFormat; 2] = [LogFormat::Text, LogFormat::Json];

    /// The name that selects this format (`--log-format`, `TWEETPIPE_LOG_FORMAT`).
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }

    /// What the format is for, in a few words (shown next to the name in `--help`).
    pub fn description(self) -> &'static str {
        match self {
            LogFormat::Text => "Readable lines for a terminal",
            LogFormat::Json => "One JSON object per line, for log collectors",
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is none of [`LogFormat::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format {0:?} (expected one of: {names})", names = LogFormat::ALL.map(LogFormat::name).join(", "))]
pub struct UnknownLogFormat(pub String);

impl std::str::FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// Exactly one of the names (case matters, as it always has on the command line).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogFormat::ALL
            .into_iter()
            .find(|format| format.name() == s)
            .ok_or_else(|| UnknownLogFormat(s.to_owned()))
    }
}

/// Installs the global subscriber. The level comes from `RUST_LOG` (default `info`, with
/// librdkafka's and sqlx's chatter kept at `warn`).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,sqlx=warn"));
    use std::io::IsTerminal as _;
    // Colours only for a person at a terminal; files and log collectors get plain text.
    let builder =
        fmt().with_env_filter(filter).with_writer(|| Scrubbed).with_ansi(std::io::stderr().is_terminal());
    // A second init (tests that run a binary's `main` logic twice) is not an error worth dying for.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests;
