//! The consumer's loop, as the README tells it: poll a batch → prepare it → write it → dead-letter
//! what cannot be stored → store the batch's offsets → tally.
//!
//! Under a backlog the stages overlap: the [`reader`](crate::reader) polls and parses ahead,
//! and batches are written on `--db-writers` [`Lanes`] at once (so PostgreSQL works on every
//! core). Batches are finished (dead letters, offsets, tally) strictly in the order they were
//! read, so an offset is never stored before every message below it is in the database. A
//! batch with deletions is written alone, so no concurrent write of the same tweet can race
//! its deletion.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Message as _, OwnedMessage};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tweetpipe_common::dead_letter::Class;

use crate::db::counts;
use crate::db::writer::{Writer, Written};
use crate::dead_letter::{DeadLetters, Sent};
use crate::dedup::RecentIds;
use crate::end::EndOfTopic;
use crate::failpoint;
use crate::group::{snapshot, Assignment, GroupContext, SharedAssignment};
use crate::intake::Intake;
use crate::lanes::{Lanes, Parts};
use crate::offsets::BatchOffsets;
use crate::prepare::Prepared;
use crate::reader::{self, Batch, Read, Shapers};
use crate::report::{Report, RunOutcome, Tally};

/// A batch being written, to be finished in read order.
struct Flight {
    messages: Vec<OwnedMessage>,
    before: Assignment,
    /// Without its rows, which are with the lanes.
    prepared: Prepared,
    /// Copies settled away before the write (duplicates of each other, or stale).
    skipped: u64,
    started: Instant,
    /// It deletes tweets: no other write overlaps it.
    deletes: bool,
    parts: Parts,
}

/// Everything the loop needs, built by [`crate::startup`].
pub struct Pipeline {
    pub consumer: Arc<StreamConsumer<GroupContext>>,
    assignment: SharedAssignment,
    topic: String,
    /// Handed to the reader when the loop starts.
    intake: Option<Intake>,
    shapers: Shapers,
    lanes: Lanes,
    /// For what is not a batch (the hourly counts).
    pub pool: sqlx::PgPool,
    dead: DeadLetters,
    cache: RecentIds,
    pub report: Report,
    /// `--exit-at-end`: where the topic ended at start.
    end: Option<EndOfTopic>,
    /// Backfill progress (hidden unless `--exit-at-end` on a terminal).
    pub progress: indicatif::ProgressBar,
    /// The previous batch's `ingest_counts` update, still being written.
    counts_in_flight: Option<JoinHandle<()>>,
    /// Batches being written, oldest first.
    flights: VecDeque<Flight>,
    /// The writer's count of writes waiting out a database problem.
    stalled: watch::Receiver<usize>,
}

/// Given up at shutdown: the batches in flight are not finished, their offsets not stored.
struct GivenUp;

/// Parts of the pipeline [`Pipeline::new`] takes as they are.
pub struct Fixtures {
    pub dead: DeadLetters,
    pub shapers: Shapers,
    pub cache: RecentIds,
    pub end: Option<EndOfTopic>,
    pub progress: indicatif::ProgressBar,
}

impl Pipeline {
    /// `lanes`: batches written at once (`--db-writers`).
    pub fn new(intake: Intake, writer: Writer, lanes: usize, rest: Fixtures) -> Self {
        let stalled = writer.stalled();
        let pool = writer.pool.clone();
        // Content links look across the batch and at what is stored: one lane keeps them exact.
        let lanes = if writer.link_content { 1 } else { lanes };
        Self {
            consumer: intake.consumer.clone(),
            assignment: intake.assignment.clone(),
            topic: intake.topic.clone(),
            intake: Some(intake),
            shapers: rest.shapers,
            lanes: Lanes::spawn(Arc::new(writer), lanes),
            pool,
            dead: rest.dead,
            cache: rest.cache,
            report: Report::default(),
            end: rest.end,
            progress: rest.progress,
            counts_in_flight: None,
            flights: VecDeque::new(),
            stalled,
        }
    }

    /// Runs until shutdown, or with `--exit-at-end` until the topic is drained.
    pub async fn run(&mut self) -> anyhow::Result<RunOutcome> {
        let intake = self.intake.take().context("the pipeline runs once")?;
        let (mut reads, reader) = reader::spawn(intake, self.shapers.clone(), self.stalled.clone());
        let outcome = self.drive(&mut reads).await;
        // Stops polling (what it holds was never processed, so its offsets are not stored) before
        // the final commit polls the consumer itself.
        reader.abort();
        match reader.await {
            Err(e) if e.is_panic() => anyhow::bail!("the reader panicked"),
            _ => outcome,
        }
    }

