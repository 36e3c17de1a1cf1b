//! The consumer's loop, as the README tells it: poll a batch → prepare it → write it (rows,
//! deletions, dead letters, counts and the group's offsets in PostgreSQL, one transaction per
//! part) → store the batch's Kafka offsets → tally.
//!
//! Under a backlog the stages overlap: the [`reader`](crate::reader) polls and parses ahead,
//! and batches are written on `--db-writers` [`Lanes`] at once (so PostgreSQL works on every
//! core). Batches are finished (Kafka offsets, tally) strictly in the order they were read, so
//! a Kafka offset is never stored before every message below it is in the database. A batch
//! with deletions is written alone, so no concurrent write of the same tweet can race its
//! deletion. A partition fenced in a write ([`crate::db::offsets`]) is read again from where
//! the database says.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Message as _, OwnedMessage};
use tokio::sync::watch;

use crate::db::writer::{Writer, Written};
use crate::dead_letter::Sent;
use crate::dedup::RecentIds;
use crate::end::EndOfTopic;
use crate::failpoint;
use crate::group::{reread_offset, snapshot, Assignment, GroupContext, SharedAssignment};
use crate::intake::Intake;
use crate::lanes::{Lanes, Parts};
use crate::offsets::BatchOffsets;
use crate::prepare::Prepared;
use crate::reader::{self, Batch, Read, Shapers};
use crate::report::{Report, RunOutcome, Tally};

/// A batch being written, to be finished in read order.
struct Flight {
    messages: Arc<Vec<OwnedMessage>>,
    before: Assignment,
    /// Without its rows, which are with the lanes.
    prepared: Prepared,
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
    /// Closed at exit.
    pub pool: sqlx::PgPool,
    cache: RecentIds,
    pub report: Report,
    /// `--exit-at-end`: where the topic ended at start.
    end: Option<EndOfTopic>,
    /// Backfill progress (hidden unless `--exit-at-end` on a terminal).
    pub progress: indicatif::ProgressBar,
    /// Messages the reader dropped as already applied, not yet in the report.
    applied: Arc<AtomicU64>,
    /// Batches being written, oldest first.
    flights: VecDeque<Flight>,
    /// The writer's count of writes waiting out a database problem.
    stalled: watch::Receiver<usize>,
}

/// Given up at shutdown: the batches in flight are not finished, their offsets not stored.
struct GivenUp;

/// Parts of the pipeline [`Pipeline::new`] takes as they are.
pub struct Fixtures {
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
            applied: intake.cursors.applied.clone(),
            intake: Some(intake),
            shapers: rest.shapers,
            lanes: Lanes::spawn(Arc::new(writer), lanes),
            pool,
            cache: rest.cache,
            report: Report::default(),
            end: rest.end,
            progress: rest.progress,
            flights: VecDeque::new(),
            stalled,
        }
    }

    /// Runs until shutdown, or with `--exit-at-end` until the topic is drained.
    pub async fn run(&mut self) -> anyhow::Result<RunOutcome> {
        let intake = self.intake.take().context("the pipeline runs once")?;
        let (mut reads, reader) = reader::spawn(intake, self.shapers.clone(), self.stalled.clone());
        let outcome = self.drive(&mut reads).await;
        self.fold_applied();
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
                Some(Read::Failed(e)) => return Err(e),
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
        let Batch { messages, before, spans, mut prepared } = batch;
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
        prepared.settle(&self.cache);
        let messages = Arc::new(messages);
        let parts = self.lanes.submit(&mut prepared, &spans, &messages);
        self.flights.push_back(Flight {
            messages,
            before,
            prepared,
            started: Instant::now(),
            deletes,
            parts,
        });
        Ok(Ok(()))
    }

    /// Waits for the oldest write, holding the partitions while writes wait out a database
    /// problem, then finishes its batch.
    async fn finish_oldest(&mut self) -> anyhow::Result<Result<(), GivenUp>> {
        let Some(Flight { messages, before, mut prepared, started, deletes: _, parts }) =
            self.flights.pop_front()
        else {
            return Ok(Ok(()));
        };
        // The reader holds the partitions if the database stalls for long.
        let written = parts.done().await;
        let finished = match written {
            Some((rows, written)) => {
                prepared.rows = rows;
                self.finish(&messages, &before, started, prepared, written);
                Ok(())
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

    /// Finishes a written batch: re-reads what was fenced, stores the Kafka offsets of the
    /// rest and tallies it.
    fn finish(
        &mut self,
        messages: &[OwnedMessage],
        before: &Assignment,
        started: Instant,
        mut prepared: crate::prepare::Prepared,
        written: Written,
    ) {
        metrics::histogram!("tweetpipe_db_commit_seconds").record(started.elapsed().as_secs_f64());
        let counts = written.counts;
        let mut tally = Tally {
            consumed: messages.len() as u64,
            inserted: written.outcome.inserted,
            updated: written.outcome.updated,
            duplicates: counts.duplicates,
            content_duplicates: counts.content_duplicates,
            filtered: counts.filtered,
            flagged: counts.flagged,
            deleted: counts.deleted,
            invalid_metrics: prepared.invalid_metrics,
            by_rule: prepared.by_rule.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            transactions: written.transactions,
            db_retries: written.retries,
            ..Tally::default()
        };
        for (class, sent) in &written.letters {
            tally.dead_letter(*class);
            tally.dead_letters_lost += u64::from(*sent == Sent::Lost);
        }
        failpoint::hit("after-db-commit");

        // Fenced: another member (or this one, earlier) moved the partition's offset. Messages
        // below it were applied; the rest are read again from there.
        let fenced: BTreeMap<i32, i64> = written.fenced.iter().map(|f| (f.partition, f.next)).collect();
        for (&partition, &next) in &fenced {
            let (below, from): (Vec<&OwnedMessage>, Vec<&OwnedMessage>) =
                messages.iter().filter(|m| m.partition() == partition).partition(|m| m.offset() < next);
            tally.already_applied += below.len() as u64;
            // Read again from the database's offset, and counted as read then.
            tally.consumed -= from.len() as u64;
            tracing::info!(
                partition,
                next,
                "partition's offset was moved by another writer; reading from there"
            );
            reread_offset(&self.assignment, before, partition);
        }
        let now = snapshot(&self.assignment);
        BatchOffsets::of(&self.topic, messages)
            .store(self.consumer.as_ref(), |p| !fenced.contains_key(&p) && now.unchanged_since(before, p));

        let stored: HashSet<i32> = fenced.keys().copied().collect();
        prepared.rows.retain(|r| !stored.contains(&r.partition));
        self.cache.remember_committed(&prepared.rows, &written.refused);
        self.fold_applied();
        self.tally(tally, messages, &fenced, started);
    }

    /// Adds the messages the reader skipped as already applied to the report.
    fn fold_applied(&mut self) {
        let applied = self.applied.swap(0, Ordering::Relaxed);
        self.report.consumed += applied;
        self.report.already_applied += applied;
    }

    /// Feeds one batch's tally to the metrics and the report.
    fn tally(
        &mut self,
        tally: Tally,
        messages: &[OwnedMessage],
        fenced: &BTreeMap<i32, i64>,
        started: Instant,
    ) {
        tally.record_metrics();
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
            for m in messages.iter().filter(|m| !fenced.contains_key(&m.partition())) {
                end.advance(m.partition(), m.offset());
            }
        }
    }
}
