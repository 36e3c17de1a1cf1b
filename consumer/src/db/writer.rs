//! The database writer: it owns "retry, pause, isolate the bad record" for one batch, written
//! as one transaction (the pipeline keeps up to `--db-writers` batches in flight at once, each
//! on its own connection). For each part of the batch (the whole of it, until a record is
//! refused):
//! - committed: counted, never written again;
//! - a transient error ([`is_transient`], the one rule): the part is retried on the common
//!   [`Backoff`], and [`Writer::stalled`] says so, for the consumer to hold its partitions
//!   (paused, still polling, so it stays in the group) meanwhile;
//! - any other error is about the data: the part is halved until the record is isolated; that
//!   record is refused (dead-lettered `db_rejected` with its SQLSTATE and message), the rest is
//!   stored;
//! - a transient error that repeats more than `--db-retry-limit` times while the database
//!   answers other statements is no outage: it is treated as about the data too. One record is
//!   never retried forever.
//!
//! Shutdown: the writer gives up (nothing stored, the batch is read again later) once the
//! `give_up` token fires, which happens `--drain-timeout` after SIGTERM.

use std::ops::Range;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::shutdown::Shutdown;

use crate::db::counts;
use crate::db::errors::is_transient;
use crate::db::upsert::{self, Outcome, Row};

pub struct Writer {
    pub pool: PgPool,
    pub link_content: bool,
    /// Failures of one write, with the database answering, before it is treated as data.
    pub retry_limit: u32,
    /// Cancelled once shutdown may no longer wait for the database.
    pub give_up: Shutdown,
    /// How many writes are waiting out a database problem right now (see [`Writer::stalled`]).
    stalled: watch::Sender<usize>,
}

/// What a batch did to the database.
#[derive(Debug, Default)]
pub struct Written {
    pub outcome: Outcome,
    /// Rows the database refused (index into the batch's rows) and why.
    pub refused: Vec<(usize, String)>,
    /// Set when the batch's deletions were refused, with the reason.
    pub deletes_refused: Option<String>,
    pub transactions: u64,
    /// Rounds of retries after a transient error.
    pub retries: u64,
}

/// A range of rows still to write, and what is known about its failures.
#[derive(Debug, Clone)]
struct Part {
    rows: Range<usize>,
    failures: u32,
    /// Failed transiently too often with the database answering: isolate instead of retrying.
    suspect: bool,
}

#[derive(Default)]
struct PartResult {
    outcome: Outcome,
    refused: Vec<(usize, String)>,
    failed: Vec<(Range<usize>, sqlx::Error)>,
    transactions: u64,
}

impl Writer {
    pub fn new(pool: PgPool, link_content: bool, retry_limit: u32, give_up: Shutdown) -> Self {
        Self { pool, link_content, retry_limit, give_up, stalled: watch::Sender::new(0) }
    }

    /// Above zero while some write is waiting out a transient database error: the consumer
    /// holds its partitions meanwhile ([`crate::intake::Intake::hold_while_stalled`]).
    pub fn stalled(&self) -> watch::Receiver<usize> {
        self.stalled.subscribe()
    }

    /// Writes `rows` (one per id) and applies `deletes`. `None` when shutdown gave up on the
    /// batch: nothing more is stored, its offsets must not be.
    pub async fn write(&self, rows: &[Row], deletes: &[i64]) -> Option<Written> {
        let mut written = Written::default();
        let mut pending = vec![Part { rows: 0..rows.len(), failures: 0, suspect: false }];
        let mut deletes_left = !deletes.is_empty();
        let mut delete_failures = 0u32;
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
        let mut stalled = false;
        let result = loop {
            let attempt = futures::future::join_all(pending.iter().map(|p| self.write_part(rows, p)));
            let results = tokio::select! {
                r = attempt => r,
                () = self.give_up.cancelled() => break None,
            };
            let mut failed = Vec::new();
            let mut error = None;
            for (part, r) in pending.iter().zip(results) {
                written.outcome += r.outcome;
                written.refused.extend(r.refused);
                written.transactions += r.transactions;
                for (range, e) in r.failed {
                    failed.push(Part { rows: range, ..part.clone() });
                    error = Some(e);
                }
            }
            if failed.is_empty() && deletes_left {
                match counts::apply_deletes(&self.pool, deletes).await {
                    Ok(_) => deletes_left = false,
                    Err(e) if !is_transient(&e) || delete_failures > self.retry_limit => {
                        written.deletes_refused = Some(describe(&e));
                        deletes_left = false;
                    }
                    Err(e) => error = Some(e),
                }
            }
            let Some(e) = error else {
                break Some(written);
            };
            // Count a failure against the write only when the database answers: an outage is
            // waited out however long it lasts, a write that fails on a healthy database is not.
            if self.database_answers().await {
                delete_failures += u32::from(deletes_left);
                for p in &mut failed {
                    p.failures += 1;
                    p.suspect = p.failures > self.retry_limit;
                }
            }
            pending = failed;
            written.retries += 1;
            // Counted as it happens: an outage must show on /metrics while it lasts.
            metrics::counter!("tweetpipe_db_retries_total", "kind" => "transient").increment(1);
            let delay = backoff.next_delay();
            tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "database write failed; partitions paused, retrying (offsets not committed)");
            if !stalled {
                stalled = true;
                self.stalled.send_modify(|n| *n += 1);
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.give_up.cancelled() => break None,
            }
        };
        if stalled {
            self.stalled.send_modify(|n| *n -= 1);
        }
        if result.is_none() {
            tracing::error!("giving up on the in-flight batch at shutdown; it will be read again");
        }
        result
    }

    /// Writes one part, halving it around records the database refuses.
    async fn write_part(&self, rows: &[Row], part: &Part) -> PartResult {
        let mut out = PartResult::default();
        let mut stack = vec![part.rows.clone()];
        while let Some(range) = stack.pop() {
            if range.is_empty() {
                continue;
            }
            match upsert::upsert(&self.pool, &rows[range.clone()], self.link_content).await {
                Ok(o) => {
                    out.outcome += o;
                    out.transactions += 1;
                }
                Err(e) if is_transient(&e) && !part.suspect => out.failed.push((range, e)),
                Err(e) if range.len() == 1 => {
                    let mut reason = describe(&e);
                    if part.suspect {
                        reason.push_str(&format!(
                            " (failed {} times while the database answered)",
                            part.failures
                        ));
                    }
                    tracing::warn!(id = rows[range.start].tweet.id, partition = rows[range.start].partition, offset = rows[range.start].offset, reason = %reason, "database refused record");
                    out.refused.push((range.start, reason));
                }
                Err(_) => {
                    let mid = range.start + range.len() / 2;
                    stack.push(mid..range.end);
                    stack.push(range.start..mid);
                }
            }
        }
        out
    }

    /// Whether the database answers a trivial statement right now.
    async fn database_answers(&self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(Duration::from_secs(5), probe).await, Ok(Ok(_)))
    }
}

/// The reason a dead letter carries: the SQLSTATE and PostgreSQL's message.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("SQLSTATE {}: {}", db.code().unwrap_or_default(), db.message()),
        other => other.to_string(),
    }
}
