//! Replay: moving a group's committed offsets to re-read a topic, and seeding a fresh group's
//! start for `run --from`.
//!
//! Safe by default: `replay` only prints its plan unless `--execute`, and refuses to commit
//! while the group has active members (they would overwrite the new offsets at their next
//! commit). Writes are idempotent joins (docs/write-contract.md), so a replay changes the table
//! only where the topic holds copies it has not seen.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{bail, Context as _};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use tweetpipe_common::kafka::KafkaSettings;

use crate::settings::{ReplaySettings, Target};

const TIMEOUT: Duration = Duration::from_secs(10);

/// One partition of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub partition: i32,
    /// The group's committed offset now, if any.
    pub committed: Option<i64>,
    pub low: i64,
    pub high: i64,
    /// Where the group will resume.
    pub target: i64,
}

impl Step {
    /// Messages the group will read again that it had already read.
    pub fn reread(&self) -> i64 {
        self.committed.map_or(0, |c| (c.min(self.high) - self.target).max(0))
    }
}

/// A group-bound client that never subscribes: it only reads and commits offsets.
pub fn admin_consumer(kafka: &KafkaSettings, group: &str) -> anyhow::Result<BaseConsumer> {
    let mut config = kafka.client_config(&[("enable.auto.commit", "false")]);
    config.set("group.id", group);
    config.create().context("creating the Kafka client")
}

/// Works out, per partition, where `target` puts the group.
pub fn plan(consumer: &BaseConsumer, topic: &str, target: &Target) -> anyhow::Result<Vec<Step>> {
    let partitions = tweetpipe_common::kafka::partitions_of(consumer, topic)?;
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition(topic, *p);
    }
    let committed = consumer.committed_offsets(tpl, TIMEOUT).context("reading committed offsets")?;
    let by_time = match target {
        Target::Datetime(t) => {
            let mut q = TopicPartitionList::new();
            for p in &partitions {
                q.add_partition_offset(topic, *p, Offset::Offset(t.timestamp_millis()))?;
            }
            Some(consumer.offsets_for_times(q, TIMEOUT).context("looking up offsets for the time")?)
        }
        _ => None,
    };
    let mut steps = Vec::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, TIMEOUT)?;
        let committed = committed.find_partition(topic, p).and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        });
        let target = match target {
            Target::Earliest => low,
            // No message at or after the time: the end.
            Target::Datetime(_) => {
                match by_time.as_ref().and_then(|t| t.find_partition(topic, p)).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => o,
                    _ => high,
                }
            }
            Target::Offsets(map) => match map.get(&p) {
                Some(o) => (*o).clamp(low, high),
                None => committed.unwrap_or(low),
            },
        };
        steps.push(Step { partition: p, committed, low, high, target });
    }
    Ok(steps)
}

/// The plan as a table.
pub fn render(topic: &str, group: &str, steps: &[Step]) -> String {
    let mut out = format!("topic {topic}, group {group}\n");
    let _ = writeln!(
        out,
        "{:>9} {:>12} {:>12} {:>12} {:>10}",
        "partition", "committed", "target", "end", "re-read"
    );
    for s in steps {
        let committed = s.committed.map_or("-".to_owned(), |c| c.to_string());
        let _ = writeln!(
            out,
            "{:>9} {committed:>12} {:>12} {:>12} {:>10}",
            s.partition,
            s.target,
            s.high,
            s.reread()
        );
    }
    let total: i64 = steps.iter().map(Step::reread).sum();
    let _ = writeln!(out, "messages to re-read: {total}");
    out
}

/// Commits the plan's targets, refusing while the group has active members.
pub fn execute(consumer: &BaseConsumer, topic: &str, group: &str, steps: &[Step]) -> anyhow::Result<()> {
    let members = active_members(consumer, group)?;
    if members > 0 {
        bail!(
            "group {group} has {members} active member(s): stop its consumers first (e.g. scale the \
             Deployment to 0), then run the replay again"
        );
    }
    let mut tpl = TopicPartitionList::new();
    for s in steps {
        tpl.add_partition_offset(topic, s.partition, Offset::Offset(s.target))?;
    }
    consumer.commit(&tpl, CommitMode::Sync).context("committing the new offsets")?;
    Ok(())
}

/// Members of `group` now (0 for an empty or unknown group).
pub fn active_members(consumer: &BaseConsumer, group: &str) -> anyhow::Result<usize> {
    let groups = consumer.fetch_group_list(Some(group), TIMEOUT).context("describing the group")?;
    Ok(groups.groups().iter().filter(|g| g.name() == group).map(|g| g.members().len()).sum())
}

/// `tweetpipe-consumer replay`.
pub fn run(args: &ReplaySettings) -> anyhow::Result<()> {
    let consumer = admin_consumer(&args.kafka, &args.group)?;
    let steps = plan(&consumer, &args.topic, &args.target)?;
    print!("{}", render(&args.topic, &args.group, &steps));
    if args.execute {
        execute(&consumer, &args.topic, &args.group, &steps)?;
        println!("committed: group {} resumes at the targets above", args.group);
    } else {
        println!("dry run: nothing changed (add --execute to commit the targets)");
    }
    Ok(())
}

/// `run --from`: commits the start for partitions the group has never committed, so a fresh
/// backfill group begins there; partitions with commits resume where they were.
pub fn seed(kafka: &KafkaSettings, topic: &str, group: &str, target: &Target) -> anyhow::Result<()> {
    let consumer = admin_consumer(kafka, group)?;
    let steps: Vec<Step> =
        plan(&consumer, topic, target)?.into_iter().filter(|s| s.committed.is_none()).collect();
    if steps.is_empty() {
        tracing::info!(group, "the group has committed offsets; --from ignored, resuming");
        return Ok(());
    }
    match execute(&consumer, topic, group, &steps) {
        Ok(()) => tracing::info!(group, partitions = steps.len(), "fresh group seeded at --from"),
        // Another member of the same fresh group got there first and is running: it seeded.
        Err(e) => {
            tracing::info!(group, error = %format!("{e:#}"), "not seeding; the group is already active")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
