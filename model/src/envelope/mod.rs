//! From input documents to Kafka messages: one message per tweet.
//!
//! Accepted shapes:
//! - v1.1: a status object, an array of them, or `{"statuses": [...]}`. Each status goes as it
//!   came (a single-status line byte for byte).
//! - v2: a page `{"data": [...], "includes": {...}}` is split into one stream-line-shaped
//!   message per tweet, `{"data": {...}, "includes": {...}}`, carrying only the includes that
//!   tweet references; a stream line `{"data": {...}, ...}` goes as it came; a bare v2 tweet
//!   object is wrapped as `{"data": ...}`.
//! - Control notices (keep-alives, stream `errors` lines, v1.1 `delete`/`limit`/… notices,
//!   compliance events, empty pages) are recognised and reported, never produced as tweets;
//!   a delete notice or compliance event without a usable id is rejected (`invalid_delete`).
//! - Anything else is rejected with a [`Reject`] naming why, for the dead-letter topic.

//!
//! # Layout
//! - this module: what a document turns into ([`Item`]), the entry points, byte trimming.
//! - [`stream_line`]: the fast path for the usual input, a v2 stream line.
//! - `classify`: the general path over a parsed `Value` (arrays, statuses, single objects).
//! - `notices`: control notices and deletions.
//! - `v2_page`: splitting a v2 page into per-tweet stream lines with their own includes.

mod classify;
mod notices;
pub mod stream_line;
#[cfg(test)]
mod tests;
mod v2_page;

pub use classify::classify_value;
pub use stream_line::stream_line_id;

use bytes::Bytes;

use serde_json::{Map, Value};

use crate::dead_letter::Class;
use crate::id::IdError;
use crate::Format;

/// What one input document turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A tweet to produce, keyed by its id.
    Tweet(TweetMessage),
    /// A notice that is not a tweet: logged and counted by kind.
    Control(&'static str),
    /// X says this tweet was deleted (a v1.1 `delete` notice, a compliance `delete` event):
    /// produced as a tombstone, so the consumer deletes the row.
    Delete(i64),
    /// Input that cannot become a tweet, for the dead-letter topic.
    Reject(Reject),
}

/// One tweet, ready to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct TweetMessage {
    /// The tweet id: the message key, as decimal digits.
    pub id: i64,
    /// Which format `payload` is in.
    pub format: Format,
    /// The JSON value of the message. Shared bytes, so that a line read from a file becomes its
    /// message without a copy (the reader hands out slices of its read buffer).
    pub payload: Bytes,
}

/// Why an input cannot be produced as a tweet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Why: the dead letter's `class` header.
    pub class: Class,
    /// A human-readable explanation.
    pub message: String,
    /// The id, when one could be read (the key of the dead letter).
    pub id: Option<i64>,
    /// The offending element when it is part of a larger document (one status of an array);
    /// `None` means the whole input line is the offender.
    pub payload: Option<Vec<u8>>,
}

impl Reject {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Self { class, message: message.into(), id: None, payload: None }
    }

    pub(crate) fn with_id(mut self, id: i64) -> Self {
        self.id = Some(id);
        self
    }
}

/// Classifies one line (or one whole document) of raw input.
///
/// `raw` is kept so that a single status or stream line is produced byte for byte.
pub fn classify_bytes(raw: &[u8]) -> Vec<Item> {
    let trimmed = trim_ascii(raw);
    if trimmed.is_empty() {
        return vec![Item::Control("keep_alive")];
    }
    match classify_document(trimmed) {
        Ok(items) => items,
        Err(e) => vec![Item::Reject(unparsable(trimmed, &e))],
    }
}

/// Classifies one complete JSON document; the error when it does not parse.
///
/// A v2 stream line, by far the most common input, is recognised by [`stream_line`] without
/// building a `Value` for the whole line; everything else takes the general path.
pub fn classify_document(trimmed: &[u8]) -> Result<Vec<Item>, serde_json::Error> {
    match stream_line::stream_line(trimmed) {
        Some(item) => Ok(vec![item]),
        None => classify_general(trimmed),
    }
}

/// [`classify_document`] without the stream-line fast path, for callers that tried it already.
pub fn classify_general(trimmed: &[u8]) -> Result<Vec<Item>, serde_json::Error> {
    serde_json::from_slice(trimmed).map(|value| classify_value(value, Some(trimmed)))
}

/// The reject for input that is not JSON (or not UTF-8).
pub fn unparsable(raw: &[u8], e: &serde_json::Error) -> Reject {
    let class = if std::str::from_utf8(raw).is_err() { Class::InvalidUtf8 } else { Class::InvalidJson };
    Reject::new(class, format!("not valid JSON: {e}"))
}

/// `b` without leading and trailing ASCII white space (`\r\n` included).
pub fn trim_ascii(b: &[u8]) -> &[u8] {
    &b[trimmed_range(b)]
}

/// Where [`trim_ascii`] cuts.
pub fn trimmed_range(b: &[u8]) -> std::ops::Range<usize> {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    start..end
}

// Helpers the general path's parts (classify, notices, v2_page) share.

fn has_text(obj: &Map<String, Value>) -> bool {
    obj.get("text").is_some_and(Value::is_string) || obj.get("full_text").is_some_and(Value::is_string)
}

fn encode(id: i64, format: Format, value: &Value) -> Item {
    match serde_json::to_vec(value) {
        Ok(payload) => Item::Tweet(TweetMessage { id, format, payload: payload.into() }),
        Err(e) => Item::Reject(Reject::new(Class::EncodeFailed, e.to_string()).with_id(id)),
    }
}

/// Attaches the offending element to a reject, so the dead letter holds just that element.
fn with_element(item: Item, element: Option<&Map<String, Value>>) -> Item {
    match (item, element) {
        (Item::Reject(mut r), Some(el)) if r.payload.is_none() => {
            r.payload = serde_json::to_vec(el).ok();
            Item::Reject(r)
        }
        (item, _) => item,
    }
}

fn reject_id(e: IdError) -> Item {
    let class = match e {
        IdError::Missing => Class::MissingId,
        IdError::Invalid(_) => Class::InvalidId,
    };
    Item::Reject(Reject::new(class, e.to_string()))
}
