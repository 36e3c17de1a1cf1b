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
//!   compliance events, empty pages) are recognised and reported, never produced as tweets.
//! - Anything else is rejected with a [`Reject`] naming why, for the dead-letter topic.

use serde_json::{Map, Value};

use crate::id::{v1_id, v2_id, IdError};
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
    /// The JSON value of the message.
    pub payload: Vec<u8>,
}

/// Why an input cannot be produced as a tweet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// A short, stable error class (`invalid_json`, `missing_id`, …): the `class` header.
    pub class: &'static str,
    /// A human-readable explanation.
    pub message: String,
    /// The id, when one could be read (the key of the dead letter).
    pub id: Option<i64>,
    /// The offending element when it is part of a larger document (one status of an array);
    /// `None` means the whole input line is the offender.
    pub payload: Option<Vec<u8>>,
}

impl Reject {
    pub fn new(class: &'static str, message: impl Into<String>) -> Self {
        Self { class, message: message.into(), id: None, payload: None }
    }

    fn with_id(mut self, id: i64) -> Self {
        self.id = Some(id);
        self
    }
}

/// v1.1 stream notices that are not tweets.
const V1_NOTICES: &[(&str, &str)] = &[
    ("delete", "delete"),
    ("limit", "limit"),
    ("scrub_geo", "scrub_geo"),
    ("status_withheld", "status_withheld"),
    ("user_withheld", "user_withheld"),
    ("disconnect", "disconnect"),
    ("warning", "warning"),
    ("friends", "friends"),
    ("event", "event"),
];

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
    match stream_line(trimmed) {
        Some(item) => Ok(vec![item]),
        None => classify_general(trimmed),
    }
}

/// [`classify_document`] without the stream-line fast path, for callers that tried it already.
pub fn classify_general(trimmed: &[u8]) -> Result<Vec<Item>, serde_json::Error> {
    serde_json::from_slice(trimmed).map(|value| classify_value(value, Some(trimmed)))
}

/// The shape [`stream_line`] recognises: `data` holds one tweet, and there is no `statuses`.
/// Unknown fields are skipped without allocating.
#[derive(serde::Deserialize)]
struct StreamLine<'a> {
    #[serde(borrow)]
    data: Option<LineTweet<'a>>,
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
fn stream_line(raw: &[u8]) -> Option<Item> {
    let id = stream_line_id(raw)?;
    Some(Item::Tweet(TweetMessage { id, format: Format::V2, payload: raw.to_vec() }))
}

/// The tweet id of a line [`stream_line`] recognises: such a line is its own message.
pub fn stream_line_id(raw: &[u8]) -> Option<i64> {
    // Skipped fields are not checked for UTF-8 by serde_json; the whole line is, here.
    let text = std::str::from_utf8(raw).ok()?;
    let line: StreamLine<'_> = serde_json::from_str(text).ok()?;
    let tweet = line.data?;
    if line.statuses.is_some() || tweet.text.is_none() {
        return None;
    }
    crate::id::parse_id_str(tweet.id?).ok()
}

/// The reject for input that is not JSON (or not UTF-8).
pub fn unparsable(raw: &[u8], e: &serde_json::Error) -> Reject {
    let class = if std::str::from_utf8(raw).is_err() { "invalid_utf8" } else { "invalid_json" };
    Reject::new(class, format!("not valid JSON: {e}"))
}

/// Classifies a parsed document. `raw`, when given, is the exact text of `value`.
pub fn classify_value(value: Value, raw: Option<&[u8]>) -> Vec<Item> {
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return vec![Item::Control("empty_page")];
            }
            items.into_iter().map(|v| classify_single(v, None)).collect()
        }
        Value::Object(mut obj) => {
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
                    "unknown_shape",
                    "\"data\" is neither an object nor an array",
                ))],
                None => vec![classify_object(obj, raw)],
            }
        }
        other => vec![Item::Reject(Reject::new(
            "unknown_shape",
            format!("expected a JSON object or array, got {}", kind_of(&other)),
        ))],
    }
}

/// An element of an array or `statuses`: a v1.1 status, or a bare v2 tweet.
fn classify_single(value: Value, raw: Option<&[u8]>) -> Item {
    match value {
        Value::Object(obj) => classify_object(obj, raw),
        other => Item::Reject(Reject::new(
            "unknown_shape",
            format!("expected a tweet object, got {}", kind_of(&other)),
        )),
    }
}

