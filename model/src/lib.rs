//! The tweet model of tweetpipe and its rules. Pure: no I/O, no Kafka, no HTTP, no command
//! line; both binaries build on it, and so can any test or tool.
//!
//! # Layout
//! - [`id`]: tweet ids, read as exact 64-bit integers (never through a float); message keys.
//! - [`json_limits`]: what a stored document must fit besides JSON (f64, PostgreSQL's numeric,
//!   whole characters), checked on the raw text by every path.
//! - [`envelope`]: the producer's side: any input document (v1.1 statuses, v2 pages, v2
//!   stream lines) into one Kafka message per tweet, control notices, deletions, or rejects.
//! - [`record`]: the stored form of a tweet ([`record::Tweet`]) and the field rules the parsers
//!   share (metric sanity, dates, hashtags).
//! - [`tweet`]: the consumer's side: one Kafka message in, one [`record::Tweet`] out.
//!   [`v2_line`] is its fast path for v2 stream lines; both agree, which its tests check.
//! - [`terms`]: the term matcher (NFKC, case folding, whole runs); the music rule is its
//!   default terms. [`filter`]: named filter rules (words, phrases, hashtags) built on it.
//! - [`content`]: text fingerprints for content de-duplication. [`pseudonym`]: keyed pseudonyms.
//! - [`dead_letter`]: why a record is dead-lettered ([`dead_letter::Class`]).

pub mod content;
pub mod dead_letter;
pub mod envelope;
pub mod filter;
pub mod id;
pub mod json_limits;
pub mod object;
pub mod pseudonym;
pub mod record;
pub mod terms;
pub mod tweet;
pub mod v2_line;

/// The two payload formats tweetpipe understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// X API v1.1 status objects, as they came.
    V1,
    /// X API v2, in filtered-stream line shape: `{"data": {...}, "includes": {...}}`.
    V2,
}

impl Format {
    /// The value of the format header and of the `format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::V1 => "v1.1",
            Format::V2 => "v2",
        }
    }
}
