//! The classifier as a whole: shapes in, items out.

use super::*;
use serde_json::{json, Value};

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
        // Arrays where objects belong: a derived struct would read them positionally.
        r#"{"data":["1",""]}"#,
        r#"[{"id":"1","text":""}]"#,
        r#"{"data":{"id":"7","text":"t","id":"8"}}"#,
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
                assert_eq!(r.class.as_str(), *class, "{:?}", String::from_utf8_lossy(input))
            }
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
        }
    }
}

#[test]
fn deletions_without_a_usable_id_are_rejected_not_counted() {
    let cases: &[&[u8]] = &[
        br#"{"delete":{"status":{}}}"#,
        br#"{"delete":{"status":{"id":-5,"id_str":"-5"}}}"#,
        br#"{"delete":{"status":{"id_str":"abc"}}}"#,
        br#"{"delete":{"status":{"id":99999999999999999999}}}"#,
        br#"{"delete":{"status":{"id_str":"0"}}}"#,
        br#"{"delete":{}}"#,
        br#"{"delete":"5"}"#,
        br#"{"id":"0","action":"delete"}"#,
        br#"{"id":"x12","action":"delete","reason":"deleted"}"#,
        br#"{"action":"delete"}"#,
    ];
    for input in cases {
        match &classify_bytes(input)[..] {
            [Item::Reject(r)] => {
                assert_eq!(r.class, Class::InvalidDelete, "{}", String::from_utf8_lossy(input));
                assert_eq!(r.payload, None, "the whole line is the dead letter");
            }
            other => panic!("{} gave {other:?}", String::from_utf8_lossy(input)),
        }
    }
    // Inside an array, the dead letter is the element alone.
    let array = br#"[{"delete":{"status":{"id_str":"-1"}}},{"delete":{"status":{"id_str":"7"}}}]"#;
    match &classify_bytes(array)[..] {
        [Item::Reject(r), Item::Delete(7)] => {
            assert_eq!(r.class, Class::InvalidDelete);
            assert_eq!(r.payload.as_deref(), Some(&br#"{"delete":{"status":{"id_str":"-1"}}}"#[..]));
        }
        other => panic!("{other:?}"),
    }
}

/// The producer refuses, at parse time and whichever path reads it, what the consumer's
/// parser or PostgreSQL would refuse; and a document that is two shapes at once is refused whole.
#[test]
fn what_postgresql_cannot_store_is_refused_on_every_path() {
    let class = |line: &str| -> Vec<&'static str> {
        classify_bytes(line.as_bytes())
            .iter()
            .map(|i| match i {
                Item::Reject(r) => r.class.as_str(),
                Item::Tweet(_) => "tweet",
                Item::Control(kind) => kind,
                Item::Delete(_) => "delete",
            })
            .collect()
    };
    for line in [
        r#"{"data":{"id":"1601","text":"x","y":1e400}}"#,
        r#"{"data":{"id":"1601","text":"x","y":1e400},"z":1}"#,
        r#"{"data":{"id":"1601","text":"x","junk":1e-20000}}"#,
        r#"{"data":{"id":"1601","text":"x"},"junk":1e1000000,"again":{}}"#,
        r#"{"data":{"id":"1601","text":"x"},"x":"\ud800"}"#,
        r#"{"data":{"id":"1601","text":"x"},"m":{"\udc00":1}}"#,
        r#"{"id_str":"1601","text":"x","junk":0.0e-16383}"#,
        r#"[{"id_str":"1601","text":"x","junk":1e-16384}]"#,
    ] {
        assert_eq!(class(line), ["invalid_json"], "{line}");
    }
    for line in [
        r#"{"data":{"id":"122","text":"x"},"statuses":[]}"#,
        r#"{"data":{"id":"122","text":"x"},"statuses":[{"id_str":"124","text":"y"}]}"#,
        r#"{"data":[{"id":"122","text":"x"}],"statuses":[]}"#,
    ] {
        assert_eq!(class(line), ["ambiguous_shape"], "{line}");
    }
    assert_eq!(class(r#"{"data":{"id":"122","text":"x","y":1e-16383}}"#), ["tweet"]);
    assert_eq!(class(r#"{"data":{"id":"122","text":"x"},"statuses":null}"#), ["tweet"]);
}