/// An object without `data` or `statuses`: a notice, a v1.1 status or a bare v2 tweet.
fn classify_object(obj: Map<String, Value>, raw: Option<&[u8]>) -> Item {
    if let Some(status) = obj.get("delete").and_then(|d| d.get("status")).and_then(Value::as_object) {
        if !has_text(&obj) {
            return v1_id(status).map_or(Item::Control("delete"), Item::Delete);
        }
    }
    for (key, kind) in V1_NOTICES {
        if obj.contains_key(*key) && !obj.contains_key("text") && !obj.contains_key("full_text") {
            return Item::Control(kind);
        }
    }
    if obj.get("action").is_some_and(Value::is_string) && !has_text(&obj) {
        if obj.get("action").and_then(Value::as_str) == Some("delete") {
            if let Ok(id) = v2_id(&obj) {
                return Item::Delete(id);
            }
        }
        return Item::Control("compliance");
    }
    if obj.contains_key("errors") && !has_text(&obj) {
        return Item::Control(stream_error_kind(&obj));
    }
    if obj.get("meta").is_some() && !has_text(&obj) {
        return Item::Control("empty_page");
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
                Item::Reject(Reject::new("missing_text", "v2 tweet has no text").with_id(id)),
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
            Item::Reject(Reject::new("unknown_shape", "object is neither a tweet nor a known notice")),
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
            Item::Reject(Reject::new("missing_text", "status has no text or full_text").with_id(id)),
            &obj,
            raw,
        );
    }
    match raw {
        Some(bytes) => Item::Tweet(TweetMessage { id, format: Format::V1, payload: bytes.to_vec() }),
        None => encode(id, Format::V1, &Value::Object(obj)),
    }
}

fn has_text(obj: &Map<String, Value>) -> bool {
    obj.get("text").is_some_and(Value::is_string) || obj.get("full_text").is_some_and(Value::is_string)
}

/// Names an `errors`-only line: `operational_disconnect` and friends, or plain `errors`.
fn stream_error_kind(obj: &Map<String, Value>) -> &'static str {
    let first_type = obj
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errs| errs.first())
        .and_then(|e| e.get("type").or_else(|| e.get("title")))
        .and_then(Value::as_str)
        .unwrap_or("");
    if first_type.contains("operational-disconnect") || first_type.contains("Operational Disconnect") {
        "operational_disconnect"
    } else if first_type.contains("ConnectionException") || first_type.contains("disconnect") {
        "disconnect"
    } else {
        "errors"
    }
}

/// A v2 stream line (or single-tweet lookup): one tweet in `data`, produced as it came.
fn v2_stream_line(obj: Map<String, Value>, raw: Option<&[u8]>) -> Item {
    let Some(Value::Object(tweet)) = obj.get("data") else {
        return Item::Reject(Reject::new("unknown_shape", "\"data\" is not an object"));
    };
    let id = match v2_id(tweet) {
        Ok(id) => id,
        Err(e) => return reject_id(e),
    };
    if !tweet.get("text").is_some_and(Value::is_string) {
        return Item::Reject(Reject::new("missing_text", "v2 tweet has no text").with_id(id));
    }
    match raw {
        Some(bytes) => Item::Tweet(TweetMessage { id, format: Format::V2, payload: bytes.to_vec() }),
        None => encode(id, Format::V2, &Value::Object(obj)),
    }
}

/// Splits a v2 page into stream lines, each carrying only the includes its tweet references.
fn split_v2_page(mut page: Map<String, Value>) -> Vec<Item> {
    let Some(Value::Array(tweets)) = page.remove("data") else {
        return Vec::new();
    };
    let includes = page.remove("includes").and_then(|v| match v {
        Value::Object(o) => Some(o),
        _ => None,
    });
    let matching_rules = page.remove("matching_rules");
    if tweets.is_empty() {
        return vec![Item::Control("empty_page")];
    }
    tweets
        .into_iter()
        .map(|tweet| {
            let Value::Object(tweet) = tweet else {
                let element = serde_json::to_vec(&tweet).ok();
                return Item::Reject(Reject {
                    payload: element,
                    ..Reject::new("unknown_shape", "a page's data item is not an object")
                });
            };
            let id = match v2_id(&tweet) {
                Ok(id) => id,
                Err(e) => return with_element(reject_id(e), Some(&tweet)),
            };
            if !tweet.get("text").is_some_and(Value::is_string) {
                return with_element(
                    Item::Reject(Reject::new("missing_text", "v2 tweet has no text").with_id(id)),
                    Some(&tweet),
                );
            }
            let own = includes.as_ref().map(|inc| includes_for(&tweet, inc)).unwrap_or_default();
            let mut line = Map::new();
            line.insert("data".to_owned(), Value::Object(tweet));
            if !own.is_empty() {
                line.insert("includes".to_owned(), Value::Object(own));
            }
            if let Some(rules) = &matching_rules {
                line.insert("matching_rules".to_owned(), rules.clone());
            }
            encode(id, Format::V2, &Value::Object(line))
        })
        .collect()
}

