//! The binary `COPY` write path: the same inputs, outputs and merge rule as its sibling
//! [`super::unnest`], with the rows sent in PostgreSQL's binary `COPY` format: numbers
//! and timestamps as their binary values, text as its bytes, no array parameters built or
//! parsed.
//!
//! Most rows of a batch are tweets never seen before. Those are `COPY`'d straight into
//! `tweets`, with no staging table and no `ON CONFLICT` ([`fresh_first`]); only the rows whose
//! ids are stored already take the upsert: `COPY` into a per-connection temporary staging
//! table, then one `INSERT … SELECT … ON CONFLICT` ([`merge_staged`]). Should another writer
//! store one of the new ids in between (another group member during a rebalance, a replay in
//! another group), the unique index refuses the `COPY` and the batch is written again the
//! staged way (within a savepoint, so the caller's transaction goes on).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Connection as _, PgConnection};

use super::row::{Outcome, Row};

/// Makes sure this connection has its staging table (created once per connection;
/// `ON COMMIT DELETE ROWS` empties it at every commit that touched it). The notice "already
/// exists, skipping" is kept out of the logs. Emptied first: an earlier part of the same
/// transaction (records isolated one savepoint at a time) may have staged rows already.
const STAGING: &str = "SET LOCAL client_min_messages = warning; \
    CREATE TEMP TABLE IF NOT EXISTS tweets_staging \
    (LIKE tweets INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DELETE ROWS; \
    DELETE FROM tweets_staging";

/// The columns [`encode`] writes, in its order.
const COLUMNS: &str = "(id, author_id, username, created_at, text, retweet_count, like_count, \
    reply_count, quote_count, location, lang, hashtags, is_retweet, format, raw, kafka_partition, \
    kafka_offset, content_hash, matched_rule, copy_rank) FROM STDIN (FORMAT binary)";
const FIELDS: i16 = 20;

/// Which of the ids are stored (false) or were deleted (true).
///
/// This and [`MERGE`] are planned afresh each time (`persistent(false)`): a prepared
/// statement's cached plan, made while `tweets` was still small, scans the whole table, and
/// keeps doing so as it grows until autovacuum's next ANALYZE (up to a minute). Seen as write
/// times growing from 1 to 7 ms over a 60 000-row latency run.
const KNOWN: &str = "SELECT id, false FROM tweets WHERE id = ANY($1) \
    UNION ALL SELECT id, true FROM deleted_tweets WHERE id = ANY($1)";

const MERGE: &str = concat!(
    r#"
WITH written AS (
INSERT INTO tweets AS t (
    id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
    quote_count, location, lang, hashtags, is_retweet, format, raw, kafka_partition, kafka_offset,
    content_hash, matched_rule, copy_rank, duplicate_of)
SELECT s.id, s.author_id, s.username, s.created_at, s.text, s.retweet_count, s.like_count,
       s.reply_count, s.quote_count, s.location, s.lang, s.hashtags, s.is_retweet, s.format,
       s.raw, s.kafka_partition, s.kafka_offset, s.content_hash, s.matched_rule, s.copy_rank,
       -- --dedup content: the earliest tweet with the same fingerprint, stored or in this batch.
       CASE WHEN $1 THEN LEAST(
           (SELECT min(o.id) FROM tweets o WHERE o.content_hash = s.content_hash AND o.id < s.id),
           (SELECT min(b.id) FROM tweets_staging b WHERE b.content_hash = s.content_hash AND b.id < s.id)) END
FROM tweets_staging s
-- X deleted it: it never comes back.
WHERE NOT EXISTS (SELECT 1 FROM deleted_tweets d WHERE d.id = s.id)"#,
    crate::merge::on_conflict_merge!(),
    "RETURNING (xmax = 0) AS inserted, (duplicate_of IS NOT NULL) AS linked
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
       count(*) FILTER (WHERE inserted AND linked)
FROM written
"
);

/// Upserts `rows` (ids must be unique within the batch) through binary `COPY`, within the
/// caller's transaction. With `link_content`, new rows are linked to the earliest tweet with the
/// same content (always the staged way: the links look across the batch).
pub async fn write(
    conn: &mut PgConnection,
    rows: &[Row],
    link_content: bool,
) -> Result<Outcome, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Outcome::default());
    }
    if !link_content {
        let mut savepoint = conn.begin().await?;
        match fresh_first(&mut savepoint, rows).await {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNIQUE_VIOLATION) => {
                savepoint.rollback().await?;
                tracing::debug!("a new tweet of the batch was stored meanwhile; writing it the staged way");
            }
            Err(e) => return Err(e),
            Ok(done) => {
                savepoint.commit().await?;
                return Ok(done);
            }
        }
    }
    let all: Vec<&Row> = rows.iter().collect();
    merge_staged(conn, &all, link_content).await
}

const UNIQUE_VIOLATION: &str = "23505";

/// New tweets straight into `tweets`; stored ones through [`merge_staged`]; deleted ones not at
/// all.
async fn fresh_first(conn: &mut PgConnection, rows: &[Row]) -> Result<Outcome, sqlx::Error> {
    let ids: Vec<i64> = rows.iter().map(|r| r.tweet.id).collect();
    let known: HashMap<i64, bool> =
        sqlx::query_as(KNOWN).bind(&ids).persistent(false).fetch_all(&mut *conn).await?.into_iter().collect();
    let fresh: Vec<&Row> = rows.iter().filter(|r| !known.contains_key(&r.tweet.id)).collect();
    let inserted = copy_into(conn, "tweets", &fresh).await?;
    let stored: Vec<&Row> = rows.iter().filter(|r| known.get(&r.tweet.id) == Some(&false)).collect();
    let mut outcome = merge_staged(conn, &stored, false).await?;
    outcome.inserted += inserted;
    Ok(outcome)
}

