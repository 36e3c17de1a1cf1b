//! Settings that would break a documented guarantee, and topic names Kafka cannot accept:
//! refused before any client exists, as configuration errors ([`crate::exit::CONFIG`]), with a
//! message naming the setting as it was given (`-X key` or `TWEETPIPE_KAFKA_…`). The one list.
//!
//! What the guarantees rest on:
//! - offsets move only after the database commit: the group consumer runs with
//!   `enable.auto.offset.store=false` (an offset is stored once its batch is committed) and
//!   `enable.auto.commit=true` (librdkafka ships the stored offsets every second), while the
//!   tools that read a group (`check`, `replay`, the lag exporter) run with
//!   `enable.auto.commit=false` so they never move it. So `enable.auto.commit` is tweetpipe's
//!   to set in either direction: any value given is refused. `enable.auto.offset.store` may
//!   only be given as `false`.
//! - a message counts as produced once every in-sync replica has it, exactly once and in order:
//!   `acks` must be `all` (`-1`) and `enable.idempotence` true. librdkafka itself refuses the
//!   settings idempotence cannot live with (`max.in.flight` above 5), as a configuration error.
//! - a deletion's tombstone lands in the partition of its tweet's copies, so compaction removes
//!   them: `partitioner=random` (which ignores keys) is refused.
//!
//! Both binaries refuse the whole list: the producer reads groups (the lag exporter) and the
//! consumer produces (dead letters).

use crate::exit::Classified;
use crate::kafka::{KafkaSettings, ENV_PROPERTY_PREFIX};

/// A guarded property (with its librdkafka aliases), the values allowed (`None`: none may be
/// given), and why.
struct Guard {
    keys: &'static [&'static str],
    allowed: Option<fn(&str) -> bool>,
    why: &'static str,
}

const GUARDS: &[Guard] = &[
    Guard {
        keys: &["enable.auto.commit", "auto.commit.enable"],
        allowed: None,
        why: "tweetpipe sets it: the consumer commits only offsets stored after the database \
              commit, and its tools never commit",
    },
    Guard {
        keys: &["enable.auto.offset.store"],
        allowed: Some(is_false),
        why: "offsets stored as messages are read would be committed before their batch reaches \
              the database, and a crash would lose the batch",
    },
    Guard {
        keys: &["acks", "request.required.acks"],
        allowed: Some(is_all),
        why: "a message counts as produced only once every in-sync replica has it (acks=all)",
    },
    Guard {
        keys: &["enable.idempotence"],
        allowed: Some(is_true),
        why: "without idempotence a retried send can duplicate or reorder messages",
    },
    Guard {
        keys: &["partitioner"],
        allowed: Some(keeps_keys),
        why: "a random partitioner ignores keys: a tombstone would miss its tweet's partition and \
              compaction would keep deleted tweets",
    },
];

fn is_all(v: &str) -> bool {
    v.eq_ignore_ascii_case("all") || v == "-1"
}

fn keeps_keys(v: &str) -> bool {
    !v.eq_ignore_ascii_case("random")
}

/// librdkafka's spellings of a boolean.
fn is_true(v: &str) -> bool {
    ["true", "t", "1", "yes", "on"].iter().any(|t| v.eq_ignore_ascii_case(t))
}

fn is_false(v: &str) -> bool {
    ["false", "f", "0", "no", "off"].iter().any(|f| v.eq_ignore_ascii_case(f))
}

/// The environment variable that sets `key` (the inverse of [`crate::kafka::env_properties`]).
fn env_name(key: &str) -> String {
    format!("{ENV_PROPERTY_PREFIX}{}", key.replace('_', "__").replace('.', "_").to_ascii_uppercase())
}

/// Refuses any guarded setting in `kafka`'s `-X` properties or `TWEETPIPE_KAFKA_*` variables.
pub fn check_settings(kafka: &KafkaSettings) -> anyhow::Result<()> {
    let given = kafka
        .env_properties
        .iter()
        .map(|(k, v)| (k, v, env_name(k)))
        .chain(kafka.properties.iter().map(|(k, v)| (k, v, format!("-X {k}"))));
    for (key, value, source) in given {
        let key = key.trim().to_ascii_lowercase();
        let Some(guard) = GUARDS.iter().find(|g| g.keys.contains(&key.as_str())) else { continue };
        if guard.allowed.is_some_and(|ok| ok(value.trim())) {
            continue;
        }
        return Err(Classified::config(format!(
            "{key}={} (from {source}) is refused: {}; remove it",
            value.trim(),
            guard.why
        )));
    }
    Ok(())
}

