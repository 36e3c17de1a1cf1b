//! The merge rule is a join: commutative, associative, idempotent, so the row is a function of
//! the set of copies. And the cache's "cannot change the row" agrees with the join.

use chrono::{TimeZone as _, Utc};
use proptest::prelude::*;
use tweetpipe_model::tweet::Tweet;
use tweetpipe_model::Format;

use super::*;
use crate::db::row::{raw_hash, Rank};

/// A copy of tweet 1 with the given fields (None: unknown).
#[allow(clippy::too_many_arguments)]
fn copy(
    metrics: [Option<i64>; 4],
    user: Option<&str>,
    lang: Option<&str>,
    day: Option<u32>,
    text: &str,
    offset: i64,
) -> Row {
    let raw = format!("{{\"data\":{{\"id\":\"1\",\"text\":\"{text}\",\"m\":{metrics:?}}}}}");
    Row::new(
        Tweet {
            id: 1,
            format: Format::V2,
            author_id: None,
            username: user.map(str::to_owned),
            created_at: day.map(|d| Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()),
            text: text.to_owned(),
            retweet_count: metrics[0],
            like_count: metrics[1],
            reply_count: metrics[2],
            quote_count: metrics[3],
            location: None,
            lang: lang.map(str::to_owned),
            hashtags: Vec::new(),
            is_retweet: false,
            retweeted_text: None,
            invalid_metrics: 0,
        },
        raw,
        0,
        offset,
        0,
        None,
    )
}

/// What a row holds, for comparing (not where its copies came from).
fn state(r: &Row) -> (Tweet, String, i32, i64, Rank) {
    (r.tweet.clone(), r.raw.clone(), r.partition, r.offset, r.rank)
}

fn joined(copies: &[Row]) -> Row {
    let mut it = copies.iter().cloned();
    let mut out = it.next().expect("a copy");
    for c in it {
        merge(&mut out, c);
    }
    out
}

fn arb_copy() -> impl Strategy<Value = Row> {
    let metric = proptest::option::of(0i64..4);
    (
        [metric.clone(), metric.clone(), metric.clone(), metric],
        proptest::option::of(prop_oneof!["ann", "bob", "Émile"]),
        proptest::option::of(prop_oneof!["en", "fr"]),
        proptest::option::of(1u32..4),
        prop_oneof!["x", "y"],
        0i64..6,
    )
        .prop_map(|(m, u, l, d, t, o)| copy(m, u.as_deref(), l.as_deref(), d, &t, o))
}

proptest! {
    #[test]
    fn the_row_is_a_function_of_the_set_of_copies(
        copies in proptest::collection::vec(arb_copy(), 1..6),
        seed in any::<u64>(),
    ) {
        let want = state(&joined(&copies));
        // Any order, any grouping (a shuffle, then joins of joins), any repeats.
        let mut shuffled = copies.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mid = (seed as usize) % shuffled.len();
        let (a, b) = shuffled.split_at(mid);
        let mut other = if a.is_empty() { joined(b) } else { joined(a) };
        if !a.is_empty() && !b.is_empty() {
            merge(&mut other, joined(b));
        }
        merge(&mut other, shuffled[0].clone());
        prop_assert_eq!(state(&other), want);
    }

    #[test]
    fn the_cache_skips_only_what_cannot_change_the_row(
        stored in proptest::collection::vec(arb_copy(), 1..4),
        copy in arb_copy(),
    ) {
        let row = joined(&stored);
        let mut seen = Seen::of(&stored[0]);
        for c in &stored[1..] {
            seen.absorb(Seen::of(c));
        }
        if seen.covers(&Seen::of(&copy)) {
            let mut after = row.clone();
            merge(&mut after, copy);
            prop_assert_eq!(state(&after), state(&row));
        }
    }
}

#[test]
fn unknown_never_beats_known_and_metrics_never_go_back() {
    let mut row = copy([Some(5), Some(100), None, None], None, None, None, "x", 0);
    merge(&mut row, copy([Some(6), Some(0), Some(0), None], Some("ann"), None, Some(2), "y", 1));
    let t = &row.tweet;
    assert_eq!(
        [t.retweet_count, t.like_count, t.reply_count, t.quote_count],
        [Some(6), Some(100), Some(0), None]
    );
    assert_eq!(t.username.as_deref(), Some("ann"));
    assert!(t.created_at.is_some());
    assert_eq!(t.text, "y", "more retweets outrank more likes: the winner is by retweets first");
}

#[test]
fn rank_bytes_order_as_the_values_do() {
    let r = |m: [Option<i64>; 4]| Rank::of(m, "{}");
    assert!(r([None, None, None, None]) < r([Some(0), None, None, None]), "unknown ranks below 0");
    assert!(r([Some(1), Some(0), None, None]) > r([Some(0), Some(9), None, None]));
    assert!(r([Some(1), None, None, None]) < r([Some(1), Some(0), None, None]));
    assert_eq!(raw_hash(b"stable"), raw_hash(b"stable"));
    assert_ne!(raw_hash(b"abcdefgh1"), raw_hash(b"abcdefgh2"));
}
