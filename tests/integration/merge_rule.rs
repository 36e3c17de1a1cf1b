//! The write contract (#25, docs/write-contract.md), through the real collapse, cache and SQL:
//! the table is a function of the set of copies read. Random copies of a few ids (random
//! metrics, known and unknown fields, copies PostgreSQL refuses, deletions), fed in random
//! orders, split into random batches, with and without the cache, then replayed: the table is
//! the same every time and equals a reference merge written plainly here.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rdkafka::message::{OwnedMessage, Timestamp};
use sqlx::PgPool;
use tweetpipe_consumer::db::part::Part;
use tweetpipe_consumer::db::writer::Writer;
use tweetpipe_consumer::dedup::RecentIds;
use tweetpipe_consumer::prepare::{prepare, Shaping};
use tweetpipe_model::filter::{FilterMode, Filters};
use tweetpipe_tests::{incompressible, TestContext};

const BASE: i64 = 1_800_000_000_000_000_000;

#[derive(Debug, Clone)]
struct Copy {
    id: i64,
    metrics: [Option<i64>; 4],
    user: Option<&'static str>,
    day: Option<u32>,
    lang: Option<&'static str>,
    /// Carries a number PostgreSQL's jsonb cannot hold.
    refused: bool,
}

#[derive(Debug, Clone)]
enum Event {
    Copy(Copy),
    Delete(i64),
}

fn text_of(m: &[Option<i64>; 4]) -> String {
    format!("snapshot {m:?}")
}

fn payload(c: &Copy) -> String {
    let mut metrics = serde_json::Map::new();
    for (name, m) in ["retweet_count", "like_count", "reply_count", "quote_count"].iter().zip(c.metrics) {
        if let Some(v) = m {
            metrics.insert((*name).into(), v.into());
        }
    }
    let mut data = serde_json::json!({"id": c.id.to_string(), "text": text_of(&c.metrics), "author_id": "7", "public_metrics": metrics});
    if let Some(d) = c.day {
        data["created_at"] = format!("2026-01-0{d}T00:00:00.000Z").into();
    }
    if let Some(l) = c.lang {
        data["lang"] = l.into();
    }
    if c.refused {
        data["junk"] = "JUNK".into();
    }
    let users: Vec<_> = c.user.iter().map(|u| serde_json::json!({"id": "7", "username": u})).collect();
    serde_json::json!({"data": data, "includes": {"users": users}})
        .to_string()
        .replace("\"JUNK\"", "1e-20000")
}

fn message(event: &Event, offset: i64) -> OwnedMessage {
    let (key, value) = match event {
        Event::Copy(c) => (c.id, Some(payload(c).into_bytes())),
        Event::Delete(id) => (*id, None),
    };
    OwnedMessage::new(
        value,
        Some(key.to_string().into_bytes()),
        "t".into(),
        Timestamp::NotAvailable,
        0,
        offset,
        None,
    )
}

/// id, the four metrics, username, created_at's day, lang, text.
type Fact = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i32>,
    Option<String>,
    String,
);

/// The rule, written plainly.
fn reference(events: &[Event]) -> Vec<Fact> {
    let deleted: HashSet<i64> =
        events.iter().filter_map(|e| if let Event::Delete(id) = e { Some(*id) } else { None }).collect();
    let mut by_id: BTreeMap<i64, Vec<&Copy>> = BTreeMap::new();
    for e in events {
        if let Event::Copy(c) = e {
            if !c.refused && !deleted.contains(&c.id) {
                by_id.entry(c.id).or_default().push(c);
            }
        }
    }
    by_id
        .into_iter()
        .map(|(id, copies)| {
            let max = |f: &dyn Fn(&Copy) -> Option<i64>| copies.iter().filter_map(|c| f(c)).max();
            let rank = |c: &Copy| c.metrics.map(|m| m.unwrap_or(-1));
            let winner = copies.iter().max_by_key(|c| rank(c)).expect("a copy");
            (
                id,
                max(&|c| c.metrics[0]),
                max(&|c| c.metrics[1]),
                max(&|c| c.metrics[2]),
                max(&|c| c.metrics[3]),
                copies.iter().filter_map(|c| c.user).max().map(str::to_owned),
                copies.iter().filter_map(|c| c.day).min().map(|d| d as i32),
                copies.iter().filter_map(|c| c.lang).max().map(str::to_owned),
                text_of(&winner.metrics),
            )
        })
        .collect()
}

