//! `check` on both binaries, run as the Helm chart's init containers run it (the run's flags,
//! the environment): it passes against the stack, and tells configuration that will never work
//! (78: a missing topic, a wrong password, a refused X token) from a server that does not
//! answer (69), a line per step, every step whatever failed before it. It verifies what a run
//! needs of the database (a writable session, the rights on the tables, CREATE where it
//! migrates). Malformed settings are 78 and never print the password; `--no-migrate` runs with
//! a role that may only read and write rows. And the producer refuses to invent input: no
//! `--source` is a usage error.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use tweetpipe_tests::roles::Role;
use tweetpipe_tests::xmock::{MockX, Reply};
use tweetpipe_tests::{bin, brokers, run, TestContext};

/// A hang guard only: `check` answers within its `--timeout`.
const LIMIT: Duration = Duration::from_secs(60);
const TOKEN: &str = "check-token-Pw42";

fn consumer_check(ctx: &TestContext) -> Command {
    let mut cmd = Command::new(bin("tweetpipe-consumer"));
    // As the chart's init container: the run's flags, TWEETPIPE_* from the ConfigMap.
    cmd.args(["check", &format!("--group={}", ctx.group)])
        .env("KAFKA_BOOTSTRAP_SERVERS", brokers())
        .env("TWEETPIPE_TOPIC", &ctx.topic)
        .env("TWEETPIPE_DRAIN_TIMEOUT", "20s")
        .env("TWEETPIPE_BATCH_SIZE", "1000")
        .env("DATABASE_URL", &ctx.database_url)
        .env("RUST_LOG", "warn");
    cmd
}

fn producer_check(ctx: &TestContext, source: &str) -> Command {
    let mut cmd = ctx.producer();
    cmd.args(["check", &format!("--source={source}"), "--flush-timeout=30s"]);
    cmd
}

/// A TCP port nothing listens on (free a moment ago).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `tweetpipe-consumer migrate` as the stack's owner role: the tables, as a DBA applies them.
fn migrate(ctx: &TestContext) {
    let out = run(
        Command::new(bin("tweetpipe-consumer")).arg("migrate").env("DATABASE_URL", &ctx.database_url),
        LIMIT,
    );
    assert_exit(&out, 0, "migrate");
}

