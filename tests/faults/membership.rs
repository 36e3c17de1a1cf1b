//! Group membership under stress: a rebalance storm, and a database stall longer than
//! `max.poll.interval.ms`.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn f4_rebalance_storm() {
    let _serial = serial().await;
    let s = Scenario::new("storm", 100_000, 0.1, 25).await;
    let mut empty = s.ctx.producer();
    empty.args(["--source", "synthetic", "--count", "0", "--partitions", "12"]);
    produce(&mut empty, LIMIT);
    let watcher = OffsetWatcher::start(&s.ctx);
    let producer_summary = SummaryFile::default();
    let producer = spawn(&mut s.producer(&["--rate", "8000"]), &producer_summary);

    // The storm's schedule: every 1.5 s a member joins or leaves (SIGTERM), 2 to 4 at a time.
    let mut members: Vec<Logged> = Vec::new();
    let mut changes = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1500));
    for step in 0..10u32 {
        tick.tick().await;
        let join = members.len() < 2 || (members.len() < 4 && step % 3 != 2);
        if join {
            members.push(Logged::spawn(s.consumer(&["--batch-size", "300"]), &format!("storm_{step}")));
        } else {
            let leaving = members.remove((step as usize) % members.len());
            wait_until(LIMIT, "the member to join", || async {
                leaving.log_text().contains("joined consumer group")
            })
            .await;
            sigterm(&leaving.child);
            let out = wait_output(leaving.child, LIMIT);
            assert!(
                out.status.success(),
                "member {} left cleanly ({:?}):\n{}",
                leaving.log.display(),
                out.status,
                leaving_log(&leaving.log)
            );
        }
        changes += 1;
    }
    summary_of(&wait_output(producer, LIMIT), &producer_summary);
    for m in &members {
        wait_until(LIMIT, "the member to join", || async { m.log_text().contains("joined consumer group") })
            .await;
        sigterm(&m.child);
    }
    for m in members {
        let out = wait_output(m.child, LIMIT);
        assert!(
            out.status.success(),
            "member {} left cleanly ({:?}):\n{}",
            m.log.display(),
            out.status,
            leaving_log(&m.log)
        );
    }
    s.drain();
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!("{changes} membership changes on 12 partitions"));
}

fn leaving_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn f5_database_stall_longer_than_max_poll_interval() {
    let _serial = serial().await;
    let s = Scenario::new("db_stall", 100_000, 0.1, 26).await;
    s.produce(&[]);
    let watcher = OffsetWatcher::start(&s.ctx);
    let consumer = Logged::spawn(
        s.consumer(&[
            "--batch-size",
            "500",
            "--statement-timeout",
            "2",
            "-X",
            "max.poll.interval.ms=8000",
            "-X",
            "session.timeout.ms=6000",
        ]),
        "db_stall",
    );
    s.wait_rows(5_000, "some rows stored").await;
    let mut tx = s.ctx.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE tweets IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await.expect("lock");
    wait_until(LIMIT, "an upsert waiting on the lock", || upsert_waiting_on_lock(&s.ctx)).await;
    // The fault itself: the table stays locked for 2.5 × max.poll.interval.ms.
    let stall = Duration::from_secs(20);
    tokio::time::sleep(stall).await;
    tx.rollback().await.expect("unlock");

    let want = s.expected().len() as i64;
    s.wait_rows(want, "every row after the stall").await;
    sigterm(&consumer.child);
    let log = consumer.log_text();
    assert!(wait_output(consumer.child, LIMIT).status.success());
    assert!(log.contains("partitions paused"), "the consumer paused while the database stalled:\n{log}");
    // Until it was asked to stop, nothing was taken away from it.
    let before_stop = log.split("SIGTERM received").next().unwrap_or_default();
    assert!(
        !before_stop.contains("partitions revoked") && !before_stop.contains("maximum poll interval"),
        "the consumer never lost its partitions:\n{log}"
    );
    s.check(0).await;
    watcher.assert_monotonic();
    s.report(&format!(
        "table locked {}s with max.poll.interval.ms=8000; stayed in the group",
        stall.as_secs()
    ));
}
