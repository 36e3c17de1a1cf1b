//! The general path: a parsed document (array, `statuses`, page, stream line, single object)
//! into items.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::notices::classify_notice;
use super::v2_page::split_v2_page;
use super::{encode, has_text, reject_id, with_element, Item, Reject, TweetMessage};
use crate::dead_letter::Class;
use crate::id::{v1_id, v2_id, IdError};
use crate::Format;

/// Classifies a parsed document. `raw`, when given, is the exact text of `value`.
///
/// A document serde_json reads but PostgreSQL could not store (a number out of `numeric`'s
/// range, see [`crate::json_limits`]) is refused whole, as serde_json refuses one out of an
/// `f64`'s range: its text may be produced as it came. Without `raw`, what is produced is
/// serde_json's own encoding of `value`, which always fits.
pub fn classify_value(value: Value, raw: Option<&[u8]>) -> Vec<Item> {
    if let Some(Err(e)) = raw.map(crate::json_limits::check) {
        return vec![Item::Reject(Reject::new(Class::InvalidJson, format!("not valid JSON: {e}")))];
    }
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return vec![Item::Control("empty_page")];
            }
            items.into_iter().map(|v| classify_single(v, None)).collect()
        }
        Value::Object(mut obj) => {
            // Which would be produced, the page or the tweet? Neither is dropped unnoticed.
            if obj.get("statuses").is_some_and(Value::is_array) && obj.contains_key("data") {
                return vec![Item::Reject(Reject::new(
                    Class::AmbiguousShape,
                    "both a v2 \"data\" and a v1.1 \"statuses\" list: which one holds the tweets?",
                ))];
            }
            match obj.remove("statuses") {
                Some(Value::Array(statuses)) if statuses.is_empty() => {
                    return vec![Item::Control("empty_page")]
                }
                Some(Value::Array(statuses)) => {
                    return statuses.into_iter().map(|v| classify_single(v, None)).collect();
                }
                Some(other) => {
                    obj.insert("statuses".to_owned(), other);
                }
                None => {}
            }
            match obj.get("data") {
                Some(Value::Array(_)) => split_v2_page(obj),
                Some(Value::Object(_)) => vec![v2_stream_line(obj, raw)],
                Some(_) => vec![Item::Reject(Reject::new(
                    Class::UnknownShape,
                    "\"data\" is neither an object nor an array",
                ))],
                None => vec![classify_object(obj, raw)],
            }
        }
        other => vec![Item::Reject(Reject::new(
            Class::UnknownShape,
            format!("expected a JSON object or array, got {}", kind_of(&other)),
        ))],
    }
}

/// An element of an array or `statuses`: a v1.1 status, or a bare v2 tweet.
fn classify_single(value: Value, raw: Option<&[u8]>) -> Item {
    match value {
        Value::Object(obj) => classify_object(obj, raw),
        other => Item::Reject(Reject::new(
            Class::UnknownShape,
            format!("expected a tweet object, got {}", kind_of(&other)),
        )),
    }
}

/// An object without `data` or `statuses`: a notice, a v1.1 status or a bare v2 tweet.
fn classify_object(obj: Map<String, Value>, raw: Option<&[u8]>) -> Item {
    if let Some(item) = classify_notice(&obj) {
        return element(item, &obj, raw);
    }
    // An element of an array that also holds `data`: the consumer reads any object with `data`
    // as v2, so it could not read this one as the status it looks like.
    if obj.contains_key("data") {
        return element(
            Item::Reject(Reject::new(Class::UnknownShape, "a tweet object that also holds \"data\"")),
            &obj,
            raw,
        );
    }
    // v2 ids are strings and v2 tweets have no `id_str`; v1.1 has both, `id` a number.
    let is_v2 = obj.get("id").is_some_and(Value::is_string)
        && !obj.contains_key("id_str")
        && !obj.contains_key("user");
    if is_v2 {
        let id = match v2_id(&obj) {
            Ok(id) => id,
            Err(e) => return element(reject_id(e), &obj, raw),
        };
        if !obj.get("text").is_some_and(Value::is_string) {
            return element(
                Item::Reject(Reject::new(Class::MissingText, "v2 tweet has no text").with_id(id)),
                &obj,
                raw,
            );
        }
        let mut line = Map::new();
        line.insert("data".to_owned(), Value::Object(obj));
        return encode(id, Format::V2, &Value::Object(line));
    }
    if !obj.contains_key("id") && !obj.contains_key("id_str") {
        if has_text(&obj) {
            return element(reject_id(IdError::Missing), &obj, raw);
        }
        return element(
            Item::Reject(Reject::new(Class::UnknownShape, "object is neither a tweet nor a known notice")),
            &obj,
            raw,
        );
    }
    let id = match v1_id(&obj) {
        Ok(id) => id,
        Err(e) => return element(reject_id(e), &obj, raw),
    };
    if !has_text(&obj) {
        return element(
            Item::Reject(Reject::new(Class::MissingText, "status has no text or full_text").with_id(id)),
            &obj,
            raw,
        );
    }
    match raw {
        Some(bytes) => {
            Item::Tweet(TweetMessage { id, format: Format::V1, payload: Bytes::copy_from_slice(bytes) })
        }
        None => encode(id, Format::V1, &Value::Object(obj)),
    }
}

/// A v2 stream line (or single-tweet lookup): one tweet in `data`, produced as it came.
fn v2_stream_line(obj: Map<String, Value>, raw: Option<&[u8]>) -> Item {
    let Some(Value::Object(tweet)) = obj.get("data") else {
        return Item::Reject(Reject::new(Class::UnknownShape, "\"data\" is not an object"));
    };
    let id = match v2_id(tweet) {
        Ok(id) => id,
        Err(e) => return reject_id(e),
    };
    if !tweet.get("text").is_some_and(Value::is_string) {
        return Item::Reject(Reject::new(Class::MissingText, "v2 tweet has no text").with_id(id));
    }
    match raw {
        Some(bytes) => {
            Item::Tweet(TweetMessage { id, format: Format::V2, payload: Bytes::copy_from_slice(bytes) })
        }
        None => encode(id, Format::V2, &Value::Object(obj)),
    }
}

/// For an element of a larger document (`raw` is `None`), attaches the element to its reject.
fn element(item: Item, obj: &Map<String, Value>, raw: Option<&[u8]>) -> Item {
    if raw.is_some() {
        item
    } else {
        with_element(item, Some(obj))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
