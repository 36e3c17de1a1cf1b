//! PostgreSQL: connecting (patiently at start-up), migrations, and the batch upsert.
//!
//! - [`row`]: what the write paths take and give; [`upsert`] picks the path.
//! - [`copy_upsert`] (binary `COPY`, the default) and [`unnest`] (rows as parallel array
//!   parameters): the two write paths, siblings applying the one merge rule ([`crate::merge`]).
//! - [`writer`]: one transaction per part of a batch; isolating refused records; outages.
//! - [`counts`]: deletions and the hourly event counts. [`errors`]: what an error means.

pub mod copy_upsert;
pub mod counts;
pub mod errors;
pub mod row;
pub mod unnest;
pub mod writer;

use std::str::FromStr as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};
use tweetpipe_common::backoff::Backoff;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::redact::redact_url;
use tweetpipe_common::shutdown::Shutdown;

use crate::cli::DatabaseArgs;

/// The migrations built into this binary (`check` compares them with the database's).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects, retrying with backoff while the server is not there yet (a pod may start before
/// its database), up to the configured deadline or `shutdown`.
pub async fn connect(args: &DatabaseArgs, shutdown: &Shutdown) -> anyhow::Result<PgPool> {
    let url = args.database_url.expose_secret();
    let shown = redact_url(url);
    // sqlx's parse errors can quote the URL, password included: report ours instead.
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL ({shown})"))?
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(10))
        .options([("statement_timeout", format!("{}ms", args.statement_timeout.as_millis().max(1)))])
        .application_name("tweetpipe-consumer");
    let deadline = Instant::now() + args.db_connect_timeout;
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(args.db_pool_size.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // No ping before every batch: a connection the database dropped fails its write,
            // which is retried on a fresh one (db/writer.rs).
            .test_before_acquire(false)
            .connect_with(options.clone());
        let attempt = tokio::select! {
            a = attempt => a,
            () = shutdown.cancelled() => anyhow::bail!("connecting to {shown}: interrupted by shutdown"),
        };
        match attempt {
            Ok(pool) => {
                tracing::info!(database = %shown, "connected to PostgreSQL");
                return Ok(pool);
            }
            Err(e) if errors::config_problem(&e).is_some() => {
                let problem = errors::config_problem(&e).unwrap_or_default();
                return Err(Classified::config(format!("cannot connect to {shown}: {problem}")));
            }
            Err(e) if Instant::now() < deadline && errors::is_transient(&e) => {
                tracing::warn!(database = %shown, error = %e, attempt = backoff.attempts() + 1, "database not reachable yet");
                if !backoff.wait(shutdown).await {
                    anyhow::bail!("connecting to {shown}: interrupted by shutdown");
                }
            }
            Err(e) if errors::is_transient(&e) => {
                return Err(Classified::unavailable(format!(
                    "database {shown} not reachable after {:?}: {e}",
                    args.db_connect_timeout
                )))
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot connect to {shown}"))),
        }
    }
}

/// How batches are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// One `INSERT … SELECT FROM UNNEST($1, …)` with the rows as array parameters.
    Unnest,
    /// Binary `COPY` of new tweets into `tweets`, of stored ones into a staging table merged with
    /// one `INSERT … SELECT`.
    Copy,
}

/// The path [`upsert`] takes.
pub const WRITE_PATH: WritePath = WritePath::Copy;

/// Upserts `rows` (one per id) within the caller's transaction.
pub async fn upsert(
    conn: &mut sqlx::PgConnection,
    rows: &[row::Row],
    link_content: bool,
) -> Result<row::Outcome, sqlx::Error> {
    match WRITE_PATH {
        WritePath::Unnest => unnest::write(conn, rows, link_content).await,
        WritePath::Copy => copy_upsert::write(conn, rows, link_content).await,
    }
}

/// Applies the embedded migrations (idempotent; safe when several consumers start at once,
/// since sqlx serialises them with an advisory lock).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying database migrations")?;
    Ok(())
}

/// `tweetpipe-consumer migrate`.
pub async fn migrate_only(args: &DatabaseArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    let pool = connect(args, shutdown).await?;
    migrate(&pool).await?;
    tracing::info!("migrations applied");
    pool.close().await;
    Ok(())
}
