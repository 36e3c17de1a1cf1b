//! Start-up wiring for `tweetpipe-consumer run`: filter and key files, the database, the
//! dead-letter topic, seeding a fresh group, readiness, the librdkafka settings, the progress
//! bar; then the loop ([`crate::pipeline`]) and an orderly exit.
//!
//! Every step that needs a server is retried on the common backoff and ends at once on
//! SIGTERM; a stop during start-up is a clean stop, not an error.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::ClientConfig;
use tweetpipe_common::kafka::{ensure_topics, TopicSpec};
use tweetpipe_common::retry::retry_startup;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::filter::Filters;
use tweetpipe_model::pseudonym::Pseudonymizer;

use crate::cursors::Cursors;
use crate::db::offsets::Owner;
use crate::db::{self, writer::Writer};
use crate::dead_letter::DeadLetters;
use crate::dedup::RecentIds;
use crate::end::EndOfTopic;
use crate::group::{GroupContext, SharedAssignment};
use crate::intake::Intake;
use crate::offsets::commit_sync;
use crate::pipeline::{Fixtures, Pipeline};
use crate::reader::Shapers;
use crate::replay;
use crate::report::{Report, RunOutcome};
use crate::settings::Target;
use crate::settings::{PseudonymKey, RunSettings};

/// Joins the group and stores tweets until `shutdown`, or with `--exit-at-end` until the topic
/// is drained. The report says which.
pub async fn run(args: RunSettings, shutdown: Shutdown) -> anyhow::Result<Report> {
    // Shutdown may wait for the in-flight batch this long, then gives up on it.
    let give_up = Shutdown::new();
    let deadline = tokio::spawn({
        let (shutdown, give_up, drain) = (shutdown.clone(), give_up.clone(), args.drain_timeout);
        async move {
            shutdown.cancelled().await;
            tokio::time::sleep(drain).await;
            give_up.cancel();
        }
    });
    let result = match start(args, shutdown.clone(), give_up).await {
        Ok(mut pipeline) => {
            let outcome = pipeline.run().await;
            finish(&mut pipeline).await;
            outcome.map(|o| {
                pipeline.report.outcome = o;
                std::mem::take(&mut pipeline.report)
            })
        }
        // Interrupted while waiting for a server: a stop, with nothing done.
        Err(e) if shutdown.is_cancelled() => {
            tracing::info!(error = %format!("{e:#}"), "stopped during start-up");
            Ok(Report { outcome: RunOutcome::Stopped, ..Report::default() })
        }
        Err(e) => Err(e),
    };
    deadline.abort();
    result
}

async fn start(args: RunSettings, shutdown: Shutdown, give_up: Shutdown) -> anyhow::Result<Pipeline> {
    let filter_file = match &args.filter_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the filter file {}", path.display()))?,
        ),
        None => None,
    };
    let filters = Filters::new(&args.filter_terms, filter_file.as_deref(), args.filter_mode)?;
    let pseudonyms = match &args.pseudonym_key {
        Some(key) => Some(Arc::new(Pseudonymizer::new(pseudonym_key(key)?)?)),
        None => None,
    };

    let pool = db::connect(&args.database, &shutdown).await?;
    if args.migrate {
        db::migrate(&pool).await?;
    } else {
        db::require_migrated(&pool).await?;
    }
    let dead = DeadLetters::new(&args.kafka, &args.topic, give_up.clone())?;
    // Broker defaults (-1) for a dead-letter topic nobody created yet.
    let dlq = [dead.topic()];
    let spec = TopicSpec { partitions: -1, replication: -1 };
    retry_startup("creating the dead-letter topic", &shutdown, || ensure_topics(&args.kafka, &dlq, spec))
        .await?;

    let owner = Owner { group: args.group.clone(), topic: args.topic.clone() };
    if let Some(t) = args.seed_from {
        let (kafka, target) = (&args.kafka, Target::Datetime(t));
        retry_startup("seeding the group's start", &shutdown, || replay::seed(kafka, &pool, &owner, &target))
            .await?;
    }

    let assignment = SharedAssignment::default();
    if let Some(addr) = args.http_addr {
        let (pool, assignment) = (pool.clone(), assignment.clone());
        // Ready: the database answers (a pooled connection exists) and partitions are assigned.
        let ready = Arc::new(move || {
            !pool.is_closed() && pool.size() > 0 && !crate::group::snapshot(&assignment).partitions.is_empty()
        });
        tweetpipe_common::observe::serve(addr, ready, tweetpipe_common::metrics_catalog::Component::Consumer)
            .await?;
    }
    let consumer: Arc<StreamConsumer<GroupContext>> = Arc::new(
        consumer_settings(&args)
            .create_with_context(GroupContext { assignment: assignment.clone() })
            .context("invalid Kafka consumer configuration")?,
    );
    consumer.subscribe(&[&args.topic]).context("subscribing")?;
    tracing::info!(topic = %args.topic, group = %args.group, "joined consumer group");

    let end = match args.exit_at_end {
        true => Some(
            retry_startup("reading the topic's end", &shutdown, || {
                let (consumer, topic) = (consumer.clone(), args.topic.clone());
                // Blocking metadata calls, on a thread of their own so that SIGTERM need not wait.
                async move {
                    tokio::task::spawn_blocking(move || EndOfTopic::capture(consumer.as_ref(), &topic))
                        .await?
                }
            })
            .await?,
        ),
        false => None,
    };
    let progress = progress_bar(end.as_ref());
    let cursors = Cursors::new(owner.clone(), pool.clone(), consumer.clone(), assignment.clone());
    let writer = Writer::new(pool, args.link_content, give_up).exactly_once(owner, Arc::new(dead));
    let intake = Intake::new(
        consumer,
        assignment,
        args.topic.clone(),
        args.batch_size,
        args.batch_linger,
        shutdown.clone(),
        cursors,
    );
    let rest = Fixtures {
        shapers: Shapers { filters: Arc::new(filters), pseudonyms },
        cache: RecentIds::new(args.dedup_cache),
        end,
        progress,
    };
    Ok(Pipeline::new(intake, writer, args.db_writers, rest))
}

