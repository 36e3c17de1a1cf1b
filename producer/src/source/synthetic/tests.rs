//! The generator is deterministic, realistic in size, and labels its tweets truthfully.

use super::*;
use std::collections::HashMap;
use tweetpipe_model::terms::{TermMatcher, DEFAULT_TERMS};

fn args(count: u64) -> SyntheticSettings {
    SyntheticSettings::new(count, 7).duplicate_share(0.2).music_share(0.1)
}

#[test]
fn same_seed_same_tweets_and_shares_roughly_as_asked() {
    let a: Vec<_> = Generator::new(&args(5000)).map(|t| t.payload).collect();
    let b: Vec<_> = Generator::new(&args(5000)).map(|t| t.payload).collect();
    assert_eq!(a, b);
    let all: Vec<_> = Generator::new(&args(5000)).collect();
    let dups = all.iter().filter(|t| t.duplicate).count();
    let new: Vec<_> = all.iter().filter(|t| !t.duplicate).collect();
    let music = new.iter().filter(|t| t.music).count();
    assert!((800..1200).contains(&dups), "duplicates {dups}");
    assert!((250..550).contains(&music), "music {music} of {}", new.len());
}

#[test]
fn lines_are_as_large_as_real_stream_lines_with_expansions() {
    let sizes: Vec<usize> = Generator::new(&args(2000)).map(|t| t.payload.len()).collect();
    let (min, max) = (sizes.iter().min().copied(), sizes.iter().max().copied());
    assert!(min >= Some(1000) && max <= Some(3500), "sizes {min:?}..{max:?}");
    let mean = sizes.iter().sum::<usize>() / sizes.len();
    assert!((1500..2500).contains(&mean), "mean {mean}");
}

#[test]
fn wall_clock_stamps_created_at_with_the_moment_of_generation() {
    let before = chrono::Utc::now() - chrono::Duration::milliseconds(1);
    let tweets: Vec<_> = Generator::new(&SyntheticSettings { wall_clock: true, ..args(50) }).collect();
    let after = chrono::Utc::now() + chrono::Duration::milliseconds(1);
    for t in tweets.iter().filter(|t| !t.duplicate) {
        let parsed = tweetpipe_model::tweet::parse(&t.payload).expect("parses");
        let at = parsed.created_at.expect("created_at");
        assert!(before <= at && at <= after, "{at} outside {before}..{after}");
    }
}

#[test]
fn labels_agree_with_the_payloads() {
    let rule = TermMatcher::new(DEFAULT_TERMS).expect("default terms");
    let mut newest: HashMap<i64, i64> = HashMap::new();
    for t in Generator::new(&args(3000)) {
        let parsed = tweetpipe_model::tweet::parse(&t.payload).expect("generator output parses");
        assert_eq!(parsed.id, t.id);
        assert!(parsed.id > 1 << 53);
        assert_eq!(rule.matches(&parsed.text), t.music, "{}", parsed.text);
        assert_eq!(parsed.username.as_deref(), Some(t.username.as_str()));
        let prev = newest.insert(t.id, t.retweet_count);
        assert_eq!(prev.is_some(), t.duplicate);
        assert!(prev.unwrap_or(0) <= t.retweet_count, "metrics never go backwards");
    }
}
