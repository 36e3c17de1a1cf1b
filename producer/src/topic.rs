//! `tweetpipe-producer topic create | describe | add-partitions`: the one place where the topic
//! is administered. `topic exporter` lives in [`crate::exporter`].

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{bail, Context as _};
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tweetpipe_common::kafka::{dlq_topic, KafkaSettings};
use tweetpipe_common::shutdown::Shutdown;

use crate::exporter::ExporterSettings;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A topic on a cluster.
#[derive(Debug, Clone)]
pub struct TopicTarget {
    pub kafka: KafkaSettings,
    pub topic: String,
}

/// What a `topic` command does, with its settings.
#[derive(Debug, Clone)]
pub enum TopicTask {
    /// The topic and its dead-letter topic, `retention.ms` as given.
    Create {
        target: TopicTarget,
        partitions: i32,
        replication_factor: i32,
        retention_ms: Option<String>,
    },
    Describe(TopicTarget),
    AddPartitions {
        target: TopicTarget,
        to: usize,
    },
    Exporter(ExporterSettings),
}

impl TopicTask {
    /// The cluster a one-off command talks to, for the start-up check. The exporter has none:
    /// it serves /metrics whether the brokers answer or not.
    pub fn kafka(&self) -> Option<&KafkaSettings> {
        match self {
            Self::Create { target, .. } | Self::AddPartitions { target, .. } | Self::Describe(target) => {
                Some(&target.kafka)
            }
            Self::Exporter(_) => None,
        }
    }
}

pub async fn run(task: TopicTask, shutdown: Shutdown) -> anyhow::Result<()> {
    match task {
        TopicTask::Exporter(settings) => crate::exporter::run(settings, shutdown).await,
        TopicTask::Create { target, partitions, replication_factor, retention_ms } => {
            create(&target, partitions, replication_factor, retention_ms.as_deref()).await
        }
        TopicTask::Describe(target) => {
            let text = tokio::task::block_in_place(|| describe(&target.kafka, &target.topic))?;
            print!("{text}");
            Ok(())
        }
        TopicTask::AddPartitions { target, to } => add_partitions(&target, to).await,
    }
}

fn admin(kafka: &KafkaSettings) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    kafka.client_config(&[]).create().context("creating the Kafka admin client")
}

/// `7d`, `12h`, `90m`, `30s`, plain milliseconds, or `forever` -> `retention.ms`.
pub fn retention_ms(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    if s == "forever" || s == "-1" {
        return Ok("-1".to_owned());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().with_context(|| format!("bad retention {s:?}"))?;
    let ms = match unit {
        "" | "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => bail!("bad retention unit in {s:?}: use ms, s, m, h or d"),
    };
    Ok(ms.to_string())
}

async fn create(
    target: &TopicTarget,
    partitions: i32,
    replication: i32,
    retention_ms: Option<&str>,
) -> anyhow::Result<()> {
    let topic = &target.topic;
    let dlq = dlq_topic(topic);
    let mut topics = Vec::new();
    for name in [topic.as_str(), dlq.as_str()] {
        let mut t = NewTopic::new(name, partitions, TopicReplication::Fixed(replication));
        if let Some(ms) = retention_ms {
            t = t.set("retention.ms", ms);
        }
        topics.push(t);
    }
    let results = admin(&target.kafka)?.create_topics(&topics, &AdminOptions::new()).await?;
    for r in results {
        match r {
            Ok(name) => println!("created {name} with {partitions} partitions"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                println!("{name} exists already; left as it is")
            }
            Err((name, code)) => bail!("cannot create {name}: {code}"),
        }
    }
    Ok(())
}

async fn add_partitions(target: &TopicTarget, to: usize) -> anyhow::Result<()> {
    let topic = &target.topic;
    let results = admin(&target.kafka)?
        .create_partitions(&[NewPartitions::new(topic, to)], &AdminOptions::new())
        .await?;
    for r in results {
        match r {
            Ok(name) => println!("{name} now has {to} partitions; new keys hash across all of them"),
            Err((name, code)) => bail!("cannot grow {name} to {to} partitions: {code}"),
        }
    }
    Ok(())
}

/// The topic's partitions and every group's position on it.
pub fn describe(kafka: &KafkaSettings, topic: &str) -> anyhow::Result<String> {
    let consumer: BaseConsumer = kafka.client_config(&[]).set("group.id", "tweetpipe-describe").create()?;
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let Some(t) = metadata.topics().iter().find(|t| t.name() == topic && !t.partitions().is_empty()) else {
        bail!("topic {topic} does not exist");
    };
    let mut out = String::new();
    let mut ends = Vec::new();
    writeln!(out, "topic {topic}: {} partitions", t.partitions().len())?;
    writeln!(
        out,
        "{:>9} {:>7} {:>10} {:>10} {:>12} {:>12}",
        "partition", "leader", "replicas", "in-sync", "low", "high"
    )?;
    for p in t.partitions() {
        let (low, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
        ends.push((p.id(), high));
        writeln!(
            out,
            "{:>9} {:>7} {:>10} {:>10} {low:>12} {high:>12}",
            p.id(),
            p.leader(),
            format!("{:?}", p.replicas()),
            format!("{:?}", p.isr())
        )?;
    }
    let groups = consumer.fetch_group_list(None, TIMEOUT)?;
    for g in groups.groups() {
        let reader: BaseConsumer = kafka.client_config(&[]).set("group.id", g.name()).create()?;
        let mut tpl = TopicPartitionList::new();
        for (p, _) in &ends {
            tpl.add_partition(topic, *p);
        }
        let committed = reader.committed_offsets(tpl, TIMEOUT)?;
        let rows: Vec<(i32, i64, i64)> = ends
            .iter()
            .filter_map(|(p, high)| match committed.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(c)) => Some((*p, c, high - c)),
                _ => None,
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let lag: i64 = rows.iter().map(|r| r.2).sum();
        writeln!(out, "group {} ({} members, {}): lag {lag}", g.name(), g.members().len(), g.state())?;
        writeln!(out, "{:>9} {:>12} {:>10}", "partition", "committed", "lag")?;
        for (p, c, l) in rows {
            writeln!(out, "{p:>9} {c:>12} {l:>10}")?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
