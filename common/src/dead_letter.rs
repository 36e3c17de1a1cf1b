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
mod tests {
    use rdkafka::message::Headers as _;

    use super::*;

    fn pairs(h: &OwnedHeaders) -> Vec<(String, String)> {
        h.iter()
            .map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
            .collect()
    }

    #[test]
    fn consumer_headers_say_where_and_why() {
        let dl = DeadLetter::new(
            Class::DbRejected,
            "54000: index row size exceeds maximum",
            Origin::Kafka { topic: "tweets".into(), partition: 3, offset: 42 },
        );
        let got = pairs(&dl.to_headers(None, None));
        assert!(got.contains(&("tweetpipe.errors.stage".into(), "consumer".into())));
        assert!(got.contains(&("tweetpipe.errors.class".into(), "db_rejected".into())));
        assert!(got.contains(&("tweetpipe.errors.partition".into(), "3".into())));
        assert!(got.contains(&("tweetpipe.errors.offset".into(), "42".into())));
    }

    #[test]
    fn incoming_error_headers_are_renamed_not_trusted() {
        let spoofed = OwnedHeaders::new()
            .insert(Header { key: "tweetpipe.errors.class", value: Some("fake") })
            .insert(Header { key: "tweetpipe.format", value: Some("v2") });
        let dl = DeadLetter::new(
            Class::InvalidJson,
            "bad",
            Origin::Kafka { topic: "t".into(), partition: 0, offset: 1 },
        );
        let got = pairs(&dl.to_headers(Some(&spoofed), None));
        let classes: Vec<_> = got.iter().filter(|(k, _)| k == "tweetpipe.errors.class").collect();
        assert_eq!(classes, [&("tweetpipe.errors.class".to_owned(), "invalid_json".to_owned())]);
        assert!(got.contains(&("tweetpipe.errors.original.class".into(), "fake".into())));
        assert!(got.contains(&("tweetpipe.format".into(), "v2".into())));
    }

    #[test]
    fn values_and_headers_are_cut_to_fit() {
        let big = vec![b'x'; MAX_VALUE_BYTES * 3];
        let (value, size) = DeadLetter::fit(&big);
        assert_eq!((value.len(), size), (MAX_VALUE_BYTES, Some(MAX_VALUE_BYTES * 3)));
        let small = b"{}".to_vec();
        assert_eq!(DeadLetter::fit(&small), (&small[..], None));

        let huge_header = OwnedHeaders::new().insert(Header { key: "x", value: Some(&big[..]) });
        let dl = DeadLetter::new(
            Class::Oversized,
            "m".repeat(100_000),
            Origin::Input { source: "stdin".into(), line: 1 },
        );
        let headers = dl.to_headers(Some(&huge_header), Some(big.len()));
        assert!(headers.iter().all(|h| h.value.map_or(0, <[u8]>::len) <= MAX_HEADER_BYTES));
    }
}
