//! The batch upsert: one transaction per batch, two interchangeable write paths.
//!
//! [`upsert`] is what the consumer calls; [`WRITE_PATH`] picks the path. Here, the `UNNEST`
//! path: rows are passed as parallel arrays and expanded with `UNNEST`, so a batch of any size
//! is a single statement. [`super::copy_upsert`] is the binary `COPY` path. Both apply the same
//! newer-wins rule (`on_conflict_newer_wins!` in `db/mod.rs`): a stored tweet is updated only by
//! a copy carrying newer data; metrics never go backwards; a re-delivered or replayed older copy
//! changes nothing. The integration test `write_paths` checks that both leave identical tables.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tweetpipe_model::tweet::Tweet;

/// One row to upsert: the parsed tweet plus where it was read.
#[derive(Debug, Clone)]
pub struct Row {
    pub tweet: Tweet,
    /// The message value, stored as JSONB.
    pub raw: String,
    pub partition: i32,
    pub offset: i64,
    /// Fingerprint of the normalised text (content de-duplication).
    pub content_hash: i64,
    /// The filter rule it matched, in `flag` mode.
    pub matched_rule: Option<String>,
}

/// What a batch did to the table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// New rows.
    pub inserted: u64,
    /// Existing rows that received newer data.
    pub updated: u64,
    /// New rows linked to an earlier tweet with the same content (`--dedup content`).
    pub content_duplicates: u64,
}

/// Outcomes of a batch's parts add up to the batch's.
impl std::ops::AddAssign for Outcome {
    fn add_assign(&mut self, o: Outcome) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.content_duplicates += o.content_duplicates;
    }
}

const UPSERT: &str = concat!(
    r#"
INSERT INTO tweets AS t (
    id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
    quote_count, location, lang, hashtags, is_retweet, format, raw, kafka_partition, kafka_offset,
    content_hash, matched_rule, duplicate_of)
SELECT u.id, u.author_id, u.username, u.created_at, u.text, u.retweet_count, u.like_count,
       u.reply_count, u.quote_count, u.location, u.lang,
       -- A text[] per row cannot travel inside UNNEST (it would flatten): every row's tags go
       -- in one array, and each row takes its slice (empty when it has none).
       ($21::text[])[u.tag_from : u.tag_from + u.tag_count - 1],
       u.is_retweet, u.format, u.raw::jsonb, u.kafka_partition, u.kafka_offset,
       u.content_hash, u.matched_rule,
       -- --dedup content: the earliest tweet with the same fingerprint, stored or in this batch.
       CASE WHEN $20 THEN LEAST(
           (SELECT min(s.id) FROM tweets s WHERE s.content_hash = u.content_hash AND s.id < u.id),
           (SELECT min(b.id) FROM UNNEST($1::int8[], $18::int8[]) AS b(id, content_hash)
             WHERE b.content_hash = u.content_hash AND b.id < u.id)) END
FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::int8[],
            $7::int8[], $8::int8[], $9::int8[], $10::text[], $11::text[], $12::int4[],
            $13::bool[], $14::text[], $15::text[], $16::int4[], $17::int8[], $18::int8[],
            $19::text[], $22::int4[])
     AS u(id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
          quote_count, location, lang, tag_from, is_retweet, format, raw, kafka_partition,
          kafka_offset, content_hash, matched_rule, tag_count)
-- X deleted it: it never comes back.
WHERE NOT EXISTS (SELECT 1 FROM deleted_tweets d WHERE d.id = u.id)
"#,
    on_conflict_newer_wins!(),
    "RETURNING (xmax = 0) AS inserted, (duplicate_of IS NOT NULL) AS linked
"
);

/// How batches are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// One `INSERT … SELECT FROM UNNEST($1, …)` with the rows as array parameters.
    Unnest,
    /// Binary `COPY` into a staging table, then one `INSERT … SELECT` from it.
    Copy,
}

/// The path [`upsert`] takes.
pub const WRITE_PATH: WritePath = WritePath::Copy;

/// Upserts `rows` (ids must be unique within the batch) in one transaction. With
/// `link_content`, new rows are linked to the earliest tweet with the same content.
pub async fn upsert(pool: &PgPool, rows: &[Row], link_content: bool) -> Result<Outcome, sqlx::Error> {
    match WRITE_PATH {
        WritePath::Unnest => unnest(pool, rows, link_content).await,
        WritePath::Copy => super::copy_upsert::write(pool, rows, link_content).await,
    }
}

/// The `UNNEST` path of [`upsert`].
pub async fn unnest(pool: &PgPool, rows: &[Row], link_content: bool) -> Result<Outcome, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Outcome::default());
    }
    let n = rows.len();
    let mut ids = Vec::with_capacity(n);
    let mut author_ids: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut usernames: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut created: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(n);
    let mut texts: Vec<&str> = Vec::with_capacity(n);
    let mut retweets: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut likes: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut quotes: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut locations: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut langs: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut tags: Vec<&str> = Vec::new();
    let mut tag_from: Vec<i32> = Vec::with_capacity(n);
    let mut tag_count: Vec<i32> = Vec::with_capacity(n);
    let mut retweet_flags = Vec::with_capacity(n);
    let mut formats: Vec<&str> = Vec::with_capacity(n);
    let mut raws: Vec<&str> = Vec::with_capacity(n);
    let mut partitions = Vec::with_capacity(n);
    let mut offsets = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    let mut rules: Vec<Option<&str>> = Vec::with_capacity(n);
    for row in rows {
        let t = &row.tweet;
        ids.push(t.id);
        author_ids.push(t.author_id);
        usernames.push(t.username.as_deref());
        created.push(t.created_at);
        texts.push(&t.text);
        retweets.push(t.retweet_count);
        likes.push(t.like_count);
        replies.push(t.reply_count);
        quotes.push(t.quote_count);
        locations.push(t.location.as_deref());
        langs.push(t.lang.as_deref());
        // PostgreSQL arrays are 1-based.
        tag_from.push(tags.len() as i32 + 1);
        tag_count.push(t.hashtags.len() as i32);
        tags.extend(t.hashtags.iter().map(String::as_str));
        retweet_flags.push(t.is_retweet);
        formats.push(t.format.as_str());
        raws.push(&row.raw);
        partitions.push(row.partition);
        offsets.push(row.offset);
        hashes.push(row.content_hash);
        rules.push(row.matched_rule.as_deref());
    }
    let mut tx = pool.begin().await?;
    let flags: Vec<(bool, bool)> = sqlx::query_as(UPSERT)
        .bind(&ids)
        .bind(&author_ids)
        .bind(&usernames)
        .bind(&created)
        .bind(&texts)
        .bind(&retweets)
        .bind(&likes)
        .bind(&replies)
        .bind(&quotes)
        .bind(&locations)
        .bind(&langs)
        .bind(&tag_from)
        .bind(&retweet_flags)
        .bind(&formats)
        .bind(&raws)
        .bind(&partitions)
        .bind(&offsets)
        .bind(&hashes)
        .bind(&rules)
        .bind(link_content)
        .bind(&tags)
        .bind(&tag_count)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let inserted = flags.iter().filter(|f| f.0).count() as u64;
    let content_duplicates = flags.iter().filter(|f| f.0 && f.1).count() as u64;
    Ok(Outcome { inserted, updated: flags.len() as u64 - inserted, content_duplicates })
}
