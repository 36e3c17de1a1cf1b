//! Where each owned partition is read from: the database's offset ([`crate::db::offsets`]),
//! read when the partition is assigned (or when a batch of it was fenced), and followed message
//! by message from there, so each batch knows the [`Span`] its transaction fences.
//!
//! A partition is **pending** from its assignment until its offset is read; its messages are
//! held back meanwhile. Then:
//! - the database knows it at `n`: the member seeks there (unless the first message is at `n`
//!   anyway) after checking the topic still holds `n` — a gap (retention deleted what the
//!   database never got, or the topic was recreated) is a configuration error naming it, never
//!   a silent skip — and stores `n` for Kafka's next commit;
//! - the database does not know it: reading starts where Kafka says (the group's committed
//!   offset, or `--from`), and the first batch writes the partition's row.
//!
//! Messages below the database's offset were applied before (by this member or another):
//! dropped and counted as already applied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use sqlx::PgPool;
use tokio::time::Instant;
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::exit::Classified;

use crate::db::offsets::{self, Owner, Span};
use crate::group::{Assignment, GroupContext, SharedAssignment};

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The database's offset is not read yet; `dropped`: the first message held back.
    Pending { dropped: Option<i64> },
    /// The next message starts a span at this offset (`None`: at its own offset).
    At(Option<i64>),
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Into the batch; its partition's span in a batch starts at `start`.
    Take {
        epoch: u64,
        start: i64,
    },
    Drop,
}

pub(crate) struct Cursors {
    owner: Owner,
    pool: PgPool,
    consumer: Arc<StreamConsumer<GroupContext>>,
    assignment: SharedAssignment,
    /// Partition -> (epoch, state).
    by_partition: HashMap<i32, (u64, State)>,
    /// Messages dropped as already applied, for the run's summary.
    pub(crate) applied: Arc<AtomicU64>,
    /// While the database cannot be read: not before then.
    retry_at: Option<(Instant, Backoff)>,
}

impl Cursors {
    pub(crate) fn new(
        owner: Owner,
        pool: PgPool,
        consumer: Arc<StreamConsumer<GroupContext>>,
        assignment: SharedAssignment,
    ) -> Self {
        Self {
            owner,
            pool,
            consumer,
            assignment,
            by_partition: HashMap::new(),
            applied: Arc::new(AtomicU64::new(0)),
            retry_at: None,
        }
    }

    fn state(&mut self, a: &Assignment, partition: i32) -> State {
        let epoch = a.epoch(partition);
        let entry = self.by_partition.entry(partition).or_insert((epoch, State::Pending { dropped: None }));
        if entry.0 != epoch {
            *entry = (epoch, State::Pending { dropped: None });
        }
        entry.1
    }

    /// Decides a message's fate, reading its partition's offset first if it is pending. `Err`:
    /// the topic no longer holds what the database says comes next (exit 78).
    pub(crate) async fn admit(&mut self, a: &Assignment, m: &OwnedMessage) -> anyhow::Result<Admit> {
        let (p, offset) = (m.partition(), m.offset());
        if !a.partitions.contains(&p) {
            return Ok(Admit::Drop);
        }
        if let State::Pending { .. } = self.state(a, p) {
            self.resolve(a, &[p], Some(offset)).await?;
        }
        let epoch = a.epoch(p);
        let Some(entry) = self.by_partition.get_mut(&p) else { return Ok(Admit::Drop) };
        match entry.1 {
            State::Pending { dropped } => {
                entry.1 = State::Pending { dropped: Some(dropped.map_or(offset, |d| d.min(offset))) };
                Ok(Admit::Drop)
            }
            State::At(Some(next)) if offset < next => {
                self.applied.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("tweetpipe_already_applied_total").increment(1);
                metrics::counter!("tweetpipe_consumed_total").increment(1);
                Ok(Admit::Drop)
            }
            State::At(next) => {
                entry.1 = State::At(Some(offset + 1));
                Ok(Admit::Take { epoch, start: next.unwrap_or(offset) })
            }
        }
    }

    /// Reads the database's offset of every owned partition still pending (those with no
    /// message yet too: a group restored from a backup may have nothing new to read, yet the
    /// database is behind).
    pub(crate) async fn resolve_pending(&mut self, a: &Assignment) -> anyhow::Result<()> {
        let pending: Vec<i32> = a
            .partitions
            .iter()
            .copied()
            .filter(|&p| matches!(self.state(a, p), State::Pending { .. }))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        self.resolve(a, &pending, None).await
    }

