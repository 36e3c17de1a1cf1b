//! Where batches are written at once: `--db-writers` lanes, each a task that writes one
//! transaction at a time on its own connection (through the one [`Writer`]).
//!
//! A batch's rows are split by tweet id, and a tweet always goes to the same lane, so no two
//! transactions at once ever touch the same row: they never wait on each other nor deadlock
//! (PostgreSQL's `INSERT … ON CONFLICT` can deadlock on two batches sharing keys even in the
//! same order), and each lane moves on to its part of the next batch as soon as its part of
//! this one is written, so the database works on every core while earlier batches finish.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::db::row::Row;
use crate::db::writer::{Writer, Written};

/// One part of a batch: its rows, the batch's deletions (with the first part only), and where
/// the rows go back with what the database did (`None`: given up at shutdown).
struct Job {
    rows: Vec<Row>,
    deletes: Vec<i64>,
    done: oneshot::Sender<(Vec<Row>, Option<Written>)>,
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
                    while let Some(Job { rows, deletes, done }) = rx.recv().await {
                        let written = writer.write(&rows, &deletes).await;
                        // The batch is gone when shutdown gave up on it: nobody to tell.
                        let _ = done.send((rows, written));
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

    /// Queues a batch's rows (one per id) on the lanes; deletions go with the first part.
    pub fn submit(&self, rows: Vec<Row>, deletes: Vec<i64>) -> Parts {
        let mut parts: Vec<Vec<Row>> = (0..self.lanes.len()).map(|_| Vec::new()).collect();
        for row in rows {
            parts[lane(row.tweet.id, self.lanes.len())].push(row);
        }
        let mut deletes = Some(deletes).filter(|d| !d.is_empty());
        let mut pending = Vec::new();
        for (lane, mut rows) in self.lanes.iter().zip(parts) {
            // Rows locked in id order: two groups writing the same ids do not deadlock.
            rows.sort_unstable_by_key(|r| r.tweet.id);
            if rows.is_empty() && deletes.is_none() {
                continue;
            }
            let (done, answer) = oneshot::channel();
            let job = Job { rows, deletes: deletes.take().unwrap_or_default(), done };
            // A lane ends only when `Lanes` is dropped; a send that fails leaves the receiver
            // closed, which reads as given up.
            let _ = lane.send(job);
            pending.push(answer);
        }
        Parts { pending }
    }
}

/// A batch's parts, being written.
pub struct Parts {
    pending: Vec<oneshot::Receiver<(Vec<Row>, Option<Written>)>>,
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
            rows.extend(part);
        }
        Some((rows, total))
    }
}

/// The lane of a tweet. Snowflake ids carry a per-millisecond sequence in their low bits, so
/// they are mixed first, or most would land on even lanes.
fn lane(id: i64, lanes: usize) -> usize {
    let mixed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 32) % lanes as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tweet_always_takes_the_same_lane_and_snowflakes_spread_evenly() {
        // Ids as X mints them within one millisecond: the sequence in the low bits, mostly even.
        let ids: Vec<i64> = (0..10_000i64).map(|n| (1_800_000_000_000_i64 << 22) + n * 2).collect();
        let mut per_lane = [0usize; 3];
        for &id in &ids {
            assert_eq!(lane(id, 3), lane(id, 3));
            per_lane[lane(id, 3)] += 1;
        }
        for n in per_lane {
            assert!((2_800..3_900).contains(&n), "uneven lanes: {per_lane:?}");
        }
        assert!(ids.iter().all(|&id| lane(id, 1) == 0));
    }
}
