//! v2 pages (`{"data": [...], "includes": {...}}`) split into one stream-line-shaped message
//! per tweet, each carrying only the includes that tweet references.

use serde_json::{Map, Value};

use super::{encode, reject_id, with_element, Item, Reject};
use crate::dead_letter::Class;
use crate::id::v2_id;
use crate::Format;

/// Splits a v2 page into stream lines, each carrying only the includes its tweet references.
pub(super) fn split_v2_page(mut page: Map<String, Value>) -> Vec<Item> {
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
                    ..Reject::new(Class::UnknownShape, "a page's data item is not an object")
                });
            };
            let id = match v2_id(&tweet) {
                Ok(id) => id,
                Err(e) => return with_element(reject_id(e), Some(&tweet)),
            };
            if !tweet.get("text").is_some_and(Value::is_string) {
                return with_element(
                    Item::Reject(Reject::new(Class::MissingText, "v2 tweet has no text").with_id(id)),
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
