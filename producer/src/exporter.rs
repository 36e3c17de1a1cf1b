//! `tweetpipe-producer topic exporter`: consumer-group lag read from the brokers, on `/metrics`.
//!
//! Each consumer reports the lag of the partitions it owns; when every consumer of a group has
//! crashed, those series vanish instead of rising. This process asks the brokers instead — each
//! group's committed offsets and each partition's high watermark, every `--interval` — so the
//! lag of a group stays visible, and keeps growing, while none of its consumers runs. It never
//! joins the groups it watches (it reads their offsets without subscribing).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use tweetpipe_common::metrics_catalog::{self, Component};
use tweetpipe_common::shutdown::Shutdown;

use crate::cli::TopicArgs;

/// Longest wait for one broker request; a round stops early on shutdown.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    #[command(flatten)]
    pub topic: TopicArgs,

    /// Consumer group to watch (repeatable, or comma-separated in the environment variable).
    #[arg(long = "group", env = "TWEETPIPE_GROUP", value_delimiter = ',', required = true)]
    pub groups: Vec<String>,

    /// Time between two rounds of reading offsets: `5s`, `1m`, `500ms`.
    #[arg(long, env = "TWEETPIPE_EXPORTER_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub interval: Duration,

    /// Serve /healthz, /readyz and /metrics here (port 0 picks a free port, logged).
    #[arg(long = "http-addr", env = "TWEETPIPE_HTTP_ADDR")]
    pub http_addr: SocketAddr,
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
    topic: String,
    meta: BaseConsumer,
    groups: Vec<(String, BaseConsumer)>,
}

impl Brokers {
    fn new(args: &ExporterArgs) -> anyhow::Result<Self> {
        let client = |group: &str| -> anyhow::Result<BaseConsumer> {
            args.topic
                .kafka
                .client_config(&[("client.id", "tweetpipe-exporter"), ("enable.auto.commit", "false")])
                .set("group.id", group)
                .create()
                .context("invalid Kafka client configuration")
        };
        let groups =
            args.groups.iter().map(|g| Ok((g.clone(), client(g)?))).collect::<anyhow::Result<_>>()?;
        Ok(Self { topic: args.topic.topic.clone(), meta: client("tweetpipe-exporter")?, groups })
    }

    /// One round: reads every position, then publishes them all. Stops early, publishing
    /// nothing, when `stop` is set. Blocking.
    fn round(&self, stop: &AtomicBool) -> anyhow::Result<()> {
        let partitions = tweetpipe_common::kafka::partitions_of(&self.meta, &self.topic)?;
        let mut positions = Vec::with_capacity(partitions.len());
        for partition in partitions {
            anyhow::ensure!(!stop.load(Ordering::Relaxed), "stopping");
            let (low, high) = self
                .meta
                .fetch_watermarks(&self.topic, partition, REQUEST_TIMEOUT)
                .with_context(|| format!("reading the watermarks of {}/{partition}", self.topic))?;
            positions.push(Position { partition, low, high });
        }
        let mut committed = Vec::with_capacity(self.groups.len());
        for (group, client) in &self.groups {
            anyhow::ensure!(!stop.load(Ordering::Relaxed), "stopping");
            let mut tpl = TopicPartitionList::new();
            for p in &positions {
                tpl.add_partition(&self.topic, p.partition);
            }
            let offsets = client
                .committed_offsets(tpl, REQUEST_TIMEOUT)
                .with_context(|| format!("reading the committed offsets of group {group}"))?;
            committed.push((group, offsets));
        }
        for p in &positions {
            let partition = p.partition.to_string();
            metrics::gauge!("tweetpipe_topic_end_offset", "topic" => self.topic.clone(), "partition" => partition.clone())
                .set(p.high as f64);
            for (group, offsets) in &committed {
                let at = match offsets.find_partition(&self.topic, p.partition).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => Some(o),
                    _ => None,
                };
                let labels = [
                    ("group", (*group).clone()),
                    ("topic", self.topic.clone()),
                    ("partition", partition.clone()),
                ];
                if let Some(o) = at {
                    metrics::gauge!("tweetpipe_group_committed_offset", &labels).set(o as f64);
                }
                metrics::gauge!("tweetpipe_group_lag", &labels).set(lag(at, *p) as f64);
            }
        }
        Ok(())
    }
}

/// Serves `/metrics` and reads the offsets every `--interval` until `shutdown` completes.
/// Broker outages and a topic that does not exist yet are logged and retried every round;
/// `/readyz` says whether the last round succeeded.
pub async fn run(args: ExporterArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    anyhow::ensure!(!args.interval.is_zero(), "--interval must be longer than zero");
    let healthy = Arc::new(AtomicBool::new(false));
    let ready = healthy.clone();
    tweetpipe_common::observe::serve(args.http_addr, Arc::new(move || ready.load(Ordering::Relaxed))).await?;
    metrics_catalog::register(Component::Exporter);
    let brokers = Arc::new(Brokers::new(&args)?);
    let stop = Arc::new(AtomicBool::new(false));
    tracing::info!(topic = %args.topic.topic, groups = ?args.groups, interval = ?args.interval, "exporting group lag");

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
mod tests {
    use super::*;

    const P: Position = Position { partition: 0, low: 100, high: 1000 };

    #[test]
    fn lag_counts_what_the_group_has_yet_to_commit() {
        assert_eq!(lag(Some(900), P), 100);
        assert_eq!(lag(Some(1000), P), 0);
        // Never committed: read from the start, so everything left counts.
        assert_eq!(lag(None, P), 900);
        // Committed below what retention kept: only what is left can still be read.
        assert_eq!(lag(Some(10), P), 900);
        // A commit ahead of a watermark read a moment earlier is no negative lag.
        assert_eq!(lag(Some(1005), P), 0);
    }
}
