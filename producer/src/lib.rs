//! `tweetpipe-producer`: reads tweets from files, stdin, a synthetic generator or the X API and
//! produces one Kafka message per tweet, keyed by tweet id.
//!
//! # Layout
//! - [`cli`]: flags and environment variables; the only module that knows the command line.
//!   It builds [`Settings`] once; every component is built from its own settings struct.
//! - [`source`]: where tweets come from (files and stdin, [`source::synthetic`], [`source::x`]);
//!   each source turns its input into [`record::Record`]s (a file's in batches,
//!   [`record::Records`]) on one bounded channel.
//! - [`check`]: `check`, what producing needs, verified a step at a time within `--timeout`.
//! - [`record`]: what travels from the sources to the sink.
//! - `ready`: when reading may start: once librdkafka holds a producer id.
//! - [`sink`]: the Kafka side: the idempotent producer, dead letters, the final flush;
//!   `sink/delivery.rs` counts delivery reports as librdkafka hands them back.
//! - [`summary`]: what a run did, printed at the end and written as JSON (`--summary-json`);
//!   the same figures go to `/metrics`.
//! - [`topic`]: `topic create | describe | add-partitions | exporter`; [`exporter`]: consumer-group
//!   lag read from the brokers, served on `/metrics`.
//! - `generate`: [`source::synthetic::write_lines`], the generator's output as a file.
//!
//! [`run`] takes the shutdown token as an argument, so tests can stop it like SIGTERM does.

pub(crate) mod check;
pub mod cli;
pub(crate) mod exporter;
mod ready;
pub(crate) mod record;
pub(crate) mod sink;
pub mod source;
pub(crate) mod summary;
pub(crate) mod topic;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tweetpipe_common::kafka::{dlq_topic, ensure_topics, TopicSpec};
use tweetpipe_common::retry::retry_startup;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_common::{exit, kafka_preflight};

use crate::cli::{Cli, Command};
use crate::sink::{KafkaSink, SinkSettings};
use crate::source::SourceSettings;
use crate::summary::Summary;

/// Everything a producer run needs, decided once (from the command line by
/// [`cli::ProduceArgs::settings`], or by hand in tests).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Create the topic and its dead-letter topic with this shape when missing.
    pub topics: Option<TopicSpec>,
    pub sink: SinkSettings,
    pub sources: SourceSettings,
    /// Serve `/healthz`, `/readyz` and `/metrics` here.
    pub http_addr: Option<SocketAddr>,
    /// Records buffered between the readers and Kafka.
    pub channel_capacity: usize,
    /// Where the summary goes as JSON.
    pub summary_json: Option<PathBuf>,
}

/// Runs the command line, prints the summary, and maps the outcome to an exit code.
pub async fn main_with(cli: Cli, shutdown: Shutdown) -> ExitCode {
    // Kafka's settings are checked before anything else: a wrong password or CA ends the
    // process in seconds (exit 78) instead of leaving librdkafka retrying it forever. The lag
    // exporter is left out: it serves /metrics whether the brokers answer or not.
    let topic_task = match &cli.command {
        Some(Command::Topic(command)) => match command.task() {
            Ok(task) => Some(task),
            Err(e) => return exit::report(&e),
        },
        _ => None,
    };
    let kafka = match (&cli.command, &topic_task) {
        (Some(Command::Topic(_)), Some(task)) => task.kafka().cloned(),
        // `check` runs the same probe, bounded by its own timeout.
        (Some(Command::Topic(_) | Command::Generate(_) | Command::Check(_)), _) => None,
        (None, _) => Some(cli.produce.kafka.settings()),
    };
    if cli.command.is_none() {
        if let Err(e) = tweetpipe_common::kafka_guards::check_topic(&cli.produce.topic) {
            return exit::report(&e);
        }
    }
    if let Some(kafka) = &kafka {
        match kafka_preflight::check(kafka, &shutdown).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!("start-up interrupted by shutdown during the Kafka check");
                return ExitCode::FAILURE;
            }
            Err(e) => return exit::report(&e),
        }
    }
    if let Some(task) = topic_task {
        // `topic exporter` runs until SIGTERM.
        return exit_code(topic::run(task, shutdown).await);
    }
    match cli.command {
        Some(Command::Check(args)) => {
            return exit_code(check::run(args.produce.settings(), args.timeout).await)
        }
        Some(Command::Generate(args)) => {
            return exit_code(source::synthetic::write_lines(&args.synthetic.settings(), &args.out))
        }
        Some(Command::Topic(_)) | None => {}
    }
    let settings = cli.produce.settings();
    let summary_json = settings.summary_json.clone();
    match run(settings, shutdown).await {
        Ok(summary) => {
            if let Err(e) = summary.emit(summary_json.as_deref()) {
                tracing::error!("{e:#}");
                return ExitCode::FAILURE;
            }
            if summary.failed > 0 {
                tracing::error!(failed = summary.failed, "some messages were not delivered");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => exit::report(&e),
    }
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}

/// Produces every source in order until they end or `shutdown` is cancelled, then flushes.
pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Summary> {
    if let Some(spec) = settings.topics {
        let dlq = dlq_topic(&settings.sink.topic);
        let topics = [settings.sink.topic.as_str(), dlq.as_str()];
        tracing::info!(topic = %settings.sink.topic, "creating the topics if missing");
        retry_startup("creating topics", &shutdown, || ensure_topics(&settings.sink.kafka, &topics, spec))
            .await?;
    }
    if settings.http_addr.is_some() {
        // Before the sink, which registers its counters once, when it is made.
        tweetpipe_common::observe::install_recorder()?;
    }
    let summary_json = settings.summary_json.clone();
    let sink = KafkaSink::new(&settings.sink).context("creating the Kafka producer")?;
    if let Some(addr) = settings.http_addr {
        // Ready once the topics are there and the producer exists.
        tweetpipe_common::observe::serve(
            addr,
            std::sync::Arc::new(|| true),
            tweetpipe_common::metrics_catalog::Component::Producer,
        )
        .await?;
    }
    sink.connected(&shutdown).await;
    let (tx, rx) = tokio::sync::mpsc::channel(settings.channel_capacity);
    let mut reader = source::spawn_all(settings.sources, tx, shutdown.clone());
    let mut summary = sink.drain(rx, &shutdown).await?;
    // After a shutdown the readers stop at their next line, and one waiting on input that stays
    // open (stdin, a FIFO) within a few milliseconds (`source::interruptible`); a reader still
    // not done is left behind, its counts unknown.
    let read = if shutdown.is_cancelled() {
        match tokio::time::timeout(Duration::from_millis(200), &mut reader).await {
            Ok(read) => Some(read),
            Err(_) => {
                tracing::warn!("an input is still blocked on a read; not waiting for it");
                None
            }
        }
    } else {
        Some(reader.await)
    };
    if let Some(read) = read {
        let read = match read.context("source task panicked")? {
            Ok(read) => read,
            Err(e) => {
                // A failed source still delivered what it read: the summary says so.
                if let Some(failed) = e.downcast_ref::<source::ReadFailed>() {
                    summary.lines = failed.stats.lines;
                    summary.bytes_read = failed.stats.bytes;
                    summary.x = failed.stats.x.clone();
                }
                if let Err(write) = summary.emit(summary_json.as_deref()) {
                    tracing::error!("{write:#}");
                }
                return Err(e);
            }
        };
        summary.lines = read.lines;
        summary.bytes_read = read.bytes;
        summary.x = read.x;
    }
    Ok(summary)
}
