//! Where batches are written at once: `--db-writers` lanes, each a task that writes one
//! transaction at a time on its own connection (through the one [`Writer`]).
//!
//! A batch is split by partition, and a partition always goes to the same lane: its offset
//! moves in the transaction that writes its messages ([`crate::db::offsets`]), one batch after
//! the other, so a partition's transactions never wait on each other. Tweets are keyed by id,
//! so a tweet's copies share a partition and two lanes rarely touch one row; when they do, rows
//! are locked in id order and a deadlock is retried like any outage. Each lane moves on to its
//! part of the next batch as soon as its part of this one is written, so the database works on
//! every core while earlier batches finish.

use std::collections::BTreeMap;
use std::sync::Arc;

use rdkafka::message::{Message as _, OwnedMessage};
use tokio::sync::{mpsc, oneshot};

use crate::db::offsets::Span;
use crate::db::part::{Part, Slice};
use crate::db::row::Row;
use crate::db::writer::{Writer, Written};
use crate::prepare::Prepared;

/// One part of a batch, and where it goes back with what the database did (`None`: given up
/// at shutdown).
struct Job {
    part: Part,
    done: oneshot::Sender<(Part, Option<Written>)>,
}

pub struct Lanes {
    lanes: Vec<mpsc::UnboundedSender<Job>>,
}

impl Lanes {
    /// Starts `count` lanes (at least one). They end when `Lanes` is dropped.
    pub fn spawn(writer: Arc<Writer>, count: usize) -> Self {
        let lanes = (0..count.max(1))
            .map(|_| {
                let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
                let writer = writer.clone();
                tokio::spawn(async move {
                    while let Some(Job { part, done }) = rx.recv().await {
                        let written = writer.write(&part).await;
                        // The batch is gone when shutdown gave up on it: nobody to tell.
                        let _ = done.send((part, written));
                    }
                });
                tx
            })
            .collect();
        Self { lanes }
    }

    pub fn count(&self) -> usize {
        self.lanes.len()
    }

    /// Queues a settled batch on the lanes, one part per lane holding whole partitions: every
    /// partition of `spans` gets its offset moved, even when none of its messages is a row.
    pub fn submit(
        &self,
        prepared: &mut Prepared,
        spans: &BTreeMap<i32, Span>,
        messages: &Arc<Vec<OwnedMessage>>,
    ) -> Parts {
        let n = self.lanes.len();
        let mut parts: Vec<Part> =
            (0..n).map(|_| Part { messages: messages.clone(), ..Part::default() }).collect();
        for row in std::mem::take(&mut prepared.rows) {
            parts[lane(row.partition, n)].rows.push(row);
        }
        for (&id, &index) in prepared.deletes.iter().zip(&prepared.delete_index) {
            let p = messages[index].partition();
            parts[lane(p, n)].deletes.push((p, id));
        }
        for r in &prepared.rejected {
            parts[lane(messages[r.index].partition(), n)].rejected.push(r.clone());
        }
        for (&p, &span) in spans {
            let share = prepared.shares.get(&p).copied().unwrap_or_default();
            parts[lane(p, n)].slices.push(Slice { span, share });
        }
        let mut pending = Vec::new();
        for (lane, mut part) in self.lanes.iter().zip(parts) {
            // Rows locked in id order: two groups writing the same ids do not deadlock.
            part.rows.sort_unstable_by_key(|r: &Row| r.tweet.id);
            if part.rows.is_empty() && part.deletes.is_empty() && part.slices.is_empty() {
                continue;
            }
            let (done, answer) = oneshot::channel();
            // A lane ends only when `Lanes` is dropped; a send that fails leaves the receiver
            // closed, which reads as given up.
            let _ = lane.send(Job { part, done });
            pending.push(answer);
        }
        Parts { pending }
    }
}

/// A batch's parts, being written.
pub struct Parts {
    pending: Vec<oneshot::Receiver<(Part, Option<Written>)>>,
}

impl Parts {
    /// Waits for every part: the rows, part after part, and what the database did to them.
    /// `None` when shutdown gave up on any part.
    pub async fn done(self) -> Option<(Vec<Row>, Written)> {
        let mut rows = Vec::new();
        let mut total = Written::default();
        for answer in self.pending {
            let (part, written) = answer.await.ok()?;
            let written = written?;
            total.outcome += written.outcome;
            total.refused.extend(written.refused);
            total.transactions += written.transactions;
            total.retries += written.retries;
            total.fenced.extend(written.fenced);
            total.counts += written.counts;
            total.letters.extend(written.letters);
            rows.extend(part.rows);
        }
        Some((rows, total))
    }
}

/// The lane of a partition.
fn lane(partition: i32, lanes: usize) -> usize {
    partition.rem_euclid(lanes as i32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_always_takes_the_same_lane_and_partitions_spread_evenly() {
        let mut per_lane = [0usize; 3];
        for p in 0..12 {
            assert_eq!(lane(p, 3), lane(p, 3));
            per_lane[lane(p, 3)] += 1;
        }
        assert_eq!(per_lane, [4, 4, 4]);
        assert!((0..12).all(|p| lane(p, 1) == 0));
    }
}