/// The longest topic name Kafka accepts.
const MAX_TOPIC_LEN: usize = 249;
/// What tweetpipe appends for the dead-letter topic (see [`crate::kafka::dlq_topic`]).
const DLQ_SUFFIX_LEN: usize = ".dlq".len();

/// Refuses a topic name Kafka cannot accept, or whose dead-letter topic it cannot: 1 to 245
/// characters of `[a-zA-Z0-9._-]`, and neither `.` nor `..`.
pub fn check_topic(topic: &str) -> anyhow::Result<()> {
    let why = if topic.is_empty() {
        Some("it is empty".to_owned())
    } else if topic == "." || topic == ".." {
        Some("\".\" and \"..\" are not topic names".to_owned())
    } else if topic.len() + DLQ_SUFFIX_LEN > MAX_TOPIC_LEN {
        Some(format!(
            "it is {} characters long; Kafka accepts {MAX_TOPIC_LEN}, and its dead-letter topic adds \
             {DLQ_SUFFIX_LEN}",
            topic.chars().count()
        ))
    } else {
        topic
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map(|bad| format!("{bad:?} is not allowed (only letters, digits, '.', '_' and '-')"))
    };
    match why {
        Some(why) => {
            let shown: String = topic.chars().take(60).collect();
            Err(Classified::config(format!("--topic {shown:?} is not a topic name Kafka accepts: {why}")))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{class_of, Class};

    fn refused(props: &[(&str, &str)], env: &[(&str, &str)]) -> Option<String> {
        let mut settings = KafkaSettings::local("b:9092");
        settings.properties = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        settings.env_properties = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        check_settings(&settings).err().map(|e| {
            assert_eq!(class_of(&e), Some(Class::Config));
            format!("{e:#}")
        })
    }

    #[test]
    fn guarantees_cannot_be_configured_away() {
        for (k, v) in [
            ("enable.auto.offset.store", "true"),
            ("enable.auto.commit", "true"),
            ("enable.auto.commit", "false"),
            ("auto.commit.enable", "false"),
            ("acks", "1"),
            ("acks", "0"),
            ("request.required.acks", "1"),
            ("enable.idempotence", "false"),
            ("enable.idempotence", "0"),
            ("partitioner", "random"),
        ] {
            let shown = refused(&[(k, v)], &[]).unwrap_or_else(|| panic!("{k}={v} accepted"));
            assert!(shown.contains(&format!("{k}={v}")) && shown.contains(&format!("-X {k}")), "{shown}");
        }
        let shown = refused(&[], &[("enable.auto.offset.store", "true")]).expect("refused");
        assert!(shown.contains("TWEETPIPE_KAFKA_ENABLE_AUTO_OFFSET_STORE"), "{shown}");
        for (k, v) in [
            ("enable.auto.offset.store", "false"),
            ("acks", "all"),
            ("acks", "-1"),
            ("enable.idempotence", "true"),
            ("partitioner", "murmur2_random"),
            ("auto.offset.reset", "latest"),
            ("linger.ms", "5"),
        ] {
            assert_eq!(refused(&[(k, v)], &[(k, v)]), None, "{k}={v}");
        }
    }

    #[test]
    fn environment_names_round_trip() {
        let vars = [(env_name("sasl.oauthbearer.client_id"), String::new())];
        let props = crate::kafka::env_properties(vars.into_iter());
        assert_eq!(props[0].0, "sasl.oauthbearer.client_id");
    }

    #[test]
    fn topic_names_kafka_refuses_are_configuration_errors() {
        for good in ["tweets", "a.b_c-D9", &"t".repeat(245)] {
            assert!(check_topic(good).is_ok(), "{good}");
        }
        for bad in ["bad topic!", "", ".", "..", "é", "a/b", &"t".repeat(246)] {
            let e = check_topic(bad).expect_err(bad);
            assert_eq!(class_of(&e), Some(Class::Config));
        }
    }
}
