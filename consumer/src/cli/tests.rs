//! The command line, parsed into each command's settings.

use clap::Parser as _;

use super::*;
use crate::settings::PseudonymKey;
use crate::settings::Target;

fn run_args(args: &[&str]) -> RunArgs {
    let cli = Cli::try_parse_from(["tweetpipe-consumer", "run"].iter().chain(args)).expect("valid flags");
    match cli.command {
        Command::Run(run) => run,
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn durations_take_units_and_the_old_bare_units() {
    let new = run_args(&["--batch-linger", "50ms", "--drain-timeout", "1m", "--statement-timeout", "2s"])
        .settings();
    assert_eq!(new.batch_linger, Duration::from_millis(50));
    assert_eq!(new.drain_timeout, Duration::from_secs(60));
    assert_eq!(new.database.statement_timeout, Duration::from_secs(2));
    let old = run_args(&["--batch-linger-ms", "150", "--drain-timeout", "7", "--db-connect-timeout", "1"])
        .settings();
    assert_eq!(old.batch_linger, Duration::from_millis(150));
    assert_eq!(old.drain_timeout, Duration::from_secs(7));
    assert_eq!(old.database.connect_timeout, Duration::from_secs(1));
    assert!(Cli::try_parse_from(["tweetpipe-consumer", "run", "--drain-timeout", "soon"]).is_err());
}

#[test]
fn migrations_are_on_unless_switched_off() {
    assert!(run_args(&[]).settings().migrate);
    assert!(!run_args(&["--no-migrate"]).settings().migrate);
    assert!(!run_args(&["--migrate=false"]).settings().migrate, "TWEETPIPE_MIGRATE=false");
    assert_eq!(run_args(&["--statement-timeout", "0"]).settings().database.statement_timeout, Duration::ZERO);
}

#[test]
fn pseudonymizing_without_a_key_is_a_configuration_error() {
    let e = run_args(&["--pseudonymize"]).validated().expect_err("no key");
    assert_eq!(tweetpipe_common::exit::class_of(&e), Some(tweetpipe_common::exit::Class::Config));
    let keyed = run_args(&["--pseudonymize", "--pseudonym-key-file", "/run/key"]).validated().expect("keyed");
    assert!(matches!(keyed.pseudonym_key, Some(PseudonymKey::File(_))));
}

#[test]
fn check_takes_the_run_flags() {
    let cli = Cli::try_parse_from([
        "tweetpipe-consumer",
        "check",
        "--group=backfill",
        "-X",
        "group.protocol=consumer",
        "--batch-linger=200ms",
        "--no-migrate",
        "--timeout",
        "3s",
    ])
    .expect("the chart's init container command line");
    let Command::Check(check) = cli.command else { panic!("not check") };
    let check = check.settings();
    assert_eq!((check.run.group.as_str(), check.timeout), ("backfill", Duration::from_secs(3)));
    assert!(!check.run.migrate);
}

#[test]
fn bad_replay_offsets_are_a_configuration_error() {
    let parse = |offsets: &str| {
        let cli =
            Cli::try_parse_from(["tweetpipe-consumer", "replay", "--to-offsets", offsets]).expect("flags");
        let Command::Replay(replay) = cli.command else { panic!("not replay") };
        replay.settings()
    };
    assert_eq!(parse("0:5, 2:7").expect("valid").target, Target::Offsets([(0, 5), (2, 7)].into()));
    let e = parse("0-5").expect_err("no colon");
    assert_eq!(tweetpipe_common::exit::class_of(&e), Some(tweetpipe_common::exit::Class::Config));
}
