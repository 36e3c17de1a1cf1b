//! Sending what the consumer cannot store to `<topic>.dlq`. The headers and the cut come from
//! [`tweetpipe_common::dead_letter::DeadLetter`]; this module only sends and waits. Each send is
//! awaited: the record's offset is stored only once its dead letter is safe, or counted lost.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::dead_letter::{Class, DeadLetter, HeaderSource, Origin, MAX_HEADER_BYTES};
use tweetpipe_common::kafka::{dlq_topic, KafkaSettings};
use tweetpipe_common::shutdown::Shutdown;

/// What became of one dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The broker acknowledged it.
    Delivered,
    /// The broker refused it for good (its size, the topic's rules, authorisation): logged with
    /// the record's coordinates and counted, and the consumer moves on.
    Lost,
    /// The drain deadline passed while retrying: the batch is abandoned, nothing is stored.
    Abandoned,
}

pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
    /// Cancelled when the drain deadline after SIGTERM has passed.
    give_up: Shutdown,
}

impl DeadLetters {
    pub fn new(kafka: &KafkaSettings, source_topic: &str, give_up: Shutdown) -> anyhow::Result<Self> {
        let producer = kafka
            .for_producer()
            .client_config(&[("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "5")])
            .create()
            .context("creating the dead-letter producer")?;
        Ok(Self { producer, topic: dlq_topic(source_topic), give_up })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends one dead letter and waits for the broker's acknowledgement, retrying transient
    /// failures (a broker away) until the drain deadline: losing a dead letter would lose the
    /// record. The value is cut to fit ([`DeadLetter::fit`]), the key too.
    pub async fn send(&self, msg: &OwnedMessage, class: Class, reason: &str) -> Sent {
        let origin =
            Origin::Kafka { topic: msg.topic().to_owned(), partition: msg.partition(), offset: msg.offset() };
        let letter = DeadLetter::new(class, reason, origin);
        let (value, original_size) = DeadLetter::fit(msg.payload().unwrap_or_default());
        let key = msg.key().map(|k| &k[..k.len().min(MAX_HEADER_BYTES)]);
        let mut backoff = Backoff::dead_letter();
        loop {
            let original = msg.headers().map(|h| h as &dyn HeaderSource);
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic)
                .payload(value)
                .headers(letter.to_headers(original, original_size));
            if let Some(key) = key {
                record = record.key(key);
            }
            let result = tokio::select! {
                r = self.producer.send(record, Duration::from_secs(30)) => r.map(|_| ()).map_err(|(e, _)| e),
                () = self.give_up.cancelled() => return Sent::Abandoned,
            };
            let e = match result {
                Ok(()) => return Sent::Delivered,
                Err(e) => e,
            };
            if is_permanent(&e) {
                tracing::error!(error = %e, partition = msg.partition(), offset = msg.offset(), class = %class, "dead letter refused by the broker for good; counted as lost");
                return Sent::Lost;
            }
            tracing::error!(error = %e, attempt = backoff.attempts() + 1, "dead letter not acknowledged; retrying");
            if !backoff.wait(&self.give_up).await {
                return Sent::Abandoned;
            }
        }
    }
}

/// Refusals that no retry can fix: the same record would be refused again. A missing
/// authorisation is not one of them: like a database privilege, it is an outage an operator
/// fixes, waited out rather than turned into a lost record.
fn is_permanent(e: &KafkaError) -> bool {
    let code = match e {
        KafkaError::MessageProduction(code) => *code,
        _ => return false,
    };
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::MessageBatchTooLarge
            | RDKafkaErrorCode::InvalidRequiredAcks
            | RDKafkaErrorCode::PolicyViolation
            | RDKafkaErrorCode::UnsupportedCompressionType
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_refusals_are_permanent_outages_and_authorisation_are_not() {
        assert!(is_permanent(&KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)));
        assert!(!is_permanent(&KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed)));
        assert!(!is_permanent(&KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)));
        assert!(!is_permanent(&KafkaError::MessageProduction(RDKafkaErrorCode::AllBrokersDown)));
    }
}
