//! The Kafka side of the producer: one message per tweet, keyed by id, with format and source
//! headers; dead letters to `<topic>.dlq`; every delivery report awaited and counted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message as _};
use tokio::sync::mpsc::Receiver;
use tweetpipe_model::envelope::{Item, Reject, TweetMessage};
use tweetpipe_common::kafka::{dlq, HEADER_FORMAT, HEADER_SOURCE};

use crate::cli::ProduceArgs;
use crate::source::{Msg, StopFlag};
use crate::summary::Summary;

/// Header giving the input line a tweet came from.
pub const HEADER_LINE: &str = "tweetpipe.source.line";

/// Delivery reports, counted as they arrive on librdkafka's thread.
#[derive(Debug, Default)]
struct Deliveries {
    tweets: AtomicU64,
    tweet_bytes: AtomicU64,
    dead_letters: AtomicU64,
    failed: AtomicU64,
}

struct DeliveryContext {
    deliveries: Arc<Deliveries>,
    /// Deliveries to this topic count as dead letters.
    dlq_topic: String,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(msg) if msg.topic() == self.dlq_topic => {
                self.deliveries.dead_letters.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("tweetpipe_dead_lettered_total", "stage" => "producer").increment(1);
            }
            // A tombstone (a deletion), counted when it was sent.
            Ok(msg) if msg.payload().is_none() => {}
            Ok(msg) => {
                self.deliveries.tweets.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("tweetpipe_produced_total").increment(1);
                let len = msg.payload_len() as u64;
                self.deliveries.tweet_bytes.fetch_add(len, Ordering::Relaxed);
            }
            Err((e, msg)) => {
                self.deliveries.failed.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("tweetpipe_delivery_failures_total").increment(1);
                let key = msg.key().map(String::from_utf8_lossy).unwrap_or_default();
                tracing::error!(topic = msg.topic(), key = %key, error = %e, "delivery failed");
            }
        }
    }
}

/// The idempotent producer and where it sends.
pub struct KafkaSink {
    producer: Arc<ThreadedProducer<DeliveryContext>>,
    deliveries: Arc<Deliveries>,
    topic: String,
    dlq_topic: String,
    max_message_bytes: usize,
    flush_timeout: Duration,
}

impl KafkaSink {
    pub fn new(args: &ProduceArgs, dlq_topic: &str) -> anyhow::Result<Self> {
        let deliveries = Arc::new(Deliveries::default());
        let context = DeliveryContext { deliveries: deliveries.clone(), dlq_topic: dlq_topic.to_owned() };
        // The broker must accept what we decided to send: leave room for headers and framing.
        let message_max = (args.max_message_bytes + 64 * 1024).to_string();
        let producer: ThreadedProducer<DeliveryContext> = args
            .kafka
            .client_config(&[
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("compression.type", "lz4"),
                ("linger.ms", "20"),
                ("batch.size", "1000000"),
                ("queue.buffering.max.messages", "200000"),
                // 64 MiB in flight keeps the broker busy (a larger queue measured no faster) and
                // bounds the producer's memory (see README, Performance).
                ("queue.buffering.max.kbytes", "65536"),
                ("message.max.bytes", &message_max),
                // Java's default partitioner: keys land where Java clients would put them.
                ("partitioner", "murmur2_random"),
                ("message.timeout.ms", "300000"),
                // Produce to added partitions within seconds, not the default five minutes.
                ("topic.metadata.refresh.interval.ms", "10000"),
            ])
            .create_with_context(context)
            .context("invalid Kafka producer configuration")?;
        Ok(Self {
            producer: Arc::new(producer),
            deliveries,
            topic: args.topic.clone(),
            dlq_topic: dlq_topic.to_owned(),
            max_message_bytes: args.max_message_bytes,
            flush_timeout: args.flush_timeout(),
        })
    }

