//! The fast path for a v2 stream line, by far the most common input: recognised without
//! building a `Value` of the whole line.

use super::{Item, TweetMessage};
use crate::object::Object;
use crate::Format;

/// The shape [`stream_line_id`] recognises: `data` holds one tweet (an object: see
/// [`Object`]), and there is no `statuses`. Unknown fields are skipped without allocating.
#[derive(serde::Deserialize)]
struct StreamLine<'a> {
    #[serde(borrow)]
    data: Option<Object<LineTweet<'a>>>,
    statuses: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct LineTweet<'a> {
    /// Borrowed, so an id with escapes fails here and takes the general path.
    id: Option<&'a str>,
    text: Option<IsString>,
}

/// Accepts any JSON string and keeps nothing of it.
struct IsString;

impl<'de> serde::Deserialize<'de> for IsString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IsString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<IsString, E> {
                Ok(IsString)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// A well-formed v2 stream line, produced byte for byte; `None` sends the line down the general
/// path, which gives the same answer for these lines and a precise one for everything else
/// (duplicate keys, odd ids, a missing text, notices, pages).
pub(super) fn stream_line(raw: &[u8]) -> Option<Item> {
    let id = stream_line_id(raw)?;
    Some(Item::Tweet(TweetMessage { id, format: Format::V2, payload: raw.to_vec() }))
}

/// The tweet id of a line this fast path recognises: such a line is its own message.
pub fn stream_line_id(raw: &[u8]) -> Option<i64> {
    // Skipped fields are not checked for UTF-8 by serde_json; the whole line is, here.
    let text = std::str::from_utf8(raw).ok()?;
    let Object(line): Object<StreamLine<'_>> = serde_json::from_str(text).ok()?;
    let tweet = line.data?;
    if line.statuses.is_some() || tweet.text.is_none() {
        return None;
    }
    crate::id::parse_id_str(tweet.id?).ok()
}
