//! The merge rule: what the `tweets` row of an id holds for any set of copies read. Written once
//! here, applied three times — the in-batch collapse ([`merge`]), the de-duplication cache
//! ([`Seen`]) and the SQL upsert ([`on_conflict_merge!`]) — and documented per column in
//! `docs/write-contract.md`.
//!
//! The rule is a join (commutative, associative, idempotent), so the row is a function of the
//! *set* of storable copies, never of their order, batching, cache, consumers or replays:
//! - **joined columns**, each on its own, unknown (NULL) never beating known: the four metrics,
//!   `author_id`, `username`, `location`, `lang` take the greatest known value (numbers by value,
//!   text by byte order, i.e. `COLLATE "C"`); `created_at` the earliest (a tweet was created no
//!   later than any copy of it says).
//! - **the winner's columns** (`text`, `raw`, `hashtags`, `is_retweet`, `format`, `content_hash`,
//!   `matched_rule`) come whole from one copy: the one with the greatest [`Rank`], an order over
//!   copies stored beside them in `copy_rank`. Two copies of equal rank are the same snapshot
//!   (equal metrics, equal raw message), so it does not matter which.
//! - **where it was read** (`kafka_partition`, `kafka_offset`): the earliest position of any copy,
//!   so a re-delivery or a replay of the same topic changes nothing.

use std::hash::BuildHasher as _;

use crate::db::row::{Rank, Row};

fn join<T: Ord>(into: &mut Option<T>, other: Option<T>) {
    if let Some(o) = other {
        match into {
            Some(i) if *i >= o => {}
            _ => *into = Some(o),
        }
    }
}

fn join_earliest<T: Ord>(into: &mut Option<T>, other: Option<T>) {
    if let Some(o) = other {
        match into {
            Some(i) if *i <= o => {}
            _ => *into = Some(o),
        }
    }
}

/// Joins `other` (a copy of the same id, or copies already merged) into `into`.
pub fn merge(into: &mut Row, other: Row) {
    let Row { tweet: o, raw, partition, offset, content_hash, matched_rule, rank, copies } = other;
    let t = &mut into.tweet;
    join(&mut t.retweet_count, o.retweet_count);
    join(&mut t.like_count, o.like_count);
    join(&mut t.reply_count, o.reply_count);
    join(&mut t.quote_count, o.quote_count);
    join(&mut t.author_id, o.author_id);
    join_earliest(&mut t.created_at, o.created_at);
    join(&mut t.username, o.username);
    join(&mut t.location, o.location);
    join(&mut t.lang, o.lang);
    if (partition, offset) < (into.partition, into.offset) {
        into.partition = partition;
        into.offset = offset;
    }
    if rank > into.rank {
        t.text = o.text;
        t.hashtags = o.hashtags;
        t.is_retweet = o.is_retweet;
        t.format = o.format;
        t.retweeted_text = o.retweeted_text;
        into.raw = raw;
        into.content_hash = content_hash;
        into.matched_rule = matched_rule;
        into.rank = rank;
    }
    into.copies.extend(copies);
}

/// What the de-duplication cache keeps of a committed row: enough to tell that a copy cannot
/// change it (and never more than that: strings are kept as hashes, so a different known string
/// is always written and left to the database to join).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    rank: Rank,
    /// The earliest position read.
    at: (i32, i64),
    metrics: [Option<i64>; 4],
    author_id: Option<i64>,
    created_at: Option<i64>,
    /// Hashes of username, location, lang; [`MANY`] once two different values were stored.
    strings: [Option<u64>; 3],
}

/// Two different known values were stored: the joined one is unknown to the cache.
const MANY: u64 = u64::MAX;

impl Seen {
    pub fn of(row: &Row) -> Self {
        let t = &row.tweet;
        Seen {
            rank: row.rank,
            at: (row.partition, row.offset),
            metrics: [t.retweet_count, t.like_count, t.reply_count, t.quote_count],
            author_id: t.author_id,
            created_at: t.created_at.map(|d| d.timestamp_micros()),
            strings: [string_hash(&t.username), string_hash(&t.location), string_hash(&t.lang)],
        }
    }

    /// Whether writing `copy` over a row at least this far along cannot change it.
    pub fn covers(&self, copy: &Seen) -> bool {
        let below = |c: &Option<i64>, s: &Option<i64>| c.is_none() || (s.is_some() && c <= s);
        copy.rank <= self.rank
            && copy.at >= self.at
            && copy.metrics.iter().zip(&self.metrics).all(|(c, s)| below(c, s))
            && below(&copy.author_id, &self.author_id)
            && (copy.created_at.is_none()
                || (self.created_at.is_some() && copy.created_at >= self.created_at))
            && copy
                .strings
                .iter()
                .zip(&self.strings)
                .all(|(c, s)| c.is_none() || (c == s && *s != Some(MANY)))
    }

