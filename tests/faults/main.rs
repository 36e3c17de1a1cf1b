//! The fault suite: real processes, real servers killed and restarted, fresh names per scenario.
//!
//! Every scenario checks one invariant once consumers have drained: the table holds exactly
//! the acknowledged non-music tweets (one row per id, newest data), the dead-letter topic holds
//! exactly the bad inputs injected, `ingest_counts` counted every message once per group that
//! read it (exactly once, however often it was read), and committed offsets never moved
//! backwards. Scenarios run
//! one at a time (they kill shared servers) and print their figures.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use tweetpipe_producer::source::synthetic::{Generator, SyntheticSettings};
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::faults::{
    kafka_port, pg_port, serial, sigterm, stack, upsert_waiting_on_lock, wait_port_closed, Logged,
    OffsetWatcher,
};
use tweetpipe_tests::producer::{produce, spawn, summary_of, SummaryFile};
use tweetpipe_tests::{
    consumer_summary, read_topic, run, wait_output, wait_until, ConsumerSummary, TestContext,
};

mod crashes;
mod hostile;
mod inputs;
mod membership;

const LIMIT: Duration = Duration::from_secs(240);

/// One scenario's topic, database and synthetic stream.
struct Scenario {
    name: &'static str,
    ctx: TestContext,
    args: SyntheticSettings,
    started: Instant,
}

impl Scenario {
    async fn new(name: &'static str, count: u64, duplicate_share: f64, seed: u64) -> Self {
        let ctx = TestContext::new(name).await.expect("context");
        let args = SyntheticSettings::new(count, seed).duplicate_share(duplicate_share);
        Self { name, ctx, args, started: Instant::now() }
    }

    fn producer(&self, extra: &[&str]) -> Command {
        let mut cmd = self.ctx.producer();
        cmd.args(self.args.to_flags()).args(extra);
        cmd
    }

    /// Produces the whole stream and checks every message was acknowledged.
    fn produce(&self, extra: &[&str]) {
        let s = produce(&mut self.producer(extra), LIMIT);
        assert_eq!(s.count("tweets"), self.args.count);
        assert_eq!(s.count("failed"), 0);
    }

    fn consumer(&self, extra: &[&str]) -> Command {
        let mut cmd = self.ctx.consumer();
        cmd.args(extra);
        cmd
    }

    /// A consumer with `--exit-at-end`, run to completion.
    fn drain(&self) -> ConsumerSummary {
        consumer_summary(&run(&mut self.consumer(&["--exit-at-end"]), LIMIT))
    }

    fn expected(&self) -> HashMap<i64, (String, String, i64)> {
        expected_rows(&self.args)
    }

    async fn rows(&self) -> i64 {
        self.ctx.row_count().await
    }

    /// The invariant: exactly the expected rows with their newest data, and `dead_letters`
    /// records in the dead-letter topic.
    async fn check(&self, dead_letters: usize) {
        let got = table(&self.ctx).await;
        let want = self.expected();
        let missing = want.keys().filter(|id| !got.contains_key(id)).count();
        let extra = got.keys().filter(|id| !want.contains_key(id)).count();
        let stale = want.iter().filter(|(id, row)| got.get(id).is_some_and(|g| g != *row)).count();
        assert_eq!((missing, extra, stale), (0, 0, 0), "{}: rows missing, extra, not newest", self.name);
        let dlq = read_topic(&format!("{}.dlq", self.ctx.topic)).map(|m| m.len()).unwrap_or(0);
        assert_eq!(dlq, dead_letters, "{}: dead letters", self.name);
        let messages: i64 = tweetpipe_tests::committed_and_ends(&self.ctx.topic, &self.ctx.group)
            .expect("ends")
            .values()
            .map(|(_, end)| end)
            .sum();
        let (seen, groups): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT coalesce(sum(seen), 0)::int8 FROM ingest_counts),
                    (SELECT count(DISTINCT group_id) FROM consumer_offsets WHERE topic = $1)",
        )
        .bind(&self.ctx.topic)
        .fetch_one(&self.ctx.pool)
        .await
        .expect("counts");
        assert_eq!(seen, messages * groups, "{}: each message counted once per group", self.name);
    }

    fn report(&self, figures: &str) {
        println!(
            "[fault] {}: {} tweets sent, {} rows expected; {figures}; {:.1}s in all",
            self.name,
            self.args.count,
            self.expected().len(),
            self.started.elapsed().as_secs_f64()
        );
    }

    /// How many messages the database has applied past the group's offsets in Kafka, summed
    /// over the partitions.
    async fn database_ahead_of_kafka(&self) -> i64 {
        let kafka = tweetpipe_tests::committed_and_ends(&self.ctx.topic, &self.ctx.group).expect("offsets");
        let database: Vec<(i32, i64)> = sqlx::query_as(
            "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
        )
        .bind(&self.ctx.group)
        .bind(&self.ctx.topic)
        .fetch_all(&self.ctx.pool)
        .await
        .expect("the group's offsets in the database");
        database
            .iter()
            .map(|(p, next)| next - kafka.get(p).map_or(0, |(committed, _)| (*committed).max(0)))
            .filter(|gap| *gap > 0)
            .sum()
    }

    async fn wait_rows(&self, at_least: i64, what: &str) {
        wait_until(LIMIT, what, || async { self.rows().await >= at_least }).await;
    }
}
