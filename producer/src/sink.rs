//! The Kafka side of the producer: one message per tweet, keyed by id (with format, source and
//! line headers when asked for); dead letters to `<topic>.dlq` (one [`DeadLetter`] each); every
//! delivery report awaited and counted. On shutdown it stops taking new records, sends what is
//! already queued, and flushes, all within the flush timeout.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders, ToBytes};
use rdkafka::producer::{BaseRecord, Producer as _, ThreadedProducer};
use tokio::sync::mpsc::Receiver;
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::dead_letter::{DeadLetter, Origin};
use tweetpipe_common::kafka::{dlq_topic, KafkaSettings, HEADER_FORMAT, HEADER_SOURCE};
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::dead_letter::Class;
use tweetpipe_model::envelope::{Item, Reject, TweetMessage};

use crate::ready::{self, ProducerId};
use crate::record::Msg;
use crate::summary::Summary;

mod delivery;
use delivery::{Clock, Deliveries, DeliveryContext, Kind};

/// What the sink needs to know: where to send, how large a tweet may be, how long to flush.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub kafka: KafkaSettings,
    /// The topic; dead letters go to `<topic>.dlq`.
    pub topic: String,
    /// Largest tweet message; a larger one is dead-lettered (`oversized`).
    pub max_message_bytes: usize,
    /// How long the final flush (and, after a shutdown signal, sending what is queued) may take.
    pub flush_timeout: Duration,
    /// Whether tweets and deletions carry the format, source and line headers.
    pub lineage_headers: bool,
}

/// The most messages (records, or batches of them) taken off the channel at once.
const RECEIVE_BATCH: usize = 64;

/// Header giving the input line a tweet came from.
pub const HEADER_LINE: &str = "tweetpipe.source.line";

/// The idempotent producer and where it sends.
pub struct KafkaSink {
    producer: Arc<ThreadedProducer<DeliveryContext>>,
    deliveries: Arc<Deliveries>,
    topic: Arc<str>,
    dlq_topic: Arc<str>,
    max_message_bytes: usize,
    flush_timeout: Duration,
    lineage_headers: bool,
    /// Set on shutdown: queued records are sent, and the flush done, by then.
    deadline: Option<Instant>,
    /// The run's clock starts here, so the wait for a producer id counts in its rate.
    created: Instant,
    dead_letter_classes: BTreeMap<&'static str, u64>,
    control: BTreeMap<&'static str, u64>,
    deletes: u64,
    clock: Clock,
}

