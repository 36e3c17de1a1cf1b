//! Exactly once into PostgreSQL: the group's offsets live in `consumer_offsets`, moved in the
//! transaction that writes their rows and counts, so `sum(seen)` in `ingest_counts` is the
//! number of messages in the topic whatever happens to the members (killed, replaced, stalled
//! and resumed) or to the database (restored from a backup), and a gap is named, never skipped.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use tweetpipe_producer::source::synthetic::SyntheticSettings;
use tweetpipe_tests::consumer_summary::ConsumerSummary;
use tweetpipe_tests::expect::{expected_rows, table};
use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::producer::{produce, spawn, summary_of, SummaryFile};
use tweetpipe_tests::{
    committed_and_ends, consumer_summary, create_topic, kafka_client, owned_partitions, run, wait_output,
    wait_until, TestContext,
};

const LIMIT: Duration = Duration::from_secs(300);

/// A consumer of the test's group with `args`, its log in a file named after `name`.
fn member(ctx: &TestContext, args: &[&str], name: &str) -> Logged {
    let mut cmd = ctx.consumer();
    cmd.args(args);
    Logged::spawn(cmd, &format!("{}_{name}", ctx.group))
}

fn owns_partitions(m: &Logged) -> bool {
    owned_partitions(&m.log_text()).is_some_and(|p| !p.is_empty())
}

/// Sends `signal` (`STOP`, `CONT`, …) to a child.
fn signal(child: &Child, signal: &str) {
    let status =
        Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill");
    assert!(status.success(), "kill -{signal} {}", child.id());
}

/// `SELECT sum(seen) FROM ingest_counts`: every message counted, once.
async fn seen(ctx: &TestContext) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(seen), 0)::int8 FROM ingest_counts")
        .fetch_one(&ctx.pool)
        .await
        .expect("sum(seen)")
}

/// The offsets `ctx`'s database holds for `group` on `topic`.
async fn database_offsets(ctx: &TestContext, group: &str, topic: &str) -> BTreeMap<i32, i64> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
    )
    .bind(group)
    .bind(topic)
    .fetch_all(&ctx.pool)
    .await
    .expect("consumer_offsets");
    rows.into_iter().collect()
}

/// The topic's high watermarks, per partition.
fn ends(ctx: &TestContext) -> BTreeMap<i32, i64> {
    committed_and_ends(&ctx.topic, &ctx.group)
        .expect("offsets")
        .into_iter()
        .map(|(p, (_, e))| (p, e))
        .collect()
}