/// `COPY`s `rows` into `table`; returns how many.
async fn copy_into(conn: &mut PgConnection, table: &str, rows: &[&Row]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let (data, _) = encode(rows.iter().copied()).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut copy = conn.copy_in_raw(&format!("COPY {table} {COLUMNS}")).await?;
    copy.send(data).await?;
    copy.finish().await
}

/// Upserts `rows` through this connection's staging table, within the caller's transaction.
async fn merge_staged(
    conn: &mut PgConnection,
    rows: &[&Row],
    link_content: bool,
) -> Result<Outcome, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Outcome::default());
    }
    // Several statements: a simple query (a `&str` with no arguments goes as one).
    sqlx::Executor::execute(&mut *conn, STAGING).await?;
    // A field too large for the format is the record's fault: an encode error, which the
    // caller isolates like any other refused record.
    copy_into(conn, "tweets_staging", rows).await?;
    let (inserted, updated, linked): (i64, i64, i64) =
        sqlx::query_as(MERGE).bind(link_content).persistent(false).fetch_one(&mut *conn).await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Outcome { inserted: count(inserted), updated: count(updated), content_duplicates: count(linked) })
}

/// A value longer than a binary `COPY` field can hold (2 GiB).
#[derive(Debug, thiserror::Error)]
#[error("a field of tweet {id} is {len} bytes, more than PostgreSQL's COPY can take")]
pub(crate) struct FieldTooLarge {
    id: i64,
    len: usize,
}

/// The rows in PostgreSQL's binary `COPY` format, in [`COLUMNS`]' order, and how many.
pub(crate) fn encode<'a>(rows: impl Iterator<Item = &'a Row>) -> Result<(Vec<u8>, u64), FieldTooLarge> {
    let mut out = Encoder { buf: Vec::new(), id: 0 };
    out.header();
    let mut n = 0;
    for row in rows {
        n += 1;
        out.buf.reserve(row.raw.len() + row.tweet.text.len() + 256);
        let t = &row.tweet;
        out.id = t.id;
        out.buf.extend_from_slice(&FIELDS.to_be_bytes());
        out.int8(Some(t.id));
        out.int8(t.author_id);
        out.text(t.username.as_deref())?;
        out.timestamptz(t.created_at);
        out.text(Some(&t.text))?;
        out.int8(t.retweet_count);
        out.int8(t.like_count);
        out.int8(t.reply_count);
        out.int8(t.quote_count);
        out.text(t.location.as_deref())?;
        out.text(t.lang.as_deref())?;
        out.text_array(&t.hashtags)?;
        out.bool(t.is_retweet);
        out.text(Some(t.format.as_str()))?;
        out.jsonb(&row.raw)?;
        out.int4(row.partition);
        out.int8(Some(row.offset));
        out.int8(Some(row.content_hash));
        out.text(row.matched_rule.as_deref())?;
        out.bytea(&row.rank.0);
    }
    // The trailer: a field count of -1.
    out.buf.extend_from_slice(&(-1i16).to_be_bytes());
    Ok((out.buf, n))
}

/// PostgreSQL's epoch (2000-01-01T00:00:00Z) in Unix microseconds.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// The `text` type's OID, for array headers.
const TEXT_OID: i32 = 25;
/// `jsonb`'s binary format: a version byte, then the JSON text.
const JSONB_VERSION: u8 = 1;

struct Encoder {
    buf: Vec<u8>,
    /// The tweet being encoded, for the error.
    id: i64,
}

impl Encoder {
    fn header(&mut self) {
        self.buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
    }

    fn len(&self, len: usize) -> Result<i32, FieldTooLarge> {
        i32::try_from(len).map_err(|_| FieldTooLarge { id: self.id, len })
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn int8(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.buf.extend_from_slice(&8i32.to_be_bytes());
                self.buf.extend_from_slice(&v.to_be_bytes());
            }
            None => self.null(),
        }
    }

    fn int4(&mut self, v: i32) {
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
    }

    fn text(&mut self, v: Option<&str>) -> Result<(), FieldTooLarge> {
        match v {
            Some(v) => {
                let len = self.len(v.len())?;
                self.buf.extend_from_slice(&len.to_be_bytes());
                self.buf.extend_from_slice(v.as_bytes());
            }
            None => self.null(),
        }
        Ok(())
    }

    /// Microseconds since PostgreSQL's epoch; out-of-range dates saturate to ±infinity.
    fn timestamptz(&mut self, v: Option<DateTime<Utc>>) {
        self.int8(v.map(|t| t.timestamp_micros().saturating_sub(PG_EPOCH_MICROS)));
    }

    fn bytea(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(v);
    }

    fn jsonb(&mut self, json: &str) -> Result<(), FieldTooLarge> {
        let len = self.len(json.len() + 1)?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.push(JSONB_VERSION);
        self.buf.extend_from_slice(json.as_bytes());
        Ok(())
    }

    /// A one-dimensional `text[]` without NULLs (an empty one has no dimension at all).
    fn text_array(&mut self, items: &[String]) -> Result<(), FieldTooLarge> {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // the length, filled in below
        let dims = i32::from(!items.is_empty());
        self.buf.extend_from_slice(&dims.to_be_bytes());
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // has no NULLs
        self.buf.extend_from_slice(&TEXT_OID.to_be_bytes());
        if !items.is_empty() {
            let count = self.len(items.len())?;
            self.buf.extend_from_slice(&count.to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
            for item in items {
                self.text(Some(item))?;
            }
        }
        let len = self.len(self.buf.len() - at - 4)?;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
