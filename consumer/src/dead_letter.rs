//! Records the consumer cannot store go to `<topic>.dlq`, with Kafka-Connect-style headers
//! saying where they came from and why. Each send is awaited: the record's offset is stored only
//! once its dead letter is safe.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::message::{Header, Headers as _, Message as _, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tweetpipe_common::kafka::{dlq, dlq_topic, KafkaArgs};

pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetters {
    pub fn new(kafka: &KafkaArgs, source_topic: &str) -> anyhow::Result<Self> {
        let producer = kafka
            .for_producer()
            .client_config(&[("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "5")])
            .create()
            .context("creating the dead-letter producer")?;
        Ok(Self { producer, topic: dlq_topic(source_topic) })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends one dead letter and waits for the broker's acknowledgement, retrying until it
    /// comes: losing a dead letter would lose the record.
    pub async fn send(&self, msg: &OwnedMessage, class: &str, reason: &str) {
        let partition = msg.partition().to_string();
        let offset = msg.offset().to_string();
        let mut delay = Duration::from_millis(100);
        loop {
            let mut headers = OwnedHeaders::new();
            // Keep the original headers (format, source) next to ours.
            if let Some(original) = msg.headers() {
                for h in original.iter() {
                    headers = headers.insert(Header { key: h.key, value: h.value });
                }
            }
            headers = headers
                .insert(Header { key: dlq::STAGE, value: Some("consumer") })
                .insert(Header { key: dlq::CLASS, value: Some(class) })
                .insert(Header { key: dlq::MESSAGE, value: Some(reason) })
                .insert(Header { key: dlq::TOPIC, value: Some(msg.topic()) })
                .insert(Header { key: dlq::PARTITION, value: Some(&partition) })
                .insert(Header { key: dlq::OFFSET, value: Some(&offset) });
            let mut record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(&self.topic).payload(msg.payload().unwrap_or_default()).headers(headers);
            if let Some(key) = msg.key() {
                record = record.key(key);
            }
            match self.producer.send(record, Duration::from_secs(30)).await {
                Ok(_) => return,
                Err((e, _)) => {
                    tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "dead letter not acknowledged; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