/// The includes one tweet references: its author, the tweets it references and their authors,
/// its place, media and polls.
fn includes_for(tweet: &Map<String, Value>, includes: &Map<String, Value>) -> Map<String, Value> {
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        let mut cur = v;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_str().map(str::to_owned)
    };
    let tweet_value = Value::Object(tweet.clone());
    let referenced: Vec<String> = tweet
        .get("referenced_tweets")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().filter_map(|r| str_at(r, &["id"])).collect())
        .unwrap_or_default();
    let ref_tweets = pick(includes, "tweets", "id", &referenced);

    let mut user_ids: Vec<String> = str_at(&tweet_value, &["author_id"]).into_iter().collect();
    if let Some(Value::Array(rts)) = ref_tweets.as_ref() {
        user_ids.extend(rts.iter().filter_map(|t| str_at(t, &["author_id"])));
    }
    let place_ids: Vec<String> = str_at(&tweet_value, &["geo", "place_id"]).into_iter().collect();
    let keys_at = |field: &str| -> Vec<String> {
        tweet
            .get("attachments")
            .and_then(|a| a.get(field))
            .and_then(Value::as_array)
            .map(|ks| ks.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };

    let mut own = Map::new();
    for (name, picked) in [
        ("users", pick(includes, "users", "id", &user_ids)),
        ("tweets", ref_tweets),
        ("places", pick(includes, "places", "id", &place_ids)),
        ("media", pick(includes, "media", "media_key", &keys_at("media_keys"))),
        ("polls", pick(includes, "polls", "id", &keys_at("poll_ids"))),
    ] {
        if let Some(v) = picked {
            own.insert(name.to_owned(), v);
        }
    }
    own
}

