//! `check`, the part both binaries share: a line per step on stdout, and the Kafka steps —
//! brokers reachable, credentials accepted, the topic's shape, a group's committed position.
//!
//! Every step answers within the check's own deadline instead of start-up's patience, and a
//! failure carries its class ([`crate::exit`]): 78 for settings that will never work, 69 for a
//! server that did not answer in time. Every step runs, whatever failed before it (a Kafka
//! problem must not hide a database one); the check exits with the worst step's code
//! ([`Outcome`]).

use std::fmt::Display;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};

use crate::exit::{class_of, Class, Classified};
use crate::kafka::KafkaSettings;

/// Prints a step that passed.
pub fn ok(step: &str, detail: impl Display) {
    println!("ok    {step}: {detail}");
}

/// Prints a step that failed and hands its error on.
pub fn failed(step: &str, e: anyhow::Error) -> anyhow::Error {
    println!("FAIL  {step}: {}", crate::redact::scrub(&format!("{e:#}")));
    e
}

/// The steps' results so far; the check ends with the worst failure. The order, worst first:
/// 78 configuration (it will never work as set, whatever else comes back), 69 unavailable (a
/// server that may yet answer), 1 anything else, 0 all passed. Among equals the first stays.
#[derive(Debug, Default)]
pub struct Outcome {
    worst: Option<anyhow::Error>,
}

impl Outcome {
    /// Keeps `result`'s failure when it is worse than those before it.
    pub fn record(&mut self, result: anyhow::Result<()>) {
        if let Err(e) = result {
            if self.worst.as_ref().is_none_or(|worst| severity(&e) > severity(worst)) {
                self.worst = Some(e);
            }
        }
    }

    /// The worst failure, or `Ok` when every step passed.
    pub fn finish(self) -> anyhow::Result<()> {
        self.worst.map_or(Ok(()), Err)
    }
}

fn severity(e: &anyhow::Error) -> u8 {
    match class_of(e) {
        Some(Class::Config) => 3,
        Some(Class::Unavailable) => 2,
        None => 1,
    }
}

/// What the check has left of its time.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(timeout: Duration) -> Self {
        Self(Instant::now() + timeout)
    }

    /// The time left, never less than a moment (a step still gets one try).
    pub fn left(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now()).max(Duration::from_millis(500))
    }
}

/// The topic a run would use, and what a run does when it is missing.
pub struct TopicCheck<'a> {
    pub topic: &'a str,
    /// `Some(partitions)` when the run creates a missing topic (the producer's
    /// `--create-topics`); a missing topic is a configuration error otherwise.
    pub created_with: Option<i32>,
    /// The consumer group whose committed position is reported.
    pub group: Option<&'a str>,
}

/// The Kafka steps, blocking (call from `spawn_blocking`).
pub fn kafka(kafka: &KafkaSettings, topic: &TopicCheck<'_>, deadline: Deadline) -> anyhow::Result<()> {
    // What no broker could make work, before asking one.
    crate::kafka_guards::check_settings(kafka).map_err(|e| failed("kafka settings", e))?;
    crate::kafka_guards::check_topic(topic.topic).map_err(|e| failed("kafka topic", e))?;
    // The start-up check, bounded by the check's deadline: it tells a wrong password or CA
    // (78) from brokers that do not answer (69).
    let probe = kafka.for_producer().client_config(&[]);
    crate::kafka_preflight::check_with(probe, deadline.left(), &AtomicBool::new(false))
        .map_err(|e| failed("kafka brokers", e))?;
    let mut config = kafka.client_config(&[("enable.auto.commit", "false")]);
    config.set("group.id", topic.group.unwrap_or("tweetpipe-check"));
    let consumer: BaseConsumer = config.create().map_err(|e| {
        failed("kafka brokers", Classified::config(format!("invalid Kafka client configuration: {e}")))
    })?;
    let metadata = consumer
        .fetch_metadata(Some(topic.topic), deadline.left())
        .map_err(|e| failed("kafka topic", Classified::unavailable(format!("reading metadata: {e}"))))?;
    let brokers: Vec<String> =
        metadata.brokers().iter().map(|b| format!("{}:{}", b.host(), b.port())).collect();
    ok("kafka brokers", format!("reachable, {} broker(s): {}", brokers.len(), brokers.join(", ")));
    ok(
        "kafka authenticated",
        format!(
            "security.protocol={}{}",
            kafka.security_protocol.as_deref().unwrap_or("plaintext"),
            kafka.sasl_mechanism.as_deref().map(|m| format!(", sasl.mechanism={m}")).unwrap_or_default()
        ),
    );
    let partitions: Vec<_> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic.topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter())
        .collect();
    if partitions.is_empty() {
        return match topic.created_with {
            Some(n) => {
                ok("kafka topic", format!("{} is missing; a run creates it ({n} partitions)", topic.topic));
                Ok(())
            }
            None => Err(failed(
                "kafka topic",
                Classified::config(format!(
                    "topic {} does not exist (create it: tweetpipe-producer topic create --topic {})",
                    topic.topic, topic.topic
                )),
            )),
        };
    }
    let replication = partitions.iter().map(|p| p.replicas().len()).min().unwrap_or(0);
    ok(
        "kafka topic",
        format!("{}: {} partitions, replication factor {replication}", topic.topic, partitions.len()),
    );
    let Some(group) = topic.group else { return Ok(()) };
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition(topic.topic, p.id());
    }
    let committed = consumer.committed_offsets(list, deadline.left()).map_err(|e| {
        failed("kafka group", Classified::unavailable(format!("reading {group}'s offsets: {e}")))
    })?;
    let positions: Vec<(i32, i64)> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect();
    if positions.is_empty() {
        ok("kafka group", format!("{group}: no committed offsets yet"));
    } else {
        let shown: Vec<String> = positions.iter().map(|(p, o)| format!("{p}:{o}")).collect();
        ok(
            "kafka group",
            format!(
                "{group}: committed on {} of {} partitions ({})",
                positions.len(),
                partitions.len(),
                shown.join(", ")
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
