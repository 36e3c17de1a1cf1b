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
use tweetpipe_common::kafka::{dlq_topic, KafkaArgs};
use tweetpipe_common::shutdown::Shutdown;

use crate::cli::{AddPartitionsArgs, TopicCommand, TopicCreateArgs};

const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(command: TopicCommand, shutdown: Shutdown) -> anyhow::Result<()> {
    match command {
        TopicCommand::Exporter(args) => crate::exporter::run(args, shutdown).await,
        TopicCommand::Create(args) => create(&args).await,
        TopicCommand::Describe(args) => {
            let text = tokio::task::block_in_place(|| describe(&args.kafka, &args.topic))?;
            print!("{text}");
            Ok(())
        }
        TopicCommand::AddPartitions(args) => add_partitions(&args).await,
    }
}

fn admin(kafka: &KafkaArgs) -> anyhow::Result<AdminClient<DefaultClientContext>> {
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

async fn create(args: &TopicCreateArgs) -> anyhow::Result<()> {
    let retention = args.retention.as_deref().map(retention_ms).transpose()?;
    let topic = &args.topic.topic;
    let dlq = dlq_topic(topic);
    let mut topics = Vec::new();
    for name in [topic.as_str(), dlq.as_str()] {
        let mut t = NewTopic::new(name, args.partitions, TopicReplication::Fixed(args.replication_factor));
        if let Some(ms) = &retention {
            t = t.set("retention.ms", ms);
        }
        topics.push(t);
    }
    let results = admin(&args.topic.kafka)?.create_topics(&topics, &AdminOptions::new()).await?;
    for r in results {
        match r {
            Ok(name) => println!("created {name} with {} partitions", args.partitions),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                println!("{name} exists already; left as it is")
            }
            Err((name, code)) => bail!("cannot create {name}: {code}"),
        }
    }
    Ok(())
}

async fn add_partitions(args: &AddPartitionsArgs) -> anyhow::Result<()> {
    let topic = &args.topic.topic;
    let results = admin(&args.topic.kafka)?
        .create_partitions(&[NewPartitions::new(topic, args.to)], &AdminOptions::new())
        .await?;
    for r in results {
        match r {
            Ok(name) => println!("{name} now has {} partitions; new keys hash across all of them", args.to),
            Err((name, code)) => bail!("cannot grow {name} to {} partitions: {code}", args.to),
        }
    }
    Ok(())
}

/// The topic's partitions and every group's position on it.
pub fn describe(kafka: &KafkaArgs, topic: &str) -> anyhow::Result<String> {
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
mod tests {
    use super::*;

    #[test]
    fn retention_units() {
        assert_eq!(retention_ms("7d").ok().as_deref(), Some("604800000"));
        assert_eq!(retention_ms("90m").ok().as_deref(), Some("5400000"));
        assert_eq!(retention_ms("1500").ok().as_deref(), Some("1500"));
        assert_eq!(retention_ms("forever").ok().as_deref(), Some("-1"));
        assert!(retention_ms("3w").is_err());
    }
}
