//! What one transaction writes: a lane's share of a batch, whole partitions of it. Each
//! partition comes with its [`Span`] (fenced, [`super::offsets`]) and what its messages became,
//! so the transaction moves the partition's offset, its rows, deletions, dead letters and counts
//! together, or none of them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use rdkafka::message::{Message as _, OwnedMessage};

use super::counts::Counts;
use super::offsets::{Fenced, Span};
use super::row::{Outcome, Refused, Row};
use crate::prepare::{Rejected, Share};

/// One partition of a part: where its messages start and end, and what they became.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slice {
    pub(crate) span: Span,
    pub(crate) share: Share,
}

/// One transaction's worth of a batch.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// One per partition and id, sorted by id (rows are locked in id order: no deadlocks).
    pub rows: Vec<Row>,
    /// Ids X deleted, each with the partition its tombstone was read from.
    pub deletes: Vec<(i32, i64)>,
    /// The partitions covered. None: no offsets are kept (tools and tests writing rows).
    pub(crate) slices: Vec<Slice>,
    /// Records refused before the database: dead-lettered before the commit.
    pub(crate) rejected: Vec<Rejected>,
    /// The batch's messages, which dead letters carry.
    pub(crate) messages: Arc<Vec<OwnedMessage>>,
}

impl Part {
    /// Rows and deletions alone, with no offsets, counts nor dead letters.
    pub fn rows(rows: Vec<Row>, deletes: &[i64]) -> Self {
        Self { rows, deletes: deletes.iter().map(|&id| (0, id)).collect(), ..Self::default() }
    }

    pub(crate) fn spans(&self) -> Vec<Span> {
        self.slices.iter().map(|s| s.span).collect()
    }

    pub(crate) fn delete_ids(&self) -> Vec<i64> {
        self.deletes.iter().map(|&(_, id)| id).collect()
    }

    /// The part without the partitions the fence turned away.
    pub(crate) fn without(&self, fenced: &[Fenced]) -> Cow<'_, Part> {
        if fenced.is_empty() {
            return Cow::Borrowed(self);
        }
        let out: HashSet<i32> = fenced.iter().map(|f| f.partition).collect();
        let at = |index: usize| self.messages[index].partition();
        Cow::Owned(Part {
            rows: self.rows.iter().filter(|r| !out.contains(&r.partition)).cloned().collect(),
            deletes: self.deletes.iter().filter(|(p, _)| !out.contains(p)).copied().collect(),
            slices: self.slices.iter().filter(|s| !out.contains(&s.span.partition)).copied().collect(),
            rejected: self.rejected.iter().filter(|r| !out.contains(&at(r.index))).cloned().collect(),
            messages: self.messages.clone(),
        })
    }

    /// The message read at `partition`/`offset`, if this part's batch holds it.
    pub(crate) fn message(&self, partition: i32, offset: i64) -> Option<&OwnedMessage> {
        self.messages.iter().find(|m| m.partition() == partition && m.offset() == offset)
    }

    /// What the part adds to `ingest_counts` once written: every message of its partitions
    /// lands in exactly one of stored, duplicates, filtered, deleted or dead-lettered.
    pub(crate) fn counts(&self, outcome: &Outcome, refused: &[Refused]) -> Counts {
        let mut c = Counts::default();
        let mut copies = 0;
        for s in &self.slices {
            c.seen += s.share.messages;
            c.filtered += s.share.filtered;
            c.flagged += s.share.flagged;
            c.deleted += s.share.deletes;
            c.dead_lettered += s.share.rejected;
            copies += s.share.copies;
        }
        c.dead_lettered += refused.len() as u64;
        c.content_duplicates = outcome.content_duplicates;
        c.duplicates = copies.saturating_sub(outcome.inserted + refused.len() as u64);
        c
    }
}
