//! The database writer: one transaction for each [`Part`] of a batch (the pipeline keeps up to
//! `--db-writers` parts in flight, each on its own connection), holding whole partitions: their
//! fenced offsets ([`crate::db::offsets`]), rows, deletions, dead letters and counts, so each
//! lands exactly once or not at all. A partition whose offset another member has moved is left
//! out and reported ([`Written::fenced`]). Dead letters are sent before the commit: the
//! dead-letter topic is at-least-once (a commit that fails after them sends them again).
//! What a failure means is decided in one place ([`crate::db::errors`]):
//! - **about the data**: the transaction is done again with each record tried in a savepoint,
//!   halving until the refused record is isolated; a row merged from several copies is then
//!   written copy by copy, so one refused copy never costs the valid copies of its id. Refused
//!   records are dead-lettered (`db_rejected`, with SQLSTATE and message), the rest commit
//!   together. When every record of a part of [`UNIFORM_REFUSAL_MIN`] or more is refused with
//!   one SQLSTATE and a probe row (a plain tweet, rolled back) is refused too, that is the
//!   database, not the records (a column changed type, say): an outage.
//! - **an outage**: nothing is committed; the part is retried on the common [`Backoff`] for as
//!   long as it lasts, and [`Writer::stalled`] says so, for the consumer to hold its partitions
//!   (paused, still polling, so it stays in the group). Never dead-lettered.
//!
//! Shutdown: the writer gives up (nothing stored, the batch is read again later) once the
//! `give_up` token fires, which happens `--drain-timeout` after SIGTERM.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use rdkafka::message::Message as _;
use sqlx::{Connection as _, PgConnection, PgPool};
use tokio::sync::watch;
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::dead_letter::Class;
use tweetpipe_common::shutdown::Shutdown;

use crate::db::counts::Counts;
use crate::db::errors::{is_about_the_data, sqlstate};
use crate::db::offsets::{self, Fenced, Owner};
use crate::db::part::Part;
use crate::db::row::{Outcome, Refused, Row};
use crate::db::{counts, upsert};
use crate::dead_letter::{DeadLetters, Sent};

/// Parts at least this large whose every record is refused with one SQLSTATE are an outage.
pub(crate) const UNIFORM_REFUSAL_MIN: usize = 16;

pub struct Writer {
    pub(crate) pool: PgPool,
    pub(crate) link_content: bool,
    /// Cancelled once shutdown may no longer wait for the database.
    pub(crate) give_up: Shutdown,
    /// How many writes are waiting out a database problem right now (see [`Writer::stalled`]).
    stalled: watch::Sender<usize>,
    /// Whose offsets parts move; none for tools that only write rows.
    owner: Option<Owner>,
    /// Where refused records go; without it they are only reported.
    dead: Option<Arc<DeadLetters>>,
}

/// What a part did to the database.
#[derive(Debug, Default)]
pub struct Written {
    pub outcome: Outcome,
    pub refused: Vec<Refused>,
    pub(crate) transactions: u64,
    /// Rounds of retries after an outage.
    pub retries: u64,
    /// Partitions left out: their offsets were not where the part started.
    pub(crate) fenced: Vec<Fenced>,
    /// What went into `ingest_counts`.
    pub(crate) counts: Counts,
    /// Dead letters sent, by class, and what became of them.
    pub(crate) letters: Vec<(Class, Sent)>,
}

/// Why an attempt did not commit.
enum Failure {
    /// The first, plain attempt met a record the database refuses: isolate it.
    Data,
    Outage(sqlx::Error),
    /// Shutdown gave up on a dead letter: nothing is committed.
    GivenUp,
    /// These partitions' offsets were not where the part started: done again without them.
    Fenced(Vec<Fenced>),
}

impl Writer {
    pub fn new(pool: PgPool, link_content: bool, give_up: Shutdown) -> Self {
        Self { pool, link_content, give_up, stalled: watch::Sender::new(0), owner: None, dead: None }
    }

    /// Parts move `owner`'s offsets and send refused records to `dead`.
    pub(crate) fn exactly_once(mut self, owner: Owner, dead: Arc<DeadLetters>) -> Self {
        self.owner = Some(owner);
        self.dead = Some(dead);
        self
    }

    /// Above zero while some write is waiting out an outage: the consumer holds its partitions
    /// meanwhile ([`crate::intake::Intake::hold_while_stalled`]).
    pub(crate) fn stalled(&self) -> watch::Receiver<usize> {
        self.stalled.subscribe()
    }

