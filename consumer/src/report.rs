//! What the consumer did. Each batch ends in one [`Tally`], built from what its transactions
//! added to `ingest_counts` ([`crate::db::counts::Counts`]); it feeds the metrics and the run's
//! [`Report`], so they cannot disagree with the table. Every message read lands in exactly one
//! of stored (`inserted`), `duplicates`, `filtered`, `dead_lettered`, `deleted` or
//! `already_applied` (read again, but applied before: not counted in `ingest_counts` again).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use tweetpipe_common::dead_letter::Class;

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Messages read.
    pub consumed: u64,
    /// New rows.
    pub inserted: u64,
    /// Stored rows that received newer data.
    pub updated: u64,
    /// Messages that added no new row: copies collapsed within the batch, copies known stale,
    /// copies that updated a stored row or changed nothing, copies superseded by a deletion.
    pub duplicates: u64,
    /// Tweets dropped by a filter rule (`--filter-mode drop`).
    pub filtered: u64,
    /// Tweets stored with a matched rule (`--filter-mode flag`).
    pub flagged: u64,
    /// Deletion messages (tombstones) applied.
    pub deleted: u64,
    /// New rows linked to an earlier tweet with the same content (`--dedup content`).
    pub content_duplicates: u64,
    /// Messages sent to the dead-letter topic (or lost trying, see `dead_letters_lost`), by class.
    pub dead_lettered: BTreeMap<&'static str, u64>,
    /// Dead letters the broker refused for good (counted in `dead_lettered` as well).
    pub dead_letters_lost: u64,
    /// Per filter rule: tweets it dropped or flagged.
    pub by_rule: BTreeMap<String, u64>,
    /// Database transactions committed.
    pub transactions: u64,
    /// Database writes retried after a transient error.
    pub db_retries: u64,
    /// Unusable metric values stored as NULL (see the README, "Metrics are not taken on trust").
    pub invalid_metrics: u64,
    /// Messages read again that the database had already applied (after a rebalance, a crash,
    /// a zombie): skipped, not counted twice.
    pub already_applied: u64,
}

impl Tally {
    /// Counts one dead letter of `class`.
    pub fn dead_letter(&mut self, class: Class) {
        *self.dead_lettered.entry(class.as_str()).or_default() += 1;
    }

    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.values().sum()
    }

    /// Exports the batch to `/metrics`.
    pub fn record_metrics(&self) {
        metrics::counter!("tweetpipe_consumed_total").increment(self.consumed);
        metrics::counter!("tweetpipe_upserted_total").increment(self.inserted + self.updated);
        metrics::counter!("tweetpipe_inserted_total").increment(self.inserted);
        metrics::counter!("tweetpipe_duplicates_total").increment(self.duplicates);
        metrics::counter!("tweetpipe_filter_dropped_total").increment(self.filtered);
        metrics::counter!("tweetpipe_deleted_total").increment(self.deleted);
        metrics::counter!("tweetpipe_content_duplicates_total").increment(self.content_duplicates);
        metrics::counter!("tweetpipe_dead_letters_lost_total").increment(self.dead_letters_lost);
        metrics::counter!("tweetpipe_invalid_metrics_total").increment(self.invalid_metrics);
        metrics::counter!("tweetpipe_already_applied_total").increment(self.already_applied);
        for (class, n) in &self.dead_lettered {
            metrics::counter!("tweetpipe_dead_lettered_total", "stage" => "consumer", "class" => *class)
                .increment(*n);
        }
        for (rule, n) in &self.by_rule {
            metrics::counter!("tweetpipe_filtered_total", "rule" => rule.clone()).increment(*n);
        }
        metrics::histogram!("tweetpipe_batch_size").record(self.consumed as f64);
    }
}

/// How a run ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Still running (never printed).
    #[default]
    Running,
    /// `--exit-at-end`: every partition reached the end seen at start.
    Drained,
    /// Stopped by SIGTERM / Ctrl-C.
    Stopped,
}

/// The run's totals, printed at the end as a `key=value` line and as one JSON object.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub outcome: RunOutcome,
    pub consumed: u64,
    /// Rows written: inserted + updated.
    pub upserted: u64,
    pub inserted: u64,
    pub updated: u64,
    pub duplicates: u64,
    pub filtered: u64,
    pub flagged: u64,
    pub deleted: u64,
    pub content_duplicates: u64,
    pub dead_lettered: u64,
    pub dead_lettered_by_class: BTreeMap<String, u64>,
    pub dead_letters_lost: u64,
    /// Messages whose key was missing or not their tweet's id (dead-lettered `key_mismatch`).
    pub key_mismatches: u64,
    pub by_rule: BTreeMap<String, u64>,
    /// Batches of messages handled.
    pub batches: u64,
    pub transactions: u64,
    pub db_retries: u64,
    /// Unusable metric values stored as NULL.
    pub invalid_metrics: u64,
    /// Messages read again that were already applied: skipped.
    pub already_applied: u64,
    #[serde(serialize_with = "seconds")]
    pub elapsed_s: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl Report {
    pub fn add(&mut self, t: &Tally) {
        self.consumed += t.consumed;
        self.inserted += t.inserted;
        self.updated += t.updated;
        self.upserted += t.inserted + t.updated;
        self.duplicates += t.duplicates;
        self.filtered += t.filtered;
        self.flagged += t.flagged;
        self.deleted += t.deleted;
        self.content_duplicates += t.content_duplicates;
        self.dead_lettered += t.dead_lettered_total();
        for (class, n) in &t.dead_lettered {
            *self.dead_lettered_by_class.entry((*class).to_owned()).or_default() += n;
        }
        self.key_mismatches += t.dead_lettered.get(Class::KeyMismatch.as_str()).copied().unwrap_or(0);
        self.dead_letters_lost += t.dead_letters_lost;
        for (rule, n) in &t.by_rule {
            *self.by_rule.entry(rule.clone()).or_default() += n;
        }
        self.batches += 1;
        self.transactions += t.transactions;
        self.db_retries += t.db_retries;
        self.invalid_metrics += t.invalid_metrics;
        self.already_applied += t.already_applied;
    }

    /// The machine-readable summary: one JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed_s.as_secs_f64();
        let rate = if secs > 0.0 { self.consumed as f64 / secs } else { 0.0 };
        write!(
            f,
            "consumer summary: consumed={} upserted={} inserted={} updated={} duplicates={} \
             filtered={} dead_lettered={} already_applied={} batches={} elapsed_s={secs:.2} rate_per_s={rate:.0}",
            self.consumed,
            self.upserted,
            self.inserted,
            self.updated,
            self.duplicates,
            self.filtered,
            self.dead_lettered,
            self.already_applied,
            self.batches,
        )?;
        write!(
            f,
            " deleted={} content_duplicates={} flagged={} key_mismatches={} dead_letters_lost={} invalid_metrics={}",
            self.deleted,
            self.content_duplicates,
            self.flagged,
            self.key_mismatches,
            self.dead_letters_lost,
            self.invalid_metrics
        )?;
        for (rule, n) in &self.by_rule {
            write!(f, " rule[{}]={n}", rule.replace(' ', "_"))?;
        }
        Ok(())
    }
}
