//! Where tweets come from. Every source turns its input into [`Record`]s on one bounded channel,
//! in order, so the sink applies back-pressure to the readers.

mod lines;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::mpsc::Sender;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tweetpipe_model::envelope::{Item, TweetMessage};
use tweetpipe_model::Format;

use crate::cli::SyntheticArgs;
use crate::synthetic::Generator;
use crate::x::{self, XArgs, XCounters};

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

/// One classified piece of input, with where it came from.
#[derive(Debug)]
pub struct Record {
    /// The source label (`file:PATH`, `stdin`, `synthetic`).
    pub origin: Arc<str>,
    /// The 1-based line (or, for the generator, message number) it started on.
    pub line: u64,
    pub item: Item,
}

/// What travels from the sources to the sink.
#[derive(Debug)]
pub enum Msg {
    Record(Record),
    /// Wait until everything sent so far is acknowledged; answers whether all of it was.
    /// Recent search writes its checkpoint only after this.
    Flush(oneshot::Sender<bool>),
}

/// Tells readers to stop at the next line; set on SIGTERM / Ctrl-C.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<(AtomicBool, Notify)>);

impl StopFlag {
    pub fn stop(&self) {
        self.0 .0.store(true, Ordering::Relaxed);
        self.0 .1.notify_waiters();
    }

    pub fn is_stopped(&self) -> bool {
        self.0 .0.load(Ordering::Relaxed)
    }

    /// Completes once [`StopFlag::stop`] has been called.
    pub async fn wait(&self) {
        loop {
            let notified = self.0 .1.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
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
}

/// Reads every source in order on a background task.
pub fn spawn_all(
    specs: Vec<SourceSpec>,
    synthetic: SyntheticArgs,
    x_args: XArgs,
    max_line_bytes: usize,
    tx: Sender<Msg>,
    stop: StopFlag,
) -> JoinHandle<anyhow::Result<ReadStats>> {
    tokio::spawn(async move {
        let mut total = ReadStats::default();
        for spec in specs {
            if stop.is_stopped() {
                break;
            }
            let origin: Arc<str> = spec.label().into();
            tracing::info!(source = %origin, "reading");
            let stats = match spec {
                SourceSpec::Synthetic => run_synthetic(&synthetic, origin, &tx, &stop).await,
                SourceSpec::File(path) => {
                    let (tx, stop) = (tx.clone(), stop.clone());
                    tokio::task::spawn_blocking(move || {
                        let reader = lines::open_file(&path)
                            .with_context(|| format!("cannot open {}", path.display()))?;
                        // Bytes of the file on a terminal; hidden (progress log lines instead) otherwise.
                        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                        let bar = indicatif::ProgressBar::new(size).with_style(
                            indicatif::ProgressStyle::with_template(
                                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        let stats = lines::read(reader, origin, max_line_bytes, &tx, &stop, &bar)
                            .with_context(|| format!("reading {}", path.display()));
                        bar.finish_and_clear();
                        stats
                    })
                    .await
                    .context("file reader panicked")??
                }
                SourceSpec::XStream => {
                    let mut stats = ReadStats::default();
                    let result = x::stream::run(&x_args, &tx, &stop, &mut stats.x).await;
                    // Counters are wanted in the summary even when the source failed.
                    total.x.extend(std::mem::take(&mut stats.x));
                    result?;
                    stats
                }
                SourceSpec::XSearch => {
                    let mut stats = ReadStats::default();
                    let result = x::search::run(&x_args, &tx, &stop, &mut stats.x).await;
                    total.x.extend(std::mem::take(&mut stats.x));
                    result?;
                    stats
                }
                SourceSpec::Stdin => {
                    let (tx, stop) = (tx.clone(), stop.clone());
                    tokio::task::spawn_blocking(move || {
                        let stdin = std::io::stdin().lock();
                        let bar = indicatif::ProgressBar::hidden();
                        lines::read(stdin, origin, max_line_bytes, &tx, &stop, &bar).context("reading stdin")
                    })
                    .await
                    .context("stdin reader panicked")??
                }
            };
            total.lines += stats.lines;
            total.bytes += stats.bytes;
            for (k, v) in stats.x {
                *total.x.entry(k).or_default() += v;
            }
        }
        Ok(total)
    })
}

async fn run_synthetic(
    args: &SyntheticArgs,
    origin: Arc<str>,
    tx: &Sender<Msg>,
    stop: &StopFlag,
) -> ReadStats {
    let mut stats = ReadStats::default();
    let started = Instant::now();
    let mut tweets = Generator::new(args);
    for n in 0u64.. {
        if stop.is_stopped() {
            break;
        }
        // Wait first, then generate: a wall-clock `created_at` is then the moment of sending.
        if args.rate > 0.0 {
            let due = started + Duration::from_secs_f64(n as f64 / args.rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let Some(tweet) = tweets.next() else { break };
        stats.lines += 1;
        stats.bytes += tweet.payload.len() as u64;
        let item = Item::Tweet(TweetMessage { id: tweet.id, format: Format::V2, payload: tweet.payload });
        if tx.send(Msg::Record(Record { origin: origin.clone(), line: n + 1, item })).await.is_err() {
            break;
        }
    }
    stats
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
