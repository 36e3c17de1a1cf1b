//! Replay: moving a group's offsets to re-read a topic, and seeding a fresh group's start for
//! `run --from`. Both places a group's position lives move together: the database's
//! (`consumer_offsets`, which members resume from, [`crate::db::offsets`]) and Kafka's
//! committed offsets (which lag tools read).
//!
//! Safe by default: `replay` only prints its plan unless `--execute`, and refuses to commit
//! while the group has active members (they would overwrite the new offsets at their next
//! commit). Writes are idempotent joins (docs/write-contract.md), so a replay changes the table
//! only where the topic holds copies it has not seen; the counts in `ingest_counts` count the
//! replayed messages again (they were read again, on purpose).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{bail, Context as _};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use tweetpipe_common::kafka::KafkaSettings;

use crate::db::offsets::{self, Owner};
use crate::settings::{ReplaySettings, Target};

const TIMEOUT: Duration = Duration::from_secs(10);

/// One partition of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub partition: i32,
    /// The group's committed offset in Kafka now, if any.
    pub committed: Option<i64>,
    /// The group's offset in the database now, if any: where members resume.
    pub database: Option<i64>,
    pub low: i64,
    pub high: i64,
    /// Where the group will resume.
    pub target: i64,
}

impl Step {
    /// Where the group resumes now: the database's offset, else Kafka's.
    pub fn resumes(&self) -> Option<i64> {
        self.database.or(self.committed)
    }

    /// Messages the group will read again that it had already read.
    pub fn reread(&self) -> i64 {
        self.resumes().map_or(0, |c| (c.min(self.high) - self.target).max(0))
    }
}

/// A group-bound client that never subscribes: it only reads and commits offsets.
pub fn admin_consumer(kafka: &KafkaSettings, group: &str) -> anyhow::Result<BaseConsumer> {
    let mut config = kafka.client_config(&[("enable.auto.commit", "false")]);
    config.set("group.id", group);
    config.create().context("creating the Kafka client")
}

/// Works out, per partition, where `target` puts the group; `database`: the group's offsets in
/// the database.
pub fn plan(
    consumer: &BaseConsumer,
    topic: &str,
    target: &Target,
    database: &BTreeMap<i32, i64>,
) -> anyhow::Result<Vec<Step>> {
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
        let database = database.get(&p).copied();
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
                None => database.or(committed).unwrap_or(low),
            },
        };
        steps.push(Step { partition: p, committed, database, low, high, target });
    }
    Ok(steps)
}

/// The plan as a table.
pub fn render(topic: &str, group: &str, steps: &[Step]) -> String {
    let mut out = format!("topic {topic}, group {group}\n");
    let _ = writeln!(
        out,
        "{:>9} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "partition", "database", "kafka", "target", "end", "re-read"
    );
    let shown = |o: Option<i64>| o.map_or("-".to_owned(), |c| c.to_string());
    for s in steps {
        let (database, committed) = (shown(s.database), shown(s.committed));
        let _ = writeln!(
            out,
            "{:>9} {database:>12} {committed:>12} {:>12} {:>12} {:>10}",
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

/// Refuses while the group has active members: they would overwrite the new offsets.
fn idle(consumer: &BaseConsumer, group: &str) -> anyhow::Result<()> {
    let members = active_members(consumer, group)?;
    if members > 0 {
        bail!(
            "group {group} has {members} active member(s): stop its consumers first (e.g. scale the \
             Deployment to 0), then run the replay again"
        );
    }
    Ok(())
}

/// Commits the plan's targets to Kafka.
fn commit(consumer: &BaseConsumer, topic: &str, steps: &[Step]) -> anyhow::Result<()> {
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
pub async fn run(
    args: &ReplaySettings,
    shutdown: &tweetpipe_common::shutdown::Shutdown,
) -> anyhow::Result<()> {
    let pool = crate::db::connect(&args.database, shutdown).await?;
    crate::db::migrate(&pool).await?;
    let owner = Owner { group: args.group.clone(), topic: args.topic.clone() };
    let database =
        offsets::load(&pool, &owner, None).await.context("reading the group's offsets in the database")?;
    let consumer = admin_consumer(&args.kafka, &args.group)?;
    let steps = tokio::task::block_in_place(|| plan(&consumer, &args.topic, &args.target, &database))?;
    print!("{}", render(&args.topic, &args.group, &steps));
    if args.execute {
        tokio::task::block_in_place(|| idle(&consumer, &args.group))?;
        // The database first: it is where members resume. Kafka's follows for lag tools.
        let targets = steps.iter().map(|s| (s.partition, s.target)).collect();
        offsets::set(&pool, &owner, &targets).await.context("moving the group's offsets in the database")?;
        tokio::task::block_in_place(|| commit(&consumer, &args.topic, &steps))?;
        println!("committed: group {} resumes at the targets above (database and Kafka)", args.group);
    } else {
        println!("dry run: nothing changed (add --execute to move the group's offsets)");
    }
    Ok(())
}

/// `run --from`: seeds the start of partitions the group has never read (no offset in the
/// database nor in Kafka), so a fresh backfill group begins there; the others resume.
pub async fn seed(
    kafka: &KafkaSettings,
    pool: &sqlx::PgPool,
    owner: &Owner,
    target: &Target,
) -> anyhow::Result<()> {
    let (topic, group) = (&owner.topic, &owner.group);
    let database =
        offsets::load(pool, owner, None).await.context("reading the group's offsets in the database")?;
    let consumer = admin_consumer(kafka, group)?;
    let steps: Vec<Step> = tokio::task::block_in_place(|| plan(&consumer, topic, target, &database))?
        .into_iter()
        .filter(|s| s.resumes().is_none())
        .collect();
    if steps.is_empty() {
        tracing::info!(group, "the group has offsets; --from ignored, resuming");
        return Ok(());
    }
    // Another member of the same fresh group got there first and is running: it seeded.
    if let Err(e) = tokio::task::block_in_place(|| idle(&consumer, group)) {
        tracing::info!(group, error = %format!("{e:#}"), "not seeding; the group is already active");
        return Ok(());
    }
    let targets = steps.iter().map(|s| (s.partition, s.target)).collect();
    offsets::set(pool, owner, &targets).await.context("seeding the group's offsets in the database")?;
    tokio::task::block_in_place(|| commit(&consumer, topic, &steps))?;
    tracing::info!(group, partitions = steps.len(), "fresh group seeded at --from");
    Ok(())
}

#[cfg(test)]
mod tests;
