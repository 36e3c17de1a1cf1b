//! PostgreSQL: connecting (patiently at start-up), migrations, and the batch upsert.
//!
//! - [`row`]: what the write paths take and give; [`upsert`] is the one the consumer takes.
//! - [`copy_upsert`] (binary `COPY`, the default) and [`unnest`] (rows as parallel array
//!   parameters): the two write paths, siblings applying the one merge rule ([`crate::merge`]).
//! - [`writer`]: one transaction per part of a batch; isolating refused records; outages.
//! - [`part`]: what one transaction writes: whole partitions of a batch, with their offsets.
//! - [`offsets`]: the group's offsets, fenced, in the same transactions as the rows.
//! - [`counts`]: deletions and the hourly event counts. [`errors`]: what an error means.

pub mod copy_upsert;
pub(crate) mod counts;
pub(crate) mod errors;
pub mod offsets;
pub mod part;
pub mod row;
pub mod unnest;
pub mod writer;

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgPool};
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::retry::{retry, Patience};
use tweetpipe_common::shutdown::Shutdown;

use crate::settings::{Database, DatabaseSettings};

/// The migrations built into this binary (`check` compares them with the database's).
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a write waits for a pooled connection before it counts as an outage and is retried.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects, retrying with backoff while the server is not there yet (a pod may start before
/// its database), all of it within `--db-connect-timeout`, or until `shutdown`.
///
/// Each attempt opens one connection directly, so a failure names its cause ("connection
/// refused", "authentication failed"): the pool's own connect retries inside its acquire
/// timeout and then reports only "pool timed out". The pool follows once that works.
pub(crate) async fn connect(settings: &DatabaseSettings, shutdown: &Shutdown) -> anyhow::Result<PgPool> {
    let Database { options, shown } = settings.validate()?;
    let what = format!("connecting to {shown}");
    let patience = Patience { what: &what, deadline: settings.connect_timeout, backoff: Backoff::startup() };
    let attempt = || async {
        let first = options.connect().await.map_err(|e| match errors::config_problem(&e) {
            Some(problem) => Classified::config(format!("cannot connect to {shown}: {problem}")),
            None => anyhow::Error::new(e),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT.min(settings.connect_timeout))
            // No ping before every batch: a connection the database dropped fails its write,
            // which is retried on a fresh one (db/writer.rs).
            .test_before_acquire(false)
            .connect_lazy_with(options.clone());
        // The probe has said what it had to; the pool opens its own first connection now, so
        // that readiness (pooled connections) holds from the start.
        let _ = first.close().await;
        pool.acquire().await.map(drop).map_err(anyhow::Error::new)?;
        Ok(pool)
    };
    // Retried: what the database may yet answer (not up yet, restarting, too many clients).
    let permanent = |e: &anyhow::Error| {
        tweetpipe_common::retry::is_config(e)
            || e.downcast_ref::<sqlx::Error>().is_some_and(|e| !errors::is_transient(e))
    };
    let pool = retry(patience, shutdown, permanent, attempt).await?;
    tracing::info!(database = %shown, "connected to PostgreSQL");
    Ok(pool)
}

/// Upserts `rows` (one per id) within the caller's transaction, through binary `COPY`: measured
/// faster than [`unnest`], which stays as the plainer reference the `write_paths` test holds it
/// to.
pub(crate) async fn upsert(
    conn: &mut sqlx::PgConnection,
    rows: &[row::Row],
    link_content: bool,
) -> Result<row::Outcome, sqlx::Error> {
    copy_upsert::write(conn, rows, link_content).await
}

/// Applies the embedded migrations (idempotent; safe when several consumers start at once,
/// since sqlx serialises them with an advisory lock).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying database migrations")?;
    Ok(())
}

/// `tweetpipe-consumer migrate`.
pub(crate) async fn migrate_only(settings: &DatabaseSettings, shutdown: &Shutdown) -> anyhow::Result<()> {
    let pool = connect(settings, shutdown).await?;
    migrate(&pool).await?;
    tracing::info!("migrations applied");
    pool.close().await;
    Ok(())
}

/// `tweetpipe-consumer migrate --print-sql`: every embedded migration, in the order they
/// apply, each under a comment naming its version; the database is not touched.
pub(crate) fn migrations_sql() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for m in MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()) {
        let _ = writeln!(out, "-- migration {}: {}\n{}\n", m.version, m.description, m.sql.trim_end());
    }
    out
}

/// The tables a run writes; `check` verifies its rights on them.
pub(crate) const TABLES: [&str; 4] = ["tweets", "deleted_tweets", "ingest_counts", "consumer_offsets"];

/// How the database's migrations compare with this build's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Migrations {
    pub(crate) known: usize,
    /// `None`: `_sqlx_migrations` cannot be read by this role (a DML-only role may lack it).
    pub(crate) applied: Option<usize>,
}

/// Reads `_sqlx_migrations`. A migration applied but unknown to this build (a newer version
/// migrated the database), applied with other contents, or failed half-way is a configuration
/// error: no run of this build can fix it.
pub(crate) async fn migrations(pool: &PgPool) -> anyhow::Result<Migrations> {
    let known: std::collections::HashMap<i64, Vec<u8>> =
        MIGRATOR.iter().map(|m| (m.version, m.checksum.to_vec())).collect();
    let applied: Vec<(i64, Vec<u8>, bool)> =
        match sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations").fetch_all(pool).await
        {
            Ok(rows) => rows,
            // 42P01: no table yet, nothing applied.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            // 42501: not this role's to read.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                return Ok(Migrations { known: known.len(), applied: None })
            }
            Err(e) => return Err(anyhow::Error::new(e).context("reading the applied migrations")),
        };
    for (version, checksum, success) in &applied {
        let problem = match known.get(version) {
            None => format!("migration {version} is applied but unknown to this build (a newer version migrated the database)"),
            Some(c) if c != checksum => format!("migration {version} was applied with different contents"),
            Some(_) if !success => format!("migration {version} failed earlier (partially applied)"),
            Some(_) => continue,
        };
        return Err(Classified::config(problem));
    }
    Ok(Migrations { known: known.len(), applied: Some(applied.len()) })
}

/// Whether `table` is on the search path.
pub(crate) async fn table_exists(pool: &PgPool, table: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(pool).await
}

/// `run --no-migrate`: the migrations must be there already, else the run stops before it
/// consumes anything, saying how to apply them.
pub(crate) async fn require_migrated(pool: &PgPool) -> anyhow::Result<()> {
    let state = migrations(pool).await?;
    let how = "apply them first (`tweetpipe-consumer migrate`, or the chart's migration hook)";
    match state.applied {
        Some(applied) if applied < state.known => Err(Classified::config(format!(
            "--no-migrate, but the database is not migrated ({applied} of {} migrations applied): {how}",
            state.known
        ))),
        Some(_) => Ok(()),
        // Unreadable bookkeeping: the tables themselves must at least be there.
        None => {
            let mut missing = Vec::new();
            for table in TABLES {
                if !table_exists(pool, table).await.context("looking for the tables")? {
                    missing.push(table);
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            Err(Classified::config(format!(
                "--no-migrate, but the database is not migrated (no table {}): {how}",
                missing.join(", ")
            )))
        }
    }
}
