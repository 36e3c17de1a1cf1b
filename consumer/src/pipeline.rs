//! The consumer's main loop: poll a batch, prepare it, write it in one transaction, dead-letter
//! what cannot be stored, and only then store the batch's offsets.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::TopicPartitionList;
use sqlx::PgPool;
use tokio::sync::watch;
use tweetpipe_common::kafka::{ensure_topics, TopicSpec};
use tweetpipe_common::retry::retry_startup;
use tweetpipe_model::filter::Filters;
use tweetpipe_model::pseudonym::Pseudonymizer;

use crate::batch::{self, metrics, Shaping};
use crate::cli::{Dedup, RunArgs, StartAt};
use crate::db::counts::{self, BatchCounts};
use crate::db::errors::{is_record_error, is_transient};
use crate::db::upsert::{self, Outcome, Row};
use crate::db::{self};
use crate::dead_letter::DeadLetters;
use crate::dedup::RecentIds;
use crate::end::EndOfTopic;
use crate::failpoint;
use crate::group::{snapshot, Assignment, GroupContext, SharedAssignment};
use crate::offsets::{commit_sync, BatchOffsets};
use crate::replay::{self, Target};
use crate::summary::Summary;

/// How long one poll waits for the first message of a batch before checking the end condition.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// A batch of messages, prepared, with the assignment as it was when its first message arrived.
struct Batch {
    messages: Vec<OwnedMessage>,
    before: Assignment,
    prepared: batch::Prepared,
}

/// Everything the loop needs, built once.
struct Pipeline {
    args: RunArgs,
    consumer: StreamConsumer<GroupContext>,
    assignment: SharedAssignment,
    pool: PgPool,
    dead: DeadLetters,
    /// Shared with the thread that prepares the next batch.
    filters: Arc<Filters>,
    pseudonyms: Option<Arc<Pseudonymizer>>,
    cache: RecentIds,
    summary: Summary,
    /// Becomes true on SIGTERM / Ctrl-C.
    stop: watch::Receiver<bool>,
    /// Messages that arrived while partitions were paused for a database outage, with the
    /// partition's epoch when they arrived; they open the next batch.
    carry: Vec<(u64, OwnedMessage)>,
    /// Backfill progress (hidden unless `--exit-at-end` on a terminal).
    progress: indicatif::ProgressBar,
    /// The previous batch's `ingest_counts` update, still being written.
    counts_in_flight: Option<tokio::task::JoinHandle<()>>,
}

