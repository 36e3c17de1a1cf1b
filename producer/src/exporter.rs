//! `tweetpipe-producer topic exporter`: consumer-group lag read from the brokers, on `/metrics`.
//!
//! Each consumer reports the lag of the partitions it owns; when every consumer of a group has
//! crashed, those series vanish instead of rising. This process asks the brokers instead — each
//! group's committed offsets and each partition's high watermark, every `--interval` — so the
//! lag of a group stays visible, and keeps growing, while none of its consumers runs. It never
//! joins the groups it watches (it reads their offsets without subscribing). Without a topic
//! it follows every topic the groups have committed offsets on, found again each round, so a
//! topic a group starts reading shows up without a restart.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use tweetpipe_common::exit::Classified;
use tweetpipe_common::kafka::KafkaSettings;
use tweetpipe_common::metrics_catalog::Component;
use tweetpipe_common::shutdown::Shutdown;

/// Longest wait for one broker request; a round stops early on shutdown.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What the exporter watches, and where it serves.
#[derive(Debug, Clone)]
pub struct ExporterSettings {
    pub kafka: KafkaSettings,
    /// The topic to follow; `None`: every topic the groups have committed offsets on.
    pub topic: Option<String>,
    pub groups: Vec<String>,
    /// Time between two rounds of reading offsets.
    pub interval: Duration,
    pub http_addr: SocketAddr,
}

impl ExporterSettings {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.interval.is_zero() {
            return Err(Classified::config("--interval must be longer than zero"));
        }
        if self.groups.iter().all(String::is_empty) {
            return Err(Classified::config("--group: at least one consumer group to watch"));
        }
        Ok(())
    }
}

/// What the brokers said about one partition in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    partition: i32,
    low: i64,
    high: i64,
}

/// Messages `group` has yet to commit. A partition the group never committed is read from the
/// start (the consumer's `auto.offset.reset=earliest`), so all of it counts; so does the part
/// of a committed offset retention has deleted since.
fn lag(committed: Option<i64>, p: Position) -> i64 {
    (p.high - committed.unwrap_or(p.low).max(p.low)).max(0)
}

/// The clients, built once: one for metadata and watermarks, one per group for its offsets.
struct Brokers {
    topic: Option<String>,
    meta: BaseConsumer,
    groups: Vec<(String, BaseConsumer)>,
}

/// One topic's partitions, as the brokers listed them.
type Topics = Vec<(String, Vec<i32>)>;

impl Brokers {
    fn new(settings: &ExporterSettings) -> anyhow::Result<Self> {
        let client = |group: &str| -> anyhow::Result<BaseConsumer> {
            settings
                .kafka
                .client_config(&[("client.id", "tweetpipe-exporter"), ("enable.auto.commit", "false")])
                .set("group.id", group)
                .create()
                .context("invalid Kafka client configuration")
        };
        let groups =
            settings.groups.iter().map(|g| Ok((g.clone(), client(g)?))).collect::<anyhow::Result<_>>()?;
        Ok(Self { topic: settings.topic.clone(), meta: client("tweetpipe-exporter")?, groups })
    }

