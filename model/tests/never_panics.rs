//! Property tests: the parsers and the term matcher never panic, whatever bytes arrive. Inputs are
//! both arbitrary bytes and JSON built from the field names the parsers look at, so the deep
//! branches (pages, includes, retweets, ids of every type) are reached too.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tweetpipe_model::envelope::{classify_bytes, Item};
use tweetpipe_model::terms::{TermMatcher, DEFAULT_TERMS};
use tweetpipe_model::tweet;

const KEYS: &[&str] = &[
    "data",
    "includes",
    "users",
    "tweets",
    "places",
    "media",
    "statuses",
    "id",
    "id_str",
    "text",
    "full_text",
    "extended_tweet",
    "note_tweet",
    "author_id",
    "username",
    "screen_name",
    "user",
    "location",
    "created_at",
    "public_metrics",
    "retweet_count",
    "referenced_tweets",
    "type",
    "retweeted",
    "retweeted_status",
    "entities",
    "hashtags",
    "tag",
    "errors",
    "delete",
    "action",
    "meta",
    "matching_rules",
    "geo",
    "place_id",
    "attachments",
    "media_keys",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[0-9]{0,21}".prop_map(Value::String),
        ".{0,20}".prop_map(Value::String),
        Just(Value::String("retweeted".into())),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kvs| {
                Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = classify_bytes(&bytes);
        let _ = tweet::parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_and_tweets_reparse(value in json()) {
        let raw = serde_json::to_vec(&value).expect("serialisable");
        for item in classify_bytes(&raw) {
            if let Item::Tweet(t) = item {
                // What the producer accepts as a tweet, the consumer can read, with the same id.
                let parsed = tweet::parse(&t.payload);
                prop_assert!(parsed.is_ok(), "{:?}", parsed);
                prop_assert_eq!(parsed.map(|p| p.id).ok(), Some(t.id));
            }
        }
        let _ = tweet::parse(&raw);
    }

    #[test]
    fn the_term_matcher_never_panics(text in "\\PC{0,200}", term in "[a-zA-Z0-9 ]{1,12}") {
        let _ = TermMatcher::new(DEFAULT_TERMS).expect("default terms").matches(&text);
        if let Ok(rule) = TermMatcher::new([term.as_str()]) {
            let _ = rule.matches(&text);
            prop_assert!(rule.matches(&term) || term.trim().is_empty());
        }
    }
}
