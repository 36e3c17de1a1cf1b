//! Preparing batches: parsing, filtering, keys, the in-batch join and the cache.

use super::*;
use rdkafka::message::Timestamp;

/// A message keyed by its tweet's id, as the producer keys them.
fn msg(offset: i64, value: &str) -> OwnedMessage {
    let id = serde_json::from_str::<serde_json::Value>(value)
        .ok()
        .and_then(|v| v["data"]["id"].as_str().map(str::to_owned));
    keyed(offset, id.as_deref(), value)
}

fn keyed(offset: i64, key: Option<&str>, value: &str) -> OwnedMessage {
    OwnedMessage::new(
        Some(value.as_bytes().to_vec()),
        key.map(|k| k.as_bytes().to_vec()),
        "t".into(),
        Timestamp::NotAvailable,
        0,
        offset,
        None,
    )
}

fn tombstone(offset: i64, key: &str) -> OwnedMessage {
    OwnedMessage::new(
        None,
        Some(key.as_bytes().to_vec()),
        "t".into(),
        Timestamp::NotAvailable,
        0,
        offset,
        None,
    )
}

fn line(id: &str, text: &str, retweets: i64) -> String {
    serde_json::json!({"data": {"id": id, "text": text, "public_metrics": {"retweet_count": retweets}}})
        .to_string()
}

fn music() -> Filters {
    Filters::new(&["music".into()], None, FilterMode::Drop).expect("rules")
}

#[test]
fn duplicates_in_a_batch_collapse_to_the_newest_copy() {
    let batch = vec![
        msg(0, &line("1", "a", 3)),
        msg(1, &line("1", "a", 9)),
        msg(2, &line("1", "a", 5)),
        msg(3, &line("2", "I love #music", 0)),
        msg(4, "{not json"),
        msg(5, &line("3", "c", 0)),
    ];
    let filters = music();
    let mut p = prepare(&batch, &Shaping { filters: &filters, pseudonyms: None });
    let skipped = p.settle(&RecentIds::new(10));
    let ids: Vec<(i64, Option<i64>)> = p.rows.iter().map(|r| (r.tweet.id, r.tweet.retweet_count)).collect();
    assert_eq!(ids, [(1, Some(9)), (3, Some(0))]);
    assert_eq!(skipped, 2);
    assert_eq!(p.filtered, 1);
    assert_eq!(p.by_rule["music"], 1);
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].index, 4);
    assert_eq!(p.rejected[0].class, Class::InvalidJson);
}

#[test]
fn flag_mode_keeps_and_marks_and_tombstones_delete() {
    let filters = Filters::new(&["music".into()], None, FilterMode::Flag).expect("rules");
    let batch = vec![msg(0, &line("2", "I love #music", 0)), msg(1, &line("3", "x", 0)), tombstone(2, "3")];
    let mut p = prepare(&batch, &Shaping { filters: &filters, pseudonyms: None });
    assert_eq!(p.settle(&RecentIds::new(10)), 1, "the deleted tweet's copy is superseded");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].matched_rule.as_deref(), Some("music"));
    assert_eq!(p.flagged, 1);
    assert_eq!(p.deletes, [3]);
}

