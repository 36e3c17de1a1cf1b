//! The client configuration's precedence, and secrets kept out of `Debug` and librdkafka's lines.

use super::*;
use crate::kafka::env_properties;

#[test]
fn debug_never_shows_secrets() {
    let mut settings = KafkaSettings::local("b:9092");
    settings.properties.push(("sasl.password".into(), "hunter2".into()));
    settings.properties.push(("security.protocol".into(), "SASL_SSL".into()));
    settings.sasl_password = Some("s3cret".to_owned().into());
    let shown = format!("{settings:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("SASL_SSL"));
}

#[test]
fn environment_properties_follow_one_rule() {
    let vars = [
        ("TWEETPIPE_KAFKA_SSL_CERTIFICATE_LOCATION", "/c.pem"),
        ("TWEETPIPE_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET", "hunter2"),
        ("TWEETPIPE_KAFKA_A__B", "x"),
        ("KAFKA_PORT", "9092"),
        ("KAFKA_HEAP_OPTS", "-Xmx1g"),
        ("TWEETPIPE_KAFKA_", "ignored"),
    ];
    let props = env_properties(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let keys: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a_b", "sasl.oauthbearer.client.secret", "ssl.certificate.location"]);

    let mut settings = KafkaSettings::local("b:9092");
    settings.env_properties = props;
    settings.security_protocol = Some("SASL_SSL".into());
    settings.sasl_password = Some("from-file".to_owned().into());
    settings.env_properties.push(("security.protocol".into(), "PLAINTEXT".into()));
    settings.properties.push(("sasl.mechanism".into(), "PLAIN".into()));
    settings.sasl_mechanism = Some("SCRAM-SHA-512".into());
    let config = settings.client_config(&[("security.protocol", "SSL")]);
    assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
    assert_eq!(config.get("sasl.mechanism"), Some("PLAIN"), "-X wins");
    assert_eq!(config.get("sasl.password"), Some("from-file"));
    assert_eq!(config.get("ssl.certificate.location"), Some("/c.pem"));
    let echoed = "Invalid value hunter2 for sasl.oauthbearer.client.secret; from-file refused";
    assert_eq!(
        crate::redact::scrub(echoed),
        "Invalid value *** for sasl.oauthbearer.client.secret; *** refused"
    );
    let shown = format!("{settings:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("from-file"), "{shown}");
}

#[test]
fn producers_do_not_get_consumer_only_properties() {
    let mut settings = KafkaSettings::local("b:9092");
    settings.properties.push(("max.poll.interval.ms".into(), "8000".into()));
    settings.properties.push(("security.protocol".into(), "SSL".into()));
    let keys: Vec<String> = settings.for_producer().properties.into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["security.protocol"]);
}

#[test]
fn the_consumer_group_protocol_drops_classic_defaults() {
    let defaults = [("session.timeout.ms", "10000"), ("enable.auto.commit", "true")];
    let mut settings = KafkaSettings::local("b:9092");
    assert_eq!(settings.client_config(&defaults).get("session.timeout.ms"), Some("10000"));
    settings.properties.push(("group.protocol".into(), "consumer".into()));
    let config = settings.client_config(&defaults);
    assert_eq!(config.get("session.timeout.ms"), None);
    assert_eq!(config.get("enable.auto.commit"), Some("true"));
    assert_eq!(config.get("group.protocol"), Some("consumer"));
}