/// Joins the group and stores tweets until `shutdown` completes, or, with `--exit-at-end`, until
/// the topic is drained.
pub async fn run(
    args: RunArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Summary> {
    let filter_file = match &args.filter_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the filter file {}", path.display()))?,
        ),
        None => None,
    };
    let filters = Filters::new(&args.filter_terms, filter_file.as_deref(), args.filter_mode)?;
    let pseudonyms =
        if args.pseudonymize { Some(Arc::new(Pseudonymizer::new(pseudonym_key(&args)?)?)) } else { None };
    let (stop_tx, stop) = watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let pool = db::connect(&args.database).await?;
    db::migrate(&pool).await?;
    let dead = DeadLetters::new(&args.kafka, &args.topic)?;
    // Broker defaults (-1) for a dead-letter topic nobody created yet.
    let dlq = [dead.topic()];
    let spec = TopicSpec { partitions: -1, replication: -1 };
    retry_startup("creating the dead-letter topic", &tweetpipe_common::shutdown::Shutdown::new(), || {
        ensure_topics(&args.kafka, &dlq, spec)
    })
    .await?;

    if let Some(StartAt::Datetime(t)) = &args.from {
        let (kafka, topic, group, target) = (&args.kafka, &args.topic, &args.group, Target::Datetime(*t));
        retry_startup("seeding the group's start", &tweetpipe_common::shutdown::Shutdown::new(), || async {
            tokio::task::block_in_place(|| replay::seed(kafka, topic, group, &target))
        })
        .await?;
    }

    let assignment = SharedAssignment::default();
    if let Some(addr) = args.http_addr {
        let (pool, assignment) = (pool.clone(), assignment.clone());
        // Ready: the database answers (a pooled connection exists) and partitions are assigned.
        let ready = std::sync::Arc::new(move || {
            !pool.is_closed() && pool.size() > 0 && !crate::group::snapshot(&assignment).partitions.is_empty()
        });
        tweetpipe_common::observe::serve(addr, ready).await?;
        tweetpipe_common::metrics_catalog::register(tweetpipe_common::metrics_catalog::Component::Consumer);
    }
    let consumer: StreamConsumer<GroupContext> = args
        .kafka
        .client_config(&[
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
            // Memory: librdkafka's defaults (64 MiB of pre-fetched messages, 50 MiB fetch
            // responses held until their last message is read) doubled the consumer's RSS and
            // bought no throughput; these keep a few batches ahead (see README, Performance).
            ("queued.max.messages.kbytes", "16384"),
            ("fetch.max.bytes", "8388608"),
        ])
        .set("group.id", &args.group)
        .create_with_context(GroupContext { assignment: assignment.clone() })
        .context("invalid Kafka consumer configuration")?;
    consumer.subscribe(&[&args.topic]).context("subscribing")?;
    tracing::info!(topic = %args.topic, group = %args.group, "joined consumer group");

    let end = match args.exit_at_end {
        true => Some(
            retry_startup(
                "reading the topic's end",
                &tweetpipe_common::shutdown::Shutdown::new(),
                || async { tokio::task::block_in_place(|| EndOfTopic::capture(&consumer, &args.topic)) },
            )
            .await?,
        ),
        false => None,
    };
    // A progress bar of what is left, on a terminal; plain progress log lines otherwise.
    let progress = match &end {
        Some(e) => {
            let bar = indicatif::ProgressBar::new(e.remaining_at_start());
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} messages ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }
        None => indicatif::ProgressBar::hidden(),
    };
    let cache = RecentIds::new(args.dedup_cache);
    let mut pipeline = Pipeline {
        args,
        consumer,
        assignment,
        pool,
        dead,
        filters: Arc::new(filters),
        pseudonyms,
        cache,
        summary: Summary::default(),
        stop,
        carry: Vec::new(),
        progress,
        counts_in_flight: None,
    };
    let result = pipeline.run_loop(end).await;
    pipeline.progress.finish_and_clear();
    signal.abort();
    pipeline.counts_written().await;
    pipeline.final_commit().await;
    pipeline.consumer.unsubscribe();
    pipeline.pool.close().await;
    result?;
    let s = &mut pipeline.summary;
    s.duplicates = s.consumed.saturating_sub(s.inserted + s.music_dropped + s.dead_lettered + s.deleted);
    s.upserted = s.inserted + s.updated;
    Ok(pipeline.summary)
}