fn all_output(out: &Output) -> String {
    format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_the_stack_and_reports_each_step() {
    let ctx = TestContext::new("check_ok").await.expect("context");
    // Before the topic exists, the producer's check passes: a run creates it.
    let out = run(&mut producer_check(&ctx, "synthetic"), LIMIT);
    assert_exit(&out, 0, "producer check, topic to be created");
    assert!(stdout(&out).contains("a run creates it"), "{}", stdout(&out));

    tweetpipe_tests::producer::produce(
        ctx.producer().args(["--source", "synthetic", "--count", "20", "--partitions", "3"]),
        LIMIT,
    );
    let out = run(&mut producer_check(&ctx, "synthetic"), LIMIT);
    assert_exit(&out, 0, "producer check");

    let out = run(&mut consumer_check(&ctx), LIMIT);
    assert_exit(&out, 0, "consumer check");
    let text = stdout(&out);
    for line in [
        "ok    kafka brokers: reachable".to_owned(),
        "ok    kafka authenticated".to_owned(),
        format!("ok    kafka topic: {}: 3 partitions, replication factor 1", ctx.topic),
        format!("ok    kafka group: {}: no committed offsets yet", ctx.group),
        "ok    postgres reachable".to_owned(),
        "ok    postgres tls: NOT encrypted".to_owned(),
        "ok    postgres authenticated".to_owned(),
        "appliable (run applies them)".to_owned(),
    ] {
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }

    // After a run, the group's position and the applied migrations.
    let consumed = run(ctx.consumer().arg("--exit-at-end"), Duration::from_secs(180));
    assert!(consumed.status.success(), "consumer run: {}", String::from_utf8_lossy(&consumed.stderr));
    let out = run(&mut consumer_check(&ctx), LIMIT);
    assert_exit(&out, 0, "consumer check after a run");
    let text = stdout(&out);
    assert!(text.contains(&format!("kafka group: {}: committed on", ctx.group)), "{text}");
    assert!(text.contains("postgres migrations: all "), "{text}");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_a_configuration_error() {
    let ctx = TestContext::new("check_topic").await.expect("context");
    let out = run(&mut consumer_check(&ctx), LIMIT);
    assert_exit(&out, 78, "consumer check, no topic");
    assert!(stdout(&out).contains(&format!("FAIL  kafka topic: topic {} does not exist", ctx.topic)));

    let out = run(producer_check(&ctx, "synthetic").args(["--create-topics", "false"]), LIMIT);
    assert_exit(&out, 78, "producer check, no topic, no creation");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_an_outage_reported_within_the_timeout() {
    let ctx = TestContext::new("check_down").await.expect("context");
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut cmd = consumer_check(&ctx);
    cmd.args(["--timeout", "2s"]).env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{closed}"));
    let out = run(&mut cmd, LIMIT);
    assert_exit(&out, 69, "consumer check, broker down");
    assert!(stdout(&out).contains("FAIL  kafka brokers: Kafka not reachable"), "{}", stdout(&out));
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_database_password_is_a_configuration_error_and_not_shown() {
    let ctx = TestContext::new("check_pw").await.expect("context");
    tweetpipe_tests::producer::produce(ctx.producer().args(["--source", "synthetic", "--count", "1"]), LIMIT);
    let (scheme_user, rest) = ctx.database_url.split_once('@').expect("a URL with credentials");
    let user_end = scheme_user.rfind(':').expect("a password in the URL");
    let wrong = format!("{}:Wr0ng-pw-991@{rest}", &scheme_user[..user_end]);
    let out = run(consumer_check(&ctx).env("DATABASE_URL", &wrong), LIMIT);
    assert_exit(&out, 78, "consumer check, wrong password");
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("FAIL  postgres") && all.contains("authentication failed"), "{all}");
    assert!(!all.contains("Wr0ng-pw-991"), "the password leaked:\n{all}");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x_token_is_tried_and_a_refused_one_is_a_configuration_error() {
    let ctx = TestContext::new("check_x").await.expect("context");
    let mock = MockX::start(|req, _| {
        if req.authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(401, json!({"title": "Unauthorized"}));
        }
        Reply::json(200, json!({"meta": {"result_count": 0}}))
    })
    .await;
    let dir = std::env::temp_dir().join(format!("tweetpipe-check-x-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = dir.join("rules.txt");
    std::fs::write(&rules, "# comment\njb: #justinbieber -is:retweet\n").expect("rules");
    let check = |token: &str| {
        let token_file = dir.join(format!("token-{}", token.len()));
        std::fs::write(&token_file, format!("{token}\n")).expect("token");
        // The chart's producer init container: source, rules file, token file, -X, extra args.
        let mut cmd = producer_check(&ctx, "x-stream");
        cmd.arg(format!("--rules-file={}", rules.display()))
            .arg(format!("--bearer-token-file={}", token_file.display()))
            .args(["-X", "linger.ms=20"])
            .env("X_API_BASE_URL", &mock.base_url);
        run(&mut cmd, LIMIT)
    };
    let out = check(TOKEN);
    assert_exit(&out, 0, "producer check, the right token");
    assert!(stdout(&out).contains("ok    x token: accepted"), "{}", stdout(&out));
    assert!(stdout(&out).contains("ok    x rules: 1 configured"), "{}", stdout(&out));

    let wrong = "the-wrong-token-xyz";
    let out = check(wrong);
    assert_exit(&out, 78, "producer check, a refused token");
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("FAIL  x token: X refused the bearer token (HTTP 401)"), "{all}");
    assert!(!all.contains(wrong), "the token leaked:\n{all}");
    assert_eq!(mock.seen("/2/tweets/search/stream/rules").len(), 2, "one cheap call per check");
    let _ = std::fs::remove_dir_all(&dir);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_without_a_source_is_a_usage_error_naming_it() {
    let ctx = TestContext::new("check_nosource").await.expect("context");
    let out = run(ctx.producer().args(["--count", "5"]), LIMIT);
    assert_exit(&out, 2, "producer without --source");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--source"), "{err}");
    // Nothing was invented: the topic was not even created.
    let topics = tweetpipe_tests::read_topic(&ctx.topic).map(|m| m.len()).unwrap_or(0);
    assert_eq!(topics, 0);
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_select_only_role_and_a_read_only_session_beside_a_kafka_outage() {
    let ctx = TestContext::new("check_rights").await.expect("context");
    migrate(&ctx);
    let reader = Role::create(
        &ctx,
        "ro",
        &[
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
            "ALTER ROLE {role} SET default_transaction_read_only = on",
        ],
    )
    .await
    .expect("role");
    let mut cmd = consumer_check(&ctx);
    cmd.args(["--timeout", "3s"])
        .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{}", closed_port()))
        .env("DATABASE_URL", &reader.url);
    let out = run(&mut cmd, LIMIT);
    // The worst step decides: the database's 78 over Kafka's 69.
    assert_exit(&out, 78, "consumer check, read-only role, Kafka down");
    let text = stdout(&out);
    for line in [
        "FAIL  kafka brokers".to_owned(),
        "FAIL  postgres writable: the session is read-only".to_owned(),
        "FAIL  postgres privileges: this role lacks INSERT on tweets, UPDATE on tweets, DELETE on tweets"
            .to_owned(),
        "FAIL  postgres create: no CREATE on schema public".to_owned(),
    ] {
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
    reader.drop().await;
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_database_urls_are_configuration_errors_that_never_show_the_password() {
    let ctx = TestContext::new("check_urls").await.expect("context");
    let password = "S3cr/t@pw";
    for url in [
        format!("postgres://app:{password}@localhost:99999/tweets"),
        format!("postgres://app:{password}@localhost:5432/tweets?sslmode=bogus"),
        format!("mysql://app:{password}@localhost:3306/tweets"),
        // Unencoded '/' and '@' in the password: the URL's structure breaks at them.
        format!("postgres://app:{password}@localhost:5432/tweets"),
    ] {
        let runs = run(ctx.consumer().env("DATABASE_URL", &url), LIMIT);
        assert_exit(&runs, 78, &format!("run, a malformed URL: {url}"));
        let checks = run(consumer_check(&ctx).env("DATABASE_URL", &url), LIMIT);
        assert!(stdout(&checks).contains("FAIL  settings: DATABASE_URL"), "{url}:\n{}", stdout(&checks));
        assert_exit(&checks, 78, &format!("check, a malformed URL: {url}"));
        for all in [all_output(&runs), all_output(&checks)] {
            for part in [password, "S3cr", "t@pw"] {
                assert!(!all.contains(part), "the password leaked ({part}):\n{all}");
            }
        }
    }
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_timeout_bounds_the_connect_and_names_the_cause() {
    let ctx = TestContext::new("check_connect").await.expect("context");
    let url = format!("postgres://tweetpipe:pw@127.0.0.1:{}/tweetpipe", closed_port());
    let mut cmd = Command::new(bin("tweetpipe-consumer"));
    cmd.args(["migrate", "--db-connect-timeout", "1s"]).env("DATABASE_URL", &url);
    let out = run(&mut cmd, LIMIT);
    assert_exit(&out, 69, "nothing listens");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("gave up after 1s") && err.contains("connection refused"), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    ctx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_migrate_refuses_an_unmigrated_database_and_runs_with_a_dml_only_role() {
    let ctx = TestContext::new("check_nomigrate").await.expect("context");
    tweetpipe_tests::producer::produce(
        ctx.producer().args(["--source", "synthetic", "--count", "20"]),
        LIMIT,
    );
    let out = run(ctx.consumer().args(["--no-migrate", "--exit-at-end"]), LIMIT);
    assert_exit(&out, 78, "--no-migrate against an empty database");
    assert!(all_output(&out).contains("not migrated"), "{}", all_output(&out));
    assert_eq!(ctx.row_count().await, 0);

    migrate(&ctx);
    let writer = Role::create(
        &ctx,
        "dml",
        &[
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        ],
    )
    .await
    .expect("role");
    let out = run(consumer_check(&ctx).arg("--no-migrate").env("DATABASE_URL", &writer.url), LIMIT);
    assert_exit(&out, 0, "check, DML-only role, --no-migrate");
    assert!(stdout(&out).contains("ok    postgres privileges"), "{}", stdout(&out));
    let out = run(
        ctx.consumer()
            .args(["--exit-at-end"])
            .env("TWEETPIPE_MIGRATE", "false")
            .env("DATABASE_URL", &writer.url),
        LIMIT,
    );
    assert_exit(&out, 0, "run, DML-only role, TWEETPIPE_MIGRATE=false");
    assert!(ctx.row_count().await > 0, "tweets stored by the DML-only role");
    writer.drop().await;
    ctx.cleanup().await;
}
