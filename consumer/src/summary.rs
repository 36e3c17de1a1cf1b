//! What a consumer run did.

use std::fmt;
use std::time::Duration;

/// Counters of one run, printed as one `key=value` line at the end.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Messages read from Kafka.
    pub consumed: u64,
    /// Rows written: inserted + updated.
    pub upserted: u64,
    /// New rows.
    pub inserted: u64,
    /// Stored rows that received newer data (a higher metric).
    pub updated: u64,
    /// Messages whose id was already stored or seen: consumed minus new rows, filtered, deletions
    /// and dead letters.
    pub duplicates: u64,
    pub music_dropped: u64,
    pub dead_lettered: u64,
    /// Database transactions.
    pub batches: u64,
    /// Tombstones applied (tweets X deleted).
    pub deleted: u64,
    /// New rows linked to an earlier tweet with the same content (`--dedup content`).
    pub content_duplicates: u64,
    /// Tweets stored with a matched filter rule (`--filter-mode flag`).
    pub flagged: u64,
    /// Per filter rule: tweets it dropped or flagged.
    pub by_rule: std::collections::BTreeMap<String, u64>,
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.consumed as f64 / secs } else { 0.0 };
        write!(
            f,
            "consumer summary: consumed={} upserted={} inserted={} updated={} duplicates={} \
             music_dropped={} dead_lettered={} batches={} elapsed_s={secs:.2} rate_per_s={rate:.0}",
            self.consumed,
            self.upserted,
            self.inserted,
            self.updated,
            self.duplicates,
            self.music_dropped,
            self.dead_lettered,
            self.batches,
        )?;
        write!(
            f,
            " deleted={} content_duplicates={} flagged={}",
            self.deleted, self.content_duplicates, self.flagged
        )?;
        for (rule, n) in &self.by_rule {
            write!(f, " rule[{}]={n}", rule.replace(' ', "_"))?;
        }
        Ok(())
    }
}
