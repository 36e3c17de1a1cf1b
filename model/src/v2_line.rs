//! The fast path of [`crate::tweet::parse`] for v2 stream lines, the consumer's usual input.
//!
//! The general parser builds a `serde_json::Value` of the whole line (every user field, every
//! annotation) and then reads a dozen fields out of it. Here serde reads only those fields,
//! borrowing strings from the message where they have no escapes and skipping the rest without
//! allocating. Anything this path does not read exactly as the general one would (a number
//! where a string was expected, a duplicate key, invalid UTF-8 anywhere, a number or escape
//! PostgreSQL cannot store, a `statuses` list beside the tweet) makes it give up, and
//! the general parser decides; so both always agree, which the tests below check.

use std::borrow::Cow;

use serde::Deserialize;

use crate::id::parse_id_str;
use crate::object::Object;
use crate::record::{count_int, hashtags, parse_rfc3339, Counts, Tweet};
use crate::Format;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    data: Object<Data<'a>>,
    #[serde(borrow)]
    includes: Option<Object<Includes<'a>>>,
    /// A v1.1 list beside the tweet: ambiguous, for the general parser to refuse.
    statuses: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Data<'a> {
    id: &'a str,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    note_tweet: Option<Object<Note<'a>>>,
    #[serde(borrow)]
    author_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    lang: Option<Cow<'a, str>>,
    public_metrics: Option<Object<Metrics>>,
    #[serde(borrow)]
    referenced_tweets: Option<Vec<Object<Reference<'a>>>>,
    #[serde(borrow)]
    entities: Option<Object<Entities<'a>>>,
}

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    /// Present-but-null must stay distinguishable from absent (it hides the plain entities).
    #[serde(default, deserialize_with = "present")]
    entities: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Metrics {
    retweet_count: Option<i64>,
    like_count: Option<i64>,
    reply_count: Option<i64>,
    quote_count: Option<i64>,
}

#[derive(Deserialize)]
struct Reference<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Entities<'a> {
    #[serde(borrow)]
    hashtags: Option<Vec<Object<Tag<'a>>>>,
}

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(borrow)]
    tag: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Includes<'a> {
    #[serde(borrow)]
    users: Option<Vec<Object<User<'a>>>>,
    #[serde(borrow)]
    tweets: Option<Vec<Object<Included<'a>>>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    location: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Included<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    note_tweet: Option<Object<Note<'a>>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

fn id_of(s: &Option<Cow<'_, str>>) -> Option<i64> {
    s.as_deref().and_then(|s| parse_id_str(s).ok())
}

fn full_text<'s>(note: &'s Option<Object<Note<'_>>>, text: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    note.as_ref().and_then(|n| n.text.as_deref()).or(text.as_deref())
}