async fn table(pool: &PgPool) -> Vec<Fact> {
    sqlx::query_as(
        "SELECT id, retweet_count, like_count, reply_count, quote_count, username,
                extract(day FROM created_at AT TIME ZONE 'UTC')::int4, lang, text
         FROM tweets ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("table")
}

/// Feeds `events` in batches cut at `cuts` through the consumer's own prepare, cache and writer.
async fn feed(writer: &Writer, events: &[Event], cuts: &[usize], cache_size: usize, first_offset: i64) {
    let filters = Filters::new(&["music".into()], None, FilterMode::Drop).expect("rules");
    let shaping = Shaping { filters: &filters, pseudonyms: None };
    let mut cache = RecentIds::new(cache_size);
    let mut start = 0;
    for end in cuts.iter().copied().chain([events.len()]) {
        let end = end.clamp(start, events.len());
        let msgs: Vec<OwnedMessage> = events[start..end]
            .iter()
            .enumerate()
            .map(|(i, e)| message(e, first_offset + (start + i) as i64))
            .collect();
        start = end;
        let mut prepared = prepare(&msgs, &shaping);
        prepared.settle(&cache);
        let written =
            writer.write(&Part::rows(prepared.rows.clone(), &prepared.deletes)).await.expect("written");
        cache.remember_committed(&prepared.rows, &written.refused);
    }
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    let metric = proptest::option::of(0i64..3);
    let copy = (
        0i64..3,
        [metric.clone(), metric.clone(), metric.clone(), metric],
        proptest::option::of(prop_oneof![Just("ann"), Just("bob")]),
        proptest::option::of(1u32..4),
        proptest::option::of(prop_oneof![Just("en"), Just("fr")]),
        proptest::bool::weighted(0.15),
    )
        .prop_map(|(id, metrics, user, day, lang, refused)| {
            Event::Copy(Copy { id: BASE + id, metrics, user, day, lang, refused })
        });
    let event = prop_oneof![10 => copy, 1 => (0i64..3).prop_map(|id| Event::Delete(BASE + id))];
    proptest::collection::vec(event, 1..14)
}

#[test]
fn the_table_is_a_function_of_the_set_of_copies_whatever_the_order_batching_cache_or_replays() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ctx = rt.block_on(TestContext::new("merge_rule")).expect("context");
    rt.block_on(tweetpipe_consumer::db::migrate(&ctx.pool)).expect("migrate");
    let writer = Writer::new(ctx.pool.clone(), false, tweetpipe_common::shutdown::Shutdown::new());
    let schedule =
        (any::<u64>(), proptest::collection::vec(0usize..14, 0..5), prop_oneof![Just(0usize), Just(64)]);
    let mut runner = TestRunner::new(Config { cases: 40, failure_persistence: None, ..Config::default() });
    runner
        .run(
            &(events(), schedule.clone(), schedule),
            |(events, (seed_a, cuts_a, cache_a), (seed_b, mut cuts_b, cache_b))| {
                let want = reference(&events);
                rt.block_on(async {
                    let mut seen = Vec::new();
                    for (seed, cuts, cache) in
                        [(seed_a, cuts_a.clone(), cache_a), (seed_b, cuts_b.clone(), cache_b)]
                    {
                        sqlx::query("TRUNCATE tweets, deleted_tweets")
                            .execute(&ctx.pool)
                            .await
                            .expect("truncate");
                        let mut order = events.clone();
                        shuffle(&mut order, seed);
                        let mut cuts = cuts;
                        cuts.sort_unstable();
                        feed(&writer, &order, &cuts, cache, 0).await;
                        let after = table(&ctx.pool).await;
                        // A replay of the whole stream, batched another way, at other offsets.
                        cuts_b.sort_unstable();
                        feed(&writer, &order, &cuts_b, cache, 10_000).await;
                        seen.push((after, table(&ctx.pool).await));
                    }
                    for (after, replayed) in seen {
                        assert_eq!(after, want, "the table differs from the reference merge");
                        assert_eq!(replayed, want, "a replay changed the table");
                    }
                });
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(ctx.cleanup());
}

fn shuffle<T>(v: &mut [T], mut s: u64) {
    for i in (1..v.len()).rev() {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        v.swap(i, (s >> 33) as usize % (i + 1));
    }
}

/// Twenty tweets the database refuses alike (usernames too long for the index) are the records'
/// fault, not an outage: a plain probe row is stored fine, so they are dead-lettered and the
/// consumer moves on instead of waiting forever.
#[tokio::test(flavor = "multi_thread")]
async fn many_records_refused_alike_are_still_the_records_fault() {
    let ctx = TestContext::new("refused_alike").await.expect("context");
    tweetpipe_consumer::db::migrate(&ctx.pool).await.expect("migrate");
    let writer = Writer::new(ctx.pool.clone(), false, tweetpipe_common::shutdown::Shutdown::new());
    let msgs: Vec<OwnedMessage> = (0..20u64)
        .map(|i| {
            let id = BASE + i as i64;
            let v = serde_json::json!({"data": {"id": id.to_string(), "text": "x", "author_id": "7"},
                "includes": {"users": [{"id": "7", "username": incompressible(i + 1, 12_000)}]}})
            .to_string();
            OwnedMessage::new(
                Some(v.into_bytes()),
                Some(id.to_string().into_bytes()),
                "t".into(),
                Timestamp::NotAvailable,
                0,
                i as i64,
                None,
            )
        })
        .collect();
    let filters = Filters::new(&["music".into()], None, FilterMode::Drop).expect("rules");
    let mut prepared = prepare(&msgs, &Shaping { filters: &filters, pseudonyms: None });
    prepared.settle(&RecentIds::new(0));
    let written = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        writer.write(&Part::rows(prepared.rows.clone(), &[])),
    )
    .await
    .expect("not treated as an outage")
    .expect("written");
    assert_eq!(written.refused.len(), 20);
    assert!(written.refused.iter().all(|r| r.reason.starts_with("SQLSTATE 54000")));
    assert_eq!(written.retries, 0);
    ctx.cleanup().await;
}

/// A copy the database refuses (here: a username too long for its index) never costs the valid
/// copies of its id, in the same batch: the join is refused, then each copy is written alone.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_copy_never_costs_the_valid_copies_of_its_id() {
    let ctx = TestContext::new("refused_copy").await.expect("context");
    tweetpipe_consumer::db::migrate(&ctx.pool).await.expect("migrate");
    let writer = Writer::new(ctx.pool.clone(), false, tweetpipe_common::shutdown::Shutdown::new());
    let long = format!("z{}", incompressible(0x9E37_79B9_7F4A_7C15, 12_000));
    let valid = Copy {
        id: BASE,
        metrics: [Some(5), None, None, None],
        user: Some("ann"),
        day: None,
        lang: None,
        refused: false,
    };
    let newer = serde_json::json!({"data": {"id": BASE.to_string(), "text": "newer", "author_id": "7",
        "public_metrics": {"retweet_count": 6}}, "includes": {"users": [{"id": "7", "username": long}]}})
    .to_string();
    let msgs = [
        message(&Event::Copy(valid), 0),
        OwnedMessage::new(
            Some(newer.into_bytes()),
            Some(BASE.to_string().into_bytes()),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            1,
            None,
        ),
    ];
    let filters = Filters::new(&["music".into()], None, FilterMode::Drop).expect("rules");
    let mut prepared = prepare(&msgs, &Shaping { filters: &filters, pseudonyms: None });
    prepared.settle(&RecentIds::new(0));
    assert_eq!(prepared.rows.len(), 1, "one id, one row");
    let written = writer.write(&Part::rows(prepared.rows.clone(), &prepared.deletes)).await.expect("written");
    assert_eq!(written.refused.len(), 1);
    assert_eq!(written.refused[0].offset, 1, "the copy with the long username is the one refused");
    assert!(written.refused[0].reason.starts_with("SQLSTATE 54000"), "{}", written.refused[0].reason);
    let stored: Vec<(Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT retweet_count, username FROM tweets")
            .fetch_all(&ctx.pool)
            .await
            .expect("rows");
    assert_eq!(stored, [(Some(5), Some("ann".to_owned()))]);
    ctx.cleanup().await;
}