    /// Joins a committed copy in.
    pub fn absorb(&mut self, other: Seen) {
        self.rank = self.rank.max(other.rank);
        self.at = self.at.min(other.at);
        for (s, o) in self.metrics.iter_mut().zip(other.metrics) {
            join(s, o);
        }
        join(&mut self.author_id, other.author_id);
        join_earliest(&mut self.created_at, other.created_at);
        for (s, o) in self.strings.iter_mut().zip(other.strings) {
            *s = match (*s, o) {
                (None, o) => o,
                (s, None) => s,
                (Some(a), Some(b)) if a == b => Some(a),
                _ => Some(MANY),
            };
        }
    }
}

fn string_hash(s: &Option<String>) -> Option<u64> {
    s.as_ref().map(|s| {
        // Compared only within this process: a fixed seed is enough, and much cheaper than SipHash.
        // MANY is reserved.
        foldhash::fast::FixedState::with_seed(0).hash_one(s).min(MANY - 1)
    })
}

/// The SQL side of the rule (a macro, so that it can be `concat!`ed into both write paths'
/// statements). `w` is "the incoming copy outranks the stored winner"; a row stored before
/// `copy_rank` existed has none and is outranked by any copy. The `WHERE` skips updates that
/// would change nothing, so a re-read leaves `updated_at` alone.
macro_rules! on_conflict_merge {
    () => {
        r#"
ON CONFLICT (id) DO UPDATE SET
    author_id       = GREATEST(t.author_id, EXCLUDED.author_id),
    username        = GREATEST(t.username COLLATE "C", EXCLUDED.username COLLATE "C"),
    created_at      = LEAST(t.created_at, EXCLUDED.created_at),
    retweet_count   = GREATEST(t.retweet_count, EXCLUDED.retweet_count),
    like_count      = GREATEST(t.like_count, EXCLUDED.like_count),
    reply_count     = GREATEST(t.reply_count, EXCLUDED.reply_count),
    quote_count     = GREATEST(t.quote_count, EXCLUDED.quote_count),
    location        = GREATEST(t.location COLLATE "C", EXCLUDED.location COLLATE "C"),
    lang            = GREATEST(t.lang COLLATE "C", EXCLUDED.lang COLLATE "C"),
    text            = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.text ELSE t.text END,
    hashtags        = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.hashtags ELSE t.hashtags END,
    is_retweet      = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.is_retweet ELSE t.is_retweet END,
    format          = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.format ELSE t.format END,
    raw             = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.raw ELSE t.raw END,
    kafka_partition = CASE WHEN (EXCLUDED.kafka_partition, EXCLUDED.kafka_offset) < (t.kafka_partition, t.kafka_offset) THEN EXCLUDED.kafka_partition ELSE t.kafka_partition END,
    kafka_offset    = CASE WHEN (EXCLUDED.kafka_partition, EXCLUDED.kafka_offset) < (t.kafka_partition, t.kafka_offset) THEN EXCLUDED.kafka_offset ELSE t.kafka_offset END,
    content_hash    = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.content_hash ELSE t.content_hash END,
    matched_rule    = CASE WHEN EXCLUDED.copy_rank > COALESCE(t.copy_rank, '') THEN EXCLUDED.matched_rule ELSE t.matched_rule END,
    copy_rank       = GREATEST(t.copy_rank, EXCLUDED.copy_rank),
    updated_at      = now()
WHERE EXCLUDED.copy_rank > COALESCE(t.copy_rank, '')
   OR (EXCLUDED.kafka_partition, EXCLUDED.kafka_offset) < (t.kafka_partition, t.kafka_offset)
   OR GREATEST(t.author_id, EXCLUDED.author_id) IS DISTINCT FROM t.author_id
   OR GREATEST(t.username COLLATE "C", EXCLUDED.username COLLATE "C") IS DISTINCT FROM t.username
   OR LEAST(t.created_at, EXCLUDED.created_at) IS DISTINCT FROM t.created_at
   OR GREATEST(t.retweet_count, EXCLUDED.retweet_count) IS DISTINCT FROM t.retweet_count
   OR GREATEST(t.like_count, EXCLUDED.like_count) IS DISTINCT FROM t.like_count
   OR GREATEST(t.reply_count, EXCLUDED.reply_count) IS DISTINCT FROM t.reply_count
   OR GREATEST(t.quote_count, EXCLUDED.quote_count) IS DISTINCT FROM t.quote_count
   OR GREATEST(t.location COLLATE "C", EXCLUDED.location COLLATE "C") IS DISTINCT FROM t.location
   OR GREATEST(t.lang COLLATE "C", EXCLUDED.lang COLLATE "C") IS DISTINCT FROM t.lang
"#
    };
}
pub(crate) use on_conflict_merge;

#[cfg(test)]
mod tests;
