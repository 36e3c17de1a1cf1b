//! The command line, parsed: settings, durations, the required source.

use clap::Parser as _;

use super::*;

#[test]
fn the_command_line_becomes_each_components_settings_once() {
    let cli = Cli::try_parse_from([
        "tweetpipe-producer",
        "--topic",
        "t",
        "--source",
        "stdin",
        "--source",
        "synthetic",
        "--count",
        "5",
        "--seed",
        "9",
        "--flush-timeout",
        "7",
        "--create-topics",
        "false",
        "--stream-timeout",
        "0",
        "--summary-json",
        "/tmp/s.json",
    ])
    .expect("valid flags");
    let settings = cli.produce.settings();
    assert_eq!(settings.sink.topic, "t");
    assert_eq!(settings.sink.flush_timeout, Duration::from_secs(7));
    assert!(settings.topics.is_none());
    assert_eq!(settings.sources.specs, [SourceSpec::Stdin, SourceSpec::Synthetic]);
    assert_eq!(settings.sources.synthetic, SyntheticSettings::new(5, 9));
    assert_eq!(settings.sources.x.stream_timeout, Duration::from_secs(1), "never a zero timeout");
    assert_eq!(settings.summary_json.as_deref(), Some(std::path::Path::new("/tmp/s.json")));
}

#[test]
fn durations_take_units() {
    let cli = Cli::try_parse_from([
        "tweetpipe-producer",
        "--source",
        "synthetic",
        "--flush-timeout",
        "1m",
        "--interval",
        "90s",
    ])
    .expect("valid flags");
    let settings = cli.produce.settings();
    assert_eq!(settings.sink.flush_timeout, Duration::from_secs(60));
    assert_eq!(settings.sources.x.interval, Duration::from_secs(90));
}

#[test]
fn a_missing_source_is_a_usage_error_naming_it() {
    let err = Cli::try_parse_from(["tweetpipe-producer", "--count", "5"]).expect_err("no source");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--source"), "{err}");
    // Subcommands other than producing and `check` need none.
    Cli::try_parse_from(["tweetpipe-producer", "topic", "describe"]).expect("topic needs no source");
    let err = Cli::try_parse_from(["tweetpipe-producer", "check"]).expect_err("check needs a source");
    assert!(err.to_string().contains("--source"), "{err}");
}