    /// The topic given, or every topic on the cluster but Kafka's own (`__consumer_offsets`…).
    fn topics(&self) -> anyhow::Result<Topics> {
        let metadata = self
            .meta
            .fetch_metadata(self.topic.as_deref(), REQUEST_TIMEOUT)
            .context("reading topic metadata")?;
        let topics: Topics = metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && !t.partitions().is_empty() && !t.name().starts_with("__"))
            .map(|t| (t.name().to_owned(), t.partitions().iter().map(|p| p.id()).collect()))
            .collect();
        if let Some(topic) = &self.topic {
            anyhow::ensure!(!topics.is_empty(), "topic {topic} does not exist or has no partitions");
        }
        Ok(topics)
    }

    /// One round: reads every position, then publishes them all. Stops early, publishing
    /// nothing, when `stop` is set. Blocking.
    fn round(&self, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut topics = self.topics()?;
        let mut committed = Vec::with_capacity(self.groups.len());
        for (group, client) in &self.groups {
            anyhow::ensure!(!stop.load(Ordering::Relaxed), "stopping");
            let mut tpl = TopicPartitionList::new();
            for (topic, partitions) in &topics {
                for p in partitions {
                    tpl.add_partition(topic, *p);
                }
            }
            let offsets = client
                .committed_offsets(tpl, REQUEST_TIMEOUT)
                .with_context(|| format!("reading the committed offsets of group {group}"))?;
            committed.push((group, offsets));
        }
        if self.topic.is_none() {
            // Followed: the topics some group has committed on.
            topics.retain(|(topic, partitions)| {
                committed
                    .iter()
                    .any(|(_, offsets)| partitions.iter().any(|p| at(offsets, topic, *p).is_some()))
            });
        }
        let mut positions = Vec::new();
        for (topic, partitions) in &topics {
            for partition in partitions {
                anyhow::ensure!(!stop.load(Ordering::Relaxed), "stopping");
                let (low, high) = self
                    .meta
                    .fetch_watermarks(topic, *partition, REQUEST_TIMEOUT)
                    .with_context(|| format!("reading the watermarks of {topic}/{partition}"))?;
                positions.push((topic, Position { partition: *partition, low, high }));
            }
        }
        for (topic, p) in &positions {
            let partition = p.partition.to_string();
            metrics::gauge!("tweetpipe_topic_end_offset", "topic" => (*topic).clone(), "partition" => partition.clone())
                .set(p.high as f64);
            for (group, offsets) in &committed {
                let committed_at = at(offsets, topic, p.partition);
                let labels = [
                    ("group", (*group).clone()),
                    ("topic", (*topic).clone()),
                    ("partition", partition.clone()),
                ];
                if let Some(o) = committed_at {
                    metrics::gauge!("tweetpipe_group_committed_offset", &labels).set(o as f64);
                }
                metrics::gauge!("tweetpipe_group_lag", &labels).set(lag(committed_at, *p) as f64);
            }
        }
        Ok(())
    }
}

/// The offset a group committed on one partition, if any.
fn at(offsets: &TopicPartitionList, topic: &str, partition: i32) -> Option<i64> {
    match offsets.find_partition(topic, partition).map(|e| e.offset()) {
        Some(Offset::Offset(o)) => Some(o),
        _ => None,
    }
}

/// Serves `/metrics` and reads the offsets every `--interval` until `shutdown` completes.
/// Broker outages and a topic that does not exist yet are logged and retried every round;
/// `/readyz` says whether the last round succeeded.
pub async fn run(args: ExporterSettings, shutdown: Shutdown) -> anyhow::Result<()> {
    args.validate()?;
    let healthy = Arc::new(AtomicBool::new(false));
    let ready = healthy.clone();
    tweetpipe_common::observe::serve(
        args.http_addr,
        Arc::new(move || ready.load(Ordering::Relaxed)),
        Component::Exporter,
    )
    .await?;
    let brokers = Arc::new(Brokers::new(&args)?);
    let stop = Arc::new(AtomicBool::new(false));
    let topic = args.topic.as_deref().unwrap_or("every topic the groups commit on");
    tracing::info!(topic, groups = ?args.groups, interval = %tweetpipe_common::duration::human(args.interval), "exporting group lag");

    let mut tick = tokio::time::interval(args.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let (b, s) = (brokers.clone(), stop.clone());
        let mut round = tokio::task::spawn_blocking(move || b.round(&s));
        let result = tokio::select! {
            r = &mut round => r.context("an exporter round panicked")?,
            () = shutdown.cancelled() => {
                stop.store(true, Ordering::Relaxed);
                let _ = round.await;
                break;
            }
        };
        match result {
            Ok(()) => {
                metrics::counter!("tweetpipe_exporter_polls_total", "result" => "ok").increment(1);
                let now =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                metrics::gauge!("tweetpipe_exporter_last_success_timestamp_seconds").set(now.as_secs_f64());
                if !healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!("offsets read from the brokers");
                }
            }
            Err(e) => {
                metrics::counter!("tweetpipe_exporter_polls_total", "result" => "error").increment(1);
                healthy.store(false, Ordering::Relaxed);
                tracing::warn!(error = %format!("{e:#}"), "cannot read offsets from the brokers; retrying next round");
            }
        }
    }
    tracing::info!("exporter stopped");
    Ok(())
}

#[cfg(test)]
mod tests;