/// The members of `includes[section]` whose `key` is in `wanted`, in their original order.
fn pick(includes: &Map<String, Value>, section: &str, key: &str, wanted: &[String]) -> Option<Value> {
    if wanted.is_empty() {
        return None;
    }
    let items: Vec<Value> = includes
        .get(section)?
        .as_array()?
        .iter()
        .filter(|item| item.get(key).and_then(Value::as_str).is_some_and(|k| wanted.iter().any(|w| w == k)))
        .cloned()
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

fn encode(id: i64, format: Format, value: &Value) -> Item {
    match serde_json::to_vec(value) {
        Ok(payload) => Item::Tweet(TweetMessage { id, format, payload }),
        Err(e) => Item::Reject(Reject::new("encode_failed", e.to_string()).with_id(id)),
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
        IdError::Missing => "missing_id",
        IdError::Invalid(_) => "invalid_id",
    };
    Item::Reject(Reject::new(class, e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tweets(items: &[Item]) -> Vec<&TweetMessage> {
        items.iter().filter_map(|i| if let Item::Tweet(t) = i { Some(t) } else { None }).collect()
    }

    #[test]
    fn v2_page_is_split_with_each_tweets_own_includes() {
        let page = json!({
            "data": [
                {"id": "1500000000000000001", "text": "hello", "author_id": "10",
                 "referenced_tweets": [{"type": "retweeted", "id": "1400000000000000000"}],
                 "geo": {"place_id": "p1"}},
                {"id": "1500000000000000002", "text": "world", "author_id": "11"}
            ],
            "includes": {
                "users": [{"id": "10", "username": "ten"}, {"id": "11", "username": "eleven"},
                          {"id": "12", "username": "twelve"}],
                "tweets": [{"id": "1400000000000000000", "text": "orig", "author_id": "12"}],
                "places": [{"id": "p1", "full_name": "Here"}, {"id": "p2", "full_name": "There"}]
            },
            "meta": {"result_count": 2}
        });
        let items = classify_bytes(page.to_string().as_bytes());
        let out = tweets(&items);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].id, 1_500_000_000_000_000_001);
        assert_eq!(out[0].format, Format::V2);
        let first: Value = serde_json::from_slice(&out[0].payload).expect("json");
        assert_eq!(first["data"]["text"], "hello");
        let users: Vec<&str> = first["includes"]["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["username"].as_str().expect("name"))
            .collect();
        assert_eq!(users, ["ten", "twelve"]);
        assert_eq!(first["includes"]["tweets"][0]["text"], "orig");
        assert_eq!(first["includes"]["places"].as_array().expect("places").len(), 1);
        let second: Value = serde_json::from_slice(&out[1].payload).expect("json");
        assert_eq!(second["includes"]["users"][0]["username"], "eleven");
        assert!(second["includes"].get("tweets").is_none());
        assert!(second.get("meta").is_none());
    }

    #[test]
    fn the_stream_line_fast_path_answers_as_the_general_path_does() {
        let lines = [
            r#"{"data":{"id":"7","text":"a \"b\"\n"},"includes":{"users":[]},"matching_rules":[]}"#,
            r#"{"data":{"id":"7","text":"t"},"statuses":5}"#,
            r#"{"data":{"id":"7"},"data":{"id":"8","text":"dup"}}"#,
            r#"{"data":{"id":7,"text":"number id"}}"#,
            r#"{"data":{"id":"x","text":"bad id"}}"#,
            r#"{"data":{"id":"9","text":null}}"#,
        ];
        for line in lines {
            let general = match serde_json::from_str::<Value>(line) {
                Ok(v) => classify_value(v, Some(line.as_bytes())),
                Err(e) => vec![Item::Reject(unparsable(line.as_bytes(), &e))],
            };
            let fast = classify_bytes(line.as_bytes());
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{line}");
        }
        assert!(stream_line_id(lines[0].as_bytes()).is_some());
        assert!(lines[1..].iter().all(|l| stream_line_id(l.as_bytes()).is_none()));
    }

    #[test]
    fn stream_line_goes_as_it_came() {
        let line =
            br#"{"data":{"id":"1578516068309794817","text":"hi"},"matching_rules":[{"id":"1","tag":"jb"}]}"#;
        let items = classify_bytes(line);
        let out = tweets(&items);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload, line.to_vec());
        assert_eq!(out[0].id, 1_578_516_068_309_794_817);
    }

    #[test]
    fn v1_shapes_single_array_and_statuses() {
        let status =
            r#"{"id":9007199254740993,"id_str":"9007199254740993","text":"a","user":{"screen_name":"x"}}"#;
        let single = classify_bytes(status.as_bytes());
        assert_eq!(tweets(&single)[0].payload, status.as_bytes());
        assert_eq!(tweets(&single)[0].id, 9_007_199_254_740_993);
        let array = format!("[{status},{status}]");
        assert_eq!(tweets(&classify_bytes(array.as_bytes())).len(), 2);
        let search = format!("{{\"statuses\":[{status}],\"search_metadata\":{{}}}}");
        let out = classify_bytes(search.as_bytes());
        assert_eq!(tweets(&out).len(), 1);
        assert_eq!(tweets(&out)[0].format, Format::V1);
    }

    #[test]
    fn control_messages_are_recognised() {
        let cases: &[(&str, &str)] = &[
            ("", "keep_alive"),
            ("\r\n", "keep_alive"),
            (r#"{"delete":{"status":{}}}"#, "delete"),
            (r#"{"limit":{"track":5}}"#, "limit"),
            (r#"{"id":"1170025343920402432","action":"scrub_geo"}"#, "compliance"),
            (
                r#"{"errors":[{"title":"operational-disconnect","type":"https://api.twitter.com/2/problems/operational-disconnect"}]}"#,
                "operational_disconnect",
            ),
            (r#"{"meta":{"result_count":0}}"#, "empty_page"),
            ("[]", "empty_page"),
        ];
        for (input, kind) in cases {
            assert_eq!(classify_bytes(input.as_bytes()), vec![Item::Control(kind)], "{input:?}");
        }
    }

    #[test]
    fn deletions_become_tombstones() {
        assert_eq!(
            classify_bytes(br#"{"delete":{"status":{"id":5,"id_str":"5","user_id":1}}}"#),
            vec![Item::Delete(5)]
        );
        assert_eq!(
            classify_bytes(br#"{"id":"1170025343920402432","action":"delete","reason":"protected"}"#),
            vec![Item::Delete(1_170_025_343_920_402_432)]
        );
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"{\"data\": {\"id\": \"1\", \"te", "invalid_json"),
            (b"\xff\xfe{}", "invalid_utf8"),
            (br#"{"data":{"text":"no id"}}"#, "missing_id"),
            (br#"{"data":{"id":"abc","text":"x"}}"#, "invalid_id"),
            (br#"{"id":99999999999999999999999,"text":"overflow"}"#, "invalid_id"),
            (br#"{"id":"-4","text":"neg"}"#, "invalid_id"),
            (br#"{"hello":"world"}"#, "unknown_shape"),
            (b"42", "unknown_shape"),
            (br#"{"data":{"id":"5"}}"#, "missing_text"),
        ];
        for (input, class) in cases {
            let items = classify_bytes(input);
            match &items[..] {
                [Item::Reject(r)] => {
                    assert_eq!(r.class, *class, "{:?}", String::from_utf8_lossy(input))
                }
                other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
            }
        }
    }
}