/// The record, or `None` when the general parser must decide (including every error).
pub fn parse(bytes: &[u8]) -> Option<Tweet> {
    // serde_json does not check the UTF-8 of strings it skips; the general parser does.
    let json = std::str::from_utf8(bytes).ok()?;
    let line: Object<Line<'_>> = serde_json::from_str(json).ok()?;
    // Nor the numbers and escapes it skips: what PostgreSQL cannot store is the general
    // parser's to refuse.
    crate::json_limits::check(bytes).ok()?;
    let Object(line) = line;
    if line.statuses.is_some() {
        return None;
    }
    let Object(data) = line.data;
    let id = parse_id_str(data.id).ok()?;
    let text = full_text(&data.note_tweet, &data.text)?.to_owned();
    let author_id = id_of(&data.author_id);
    let includes = line.includes.as_ref();
    let author =
        author_id.and_then(|aid| includes?.users.as_ref()?.iter().find(|u| id_of(&u.id) == Some(aid)));
    let metrics = data.public_metrics.as_deref();
    let mut counts = Counts::default();
    let mut metric = |pick: fn(&Metrics) -> Option<i64>| counts.take(count_int(metrics.and_then(pick)));
    let (retweet_count, like_count, reply_count, quote_count) = (
        metric(|m| m.retweet_count),
        metric(|m| m.like_count),
        metric(|m| m.reply_count),
        metric(|m| m.quote_count),
    );
    let retweet_of = data
        .referenced_tweets
        .as_ref()
        .and_then(|refs| refs.iter().find(|r| r.kind.as_deref() == Some("retweeted")))
        .and_then(|r| id_of(&r.id));
    let retweeted_text = retweet_of
        .and_then(|rid| includes?.tweets.as_ref()?.iter().find(|t| id_of(&t.id) == Some(rid)))
        .and_then(|t| full_text(&t.note_tweet, &t.text))
        .map(str::to_owned);
    let note_entities = data.note_tweet.as_ref().and_then(|n| n.entities.as_ref());
    let hashtags = match note_entities {
        Some(entities) => hashtags(Some(entities), "tag"),
        None => data
            .entities
            .as_ref()
            .and_then(|e| e.hashtags.as_ref())
            .map(|tags| tags.iter().filter_map(|t| t.tag.as_deref()).map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    Some(Tweet {
        id,
        format: Format::V2,
        author_id,
        username: author.and_then(|u| u.username.as_deref()).map(str::to_owned),
        created_at: data.created_at.as_deref().and_then(parse_rfc3339),
        text,
        retweet_count,
        like_count,
        reply_count,
        quote_count,
        invalid_metrics: counts.invalid,
        location: author
            .and_then(|u| u.location.as_deref())
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned),
        lang: data.lang.as_deref().map(str::to_owned),
        hashtags,
        is_retweet: retweet_of.is_some(),
        retweeted_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tweet::parse_general;

    /// Lines the fast path reads, and lines it must leave to the general parser.
    const LINES: &[&str] = &[
        r#"{"data":{"id":"5","text":"a \"quoted\" line\n#Tag","author_id":"9","created_at":"2022-10-07T22:42:12.000Z","lang":"en","public_metrics":{"retweet_count":3,"like_count":null},"entities":{"hashtags":[{"tag":"Tag"},{"tag":null},{"start":1}]}},"includes":{"users":[{"id":"8","username":"other"},{"id":"9","username":"me","location":"  "}]}}"#,
        r#"{"data":{"id":"6","text":"RT @a: trunc","referenced_tweets":[{"type":"quoted","id":"1"},{"type":"retweeted","id":"7"}]},"includes":{"tweets":[{"id":"7","text":"short","note_tweet":{"text":"long #music"}}]}}"#,
        r#"{"data":{"id":"7","text":"short","note_tweet":{"text":"long","entities":null},"entities":{"hashtags":[{"tag":"x"}]}}}"#,
        r#"{"data":{"id":"8","text":"short","note_tweet":{"text":"long","entities":{"hashtags":[{"tag":"n"}]}},"entities":{"hashtags":[{"tag":"x"}]}}}"#,
        r#"{"data":{"id":"9","text":"short","note_tweet":{"text":"long"},"entities":{"hashtags":[{"tag":"x"}]}},"includes":[]}"#,
        r#"{"data":{"id":"10","text":"x","author_id":"3","public_metrics":{"retweet_count":1.5}},"includes":{"users":[{"id":3,"username":"n"}]}}"#,
        r#"{"data":{"id":"11","text":"x","author_id":3}}"#,
        r#"{"data":{"id":12,"text":"number id"}}"#,
        r#"{"data":{"id":"13","text":"dup"},"data":{"id":"14","text":"second"}}"#,
        r#"{"data":{"id":"15"}}"#,
        r#"{"data":{"id":"x16","text":"bad id"}}"#,
        r#"{"data":{"id":"17","text":"metrics not an object","public_metrics":[]}}"#,
        r#"{"data":{"id":"20","text":"bad counts","public_metrics":{"retweet_count":-5,"like_count":9223372036854775807,"reply_count":2}}}"#,
        r#"{"data":{"id":"21","text":"odd counts","public_metrics":{"retweet_count":"7","like_count":1e30,"quote_count":1.0}}}"#,
        r#"{"data":{"id":"18","text":"emoji \ud83c\udfb5 and é"},"matching_rules":[{"id":"1","tag":"t"}]}"#,
        r#"{"id_str":"19","text":"a v1.1 status","user":{"screen_name":"v1"}}"#,
        // Arrays where objects belong: serde's derive would read them field by field.
        r#"{"data":["22","an array, not a tweet"]}"#,
        r#"{"data":{"id":"23","text":"x","public_metrics":[4,5,6,7]}}"#,
        r#"{"data":{"id":"24","text":"x","author_id":"3"},"includes":{"users":[["3","name","place"]]}}"#,
        r#"{"data":{"id":"25","text":"x"},"statuses":[]}"#,
        r#"{"data":{"id":"26","text":"x"},"statuses":null}"#,
        r#"{"data":{"id":"27","text":"x","junk":1e-20000}}"#,
        r#"{"data":{"id":"28","text":"x"},"y":[1e400]}"#,
        r#"{"data":{"id":"29","text":"x"},"x":"\ud800"}"#,
        r#"{"data":{"id":"30","text":"x"},"m":{"\udc00":1}}"#,
    ];

    #[test]
    fn the_fast_path_agrees_with_the_general_parser_or_stays_out() {
        let mut taken = 0;
        for line in LINES {
            let general = parse_general(line.as_bytes());
            if let Some(fast) = parse(line.as_bytes()) {
                taken += 1;
                assert_eq!(Ok(fast), general, "{line}");
            }
        }
        assert!(taken >= 5, "the fast path read only {taken} lines");
        assert!(parse(LINES[0].as_bytes()).is_some());
    }

    #[test]
    fn what_postgresql_cannot_hold_is_invalid_json_in_any_field() {
        let class = |line: &str| crate::tweet::parse(line.as_bytes()).map_err(|e| e.class().as_str());
        for line in &LINES[LINES.len() - 4..] {
            assert_eq!(class(line), Err("invalid_json"), "{line}");
        }
        assert_eq!(class(LINES[LINES.len() - 6]), Err("ambiguous_shape"));
        assert!(class(LINES[LINES.len() - 5]).is_ok(), "a null statuses is no list");
    }

    #[test]
    fn invalid_utf8_in_a_skipped_field_is_left_to_the_general_parser() {
        let mut line = br#"{"data":{"id":"1","text":"t"},"matching_rules":[{"tag":"X"}]}"#.to_vec();
        let at = line.iter().position(|b| *b == b'X').expect("marker");
        line[at] = 0xff;
        assert!(parse(&line).is_none());
        assert!(parse_general(&line).is_err());
    }
}
