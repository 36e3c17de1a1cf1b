//! The consumer's Kafka context: logs rebalances and keeps the current assignment, which the
//! end-of-topic check and the offset store consult.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{ClientContext, TopicPartitionList};

/// Partitions this member owns, as the last rebalance left them.
#[derive(Debug, Default)]
pub struct Assignment {
    pub partitions: BTreeSet<i32>,
    /// Rebalances seen; 0 means the member has not joined the group yet.
    pub rebalances: u64,
}

pub type SharedAssignment = Arc<Mutex<Assignment>>;

pub struct GroupContext {
    pub assignment: SharedAssignment,
}

impl ClientContext for GroupContext {}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    tpl.elements().iter().map(|e| e.partition()).collect()
}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Ok(mut a) = self.assignment.lock() else { return };
        a.rebalances += 1;
        match rebalance {
            // Cooperative-sticky: these are increments, not the whole assignment.
            Rebalance::Assign(tpl) => {
                let added = partitions(tpl);
                a.partitions.extend(added.iter().copied());
                tracing::info!(added = ?added, now = ?a.partitions, "partitions assigned");
            }
            Rebalance::Revoke(tpl) => {
                let removed = partitions(tpl);
                for p in &removed {
                    a.partitions.remove(p);
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
            Err(rdkafka::error::KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => tracing::warn!(error = %e, "offset commit failed"),
        }
    }
}
