//! Preparing one batch of Kafka messages for the database: parse, apply the filter rules (music by default),
//! pseudonymise, fingerprint, collapse the copies of each id into one row by the merge rule
//! ([`crate::merge`]), and skip copies the cache knows cannot change the table. Every copy is
//! validated (parsed, keyed, checked for what PostgreSQL cannot hold) before any is collapsed,
//! so a refused copy never stands in for the valid ones. Tombstones (no value) are deletions.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState;

use rdkafka::message::{Message as _, OwnedMessage};
use tweetpipe_common::dead_letter::Class;
use tweetpipe_model::content::{fingerprint, fingerprint_folded};
use tweetpipe_model::filter::{FilterMode, Filters};
use tweetpipe_model::id::parse_key;
use tweetpipe_model::pseudonym::Pseudonymizer;
use tweetpipe_model::terms::fold;
use tweetpipe_model::tweet;

use crate::db::row::Row;
use crate::dedup::RecentIds;
use crate::merge::merge;

/// A message that cannot become a row, and why.
#[derive(Debug, Clone)]
pub(crate) struct Rejected {
    /// Index into the batch's messages.
    pub(crate) index: usize,
    pub(crate) class: Class,
    pub(crate) message: String,
}

/// A batch ready to write.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Every storable copy in message order; after [`Prepared::settle`], one row per distinct
    /// id, the join of its copies.
    pub rows: Vec<Row>,
    pub(crate) rejected: Vec<Rejected>,
    /// Ids X deleted (tombstones in this batch).
    pub deletes: Vec<i64>,
    /// Index into the batch's messages of each of `deletes`.
    pub(crate) delete_index: Vec<usize>,
    /// Tweets dropped by a filter rule (mode `drop`), in all.
    pub(crate) filtered: u64,
    /// Per rule: tweets it dropped or flagged.
    pub(crate) by_rule: HashMap<String, u64>,
    /// Tweets stored with a matched rule (mode `flag`).
    pub(crate) flagged: u64,
    /// Metric fields the input carried but that were unusable (negative, fractional, strings,
    /// out of range): stored as NULL, counted here.
    pub(crate) invalid_metrics: u64,
    /// Per partition: what its messages became, for the counts its transaction writes.
    pub(crate) shares: BTreeMap<i32, Share>,
}

/// What one partition's messages in a batch became, before the cache and the collapse.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Share {
    pub(crate) messages: u64,
    /// Storable copies (rows before the collapse).
    pub(crate) copies: u64,
    pub(crate) filtered: u64,
    pub(crate) flagged: u64,
    pub(crate) deletes: u64,
    /// Refused before the database (parse, key, NUL): dead-lettered.
    pub(crate) rejected: u64,
}

/// What shapes rows beyond parsing.
pub struct Shaping<'a> {
    pub filters: &'a Filters,
    pub pseudonyms: Option<&'a Pseudonymizer>,
}

/// Whether a JSON text holds the escape `\u0000` (an escaped backslash before it does not count).
pub(crate) fn has_nul(json: &[u8]) -> bool {
    memchr::memmem::find_iter(json, b"\\u0000")
        .any(|i| json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)
}

