//! PostgreSQL: connecting (patiently at start-up), migrations, and the batch upsert.

pub mod counts;
pub mod errors;
pub mod upsert;

use std::str::FromStr as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};
use tweetpipe_common::exit::Classified;
use tweetpipe_common::redact::redact_url;

use crate::cli::DatabaseArgs;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects, retrying with backoff while the server is not there yet (a pod may start before
/// its database), up to the configured deadline.
pub async fn connect(args: &DatabaseArgs) -> anyhow::Result<PgPool> {
    let url = args.database_url.expose_secret();
    let shown = redact_url(url);
    // sqlx's parse errors can quote the URL, password included: report ours instead.
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL ({shown})"))?
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(10))
        .options([("statement_timeout", format!("{}s", args.statement_timeout_secs.max(1)))])
        .application_name("tweetpipe-consumer");
    let deadline = Instant::now() + Duration::from_secs(args.db_connect_timeout_secs);
    let mut delay = Duration::from_millis(250);
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(args.db_pool_size.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await;
        match attempt {
            Ok(pool) => {
                tracing::info!(database = %shown, "connected to PostgreSQL");
                return Ok(pool);
            }
            Err(e) if errors::config_problem(&e).is_some() => {
                let problem = errors::config_problem(&e).unwrap_or_default();
                return Err(Classified::config(format!("cannot connect to {shown}: {problem}")));
            }
            Err(e) if Instant::now() + delay < deadline && errors::is_transient(&e) => {
                tracing::warn!(database = %shown, error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) if errors::is_transient(&e) => {
                return Err(Classified::unavailable(format!(
                    "database {shown} not reachable after {}s: {e}",
                    args.db_connect_timeout_secs
                )))
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot connect to {shown}"))),
        }
    }
}

/// Applies the embedded migrations (idempotent; safe when several consumers start at once,
/// since sqlx serialises them with an advisory lock).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying database migrations")?;
    Ok(())
}

/// `tweetpipe-consumer migrate`.
pub async fn migrate_only(args: &DatabaseArgs) -> anyhow::Result<()> {
    let pool = connect(args).await?;
    migrate(&pool).await?;
    tracing::info!("migrations applied");
    pool.close().await;
    Ok(())
}
