//! The `UNNEST` write path: rows are passed as parallel arrays and expanded with `UNNEST`, so a
//! batch of any size is a single statement. Its sibling [`super::copy_upsert`] sends the same rows
//! through binary `COPY`; both apply the one merge rule ([`crate::merge`]), and the integration
//! test `write_paths` checks that they leave identical tables.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::row::{Outcome, Row};

const UPSERT: &str = concat!(
    r#"
INSERT INTO tweets AS t (
    id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
    quote_count, location, lang, hashtags, is_retweet, format, raw, kafka_partition, kafka_offset,
    content_hash, matched_rule, copy_rank, duplicate_of)
SELECT u.id, u.author_id, u.username, u.created_at, u.text, u.retweet_count, u.like_count,
       u.reply_count, u.quote_count, u.location, u.lang,
       -- A text[] per row cannot travel inside UNNEST (it would flatten): every row's tags go
       -- in one array, and each row takes its slice (empty when it has none).
       ($21::text[])[u.tag_from : u.tag_from + u.tag_count - 1],
       u.is_retweet, u.format, u.raw::jsonb, u.kafka_partition, u.kafka_offset,
       u.content_hash, u.matched_rule, u.copy_rank,
       -- --dedup content: the earliest tweet with the same fingerprint, stored or in this batch.
       CASE WHEN $20 THEN LEAST(
           (SELECT min(s.id) FROM tweets s WHERE s.content_hash = u.content_hash AND s.id < u.id),
           (SELECT min(b.id) FROM UNNEST($1::int8[], $18::int8[]) AS b(id, content_hash)
             WHERE b.content_hash = u.content_hash AND b.id < u.id)) END
FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::int8[],
            $7::int8[], $8::int8[], $9::int8[], $10::text[], $11::text[], $12::int4[],
            $13::bool[], $14::text[], $15::text[], $16::int4[], $17::int8[], $18::int8[],
            $19::text[], $22::int4[], $23::bytea[])
     AS u(id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
          quote_count, location, lang, tag_from, is_retweet, format, raw, kafka_partition,
          kafka_offset, content_hash, matched_rule, tag_count, copy_rank)
-- X deleted it: it never comes back.
WHERE NOT EXISTS (SELECT 1 FROM deleted_tweets d WHERE d.id = u.id)
"#,
    crate::merge::on_conflict_merge!(),
    "RETURNING (xmax = 0) AS inserted, (duplicate_of IS NOT NULL) AS linked
"
);

/// Upserts `rows` (ids unique) within the caller's transaction.
pub async fn write(
    conn: &mut PgConnection,
    rows: &[Row],
    link_content: bool,
) -> Result<Outcome, sqlx::Error> {
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
    let mut ranks: Vec<&[u8]> = Vec::with_capacity(n);
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
        ranks.push(&row.rank.0);
    }
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
        .bind(&ranks)
        .fetch_all(&mut *conn)
        .await?;
    let inserted = flags.iter().filter(|f| f.0).count() as u64;
    let content_duplicates = flags.iter().filter(|f| f.0 && f.1).count() as u64;
    Ok(Outcome { inserted, updated: flags.len() as u64 - inserted, content_duplicates })
}
