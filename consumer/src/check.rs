//! `tweetpipe-consumer check`: what `run` with the same flags and environment would need, a
//! line per step, within `--timeout`: the brokers, the credentials, the topic, the group's
//! position; PostgreSQL reachable, whether the connection is encrypted, the credentials, the
//! migrations.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use tweetpipe_common::check::{self, failed, ok, Deadline, TopicCheck};
use tweetpipe_common::exit::Classified;
use tweetpipe_common::shutdown::Shutdown;

use crate::cli::{CheckArgs, DatabaseArgs};

/// Runs every step; the first failure ends the check with its class.
pub async fn run(args: CheckArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    let deadline = Deadline::after(args.timeout);
    let run = args.run.clone();
    tokio::task::spawn_blocking(move || {
        let topic = TopicCheck { topic: &run.topic, created_with: None, group: Some(&run.group) };
        check::kafka(&run.kafka, &topic, deadline)
    })
    .await
    .context("the Kafka check panicked")??;
    database(&args.run.database, deadline, shutdown).await
}

async fn database(args: &DatabaseArgs, deadline: Deadline, shutdown: &Shutdown) -> anyhow::Result<()> {
    // The run's own connect, its patience cut to what the check has left.
    let patient = DatabaseArgs { db_pool_size: 1, db_connect_timeout: deadline.left(), ..args.clone() };
    let connect = tokio::time::timeout(
        deadline.left() + Duration::from_secs(1),
        crate::db::connect(&patient, shutdown),
    );
    let pool = match connect.await {
        Ok(pool) => pool.map_err(|e| failed("postgres", e))?,
        Err(_) => {
            return Err(failed("postgres", Classified::unavailable("no answer within the check's timeout")))
        }
    };
    let steps = tokio::time::timeout(deadline.left(), steps(&pool)).await;
    pool.close().await;
    match steps {
        Ok(result) => result,
        Err(_) => Err(failed("postgres", Classified::unavailable("no answer within the check's timeout"))),
    }
}

async fn steps(pool: &PgPool) -> anyhow::Result<()> {
    ok("postgres reachable", "connected");
    let (ssl, version): (Option<bool>, Option<String>) =
        sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_optional(pool)
            .await
            .map_err(|e| failed("postgres tls", anyhow::Error::new(e)))?
            .unwrap_or((None, None));
    match (ssl, version) {
        (Some(true), v) => ok("postgres tls", format!("encrypted ({})", v.unwrap_or_default())),
        _ => ok("postgres tls", "NOT encrypted (as configured: no sslmode requiring TLS)"),
    }
    let (user, db): (String, String) = sqlx::query_as("SELECT current_user::text, current_database()::text")
        .fetch_one(pool)
        .await
        .map_err(|e| failed("postgres authenticated", anyhow::Error::new(e)))?;
    ok("postgres authenticated", format!("as {user}, database {db}"));
    migrations(pool).await
}

/// Compares the migrations built into this binary with those the database has applied.
async fn migrations(pool: &PgPool) -> anyhow::Result<()> {
    let known: HashMap<i64, Vec<u8>> =
        crate::db::MIGRATOR.iter().map(|m| (m.version, m.checksum.to_vec())).collect();
    let applied: Vec<(i64, Vec<u8>, bool)> =
        match sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations").fetch_all(pool).await
        {
            Ok(rows) => rows,
            // 42P01: no table yet, nothing applied.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(failed("postgres migrations", anyhow::Error::new(e))),
        };
    for (version, checksum, success) in &applied {
        let problem = match known.get(version) {
            None => Some(format!("migration {version} is applied but unknown to this build (a newer version migrated the database)")),
            Some(c) if c != checksum => Some(format!("migration {version} was applied with different contents")),
            Some(_) if !success => Some(format!("migration {version} failed earlier (partially applied)")),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(failed("postgres migrations", Classified::config(problem)));
        }
    }
    let pending = known.len().saturating_sub(applied.len());
    if pending == 0 {
        ok("postgres migrations", format!("all {} applied", known.len()));
    } else {
        // A run applies them; it needs the right to create tables in the schema.
        let may_create: bool = sqlx::query_scalar("SELECT has_schema_privilege(current_schema(), 'CREATE')")
            .fetch_one(pool)
            .await
            .map_err(|e| failed("postgres migrations", anyhow::Error::new(e)))?;
        if !may_create {
            return Err(failed(
                "postgres migrations",
                Classified::config(format!(
                    "{pending} pending, and this user may not create tables in the schema"
                )),
            ));
        }
        ok(
            "postgres migrations",
            format!("{} of {} applied, {pending} appliable (run applies them)", applied.len(), known.len()),
        );
    }
    Ok(())
}
