//! One Kafka message in, one flat [`Tweet`] record out: the row the consumer stores.
//!
//! Both formats map onto the same record. v2 messages are in stream-line shape (the tweet in
//! `data`, its author and referenced tweets in `includes`); v1.1 messages are status objects.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::id::{parse_id_value, v1_id, v2_id, IdError};
use crate::record::{count_value, hashtags, parse_rfc3339, Counts};
pub use crate::record::{ParseError, Tweet};
use crate::Format;

/// Parses a message value (v2 stream line or v1.1 status) into a record. A message PostgreSQL
/// could not store whole (see [`crate::json_limits`]), in fields read or not, is invalid JSON.
pub fn parse(bytes: &[u8]) -> Result<Tweet, ParseError> {
    match crate::v2_line::parse(bytes) {
        Some(tweet) => Ok(tweet),
        None => parse_general(bytes),
    }
}

/// Any input, through a `Value` of the whole message: the reference [`crate::v2_line`] agrees with.
pub fn parse_general(bytes: &[u8]) -> Result<Tweet, ParseError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    crate::json_limits::check(bytes).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    let Value::Object(root) = value else {
        return Err(ParseError::UnknownShape("not a JSON object"));
    };
    if root.get("statuses").is_some_and(Value::is_array) && root.contains_key("data") {
        return Err(ParseError::AmbiguousShape);
    }
    match root.get("data") {
        Some(Value::Object(data)) => parse_v2(data, root.get("includes").and_then(Value::as_object)),
        Some(_) => Err(ParseError::UnknownShape("\"data\" is not a single tweet")),
        None => parse_v1(&root),
    }
}

fn parse_v2(data: &Map<String, Value>, includes: Option<&Map<String, Value>>) -> Result<Tweet, ParseError> {
    let id = v2_id(data)?;
    let text = v2_full_text(data).ok_or(ParseError::MissingText)?.to_owned();
    let author_id = data.get("author_id").and_then(|v| parse_id_value(v).ok());
    let author = author_id.and_then(|aid| find_by_id(includes, "users", aid));
    let metrics = data.get("public_metrics");
    let mut counts = Counts::default();
    let mut metric = |name: &str| counts.take(count_value(metrics.and_then(|m| m.get(name))));
    let retweet_of = data
        .get("referenced_tweets")
        .and_then(Value::as_array)
        .and_then(|refs| refs.iter().find(|r| r.get("type").and_then(Value::as_str) == Some("retweeted")))
        .and_then(|r| r.get("id"))
        .and_then(|v| parse_id_value(v).ok());
    let retweeted_text = retweet_of
        .and_then(|rid| find_by_id(includes, "tweets", rid))
        .and_then(v2_full_text)
        .map(str::to_owned);
    // A note tweet's entities describe its long text; the plain entities only the truncated one.
    let entities = data.get("note_tweet").and_then(|n| n.get("entities")).or_else(|| data.get("entities"));
    let (retweet_count, like_count, reply_count, quote_count) =
        (metric("retweet_count"), metric("like_count"), metric("reply_count"), metric("quote_count"));
    Ok(Tweet {
        id,
        format: Format::V2,
        author_id,
        username: author.and_then(|u| str_field(u, "username")),
        created_at: data.get("created_at").and_then(Value::as_str).and_then(parse_rfc3339),
        text,
        retweet_count,
        like_count,
        reply_count,
        quote_count,
        invalid_metrics: counts.invalid,
        location: author.and_then(|u| str_field(u, "location")).filter(|l| !l.trim().is_empty()),
        lang: str_field(data, "lang"),
        hashtags: hashtags(entities, "tag"),
        is_retweet: retweet_of.is_some(),
        retweeted_text,
    })
}

