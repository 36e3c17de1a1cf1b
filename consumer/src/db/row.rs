//! What both write paths take and give: one [`Row`] per tweet id, the [`Outcome`] of writing
//! rows, and the records the database [`Refused`].

use tweetpipe_model::tweet::Tweet;

/// One row to upsert: the parsed tweet plus where it was read. After the in-batch collapse it
/// is the join ([`crate::merge::merge`]) of every copy of its id in the batch.
#[derive(Debug, Clone)]
pub struct Row {
    pub tweet: Tweet,
    /// The message value, stored as JSONB.
    pub raw: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    /// Fingerprint of the normalised text (content de-duplication).
    pub content_hash: i64,
    /// The filter rule it matched, in `flag` mode.
    pub matched_rule: Option<String>,
    /// Its place in the order that picks the winning copy (stored as `copy_rank`).
    pub(crate) rank: Rank,
    /// The copies this row was merged from, when there were several: should the database refuse
    /// the merged row, each is written alone, so one refused copy never costs the others.
    pub(crate) copies: Vec<Row>,
}

impl Row {
    pub fn new(
        tweet: Tweet,
        raw: String,
        partition: i32,
        offset: i64,
        content_hash: i64,
        matched_rule: Option<String>,
    ) -> Self {
        let metrics = [tweet.retweet_count, tweet.like_count, tweet.reply_count, tweet.quote_count];
        let rank = Rank::of(metrics, &raw);
        Row { tweet, raw, partition, offset, content_hash, matched_rule, rank, copies: Vec::new() }
    }
}

/// A record the database refused, by where it was read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub partition: i32,
    pub offset: i64,
    pub reason: String,
}

/// What writing rows did to the table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// New rows.
    pub inserted: u64,
    /// Existing rows that changed.
    pub updated: u64,
    /// New rows linked to an earlier tweet with the same content (`--dedup content`).
    pub(crate) content_duplicates: u64,
}

/// Outcomes of a batch's parts add up to the batch's.
impl std::ops::AddAssign for Outcome {
    fn add_assign(&mut self, o: Outcome) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.content_duplicates += o.content_duplicates;
    }
}

/// Bytes of a [`Rank`]: four metrics, the raw message's hash.
pub const RANK_LEN: usize = 4 * 8 + 8;

/// A copy's place in the order that picks the winner: its own metrics (unknown = -1), then a
/// hash of its raw message (two different snapshots with equal counts).
/// Encoded so that byte order is the order (big-endian, signs flipped): PostgreSQL compares the
/// stored `bytea` exactly as Rust compares the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank(pub [u8; RANK_LEN]);

impl Rank {
    pub fn of(metrics: [Option<i64>; 4], raw: &str) -> Self {
        let mut out = [0u8; RANK_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        for m in metrics {
            put(&ordered_i64(m.unwrap_or(-1)));
        }
        put(&raw_hash(raw.as_bytes()).to_be_bytes());
        Rank(out)
    }
}

fn ordered_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// A stable 64-bit hash of the raw message (stored, so it must never change between versions):
/// FxHash's mixing over eight bytes at a time, then the tail and the length.
pub fn raw_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    let mut h = 0u64;
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(mix(h, u64::from_le_bytes(tail)), bytes.len() as u64)
}