#[test]
fn a_key_that_is_not_the_tweets_id_is_refused() {
    let filters = music();
    let shaping = Shaping { filters: &filters, pseudonyms: None };
    let batch = [
        keyed(0, Some("123"), &line("456", "a", 0)),
        keyed(1, None, &line("457", "b", 0)),
        keyed(2, Some("458"), &line("458", "c", 0)),
    ];
    let p = prepare(&batch, &shaping);
    let refused: Vec<(usize, Class)> = p.rejected.iter().map(|r| (r.index, r.class)).collect();
    assert_eq!(refused, [(0, Class::KeyMismatch), (1, Class::KeyMismatch)]);
    assert!(p.rejected[0].message.contains("123") && p.rejected[0].message.contains("456"));
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn nul_escapes_are_found_but_escaped_backslashes_are_not_nul() {
    assert!(has_nul(br#"{"text":"a\u0000b"}"#));
    assert!(!has_nul(br#"{"text":"a\\u0000b"}"#), "a literal backslash followed by u0000");
    assert!(has_nul(br#"{"text":"a\\\u0000b"}"#));
    assert!(!has_nul(br#"{"text":"plain"}"#));
}

#[test]
fn the_cache_skips_only_copies_that_cannot_change_the_row() {
    let filters = music();
    let shaping = Shaping { filters: &filters, pseudonyms: None };
    let v = |rt: i64, likes: Option<i64>, user: Option<&str>| {
        let mut data = serde_json::json!({"id": "1", "text": "a", "author_id": "7",
            "public_metrics": {"retweet_count": rt}});
        if let Some(l) = likes {
            data["public_metrics"]["like_count"] = l.into();
        }
        let users = user.map_or_else(Vec::new, |u| vec![serde_json::json!({"id": "7", "username": u})]);
        serde_json::json!({"data": data, "includes": {"users": users}}).to_string()
    };
    let mut committed = prepare(&[msg(0, &v(5, Some(5), Some("ann")))], &shaping);
    committed.settle(&RecentIds::new(10));
    let mut cache = RecentIds::new(10);
    cache.remember(&committed.rows[0]);
    let batch = [
        msg(0, &v(5, Some(5), Some("ann"))), // the same copy: skipped
        msg(1, &v(5, None, None)),           // knows less: skipped... unless it outranks the winner
        msg(2, &v(4, Some(9), Some("ann"))), // more likes: written
        msg(3, &v(5, Some(5), Some("bob"))), // another username: written, the database joins it
    ];
    let mut p = prepare(&batch, &shaping);
    let skipped = p.settle(&cache);
    let offsets: Vec<i64> = p
        .rows
        .iter()
        .flat_map(|r| {
            if r.copies.is_empty() {
                vec![r.offset]
            } else {
                r.copies.iter().map(|c| c.offset).collect()
            }
        })
        .collect();
    assert!(!offsets.contains(&0), "the committed copy itself is skipped: {offsets:?}");
    assert!(
        offsets.contains(&2) && offsets.contains(&3),
        "copies that add something are written: {offsets:?}"
    );
    assert_eq!(skipped as usize + p.rows.len(), 4);
}

#[test]
fn copies_of_an_id_join_whatever_their_order() {
    let filters = music();
    let shaping = Shaping { filters: &filters, pseudonyms: None };
    let a = serde_json::json!({"data": {"id": "1", "text": "a", "created_at": "2026-01-01T00:00:00.000Z",
        "public_metrics": {"retweet_count": 5, "like_count": 100}}})
    .to_string();
    let b = serde_json::json!({"data": {"id": "1", "text": "b", "author_id": "7",
        "public_metrics": {"retweet_count": 6, "like_count": 0}},
        "includes": {"users": [{"id": "7", "username": "ann"}]}})
    .to_string();
    let mut rows = Vec::new();
    for order in [[msg(0, &a), msg(1, &b)], [msg(1, &b), msg(0, &a)]] {
        let mut p = prepare(&order, &shaping);
        p.settle(&RecentIds::new(0));
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].copies.len(), 2, "both copies kept for isolation");
        rows.push(p.rows.remove(0));
    }
    for r in &rows {
        let t = &r.tweet;
        assert_eq!((t.retweet_count, t.like_count), (Some(6), Some(100)), "each metric its maximum");
        assert_eq!(t.username.as_deref(), Some("ann"), "a known username beats an unknown one");
        assert!(t.created_at.is_some(), "a known date beats an unknown one");
        assert_eq!(t.text, "b", "the winner (more retweets) gives the text");
    }
    assert_eq!(rows[0].rank, rows[1].rank);
    assert_eq!(rows[0].raw, rows[1].raw);
}

#[test]
fn one_fold_serves_the_rules_and_the_fingerprint_a_retweet_is_fingerprinted_by_its_own_text() {
    let filters = Filters::new(&["música".into(), "#Kpop".into()], None, FilterMode::Flag).expect("rules");
    let retweet = r#"{"created_at":"Thu Nov 08 02:31:41 +0000 2012","id":7,"id_str":"7",
        "text":"RT @a: ÉTÉ à Paris","user":{"id":1,"id_str":"1","screen_name":"a"},
        "retweeted_status":{"id":5,"id_str":"5","text":"Ｍúsica del ÉTÉ"}}"#;
    let batch = vec![
        msg(0, &line("1", "Ｍúsica, ÉTÉ à Paris", 0)),
        msg(1, &line("2", "ÉTÉ à #KPOP https://t.co/x", 0)),
        msg(2, &line("3", "plain ascii", 0)),
        keyed(3, Some("7"), retweet),
    ];
    let p = prepare(&batch, &Shaping { filters: &filters, pseudonyms: None });
    let got: Vec<(i64, Option<&str>, i64)> =
        p.rows.iter().map(|r| (r.tweet.id, r.matched_rule.as_deref(), r.content_hash)).collect();
    assert_eq!(
        got,
        [
            (1, Some("música"), fingerprint("Ｍúsica, ÉTÉ à Paris")),
            (2, Some("#Kpop"), fingerprint("ÉTÉ à #KPOP")),
            (3, None, fingerprint("plain ascii")),
            // Flagged by what it retweets; its fingerprint is its own text's, as a copy of it.
            (7, Some("música"), fingerprint("été à paris")),
        ]
    );
}
