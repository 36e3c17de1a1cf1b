//! Where tweets come from. Every source turns its input into [`crate::record::Record`]s on one bounded channel,
//! in order, so the sink applies back-pressure to the readers.
//!
//! # Layout
//! - this module: which sources ([`SourceSpec`]), their settings, reading them in order.
//! - [`lines`]: JSON lines from a file or stdin; [`join`]: documents over many lines, in
//!   linear time; `interruptible`: stdin (or a FIFO), ended by shutdown even while a read
//!   blocks.
//! - [`synthetic`]: the seeded generator (`--source synthetic`, `generate`).
//! - [`x`]: the X API v2 sources (filtered stream, recent search).

mod interruptible;
mod join;
pub(crate) mod lines;
pub mod synthetic;
pub(crate) mod x;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tweetpipe_common::shutdown::Shutdown;

use self::synthetic::SyntheticSettings;
use self::x::{XCounters, XSettings};
use crate::record::Msg;

/// One input source, as given to `--source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// `file:PATH`: JSON lines or one JSON document, gzip-compressed or not.
    File(PathBuf),
    /// `stdin`: JSON lines on standard input.
    Stdin,
    /// `synthetic`: the seeded generator.
    Synthetic,
    /// `x-stream`: the X API v2 filtered stream.
    XStream,
    /// `x-search`: X API v2 recent search, polled.
    XSearch,
}

impl SourceSpec {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "stdin" | "-" => Ok(Self::Stdin),
            "synthetic" => Ok(Self::Synthetic),
            "x-stream" => Ok(Self::XStream),
            "x-search" => Ok(Self::XSearch),
            _ => match s.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
                _ => Err(format!(
                    "unknown source {s:?}: use file:PATH, stdin, synthetic, x-stream or x-search"
                )),
            },
        }
    }

    /// The name written into headers and logs.
    pub fn label(&self) -> String {
        match self {
            Self::File(p) => format!("file:{}", p.display()),
            Self::Stdin => "stdin".to_owned(),
            Self::Synthetic => "synthetic".to_owned(),
            Self::XStream => "x-stream".to_owned(),
            Self::XSearch => "x-search".to_owned(),
        }
    }
}

/// What the readers consumed.
#[derive(Debug, Default, Clone)]
pub struct ReadStats {
    pub lines: u64,
    pub bytes: u64,
    /// Counters of the X sources (connections, reconnects by cause, keep-alives, …).
    pub x: XCounters,
    /// Bytes the line reader's parsers examined (a bounded multiple of `bytes`).
    pub examined: u64,
}

/// A source that failed, with what the readers had done until then (the summary still wants
/// it): the outermost context of the reader's error.
#[derive(Debug)]
pub struct ReadFailed {
    pub source: String,
    pub stats: ReadStats,
}

impl std::fmt::Display for ReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "source {} failed", self.source)
    }
}

/// What to read, and how.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// The sources, read in order.
    pub specs: Vec<SourceSpec>,
    /// Longest input line (or joined document); longer ones are dead-lettered.
    pub max_line_bytes: usize,
    pub synthetic: SyntheticSettings,
    pub x: XSettings,
}

/// Reads every source in order on a background task, until they end, the channel closes or
/// `shutdown` is cancelled. A reader blocked on input that stays open (stdin, a FIFO) is not
/// waited for on shutdown: the sink stops taking records, and the caller stops awaiting this.
pub fn spawn_all(
    settings: SourceSettings,
    tx: Sender<Msg>,
    shutdown: Shutdown,
) -> JoinHandle<anyhow::Result<ReadStats>> {
    tokio::spawn(async move {
        let mut total = ReadStats::default();
        for spec in &settings.specs {
            if shutdown.is_cancelled() {
                break;
            }
            let origin: Arc<str> = spec.label().into();
            tracing::info!(source = %origin, "reading");
            let stats = match spec {
                SourceSpec::Synthetic => synthetic::run(&settings.synthetic, origin, &tx, &shutdown).await,
                SourceSpec::File(path) => read_file(path.clone(), origin, &settings, &tx, &shutdown).await?,
                SourceSpec::Stdin => read_stdin(origin, &settings, &tx, &shutdown).await?,
                SourceSpec::XStream | SourceSpec::XSearch => {
                    let mut counters = XCounters::new();
                    let result = if *spec == SourceSpec::XStream {
                        x::stream::run(&settings.x, &tx, &shutdown, &mut counters).await
                    } else {
                        x::search::run(&settings.x, &tx, &shutdown, &mut counters).await
                    };
                    // Counters are wanted in the summary even when the source failed.
                    x::merge(&mut total.x, counters);
                    if let Err(e) = result {
                        return Err(e.context(ReadFailed { source: origin.to_string(), stats: total }));
                    }
                    ReadStats::default()
                }
            };
            total.lines += stats.lines;
            total.bytes += stats.bytes;
            total.examined += stats.examined;
        }
        Ok(total)
    })
}

async fn read_file(
    path: PathBuf,
    origin: Arc<str>,
    settings: &SourceSettings,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
) -> anyhow::Result<ReadStats> {
    let (tx, shutdown, max) = (tx.clone(), shutdown.clone(), settings.max_line_bytes);
    tokio::task::spawn_blocking(move || {
        let mut reader =
            lines::open_file(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let metadata = std::fs::metadata(&path).ok();
        // A FIFO or a device may block like stdin; a regular file never does.
        if !metadata.as_ref().is_some_and(std::fs::Metadata::is_file) {
            reader = Box::new(
                interruptible::Interruptible::new(reader, shutdown.clone())
                    .context("starting the input reader")?,
            );
        }
        // Bytes of the file on a terminal; hidden (progress log lines instead) otherwise.
        let size = metadata.map_or(0, |m| m.len());
        let bar = indicatif::ProgressBar::new(size).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let stats = lines::read(reader, origin, max, &tx, &shutdown, &bar)
            .with_context(|| format!("reading {}", path.display()));
        bar.finish_and_clear();
        stats
    })
    .await
    .context("file reader panicked")?
}

async fn read_stdin(
    origin: Arc<str>,
    settings: &SourceSettings,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
) -> anyhow::Result<ReadStats> {
    let (tx, shutdown, max) = (tx.clone(), shutdown.clone(), settings.max_line_bytes);
    tokio::task::spawn_blocking(move || {
        // Left open by whatever feeds it, stdin could block the reader past shutdown, and the
        // summary would lose its counts.
        let stdin = interruptible::Interruptible::new(std::io::stdin(), shutdown.clone())
            .context("starting the stdin reader")?;
        let bar = indicatif::ProgressBar::hidden();
        lines::read(stdin, origin, max, &tx, &shutdown, &bar).context("reading stdin")
    })
    .await
    .context("stdin reader panicked")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_specs() {
        assert_eq!(SourceSpec::parse("file:/a/b.jsonl"), Ok(SourceSpec::File("/a/b.jsonl".into())));
        assert_eq!(SourceSpec::parse("stdin"), Ok(SourceSpec::Stdin));
        assert_eq!(SourceSpec::parse("synthetic"), Ok(SourceSpec::Synthetic));
        assert!(SourceSpec::parse("file:").is_err());
        assert!(SourceSpec::parse("http://x").is_err());
    }
}
