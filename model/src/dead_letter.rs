//! Why a record is dead-lettered: one [`Class`] per reason, with stable names (the
//! `tweetpipe.errors.class` header, counters, the README). The dead letter itself, with its
//! headers, is `tweetpipe_common::dead_letter::DeadLetter`.

/// Why a record could not be stored: the `tweetpipe.errors.class` header. Stable names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    InvalidUtf8,
    InvalidJson,
    MissingId,
    InvalidId,
    UnknownShape,
    /// A document that is two shapes at once (a v2 `data` and a v1.1 `statuses` list).
    AmbiguousShape,
    MissingText,
    EncodeFailed,
    Oversized,
    TruncatedStreamLine,
    InvalidTombstone,
    InvalidDelete,
    KeyMismatch,
    NulCharacter,
    /// PostgreSQL refused the record (any SQLSTATE outside the transient ones).
    DbRejected,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::InvalidUtf8 => "invalid_utf8",
            Class::InvalidJson => "invalid_json",
            Class::MissingId => "missing_id",
            Class::InvalidId => "invalid_id",
            Class::UnknownShape => "unknown_shape",
            Class::AmbiguousShape => "ambiguous_shape",
            Class::MissingText => "missing_text",
            Class::EncodeFailed => "encode_failed",
            Class::Oversized => "oversized",
            Class::TruncatedStreamLine => "truncated_stream_line",
            Class::InvalidTombstone => "invalid_tombstone",
            Class::InvalidDelete => "invalid_delete",
            Class::KeyMismatch => "key_mismatch",
            Class::NulCharacter => "nul_character",
            Class::DbRejected => "db_rejected",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
