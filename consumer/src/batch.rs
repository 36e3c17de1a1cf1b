//! One batch of Kafka messages into rows: parse, drop music tweets, collapse duplicate ids
//! (keeping the newest copy), and skip copies the cache knows to be stale.

use std::collections::HashMap;

use rdkafka::message::{Message as _, OwnedMessage};
use tweetpipe_common::music::MusicRule;
use tweetpipe_common::tweet;

use crate::db::upsert::Row;
use crate::dedup::{Metrics, RecentIds};

/// A message that cannot become a row, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Index into the batch's messages.
    pub index: usize,
    pub class: &'static str,
    pub message: String,
}

/// A batch ready to write.
#[derive(Debug, Default)]
pub struct Prepared {
    /// One row per distinct id, the newest copy of each.
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
    pub music_dropped: u64,
    /// Copies that were not written: collapsed within the batch or known stale.
    pub duplicates: u64,
}

pub fn metrics(t: &tweet::Tweet) -> Metrics {
    [t.retweet_count, t.like_count.unwrap_or(-1), t.reply_count.unwrap_or(-1), t.quote_count.unwrap_or(-1)]
}

/// Whether a JSON text holds the escape `\u0000` (an escaped backslash before it does not count).
pub fn has_nul(json: &[u8]) -> bool {
    let needle = b"\\u0000";
    json.windows(needle.len())
        .enumerate()
        .any(|(i, w)| w == needle && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)
}

pub fn prepare(messages: &[OwnedMessage], rule: &MusicRule, cache: &RecentIds) -> Prepared {
    let mut out = Prepared::default();
    // Id -> position in out.rows, to collapse duplicates within the batch.
    let mut by_id: HashMap<i64, usize> = HashMap::with_capacity(messages.len());
    for (index, msg) in messages.iter().enumerate() {
        let Some(payload) = msg.payload() else {
            out.rejected.push(Rejected {
                index,
                class: "empty_value",
                message: "message has no value".into(),
            });
            continue;
        };
        let parsed = match tweet::parse(payload) {
            Ok(t) => t,
            Err(e) => {
                out.rejected.push(Rejected { index, class: e.class(), message: e.to_string() });
                continue;
            }
        };
        if has_nul(payload) {
            out.rejected.push(Rejected {
                index,
                class: "nul_character",
                message: "contains U+0000 (NUL), which PostgreSQL cannot store in text or jsonb".into(),
            });
            continue;
        }
        if rule.matches(parsed.rule_text()) {
            out.music_dropped += 1;
            continue;
        }
        let m = metrics(&parsed);
        if cache.is_stale(parsed.id, &m) {
            out.duplicates += 1;
            continue;
        }
        // The payload parsed as JSON, so it is UTF-8.
        let raw = String::from_utf8_lossy(payload).into_owned();
        let row = Row { tweet: parsed, raw, partition: msg.partition(), offset: msg.offset() };
        match by_id.get(&row.tweet.id) {
            Some(&at) => {
                out.duplicates += 1;
                let kept = &out.rows[at];
                // The newer snapshot wins; on a tie, the later message.
                if (m, row.offset) >= (metrics(&kept.tweet), kept.offset) {
                    out.rows[at] = row;
                }
            }
            None => {
                by_id.insert(row.tweet.id, out.rows.len());
                out.rows.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Timestamp;

    fn msg(offset: i64, value: &str) -> OwnedMessage {
        OwnedMessage::new(
            Some(value.as_bytes().to_vec()),
            None,
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
        let p = prepare(&batch, &MusicRule::default(), &RecentIds::new(10));
        let ids: Vec<(i64, i64)> = p.rows.iter().map(|r| (r.tweet.id, r.tweet.retweet_count)).collect();
        assert_eq!(ids, [(1, 9), (3, 0)]);
        assert_eq!(p.duplicates, 2);
        assert_eq!(p.music_dropped, 1);
        assert_eq!(p.rejected.len(), 1);
        assert_eq!(p.rejected[0].index, 4);
        assert_eq!(p.rejected[0].class, "invalid_json");
    }

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not_nul() {
        assert!(has_nul(br#"{"text":"a\u0000b"}"#));
        assert!(!has_nul(br#"{"text":"a\\u0000b"}"#), "a literal backslash followed by u0000");
        assert!(has_nul(br#"{"text":"a\\\u0000b"}"#));
        assert!(!has_nul(br#"{"text":"plain"}"#));
    }

    #[test]
    fn cached_stale_copies_are_skipped() {
        let mut cache = RecentIds::new(10);
        cache.remember(1, [5, -1, -1, -1]);
        let p =
            prepare(&[msg(0, &line("1", "a", 5)), msg(1, &line("1", "a", 6))], &MusicRule::default(), &cache);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].tweet.retweet_count, 6);
        assert_eq!(p.duplicates, 1);
    }
}
