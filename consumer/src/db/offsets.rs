//! The group's offsets in PostgreSQL (`consumer_offsets`): where each partition's next batch
//! starts, moved in the same transaction as the batch's rows, deletions and counts. This is what
//! makes delivery into the table exactly once (docs/delivery-guarantees.md):
//! - **the fence**: a transaction moves a partition's offset only from the value its batch
//!   started at. A stalled member (a zombie past its session timeout) or a batch read before
//!   the partition changed hands finds the offset moved, writes nothing for that partition, and
//!   its member re-reads from where the database says;
//! - **the start**: on assignment a member reads from here ([`load`]); a partition absent here
//!   starts where Kafka says (the group's committed offset or `--from`), and its first batch
//!   writes the row;
//! - `replay --execute` moves these as well as Kafka's ([`set`]).
//!
//! Kafka's committed offsets are still committed after each database commit, for lag tools and
//! the exporter; where the two differ, this table wins.

use std::collections::BTreeMap;

use sqlx::{PgConnection, PgPool};

/// Whose offsets: a consumer group reading a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub group: String,
    pub topic: String,
}

/// One partition's share of a batch: offsets `start..end` (end = last offset read + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

/// A partition whose offset was not where its batch started: nothing of it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fenced {
    pub partition: i32,
    /// Where the database says the partition's next batch starts.
    pub next: i64,
}

/// Moves each span's partition from `start` to `end`, within the caller's transaction, and
/// returns the partitions whose offset was elsewhere (left as they were). A partition seen for
/// the first time starts at its span's start. The rows stay locked until the transaction ends,
/// so a concurrent writer of the same partition waits, then finds the offset moved.
pub async fn fence(
    conn: &mut PgConnection,
    owner: &Owner,
    spans: &[Span],
) -> Result<Vec<Fenced>, sqlx::Error> {
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    // Locked in partition order: two transactions fencing several partitions do not deadlock.
    let mut spans = spans.to_vec();
    spans.sort_unstable_by_key(|s| s.partition);
    let partitions: Vec<i32> = spans.iter().map(|s| s.partition).collect();
    let starts: Vec<i64> = spans.iter().map(|s| s.start).collect();
    let ends: Vec<i64> = spans.iter().map(|s| s.end).collect();
    // Create what is missing at its start, then move what is where the batch began. Two
    // statements: at read committed the update's snapshot then includes a row another member
    // created meanwhile (the insert waited for it), so it is fenced, not overwritten.
    sqlx::query(
        "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
         SELECT $1, $2, p, s FROM unnest($3::int4[], $4::int8[]) AS t(p, s)
         ON CONFLICT DO NOTHING",
    )
    .bind(&owner.group)
    .bind(&owner.topic)
    .bind(&partitions)
    .bind(&starts)
    .execute(&mut *conn)
    .await?;
    let moved: Vec<(i32,)> = sqlx::query_as(
        "UPDATE consumer_offsets o SET next_offset = t.e, updated_at = now()
         FROM unnest($3::int4[], $4::int8[], $5::int8[]) AS t(p, s, e)
         WHERE o.group_id = $1 AND o.topic = $2 AND o.partition = t.p AND o.next_offset = t.s
         RETURNING o.partition",
    )
    .bind(&owner.group)
    .bind(&owner.topic)
    .bind(&partitions)
    .bind(&starts)
    .bind(&ends)
    .fetch_all(&mut *conn)
    .await?;
    if moved.len() == spans.len() {
        return Ok(Vec::new());
    }
    let moved: std::collections::HashSet<i32> = moved.into_iter().map(|(p,)| p).collect();
    let missed: Vec<i32> = partitions.into_iter().filter(|p| !moved.contains(p)).collect();
    let now = load(&mut *conn, owner, Some(&missed)).await?;
    // A row gone since the insert (a concurrent `replay`) is fenced too: read again.
    Ok(spans
        .iter()
        .filter(|s| missed.contains(&s.partition))
        .map(|s| Fenced { partition: s.partition, next: now.get(&s.partition).copied().unwrap_or(s.start) })
        .collect())
}

/// The database's offsets of `partitions` (those it has), or of every partition (`None`).
pub async fn load<'e, E: sqlx::PgExecutor<'e>>(
    db: E,
    owner: &Owner,
    partitions: Option<&[i32]>,
) -> Result<BTreeMap<i32, i64>, sqlx::Error> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT partition, next_offset FROM consumer_offsets
         WHERE group_id = $1 AND topic = $2 AND ($3::int4[] IS NULL OR partition = ANY($3))",
    )
    .bind(&owner.group)
    .bind(&owner.topic)
    .bind(partitions)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Sets the group's offsets (`replay --execute`, `run --from` on a fresh group).
pub async fn set(pool: &PgPool, owner: &Owner, targets: &BTreeMap<i32, i64>) -> Result<(), sqlx::Error> {
    let partitions: Vec<i32> = targets.keys().copied().collect();
    let offsets: Vec<i64> = targets.values().copied().collect();
    sqlx::query(
        "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
         SELECT $1, $2, p, o FROM unnest($3::int4[], $4::int8[]) AS t(p, o)
         ON CONFLICT (group_id, topic, partition)
         DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
    )
    .bind(&owner.group)
    .bind(&owner.topic)
    .bind(&partitions)
    .bind(&offsets)
    .execute(pool)
    .await?;
    Ok(())
}
