//! `tweetpipe-consumer check`: what `run` with the same flags and environment would need, a
//! line per step, within `--timeout`: the brokers, the credentials, the topic, the group's
//! position; the database settings, PostgreSQL reachable, whether the connection is
//! encrypted, the credentials, a writable session, the migrations and the rights the run needs.
//!
//! Every step runs whatever failed before it (only the steps that need a connection wait for
//! one), and the check exits with the worst step's code ([`Outcome`]: 78 > 69 > 1 > 0).

use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use tweetpipe_common::check::{self, failed, ok, Deadline, Outcome, TopicCheck};
use tweetpipe_common::exit::Classified;
use tweetpipe_common::shutdown::Shutdown;

use crate::db::{self, Migrations, TABLES};
use crate::settings::{CheckSettings, RunSettings};

/// Runs every step and returns the worst failure.
pub async fn run(settings: CheckSettings, shutdown: &Shutdown) -> anyhow::Result<()> {
    let deadline = Deadline::after(settings.timeout);
    let mut outcome = Outcome::default();
    let run = settings.run.clone();
    let kafka = tokio::task::spawn_blocking(move || {
        let topic = TopicCheck { topic: &run.topic, created_with: None, group: Some(&run.group) };
        check::kafka(&run.kafka, &topic, deadline)
    })
    .await
    .context("the Kafka check panicked");
    outcome.record(kafka.and_then(|r| r));
    database(&settings.run, deadline, shutdown, &mut outcome).await;
    outcome.finish()
}

async fn database(run: &RunSettings, deadline: Deadline, shutdown: &Shutdown, outcome: &mut Outcome) {
    if let Err(e) = run.validate() {
        outcome.record(Err(failed("settings", e)));
        return;
    }
    ok("settings", "valid");
    // The run's own connect, its patience cut to what the check has left.
    let mut patient = run.database.clone();
    (patient.pool_size, patient.connect_timeout) = (1, deadline.left());
    let connect =
        tokio::time::timeout(deadline.left() + Duration::from_secs(1), db::connect(&patient, shutdown));
    let pool = match connect.await {
        Ok(Ok(pool)) => pool,
        Ok(Err(e)) => return outcome.record(Err(failed("postgres", e))),
        Err(_) => return outcome.record(Err(failed("postgres", too_slow()))),
    };
    ok("postgres reachable", "connected");
    match tokio::time::timeout(deadline.left(), steps(&pool, run.migrate, outcome)).await {
        Ok(()) => {}
        Err(_) => outcome.record(Err(failed("postgres", too_slow()))),
    }
    pool.close().await;
}

fn too_slow() -> anyhow::Error {
    Classified::unavailable("no answer within the check's timeout")
}

/// The steps on a connection, each recorded on its own.
async fn steps(pool: &PgPool, migrate: bool, outcome: &mut Outcome) {
    let step = |name: &'static str, result: anyhow::Result<String>| match result {
        Ok(detail) => {
            ok(name, detail);
            Ok(())
        }
        Err(e) => Err(failed(name, e)),
    };
    outcome.record(step("postgres tls", tls(pool).await));
    outcome.record(step("postgres authenticated", authenticated(pool).await));
    outcome.record(step("postgres writable", writable(pool).await));
    let migrations = db::migrations(pool).await;
    let state = migrations.as_ref().ok().copied();
    outcome.record(step("postgres migrations", migrations.and_then(|m| pending(m, migrate))));
    if migrate {
        outcome.record(step("postgres create", may_create(pool).await));
    }
    outcome.record(step("postgres privileges", privileges(pool, state, migrate).await));
}

fn query_failed(e: sqlx::Error) -> anyhow::Error {
    anyhow::Error::new(e)
}

async fn tls(pool: &PgPool) -> anyhow::Result<String> {
    let (ssl, version): (Option<bool>, Option<String>) =
        sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_optional(pool)
            .await
            .map_err(query_failed)?
            .unwrap_or((None, None));
    Ok(match (ssl, version) {
        (Some(true), v) => format!("encrypted ({})", v.unwrap_or_default()),
        _ => "NOT encrypted (as configured: no sslmode requiring TLS)".to_owned(),
    })
}

