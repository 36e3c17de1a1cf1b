//! `--exit-at-end`: consume until every assigned partition has reached the high watermark it
//! had when the consumer started, so backfill jobs and tests end on their own.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};

use crate::group::Assignment;

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct EndOfTopic {
    topic: String,
    /// Partition -> (low, high) watermark at start. Partitions created later are not waited for.
    marks: HashMap<i32, (i64, i64)>,
    /// Partition -> next offset this process has handled.
    position: HashMap<i32, i64>,
    /// Partitions known to be caught up through the group's committed offset.
    caught_up: HashSet<i32>,
    /// Messages already behind the group's committed offsets at start (for the progress bar).
    committed_at_start: u64,
}

impl EndOfTopic {
    /// Reads the watermarks of every partition of `topic` (blocking calls).
    pub fn capture<C: Consumer<X>, X: ConsumerContext>(consumer: &C, topic: &str) -> anyhow::Result<Self> {
        let partitions = tweetpipe_common::kafka::partitions_of(consumer, topic)?;
        let mut marks = HashMap::new();
        for p in partitions {
            let wm = consumer
                .fetch_watermarks(topic, p, TIMEOUT)
                .with_context(|| format!("watermarks of {topic}/{p}"))?;
            marks.insert(p, wm);
        }
        let mut tpl = TopicPartitionList::new();
        for p in marks.keys() {
            tpl.add_partition(topic, *p);
        }
        let committed_at_start = consumer
            .committed_offsets(tpl, TIMEOUT)
            .map(|c| {
                c.elements()
                    .iter()
                    .filter_map(|e| match (e.offset(), marks.get(&e.partition())) {
                        (Offset::Offset(o), Some((low, high))) => Some((o.min(*high) - low).max(0) as u64),
                        _ => None,
                    })
                    .sum()
            })
            .unwrap_or(0);
        tracing::info!(topic, partitions = marks.len(), end = ?marks.values().map(|m| m.1).sum::<i64>(), "will exit at the end seen now");
        Ok(Self {
            topic: topic.to_owned(),
            marks,
            position: HashMap::new(),
            caught_up: HashSet::new(),
            committed_at_start,
        })
    }

    /// Messages between the group's committed offsets (or the start) and the end, at start-up.
    pub fn remaining_at_start(&self) -> u64 {
        self.marks
            .values()
            .map(|(low, high)| (high - low).max(0) as u64)
            .sum::<u64>()
            .saturating_sub(self.committed_at_start)
    }

    /// Notes that `offset` of `partition` has been handled.
    pub fn advance(&mut self, partition: i32, offset: i64) {
        let e = self.position.entry(partition).or_insert(offset + 1);
        *e = (*e).max(offset + 1);
    }

    /// Whether the whole topic is at its start-time end: partitions assigned here by what this
    /// process handled or the database's offsets, the others by the group's committed offsets. Waiting for the whole
    /// topic, not just the own assignment, keeps a member that joined with no partitions (the
    /// first step of a cooperative rebalance) from leaving before the work is shared out.
    pub fn is_done<C: Consumer<X>, X: ConsumerContext>(
        &mut self,
        consumer: &C,
        assignment: &Assignment,
    ) -> bool {
        if assignment.rebalances == 0 {
            return false;
        }
        let mut unknown = Vec::new();
        for (p, &(low, high)) in &self.marks {
            let here = self.position.get(p).is_some_and(|pos| *pos >= high);
            if assignment.partitions.contains(p) {
                match assignment.database_offset(*p) {
                    // Its offset is not read from the database yet.
                    None => return false,
                    // The database's offset wins over Kafka's: a restored database is behind.
                    Some(Some(next)) => {
                        if !(here || next >= high || low >= high) {
                            return false;
                        }
                        continue;
                    }
                    Some(None) => {}
                }
            }
            let handled = assignment.partitions.contains(p) && here;
            if !(handled || low >= high || self.caught_up.contains(p)) {
                unknown.push(*p);
            }
        }
        if unknown.is_empty() {
            return true;
        }
        let mut tpl = TopicPartitionList::new();
        for p in &unknown {
            tpl.add_partition(&self.topic, *p);
        }
        let Ok(committed) = consumer.committed_offsets(tpl, TIMEOUT) else { return false };
        for e in committed.elements() {
            if let (Offset::Offset(o), Some(&(_, high))) = (e.offset(), self.marks.get(&e.partition())) {
                if o >= high {
                    self.caught_up.insert(e.partition());
                }
            }
        }
        unknown.iter().all(|p| self.caught_up.contains(p))
    }
}