/// The group consumer's librdkafka settings; `-X` overrides any of them.
fn consumer_settings(args: &RunSettings) -> ClientConfig {
    let mut config = args.kafka.client_config(&[
        ("enable.auto.commit", "true"),
        ("auto.commit.interval.ms", "1000"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "earliest"),
        ("partition.assignment.strategy", "cooperative-sticky"),
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "2000"),
        ("enable.partition.eof", "false"),
        // Lag for /metrics comes from librdkafka's statistics.
        ("statistics.interval.ms", "5000"),
        // Notice added partitions within seconds, not the default five minutes.
        ("topic.metadata.refresh.interval.ms", "10000"),
        // Memory: librdkafka's defaults (64 MiB of pre-fetched messages, 50 MiB fetch responses
        // held until their last message is read) doubled the consumer's RSS and bought no
        // throughput; these keep a few batches ahead (see README, Performance).
        ("queued.max.messages.kbytes", "16384"),
        ("fetch.max.bytes", "8388608"),
        // A partition whose queue is full waits this long before its next fetch: librdkafka's
        // 1 s default starved the writers every time the queue filled (see README, Performance).
        ("fetch.queue.backoff.ms", "20"),
    ]);
    config.set("group.id", &args.group);
    config
}

/// A bar of what is left with `--exit-at-end` (drawn only on a terminal); hidden otherwise.
fn progress_bar(end: Option<&EndOfTopic>) -> indicatif::ProgressBar {
    let Some(end) = end else { return indicatif::ProgressBar::hidden() };
    let bar = indicatif::ProgressBar::new(end.remaining_at_start());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} messages ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Leaves in order: the last counts, the final offset commit, the group, the pool.
async fn finish(pipeline: &mut Pipeline) {
    pipeline.progress.finish_and_clear();
    final_commit(&pipeline.consumer).await;
    pipeline.consumer.unsubscribe();
    // A connection abandoned mid-statement at shutdown is never handed back: do not wait for it.
    let _ = tokio::time::timeout(Duration::from_secs(1), pipeline.pool.close()).await;
}

/// Commits what is stored before leaving. A rebalance in progress (another member joining or
/// leaving) refuses commits until it completes, so the consumer keeps polling briefly and tries
/// again; messages polled meanwhile are not processed and their offsets not stored.
async fn final_commit(consumer: &StreamConsumer<GroupContext>) {
    for _ in 0..10 {
        match tokio::task::block_in_place(|| commit_sync(consumer)) {
            Err(true) => {
                let _ = tokio::time::timeout(Duration::from_millis(300), consumer.recv()).await;
            }
            Ok(()) | Err(false) => return,
        }
    }
    tracing::warn!("gave up committing after repeated rebalances; the next owner re-reads the tail");
}

/// The pseudonym key: read from its file, or as given (TWEETPIPE_PSEUDONYM_KEY).
fn pseudonym_key(key: &PseudonymKey) -> anyhow::Result<secrecy::SecretString> {
    match key {
        PseudonymKey::File(path) => {
            let key = std::fs::read_to_string(path)
                .with_context(|| format!("reading the pseudonym key file {}", path.display()))?;
            Ok(key.trim().to_owned().into())
        }
        PseudonymKey::Value(key) => Ok(key.clone()),
    }
}
