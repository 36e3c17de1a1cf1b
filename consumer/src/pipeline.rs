//! The consumer's loop, as the README tells it: poll a batch → prepare it → write it → dead-letter
//! what cannot be stored → store the batch's offsets → tally.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::message::{Message as _, OwnedMessage};
use tweetpipe_common::dead_letter::Class;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::filter::Filters;
use tweetpipe_model::pseudonym::Pseudonymizer;

use crate::db::counts;
use crate::db::writer::Writer;
use crate::dead_letter::{DeadLetters, Sent};
use crate::dedup::RecentIds;
use crate::end::EndOfTopic;
use crate::failpoint;
use crate::group::{snapshot, Assignment};
use crate::intake::{Intake, Polled};
use crate::offsets::BatchOffsets;
use crate::prepare::{self, metrics, Prepared, Shaping};
use crate::report::{Report, RunOutcome, Tally};

/// A batch of messages, prepared, with the assignment as it was when its first message arrived.
struct Batch {
    messages: Vec<OwnedMessage>,
    before: Assignment,
    prepared: Prepared,
}

/// Everything the loop needs, built by [`crate::startup`].
pub struct Pipeline {
    pub intake: Intake,
    pub writer: Writer,
    pub dead: DeadLetters,
    /// Shared with the thread that prepares the next batch.
    pub filters: Arc<Filters>,
    pub pseudonyms: Option<Arc<Pseudonymizer>>,
    pub cache: RecentIds,
    pub report: Report,
    /// `--exit-at-end`: where the topic ended at start.
    pub end: Option<EndOfTopic>,
    /// Backfill progress (hidden unless `--exit-at-end` on a terminal).
    pub progress: indicatif::ProgressBar,
    /// SIGTERM / Ctrl-C.
    pub shutdown: Shutdown,
    /// The previous batch's `ingest_counts` update, still being written.
    pub counts_in_flight: Option<tokio::task::JoinHandle<()>>,
}

impl Pipeline {
    /// Runs until shutdown, or with `--exit-at-end` until the topic is drained.
    pub async fn run(&mut self) -> anyhow::Result<RunOutcome> {
        let started = Instant::now();
        let mut last_report = Instant::now();
        // Under a backlog, the next batch: read, and parsed on another thread while the current
        // one is written, so parsing and the database use both cores.
        let mut ahead: Option<tokio::task::JoinHandle<Batch>> = None;
        loop {
            let current = match ahead.take() {
                Some(next) => Some(next.await.context("preparing a batch panicked")?),
                None => {
                    let polled = self.intake.poll_batch().await;
                    (!polled.messages.is_empty())
                        .then(|| prepare_batch(polled, self.filters.clone(), self.pseudonyms.clone()))
                }
            };
            let full = current.as_ref().is_some_and(|b| b.messages.len() >= self.intake.batch_size);
            if let Some(current) = current {
                // Only when full: a partly filled batch means the consumer is caught up, and its
                // rows should not wait for the next batch's linger.
                if full && !self.shutdown.is_cancelled() {
                    let polled = self.intake.poll_batch().await;
                    if !polled.messages.is_empty() {
                        let (filters, pseudonyms) = (self.filters.clone(), self.pseudonyms.clone());
                        ahead = Some(tokio::task::spawn_blocking(move || {
                            prepare_batch(polled, filters, pseudonyms)
                        }));
                    }
                }
                if !self.process(current).await? {
                    // Given up at shutdown: nothing more is written.
                    ahead = None;
                }
            }
            self.report.elapsed_s = started.elapsed();
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                tracing::info!(consumed = self.report.consumed, inserted = self.report.inserted, "progress");
            }
            if ahead.is_some() {
                // Read before a stop was asked for: written before leaving, so it is not re-read.
                continue;
            }
            if self.shutdown.is_cancelled() {
                tracing::info!("stopping: in-flight batch done");
                return Ok(RunOutcome::Stopped);
            }
            if !full && self.drained()? {
                tracing::info!("reached the end of every assigned partition");
                return Ok(RunOutcome::Drained);
            }
        }
    }

    /// `--exit-at-end`: whether the whole topic is at the end seen at start.
    fn drained(&mut self) -> anyhow::Result<bool> {
        let Some(end) = self.end.as_mut() else { return Ok(false) };
        let (consumer, assignment) = (&self.intake.consumer, &self.intake.assignment);
        tokio::task::block_in_place(|| {
            let a = assignment.lock().map_err(|_| anyhow::anyhow!("assignment lock poisoned"))?;
            anyhow::Ok(end.is_done(consumer.as_ref(), &a))
        })
    }

    /// Writes one batch, dead-letters what cannot be stored, and only then stores its offsets.
    /// False when shutdown gave up on the batch: nothing stored, nothing committed.
    async fn process(&mut self, batch: Batch) -> anyhow::Result<bool> {
        let started = Instant::now();
        let Batch { messages, before, mut prepared } = batch;
        let skipped = prepared.settle(&self.cache);
        let Some(written) = self.writer.write(&prepared.rows, &prepared.deletes, &mut self.intake).await
        else {
            return Ok(false);
        };
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
        for (row, reason) in &written.refused {
            let row = &prepared.rows[*row];
            if let Some(&i) = at.get(&(row.partition, row.offset)) {
                letters.push((i, Class::DbRejected, reason));
            }
        }
        match &written.deletes_refused {
            None => tally.deleted = prepared.deletes.len() as u64,
            Some(reason) => {
                letters.extend(prepared.delete_index.iter().map(|&i| (i, Class::DbRejected, reason.as_str())))
            }
        }
        if !self.dead_letters(&mut tally, &messages, &letters).await {
            return Ok(false);
        }
        failpoint::hit("after-db-commit");
        let now = snapshot(&self.intake.assignment);
        BatchOffsets::of(&self.intake.topic, &messages)
            .store(self.intake.consumer.as_ref(), |p| now.unchanged_since(&before, p));

        let refused: Vec<usize> = written.refused.iter().map(|(i, _)| *i).collect();
        for (_, row) in prepared.rows.iter().enumerate().filter(|(i, _)| !refused.contains(i)) {
            self.cache.remember(row.tweet.id, metrics(&row.tweet));
        }
        // The one place duplicates are counted: copies skipped before the write, and written
        // copies that added no row (an update, or nothing newer).
        let written_rows = (prepared.rows.len() - refused.len()) as u64;
        tally.duplicates = skipped + written_rows - tally.inserted;
        self.tally(tally, &messages, started).await;
        Ok(true)
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
        let (pool, row) = (self.writer.pool.clone(), tally.clone());
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

/// Parses and shapes polled messages (see [`prepare::prepare`]); runs on any thread.
fn prepare_batch(polled: Polled, filters: Arc<Filters>, pseudonyms: Option<Arc<Pseudonymizer>>) -> Batch {
    let Polled { messages, before } = polled;
    let prepared =
        prepare::prepare(&messages, &Shaping { filters: &filters, pseudonyms: pseudonyms.as_deref() });
    Batch { messages, before, prepared }
}
