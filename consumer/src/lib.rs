//! `tweetpipe-consumer`: a consumer-group member that reads tweets from Kafka, drops music
//! tweets, de-duplicates by id and upserts the rest into PostgreSQL, in batches.
//!
//! # Layout
//! - [`cli`]: flags and environment variables; the only module that knows the command line.
//!   Each command's flags become its [`settings`] there, once; every module below takes those.
//! - [`check`]: `check`, what `run` needs, verified a step at a time within `--timeout`.
//! - [`startup`]: start-up wiring (files, database, dead-letter topic, seeding, readiness,
//!   librdkafka settings, progress bar) and the orderly exit.
//! - [`pipeline`]: the loop: poll a batch ([`intake`]) → [`prepare`] it → write it
//!   ([`db::writer`]: rows, deletions, [`dead_letter`]s, counts and the group's offsets, one
//!   transaction per part) → store Kafka offsets ([`offsets`]) → tally ([`report`]).
//! - [`lanes`]: where batches are written at once, each tweet always on the same connection.
//! - [`reader`]: the task that polls and parses batches ahead of the writes.
//! - [`intake`]: polling batches from Kafka; holding (pausing) partitions while the database is away.
//! - [`cursors`]: where each partition is read from: the database's offset, sought on assignment.
//! - [`prepare`]: parse, filter and collapse one batch of messages into rows.
//! - [`merge`]: the merge rule, what a row holds for any set of copies (one join, applied by the
//!   in-batch collapse, the cache and the SQL upsert).
//! - [`dedup`]: the bounded cache of recently stored ids.
//! - [`db`]: connection, migrations, the batch upsert (binary `COPY` or `UNNEST`), the writer (retry / pause / isolate the
//!   bad record) and the one rule of which errors are worth retrying ([`db::errors`]).
//! - [`offsets`]: where Kafka offsets are stored and committed — after the database commit. The
//!   offsets members resume from are the database's ([`db::offsets`]).
//! - [`dead_letter`]: records the consumer cannot store go to `<topic>.dlq` with the reason.
//! - [`group`]: the consumer's Kafka context: rebalance events and assignment tracking.
//! - [`end`]: the end condition of `--exit-at-end`.
//! - [`replay`]: moving a group's offsets (`replay`), seeding a fresh group (`run --from`).
//! - [`report`]: one tally per batch, feeding the metrics, `ingest_counts` and the run's summary
//!   (a `key=value` line and a JSON line on stdout).
//! - [`failpoint`]: crash points for fault drills.

pub(crate) mod check;
pub mod cli;
pub(crate) mod cursors;
pub mod db;
pub(crate) mod dead_letter;
pub mod dedup;
pub(crate) mod end;
pub(crate) mod failpoint;
pub(crate) mod group;
pub(crate) mod intake;
pub(crate) mod lanes;
pub(crate) mod merge;
pub(crate) mod offsets;
pub(crate) mod pipeline;
pub mod prepare;
pub(crate) mod reader;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod settings;
pub(crate) mod startup;

use std::process::ExitCode;

use anyhow::Context as _;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_common::{exit, kafka_preflight};

use crate::cli::{Cli, Command};
use crate::report::RunOutcome;
use crate::settings::{RunSettings, StatsSettings};

/// Exit code of `run --exit-at-end` stopped (SIGTERM) before it reached the end.
pub const EXIT_STOPPED_BEFORE_END: u8 = 3;

/// `tweetpipe-consumer stats`.
async fn print_stats(args: &StatsSettings, shutdown: &Shutdown) -> anyhow::Result<()> {
    let pool = db::connect(&args.database, shutdown).await?;
    db::migrate(&pool).await?;
    let (total, rows) = db::counts::stats(&pool, args.by_day).await?;
    println!(
        "{:<16} {:>10} {:>10} {:>11} {:>9} {:>9} {:>8} {:>8} {:>8}",
        if args.by_day { "day" } else { "hour" },
        "seen",
        "unique",
        "duplicates",
        "content",
        "filtered",
        "flagged",
        "deleted",
        "dead"
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

/// `tweetpipe-consumer run`: prints the summary (a `key=value` line, then one JSON line, the
/// last on stdout) and maps how the run ended to an exit code.
async fn run(args: RunSettings, shutdown: Shutdown) -> anyhow::Result<ExitCode> {
    let (exit_at_end, json_file) = (args.exit_at_end, args.summary_json.clone());
    let report = startup::run(args, shutdown).await?;
    let json = report.to_json();
    println!("{report}");
    println!("{json}");
    if let Some(path) = json_file {
        std::fs::write(&path, format!("{json}\n"))
            .with_context(|| format!("writing the summary to {}", path.display()))?;
    }
    if exit_at_end && report.outcome != RunOutcome::Drained {
        tracing::error!("stopped before reaching the end of the topic (--exit-at-end)");
        return Ok(ExitCode::from(EXIT_STOPPED_BEFORE_END));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the command line and maps the outcome to an exit code. `shutdown` is the one token
/// SIGTERM / Ctrl-C cancels ([`tweetpipe_common::shutdown::on_signal`]).
pub async fn main_with(cli: Cli, shutdown: Shutdown) -> ExitCode {
    // Reviewing the migrations needs no server at all.
    if let Command::Migrate(cli::MigrateArgs { print_sql: true, .. }) = &cli.command {
        print!("{}", db::migrations_sql());
        return ExitCode::SUCCESS;
    }
    // A setting that can never work ends `run` before it waits on any server.
    if let Command::Run(args) = &cli.command {
        if let Err(e) = args.validated() {
            return exit::report(&e);
        }
    }
    // Kafka's settings are checked before anything else: a wrong password or CA ends the
    // process in seconds (exit 78) instead of leaving librdkafka retrying it forever.
    let kafka = match &cli.command {
        Command::Run(args) => Some(args.kafka.settings()),
        Command::Replay(args) => Some(args.kafka.settings()),
        // `check` runs the same probe, bounded by its own timeout.
        Command::Check(_) | Command::Migrate(_) | Command::Stats(_) => None,
    };
    if let Command::Run(args) = &cli.command {
        if let Err(e) = tweetpipe_common::kafka_guards::check_topic(&args.topic) {
            return exit::report(&e);
        }
    }
    if let Some(kafka) = &kafka {
        match kafka_preflight::check(kafka, &shutdown).await {
            Ok(true) => {}
            // Stopped during the check: `run` then stops at its first step and reports it
            // (with `--exit-at-end`, as a run that did not reach the end).
            Ok(false) if matches!(cli.command, Command::Run(_)) => {}
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => return exit::report(&e),
        }
    }
    let result = match cli.command {
        // Validated above.
        Command::Run(args) => run(args.settings(), shutdown).await,
        Command::Check(args) => check::run(args.settings(), &shutdown).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate(args) => {
            db::migrate_only(&args.database.settings(), &shutdown).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Replay(args) => match args.settings() {
            Ok(settings) => replay::run(&settings, &shutdown).await.map(|()| ExitCode::SUCCESS),
            Err(e) => Err(e),
        },
        Command::Stats(args) => print_stats(&args.settings(), &shutdown).await.map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    }
}