    /// Writes a part in one transaction. `None` when shutdown gave up on it: nothing is
    /// stored, its offsets must not be.
    pub async fn write(&self, part: &Part) -> Option<Written> {
        let mut backoff = Backoff::database_write();
        let mut fenced = Vec::new();
        let mut isolate = false;
        let mut stalled = false;
        let mut retries = 0;
        let result = loop {
            let left = part.without(&fenced);
            let attempt = tokio::select! {
                r = self.attempt(&left, isolate) => r,
                () = self.give_up.cancelled() => break None,
            };
            let e = match attempt {
                Ok(mut written) => {
                    written.retries = retries;
                    written.fenced = fenced;
                    break Some(written);
                }
                Err(Failure::Fenced(more)) => {
                    fenced.extend(more);
                    continue;
                }
                Err(Failure::Data) => {
                    isolate = true;
                    continue;
                }
                Err(Failure::GivenUp) => break None,
                Err(Failure::Outage(e)) => e,
            };
            // The cheap plain attempt first again: most outages end with every record fine.
            isolate = false;
            retries += 1;
            // Counted as it happens: an outage must show on /metrics while it lasts.
            metrics::counter!("tweetpipe_db_retries_total", "kind" => "transient").increment(1);
            let delay = backoff.next_delay();
            tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "database write failed; partitions paused, retrying (offsets not committed)");
            if !stalled {
                stalled = true;
                self.stalled.send_modify(|n| *n += 1);
            }
            if !tweetpipe_common::shutdown::sleep(&self.give_up, delay).await {
                break None;
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

    /// One transaction: the deletions lock, the rows (isolating refused records when asked), the
    /// deletions, the fence, the dead letters, the counts, commit. The fence comes last, so an
    /// offset row is locked only for the moment before the commit: a stalled member holds it
    /// as briefly as possible (and PostgreSQL ends a transaction left idle, see `settings.rs`).
    async fn attempt(&self, part: &Part, isolate: bool) -> Result<Written, Failure> {
        // Read committed whatever the server's default: the deletions lock works because each
        // statement after it sees what committed before it was granted.
        let mut tx =
            self.pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await.map_err(Failure::Outage)?;
        counts::lock(&mut tx, !part.deletes.is_empty()).await.map_err(Failure::Outage)?;
        let mut written = Written::default();
        if isolate {
            self.isolate(&mut tx, &part.rows, &mut written).await.map_err(Failure::Outage)?;
        } else {
            match upsert(&mut tx, &part.rows, self.link_content).await {
                Ok(outcome) => written.outcome = outcome,
                // Dropping the transaction rolls it back.
                Err(e) if is_about_the_data(&e) => return Err(Failure::Data),
                Err(e) => return Err(Failure::Outage(e)),
            }
        }
        // Ids are all a deletion carries: any error here is the database's.
        counts::apply_deletes(&mut tx, &part.delete_ids()).await.map_err(Failure::Outage)?;
        if let Some(owner) = &self.owner {
            let fenced = offsets::fence(&mut tx, owner, &part.spans()).await.map_err(Failure::Outage)?;
            if !fenced.is_empty() {
                // Rolled back whole (dropped): their rows must not land with the others.
                return Err(Failure::Fenced(fenced));
            }
        }
        self.dead_letter(part, &mut written).await?;
        written.counts = part.counts(&written.outcome, &written.refused);
        if self.owner.is_some() {
            counts::add(&mut tx, &written.counts).await.map_err(Failure::Outage)?;
        }
        tx.commit().await.map_err(Failure::Outage)?;
        written.transactions = 1;
        Ok(written)
    }

    /// Sends the part's dead letters (refused before the database, then by it) and waits for
    /// every acknowledgement: once the transaction commits, its offsets are past them.
    async fn dead_letter(&self, part: &Part, written: &mut Written) -> Result<(), Failure> {
        let Some(dead) = &self.dead else { return Ok(()) };
        let early = part.rejected.iter().map(|r| (&part.messages[r.index], r.class, r.message.as_str()));
        let late = written.refused.iter().filter_map(|r| {
            part.message(r.partition, r.offset).map(|m| (m, Class::DbRejected, r.reason.as_str()))
        });
        let letters: Vec<_> = early.chain(late).collect();
        if letters.is_empty() {
            return Ok(());
        }
        let sends = letters.iter().map(|&(msg, class, reason)| {
            tracing::warn!(partition = msg.partition(), offset = msg.offset(), %class, reason, "dead-lettering record");
            dead.send(msg, class, reason)
        });
        let sent = futures::future::join_all(sends).await;
        if sent.contains(&Sent::Abandoned) {
            return Err(Failure::GivenUp);
        }
        written.letters = letters.iter().map(|l| l.1).zip(sent).collect();
        Ok(())
    }

    /// Writes `rows` a savepoint at a time, halving around the records the database refuses.
    /// `Err` is an outage.
    async fn isolate(
        &self,
        tx: &mut PgConnection,
        rows: &[Row],
        out: &mut Written,
    ) -> Result<(), sqlx::Error> {
        let mut stack: Vec<Range<usize>> = Vec::new();
        stack.push(0..rows.len());
        let mut refused_rows = 0;
        let mut codes = BTreeSet::new();
        let mut last_refusal = None;
        while let Some(range) = stack.pop() {
            if range.is_empty() {
                continue;
            }
            let e = match self.in_savepoint(tx, &rows[range.clone()]).await {
                Ok(outcome) => {
                    out.outcome += outcome;
                    continue;
                }
                Err(e) if !is_about_the_data(&e) => return Err(e),
                Err(e) => e,
            };
            if range.len() > 1 {
                let mid = range.start + range.len() / 2;
                stack.push(mid..range.end);
                stack.push(range.start..mid);
                continue;
            }
            let row = &rows[range.start];
            if row.copies.is_empty() {
                out.refused.push(refuse(row, &e));
                refused_rows += 1;
            } else {
                // The join of the copies was refused: each copy alone, so the valid ones land
                // (the rule is a join: copy by copy gives the row all of them together would).
                let mut landed = false;
                for copy in &row.copies {
                    match self.in_savepoint(tx, std::slice::from_ref(copy)).await {
                        Ok(outcome) => {
                            out.outcome += outcome;
                            landed = true;
                        }
                        Err(e) if is_about_the_data(&e) => out.refused.push(refuse(copy, &e)),
                        Err(e) => return Err(e),
                    }
                }
                refused_rows += usize::from(!landed);
            }
            codes.insert(sqlstate(&e));
            last_refusal = Some(e);
        }
        match last_refusal {
            Some(e)
                if rows.len() >= UNIFORM_REFUSAL_MIN && refused_rows == rows.len() && codes.len() == 1 =>
            {
                // Bad records, or a database that refuses anything? A plain tweet tells.
                match self.in_savepoint_rolled_back(tx, &[probe()]).await {
                    Err(p) if is_about_the_data(&p) && sqlstate(&p) == sqlstate(&e) => {
                        tracing::warn!(rows = rows.len(), sqlstate = ?codes.first(), "every record refused alike, a plain one too: the database's problem");
                        Err(e)
                    }
                    Err(p) if !is_about_the_data(&p) => Err(p),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Writes `rows` in a savepoint and always rolls it back.
    async fn in_savepoint_rolled_back(&self, tx: &mut PgConnection, rows: &[Row]) -> Result<(), sqlx::Error> {
        let mut savepoint = tx.begin().await?;
        let written = upsert(&mut savepoint, rows, self.link_content).await;
        savepoint.rollback().await?;
        written.map(|_| ())
    }

    async fn in_savepoint(&self, tx: &mut PgConnection, rows: &[Row]) -> Result<Outcome, sqlx::Error> {
        let mut savepoint = tx.begin().await?;
        let outcome = upsert(&mut savepoint, rows, self.link_content).await;
        match outcome {
            Ok(o) => {
                savepoint.commit().await?;
                Ok(o)
            }
            Err(e) => {
                savepoint.rollback().await?;
                Err(e)
            }
        }
    }
}

/// A plain tweet any working database stores (never committed: its savepoint is rolled back).
fn probe() -> Row {
    let tweet = tweetpipe_model::tweet::Tweet {
        id: i64::MAX,
        format: tweetpipe_model::Format::V2,
        author_id: None,
        username: None,
        created_at: None,
        text: "probe".into(),
        retweet_count: None,
        like_count: None,
        reply_count: None,
        quote_count: None,
        invalid_metrics: 0,
        location: None,
        lang: None,
        hashtags: Vec::new(),
        is_retweet: false,
        retweeted_text: None,
    };
    Row::new(tweet, r#"{"data":{"id":"9223372036854775807","text":"probe"}}"#.into(), 0, 0, 0, None)
}

fn refuse(row: &Row, e: &sqlx::Error) -> Refused {
    let reason = describe(e);
    tracing::warn!(id = row.tweet.id, partition = row.partition, offset = row.offset, reason = %reason, "database refused record");
    Refused { partition: row.partition, offset: row.offset, reason }
}

/// The reason a dead letter carries: the SQLSTATE and PostgreSQL's message.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("SQLSTATE {}: {}", db.code().unwrap_or_default(), db.message()),
        other => other.to_string(),
    }
}
