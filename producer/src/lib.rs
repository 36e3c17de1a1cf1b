//! `tweetpipe-producer`: reads tweets from files, stdin or a synthetic generator and produces
//! one Kafka message per tweet, keyed by tweet id.
//!
//! # Layout
//! - [`cli`]: flags and environment variables.
//! - [`source`]: where tweets come from; each source turns its input into [`source::Record`]s
//!   on a bounded channel. [`synthetic`] is the seeded demo generator.
//! - [`sink`]: the Kafka side: the idempotent producer, dead letters, delivery accounting,
//!   the final flush.
//! - [`summary`]: what a run did, printed at the end; the same figures go to `/metrics`.
//! - [`topic`]: `topic create | describe | add-partitions | exporter`; [`exporter`]: consumer-group
//!   lag read from the brokers, served on `/metrics`.
//! - `generate`: [`synthetic::write_lines`], the generator's output as a file.
//! - [`x`]: the X API v2 sources (filtered stream, recent search).
//!
//! [`run`] takes the shutdown future as an argument, so tests can stop it like SIGTERM does.

pub mod cli;
pub mod exporter;
pub mod sink;
pub mod source;
pub mod summary;
pub mod synthetic;
pub mod topic;
pub mod x;

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context as _;
use tweetpipe_common::kafka::{dlq_topic, ensure_topics, TopicSpec};
use tweetpipe_common::retry::retry_startup;
use tweetpipe_common::{exit, kafka_preflight};

use crate::cli::{AddPartitionsArgs, Cli, Command, ProduceArgs, TopicCommand, TopicCreateArgs};
use crate::summary::Summary;

/// Runs the command line, prints the summary, and maps the outcome to an exit code.
pub async fn main_with(cli: Cli, shutdown: impl Future<Output = ()> + Send + 'static) -> ExitCode {
    // Kafka's settings are checked before anything else: a wrong password or CA ends the
    // process in seconds (exit 78) instead of leaving librdkafka retrying it forever. The lag
    // exporter is left out: it serves /metrics whether the brokers answer or not.
    let kafka = match &cli.command {
        Some(Command::Topic(
            TopicCommand::Create(TopicCreateArgs { topic: args, .. })
            | TopicCommand::AddPartitions(AddPartitionsArgs { topic: args, .. }),
        )) => Some(&args.kafka),
        Some(Command::Topic(TopicCommand::Describe(args))) => Some(&args.kafka),
        Some(Command::Topic(TopicCommand::Exporter(_)) | Command::Generate(_)) => None,
        None => Some(&cli.produce.kafka),
    };
    // One token for the signal; what follows still takes it as a future.
    let token = tweetpipe_common::shutdown::Shutdown::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        cancel.cancel();
    });
    let shutdown = token.clone().cancelled_owned();
    if let Some(kafka) = kafka {
        match kafka_preflight::check(kafka, &token).await {
            Ok(true) => {}
            Ok(false) => return ExitCode::SUCCESS,
            Err(e) => return exit::report(&e),
        }
    }
    match cli.command {
        // `topic exporter` runs until SIGTERM.
        Some(Command::Topic(command)) => return exit_code(topic::run(command, shutdown).await),
        Some(Command::Generate(args)) => return exit_code(synthetic::write_lines(&args)),
        None => {}
    }
    match run(cli.produce, shutdown).await {
        Ok(summary) => {
            println!("{summary}");
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

/// Produces every source in order until they end or `shutdown` completes, then flushes.
pub async fn run(
    args: ProduceArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Summary> {
    let dlq = dlq_topic(&args.topic);
    if args.create_topics {
        let spec = TopicSpec { partitions: args.partitions, replication: args.replication_factor };
        let topics = [args.topic.as_str(), dlq.as_str()];
        retry_startup("creating topics", &tweetpipe_common::shutdown::Shutdown::new(), || {
            ensure_topics(&args.kafka, &topics, spec)
        })
        .await?;
    }
    let sink = sink::KafkaSink::new(&args, &dlq).context("creating the Kafka producer")?;
    if let Some(addr) = args.http_addr {
        // Ready once the topics are there and the producer exists.
        tweetpipe_common::observe::serve(addr, std::sync::Arc::new(|| true)).await?;
        tweetpipe_common::metrics_catalog::register(tweetpipe_common::metrics_catalog::Component::Producer);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(args.channel_capacity);
    let stop = source::StopFlag::default();
    let reader = source::spawn_all(
        args.sources(),
        args.synthetic.clone(),
        args.x.clone(),
        args.max_line_bytes,
        tx,
        stop.clone(),
    );

    let stop_on_signal = stop.clone();
    let signal = tokio::spawn(async move {
        shutdown.await;
        stop_on_signal.stop();
    });
    let result = sink.drain(rx, &stop).await;
    signal.abort();
    let read = reader.await.context("source task panicked")?;
    let mut summary = result?;
    let read = read?;
    summary.lines = read.lines;
    summary.bytes_read = read.bytes;
    summary.x = read.x;
    Ok(summary)
}
