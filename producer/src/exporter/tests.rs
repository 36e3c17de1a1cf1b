//! Lag arithmetic and the exporter's settings.

use super::*;

const P: Position = Position { partition: 0, low: 100, high: 1000 };

#[test]
fn lag_counts_what_the_group_has_yet_to_commit() {
    assert_eq!(lag(Some(900), P), 100);
    assert_eq!(lag(Some(1000), P), 0);
    // Never committed: read from the start, so everything left counts.
    assert_eq!(lag(None, P), 900);
    // Committed below what retention kept: only what is left can still be read.
    assert_eq!(lag(Some(10), P), 900);
    // A commit ahead of a watermark read a moment earlier is no negative lag.
    assert_eq!(lag(Some(1005), P), 0);
}

fn settings() -> ExporterSettings {
    ExporterSettings {
        kafka: KafkaSettings::local("localhost:9092"),
        topic: None,
        groups: vec!["g".to_owned()],
        interval: Duration::from_secs(5),
        http_addr: "127.0.0.1:0".parse().expect("addr"),
    }
}

#[test]
fn settings_that_cannot_work_are_configuration_errors() {
    assert!(settings().validate().is_ok());
    let class = |s: ExporterSettings| tweetpipe_common::exit::class_of(&s.validate().expect_err("invalid"));
    let config = Some(tweetpipe_common::exit::Class::Config);
    assert_eq!(class(ExporterSettings { interval: Duration::ZERO, ..settings() }), config);
    assert_eq!(class(ExporterSettings { groups: vec![String::new()], ..settings() }), config);
}
