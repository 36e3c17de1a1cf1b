//! What both write paths take and give: one [`Row`] per tweet id, and the [`Outcome`] of writing
//! rows.

use tweetpipe_model::tweet::Tweet;

use crate::merge::Rank;

/// One row to upsert: the parsed tweet plus where it was read. After the in-batch collapse it
/// is the join ([`crate::merge::merge`]) of every copy of its id in the batch.
#[derive(Debug, Clone)]
pub struct Row {
    pub tweet: Tweet,
    /// The message value, stored as JSONB.
    pub raw: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    /// Fingerprint of the normalised text (content de-duplication).
    pub content_hash: i64,
    /// The filter rule it matched, in `flag` mode.
    pub matched_rule: Option<String>,
    /// Its place in the order that picks the winning copy (stored as `copy_rank`).
    pub(crate) rank: Rank,
    /// The copies this row was merged from, when there were several: should the database refuse
    /// the merged row, each is written alone, so one refused copy never costs the others.
    pub(crate) copies: Vec<Row>,
}

impl Row {
    pub fn new(
        tweet: Tweet,
        raw: String,
        partition: i32,
        offset: i64,
        content_hash: i64,
        matched_rule: Option<String>,
    ) -> Self {
        let metrics = [tweet.retweet_count, tweet.like_count, tweet.reply_count, tweet.quote_count];
        let rank = Rank::of(metrics, &raw);
        Row { tweet, raw, partition, offset, content_hash, matched_rule, rank, copies: Vec::new() }
    }
}

/// What writing rows did to the table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// New rows.
    pub inserted: u64,
    /// Existing rows that changed.
    pub updated: u64,
    /// New rows linked to an earlier tweet with the same content (`--dedup content`).
    pub(crate) content_duplicates: u64,
}

/// Outcomes of a batch's parts add up to the batch's.
impl std::ops::AddAssign for Outcome {
    fn add_assign(&mut self, o: Outcome) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.content_duplicates += o.content_duplicates;
    }
}
