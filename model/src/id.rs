//! Tweet ids. They pass 2^53 routinely, so they are read from `id_str` or from the decimal
//! digits of `id`, and never through an `f64`.

use serde_json::Value;

/// Why a value is not a usable tweet id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("no id field")]
    Missing,
    #[error("id is not a positive 64-bit integer: {0}")]
    Invalid(String),
}

/// Reads an id given as a JSON string of digits or as a JSON integer.
///
/// Valid ids are 1..=i64::MAX, because they are stored in a BIGINT column.
pub fn parse_id_value(value: &Value) -> Result<i64, IdError> {
    match value {
        Value::String(s) => parse_id_str(s),
        Value::Number(n) => match n.as_u64() {
            Some(v) if v >= 1 && v <= i64::MAX as u64 => Ok(v as i64),
            _ => Err(IdError::Invalid(truncate(&n.to_string()))),
        },
        other => Err(IdError::Invalid(truncate(&other.to_string()))),
    }
}

/// Reads an id from its decimal digits.
pub fn parse_id_str(s: &str) -> Result<i64, IdError> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::Invalid(truncate(s)));
    }
    match s.parse::<i64>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(IdError::Invalid(truncate(s))),
    }
}

/// Reads a message key: only the canonical form of an id (its decimal digits, no leading zero,
/// sign or space) names it. Keys decide partitions and compaction, which compare bytes: a
/// `0000301` would be another key than the `301` of the same tweet's copies and tombstones.
pub fn parse_key(s: &str) -> Result<i64, IdError> {
    match s.as_bytes().first() {
        Some(b'1'..=b'9') => parse_id_str(s),
        _ => Err(IdError::Invalid(truncate(s))),
    }
}

/// Reads a v1.1 status id: `id_str` first (exact by construction), then `id`.
pub fn v1_id(status: &serde_json::Map<String, Value>) -> Result<i64, IdError> {
    match (status.get("id_str"), status.get("id")) {
        (Some(v), _) => parse_id_value(v),
        (None, Some(v)) => parse_id_value(v),
        (None, None) => Err(IdError::Missing),
    }
}

/// Reads a v2 tweet id (`id`, a string of digits).
pub fn v2_id(tweet: &serde_json::Map<String, Value>) -> Result<i64, IdError> {
    tweet.get("id").map_or(Err(IdError::Missing), parse_id_value)
}

fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.len() <= MAX {
        s.to_owned()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_above_2_pow_53_survive_exactly() {
        // 2^53 + 1 is the first integer an f64 cannot hold.
        let raw = r#"{"id": 9007199254740993, "id_str": "9007199254740993"}"#;
        let v: Value = serde_json::from_str(raw).expect("json");
        let obj = v.as_object().expect("object");
        assert_eq!(v1_id(obj), Ok(9_007_199_254_740_993));
        let only_number: Value = serde_json::from_str(r#"{"id": 1578516068309794817}"#).expect("json");
        assert_eq!(v1_id(only_number.as_object().expect("object")), Ok(1_578_516_068_309_794_817));
    }

    #[test]
    fn keys_are_canonical_ids_only() {
        assert_eq!(parse_key("301"), Ok(301));
        assert_eq!(parse_key("9223372036854775807"), Ok(i64::MAX));
        for bad in ["0000301", "0301", "0", "", "+301", " 301", "301 ", "-301", "3O1", "9223372036854775808"]
        {
            assert!(parse_key(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_id_str("0301"), Ok(301), "ids in documents stay lenient");
    }

    #[test]
    fn id_str_wins_over_id() {
        let v = json!({"id": 1, "id_str": "2"});
        assert_eq!(v1_id(v.as_object().expect("object")), Ok(2));
    }

    #[test]
    fn rejects_what_is_not_a_positive_i64() {
        for bad in [
            json!("0"),
            json!("-5"),
            json!("12a"),
            json!(""),
            json!(0),
            json!(-3),
            json!(1.5),
            json!("9223372036854775808"),
            json!(18446744073709551615u64),
            json!(null),
            json!(["1"]),
        ] {
            assert!(matches!(parse_id_value(&bad), Err(IdError::Invalid(_))), "{bad} accepted");
        }
        assert_eq!(parse_id_value(&json!("9223372036854775807")), Ok(i64::MAX));
        assert_eq!(v2_id(json!({"text": "x"}).as_object().expect("object")), Err(IdError::Missing));
    }
}
