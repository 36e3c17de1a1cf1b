//! Where Kafka offsets are stored and committed. Members resume from the group's offsets in
//! PostgreSQL ([`crate::db::offsets`], moved with the rows); Kafka's follow, for lag tools, the
//! exporter and partitions the database does not know yet.
//!
//! The consumer runs with `enable.auto.offset.store=false`: an offset is stored only after the
//! batch holding its message is committed to PostgreSQL (dead letters included). librdkafka's
//! auto-commit then ships stored offsets every second, and shutdown commits them synchronously.

use std::collections::BTreeMap;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::types::RDKafkaErrorCode;

/// The highest offset handled per partition in one batch.
#[derive(Debug, Default)]
pub struct BatchOffsets {
    pub topic: String,
    pub last: BTreeMap<i32, i64>,
}

impl BatchOffsets {
    pub fn of(topic: &str, messages: &[OwnedMessage]) -> Self {
        let mut last = BTreeMap::new();
        for m in messages {
            let e = last.entry(m.partition()).or_insert(m.offset());
            *e = (*e).max(m.offset());
        }
        Self { topic: topic.to_owned(), last }
    }

    /// Stores `last + 1` for every partition `still_owned` accepts, after the database commit.
    /// A partition revoked since the batch was read is skipped, even if it came back since: its
    /// next owner (perhaps this process again) re-reads the batch, harmlessly, and no stale
    /// offset can move the group's position backwards.
    pub fn store<C, X>(&self, consumer: &C, still_owned: impl Fn(i32) -> bool)
    where
        C: Consumer<X>,
        X: rdkafka::consumer::ConsumerContext,
    {
        for (&partition, &offset) in &self.last {
            if !still_owned(partition) {
                tracing::info!(
                    partition,
                    offset,
                    "partition changed hands during the batch; offset not stored"
                );
                continue;
            }
            // rd_kafka_offset_store stores offset + 1: the next message to read.
            if let Err(e) = consumer.store_offset(&self.topic, partition, offset) {
                tracing::info!(partition, offset, error = %e, "offset not stored");
            }
        }
    }
}

/// Commits the stored offsets of the current assignment and waits for the broker's answer.
/// `Err(true)` when a rebalance got in the way and the commit is worth retrying once it is over.
pub fn commit_sync<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(consumer: &C) -> Result<(), bool> {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {
            tracing::info!("offsets committed");
            Ok(())
        }
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(KafkaError::ConsumerCommit(
            code @ (RDKafkaErrorCode::RebalanceInProgress | RDKafkaErrorCode::IllegalGeneration),
        )) => {
            tracing::info!(%code, "final offset commit hit a rebalance; retrying");
            Err(true)
        }
        Err(e) => {
            tracing::warn!(error = %e, "final offset commit failed");
            Err(false)
        }
    }
}