/// A PostgreSQL client program: on the PATH, else the newest under /usr/lib/postgresql.
fn pg_tool(name: &str) -> PathBuf {
    if let Ok(out) = Command::new("which").arg(name).output() {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !path.is_empty() {
            return PathBuf::from(path);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|v| v.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("{name} not found on the PATH nor in /usr/lib/postgresql/*/bin"))
}

/// Three members joining one after another while tweets flow, one of them SIGKILLed mid-stream
/// and replaced: every message of the topic is counted exactly once, the table is exact, and
/// the database's offsets end at the topic's end.
///
/// The producer is paced (4 000/s): a topic written beforehand drains in seconds, before the
/// staggered joins' rebalances are done. So A, B and C run without `--exit-at-end` (it stops at
/// the end seen at start) and are stopped once the database's offsets reach the topic's end; D
/// runs with it, up to the end it saw when it replaced B.
#[tokio::test(flavor = "multi_thread")]
async fn three_staggered_members_one_killed_and_replaced_count_every_message_once() {
    let ctx = TestContext::new("eo_staggered").await.expect("context");
    create_topic(&ctx.topic, 6, &[]).await.expect("topic");
    let args = SyntheticSettings { rate: 4000.0, ..SyntheticSettings::new(100_000, 71) };
    let produced = SummaryFile::default();
    let producer = spawn(ctx.producer().args(args.to_flags()), &produced);

    let flags = ["--batch-size", "500"];
    let a = member(&ctx, &flags, "a");
    wait_until(LIMIT, "A to own partitions", || async { owns_partitions(&a) }).await;
    let mut b = member(&ctx, &flags, "b");
    wait_until(LIMIT, "B to own partitions", || async { owns_partitions(&b) }).await;
    let c = member(&ctx, &flags, "c");
    wait_until(LIMIT, "C to own partitions", || async { owns_partitions(&c) }).await;
    wait_until(LIMIT, "30 000 rows stored, B owning partitions", || async {
        ctx.row_count().await >= 30_000 && owns_partitions(&b)
    })
    .await;
    let at_kill = ctx.row_count().await;
    b.child.kill().expect("SIGKILL B");
    b.child.wait().expect("B reaped");
    let d = member(&ctx, &["--exit-at-end", "--batch-size", "500"], "d");
    assert_eq!(summary_of(&wait_output(producer, LIMIT), &produced).count("failed"), 0);
    let d_log = d.log.clone();
    let d_out = wait_output(d.child, LIMIT);
    assert!(d_out.status.success(), "D: {}", std::fs::read_to_string(&d_log).unwrap_or_default());
    let topic_end = ends(&ctx);
    wait_until(LIMIT, "A and C to apply the rest of the topic", || async {
        database_offsets(&ctx, &ctx.group, &ctx.topic).await == topic_end
    })
    .await;
    sigterm(&a.child);
    sigterm(&c.child);

    let (mut consumed, mut already_applied) = (0, 0);
    let outs = [("A", wait_output(a.child, LIMIT)), ("C", wait_output(c.child, LIMIT)), ("D", d_out)];
    for (name, out) in outs {
        let s = consumer_summary(&out);
        println!("{name}: consumed={} already_applied={}", s.count("consumed"), s.count("already_applied"));
        consumed += s.count("consumed");
        already_applied += s.count("already_applied");
    }

    assert_eq!(table(&ctx).await, expected_rows(&args), "the table holds exactly the expected rows");
    assert_eq!(seen(&ctx).await, 100_000, "every message counted exactly once");
    println!(
        "staggered: {at_kill} rows at B's kill; A+C+D consumed={consumed} already_applied={already_applied} \
         (B's share not included)"
    );
    ctx.cleanup().await;
}

/// A member stalled (SIGSTOP) past its session timeout loses its partitions to another, which
/// drains the topic; resumed, the zombie's stale batches are fenced: nothing is applied twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_zombie_resumed_after_its_partitions_moved_applies_nothing_twice() {
    let ctx = TestContext::new("eo_zombie").await.expect("context");
    create_topic(&ctx.topic, 4, &[]).await.expect("topic");
    let args = SyntheticSettings::new(40_000, 72);
    produce(ctx.producer().args(args.to_flags()), LIMIT);
    let expected = expected_rows(&args);

    let z = member(&ctx, &["--batch-size", "250", "-X", "session.timeout.ms=6000"], "zombie");
    wait_until(LIMIT, "Z to store 5 000 rows", || async { ctx.row_count().await >= 5_000 }).await;
    signal(&z.child, "STOP");
    let at_stop = ctx.row_count().await;
    assert!(at_stop < expected.len() as i64, "Z stopped mid-stream ({at_stop} rows stored)");

    // N takes over once Z's session times out, and PostgreSQL ends Z's open transaction.
    let n = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(table(&ctx).await, expected, "N drained the topic");

    let before_cont = z.log_text().len();
    signal(&z.child, "CONT");
    wait_until(LIMIT, "Z to rejoin and own partitions again", || async {
        let log = z.log_text();
        log.get(before_cont..).is_some_and(|after| after.contains("partitions assigned"))
            && owned_partitions(&log).is_some_and(|p| !p.is_empty())
    })
    .await;
    sigterm(&z.child);
    let log = z.log.clone();
    let out = wait_output(z.child, LIMIT);
    let zs = ConsumerSummary::of(&out);
    let z_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(zs.balances(), "Z's summary balances: {}\n{z_log}", zs.0);

    assert_eq!(table(&ctx).await, expected, "the table holds exactly the expected rows");
    assert_eq!(seen(&ctx).await, 40_000, "nothing counted twice");
    println!(
        "zombie: {at_stop} rows at SIGSTOP; Z exit {:?} consumed={} already_applied={}; N consumed={} \
         already_applied={}",
        out.status,
        zs.count("consumed"),
        zs.count("already_applied"),
        n.count("consumed"),
        n.count("already_applied")
    );
    ctx.cleanup().await;
}