    async fn drive(&mut self, reads: &mut tokio::sync::mpsc::Receiver<Read>) -> anyhow::Result<RunOutcome> {
        let started = Instant::now();
        let mut last_report = Instant::now();
        let mut backlog = false;
        loop {
            if !backlog {
                // Caught up: everything read is finished before waiting for more, so no row waits
                // for messages that are not there, and the end is seen as soon as it is reached.
                if self.finish_all().await?.is_err() {
                    return Ok(RunOutcome::Stopped);
                }
                if self.drained()? {
                    tracing::info!("reached the end of every assigned partition");
                    return Ok(RunOutcome::Drained);
                }
            }
            match reads.recv().await {
                Some(Read::Batch { prepared, full }) => {
                    let batch = prepared.await.context("preparing a batch panicked")?;
                    if self.start(batch).await?.is_err() {
                        return Ok(RunOutcome::Stopped);
                    }
                    backlog = full;
                }
                Some(Read::Idle) => backlog = false,
                // The reader stops after the poll in which shutdown began; all it read is written.
                None => {
                    if self.finish_all().await?.is_ok() {
                        tracing::info!("stopping: in-flight batches done");
                    }
                    return Ok(RunOutcome::Stopped);
                }
            }
            self.report.elapsed_s = started.elapsed();
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                tracing::info!(consumed = self.report.consumed, inserted = self.report.inserted, "progress");
            }
        }
    }

    async fn finish_all(&mut self) -> anyhow::Result<Result<(), GivenUp>> {
        while !self.flights.is_empty() {
            if let Err(given_up) = self.finish_oldest().await? {
                return Ok(Err(given_up));
            }
        }
        Ok(Ok(()))
    }

    /// `--exit-at-end`: whether the whole topic is at the end seen at start.
    fn drained(&mut self) -> anyhow::Result<bool> {
        let Some(end) = self.end.as_mut() else { return Ok(false) };
        let (consumer, assignment) = (&self.consumer, &self.assignment);
        tokio::task::block_in_place(|| {
            let a = assignment.lock().map_err(|_| anyhow::anyhow!("assignment lock poisoned"))?;
            anyhow::Ok(end.is_done(consumer.as_ref(), &a))
        })
    }

    /// Starts writing a batch once there is room for it: no more batches in flight than lanes,
    /// and none at all beside a batch that deletes tweets.
    async fn start(&mut self, batch: Batch) -> anyhow::Result<Result<(), GivenUp>> {
        let Batch { messages, before, mut prepared } = batch;
        let deletes = !prepared.deletes.is_empty();
        while self.flights.len() >= self.lanes.count()
            || (!self.flights.is_empty() && (deletes || self.flights.iter().any(|f| f.deletes)))
        {
            if let Err(given_up) = self.finish_oldest().await? {
                return Ok(Err(given_up));
            }
        }
        // Against the cache as the finished batches left it: a copy also in a batch still in
        // flight is written twice (on the same lane), and the newer-wins upsert keeps the newest.
        let skipped = prepared.settle(&self.cache);
        let parts = self.lanes.submit(std::mem::take(&mut prepared.rows), prepared.deletes.clone());
        self.flights.push_back(Flight {
            messages,
            before,
            prepared,
            skipped,
            started: Instant::now(),
            deletes,
            parts,
        });
        Ok(Ok(()))
    }

    /// Waits for the oldest write, holding the partitions while writes wait out a database
    /// problem, then finishes its batch.
    async fn finish_oldest(&mut self) -> anyhow::Result<Result<(), GivenUp>> {
        let Some(Flight { messages, before, mut prepared, skipped, started, deletes: _, parts }) =
            self.flights.pop_front()
        else {
            return Ok(Ok(()));
        };
        // The reader holds the partitions if the database stalls for long.
        let written = parts.done().await;
        let finished = match written {
            Some((rows, written)) => {
                prepared.rows = rows;
                self.finish(messages, before, skipped, started, prepared, written).await?
            }
            None => Err(GivenUp),
        };
        if finished.is_err() {
            tracing::error!("giving up on the in-flight batches at shutdown; they will be read again");
            // Their lanes see the same shutdown and give up too.
            self.flights.clear();
        }
        Ok(finished)
    }

    /// Finishes a written batch: dead-letters what cannot be stored, then stores its offsets and
    /// tallies it.
    async fn finish(
        &mut self,
        messages: Vec<OwnedMessage>,
        before: Assignment,
        skipped: u64,
        started: Instant,
        prepared: Prepared,
        written: Written,
    ) -> anyhow::Result<Result<(), GivenUp>> {
        metrics::histogram!("tweetpipe_db_commit_seconds").record(started.elapsed().as_secs_f64());
        let mut tally = Tally {
            consumed: messages.len() as u64,
            inserted: written.outcome.inserted,
            updated: written.outcome.updated,
            content_duplicates: written.outcome.content_duplicates,
            filtered: prepared.filtered,
            flagged: prepared.flagged,
            invalid_metrics: prepared.invalid_metrics,
            by_rule: prepared.by_rule.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            transactions: written.transactions,
            db_retries: written.retries,
            ..Tally::default()
        };

        // What cannot be stored, sent at once and awaited together.
        let mut letters: Vec<(usize, Class, &str)> =
            prepared.rejected.iter().map(|r| (r.index, r.class, r.message.as_str())).collect();
        let at: HashMap<(i32, i64), usize> =
            messages.iter().enumerate().map(|(i, m)| ((m.partition(), m.offset()), i)).collect();
        for refused in &written.refused {
            if let Some(&i) = at.get(&(refused.partition, refused.offset)) {
                letters.push((i, Class::DbRejected, refused.reason.as_str()));
            }
        }
        tally.deleted = prepared.deletes.len() as u64;
        if !self.dead_letters(&mut tally, &messages, &letters).await {
            return Ok(Err(GivenUp));
        }
        failpoint::hit("after-db-commit");
        let now = snapshot(&self.assignment);
        BatchOffsets::of(&self.topic, &messages)
            .store(self.consumer.as_ref(), |p| now.unchanged_since(&before, p));

        self.cache.remember_committed(&prepared.rows, &written.refused);
        // The one place duplicates are counted: every storable copy is stored (a new row),
        // dead-lettered, or a duplicate (joined into another copy, known stale, or an update).
        let copies = skipped + prepared.rows.len() as u64;
        tally.duplicates = copies.saturating_sub(tally.inserted + written.refused.len() as u64);
        self.tally(tally, &messages, started).await;
        Ok(Ok(()))
    }

    /// Sends dead letters and counts them. False when shutdown gave up on them.
    async fn dead_letters(
        &self,
        tally: &mut Tally,
        messages: &[OwnedMessage],
        letters: &[(usize, Class, &str)],
    ) -> bool {
        let sends = letters.iter().map(|&(i, class, reason)| {
            let msg = &messages[i];
            tracing::warn!(partition = msg.partition(), offset = msg.offset(), %class, reason, "dead-lettering record");
            self.dead.send(msg, class, reason)
        });
        let sent = futures::future::join_all(sends).await;
        for (&(_, class, _), sent) in letters.iter().zip(sent) {
            match sent {
                Sent::Delivered => tally.dead_letter(class),
                Sent::Lost => {
                    tally.dead_letter(class);
                    tally.dead_letters_lost += 1;
                }
                Sent::Abandoned => return false,
            }
        }
        true
    }

    /// Feeds one batch's tally to the metrics, `ingest_counts` and the report.
    async fn tally(&mut self, tally: Tally, messages: &[OwnedMessage], started: Instant) {
        tally.record_metrics();
        // Event counts are a report, not data: written while the next batch is, a failure
        // logged, not retried. One at a time, and the last one awaited before exit.
        self.counts_written().await;
        let (pool, row) = (self.pool.clone(), tally.clone());
        self.counts_in_flight = Some(tokio::spawn(async move {
            if let Err(e) = counts::record(&pool, &row).await {
                tracing::warn!(error = %e, "could not record the batch's counts");
            }
        }));
        self.report.add(&tally);
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
        if let Some(end) = self.end.as_mut() {
            for m in messages {
                end.advance(m.partition(), m.offset());
            }
        }
    }

    /// Waits for the last `ingest_counts` update.
    pub async fn counts_written(&mut self) {
        if let Some(task) = self.counts_in_flight.take() {
            let _ = task.await;
        }
    }
}
