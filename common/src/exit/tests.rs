//! An error's class survives the context added on top of it.

use anyhow::Context as _;

use super::*;

#[test]
fn the_class_survives_context() {
    let e = Err::<(), _>(Classified::config("authentication failed"))
        .context("connecting")
        .expect_err("an error");
    assert_eq!(class_of(&e), Some(Class::Config));
    assert_eq!(format!("{e:#}"), "connecting: authentication failed");
    let e = Classified::unavailable("no broker answered");
    assert_eq!(class_of(&e), Some(Class::Unavailable));
    assert_eq!(class_of(&anyhow::anyhow!("disk full")), None);
    let bad = rdkafka::error::KafkaError::ClientConfig(
        rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN,
        "No such configuration property".into(),
        "nope".into(),
        "1".into(),
    );
    assert_eq!(class_of(&anyhow::Error::new(bad).context("creating")), Some(Class::Config));
}