    /// Produces every record until the channel closes, then flushes and reports.
    pub async fn drain(self, mut rx: Receiver<Msg>, stop: &StopFlag) -> anyhow::Result<Summary> {
        let started = Instant::now();
        let mut control: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut deletes = 0u64;
        let mut last_progress = Instant::now();
        while let Some(msg) = rx.recv().await {
            let record = match msg {
                Msg::Record(r) => r,
                Msg::Flush(reply) => {
                    let _ = reply.send(self.flush_now().await);
                    continue;
                }
            };
            metrics::gauge!("tweetpipe_producer_queue_depth").set(rx.len() as f64);
            match record.item {
                Item::Tweet(tweet) => self.send_tweet(&record.origin, record.line, tweet).await,
                Item::Delete(id) => {
                    self.tombstone(&record.origin, id).await;
                    deletes += 1;
                }
                Item::Control(kind) => {
                    *control.entry(kind).or_default() += 1;
                    tracing::debug!(source = %record.origin, line = record.line, kind, "control message");
                }
                Item::Reject(reject) => self.dead_letter(&record.origin, record.line, reject).await,
            }
            if last_progress.elapsed() > Duration::from_secs(10) {
                last_progress = Instant::now();
                tracing::info!(
                    delivered = self.deliveries.tweets.load(Ordering::Relaxed),
                    in_flight = self.producer.in_flight_count(),
                    queue_depth = rx.len(),
                    "producing"
                );
            }
        }
        if stop.is_stopped() {
            tracing::info!("stopped reading; flushing what was sent");
        }
        let producer = self.producer.clone();
        let timeout = self.flush_timeout;
        let flushed = tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .context("flush task panicked")?;
        let unflushed = self.producer.in_flight_count().max(0) as u64;
        if let Err(e) = flushed {
            tracing::error!(error = %e, unflushed, "flush did not complete");
        }
        Ok(Summary {
            lines: 0,
            bytes_read: 0,
            tweets: self.deliveries.tweets.load(Ordering::Relaxed),
            tweet_bytes: self.deliveries.tweet_bytes.load(Ordering::Relaxed),
            dead_lettered: self.deliveries.dead_letters.load(Ordering::Relaxed),
            control,
            failed: self.deliveries.failed.load(Ordering::Relaxed) + unflushed,
            elapsed: started.elapsed(),
            x: Default::default(),
            deletes,
        })
    }

    /// Waits for every outstanding delivery; true if all of them (and all before) succeeded.
    async fn flush_now(&self) -> bool {
        let failed_before = self.deliveries.failed.load(Ordering::Relaxed);
        let producer = self.producer.clone();
        let timeout = self.flush_timeout;
        let flushed = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
        matches!(flushed, Ok(Ok(())))
            && failed_before == 0
            && self.deliveries.failed.load(Ordering::Relaxed) == 0
    }

    async fn send_tweet(&self, origin: &str, line: u64, tweet: TweetMessage) {
        if tweet.payload.len() > self.max_message_bytes {
            let reject = Reject {
                id: Some(tweet.id),
                payload: Some(tweet.payload),
                ..Reject::new(
                    "oversized",
                    format!("tweet message exceeds the limit of {} bytes", self.max_message_bytes),
                )
            };
            return self.dead_letter(origin, line, reject).await;
        }
        let key = tweet.id.to_string();
        let line = line.to_string();
        let headers = OwnedHeaders::new_with_capacity(3)
            .insert(Header { key: HEADER_FORMAT, value: Some(tweet.format.as_str()) })
            .insert(Header { key: HEADER_SOURCE, value: Some(origin) })
            .insert(Header { key: HEADER_LINE, value: Some(&line) });
        let record = BaseRecord::to(&self.topic).key(&key).payload(&tweet.payload).headers(headers);
        self.send(record).await;
    }

    /// A deletion: the tweet's key with no value. The consumer deletes the row, and a compacted
    /// topic eventually drops the tweet's earlier messages too.
    async fn tombstone(&self, origin: &str, id: i64) {
        let key = id.to_string();
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header { key: HEADER_FORMAT, value: Some("delete") })
            .insert(Header { key: HEADER_SOURCE, value: Some(origin) });
        self.send(BaseRecord::to(&self.topic).key(&key).headers(headers)).await;
    }

    async fn dead_letter(&self, origin: &str, line: u64, reject: Reject) {
        tracing::warn!(source = origin, line, class = reject.class, reason = %reject.message, "dead-lettering input");
        let mut value = reject.payload.unwrap_or_default();
        let original_size = value.len();
        let keep = self.max_message_bytes.clamp(1024, 64 * 1024);
        let truncated = value.len() > self.max_message_bytes;
        if truncated {
            value.truncate(keep);
        }
        let key = reject.id.map(|id| id.to_string());
        let line = line.to_string();
        let size = original_size.to_string();
        let mut headers = OwnedHeaders::new_with_capacity(6)
            .insert(Header { key: dlq::STAGE, value: Some("producer") })
            .insert(Header { key: dlq::CLASS, value: Some(reject.class) })
            .insert(Header { key: dlq::MESSAGE, value: Some(&reject.message) })
            .insert(Header { key: dlq::SOURCE, value: Some(origin) })
            .insert(Header { key: dlq::LINE, value: Some(&line) });
        if truncated {
            headers = headers.insert(Header { key: dlq::ORIGINAL_SIZE, value: Some(&size) });
        }
        let mut record = BaseRecord::to(&self.dlq_topic).payload(&value).headers(headers);
        if let Some(key) = &key {
            record = record.key(key);
        }
        self.send(record).await;
    }

    /// Enqueues a record, waiting while librdkafka's queue is full. Other errors are counted as
    /// failed deliveries.
    async fn send(&self, mut record: BaseRecord<'_, String, Vec<u8>>) {
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, back)) => {
                    self.deliveries.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(topic = back.topic, error = %e, "cannot enqueue message");
                    return;
                }
            }
        }
    }
}
