//! The one dead-letter type. Whatever refuses a record — the producer's classifier, the
//! consumer's parser, the database — describes it as a [`DeadLetter`]: a stable [`Class`], a
//! human-readable message and where the record came from. [`DeadLetter::to_headers`] is the
//! only place the `tweetpipe.errors.*` headers are written, and [`DeadLetter::fit`] the only
//! place a value is cut to fit the dead-letter topic.

use rdkafka::message::{Header, OwnedHeaders};

use crate::kafka::dlq;

/// Dead-letter values are cut to this many bytes, far below any topic's `max.message.bytes`
/// (1 MB by default), so a dead letter is never refused for its size.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The reason and any copied header value are cut to this many bytes.
pub const MAX_HEADER_BYTES: usize = 4 * 1024;

/// Why a record could not be stored; defined with the tweet model (pure), used here.
pub use tweetpipe_model::dead_letter::Class;

/// Where a dead-lettered record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Producer: an input (`file:PATH`, `stdin`, `x-stream`…) and its 1-based line.
    Input { source: String, line: u64 },
    /// Consumer: the Kafka coordinates it was read from.
    Kafka { topic: String, partition: i32, offset: i64 },
}

/// One refused record, described once, written the same way by both binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub class: Class,
    pub message: String,
    pub origin: Origin,
}

impl DeadLetter {
    pub fn new(class: Class, message: impl Into<String>, origin: Origin) -> Self {
        Self { class, message: message.into(), origin }
    }

    fn stage(&self) -> &'static str {
        match self.origin {
            Origin::Input { .. } => "producer",
            Origin::Kafka { .. } => "consumer",
        }
    }

    /// The headers of the dead letter. `original` are the record's own headers: they are kept
    /// (format, source), except that any `tweetpipe.errors.*` header the record already carried
    /// is renamed to `tweetpipe.errors.original.*`, so a sender cannot spoof ours.
    pub fn to_headers(
        &self,
        original: Option<&dyn HeaderSource>,
        original_size: Option<usize>,
    ) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new();
        if let Some(original) = original {
            for (key, value) in original.header_pairs() {
                let value = value.map(|v| cut(v, MAX_HEADER_BYTES));
                headers = match key.strip_prefix(dlq::PREFIX) {
                    Some(rest) => {
                        let renamed = format!("{}original.{rest}", dlq::PREFIX);
                        headers.insert(Header { key: &renamed, value })
                    }
                    None => headers.insert(Header { key, value }),
                };
            }
        }
        let message = cut(self.message.as_bytes(), MAX_HEADER_BYTES);
        headers = headers
            .insert(Header { key: dlq::STAGE, value: Some(self.stage()) })
            .insert(Header { key: dlq::CLASS, value: Some(self.class.as_str()) })
            .insert(Header { key: dlq::MESSAGE, value: Some(message) });
        headers = match &self.origin {
            Origin::Input { source, line } => headers
                .insert(Header { key: dlq::SOURCE, value: Some(cut(source.as_bytes(), MAX_HEADER_BYTES)) })
                .insert(Header { key: dlq::LINE, value: Some(&line.to_string()) }),
            Origin::Kafka { topic, partition, offset } => headers
                .insert(Header { key: dlq::TOPIC, value: Some(topic) })
                .insert(Header { key: dlq::PARTITION, value: Some(&partition.to_string()) })
                .insert(Header { key: dlq::OFFSET, value: Some(&offset.to_string()) }),
        };
        if let Some(size) = original_size {
            headers = headers.insert(Header { key: dlq::ORIGINAL_SIZE, value: Some(&size.to_string()) });
        }
        headers
    }

    /// The value to send: `value` itself, or its first [`MAX_VALUE_BYTES`] and the original size
    /// (for the `original.size` header) when it is longer.
    pub fn fit(value: &[u8]) -> (&[u8], Option<usize>) {
        if value.len() > MAX_VALUE_BYTES {
            (&value[..MAX_VALUE_BYTES], Some(value.len()))
        } else {
            (value, None)
        }
    }
}

fn cut(bytes: &[u8], limit: usize) -> &[u8] {
    &bytes[..bytes.len().min(limit)]
}

/// Anything that can list a record's headers (librdkafka's borrowed and owned headers).
pub trait HeaderSource {
    fn header_pairs(&self) -> Vec<(&str, Option<&[u8]>)>;
}

impl<H: rdkafka::message::Headers> HeaderSource for H {
    fn header_pairs(&self) -> Vec<(&str, Option<&[u8]>)> {
        self.iter().map(|h| (h.key, h.value)).collect()
    }
}

#[cfg(test)]
mod tests;
