//! `tweetpipe-consumer`: a consumer-group member that reads tweets from Kafka, drops music
//! tweets, de-duplicates by id and upserts the rest into PostgreSQL, in batches.
//!
//! # Layout
//! - [`cli`]: flags and environment variables.
//! - [`pipeline`]: the main loop: poll a batch, [`batch`] it, write it, store offsets; and the
//!   end condition of `--exit-at-end` ([`end`]).
//! - [`batch`]: parse, filter and collapse one batch of messages into rows.
//! - [`dedup`]: the bounded cache of recently stored ids.
//! - [`db`]: connection, migrations, the batch upsert, which errors are worth retrying.
//! - [`offsets`]: where offsets are stored and committed — only after the database commit.
//! - [`dead_letter`]: records the consumer cannot store go to `<topic>.dlq` with the reason.
//! - [`group`]: the consumer's Kafka context: rebalance events and assignment tracking.
//! - [`replay`]: moving a group's offsets (`replay`), seeding a fresh group (`run --from`).
//! - [`summary`]: counters, printed at the end; the same figures go to `/metrics`.
//! - [`failpoint`]: crash points for fault drills.

pub mod batch;
pub mod cli;
pub mod db;
pub mod dead_letter;
pub mod dedup;
pub mod end;
pub mod failpoint;
pub mod group;
pub mod offsets;
pub mod pipeline;
pub mod replay;
pub mod summary;

use std::future::Future;
use std::process::ExitCode;

use tweetpipe_common::{exit, kafka_preflight};

use crate::cli::{Cli, Command};

/// `tweetpipe-consumer stats`.
async fn print_stats(args: &cli::StatsArgs) -> anyhow::Result<()> {
    let pool = db::connect(&args.database).await?;
    db::migrate(&pool).await?;
    let (total, rows) = db::counts::stats(&pool, args.by == "day").await?;
    println!(
        "{:<16} {:>10} {:>10} {:>11} {:>9} {:>9} {:>8} {:>8} {:>8}",
        args.by, "seen", "unique", "duplicates", "content", "filtered", "flagged", "deleted", "dead"
    );
    for (label, seen, stored, dups, content, filtered, flagged, deleted, dead) in
        std::iter::once(total).chain(rows)
    {
        println!(
            "{label:<16} {seen:>10} {stored:>10} {dups:>11} {content:>9} {filtered:>9} {flagged:>8} {deleted:>8} {dead:>8}"
        );
    }
    println!("(unique = rows stored now; filtered = dropped by the filter rules, music by default)");
    pool.close().await;
    Ok(())
}

/// Runs the command line and maps the outcome to an exit code.
pub async fn main_with(cli: Cli, shutdown: impl Future<Output = ()> + Send + 'static) -> ExitCode {
    // Kafka's settings are checked before anything else: a wrong password or CA ends the
    // process in seconds (exit 78) instead of leaving librdkafka retrying it forever.
    let kafka = match &cli.command {
        Command::Run(args) => Some(&args.kafka),
        Command::Replay(args) => Some(&args.kafka),
        Command::Migrate(_) | Command::Stats(_) => None,
    };
    let mut shutdown = Box::pin(shutdown);
    if let Some(kafka) = kafka {
        match kafka_preflight::check(kafka, &mut shutdown).await {
            Ok(true) => {}
            Ok(false) => return ExitCode::SUCCESS,
            Err(e) => return exit::report(&e),
        }
    }
    let result = match cli.command {
        Command::Run(args) => pipeline::run(args, shutdown).await.map(|summary| println!("{summary}")),
        Command::Migrate(args) => db::migrate_only(&args).await,
        Command::Replay(args) => tokio::task::block_in_place(|| replay::run(&args)),
        Command::Stats(args) => print_stats(&args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
