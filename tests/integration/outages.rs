//! Operational refusals are outages, never dead letters (#25): a database that turns read-only
//! (a failover onto a standby), a role that loses its privileges, a record that keeps meeting a
//! serialisation failure. The consumer pauses (`tweetpipe_consumer_paused` 1), commits nothing
//! past the refusal, and stores everything by itself once the database accepts writes again.

use std::process::Child;
use std::time::Duration;

use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::{
    consumer_summary, create_topic, http_get, produce_records, read_topic, wait_output, wait_until,
    RawRecord, TestContext,
};

const LIMIT: Duration = Duration::from_secs(120);

fn tweets(first: u64, n: u64) -> Vec<RawRecord> {
    (first..first + n)
        .map(|id| {
            RawRecord::keyed(&id.to_string(), format!(r#"{{"data":{{"id":"{id}","text":"tweet {id}"}}}}"#))
        })
        .collect()
}

fn metric(addr: &str, name: &str) -> f64 {
    http_get(addr, "/metrics").map_or(0.0, |(_, body)| {
        body.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    })
}

/// A consumer serving /metrics, assigned its partitions.
async fn running_consumer(ctx: &TestContext, name: &str) -> (Logged, String) {
    tweetpipe_consumer::db::migrate(&ctx.pool).await.expect("migrate");
    let mut cmd = ctx.consumer();
    cmd.args(["--http-addr", "127.0.0.1:0"]);
    let consumer = Logged::spawn(cmd, name);
    let addr = consumer.served_addr(LIMIT).await;
    wait_until(LIMIT, "ready (partitions assigned)", || async {
        http_get(&addr, "/readyz").is_ok_and(|r| r.0 == 200)
    })
    .await;
    (consumer, addr)
}

/// Ends the consumer with SIGTERM and asserts nothing was dead-lettered, all `n` stored.
async fn stops_with_everything_stored(ctx: &TestContext, consumer: Logged, n: u64) {
    wait_until(LIMIT, "every tweet stored once writes are allowed again", || async {
        ctx.row_count().await == n as i64
    })
    .await;
    let Logged { child, log } = consumer;
    let child: Child = child;
    sigterm(&child);
    let s = consumer_summary(&wait_output(child, LIMIT));
    assert_eq!(s.count("dead_lettered"), 0, "an outage was dead-lettered: {}", s.0);
    assert_eq!(s.count("inserted"), n, "{}", s.0);
    assert!(s.count("db_retries") > 0, "the outage was never seen: {}", s.0);
    let dead = read_topic(&format!("{}.dlq", ctx.topic)).map(|d| d.len()).unwrap_or(0);
    assert_eq!(dead, 0, "dead letters in the topic");
    let _ = std::fs::remove_file(log);
}

async fn paused(addr: &str) {
    wait_until(LIMIT, "tweetpipe_consumer_paused at 1", || async {
        metric(addr, "tweetpipe_consumer_paused") == 1.0
    })
    .await;
}

/// Runs `sql` on the stack's own database (this test's may be read-only meanwhile).
async fn admin(sql: &str) {
    let admin =
        sqlx::PgPool::connect(&tweetpipe_tests::fixture::endpoints().database_url).await.expect("admin");
    sqlx::query(sql).execute(&admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    admin.close().await;
}

/// Cuts the consumer's sessions, as a failover does.
async fn terminate_consumer_sessions(ctx: &TestContext) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'tweetpipe-consumer'",
    )
    .execute(&ctx.pool)
    .await
    .expect("terminate");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_turns_read_only_pauses_the_consumer_and_loses_nothing() {
    let ctx = TestContext::new("read_only").await.expect("context");
    create_topic(&ctx.topic, 2, &[]).await.expect("topic");
    let (consumer, addr) = running_consumer(&ctx, "read_only").await;
    let db = &ctx.database;
    admin(&format!("ALTER DATABASE \"{db}\" SET default_transaction_read_only = on")).await;
    terminate_consumer_sessions(&ctx).await;
    produce_records(&ctx.topic, &tweets(1_800_000_000_000_000_100, 20)).await.expect("produce");
    paused(&addr).await;
    assert_eq!(ctx.row_count().await, 0);
    // Back to a writable primary.
    admin(&format!("ALTER DATABASE \"{db}\" RESET default_transaction_read_only")).await;
    terminate_consumer_sessions(&ctx).await;
    stops_with_everything_stored(&ctx, consumer, 20).await;
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_that_loses_its_privileges_pauses_the_consumer_and_loses_nothing() {
    let ctx = TestContext::new("revoked").await.expect("context");
    create_topic(&ctx.topic, 2, &[]).await.expect("topic");
    tweetpipe_consumer::db::migrate(&ctx.pool).await.expect("migrate");
    let role = format!("r_{}", ctx.database.trim_start_matches("tp_"));
    for stmt in [
        format!("CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw'"),
        format!("GRANT CREATE, USAGE ON SCHEMA public TO \"{role}\""),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\""),
    ] {
        sqlx::query(&stmt).execute(&ctx.pool).await.expect("role");
    }
    let url = ctx.database_url.replacen("tweetpipe:tweetpipe@", &format!("{role}:pw@"), 1);
    let mut cmd = ctx.consumer();
    cmd.env("DATABASE_URL", url).args(["--http-addr", "127.0.0.1:0"]);
    let consumer = Logged::spawn(cmd, "revoked");
    let addr = consumer.served_addr(LIMIT).await;
    wait_until(LIMIT, "ready", || async { http_get(&addr, "/readyz").is_ok_and(|r| r.0 == 200) }).await;
    sqlx::query(&format!("REVOKE INSERT, UPDATE ON tweets FROM \"{role}\""))
        .execute(&ctx.pool)
        .await
        .expect("revoke");
    produce_records(&ctx.topic, &tweets(1_800_000_000_000_000_200, 20)).await.expect("produce");
    paused(&addr).await;
    assert_eq!(ctx.row_count().await, 0);
    sqlx::query(&format!("GRANT INSERT, UPDATE ON tweets TO \"{role}\""))
        .execute(&ctx.pool)
        .await
        .expect("grant");
    stops_with_everything_stored(&ctx, consumer, 20).await;
    // Its grants go with the database.
    ctx.cleanup().await;
    admin(&format!("DROP ROLE IF EXISTS \"{role}\"")).await;
}

/// A record that meets a serialisation failure every time, on a database that answers
/// everything else: the batch waits (40 is an outage), and lands whole once the cause goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_serialisation_failure_that_repeats_is_waited_out_never_dead_lettered() {
    let ctx = TestContext::new("forever").await.expect("context");
    create_topic(&ctx.topic, 1, &[]).await.expect("topic");
    let (consumer, addr) = running_consumer(&ctx, "forever").await;
    for stmt in [
        "CREATE FUNCTION always_conflicts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.text = 'tweet 1800000000000000301' THEN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END IF;
           RETURN NEW; END $$",
        "CREATE TRIGGER always_conflicts BEFORE INSERT ON tweets FOR EACH ROW EXECUTE FUNCTION always_conflicts()",
    ] {
        sqlx::query(stmt).execute(&ctx.pool).await.expect("trigger");
    }
    produce_records(&ctx.topic, &tweets(1_800_000_000_000_000_300, 3)).await.expect("produce");
    paused(&addr).await;
    wait_until(LIMIT, "retries", || async { metric(&addr, "tweetpipe_db_retries_total") >= 3.0 }).await;
    let stuck: i64 = sqlx::query_scalar("SELECT count(*) FROM tweets WHERE id = 1800000000000000301")
        .fetch_one(&ctx.pool)
        .await
        .expect("count");
    assert_eq!(stuck, 0);
    sqlx::query("DROP TRIGGER always_conflicts ON tweets").execute(&ctx.pool).await.expect("drop trigger");
    stops_with_everything_stored(&ctx, consumer, 3).await;
    ctx.cleanup().await;
}