fn parse_v1(status: &Map<String, Value>) -> Result<Tweet, ParseError> {
    if !status.contains_key("id") && !status.contains_key("id_str") {
        return Err(if v1_full_text(status).is_some() {
            ParseError::Id(IdError::Missing)
        } else {
            ParseError::UnknownShape("neither a v2 stream line nor a v1.1 status")
        });
    }
    let id = v1_id(status)?;
    let text = v1_full_text(status).ok_or(ParseError::MissingText)?.to_owned();
    let user = status.get("user").and_then(Value::as_object);
    let mut counts = Counts::default();
    let mut count = |name: &str| counts.take(count_value(status.get(name)));
    let (retweet_count, like_count, reply_count, quote_count) =
        (count("retweet_count"), count("favorite_count"), count("reply_count"), count("quote_count"));
    let retweeted = status.get("retweeted_status").and_then(Value::as_object);
    let entities =
        status.get("extended_tweet").and_then(|e| e.get("entities")).or_else(|| status.get("entities"));
    Ok(Tweet {
        id,
        format: Format::V1,
        author_id: user.and_then(|u| v1_id(u).ok()),
        username: user.and_then(|u| str_field(u, "screen_name")),
        created_at: status.get("created_at").and_then(Value::as_str).and_then(parse_v1_time),
        text,
        retweet_count,
        like_count,
        reply_count,
        quote_count,
        invalid_metrics: counts.invalid,
        location: user.and_then(|u| str_field(u, "location")).filter(|l| !l.trim().is_empty()),
        lang: str_field(status, "lang"),
        hashtags: hashtags(entities, "text"),
        is_retweet: retweeted.is_some(),
        retweeted_text: retweeted.and_then(v1_full_text).map(str::to_owned),
    })
}

fn v1_full_text(status: &Map<String, Value>) -> Option<&str> {
    status
        .get("extended_tweet")
        .and_then(|e| e.get("full_text"))
        .and_then(Value::as_str)
        .or_else(|| status.get("full_text").and_then(Value::as_str))
        .or_else(|| status.get("text").and_then(Value::as_str))
}

fn v2_full_text(tweet: &Map<String, Value>) -> Option<&str> {
    tweet
        .get("note_tweet")
        .and_then(|n| n.get("text"))
        .and_then(Value::as_str)
        .or_else(|| tweet.get("text").and_then(Value::as_str))
}

fn find_by_id<'a>(
    includes: Option<&'a Map<String, Value>>,
    section: &str,
    id: i64,
) -> Option<&'a Map<String, Value>> {
    includes?
        .get(section)?
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .find(|item| item.get("id").and_then(|v| parse_id_value(v).ok()) == Some(id))
}

