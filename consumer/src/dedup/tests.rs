//! The cache's bound: what it forgets, and that its memory stops growing once it is full.

use rdkafka::message::{OwnedMessage, Timestamp};
use tweetpipe_model::filter::{FilterMode, Filters};

use super::*;
use crate::prepare::{prepare, Shaping};

/// One committed row per id, as a write would report them.
fn rows(ids: std::ops::Range<i64>) -> Vec<Row> {
    let messages: Vec<OwnedMessage> = ids
        .map(|id| {
            let value = serde_json::json!({"data": {"id": id.to_string(), "text": "a",
                "public_metrics": {"retweet_count": 1}}})
            .to_string();
            OwnedMessage::new(
                Some(value.into_bytes()),
                Some(id.to_string().into_bytes()),
                "t".into(),
                Timestamp::NotAvailable,
                0,
                id,
                None,
            )
        })
        .collect();
    let filters = Filters::new(&[], None, FilterMode::Drop).expect("no rules");
    prepare(&messages, &Shaping { filters: &filters, pseudonyms: None }).rows
}

#[test]
fn the_oldest_id_is_forgotten_first() {
    let mut cache = RecentIds::new(3);
    let all = rows(1..5);
    for row in &all {
        cache.remember(row);
    }
    assert_eq!(cache.len(), 3);
    assert!(!cache.is_stale(&all[0]), "id 1 was evicted");
    assert!(all[1..].iter().all(|r| cache.is_stale(r)), "ids 2 to 4 are kept");
    // Remembering a kept id again takes no new place.
    cache.remember(&all[3]);
    assert!(cache.is_stale(&all[1]));
}

#[test]
fn memory_is_fixed_once_full() {
    let capacity = 1_000;
    let mut cache = RecentIds::new(capacity);
    let all = rows(0..20_000);
    cache.remember_committed(&all[..capacity], &[]);
    let sizes = (cache.slots.capacity(), cache.ring.capacity());
    // Nineteen times its size in evictions: the tombstones they leave never make it grow (the
    // map's capacity is what it can hold before growing: tombstones lower it, growth doubles it).
    for chunk in all[capacity..].chunks(250) {
        cache.remember_committed(chunk, &[]);
        assert!(
            cache.slots.capacity() <= sizes.0,
            "the index grew: {} > {}",
            cache.slots.capacity(),
            sizes.0
        );
        assert_eq!(cache.ring.capacity(), sizes.1);
    }
    assert_eq!(cache.len(), capacity);
    assert!(all[all.len() - capacity..].iter().all(|r| cache.is_stale(r)));
}

#[test]
fn no_capacity_remembers_nothing() {
    let mut cache = RecentIds::new(0);
    let all = rows(1..3);
    cache.remember_committed(&all, &[]);
    assert_eq!(cache.len(), 0);
    assert!(!cache.is_stale(&all[0]));
}