    /// Reads the offsets of `partitions` and moves each to `At`, seeking where needed.
    /// `arriving`: the offset of a message of the (single) partition that is about to be
    /// admitted, which needs no seek when it is where the database says.
    async fn resolve(
        &mut self,
        a: &Assignment,
        partitions: &[i32],
        arriving: Option<i64>,
    ) -> anyhow::Result<()> {
        if self.retry_at.as_ref().is_some_and(|(at, _)| Instant::now() < *at) {
            return Ok(());
        }
        let known = match tokio::time::timeout(
            TIMEOUT,
            offsets::load(&self.pool, &self.owner, Some(partitions)),
        )
        .await
        {
            Ok(Ok(known)) => known,
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                let mut backoff = self.retry_at.take().map_or_else(Backoff::database_write, |(_, b)| b);
                let delay = backoff.next_delay();
                self.retry_at = Some((Instant::now() + delay, backoff));
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "cannot read the group's offsets from the database; partitions wait");
                return Ok(());
            }
        };
        self.retry_at = None;
        for &p in partitions {
            let epoch = a.epoch(p);
            let dropped = match self.by_partition.get(&p) {
                Some((e, State::Pending { dropped })) if *e == epoch => *dropped,
                _ => None,
            };
            let db = known.get(&p).copied();
            let state = match (db, dropped) {
                // Reading from where the database says already.
                (Some(n), None) if arriving == Some(n) => State::At(Some(n)),
                (Some(n), _) => {
                    self.seek(p, n, true).await?;
                    State::At(Some(n))
                }
                // Unknown to the database: from where Kafka put the member, messages held back
                // included.
                (None, Some(first)) => {
                    self.seek(p, first, false).await?;
                    State::At(None)
                }
                (None, None) => State::At(None),
            };
            if let Some(n) = db {
                self.follow(p, n);
            }
            tracing::info!(partition = p, database = ?db, "partition's offset read from the database");
            self.by_partition.insert(p, (epoch, state));
            if let Ok(mut shared) = self.assignment.lock() {
                shared.resolved.insert(p, (epoch, db));
            }
        }
        Ok(())
    }

    /// Stores the database's offset for Kafka's next commit. Batches store theirs as they commit,
    /// but when nothing is left to read (a revoked partition's last batch landed, or its member
    /// died between the two commits) no batch would, and lag tools and autoscalers reading
    /// Kafka's offsets would see lag that is not there, for as long as the partition stays idle.
    fn follow(&self, partition: i32, next: i64) {
        let mut tpl = TopicPartitionList::new();
        let stored = tpl
            .add_partition_offset(&self.owner.topic, partition, Offset::Offset(next))
            .and_then(|()| self.consumer.store_offsets(&tpl));
        if let Err(e) = stored {
            // Revoked meanwhile: its next owner stores it.
            tracing::debug!(partition, next, error = %e, "the database's offset not stored for Kafka");
        }
    }

    /// Seeks `partition` to `offset`; `checked`: the offset is the database's, which the topic
    /// must still hold.
    async fn seek(&self, partition: i32, offset: i64, checked: bool) -> anyhow::Result<()> {
        let (consumer, topic) = (self.consumer.clone(), self.owner.topic.clone());
        let group = self.owner.group.clone();
        tokio::task::spawn_blocking(move || {
            if checked {
                let (low, high) = consumer.fetch_watermarks(&topic, partition, TIMEOUT)?;
                if offset < low {
                    return Err(Classified::config(format!(
                        "partition {partition} of {topic}: the database says group {group} resumes at offset {offset}, \
                         but the topic starts at {low} now: messages {offset}..{low} were deleted (retention) before \
                         they reached the database. Restore a newer backup, or accept the gap with \
                         `tweetpipe-consumer replay --execute` (docs/operations.md, \"Restoring the database\")"
                    )));
                }
                if offset > high {
                    return Err(Classified::config(format!(
                        "partition {partition} of {topic}: the database says group {group} resumes at offset {offset}, \
                         past the topic's end ({high}): the topic was recreated or the database belongs to another \
                         cluster. Move the group's offsets with `tweetpipe-consumer replay --execute`"
                    )));
                }
            }
            consumer.seek(&topic, partition, Offset::Offset(offset), TIMEOUT)?;
            tracing::info!(partition, offset, "sought to the group's offset");
            anyhow::Ok(())
        })
        .await?
    }
}

/// One span per partition of a batch being gathered, with the epoch it was read in.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    by_partition: std::collections::BTreeMap<i32, (u64, Span)>,
}

impl Spans {
    /// Adds a taken message. `false` when the partition's epoch changed since the batch began
    /// reading it: the caller drops the partition's earlier messages, and the span restarts.
    pub(crate) fn add(&mut self, partition: i32, offset: i64, epoch: u64, start: i64) -> bool {
        let fresh = (epoch, Span { partition, start, end: offset + 1 });
        match self.by_partition.get_mut(&partition) {
            Some((e, span)) if *e == epoch => {
                span.end = offset + 1;
                true
            }
            Some(stale) => {
                *stale = fresh;
                false
            }
            None => {
                self.by_partition.insert(partition, fresh);
                true
            }
        }
    }

    pub(crate) fn into_spans(self) -> std::collections::BTreeMap<i32, Span> {
        self.by_partition.into_iter().map(|(p, (_, s))| (p, s)).collect()
    }
}

#[cfg(test)]
mod tests;