impl Pipeline {
    async fn counts_written(&mut self) {
        if let Some(task) = self.counts_in_flight.take() {
            let _ = task.await;
        }
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Commits what is stored before leaving. A rebalance in progress (another member joining
    /// or leaving) refuses commits until it completes, so the consumer keeps polling briefly
    /// and tries again; messages polled meanwhile are not processed and their offsets not stored.
    async fn final_commit(&self) {
        for _ in 0..10 {
            match tokio::task::block_in_place(|| commit_sync(&self.consumer)) {
                Err(true) => {
                    let _ = tokio::time::timeout(Duration::from_millis(300), self.consumer.recv()).await;
                }
                Ok(()) | Err(false) => return,
            }
        }
        tracing::warn!("gave up committing after repeated rebalances; the next owner re-reads the tail");
    }

    async fn run_loop(&mut self, mut end: Option<EndOfTopic>) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last_report = Instant::now();
        // Under a backlog, the next batch: read, and parsed on another thread while the current
        // one is written, so parsing and the database use both cores.
        let mut ahead: Option<tokio::task::JoinHandle<Batch>> = None;
        loop {
            let current = match ahead.take() {
                Some(next) => Some(next.await.context("preparing a batch panicked")?),
                None => {
                    let mut before = snapshot(&self.assignment);
                    let messages = self.collect(&mut before).await;
                    match messages.is_empty() {
                        true => None,
                        false => {
                            Some(prepare(messages, before, self.filters.clone(), self.pseudonyms.clone()))
                        }
                    }
                }
            };
            let full = current.as_ref().is_some_and(|b| b.messages.len() >= self.args.batch_size);
            if let Some(current) = current {
                // Only when full: a partly filled batch means the consumer is caught up, and its
                // rows should not wait for the next batch's linger.
                if full && !self.stopping() {
                    let mut before = snapshot(&self.assignment);
                    let messages = self.collect(&mut before).await;
                    if !messages.is_empty() {
                        let (filters, pseudonyms) = (self.filters.clone(), self.pseudonyms.clone());
                        ahead = Some(tokio::task::spawn_blocking(move || {
                            prepare(messages, before, filters, pseudonyms)
                        }));
                    }
                }
                if !self.process(current, end.as_mut()).await? {
                    // Stopped while the database was unreachable: nothing more is written.
                    ahead = None;
                }
            }
            self.summary.elapsed = started.elapsed();
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                tracing::info!(
                    consumed = self.summary.consumed,
                    inserted = self.summary.inserted,
                    "progress"
                );
            }
            if ahead.is_some() {
                // Read before a stop was asked for: written before leaving, so it is not re-read.
                continue;
            }
            if self.stopping() {
                tracing::info!("stopping: in-flight batch done");
                return Ok(());
            }
            if let Some(end) = end.as_mut() {
                if !full {
                    let assignment = self.assignment.clone();
                    let done = tokio::task::block_in_place(|| {
                        let a = assignment.lock().map_err(|_| anyhow::anyhow!("assignment lock poisoned"))?;
                        anyhow::Ok(end.is_done(&self.consumer, &a))
                    })?;
                    if done {
                        tracing::info!("reached the end of every assigned partition");
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Waits up to [`IDLE_POLL`] for a first message, then fills the batch until it is full,
    /// the linger time passes, or shutdown begins. `before` is updated to the assignment as it
    /// was when the first message arrived (a rebalance happens inside the poll that returns it),
    /// the reference for deciding later which partitions kept their owner through the batch.
    async fn collect(&mut self, before: &mut Assignment) -> Vec<OwnedMessage> {
        // Carried messages of partitions that changed hands since are dropped: their new owner
        // reads them from the committed offset, which never passed them.
        let mut batch: Vec<OwnedMessage> = std::mem::take(&mut self.carry)
            .into_iter()
            .filter(|(epoch, m)| {
                before.partitions.contains(&m.partition()) && before.epochs.get(&m.partition()) == Some(epoch)
            })
            .map(|(_, m)| m)
            .collect();
        let mut stop = self.stop.clone();
        if !batch.is_empty() {
            return batch;
        }
        let first = tokio::select! {
            m = self.consumer.recv() => Some(m),
            () = tokio::time::sleep(IDLE_POLL) => None,
            () = stopped(&mut stop) => None,
        };
        match first {
            None => return batch,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "Kafka consumer error");
                return batch;
            }
            Some(Ok(m)) => {
                *before = snapshot(&self.assignment);
                batch.push(m.detach());
            }
        }
        let deadline = tokio::time::Instant::now() + self.args.batch_linger();
        while batch.len() < self.args.batch_size {
            tokio::select! {
                m = self.consumer.recv() => match m {
                    Ok(m) => batch.push(m.detach()),
                    Err(e) => {
                        tracing::warn!(error = %e, "Kafka consumer error");
                        break;
                    }
                },
                () = tokio::time::sleep_until(deadline) => break,
                () = stopped(&mut stop) => break,
            }
        }
        batch
    }

    /// Writes one batch; stores its offsets only once the rows are committed and every dead
    /// letter is acknowledged.
    /// False when shutdown interrupted the write: nothing stored, nothing committed.
    async fn process(&mut self, batch: Batch, end: Option<&mut EndOfTopic>) -> anyhow::Result<bool> {
        let started = Instant::now();
        let Batch { messages, before, mut prepared } = batch;
        let (messages, before) = (&messages[..], &before);
        prepared.settle(&self.cache);
        let Some((outcome, refused, deleted)) = self.write(&prepared.rows, &prepared.deletes).await else {
            // Shutdown while the database was unreachable: nothing stored, nothing committed;
            // the batch is read again after restart.
            return Ok(false);
        };
        metrics::histogram!("tweetpipe_db_commit_seconds").record(started.elapsed().as_secs_f64());
        for r in &prepared.rejected {
            tracing::warn!(partition = messages[r.index].partition(), offset = messages[r.index].offset(), class = r.class, reason = %r.message, "dead-lettering record");
            self.dead.send(&messages[r.index], r.class, &r.message).await;
        }
        let index: HashMap<(i32, i64), usize> =
            messages.iter().enumerate().map(|(i, m)| ((m.partition(), m.offset()), i)).collect();
        for (row, reason) in &refused {
            tracing::warn!(id = row.tweet.id, partition = row.partition, offset = row.offset, reason = %reason, "database refused record; dead-lettering");
            if let Some(&i) = index.get(&(row.partition, row.offset)) {
                self.dead.send(&messages[i], "db_rejected", reason).await;
            }
        }
        failpoint::hit("after-db-commit");
        let now = snapshot(&self.assignment);
        BatchOffsets::of(&self.args.topic, messages)
            .store(&self.consumer, |p| now.unchanged_since(before, p));

        let refused_ids: Vec<i64> = refused.iter().map(|(r, _)| r.tweet.id).collect();
        for row in prepared.rows.iter().filter(|r| !refused_ids.contains(&r.tweet.id)) {
            self.cache.remember(row.tweet.id, metrics(&row.tweet));
        }
        let dead = (prepared.rejected.len() + refused.len()) as u64;
        let duplicates = (messages.len() as u64)
            .saturating_sub(outcome.inserted + prepared.music_dropped + dead + prepared.deletes.len() as u64);
        metrics::counter!("tweetpipe_consumed_total").increment(messages.len() as u64);
        metrics::counter!("tweetpipe_upserted_total").increment(outcome.inserted + outcome.updated);
        metrics::counter!("tweetpipe_inserted_total").increment(outcome.inserted);
        metrics::counter!("tweetpipe_duplicates_total").increment(duplicates);
        metrics::counter!("tweetpipe_music_dropped_total").increment(prepared.music_dropped);
        metrics::counter!("tweetpipe_deleted_total").increment(deleted);
        metrics::counter!("tweetpipe_content_duplicates_total").increment(outcome.content_duplicates);
        for (rule, n) in &prepared.by_rule {
            metrics::counter!("tweetpipe_filtered_total", "rule" => rule.clone()).increment(*n);
        }
        let batch_counts = BatchCounts {
            seen: messages.len() as i64,
            duplicates: duplicates as i64,
            content_duplicates: outcome.content_duplicates as i64,
            filtered: prepared.music_dropped as i64,
            flagged: prepared.flagged as i64,
            deleted: prepared.deletes.len() as i64,
            dead_lettered: dead as i64,
        };
        // Event counts are a report, not data: written while the next batch is, a failure
        // logged, not retried. One at a time, and the last one awaited before exit.
        self.counts_written().await;
        let pool = self.pool.clone();
        self.counts_in_flight = Some(tokio::spawn(async move {
            if let Err(e) = counts::record(&pool, &batch_counts).await {
                tracing::warn!(error = %e, "could not record the batch's counts");
            }
        }));
        metrics::counter!("tweetpipe_dead_lettered_total", "stage" => "consumer").increment(dead);
        metrics::histogram!("tweetpipe_batch_size").record(messages.len() as f64);
        // Freshness, end to end: from the producer's send (the message timestamp) to now, when
        // the batch is committed.
        let now_ms = chrono::Utc::now().timestamp_millis();
        let age = metrics::histogram!("tweetpipe_record_age_seconds");
        for m in messages {
            if let Some(sent_ms) = m.timestamp().to_millis() {
                age.record((now_ms - sent_ms).max(0) as f64 / 1000.0);
            }
        }
        metrics::histogram!("tweetpipe_batch_seconds").record(started.elapsed().as_secs_f64());
        self.progress.inc(messages.len() as u64);
        if let Some(end) = end {
            for m in messages {
                end.advance(m.partition(), m.offset());
            }
        }
        let s = &mut self.summary;
        s.consumed += messages.len() as u64;
        s.music_dropped += prepared.music_dropped;
        s.dead_lettered += (prepared.rejected.len() + refused.len()) as u64;
        s.inserted += outcome.inserted;
        s.updated += outcome.updated;
        s.deleted += prepared.deletes.len() as u64;
        s.content_duplicates += outcome.content_duplicates;
        s.flagged += prepared.flagged;
        for (rule, n) in prepared.by_rule {
            *s.by_rule.entry(rule).or_default() += n;
        }
        s.batches += 1;
        Ok(true)
    }

    /// Upserts rows, retrying transient database errors with capped exponential backoff and
    /// isolating records the database refuses. While retrying, the assigned partitions are
    /// paused but the consumer keeps polling, so it stays in the group however long the outage
    /// lasts. `None` when shutdown interrupted the retries.
    async fn write(&mut self, rows: &[Row], deletes: &[i64]) -> Option<(Outcome, Vec<(Row, String)>, u64)> {
        let link_content = self.args.dedup == Dedup::Content;
        // Content links look for earlier tweets in the same transaction: one writer then.
        let writers = if link_content { 1 } else { self.args.db_writers.max(1) };
        let mut pending = split(rows.len(), writers);
        let mut total = Outcome::default();
        let mut refused = Vec::new();
        let mut deleted: Option<u64> = None;
        let mut delay = Duration::from_millis(200);
        let mut stop_deadline: Option<Instant> = None;
        let mut paused = false;
        let result = loop {
            // Parts already committed are not written again, so the counts stay exact.
            let results = futures::future::join_all(
                pending.iter().map(|r| write_isolating(&self.pool, &rows[r.clone()], link_content)),
            )
            .await;
            let mut error = None;
            let mut failed = Vec::new();
            for (range, result) in pending.iter().zip(results) {
                match result {
                    Ok((outcome, bad)) => {
                        total.inserted += outcome.inserted;
                        total.updated += outcome.updated;
                        total.content_duplicates += outcome.content_duplicates;
                        refused.extend(bad);
                    }
                    Err(e) => {
                        failed.push(range.clone());
                        error = Some(e);
                    }
                }
            }
            pending = failed;
            if error.is_none() && deleted.is_none() {
                match counts::apply_deletes(&self.pool, deletes).await {
                    Ok(n) => deleted = Some(n),
                    Err(e) => error = Some(e),
                }
            }
            let Some(e) = error else {
                break Some((total, std::mem::take(&mut refused), deleted.unwrap_or(0)));
            };
            if self.stopping() {
                let deadline = *stop_deadline.get_or_insert_with(|| {
                    Instant::now() + Duration::from_secs(self.args.drain_timeout_secs)
                });
                if Instant::now() >= deadline {
                    tracing::error!(error = %e, "giving up on the in-flight batch at shutdown; it will be read again");
                    break None;
                }
            }
            let kind = if is_transient(&e) { "transient" } else { "unexpected" };
            metrics::counter!("tweetpipe_db_retries_total", "kind" => kind).increment(1);
            tracing::error!(error = %e, kind, retry_in_ms = delay.as_millis() as u64, "database write failed; partitions paused, retrying (offsets not committed)");
            paused = true;
            self.pause_and_poll(jitter(delay)).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        };
        if paused {
            self.resume();
        }
        result
    }

    /// Pauses every assigned partition and keeps polling for `wait`, keeping what arrives.
    async fn pause_and_poll(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut stop = self.stop.clone();
        metrics::gauge!("tweetpipe_consumer_paused").set(1.0);
        loop {
            // Re-pause each round: a rebalance may have assigned new, unpaused partitions.
            let a = snapshot(&self.assignment);
            if let Err(e) = self.consumer.pause(&self.tpl(&a)) {
                tracing::debug!(error = %e, "pause failed");
            }
            tokio::select! {
                m = self.consumer.recv() => match m {
                    Ok(m) => {
                        let epoch = snapshot(&self.assignment).epochs.get(&m.partition()).copied().unwrap_or(0);
                        self.carry.push((epoch, m.detach()));
                    }
                    Err(e) => tracing::debug!(error = %e, "consumer error while paused"),
                },
                () = tokio::time::sleep_until(deadline) => return,
                () = stopped(&mut stop), if !self.stopping() => {},
            }
        }
    }

    fn resume(&self) {
        metrics::gauge!("tweetpipe_consumer_paused").set(0.0);
        let a = snapshot(&self.assignment);
        if let Err(e) = self.consumer.resume(&self.tpl(&a)) {
            tracing::warn!(error = %e, "resume failed");
        }
        tracing::info!("database reachable again; partitions resumed");
    }

    fn tpl(&self, a: &Assignment) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for p in &a.partitions {
            tpl.add_partition(&self.args.topic, *p);
        }
        tpl
    }
}

/// Parses and shapes `messages` (see [`batch::prepare`]); runs on any thread.
fn prepare(
    messages: Vec<OwnedMessage>,
    before: Assignment,
    filters: Arc<Filters>,
    pseudonyms: Option<Arc<Pseudonymizer>>,
) -> Batch {
    let prepared =
        batch::prepare(&messages, &Shaping { filters: &filters, pseudonyms: pseudonyms.as_deref() });
    Batch { messages, before, prepared }
}

/// `len` rows as up to `parts` ranges of about equal size. A settled batch holds each id once,
/// so its parts never touch the same row and their transactions never wait on each other.
fn split(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, len.max(1));
    (0..parts).map(|i| len * i / parts..len * (i + 1) / parts).collect()
}

/// Writes the batch; when the database refuses it for a record's data, halves it until the
/// offending records are isolated, and returns them with the reason.
async fn write_isolating(
    pool: &PgPool,
    rows: &[Row],
    link_content: bool,
) -> Result<(Outcome, Vec<(Row, String)>), sqlx::Error> {
    let mut total = Outcome::default();
    let mut refused = Vec::new();
    let mut pending = vec![(0, rows.len())];
    while let Some((start, end)) = pending.pop() {
        let slice = &rows[start..end];
        match upsert::upsert(pool, slice, link_content).await {
            Ok(o) => {
                total.inserted += o.inserted;
                total.updated += o.updated;
                total.content_duplicates += o.content_duplicates;
            }
            Err(e) if is_record_error(&e) && slice.len() == 1 => {
                refused.push((slice[0].clone(), describe(&e)))
            }
            Err(e) if is_record_error(&e) => {
                let mid = start + slice.len() / 2;
                pending.push((mid, end));
                pending.push((start, mid));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((total, refused))
}

fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("SQLSTATE {}: {}", db.code().unwrap_or_default(), db.message()),
        other => other.to_string(),
    }
}

/// The pseudonym key: from the file when given, else TWEETPIPE_PSEUDONYM_KEY.
fn pseudonym_key(args: &RunArgs) -> anyhow::Result<secrecy::SecretString> {
    if let Some(path) = &args.pseudonym_key_file {
        let key = std::fs::read_to_string(path)
            .with_context(|| format!("reading the pseudonym key file {}", path.display()))?;
        return Ok(key.trim().to_owned().into());
    }
    args.pseudonym_key
        .clone()
        .context("--pseudonymize needs a key: set TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file")
}

/// Up to +25% jitter, so consumers retrying together do not hit a recovering database at once.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d + d.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

/// Completes once the stop flag is set (immediately if it already is).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    #[test]
    fn batches_split_into_contiguous_parts_covering_every_row() {
        assert_eq!(split(10, 2), [0..5, 5..10]);
        assert_eq!(split(7, 1), [Range { start: 0, end: 7 }]);
        assert_eq!(split(3, 4), [0..1, 1..2, 2..3]);
        assert_eq!(split(0, 2), [Range { start: 0, end: 0 }]);
        assert_eq!(split(9, 0), [Range { start: 0, end: 9 }]);
    }
}
