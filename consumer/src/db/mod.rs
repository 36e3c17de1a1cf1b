//! PostgreSQL: connecting (patiently at start-up), migrations, and the batch upsert.
//!
//! - [`upsert`]: the batch upsert's inputs and outputs, and which write path runs it; its
//!   `UNNEST` path (rows as parallel array parameters).
//! - [`copy_upsert`]: the binary `COPY` path (rows into a per-connection staging table).
//! - [`counts`]: the hourly event counts. [`errors`]: which errors are worth retrying.

/// The newer-wins rule, shared by both write paths (a macro, so that it can be `concat!`ed into
/// their statements): a stored tweet takes a copy only when it carries newer data — a higher
/// metric, a known metric where the stored one is unknown (NULL), or a username or date the
/// stored copy lacked. `GREATEST` ignores NULL, so metrics never go backwards nor back to
/// unknown.
macro_rules! on_conflict_newer_wins {
    () => {
        "
ON CONFLICT (id) DO UPDATE SET
    author_id       = COALESCE(EXCLUDED.author_id, t.author_id),
    username        = COALESCE(EXCLUDED.username, t.username),
    created_at      = COALESCE(EXCLUDED.created_at, t.created_at),
    text            = EXCLUDED.text,
    retweet_count   = GREATEST(t.retweet_count, EXCLUDED.retweet_count),
    like_count      = GREATEST(t.like_count, EXCLUDED.like_count),
    reply_count     = GREATEST(t.reply_count, EXCLUDED.reply_count),
    quote_count     = GREATEST(t.quote_count, EXCLUDED.quote_count),
    location        = COALESCE(EXCLUDED.location, t.location),
    lang            = COALESCE(EXCLUDED.lang, t.lang),
    hashtags        = EXCLUDED.hashtags,
    is_retweet      = EXCLUDED.is_retweet,
    format          = EXCLUDED.format,
    raw             = EXCLUDED.raw,
    kafka_partition = EXCLUDED.kafka_partition,
    kafka_offset    = EXCLUDED.kafka_offset,
    content_hash    = EXCLUDED.content_hash,
    matched_rule    = EXCLUDED.matched_rule,
    updated_at      = now()
WHERE COALESCE(EXCLUDED.retweet_count, -1) > COALESCE(t.retweet_count, -1)
   OR COALESCE(EXCLUDED.like_count, -1)    > COALESCE(t.like_count, -1)
   OR COALESCE(EXCLUDED.reply_count, -1)   > COALESCE(t.reply_count, -1)
   OR COALESCE(EXCLUDED.quote_count, -1)   > COALESCE(t.quote_count, -1)
   OR (t.username IS NULL AND EXCLUDED.username IS NOT NULL)
   OR (t.created_at IS NULL AND EXCLUDED.created_at IS NOT NULL)
"
    };
}

pub mod copy_upsert;
pub mod counts;
pub mod errors;
pub mod upsert;
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
