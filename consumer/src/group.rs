//! The consumer's Kafka context: logs rebalances, commits what is stored before partitions are
//! taken away, and keeps the current assignment with a per-partition epoch, so that offsets of
//! a batch read before a partition was revoked are never stored after it came back.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Statistics, TopicPartitionList};

/// Partitions this member owns, as the last rebalance left them.
#[derive(Debug, Default, Clone)]
pub struct Assignment {
    pub partitions: BTreeSet<i32>,
    /// Bumped whenever a partition is assigned or revoked.
    pub epochs: HashMap<i32, u64>,
    /// Rebalances seen; 0 means the member has not joined the group yet.
    pub rebalances: u64,
    /// Per partition: the epoch at which the database's offset was read, and that offset (none:
    /// the database does not know the partition). A partition whose epoch differs is pending.
    pub resolved: HashMap<i32, (u64, Option<i64>)>,
}

impl Assignment {
    /// Whether `partition` is owned now and has been since `then` was taken.
    pub fn unchanged_since(&self, then: &Assignment, partition: i32) -> bool {
        self.partitions.contains(&partition) && self.epochs.get(&partition) == then.epochs.get(&partition)
    }

    fn bump(&mut self, partition: i32) {
        *self.epochs.entry(partition).or_default() += 1;
    }

    /// The current epoch of `partition` (0 before it was ever assigned).
    pub fn epoch(&self, partition: i32) -> u64 {
        self.epochs.get(&partition).copied().unwrap_or(0)
    }

    /// The database's offset for `partition`, once read in the current epoch: `Some(None)` when
    /// the database does not know the partition, `None` while that is not known yet.
    pub fn database_offset(&self, partition: i32) -> Option<Option<i64>> {
        self.resolved.get(&partition).filter(|(e, _)| *e == self.epoch(partition)).map(|(_, o)| *o)
    }
}

/// Has the member read `partition`'s offset from the database again, if it still holds the
/// partition as it did at `then`: a batch of it was fenced, so the position it reads from is
/// not the database's. Batches read before are then dropped as they finish.
pub fn reread_offset(shared: &SharedAssignment, then: &Assignment, partition: i32) {
    if let Ok(mut a) = shared.lock() {
        if a.unchanged_since(then, partition) {
            a.bump(partition);
        }
    }
}

pub type SharedAssignment = Arc<Mutex<Assignment>>;

/// A copy of the current assignment.
pub fn snapshot(shared: &SharedAssignment) -> Assignment {
    shared.lock().map(|a| a.clone()).unwrap_or_default()
}

pub struct GroupContext {
    pub assignment: SharedAssignment,
}

impl ClientContext for GroupContext {
    /// librdkafka's statistics (every `statistics.interval.ms`) carry each partition's lag:
    /// exported as `tweetpipe_consumer_lag{topic, partition}` for the partitions owned here.
    fn stats(&self, stats: Statistics) {
        let owned = snapshot(&self.assignment).partitions;
        for (topic, t) in &stats.topics {
            for (p, part) in &t.partitions {
                if *p < 0 || !owned.contains(p) || part.consumer_lag < 0 {
                    continue;
                }
                metrics::gauge!("tweetpipe_consumer_lag", "topic" => topic.clone(), "partition" => p.to_string())
                    .set(part.consumer_lag as f64);
            }
        }
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    tpl.elements().iter().map(|e| e.partition()).collect()
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            // Hand the partitions over with everything stored so far committed, so the next owner
            // re-reads as little as possible. Batches still in flight store nothing for them.
            if let Ok(mut a) = self.assignment.lock() {
                for p in partitions(tpl) {
                    a.bump(p);
                }
            }
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
                Err(e) => tracing::warn!(error = %e, "commit before revoke failed"),
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Ok(mut a) = self.assignment.lock() else { return };
        a.rebalances += 1;
        metrics::counter!("tweetpipe_rebalances_total").increment(1);
        match rebalance {
            // Cooperative-sticky: these are increments, not the whole assignment.
            Rebalance::Assign(tpl) => {
                let added = partitions(tpl);
                for p in &added {
                    a.partitions.insert(*p);
                    a.bump(*p);
                }
                tracing::info!(added = ?added, now = ?a.partitions, "partitions assigned");
            }
            Rebalance::Revoke(tpl) => {
                let removed = partitions(tpl);
                for p in &removed {
                    a.partitions.remove(p);
                }
                for e in tpl.elements() {
                    // A partition owned elsewhere now: its lag is reported by its new owner.
                    metrics::gauge!("tweetpipe_consumer_lag", "topic" => e.topic().to_owned(), "partition" => e.partition().to_string())
                        .set(0.0);
                }
                tracing::info!(revoked = ?removed, now = ?a.partitions, "partitions revoked");
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => tracing::debug!(partitions = ?partitions(offsets), "offsets committed"),
            // Nothing stored since the last commit: not an error worth a log line.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => tracing::warn!(error = %e, "offset commit failed"),
        }
    }
}