impl KafkaSink {
    pub fn new(settings: &SinkSettings) -> anyhow::Result<Self> {
        let dlq_topic = dlq_topic(&settings.topic);
        let deliveries = Arc::new(Deliveries::default());
        let context = DeliveryContext {
            deliveries: deliveries.clone(),
            produced: metrics::counter!("tweetpipe_produced_total"),
            dead_lettered: metrics::counter!("tweetpipe_dead_lettered_total", "stage" => "producer"),
            failures: metrics::counter!("tweetpipe_delivery_failures_total"),
            producer_id: ProducerId::default(),
        };
        // The broker must accept what we decided to send: leave room for headers and framing.
        let message_max = (settings.max_message_bytes + 64 * 1024).to_string();
        let producer: ThreadedProducer<DeliveryContext> = settings
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
                ("statistics.interval.ms", ready::STATISTICS_INTERVAL_MS),
            ])
            .create_with_context(context)
            .context("invalid Kafka producer configuration")?;
        Ok(Self {
            producer: Arc::new(producer),
            deliveries,
            topic: settings.topic.as_str().into(),
            dlq_topic: dlq_topic.into(),
            max_message_bytes: settings.max_message_bytes,
            flush_timeout: settings.flush_timeout,
            lineage_headers: settings.lineage_headers,
            deadline: None,
            created: Instant::now(),
            dead_letter_classes: BTreeMap::new(),
            control: BTreeMap::new(),
            deletes: 0,
            clock: Clock::new(),
        })
    }

    /// Waits until librdkafka holds a producer id (see [`crate::ready`]), at most ten seconds.
    pub async fn connected(&self, shutdown: &Shutdown) {
        self.producer.context().producer_id.assigned(Duration::from_secs(10), shutdown).await;
    }

    /// Produces every record until the channel closes, or until `shutdown` and then what is
    /// already queued; then flushes and reports.
    pub async fn drain(mut self, mut rx: Receiver<Msg>, shutdown: &Shutdown) -> anyhow::Result<Summary> {
        let mut last_progress = Instant::now();
        let mut closed = false;
        let queue_depth = metrics::gauge!("tweetpipe_producer_queue_depth");
        let mut batch = Vec::with_capacity(RECEIVE_BATCH);
        loop {
            let received = tokio::select! {
                biased;
                () = shutdown.cancelled(), if !closed => {
                    // Readers stop sending (a reader blocked on input that stays open is not
                    // waited for); what they sent before is still produced.
                    closed = true;
                    rx.close();
                    self.stopping();
                    tracing::info!(queued = rx.len(), "stopping: sending what was read, then flushing");
                    continue;
                }
                received = rx.recv_many(&mut batch, RECEIVE_BATCH) => received,
            };
            if received == 0 {
                break;
            }
            queue_depth.set(rx.len() as f64);
            for msg in batch.drain(..) {
                self.clock.tick();
                match msg {
                    Msg::Record(r) => self.produce(&r.origin, r.line, r.item, shutdown).await,
                    Msg::Records(records) => {
                        for (line, item) in records.items {
                            self.produce(&records.origin, line, item, shutdown).await;
                        }
                    }
                    Msg::Flush(reply) => {
                        let _ = reply.send(self.flush_now(shutdown).await);
                    }
                }
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
        if !closed {
            tracing::info!(in_flight = self.producer.in_flight_count(), "all input read; flushing");
        }
        let producer = self.producer.clone();
        let timeout = self.time_left();
        let flushed = tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .context("flush task panicked")?;
        // Only a flush that timed out leaves messages behind. (The queue length also counts
        // statistics events not yet served, so after a good flush it may read 1.)
        let unflushed = match flushed {
            Ok(()) => 0,
            Err(e) => {
                let unflushed = self.producer.in_flight_count().max(0) as u64;
                tracing::error!(error = %e, unflushed, "flush did not complete");
                unflushed
            }
        };
        Ok(Summary {
            tweets: self.deliveries.tweets.load(Ordering::Relaxed),
            tweet_bytes: self.deliveries.tweet_bytes.load(Ordering::Relaxed),
            dead_lettered: self.deliveries.dead_letters.load(Ordering::Relaxed),
            dead_letter_classes: std::mem::take(&mut self.dead_letter_classes),
            control: std::mem::take(&mut self.control),
            failed: self.deliveries.failed.load(Ordering::Relaxed) + unflushed,
            elapsed: self.created.elapsed(),
            deletes: self.deletes,
            interrupted: self.deadline.is_some(),
            ..Summary::default()
        })
    }

    /// Shutdown began: from now on everything must be done within the flush timeout.
    fn stopping(&mut self) {
        let timeout = self.flush_timeout;
        self.deadline.get_or_insert_with(|| Instant::now() + timeout);
    }

    /// How long a flush may wait: the flush timeout, or what is left of it after a shutdown.
    fn time_left(&self) -> Duration {
        match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => self.flush_timeout,
        }
    }

    /// Waits for every outstanding delivery; true if all of them (and all before) succeeded.
    async fn flush_now(&self, shutdown: &Shutdown) -> bool {
        let failed_before = self.deliveries.failed.load(Ordering::Relaxed);
        let producer = self.producer.clone();
        let timeout = self.time_left();
        let flush = tokio::task::spawn_blocking(move || producer.flush(timeout));
        // A shutdown does not wait for this flush: the final one follows, within the deadline.
        let flushed = tokio::select! {
            flushed = flush => flushed,
            () = shutdown.cancelled() => return false,
        };
        matches!(flushed, Ok(Ok(())))
            && failed_before == 0
            && self.deliveries.failed.load(Ordering::Relaxed) == 0
    }

    async fn produce(&mut self, origin: &str, line: u64, item: Item, shutdown: &Shutdown) {
        match item {
            Item::Tweet(tweet) => self.send_tweet(origin, line, tweet, shutdown).await,
            Item::Delete(id) => {
                self.tombstone(origin, id, shutdown).await;
                self.deletes += 1;
            }
            Item::Control(kind) => {
                *self.control.entry(kind).or_default() += 1;
                tracing::debug!(source = %origin, line, kind, "control message");
            }
            Item::Reject(reject) => self.dead_letter(origin, line, reject, shutdown).await,
        }
    }

    async fn send_tweet(&mut self, origin: &str, line: u64, tweet: TweetMessage, shutdown: &Shutdown) {
        if tweet.payload.len() > self.max_message_bytes {
            let reject = Reject {
                id: Some(tweet.id),
                payload: Some(tweet.payload.to_vec()),
                ..Reject::new(
                    Class::Oversized,
                    format!("tweet message exceeds the limit of {} bytes", self.max_message_bytes),
                )
            };
            return self.dead_letter(origin, line, reject, shutdown).await;
        }
        let mut key = itoa::Buffer::new();
        let mut line_number = itoa::Buffer::new();
        let topic = self.topic.clone();
        let mut record = BaseRecord::with_opaque_to(&topic, Kind::Tweet as usize)
            .key(key.format(tweet.id))
            .payload(&tweet.payload[..]);
        if self.lineage_headers {
            record = record.headers(
                OwnedHeaders::new_with_capacity(3)
                    .insert(Header { key: HEADER_FORMAT, value: Some(tweet.format.as_str()) })
                    .insert(Header { key: HEADER_SOURCE, value: Some(origin) })
                    .insert(Header { key: HEADER_LINE, value: Some(line_number.format(line)) }),
            );
        }
        self.send(record, shutdown).await;
    }

    /// A deletion: the tweet's key with no value. The consumer deletes the row, and a compacted
    /// topic eventually drops the tweet's earlier messages too.
    async fn tombstone(&mut self, origin: &str, id: i64, shutdown: &Shutdown) {
        let mut key = itoa::Buffer::new();
        let topic = self.topic.clone();
        let mut record = BaseRecord::<str, [u8], usize>::with_opaque_to(&topic, Kind::Tombstone as usize)
            .key(key.format(id));
        if self.lineage_headers {
            record = record.headers(
                OwnedHeaders::new_with_capacity(2)
                    .insert(Header { key: HEADER_FORMAT, value: Some("delete") })
                    .insert(Header { key: HEADER_SOURCE, value: Some(origin) }),
            );
        }
        self.send(record, shutdown).await;
    }

    async fn dead_letter(&mut self, origin: &str, line: u64, reject: Reject, shutdown: &Shutdown) {
        tracing::warn!(source = origin, line, class = %reject.class, reason = %reject.message, "dead-lettering input");
        *self.dead_letter_classes.entry(reject.class.as_str()).or_default() += 1;
        let letter =
            DeadLetter::new(reject.class, reject.message, Origin::Input { source: origin.to_owned(), line });
        let value = reject.payload.unwrap_or_default();
        let (value, original_size) = DeadLetter::fit(&value);
        let mut key = itoa::Buffer::new();
        let topic = self.dlq_topic.clone();
        let mut record = BaseRecord::with_opaque_to(&topic, Kind::DeadLetter as usize)
            .payload(value)
            .headers(letter.to_headers(None, original_size));
        if let Some(id) = reject.id {
            record = record.key(key.format(id));
        }
        self.send(record, shutdown).await;
    }

    /// Enqueues a record, waiting while librdkafka's queue is full — after a shutdown signal
    /// only until the flush deadline. A record that cannot be enqueued counts as failed.
    async fn send<K: ToBytes + ?Sized, P: ToBytes + ?Sized>(
        &mut self,
        mut record: BaseRecord<'_, K, P, usize>,
        shutdown: &Shutdown,
    ) {
        let mut backoff = None;
        loop {
            match self.producer.send(record.timestamp(self.clock.ms)) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    if shutdown.is_cancelled() {
                        self.stopping();
                    }
                    if self.deadline.is_some_and(|d| Instant::now() >= d) {
                        self.deliveries.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(topic = record.topic, "queue still full at the flush deadline");
                        return;
                    }
                    let backoff = backoff.get_or_insert_with(Backoff::queue_full);
                    tokio::time::sleep(backoff.next_delay()).await;
                    self.clock.tick();
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
