//! Preparing one batch of Kafka messages for the database: parse, apply the filter rules (music by default),
//! pseudonymise, fingerprint, collapse duplicate ids (keeping the newest copy), and skip copies
//! the cache knows to be stale. Tombstones (no value) are deletions.

use std::collections::HashMap;

use rdkafka::message::{Message as _, OwnedMessage};
use tweetpipe_common::dead_letter::Class;
use tweetpipe_model::content::fingerprint;
use tweetpipe_model::filter::{FilterMode, Filters};
use tweetpipe_model::id::parse_key;
use tweetpipe_model::pseudonym::Pseudonymizer;
use tweetpipe_model::tweet;

use crate::db::upsert::Row;
use crate::dedup::{Metrics, RecentIds};

/// A message that cannot become a row, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Index into the batch's messages.
    pub index: usize,
    pub class: Class,
    pub message: String,
}

/// A batch ready to write.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Every storable copy in message order; after [`Prepared::settle`], one row per distinct
    /// id, the newest copy of each.
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
    /// Ids X deleted (tombstones in this batch).
    pub deletes: Vec<i64>,
    /// Index into the batch's messages of each of `deletes`.
    pub delete_index: Vec<usize>,
    /// Tweets dropped by a filter rule (mode `drop`), in all.
    pub filtered: u64,
    /// Per rule: tweets it dropped or flagged.
    pub by_rule: HashMap<String, u64>,
    /// Tweets stored with a matched rule (mode `flag`).
    pub flagged: u64,
    /// Metric fields the input carried but that were unusable (negative, fractional, strings,
    /// out of range): stored as NULL, counted here.
    pub invalid_metrics: u64,
}

/// What shapes rows beyond parsing.
pub struct Shaping<'a> {
    pub filters: &'a Filters,
    pub pseudonyms: Option<&'a Pseudonymizer>,
}

pub fn metrics(t: &tweet::Tweet) -> Metrics {
    [
        t.retweet_count.unwrap_or(0),
        t.like_count.unwrap_or(-1),
        t.reply_count.unwrap_or(-1),
        t.quote_count.unwrap_or(-1),
    ]
}

/// Whether a JSON text holds the escape `\u0000` (an escaped backslash before it does not count).
pub fn has_nul(json: &[u8]) -> bool {
    let needle = b"\\u0000";
    json.windows(needle.len())
        .enumerate()
        .any(|(i, w)| w == needle && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)
}