async fn authenticated(pool: &PgPool) -> anyhow::Result<String> {
    let (user, db): (String, String) = sqlx::query_as("SELECT current_user::text, current_database()::text")
        .fetch_one(pool)
        .await
        .map_err(query_failed)?;
    Ok(format!("as {user}, database {db}"))
}

/// A read-only session (`default_transaction_read_only`, or a standby) fails every write.
async fn writable(pool: &PgPool) -> anyhow::Result<String> {
    let (read_only, standby): (String, bool) =
        sqlx::query_as("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()")
            .fetch_one(pool)
            .await
            .map_err(query_failed)?;
    match (read_only.as_str(), standby) {
        (_, true) => {
            Err(Classified::config("the server is a standby (read-only): point DATABASE_URL at the primary"))
        }
        ("on", _) => Err(Classified::config(
            "the session is read-only (default_transaction_read_only is on for this role or database)",
        )),
        _ => Ok("read-write".to_owned()),
    }
}

/// What the migrations step says, given whether the run applies them.
fn pending(m: Migrations, migrate: bool) -> anyhow::Result<String> {
    let Some(applied) = m.applied else {
        return Ok("cannot read _sqlx_migrations as this role; the tables are checked below".to_owned());
    };
    match m.known.saturating_sub(applied) {
        0 => Ok(format!("all {} applied", m.known)),
        n if migrate => Ok(format!("{applied} of {} applied, {n} appliable (run applies them)", m.known)),
        n => Err(Classified::config(format!(
            "{n} of {} not applied, and --no-migrate: apply them first (tweetpipe-consumer migrate)",
            m.known
        ))),
    }
}

/// Migrating creates tables (sqlx's bookkeeping table included, even when all are applied).
async fn may_create(pool: &PgPool) -> anyhow::Result<String> {
    let (schema, may): (Option<String>, Option<bool>) =
        sqlx::query_as("SELECT current_schema()::text, has_schema_privilege(current_schema(), 'CREATE')")
            .fetch_one(pool)
            .await
            .map_err(query_failed)?;
    match (schema, may) {
        (Some(schema), Some(true)) => Ok(format!("may create tables in schema {schema}")),
        (Some(schema), _) => Err(Classified::config(format!(
            "no CREATE on schema {schema}, which migrating needs: grant it, or apply the migrations \
             elsewhere and run with --no-migrate"
        ))),
        (None, _) => Err(Classified::config("no schema on the search_path exists to migrate into")),
    }
}

/// What the writes need: SELECT (the upsert's newer-wins condition reads the stored row),
/// INSERT, UPDATE and DELETE on each table, and TEMPORARY for the `COPY` path's staging table.
/// A table missing while the run migrates is created by it, with every right.
async fn privileges(pool: &PgPool, state: Option<Migrations>, migrate: bool) -> anyhow::Result<String> {
    let mut missing = Vec::new();
    for table in TABLES {
        if !db::table_exists(pool, table).await.map_err(query_failed)? {
            if !migrate && state.is_some_and(|m| m.applied.is_none()) {
                missing.push(format!("table {table} (missing)"));
            }
            continue;
        }
        for right in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            let has: bool = sqlx::query_scalar("SELECT has_table_privilege($1, $2)")
                .bind(table)
                .bind(right)
                .fetch_one(pool)
                .await
                .map_err(query_failed)?;
            if !has {
                missing.push(format!("{right} on {table}"));
            }
        }
    }
    let temp: bool = sqlx::query_scalar("SELECT has_database_privilege(current_database(), 'TEMPORARY')")
        .fetch_one(pool)
        .await
        .map_err(query_failed)?;
    if !temp {
        missing.push("TEMPORARY on the database".to_owned());
    }
    if missing.is_empty() {
        return Ok("SELECT, INSERT, UPDATE, DELETE on the tables".to_owned());
    }
    Err(Classified::config(format!("this role lacks {}", missing.join(", "))))
}
