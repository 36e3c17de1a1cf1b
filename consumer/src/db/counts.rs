//! Deletions, and the tweet count (`ingest_counts`, `stats`).
//!
//! Deletions serialise with upserts of any id, across every process writing to the database:
//! a transaction that upserts takes [`DELETIONS_LOCK`] shared before it reads `deleted_tweets`,
//! one that deletes takes it exclusive. So an upsert either commits before a deletion starts
//! (and the deletion removes its row) or starts after the deletion committed (and sees the id in
//! `deleted_tweets`): a deleted tweet never stays in `tweets`, whichever group commits first.
//! Deletions are rare beside upserts, and upserts share the lock among themselves.

use sqlx::{PgConnection, PgPool};

/// The advisory lock key (`pg_advisory_xact_lock`'s bigint form): "tweetpipe deletions".
pub const DELETIONS_LOCK: i64 = 0x7477_6565_7470_6970;

/// Takes the deletions lock for this transaction: exclusive to delete, shared to upsert.
pub async fn lock(conn: &mut PgConnection, deleting: bool) -> Result<(), sqlx::Error> {
    let sql =
        if deleting { "SELECT pg_advisory_xact_lock($1)" } else { "SELECT pg_advisory_xact_lock_shared($1)" };
    sqlx::query(sql).bind(DELETIONS_LOCK).execute(conn).await?;
    Ok(())
}

/// Deletes the rows of tweets X deleted and remembers the ids, so no replay brings them back,
/// within the caller's transaction (which holds the deletions lock exclusive). Returns how many
/// rows were deleted.
pub async fn apply_deletes(conn: &mut PgConnection, ids: &[i64]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    sqlx::query("INSERT INTO deleted_tweets (id) SELECT unnest($1::int8[]) ON CONFLICT DO NOTHING")
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query("DELETE FROM tweets WHERE id = ANY($1)").bind(ids).execute(&mut *conn).await?;
    Ok(deleted.rows_affected())
}

/// What a transaction adds to `ingest_counts`: the messages its spans cover, by fate.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub seen: u64,
    pub duplicates: u64,
    pub content_duplicates: u64,
    pub filtered: u64,
    pub flagged: u64,
    pub deleted: u64,
    pub dead_lettered: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.seen += o.seen;
        self.duplicates += o.duplicates;
        self.content_duplicates += o.content_duplicates;
        self.filtered += o.filtered;
        self.flagged += o.flagged;
        self.deleted += o.deleted;
        self.dead_lettered += o.dead_lettered;
    }
}

/// Adds `c` to the current hour, within the caller's transaction: the counts move with the
/// offsets they cover, so a message is counted once however often it is read.
pub async fn add(conn: &mut PgConnection, c: &Counts) -> Result<(), sqlx::Error> {
    if c.seen == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ingest_counts AS c (hour, seen, duplicates, content_duplicates, filtered, flagged, deleted, dead_lettered)
         VALUES (date_trunc('hour', now()), $1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (hour) DO UPDATE SET
           seen = c.seen + EXCLUDED.seen, duplicates = c.duplicates + EXCLUDED.duplicates,
           content_duplicates = c.content_duplicates + EXCLUDED.content_duplicates,
           filtered = c.filtered + EXCLUDED.filtered, flagged = c.flagged + EXCLUDED.flagged,
           deleted = c.deleted + EXCLUDED.deleted, dead_lettered = c.dead_lettered + EXCLUDED.dead_lettered",
    )
    .bind(c.seen as i64)
    .bind(c.duplicates as i64)
    .bind(c.content_duplicates as i64)
    .bind(c.filtered as i64)
    .bind(c.flagged as i64)
    .bind(c.deleted as i64)
    .bind(c.dead_lettered as i64)
    .execute(conn)
    .await?;
    Ok(())
}

/// One line of `stats`.
pub type StatsRow = (String, i64, i64, i64, i64, i64, i64, i64, i64);

/// The totals, then one row per hour or day (newest first).
pub async fn stats(pool: &PgPool, by_day: bool) -> Result<(StatsRow, Vec<StatsRow>), sqlx::Error> {
    let (view, key) = if by_day { ("tweet_counts_daily", "day") } else { ("tweet_counts_hourly", "hour") };
    let cols = "sum(seen)::int8, sum(stored)::int8, sum(duplicates)::int8, sum(content_duplicates)::int8, \
                sum(filtered)::int8, sum(flagged)::int8, sum(deleted)::int8, sum(dead_lettered)::int8";
    let total: StatsRow = sqlx::query_as(&format!(
        "SELECT 'total', coalesce(sum(seen), 0)::int8, coalesce(sum(stored), 0)::int8,
                coalesce(sum(duplicates), 0)::int8, coalesce(sum(content_duplicates), 0)::int8,
                coalesce(sum(filtered), 0)::int8, coalesce(sum(flagged), 0)::int8,
                coalesce(sum(deleted), 0)::int8, coalesce(sum(dead_lettered), 0)::int8 FROM {view}"
    ))
    .fetch_one(pool)
    .await?;
    let rows: Vec<StatsRow> = sqlx::query_as(&format!(
        "SELECT to_char({key}, 'YYYY-MM-DD HH24:00'), {cols} FROM {view} GROUP BY {key} ORDER BY {key} DESC"
    ))
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}