/// Parses and shapes a batch: the CPU-heavy half of a batch's work, with no state, so it can
/// run on another thread while the previous batch is being written. [`Prepared::settle`] then
/// applies what the consumer knows (the de-duplication cache) just before the write.
pub fn prepare(messages: &[OwnedMessage], shaping: &Shaping<'_>) -> Prepared {
    let mut out = Prepared::default();
    for (index, msg) in messages.iter().enumerate() {
        let Some(payload) = msg.payload() else {
            match msg.key().and_then(|k| std::str::from_utf8(k).ok()).map(parse_key) {
                Some(Ok(id)) => {
                    out.deletes.push(id);
                    out.delete_index.push(index);
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
        let matched = shaping.filters.first_match(parsed.rule_text()).map(str::to_owned);
        if let Some(rule) = &matched {
            *out.by_rule.entry(rule.clone()).or_default() += 1;
            if shaping.filters.mode == FilterMode::Drop {
                out.filtered += 1;
                continue;
            }
            out.flagged += 1;
        }
        let raw = match shaping.pseudonyms {
            Some(p) => pseudonymise(p, &mut parsed, payload),
            // The payload parsed as JSON, so it is UTF-8.
            None => String::from_utf8_lossy(payload).into_owned(),
        };
        let content_hash = fingerprint(&parsed.text);
        out.rows.push(Row {
            tweet: parsed,
            raw,
            partition: msg.partition(),
            offset: msg.offset(),
            content_hash,
            matched_rule: matched,
        });
    }
    out
}

impl Prepared {
    /// Leaves one row per id, the newest copy, and only where it may change the table: copies
    /// the cache knows to be stale are skipped, and a deletion in the batch wins over any copy.
    /// Returns how many copies were skipped.
    pub fn settle(&mut self, cache: &RecentIds) -> u64 {
        let candidates = std::mem::take(&mut self.rows);
        let mut skipped = 0;
        // Id -> position in self.rows.
        let mut by_id: HashMap<i64, usize> = HashMap::with_capacity(candidates.len());
        for row in candidates {
            let m = metrics(&row.tweet);
            if cache.is_stale(row.tweet.id, &m) {
                skipped += 1;
                continue;
            }
            match by_id.get(&row.tweet.id) {
                Some(&at) => {
                    skipped += 1;
                    let kept = &self.rows[at];
                    // The newer snapshot wins; on a tie, the later message.
                    if (m, row.offset) >= (metrics(&kept.tweet), kept.offset) {
                        self.rows[at] = row;
                    }
                }
                None => {
                    by_id.insert(row.tweet.id, self.rows.len());
                    self.rows.push(row);
                }
            }
        }
        if !self.deletes.is_empty() {
            let before = self.rows.len();
            let deletes = &self.deletes;
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
mod tests {
    use super::*;
    use rdkafka::message::Timestamp;

    /// A message keyed by its tweet's id, as the producer keys them.
    fn msg(offset: i64, value: &str) -> OwnedMessage {
        let id = serde_json::from_str::<serde_json::Value>(value)
            .ok()
            .and_then(|v| v["data"]["id"].as_str().map(str::to_owned));
        keyed(offset, id.as_deref(), value)
    }

    fn keyed(offset: i64, key: Option<&str>, value: &str) -> OwnedMessage {
        OwnedMessage::new(
            Some(value.as_bytes().to_vec()),
            key.map(|k| k.as_bytes().to_vec()),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            offset,
            None,
        )
    }

    fn tombstone(offset: i64, key: &str) -> OwnedMessage {
        OwnedMessage::new(
            None,
            Some(key.as_bytes().to_vec()),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            offset,
            None,
        )
    }

    fn line(id: &str, text: &str, retweets: i64) -> String {
        serde_json::json!({"data": {"id": id, "text": text, "public_metrics": {"retweet_count": retweets}}})
            .to_string()
    }

    fn music() -> Filters {
        Filters::new(&["music".into()], None, FilterMode::Drop).expect("rules")
    }

    #[test]
    fn duplicates_in_a_batch_collapse_to_the_newest_copy() {
        let batch = vec![
            msg(0, &line("1", "a", 3)),
            msg(1, &line("1", "a", 9)),
            msg(2, &line("1", "a", 5)),
            msg(3, &line("2", "I love #music", 0)),
            msg(4, "{not json"),
            msg(5, &line("3", "c", 0)),
        ];
        let filters = music();
        let mut p = prepare(&batch, &Shaping { filters: &filters, pseudonyms: None });
        let skipped = p.settle(&RecentIds::new(10));
        let ids: Vec<(i64, Option<i64>)> =
            p.rows.iter().map(|r| (r.tweet.id, r.tweet.retweet_count)).collect();
        assert_eq!(ids, [(1, Some(9)), (3, Some(0))]);
        assert_eq!(skipped, 2);
        assert_eq!(p.filtered, 1);
        assert_eq!(p.by_rule["music"], 1);
        assert_eq!(p.rejected.len(), 1);
        assert_eq!(p.rejected[0].index, 4);
        assert_eq!(p.rejected[0].class, Class::InvalidJson);
    }

    #[test]
    fn flag_mode_keeps_and_marks_and_tombstones_delete() {
        let filters = Filters::new(&["music".into()], None, FilterMode::Flag).expect("rules");
        let batch =
            vec![msg(0, &line("2", "I love #music", 0)), msg(1, &line("3", "x", 0)), tombstone(2, "3")];
        let mut p = prepare(&batch, &Shaping { filters: &filters, pseudonyms: None });
        assert_eq!(p.settle(&RecentIds::new(10)), 1, "the deleted tweet's copy is superseded");
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].matched_rule.as_deref(), Some("music"));
        assert_eq!(p.flagged, 1);
        assert_eq!(p.deletes, [3]);
    }

    #[test]
    fn a_key_that_is_not_the_tweets_id_is_refused() {
        let filters = music();
        let shaping = Shaping { filters: &filters, pseudonyms: None };
        let batch = [
            keyed(0, Some("123"), &line("456", "a", 0)),
            keyed(1, None, &line("457", "b", 0)),
            keyed(2, Some("458"), &line("458", "c", 0)),
        ];
        let p = prepare(&batch, &shaping);
        let refused: Vec<(usize, Class)> = p.rejected.iter().map(|r| (r.index, r.class)).collect();
        assert_eq!(refused, [(0, Class::KeyMismatch), (1, Class::KeyMismatch)]);
        assert!(p.rejected[0].message.contains("123") && p.rejected[0].message.contains("456"));
        assert_eq!(p.rows.len(), 1);
    }

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not_nul() {
        assert!(has_nul(br#"{"text":"a\u0000b"}"#));
        assert!(!has_nul(br#"{"text":"a\\u0000b"}"#), "a literal backslash followed by u0000");
        assert!(has_nul(br#"{"text":"a\\\u0000b"}"#));
        assert!(!has_nul(br#"{"text":"plain"}"#));
    }

    #[test]
    fn a_copy_newer_in_any_metric_than_the_cache_is_written() {
        let mut cache = RecentIds::new(10);
        cache.remember(1, [5, 5, -1, -1]);
        let line = |rt: i64, likes: i64| {
            serde_json::json!({"data": {"id": "1", "text": "a",
                "public_metrics": {"retweet_count": rt, "like_count": likes}}})
            .to_string()
        };
        let filters = music();
        let shaping = Shaping { filters: &filters, pseudonyms: None };
        // The first copy sorts newest but the cache already has it; the second has more likes.
        let mut p = prepare(&[msg(0, &line(5, 1)), msg(1, &line(4, 9))], &shaping);
        let skipped = p.settle(&cache);
        let kept: Vec<_> = p.rows.iter().map(|r| (r.tweet.retweet_count, r.tweet.like_count)).collect();
        assert_eq!(kept, [(Some(4), Some(9))]);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn cached_stale_copies_are_skipped() {
        let mut cache = RecentIds::new(10);
        cache.remember(1, [5, -1, -1, -1]);
        let filters = music();
        let shaping = Shaping { filters: &filters, pseudonyms: None };
        let mut p = prepare(&[msg(0, &line("1", "a", 5)), msg(1, &line("1", "a", 6))], &shaping);
        let skipped = p.settle(&cache);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].tweet.retweet_count, Some(6));
        assert_eq!(skipped, 1);
    }
}
