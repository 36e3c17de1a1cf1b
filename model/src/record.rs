//! The record both parsers produce ([`Tweet`]), why a message is not one ([`ParseError`]), and
//! the field rules they share. [`crate::tweet`] (the general parser) and [`crate::v2_line`]
//! (its fast path) both build on this module and not on each other's internals.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::dead_letter::Class;
use crate::id::IdError;
use crate::Format;

/// The stored form of a tweet. A field the message lacks is `None` (stored as NULL: unknown
/// is not zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Tweet {
    pub id: i64,
    pub format: Format,
    pub author_id: Option<i64>,
    /// v1.1 `user.screen_name`; v2 the author's `username` from `includes.users`.
    pub username: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The full text: v1.1 `extended_tweet.full_text` > `full_text` > `text`; v2 `note_tweet.text` > `text`.
    pub text: String,
    pub retweet_count: Option<i64>,
    pub like_count: Option<i64>,
    pub reply_count: Option<i64>,
    pub quote_count: Option<i64>,
    /// How many of the four counts were present but unusable (negative, fractional, a string,
    /// out of range) and so became `None`: the consumer counts them.
    pub invalid_metrics: u8,
    /// The author's free-text profile location, when set.
    pub location: Option<String>,
    pub lang: Option<String>,
    pub hashtags: Vec<String>,
    pub is_retweet: bool,
    /// For a retweet whose payload carries the original: the original's full text. The filter
    /// rules read this instead of the retweet's own (truncated) text.
    pub retweeted_text: Option<String>,
}

impl Tweet {
    /// The text the filter rules judge.
    pub fn rule_text(&self) -> &str {
        self.retweeted_text.as_deref().unwrap_or(&self.text)
    }
}

/// Why a message is not a storable tweet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    Id(#[from] IdError),
    #[error("not a tweet: {0}")]
    UnknownShape(&'static str),
    #[error("tweet has no text")]
    MissingText,
    #[error("both a v2 \"data\" and a v1.1 \"statuses\" list: which one holds the tweet?")]
    AmbiguousShape,
}

impl ParseError {
    /// The dead-letter class.
    pub fn class(&self) -> Class {
        match self {
            ParseError::InvalidJson(_) => Class::InvalidJson,
            ParseError::Id(IdError::Missing) => Class::MissingId,
            ParseError::Id(IdError::Invalid(_)) => Class::InvalidId,
            ParseError::UnknownShape(_) => Class::UnknownShape,
            ParseError::MissingText => Class::MissingText,
            ParseError::AmbiguousShape => Class::AmbiguousShape,
        }
    }
}

/// The largest count accepted: 2^53 − 1, the largest integer every JSON reader holds exactly.
/// Real counts are many orders of magnitude smaller; a larger one is a forgery or a bug, and
/// storing it (i64::MAX, say) would pin the column, since metrics never go backwards.
pub const MAX_COUNT: i64 = (1 << 53) - 1;

/// A count that is present but unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCount;

/// One public-metrics count: `Ok(None)` when absent or null, `Ok(Some)` for an integer in
/// 0..=[`MAX_COUNT`], [`InvalidCount`] for anything else (negative, fractional, a string, too
/// large).
pub fn count_value(value: Option<&Value>) -> Result<Option<i64>, InvalidCount> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().filter(|n| (0..=MAX_COUNT).contains(n)).map(Some).ok_or(InvalidCount),
    }
}

/// [`count_value`] for an integer already read as one.
pub fn count_int(value: Option<i64>) -> Result<Option<i64>, InvalidCount> {
    match value {
        None => Ok(None),
        Some(n) if (0..=MAX_COUNT).contains(&n) => Ok(Some(n)),
        Some(_) => Err(InvalidCount),
    }
}

/// Tallies unusable counts while turning them into `None`.
#[derive(Debug, Default)]
pub struct Counts {
    pub invalid: u8,
}

impl Counts {
    pub fn take(&mut self, checked: Result<Option<i64>, InvalidCount>) -> Option<i64> {
        checked.unwrap_or_else(|InvalidCount| {
            self.invalid += 1;
            None
        })
    }
}

/// The hashtags of an `entities` object, from each hashtag's `field` (`tag` in v2, `text` in v1.1).
pub fn hashtags(entities: Option<&Value>, field: &str) -> Vec<String> {
    entities
        .and_then(|e| e.get("hashtags"))
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter().filter_map(|t| t.get(field).and_then(Value::as_str)).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_are_integers_from_zero_to_the_limit() {
        for (value, want) in [
            (json!(0), Ok(Some(0))),
            (json!(7), Ok(Some(7))),
            (json!(MAX_COUNT), Ok(Some(MAX_COUNT))),
            (json!(null), Ok(None)),
            (json!(-5), Err(InvalidCount)),
            (json!(1.5), Err(InvalidCount)),
            (json!(1e30), Err(InvalidCount)),
            (json!("7"), Err(InvalidCount)),
            (json!(i64::MAX), Err(InvalidCount)),
            (json!(u64::MAX), Err(InvalidCount)),
            (json!([1]), Err(InvalidCount)),
        ] {
            assert_eq!(count_value(Some(&value)), want, "{value}");
        }
        assert_eq!(count_value(None), Ok(None));
        assert_eq!(count_int(Some(-1)), Err(InvalidCount));
        let mut counts = Counts::default();
        assert_eq!(counts.take(Err(InvalidCount)), None);
        assert_eq!(counts.take(Ok(Some(3))), Some(3));
        assert_eq!(counts.invalid, 1);
    }
}