/// Parses and shapes a batch: the CPU-heavy half of a batch's work, with no state, so it can
/// run on another thread while the previous batch is being written. [`Prepared::settle`] then
/// applies what the consumer knows (the de-duplication cache) just before the write.
pub fn prepare(messages: &[OwnedMessage], shaping: &Shaping<'_>) -> Prepared {
    let mut out = Prepared::default();
    for (index, msg) in messages.iter().enumerate() {
        out.shares.entry(msg.partition()).or_default().messages += 1;
        let Some(payload) = msg.payload() else {
            match msg.key().and_then(|k| std::str::from_utf8(k).ok()).map(parse_key) {
                Some(Ok(id)) => {
                    out.deletes.push(id);
                    out.delete_index.push(index);
                    out.shares.entry(msg.partition()).or_default().deletes += 1;
                }
                _ => out.rejected.push(Rejected {
                    index,
                    class: Class::InvalidTombstone,
                    message: "a message without a value (a deletion) needs a tweet id as its key".into(),
                }),
            }
            continue;
        };
        let mut parsed = match tweet::parse(payload) {
            Ok(t) => {
                out.invalid_metrics += u64::from(t.invalid_metrics);
                t
            }
            Err(e) => {
                out.rejected.push(Rejected { index, class: e.class(), message: e.to_string() });
                continue;
            }
        };
        let key = msg.key().and_then(|k| std::str::from_utf8(k).ok());
        if key.map(parse_key) != Some(Ok(parsed.id)) {
            // Keys decide partitions and compaction: a key that is not the tweet's id would put
            // it where its other copies and its deletion are not.
            let shown: String = key.map_or_else(
                || "no key".to_owned(),
                |k| format!("key {:?}", k.chars().take(40).collect::<String>()),
            );
            out.rejected.push(Rejected {
                index,
                class: Class::KeyMismatch,
                message: format!("{shown}, but the tweet's id is {}", parsed.id),
            });
            continue;
        }
        if has_nul(payload) {
            out.rejected.push(Rejected {
                index,
                class: Class::NulCharacter,
                message: "contains U+0000 (NUL), which PostgreSQL cannot store in text or jsonb".into(),
            });
            continue;
        }
        // Folding (NFKC, case folding) is most of the text's cost when it is not ASCII: the
        // rules and the fingerprint share one fold when they look at the same text.
        let folded = fold(parsed.rule_text());
        let matched = shaping.filters.first_match_folded(&folded).map(str::to_owned);
        if let Some(rule) = &matched {
            *out.by_rule.entry(rule.clone()).or_default() += 1;
            if shaping.filters.mode == FilterMode::Drop {
                out.filtered += 1;
                out.shares.entry(msg.partition()).or_default().filtered += 1;
                continue;
            }
            out.flagged += 1;
            out.shares.entry(msg.partition()).or_default().flagged += 1;
        }
        let raw = match shaping.pseudonyms {
            Some(p) => pseudonymise(p, &mut parsed, payload),
            // The payload parsed as JSON, so it is UTF-8 (checked again: the fast check, not the
            // lossy walk, which took a tenth of the preparing).
            None => std::str::from_utf8(payload)
                .map_or_else(|_| String::from_utf8_lossy(payload).into_owned(), str::to_owned),
        };
        // A retweet is filtered by the text it retweets, fingerprinted by its own.
        let content_hash = match parsed.retweeted_text {
            None => fingerprint_folded(&folded),
            Some(_) => fingerprint(&parsed.text),
        };
        out.shares.entry(msg.partition()).or_default().copies += 1;
        out.rows.push(Row::new(parsed, raw, msg.partition(), msg.offset(), content_hash, matched));
    }
    for r in &out.rejected {
        out.shares.entry(messages[r.index].partition()).or_default().rejected += 1;
    }
    out
}

impl Prepared {
    /// Leaves one row per partition and id, the join of its copies, and only where it may change
    /// the table (copies of one id in two partitions stay two rows: each partition's share is
    /// written, and its offset moved, in its own transaction, and the rule is a join, so the
    /// table ends the same):
    /// copies the cache knows cannot are skipped, and a deletion in the batch wins over any copy.
    /// A row joined from several copies keeps them ([`Row::copies`]). Returns how many copies
    /// were skipped or joined into another.
    pub fn settle(&mut self, cache: &RecentIds) -> u64 {
        let candidates = std::mem::take(&mut self.rows);
        let mut skipped = 0;
        // (Partition, id) -> position in self.rows.
        let mut by_id: HashMap<(i32, i64), usize, RandomState> =
            HashMap::with_capacity_and_hasher(candidates.len(), RandomState::default());
        for row in candidates {
            if cache.is_stale(&row) {
                skipped += 1;
                continue;
            }
            match by_id.get(&(row.partition, row.tweet.id)) {
                Some(&at) => {
                    skipped += 1;
                    let kept = &mut self.rows[at];
                    if kept.copies.is_empty() {
                        let first = kept.clone();
                        kept.copies.push(first);
                    }
                    let copy = row.clone();
                    merge(kept, row);
                    kept.copies.push(copy);
                }
                None => {
                    by_id.insert((row.partition, row.tweet.id), self.rows.len());
                    self.rows.push(row);
                }
            }
        }
        if !self.deletes.is_empty() {
            let before = self.rows.len();
            let deletes: std::collections::HashSet<i64, RandomState> = self.deletes.iter().copied().collect();
            self.rows.retain(|r| !deletes.contains(&r.tweet.id));
            skipped += (before - self.rows.len()) as u64;
        }
        skipped
    }
}

/// The dead-letter class of a parse failure.
/// Replaces the identifying fields in the record and in its raw JSON.
fn pseudonymise(p: &Pseudonymizer, tweet: &mut tweet::Tweet, payload: &[u8]) -> String {
    tweet.username = tweet.username.as_deref().map(|u| p.pseudonym(u));
    tweet.location = tweet.location.as_deref().map(|l| p.pseudonym(l));
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(mut v) => {
            p.rewrite(&mut v);
            v.to_string()
        }
        // Parsed a moment ago; cannot fail. Never store the cleartext, even so.
        Err(_) => "{}".to_owned(),
    }
}

#[cfg(test)]
mod tests;