fn str_field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// v1.1 dates look like `Thu Nov 08 02:31:41 +0000 2012`.
fn parse_v1_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y").ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_stream_line_maps_author_and_metrics() {
        let line = json!({
            "data": {"id": "1578516068309794817", "text": "short", "author_id": "783214",
                     "created_at": "2022-10-07T22:42:12.000Z", "lang": "en",
                     "note_tweet": {"text": "the long text #Rust", "entities": {"hashtags": [{"tag": "Rust"}]}},
                     "entities": {"hashtags": [{"tag": "ignored"}]},
                     "public_metrics": {"retweet_count": 7, "like_count": 9, "reply_count": 1, "quote_count": 0}},
            "includes": {"users": [{"id": "783214", "username": "X", "location": "everywhere"}]}
        });
        let t = parse(line.to_string().as_bytes()).expect("parses");
        assert_eq!(t.id, 1_578_516_068_309_794_817);
        assert_eq!(t.username.as_deref(), Some("X"));
        assert_eq!(t.location.as_deref(), Some("everywhere"));
        assert_eq!(t.text, "the long text #Rust");
        assert_eq!(t.retweet_count, Some(7));
        assert_eq!(t.like_count, Some(9));
        assert_eq!(t.hashtags, ["Rust"]);
        assert_eq!(t.created_at.map(|c| c.to_rfc3339()), Some("2022-10-07T22:42:12+00:00".to_owned()));
        assert!(!t.is_retweet);
    }

    #[test]
    fn v2_retweet_rule_text_is_the_original() {
        let line = json!({
            "data": {"id": "2", "text": "RT @a: truncated…", "author_id": "1",
                     "referenced_tweets": [{"type": "retweeted", "id": "3"}]},
            "includes": {"tweets": [{"id": "3", "text": "the whole original about #music"}]}
        });
        let t = parse(line.to_string().as_bytes()).expect("parses");
        assert!(t.is_retweet);
        assert_eq!(t.rule_text(), "the whole original about #music");
        assert_eq!(t.text, "RT @a: truncated…");
        assert_eq!(t.username, None);
    }

    #[test]
    fn v1_status_with_extended_tweet() {
        let status = r#"{"created_at":"Thu Nov 08 02:31:41 +0000 2012","id":266367358078169089,
            "id_str":"266367358078169089","text":"short…","truncated":true,
            "extended_tweet":{"full_text":"the full text #a","entities":{"hashtags":[{"text":"a"}]}},
            "entities":{"hashtags":[]},"retweet_count":12,"favorite_count":3,"lang":"en",
            "user":{"id":1,"id_str":"1","screen_name":"TwitterEng","location":""},
            "retweeted_status":{"id":5,"id_str":"5","text":"orig","full_text":"original full"}}"#;
        let t = parse(status.as_bytes()).expect("parses");
        assert_eq!(t.id, 266_367_358_078_169_089);
        assert_eq!(t.format, Format::V1);
        assert_eq!(t.text, "the full text #a");
        assert_eq!(t.username.as_deref(), Some("TwitterEng"));
        assert_eq!(t.location, None, "an empty location is no location");
        assert_eq!(t.retweet_count, Some(12));
        assert_eq!(t.hashtags, ["a"]);
        assert_eq!(t.rule_text(), "original full");
        assert_eq!(t.created_at.map(|c| c.timestamp()), Some(1_352_341_901));
    }

    #[test]
    fn what_is_not_a_tweet_says_why() {
        let class = |b: &[u8]| parse(b).map_err(|e| e.class().as_str());
        assert_eq!(class(b"{"), Err("invalid_json"));
        assert_eq!(class(b"[1]"), Err("unknown_shape"));
        assert_eq!(class(br#"{"data":{"id":"x","text":"t"}}"#), Err("invalid_id"));
        assert_eq!(class(br#"{"data":{"id":"1"}}"#), Err("missing_text"));
        assert_eq!(class(br#"{"text":"t"}"#), Err("missing_id"));
        assert_eq!(class(br#"{"foo":1}"#), Err("unknown_shape"));
    }

    #[test]
    fn unusable_counts_are_unknown_and_counted() {
        let v2 = json!({"data": {"id": "1", "text": "t", "public_metrics":
            {"retweet_count": -5, "like_count": 1e30, "reply_count": "7", "quote_count": 4}}});
        let t = parse(v2.to_string().as_bytes()).expect("parses");
        assert_eq!(
            (t.retweet_count, t.like_count, t.reply_count, t.quote_count),
            (None, None, None, Some(4))
        );
        assert_eq!(t.invalid_metrics, 3);

        let v1 = json!({"id_str": "2", "text": "t", "retweet_count": i64::MAX, "favorite_count": 1.5});
        let t = parse(v1.to_string().as_bytes()).expect("parses");
        assert_eq!((t.retweet_count, t.like_count), (None, None));
        assert_eq!(t.invalid_metrics, 2);
    }

    #[test]
    fn a_count_the_input_lacks_is_unknown_not_zero() {
        let t = parse(br#"{"data":{"id":"3","text":"no metrics"}}"#).expect("parses");
        assert_eq!((t.retweet_count, t.invalid_metrics), (None, 0));
        let t = parse(br#"{"id_str":"4","text":"no metrics"}"#).expect("parses");
        assert_eq!((t.retweet_count, t.like_count, t.invalid_metrics), (None, None, 0));
    }
}