/// A database restored from a backup taken halfway is behind Kafka's committed offsets; its own
/// offsets say where its rows end, so the group re-reads the rest without a replay command.
#[tokio::test(flavor = "multi_thread")]
async fn a_restored_backup_heals_itself_without_a_replay() {
    let ctx = TestContext::new("eo_restore").await.expect("context");
    let first = SyntheticSettings::new(10_000, 73);
    let second = SyntheticSettings::new(10_000, 74);
    produce(ctx.producer().args(first.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));

    let dump = std::env::temp_dir().join(format!("{}.dump", ctx.database));
    let mut pg_dump = Command::new(pg_tool("pg_dump"));
    pg_dump.args(["-Fc", "--file"]).arg(&dump).arg(format!("--dbname={}", ctx.database_url));
    let out = run(&mut pg_dump, LIMIT);
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));

    produce(ctx.producer().args(second.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    let mut want = expected_rows(&first);
    want.extend(expected_rows(&second));
    assert_eq!(table(&ctx).await, want, "the original holds both halves");

    let restored = TestContext::new("eo_restored").await.expect("context");
    let mut pg_restore = Command::new(pg_tool("pg_restore"));
    pg_restore.arg("--no-owner").arg(format!("--dbname={}", restored.database_url)).arg(&dump);
    let out = run(&mut pg_restore, LIMIT);
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_file(&dump);
    assert_eq!(seen(&restored).await, 10_000, "the backup holds the first half");

    // The original group and topic, Kafka's offsets at the end; the restored database behind.
    let mut healed = ctx.consumer();
    healed.env("DATABASE_URL", &restored.database_url).arg("--exit-at-end");
    let s = consumer_summary(&run(&mut healed, LIMIT));

    assert_eq!(table(&restored).await, table(&ctx).await, "the restored table equals the original");
    assert_eq!(seen(&restored).await, 20_000, "every message counted once in the restored database");
    assert!(s.count("consumed") >= 10_000, "the second half re-read: {}", s.0);
    assert_eq!(database_offsets(&restored, &ctx.group, &ctx.topic).await, ends(&ctx), "offsets at the end");
    println!("restore: consumed={} already_applied={}", s.count("consumed"), s.count("already_applied"));
    ctx.cleanup().await;
    restored.cleanup().await;
}

/// The database resumes the group at an offset retention has deleted: a configuration error
/// (exit 78) naming the partition and the deleted messages, never a silent skip.
#[tokio::test(flavor = "multi_thread")]
async fn the_database_offset_beyond_retention_is_a_named_gap_exit_78() {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::{Offset, TopicPartitionList};

    let ctx = TestContext::new("eo_gap").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let args = SyntheticSettings::new(2_000, 75);
    produce(ctx.producer().args(args.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(database_offsets(&ctx, &ctx.group, &ctx.topic).await, BTreeMap::from([(0, 2_000)]));

    // The database says "from 0"; the topic now starts at 1000.
    sqlx::query("UPDATE consumer_offsets SET next_offset = 0 WHERE group_id = $1 AND topic = $2")
        .bind(&ctx.group)
        .bind(&ctx.topic)
        .execute(&ctx.pool)
        .await
        .expect("rewind");
    let admin: AdminClient<DefaultClientContext> = kafka_client().create().expect("admin");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&ctx.topic, 0, Offset::Offset(1_000)).expect("tpl");
    let deleted = admin.delete_records(&tpl, &AdminOptions::new()).await.expect("delete_records");
    for e in deleted.elements() {
        assert!(e.error().is_ok(), "deleting records of partition {}: {:?}", e.partition(), e.error());
    }

    let out = run(ctx.consumer().arg("--exit-at-end"), LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "a configuration error:\n{stderr}");
    assert!(stderr.contains("partition 0") && stderr.contains("deleted"), "names the gap:\n{stderr}");
    assert_eq!(seen(&ctx).await, 2_000, "nothing counted");
    ctx.cleanup().await;
}

/// Upgrading from a version without `consumer_offsets`: a group known only to Kafka carries on
/// from its committed offsets (nothing read again, nothing skipped), and its partitions are in
/// the database from then on.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_known_only_to_kafka_carries_on_from_its_kafka_offsets() {
    let ctx = TestContext::new("eo_upgrade").await.expect("context");
    let before = SyntheticSettings::new(6_000, 76);
    let after = SyntheticSettings::new(4_000, 77);
    produce(ctx.producer().args(before.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    // As an older version leaves the database: rows and counts, no offsets.
    sqlx::query("DELETE FROM consumer_offsets").execute(&ctx.pool).await.expect("forget");

    produce(ctx.producer().args(after.to_flags()), LIMIT);
    let s = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    assert_eq!(s.count("consumed"), 4_000, "resumed where Kafka's offsets were: {}", s.0);
    let mut want = expected_rows(&before);
    want.extend(expected_rows(&after));
    assert_eq!(table(&ctx).await, want);
    assert_eq!(seen(&ctx).await, 10_000);
    assert_eq!(database_offsets(&ctx, &ctx.group, &ctx.topic).await, ends(&ctx), "recorded from then on");
    ctx.cleanup().await;
}

/// Kafka's offsets follow the database's even when nothing is left to read (a member died
/// between its two commits, or a revoked partition's last batch landed): lag tools and
/// autoscalers that read Kafka's offsets see no lag that is not there.
#[tokio::test(flavor = "multi_thread")]
async fn kafka_offsets_follow_the_database_with_nothing_left_to_read() {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
    use rdkafka::{Offset, TopicPartitionList};

    let ctx = TestContext::new("eo_follow").await.expect("context");
    create_topic(&ctx.topic, 3, &[]).await.expect("topic");
    let args = SyntheticSettings::new(3_000, 78);
    produce(ctx.producer().args(args.to_flags()), LIMIT);
    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    let end = ends(&ctx);
    assert_eq!(database_offsets(&ctx, &ctx.group, &ctx.topic).await, end);

    // Kafka's offsets back at the start, as a member that died after its database commit
    // leaves them; the database holds everything.
    let group: BaseConsumer = kafka_client().set("group.id", &ctx.group).create().expect("client");
    let mut start = TopicPartitionList::new();
    for p in end.keys() {
        start.add_partition_offset(&ctx.topic, *p, Offset::Offset(0)).expect("tpl");
    }
    group.commit(&start, CommitMode::Sync).expect("rewind Kafka's offsets");
    drop(group);

    consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), LIMIT));
    let kafka: BTreeMap<i32, i64> = committed_and_ends(&ctx.topic, &ctx.group)
        .expect("offsets")
        .into_iter()
        .map(|(p, (c, _))| (p, c))
        .collect();
    assert_eq!(kafka, end, "Kafka's offsets moved to the database's");
    assert_eq!(seen(&ctx).await, 3_000, "nothing applied twice");
    assert_eq!(table(&ctx).await, expected_rows(&args));
    ctx.cleanup().await;
}
